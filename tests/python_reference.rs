//! Our meta text is byte-identical to the reference Python client's
//! (`cantal==0.2.5`) for the same declarations: every type, escaped and
//! non-ASCII names, states of several sizes.
//!
//! The expected text is `tests/reference/declarations.meta`, written by
//! `tests/reference/meta.py`. When the Python client is installed the test
//! also runs the script and compares with its live output; set
//! `CANTAL_PYTHON_TESTS=1` to make a missing client a failure (CI does).

mod common;

use cantal::{Collection, Counter, Float, Integer, Metric, State};
use cantal_static::StaticBuffer;

static TICKS: Counter = Counter::new(&[("group", "main_loop"), ("metric", "ticks")]);
static QUEUE: Integer = Integer::new(&[("group", "main_loop"), ("metric", "queue")]);
static LOAD: Float = Float::new(&[("group", "main_loop"), ("metric", "load")]);
static QUOTES: Counter = Counter::new(&[("quote\"key", "back\\slash"), ("nl", "a\nb")]);
static CONTROL: Counter = Counter::new(&[("tab", "a\tb"), ("nul", "a\0b"), ("del", "\x7f")]);
static UNICODE: Integer = Integer::new(&[("é", "ünïcödé"), ("cjk", "日本語")]);
static EMOJI: Float = Float::new(&[("emoji", "😀🚀"), ("", "")]);
static CTL: Counter = Counter::new(&[("ctl", "\x01\x1f\r\x08\x0c"), ("slash", "/")]);
static DEFAULT: State = State::new(&[("group", "states"), ("metric", "default")]);
static TINY: State<8> = State::new(&[("group", "states"), ("metric", "tiny")]);
static SMALL: State<16> = State::new(&[("group", "states"), ("metric", "small")]);
static LARGE: State<120> = State::new(&[("group", "states"), ("metric", "large")]);
static HUGE: State<248> = State::new(&[("group", "states"), ("metric", "huge")]);

macro_rules! many {
    ($($n:literal)*) => {
        [$(Counter::new(&[("group", "many"), ("metric", concat!("m", $n))]),)*]
    };
}
static MANY: [Counter; 20] = many!("00" "01" "02" "03" "04" "05" "06" "07" "08" "09"
                                   "10" "11" "12" "13" "14" "15" "16" "17" "18" "19");

static BUFFER: StaticBuffer<1024> = StaticBuffer::new();

const EXPECTED: &str = include_str!("reference/declarations.meta");

fn our_meta() -> String {
    let mut c = Collection::growable();
    let singles: [&dyn Metric; 13] = [
        &TICKS, &QUEUE, &LOAD, &QUOTES, &CONTROL, &UNICODE, &EMOJI, &CTL, &DEFAULT, &TINY, &SMALL,
        &LARGE, &HUGE,
    ];
    for m in singles {
        c.register(m).unwrap();
    }
    c.register(&MANY).unwrap();
    let active = c.start(BUFFER.claim().unwrap()).unwrap();
    active.meta().to_string()
}

#[test]
fn meta_is_byte_identical_to_the_python_client() {
    common::assert_same_as_python(&our_meta(), "declarations.meta", EXPECTED, "meta.py");
}

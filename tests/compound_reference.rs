//! The compound metrics publish byte-identical meta to the reference Python
//! client (`cantal==0.2.5`): `RequestTracker("http", service="api")` and
//! `Fork(["app", "sql"], state="req")` in one collection.
//!
//! The expected text is `tests/reference/compound.meta`, written by
//! `tests/reference/compound.py`. When the Python client is installed the
//! test also runs the script and compares with its live output; set
//! `CANTAL_PYTHON_TESTS=1` to make a missing client a failure (CI does).

mod common;

use cantal::clock::ManualClock;
use cantal::{Branch, Collection, Fork, RequestTracker};
use cantal_static::StaticBuffer;

const BRANCHES: [&str; 2] = ["app", "sql"];
const SQL: Branch<2> = Branch::named(&BRANCHES, "sql");

static HTTP: RequestTracker = RequestTracker::new("http", &[("service", "api")]);
static FORK: Fork<2> = Fork::new(&BRANCHES, "req", &[]);

static BUFFER: StaticBuffer<256> = StaticBuffer::new();

const EXPECTED: &str = include_str!("reference/compound.meta");

fn our_meta() -> String {
    let mut c = Collection::growable();
    c.register(&HTTP).unwrap();
    c.register(&FORK).unwrap();
    assert_eq!(c.layout().unwrap().size(), 128);
    let active = c.start(BUFFER.claim().unwrap()).unwrap();
    // Published, they keep counting.
    HTTP.track(|| Ok::<(), ()>(())).unwrap();
    FORK.context().enter(SQL);
    assert_eq!(HTTP.requests().get(), 1);
    assert_eq!(FORK.count(SQL).get(), 1);
    active.meta().to_string()
}

#[test]
fn compound_meta_is_byte_identical_to_the_python_client() {
    common::assert_same_as_python(&our_meta(), "compound.meta", EXPECTED, "compound.py");
}

/// With `std` (the facade's default), a request dropped by a panic is an
/// error, as an exception is in the reference client.
#[test]
fn a_panicking_request_is_an_error_with_std() {
    static CLOCK: ManualClock = ManualClock::new(0);
    static T: RequestTracker<&ManualClock> = RequestTracker::with_clock("t", &[], &CLOCK);
    let result = std::panic::catch_unwind(|| {
        let _request = T.request();
        CLOCK.advance_ms(3);
        panic!("handler failed");
    });
    assert!(result.is_err());
    assert_eq!(T.requests().get(), 1);
    assert_eq!(T.total_duration().get(), 3);
    assert_eq!(T.errors().get(), 1);
    assert_eq!(T.in_progress().get(), 0);
}

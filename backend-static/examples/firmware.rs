//! What a firmware does: declare metrics, start them over a static buffer,
//! update them, and produce the meta text (sent once) and the values bytes
//! (sent periodically) that a host decodes.
//!
//! Run with `cargo run -p cantal-static --example firmware`.

use cantal_core::{Collection, Counter, Fixed, Float, Integer, State};
use cantal_static::StaticBuffer;
use core::fmt::Write;

static BUFFER: StaticBuffer<256> = StaticBuffer::new();

static PACKETS: Counter = Counter::new(&[("group", "radio"), ("metric", "packets")]);
static ERRORS: Counter = Counter::new(&[("group", "radio"), ("metric", "errors")]);
static QUEUE: Integer = Integer::new(&[("group", "radio"), ("metric", "queue")]);
static TEMPERATURE: Float = Float::new(&[("group", "board"), ("metric", "temperature")]);
static MODE: State = State::new(&[("group", "board"), ("metric", "mode")]);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A firmware has no SystemTime: it installs its own millisecond clock.
    cantal_core::clock::set_wall_clock(|| 1_700_000_000_000);

    let mut metrics: Collection<Fixed<8>> = Collection::fixed();
    metrics.register(&PACKETS)?;
    metrics.register(&ERRORS)?;
    metrics.register(&QUEUE)?;
    metrics.register(&TEMPERATURE)?;
    metrics.register(&MODE)?;
    MODE.enter("booting"); // before start: kept across the move
    let active = metrics.start(BUFFER.claim().ok_or("buffer claimed twice")?)?;

    MODE.enter("running");
    for i in 0..10 {
        PACKETS.incr(1);
        QUEUE.set(i % 3);
    }
    ERRORS.incr(2);
    TEMPERATURE.set(41.5);

    // Sent once: the meta text. A heapless::String works the same way.
    let mut meta = String::new();
    write!(meta, "{}", active.meta())?;
    println!("meta ({} bytes):\n{meta}\n", meta.len());

    // Sent periodically: the values bytes.
    let mut values = [0u8; 256];
    let n = active.read_values(&mut values);
    println!("values ({n} bytes):");
    for (i, line) in values[..n].chunks(16).enumerate() {
        let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
        println!("{:04x}  {}", i * 16, hex.join(" "));
    }
    Ok(())
}

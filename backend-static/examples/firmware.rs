//! What a firmware does: declare metrics, start them over a static buffer,
//! update them, and produce the meta text (sent once) and the values bytes
//! (sent periodically); then what the host does with those bytes: decode
//! them with the same decoder (`cantal_core::decode`) and print each metric.
//!
//! Run with `cargo run -p cantal-static --example firmware`. It checks that
//! the host reads back exactly what the firmware wrote, and fails if not.

use cantal_core::decode::{self, SlotKind, Value};
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

    host(meta.as_bytes(), &values[..n])
}

/// The host side: decodes the two byte strings it received and prints
/// every metric; checks that they are what the firmware set.
fn host(meta: &[u8], values: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    println!("\nthe host decodes:");
    let mut seen = Vec::new();
    for item in decode::decode(meta, values) {
        let (entry, value) = item?;
        if entry.kind() == SlotKind::Pad {
            continue; // filler between slots
        }
        let name = entry.name().ok_or("a metric without a name")?;
        let shown = match value {
            Value::Counter(n) => format!("counter {n}"),
            Value::Signed(n) => format!("integer {n}"),
            Value::Float(x) => format!("float {x}"),
            Value::State { timestamp, text } => {
                format!(
                    "state {:?} since {timestamp} ms",
                    String::from_utf8_lossy(text)
                )
            }
            other => format!("{other:?}"),
        };
        println!("  {name}  {shown}");
        seen.push(format!(
            "{} {shown}",
            name.get("metric").map_or("?", |m| m.raw())
        ));
    }
    // In the file's order: the reference client's, by slot type and name.
    let expected = [
        "temperature float 41.5",
        "errors counter 2",
        "packets counter 10",
        "queue integer 0",
        // The clock stands still here; a state's timestamp always differs
        // from its previous one (readers use it to see a whole text), so
        // "running", entered after "booting", is 1 ms later.
        "mode state \"running\" since 1700000000001 ms",
    ];
    if seen != expected {
        return Err(format!("the host decoded {seen:?}, not {expected:?}").into());
    }
    Ok(())
}

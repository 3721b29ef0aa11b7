//! [`State`]: what the process is doing now, with the time it started.

use crate::clock;
use crate::metric::{Kind, Metric, Sealed};
use crate::name::{Name, NameRef, Pair};
use crate::sync::{AtomicPtr, AtomicU8, AtomicU64, Ordering, fence, spin_loop, u64_at};
use core::{fmt, ptr};

/// Nobody is writing.
const FREE: u8 = 0;
/// A writer is updating the value.
const WRITER: u8 = 1;
/// `start()` is moving the value into the region.
const MOVER: u8 = 2;

/// How many times `get` re-reads a value that changes under it.
const READ_RETRIES: usize = 64;

/// A text value and the time it was entered: which resource the process
/// waits for, the query it runs, its lifecycle phase.
///
/// `TEXT` is the text capacity in bytes (the slot is `TEXT + 8` bytes, the
/// timestamp first). The default, 56, fills one 64-byte cache line, as the
/// reference client's default does. `TEXT` must be a multiple of 8 between
/// 8 and 65,520 (checked at compile time): that keeps every slot of the
/// layout 8-byte aligned, which the atomic updates need.
///
/// Longer text is truncated to `TEXT` bytes at a character boundary. A NUL
/// character ends the text for readers (it is the protocol's terminator).
///
/// Writers are serialised without ever blocking: when two threads enter a
/// state at the same moment, one of the two values wins, exactly as if the
/// other had been written an instant earlier. Readers never block writers;
/// they re-read a value that changed while they read it (the timestamp is
/// cleared first and published last, and a new value always gets a new
/// timestamp).
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::State;
///
/// static PHASE: State = State::new(&[("metric", "phase")]);
///
/// PHASE.enter("starting");
/// assert_eq!(PHASE.get().unwrap().text(), "starting");
/// {
///     let _guard = PHASE.context("loading config");
///     assert_eq!(PHASE.get().unwrap().text(), "loading config");
/// }
/// assert!(PHASE.get().is_none());
/// ```
pub struct State<const TEXT: usize = 56> {
    name: NameRef,
    /// Null until published, then the slot: timestamp word, text words.
    slot: AtomicPtr<u64>,
    busy: AtomicU8,
    /// The last timestamp written, so that the next one differs.
    last: AtomicU64,
    inline_ts: AtomicU64,
    inline_text: [AtomicU8; TEXT],
}

impl<const TEXT: usize> State<TEXT> {
    const SIZE_OK: () = assert!(
        TEXT.is_multiple_of(8) && TEXT >= 8 && TEXT + 8 <= 65535,
        "State text capacity must be a multiple of 8 between 8 and 65520"
    );
    const WORDS: usize = TEXT / 8;

    /// A state named by `pairs`, with no value.
    ///
    /// # Panics
    ///
    /// When a key appears twice (a compile-time error for a `static`).
    pub const fn new(pairs: &'static [Pair]) -> Self {
        Self::with_name(Name::new(pairs))
    }

    /// A state named `name`, made by [`Name::new`], with no value.
    ///
    /// # Panics
    ///
    /// When `name` is composed; see [`Counter::with_name`](crate::Counter::with_name).
    pub const fn with_name(name: Name) -> Self {
        Self::with_ref(NameRef::of(name))
    }

    /// A state named by the `static` `name`, which may be composed, with
    /// no value.
    pub const fn with_static_name(name: &'static Name) -> Self {
        Self::with_ref(NameRef::Static(name))
    }

    /// A part of a compound metric, which names it.
    pub(crate) const fn part() -> Self {
        Self::with_ref(NameRef::Pairs(&[]))
    }

    const fn with_ref(name: NameRef) -> Self {
        let () = Self::SIZE_OK;
        State {
            name,
            slot: AtomicPtr::new(ptr::null_mut()),
            busy: AtomicU8::new(FREE),
            last: AtomicU64::new(0),
            inline_ts: AtomicU64::new(0),
            inline_text: [const { AtomicU8::new(0) }; TEXT],
        }
    }

    /// Enters the state `value`, timestamped now (see [`clock`]).
    pub fn enter(&self, value: &str) {
        self.enter_at(value, clock::wall_ms())
    }

    /// Enters the state `value` with the timestamp `ms` (milliseconds since
    /// the Unix epoch), for callers that have just read the clock anyway.
    ///
    /// If `ms` is not later than the previous timestamp, the previous one
    /// plus 1 is used: a reader tells values apart by their timestamps.
    pub fn enter_at(&self, value: &str, ms: u64) {
        let mut len = value.len().min(TEXT);
        while !value.is_char_boundary(len) {
            len -= 1;
        }
        let text = value.as_bytes().get(..len).unwrap_or_default();
        self.write(|slot| {
            let last = self.last.load(Ordering::Relaxed);
            let ts = if ms > last {
                ms
            } else {
                last.wrapping_add(1).max(1)
            };
            self.last.store(ts, Ordering::Relaxed);
            match slot {
                Some(slot) => {
                    // SAFETY: `slot` is the published slot (see `write`).
                    unsafe { Self::write_slot(slot, text, ts) }
                }
                None => self.write_inline(text, ts),
            }
        });
    }

    /// Leaves the state: the timestamp becomes 0 ("no state"), the text
    /// stays as it was (as the protocol says).
    pub fn exit(&self) {
        self.write(|slot| match slot {
            // SAFETY: `slot` is the published slot (see `write`).
            Some(slot) => unsafe { u64_at(slot) }.store(0, Ordering::Release),
            None => self.inline_ts.store(0, Ordering::Release),
        });
    }

    /// Enters `value` and returns a guard that leaves the state when
    /// dropped (also when unwinding).
    pub fn context(&self, value: &str) -> StateGuard<'_, TEXT> {
        self.enter(value);
        StateGuard { state: self }
    }

    /// The current value, or `None` when no state is entered.
    ///
    /// If writers keep changing the value while it is read, `get` retries
    /// a bounded number of times and then answers `None`.
    pub fn get(&self) -> Option<StateValue<TEXT>> {
        let mut out = StateValue {
            timestamp: 0,
            text: [0; TEXT],
            len: 0,
        };
        for _ in 0..READ_RETRIES {
            let slot = self.slot.load(Ordering::Acquire);
            let ts = if slot.is_null() {
                self.read_inline(&mut out.text)
            } else {
                // SAFETY: a non-null slot was published by `publish`.
                unsafe { Self::read_slot(slot, &mut out.text) }
            };
            match ts {
                Some(0) => return None,
                Some(ts) => {
                    out.timestamp = ts;
                    out.len = out.text.iter().position(|&b| b == 0).unwrap_or(TEXT);
                    return Some(out);
                }
                None => spin_loop(),
            }
        }
        None
    }

    /// The state's name (for a [`Fork`](crate::Fork)'s state, `{}`: the
    /// fork names it; see [`Counter::name`](crate::Counter::name)).
    pub fn name(&self) -> Name {
        self.name.get()
    }

    /// Runs `write` as the only writer, with the published slot if any.
    /// When another writer is busy, our value would be overwritten by
    /// theirs at once, so we skip it; when `start()` is moving the value,
    /// we wait for the move (a copy of `TEXT` bytes).
    fn write(&self, write: impl FnOnce(Option<*mut u64>)) {
        loop {
            match self
                .busy
                .compare_exchange(FREE, WRITER, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(MOVER) => spin_loop(),
                Err(_) => return,
            }
        }
        let slot = self.slot.load(Ordering::Acquire);
        write((!slot.is_null()).then_some(slot));
        self.busy.store(FREE, Ordering::Release);
    }

    fn write_inline(&self, text: &[u8], ts: u64) {
        crate::unpublished::updated(&self.name);
        self.inline_ts.store(0, Ordering::Relaxed);
        fence(Ordering::Release);
        for (cell, byte) in self.inline_text.iter().zip(text.iter().chain(&[0])) {
            cell.store(*byte, Ordering::Relaxed);
        }
        self.inline_ts.store(ts, Ordering::Release);
    }

    /// Writes the slot with the seqlock discipline: timestamp 0, text,
    /// then the new timestamp with release ordering.
    ///
    /// # Safety
    ///
    /// `slot` is the published slot: `1 + TEXT / 8` words of a region,
    /// 8-aligned, valid forever, accessed only through 8-byte atomics, and
    /// we are its only writer (we hold `busy`).
    unsafe fn write_slot(slot: *mut u64, text: &[u8], ts: u64) {
        // SAFETY: the first word of the slot, per the contract.
        let stamp = unsafe { u64_at(slot) };
        stamp.store(0, Ordering::Relaxed);
        fence(Ordering::Release);
        // The text, its NUL when it is shorter than the space, and zeros to
        // the end of the last word touched.
        let used = if text.len() < TEXT {
            text.len() + 1
        } else {
            TEXT
        };
        for word in 0..used.div_ceil(8) {
            let start = word * 8;
            let value = match text.get(start..start + 8) {
                // A whole word of text: one unaligned load.
                Some(chunk) => u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8])),
                // The last, partial word: what is left of the text, then
                // zeros (the NUL among them). Assembled with shifts: a
                // byte copy would become a call to `memcpy`.
                None => tail_word(text.get(start..).unwrap_or_default()),
            };
            // SAFETY: `word < TEXT / 8`, so `slot + 1 + word` is inside the
            // slot; the contract covers the rest.
            unsafe { u64_at(slot.wrapping_add(1 + word)) }.store(value, Ordering::Relaxed);
        }
        stamp.store(ts, Ordering::Release);
    }

    /// Reads the inline value into `text`; `None` when it changed meanwhile.
    fn read_inline(&self, text: &mut [u8; TEXT]) -> Option<u64> {
        let ts = self.inline_ts.load(Ordering::Acquire);
        for (out, cell) in text.iter_mut().zip(&self.inline_text) {
            *out = cell.load(Ordering::Relaxed);
        }
        fence(Ordering::Acquire);
        (self.inline_ts.load(Ordering::Relaxed) == ts).then_some(ts)
    }

    /// Reads the slot into `text`; `None` when it changed meanwhile.
    ///
    /// # Safety
    ///
    /// `slot` is the published slot (see [`Self::write_slot`]).
    unsafe fn read_slot(slot: *mut u64, text: &mut [u8; TEXT]) -> Option<u64> {
        // SAFETY: the first word of the slot.
        let stamp = unsafe { u64_at(slot) };
        let ts = stamp.load(Ordering::Acquire);
        for (word, chunk) in text.chunks_exact_mut(8).enumerate() {
            // SAFETY: `word < TEXT / 8`: inside the slot.
            let value = unsafe { u64_at(slot.wrapping_add(1 + word)) }.load(Ordering::Relaxed);
            chunk.copy_from_slice(&value.to_ne_bytes());
        }
        fence(Ordering::Acquire);
        (stamp.load(Ordering::Relaxed) == ts).then_some(ts)
    }
}

/// The word whose first bytes (in memory order) are `tail` (at most 8
/// bytes; more are ignored) and whose other bytes are zero.
#[inline(always)]
fn tail_word(tail: &[u8]) -> u64 {
    let mut little = 0u64;
    for (i, &byte) in tail.iter().take(8).enumerate() {
        little |= u64::from(byte) << (8 * i);
    }
    // `little` holds the bytes in little-endian order: in memory order on a
    // little-endian target, to be swapped on a big-endian one.
    if cfg!(target_endian = "little") {
        little
    } else {
        little.swap_bytes()
    }
}

/// Leaves the state when dropped; returned by [`State::context`].
#[must_use = "the state is left when the guard is dropped"]
pub struct StateGuard<'s, const TEXT: usize> {
    state: &'s State<TEXT>,
}

impl<const TEXT: usize> Drop for StateGuard<'_, TEXT> {
    fn drop(&mut self) {
        self.state.exit();
    }
}

/// A state's value, copied out by [`State::get`].
#[derive(Clone)]
pub struct StateValue<const TEXT: usize> {
    timestamp: u64,
    text: [u8; TEXT],
    len: usize,
}

impl<const TEXT: usize> StateValue<TEXT> {
    /// When the state was entered, in milliseconds since the Unix epoch.
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The text. Values written by this crate are cut at character
    /// boundaries; should the bytes still not be UTF-8, the valid prefix is
    /// returned.
    pub fn text(&self) -> &str {
        let bytes = self.text.get(..self.len).unwrap_or_default();
        match core::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => core::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or_default())
                .unwrap_or_default(),
        }
    }
}

impl<const TEXT: usize> fmt::Debug for StateValue<TEXT> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateValue")
            .field("timestamp", &self.timestamp)
            .field("text", &self.text())
            .finish()
    }
}

impl<const TEXT: usize> fmt::Debug for State<TEXT> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("name", &self.name)
            .field("value", &self.get())
            .finish()
    }
}

impl<const TEXT: usize> Sealed for State<TEXT> {}

impl<const TEXT: usize> Metric for State<TEXT> {
    fn name(&self) -> Name {
        self.name.get()
    }
    fn kind(&self) -> Kind {
        Kind::State {
            size: (TEXT + 8) as u16,
        }
    }
    fn is_published(&self) -> bool {
        !self.slot.load(Ordering::Acquire).is_null()
    }
    fn restore(&self, slot: &[u8]) {
        let ts = crate::metric::word(slot, 0);
        if ts == 0 {
            return;
        }
        let text = slot.get(8..).unwrap_or_default();
        let text = text.split(|&b| b == 0).next().unwrap_or_default();
        let text = match core::str::from_utf8(text) {
            Ok(text) => text,
            Err(e) => core::str::from_utf8(text.get(..e.valid_up_to()).unwrap_or_default())
                .unwrap_or_default(),
        };
        self.enter_at(text, ts);
    }
    unsafe fn publish(&self, slot: *mut u64) -> bool {
        loop {
            match self
                .busy
                .compare_exchange(FREE, MOVER, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(MOVER) => return false,
                Err(_) => spin_loop(),
            }
        }
        if !self.slot.load(Ordering::Relaxed).is_null() {
            self.busy.store(FREE, Ordering::Release);
            return false;
        }
        let ts = self.inline_ts.load(Ordering::Relaxed);
        for word in 0..Self::WORDS {
            let mut bytes = [0u8; 8];
            for (byte, cell) in bytes.iter_mut().zip(self.inline_text.iter().skip(word * 8)) {
                *byte = cell.load(Ordering::Relaxed);
            }
            // SAFETY: `word < TEXT / 8`, inside the slot of `TEXT + 8`
            // bytes that the caller gives this state alone, 8-aligned,
            // valid forever and accessed only through 8-byte atomics.
            unsafe { u64_at(slot.wrapping_add(1 + word)) }
                .store(u64::from_ne_bytes(bytes), Ordering::Relaxed);
        }
        // SAFETY: the slot's first word, per the caller's contract.
        unsafe { u64_at(slot) }.store(ts, Ordering::Release);
        self.slot.store(slot, Ordering::Release);
        self.busy.store(FREE, Ordering::Release);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_at_a_character_boundary() {
        let s: State<8> = State::new(&[("m", "s")]);
        s.enter("abcdefgé");
        assert_eq!(s.get().unwrap().text(), "abcdefg");
        s.enter("ab");
        assert_eq!(s.get().unwrap().text(), "ab");
        s.enter("12345678");
        assert_eq!(s.get().unwrap().text(), "12345678");
    }

    #[test]
    fn timestamps_always_move_forward() {
        let s: State = State::new(&[("m", "s")]);
        s.enter_at("a", 100);
        assert_eq!(s.get().unwrap().timestamp(), 100);
        s.enter_at("b", 100);
        assert_eq!(s.get().unwrap().timestamp(), 101);
        s.exit();
        assert!(s.get().is_none());
        s.enter_at("c", 50);
        assert_eq!(s.get().unwrap().timestamp(), 102);
        assert_eq!(s.get().unwrap().text(), "c");
    }

    /// The slot's bytes after a write of every length: the text, a NUL
    /// when it is shorter than the space, zeros to the end of that word,
    /// and the bytes after it untouched.
    #[test]
    fn slot_writes_are_exact_for_every_length() {
        let text = b"abcdefghijklmnopqrstuvwx";
        for len in 0..=text.len() {
            let mut slot = [u64::from_ne_bytes([0xaa; 8]); 4];
            // SAFETY: a local, 8-aligned array of 1 + 24 / 8 words, used
            // by this test alone, only through `write_slot`'s atomics
            // until it is read below.
            unsafe { State::<24>::write_slot(slot.as_mut_ptr(), &text[..len], 7) };
            let bytes: Vec<u8> = slot.iter().flat_map(|w| w.to_ne_bytes()).collect();
            assert_eq!(bytes[..8], 7u64.to_ne_bytes(), "length {len}");
            let written = if len < 24 {
                (len + 1).div_ceil(8) * 8
            } else {
                24
            };
            let mut expected = text[..len].to_vec();
            expected.resize(written, 0);
            expected.resize(24, 0xaa);
            assert_eq!(bytes[8..], expected[..], "length {len}");
        }
    }

    #[test]
    fn tail_words_hold_their_bytes_in_memory_order() {
        assert_eq!(tail_word(b"").to_ne_bytes(), [0; 8]);
        assert_eq!(tail_word(b"abc").to_ne_bytes(), *b"abc\0\0\0\0\0");
        assert_eq!(tail_word(b"abcdefghij").to_ne_bytes(), *b"abcdefgh");
    }

    #[test]
    fn kind_reports_the_slot_size() {
        let s: State<120> = State::new(&[("m", "s")]);
        assert_eq!(s.kind(), Kind::State { size: 128 });
    }
}

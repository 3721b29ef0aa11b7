//! The hand-over of a metric's value from its inline storage into a region.
//!
//! Every metric starts life counting into storage inside the handle itself
//! (so it works before `start()`, in tests, and in programs that never
//! publish). Publishing points the handle at its slot in a region and moves
//! the value there. Two cells do this, one per kind of update:
//!
//! - [`AddCell`] (counters) only ever adds, and additions commute: the slot
//!   pointer is published first, then the inline value is *drained* into the
//!   slot with `swap(0)` + `fetch_add`. A writer that raced with the publish
//!   drains again after its own inline add. Nobody ever waits, and the hot
//!   path is one acquire pointer load plus one relaxed `fetch_add`.
//! - [`SetCell`] (integers, floats) also *stores*, and a store does not
//!   commute with a copy. Writers that use the inline storage register in
//!   the state word; the publisher closes the inline storage (`MOVING`),
//!   waits for the registered writers to leave (a few instructions), copies
//!   the value, and opens the slot with a release store. Writers that find
//!   `MOVING` wait for that copy. After publication the hot path is the
//!   same as a counter's: one acquire pointer load and one atomic operation.
//!
//! Why an *acquire* load and not a relaxed one: the slot's memory is set up
//! (mapped, zeroed, the moved value stored) by the publishing thread, and a
//! relaxed load of the pointer would not order that before another thread's
//! update through it; loom reports exactly that as a causality violation.
//! On x86-64 an acquire load is the same `mov` as a relaxed one; on AArch64
//! it is `ldar` (or `ldapr`).
//!
//! Both cells keep pointing at the region forever: the region contract
//! says its memory is never unmapped, so no handle can ever dangle.
//!
//! The loom model of both hand-overs is at the end of this file
//! (`RUSTFLAGS="--cfg loom" cargo test -p cantal-core --release --lib cell`).

use crate::sync::{AtomicPtr, AtomicU64, Ordering, spin_loop, u64_at};
use core::fmt::Display;
use core::ptr;

/// The metric was already published (by this or another collection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AlreadyPublished;

/// A `u64` that only grows by additions: the counter's cell.
pub(crate) struct AddCell {
    /// Null until published, then the slot.
    slot: AtomicPtr<u64>,
    /// The value before publication; after it, additions that raced with
    /// the publication (drained into the slot right away).
    inline: AtomicU64,
}

impl AddCell {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        AddCell {
            slot: AtomicPtr::new(ptr::null_mut()),
            inline: AtomicU64::new(0),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        AddCell {
            slot: AtomicPtr::new(ptr::null_mut()),
            inline: AtomicU64::new(0),
        }
    }

    /// Adds `n`, wrapping on overflow; `name` is the metric's, for the
    /// unpublished hook (used on the cold path only).
    #[inline(always)]
    pub(crate) fn add(&self, n: u64, name: &dyn Display) {
        let slot = self.slot.load(Ordering::Acquire);
        if !slot.is_null() {
            // SAFETY: a non-null `slot` was stored by `publish`, whose
            // caller guaranteed it is an 8-aligned slot of a region, valid
            // forever and accessed only through 8-byte atomics; the acquire
            // load orders the region's set-up before our access.
            unsafe { u64_at(slot) }.fetch_add(n, Ordering::Relaxed);
            return;
        }
        self.add_inline(n, name);
    }

    #[cold]
    #[inline(never)]
    fn add_inline(&self, n: u64, name: &dyn Display) {
        crate::unpublished::updated(name);
        self.inline.fetch_add(n, Ordering::AcqRel);
        // Re-check with a read-modify-write (null -> null). If it finds the
        // slot, we drain. If it finds null, it comes before the publishing
        // compare-exchange in the slot pointer's modification order, which
        // then reads from it (or from a later RMW of its release sequence):
        // our add happens-before the publisher's drain, which takes it.
        if let Err(slot) = self.slot.compare_exchange(
            ptr::null_mut(),
            ptr::null_mut(),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: as in `add`: a non-null slot comes from `publish`.
            unsafe { self.drain(slot) };
        }
    }

    /// Moves whatever is in the inline storage into the slot. Each unit is
    /// taken by exactly one `swap`, so it is added exactly once.
    ///
    /// # Safety
    ///
    /// `slot` is the pointer `publish` stored.
    unsafe fn drain(&self, slot: *mut u64) {
        let pending = self.inline.swap(0, Ordering::AcqRel);
        if pending != 0 {
            // SAFETY: the caller passes the published slot (see `add`).
            unsafe { u64_at(slot) }.fetch_add(pending, Ordering::Relaxed);
        }
    }

    /// The current value.
    pub(crate) fn get(&self) -> u64 {
        let inline = self.inline.load(Ordering::Acquire);
        let slot = self.slot.load(Ordering::Acquire);
        if slot.is_null() {
            return inline;
        }
        // SAFETY: a non-null slot comes from `publish` (see `add`).
        let published = unsafe { u64_at(slot) }.load(Ordering::Relaxed);
        // `inline` is a residue that a racing writer is about to drain.
        published.wrapping_add(inline)
    }

    pub(crate) fn is_published(&self) -> bool {
        !self.slot.load(Ordering::Acquire).is_null()
    }

    /// Points the cell at `slot` and moves the value there.
    ///
    /// # Safety
    ///
    /// `slot` is 8-aligned, lies in a region that is valid for reads and
    /// writes for the rest of the program, is accessed only through 8-byte
    /// atomics, holds zero, and belongs to this cell alone.
    pub(crate) unsafe fn publish(&self, slot: *mut u64) -> Result<(), AlreadyPublished> {
        self.slot
            .compare_exchange(ptr::null_mut(), slot, Ordering::AcqRel, Ordering::Relaxed)
            .map_err(|_| AlreadyPublished)?;
        // SAFETY: `slot` is the pointer just published, per our contract.
        unsafe { self.drain(slot) };
        Ok(())
    }
}

/// State word of a [`SetCell`] before publication: bit 0 set.
const UNPUBLISHED: usize = 0b01;
/// The publisher has closed the inline storage and is copying it.
const MOVING: usize = 0b10;
/// One writer registered on the inline storage (bits 2 and up count them).
const WRITER: usize = 0b100;

/// A `u64` that is stored and read-modify-written: the cell of integers and
/// floats.
pub(crate) struct SetCell {
    /// Even and non-null: the published slot. Odd: not published yet, with
    /// the `MOVING` flag and the count of writers using `inline`.
    state: AtomicPtr<u64>,
    inline: AtomicU64,
}

impl SetCell {
    #[cfg(not(loom))]
    pub(crate) const fn new(value: u64) -> Self {
        SetCell {
            state: AtomicPtr::new(ptr::without_provenance_mut(UNPUBLISHED)),
            inline: AtomicU64::new(value),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new(value: u64) -> Self {
        SetCell {
            state: AtomicPtr::new(ptr::without_provenance_mut(UNPUBLISHED)),
            inline: AtomicU64::new(value),
        }
    }

    /// Runs `op` on the atomic that holds the value now; `name` is the
    /// metric's, for the unpublished hook (used on the cold path only).
    #[inline(always)]
    pub(crate) fn with<R>(&self, name: &dyn Display, op: impl FnOnce(&AtomicU64) -> R) -> R {
        let state = self.state.load(Ordering::Acquire);
        if state.addr() & UNPUBLISHED == 0 {
            // SAFETY: an even state is the slot stored by `publish`, whose
            // caller guaranteed an 8-aligned slot in a region valid forever
            // and accessed only through 8-byte atomics; the acquire load
            // synchronises with the release store that opened it, after the
            // copy.
            return op(unsafe { u64_at(state) });
        }
        self.with_inline(op, name)
    }

    #[cold]
    #[inline(never)]
    // `name` last: the operation's value keeps its register on the hot path.
    fn with_inline<R>(&self, op: impl FnOnce(&AtomicU64) -> R, name: &dyn Display) -> R {
        crate::unpublished::updated(name);
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state.addr() & UNPUBLISHED == 0 {
                // SAFETY: as in `with`.
                return op(unsafe { u64_at(state) });
            }
            if state.addr() & MOVING != 0 {
                // The publisher is copying; it waits for nobody now.
                spin_loop();
                state = self.state.load(Ordering::Acquire);
                continue;
            }
            let registered = state.map_addr(|a| a + WRITER);
            match self.state.compare_exchange(
                state,
                registered,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        let result = op(&self.inline);
        // Leave; the release pairs with the publisher's acquire wait, so
        // our update is in the value it copies.
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let left = state.map_addr(|a| a - WRITER);
            match self
                .state
                .compare_exchange(state, left, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return result,
                Err(now) => state = now,
            }
        }
    }

    /// The current value.
    pub(crate) fn get(&self) -> u64 {
        let state = self.state.load(Ordering::Acquire);
        if state.addr() & UNPUBLISHED == 0 {
            // SAFETY: as in `with`.
            return unsafe { u64_at(state) }.load(Ordering::Relaxed);
        }
        // Before and during the move the inline value is the value.
        self.inline.load(Ordering::Relaxed)
    }

    pub(crate) fn is_published(&self) -> bool {
        self.state.load(Ordering::Acquire).addr() & UNPUBLISHED == 0
    }

    /// Points the cell at `slot` and copies the value there.
    ///
    /// # Safety
    ///
    /// As for [`AddCell::publish`].
    pub(crate) unsafe fn publish(&self, slot: *mut u64) -> Result<(), AlreadyPublished> {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state.addr() & UNPUBLISHED == 0 || state.addr() & MOVING != 0 {
                return Err(AlreadyPublished);
            }
            let closed = state.map_addr(|a| a | MOVING);
            match self
                .state
                .compare_exchange(state, closed, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        // No writer can register now; wait for those inside to leave.
        while self.state.load(Ordering::Acquire).addr() >= WRITER {
            spin_loop();
        }
        // A read-modify-write reads the last value in the modification
        // order, whatever the happens-before edges: the final inline value.
        let value = self.inline.fetch_add(0, Ordering::Acquire);
        // SAFETY: `slot` satisfies `u64_at`'s contract per our own.
        unsafe { u64_at(slot) }.store(value, Ordering::Relaxed);
        self.state.store(slot, Ordering::Release);
        Ok(())
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// A one-slot region made of a loom atomic, leaked like a real one.
    fn region() -> *mut u64 {
        let slot: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
        (slot as *const AtomicU64).cast_mut().cast()
    }

    /// Explores every interleaving (no preemption bound) for the models with
    /// spin-waits, whose threads cannot progress under a bound; bounds the
    /// lock-free counter model, whose space is larger.
    fn model(preemption_bound: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = preemption_bound;
        builder.check(f);
    }

    #[test]
    fn counter_adds_are_never_lost_across_publish() {
        model(Some(3), || {
            let cell = Arc::new(AddCell::new());
            cell.add(1, &"loom");
            let writers: Vec<_> = (0..2)
                .map(|_| {
                    let cell = cell.clone();
                    thread::spawn(move || {
                        cell.add(10, &"loom");
                        cell.add(100, &"loom");
                    })
                })
                .collect();
            let slot = region();
            // SAFETY: a fresh zeroed, leaked slot for this cell alone.
            unsafe { cell.publish(slot) }.unwrap();
            for w in writers {
                w.join().unwrap();
            }
            // SAFETY: the slot from `region`, alive forever.
            let published = unsafe { u64_at(slot) }.load(Ordering::SeqCst);
            assert_eq!(published, 221);
            assert_eq!(cell.get(), 221);
        });
    }

    // Integers and floats mix stores and read-modify-writes. loom 0.7 does
    // not keep a single modification order for a plain store followed by an
    // RMW on the same atomic (tokio-rs/loom#282: it reports values no C++20
    // execution can produce, even for a three-line program without any of
    // our code), so the two kinds of update are modelled separately here;
    // the mixed case runs on real threads in tests/start_stress.rs.

    #[test]
    fn set_cell_adds_are_never_lost_across_publish() {
        model(None, || {
            let cell = Arc::new(SetCell::new(5));
            let adders: Vec<_> = (0..1)
                .map(|_| {
                    let cell = cell.clone();
                    thread::spawn(move || {
                        cell.with(&"loom", |a| a.fetch_add(1, Ordering::Relaxed));
                    })
                })
                .collect();
            let slot = region();
            // SAFETY: a fresh zeroed, leaked slot for this cell alone.
            unsafe { cell.publish(slot) }.unwrap();
            for a in adders {
                a.join().unwrap();
            }
            // SAFETY: the slot from `region`, alive forever.
            assert_eq!(unsafe { u64_at(slot) }.load(Ordering::SeqCst), 6);
            assert_eq!(cell.get(), 6);
        });
    }

    #[test]
    fn set_cell_store_is_never_lost_across_publish() {
        model(None, || {
            let cell = Arc::new(SetCell::new(5));
            let setter = {
                let cell = cell.clone();
                thread::spawn(move || cell.with(&"loom", |a| a.store(40, Ordering::Relaxed)))
            };
            let reader = {
                let cell = cell.clone();
                thread::spawn(move || cell.get())
            };
            let slot = region();
            // SAFETY: a fresh zeroed, leaked slot for this cell alone.
            unsafe { cell.publish(slot) }.unwrap();
            setter.join().unwrap();
            let seen = reader.join().unwrap();
            assert!(seen == 5 || seen == 40, "reader saw {seen}");
            // SAFETY: the slot from `region`, alive forever.
            assert_eq!(unsafe { u64_at(slot) }.load(Ordering::SeqCst), 40);
        });
    }

    #[test]
    fn second_publish_is_refused() {
        loom::model(|| {
            let cell = AddCell::new();
            // SAFETY: fresh leaked slots.
            unsafe { cell.publish(region()) }.unwrap();
            // SAFETY: as above.
            assert_eq!(unsafe { cell.publish(region()) }, Err(AlreadyPublished));
            let set = SetCell::new(0);
            // SAFETY: as above.
            unsafe { set.publish(region()) }.unwrap();
            // SAFETY: as above.
            assert_eq!(unsafe { set.publish(region()) }, Err(AlreadyPublished));
        });
    }
}

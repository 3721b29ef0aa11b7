//! [`Integer`] and [`Float`]: gauges, values that mean something on their
//! own.

use crate::cell::SetCell;
use crate::metric::{Kind, Metric, Sealed};
use crate::name::{Name, NameRef, Pair};
use crate::sync::Ordering;
use core::fmt;

/// A 64-bit signed gauge: requests in progress, queue length, connections
/// in a pool.
///
/// Update it where the quantity changes (`incr` when a request starts,
/// `decr` when it ends, or hold a [`guard`](Self::guard) that does both)
/// and read it back with `get` instead of keeping your own copy. Each
/// update is one atomic operation.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::Integer;
///
/// static IN_PROGRESS: Integer = Integer::new(&[("group", "http"), ("metric", "in_progress")]);
///
/// IN_PROGRESS.incr(1);
/// IN_PROGRESS.decr(3);
/// assert_eq!(IN_PROGRESS.get(), -2);
/// IN_PROGRESS.set(7);
/// assert_eq!(IN_PROGRESS.get(), 7);
/// ```
pub struct Integer {
    name: NameRef,
    cell: SetCell,
}

impl Integer {
    /// A gauge named by `pairs`, starting at zero.
    ///
    /// # Panics
    ///
    /// When a key appears twice (a compile-time error for a `static`).
    pub const fn new(pairs: &'static [Pair]) -> Integer {
        Integer::with_name(Name::new(pairs))
    }

    /// A gauge named `name`, made by [`Name::new`], starting at zero.
    ///
    /// # Panics
    ///
    /// When `name` is composed; see [`Counter::with_name`](crate::Counter::with_name).
    pub const fn with_name(name: Name) -> Integer {
        Integer {
            name: NameRef::of(name),
            cell: SetCell::new(0),
        }
    }

    /// A gauge named by the `static` `name`, which may be composed,
    /// starting at zero.
    pub const fn with_static_name(name: &'static Name) -> Integer {
        Integer {
            name: NameRef::Static(name),
            cell: SetCell::new(0),
        }
    }

    /// A part of a compound metric, named by its own pairs.
    pub(crate) const fn part(pairs: &'static [Pair]) -> Integer {
        Integer {
            name: NameRef::Pairs(pairs),
            cell: SetCell::new(0),
        }
    }

    /// Sets the value.
    #[inline(always)]
    pub fn set(&self, value: i64) {
        self.cell.with(&self.name, move |a| {
            a.store(value as u64, Ordering::Relaxed)
        })
    }

    /// Adds `delta` (wrapping on overflow).
    #[inline(always)]
    pub fn incr(&self, delta: i64) {
        self.cell.with(&self.name, move |a| {
            a.fetch_add(delta as u64, Ordering::Relaxed)
        });
    }

    /// Subtracts `delta` (wrapping on overflow); the same as `incr(-delta)`.
    #[inline(always)]
    pub fn decr(&self, delta: i64) {
        self.cell.with(&self.name, move |a| {
            a.fetch_sub(delta as u64, Ordering::Relaxed)
        });
    }

    /// The value last written (or adjusted).
    pub fn get(&self) -> i64 {
        self.cell.get() as i64
    }

    /// Adds one now and subtracts it again when the returned guard is
    /// dropped: the gauge counts the guards alive, such as open
    /// connections or requests being served.
    ///
    /// The guard is dropped on every way out of its scope: a return, an
    /// early `?`, a panic unwinding, or the drop of a future that holds it
    /// (a cancelled or aborted task). Nothing else is recorded; for
    /// durations and errors as well, use a
    /// [`RequestTracker`](crate::RequestTracker).
    ///
    /// # Examples
    ///
    /// ```
    /// # extern crate cantal_core as cantal;
    /// use cantal::Integer;
    ///
    /// static CONNECTIONS: Integer =
    ///     Integer::new(&[("group", "http.server"), ("metric", "connections")]);
    ///
    /// fn serve_connection() -> Result<(), &'static str> {
    ///     let _open = CONNECTIONS.guard();
    ///     assert_eq!(CONNECTIONS.get(), 1);
    ///     Err("the peer went away")?; // the guard still decrements
    ///     Ok(())
    /// }
    ///
    /// assert!(serve_connection().is_err());
    /// assert_eq!(CONNECTIONS.get(), 0);
    /// ```
    #[inline]
    pub fn guard(&self) -> IntegerGuard<'_> {
        self.incr(1);
        IntegerGuard { integer: self }
    }

    /// The gauge's name (for a part of a compound metric, the pairs the
    /// part adds; see [`Counter::name`](crate::Counter::name)).
    pub fn name(&self) -> Name {
        self.name.get()
    }
}

/// One unit of an [`Integer`], from [`Integer::guard`] until it is dropped.
///
/// It is `Send` and `Sync`: move it into the thread or task that owns what
/// it counts (a connection, a job) so that it ends with it.
#[must_use = "the gauge goes back down as soon as the guard is dropped"]
pub struct IntegerGuard<'a> {
    integer: &'a Integer,
}

impl IntegerGuard<'_> {
    /// The gauge this guard counts in.
    pub fn integer(&self) -> &Integer {
        self.integer
    }
}

impl Drop for IntegerGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.integer.decr(1);
    }
}

impl fmt::Debug for IntegerGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntegerGuard")
            .field("integer", self.integer)
            .finish()
    }
}

/// A 64-bit floating point gauge: a load average, a ratio, a temperature.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::Float;
///
/// static LOAD: Float = Float::new(&[("metric", "load")]);
///
/// LOAD.set(0.5);
/// LOAD.incr(0.25);
/// assert_eq!(LOAD.get(), 0.75);
/// ```
pub struct Float {
    name: NameRef,
    cell: SetCell,
}

impl Float {
    /// A gauge named by `pairs`, starting at `0.0`.
    ///
    /// # Panics
    ///
    /// When a key appears twice (a compile-time error for a `static`).
    pub const fn new(pairs: &'static [Pair]) -> Float {
        Float::with_name(Name::new(pairs))
    }

    /// A gauge named `name`, made by [`Name::new`], starting at `0.0`.
    ///
    /// # Panics
    ///
    /// When `name` is composed; see [`Counter::with_name`](crate::Counter::with_name).
    pub const fn with_name(name: Name) -> Float {
        Float {
            name: NameRef::of(name),
            cell: SetCell::new(0),
        }
    }

    /// A gauge named by the `static` `name`, which may be composed,
    /// starting at `0.0`.
    pub const fn with_static_name(name: &'static Name) -> Float {
        Float {
            name: NameRef::Static(name),
            cell: SetCell::new(0),
        }
    }

    /// Sets the value.
    #[inline(always)]
    pub fn set(&self, value: f64) {
        self.cell.with(&self.name, move |a| {
            a.store(value.to_bits(), Ordering::Relaxed)
        })
    }

    /// Adds `delta` atomically (a compare-and-swap loop: no concurrent
    /// addition is lost).
    ///
    /// Unlike the reference Python client, whose `Float.incr` overwrites the
    /// value, this really adds.
    pub fn incr(&self, delta: f64) {
        self.cell.with(&self.name, move |a| {
            let mut current = a.load(Ordering::Relaxed);
            loop {
                let next = (f64::from_bits(current) + delta).to_bits();
                match a.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                    Ok(_) => return,
                    Err(now) => current = now,
                }
            }
        })
    }

    /// The value last written.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.cell.get())
    }

    /// The gauge's name (for a part of a compound metric, the pairs the
    /// part adds; see [`Counter::name`](crate::Counter::name)).
    pub fn name(&self) -> Name {
        self.name.get()
    }
}

macro_rules! level_impls {
    ($ty:ident, $kind:expr) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("name", &self.name)
                    .field("value", &self.get())
                    .finish()
            }
        }

        impl Sealed for $ty {}

        impl Metric for $ty {
            fn name(&self) -> Name {
                self.name.get()
            }
            fn kind(&self) -> Kind {
                $kind
            }
            fn is_published(&self) -> bool {
                self.cell.is_published()
            }
            fn restore(&self, slot: &[u8]) {
                let bits = crate::metric::word(slot, 0);
                self.cell
                    .with(&self.name, move |a| a.store(bits, Ordering::Relaxed));
            }
            unsafe fn publish(&self, slot: *mut u64) -> bool {
                // SAFETY: the trait's contract is `SetCell::publish`'s.
                unsafe { self.cell.publish(slot) }.is_ok()
            }
        }
    };
}

level_impls!(Integer, Kind::Integer);
level_impls!(Float, Kind::Float);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_wraps_and_floats_add() {
        let i = Integer::new(&[("m", "i")]);
        i.set(i64::MAX);
        i.incr(1);
        assert_eq!(i.get(), i64::MIN);
        let f = Float::new(&[("m", "f")]);
        f.incr(1.5);
        f.incr(-0.25);
        assert_eq!(f.get(), 1.25);
        f.set(f64::NAN);
        assert!(f.get().is_nan());
    }

    #[test]
    fn guards_count_while_alive() {
        let i = Integer::new(&[("m", "guarded")]);
        i.set(10);
        let a = i.guard();
        let b = i.guard();
        assert_eq!(i.get(), 12);
        assert_eq!(a.integer().get(), 12);
        drop(a);
        assert_eq!(i.get(), 11);
        i.decr(5); // other updates mix with the guards
        drop(b);
        assert_eq!(i.get(), 5);
    }

    #[test]
    fn guard_decrements_on_panic_and_forget_keeps_it() {
        static I: Integer = Integer::new(&[("m", "unwind")]);
        let result = std::panic::catch_unwind(|| {
            let _guard = I.guard();
            assert_eq!(I.get(), 1);
            panic!("handler failed");
        });
        assert!(result.is_err());
        assert_eq!(I.get(), 0);
        // The decrement is the guard's drop, nothing else: a forgotten
        // guard stays counted.
        core::mem::forget(I.guard());
        assert_eq!(I.get(), 1);
    }

    #[test]
    fn guard_moves_to_another_thread() {
        static I: Integer = Integer::new(&[("m", "threads")]);
        let guards: Vec<_> = (0..4).map(|_| I.guard()).collect();
        assert_eq!(I.get(), 4);
        std::thread::scope(|s| {
            for guard in guards {
                s.spawn(move || drop(guard));
            }
        });
        assert_eq!(I.get(), 0);
    }
}

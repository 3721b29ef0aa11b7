//! [`Described`]: a metric with a help text and a unit, declared in code.
//!
//! The Cantal protocol has no place for descriptions, so a plain handle
//! carries none (and costs no byte for it). Wrapping a handle in
//! `Described` gives it a `const` help text and, optionally, a unit; the
//! handle is used as before (`Described` dereferences to it), and the
//! Linux publisher writes the text into the publication's help side file
//! (`P.help`, `PROTOCOL-help.md`), which `cantal export` serves as
//! `# HELP` and `# UNIT`. Readers that know only `P.meta` and `P.values`
//! (the original agent, the reference Python client) see the same files
//! as without it.

use crate::metric::{Kind, Metric, Sealed};
use crate::name::Name;
use core::fmt;
use core::ops::Deref;

/// A metric handle with a help text and an optional unit.
///
/// It wraps one slot's handle ([`Counter`](crate::Counter),
/// [`Integer`](crate::Integer), [`Float`](crate::Float),
/// [`State`](crate::State)); the parts of a compound metric
/// ([`RequestTracker`](crate::RequestTracker), [`Histogram`](crate::Histogram))
/// get the exporter's generic texts.
///
/// The unit is a unit word of the `metrics` crate (`seconds`,
/// `milliseconds`, `microseconds`, `nanoseconds`, `bytes`, `percent`, ...),
/// which `cantal export` uses to serve the values in base units (a
/// `milliseconds` counter becomes a `_seconds_total` family, divided by
/// 1000); a word it does not know is ignored.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::{Collection, Counter, Described, Fixed, Metric};
///
/// static SERVED: Described<Counter> = Described::new(
///     Counter::new(&[("metric", "served")]),
///     "Requests answered, whatever their status",
/// );
/// static WAITED: Described<Counter> = Described::with_unit(
///     Counter::new(&[("metric", "waited")]),
///     "Time spent waiting for the database",
///     "milliseconds",
/// );
///
/// SERVED.incr(1); // the handle's own methods, through `Deref`
/// assert_eq!(SERVED.help(), Some("Requests answered, whatever their status"));
/// assert_eq!(WAITED.unit(), Some("milliseconds"));
///
/// let mut metrics: Collection<Fixed<4>> = Collection::fixed();
/// metrics.register(&SERVED)?;
/// metrics.register(&WAITED)?;
/// # Ok::<(), cantal::RegisterError>(())
/// ```
pub struct Described<M> {
    metric: M,
    pub(crate) help: Option<&'static str>,
    pub(crate) unit: Option<&'static str>,
}

impl<M: Metric> Described<M> {
    /// `metric` with the help text `help` (one line reads best: newlines
    /// are kept, escaped, in the help file).
    pub const fn new(metric: M, help: &'static str) -> Described<M> {
        Described {
            metric,
            help: Some(help),
            unit: None,
        }
    }

    /// `metric` with the help text `help` and the unit of its values
    /// (see the type's docs).
    pub const fn with_unit(metric: M, help: &'static str, unit: &'static str) -> Described<M> {
        Described {
            metric,
            help: Some(help),
            unit: Some(unit),
        }
    }

    /// `metric` with a unit and no text (a histogram's count slot, which
    /// carries the histogram's unit).
    pub(crate) const fn unit_only(metric: M, unit: Option<&'static str>) -> Described<M> {
        Described {
            metric,
            help: None,
            unit,
        }
    }

    /// The handle itself.
    pub const fn metric(&self) -> &M {
        &self.metric
    }
}

impl<M> Deref for Described<M> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.metric
    }
}

impl<M: fmt::Debug> fmt::Debug for Described<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Described")
            .field("metric", &self.metric)
            .field("help", &self.help)
            .field("unit", &self.unit)
            .finish()
    }
}

impl<M: Metric> Sealed for Described<M> {}

impl<M: Metric> Metric for Described<M> {
    fn name(&self) -> Name {
        self.metric.name()
    }
    fn kind(&self) -> Kind {
        self.metric.kind()
    }
    fn is_published(&self) -> bool {
        self.metric.is_published()
    }
    unsafe fn publish(&self, slot: *mut u64) -> bool {
        // SAFETY: the caller's guarantees are those `M::publish` needs,
        // passed on unchanged.
        unsafe { self.metric.publish(slot) }
    }
    fn restore(&self, slot: &[u8]) {
        self.metric.restore(slot)
    }
    fn help(&self) -> Option<&'static str> {
        self.help
    }
    fn unit(&self) -> Option<&'static str> {
        self.unit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Counter, Float};

    #[test]
    fn forwards_to_the_handle_and_adds_its_text() {
        static C: Described<Counter> =
            Described::with_unit(Counter::new(&[("metric", "c")]), "counted", "bytes");
        C.incr(3);
        assert_eq!(C.get(), 3);
        let m: &dyn Metric = &C;
        assert_eq!(m.kind(), Kind::Counter);
        assert_eq!(m.name(), C.metric().name());
        assert_eq!((m.help(), m.unit()), (Some("counted"), Some("bytes")));
        // A plain handle has neither.
        let f = Float::new(&[("metric", "f")]);
        assert_eq!((Metric::help(&f), Metric::unit(&f)), (None, None));
    }
}

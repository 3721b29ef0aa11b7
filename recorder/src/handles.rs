//! The `metrics` handle functions over Cantal metrics: each handle points
//! at a leaked, `'static` core metric, so an update is a virtual call and
//! the core's one atomic operation.

use cantal_core::{Counter, Float};
use metrics::{CounterFn, GaugeFn, HistogramFn};

/// `counter!` → a Cantal `counter 8`.
pub(crate) struct CounterHandle(pub(crate) &'static Counter);

impl CounterFn for CounterHandle {
    #[inline]
    fn increment(&self, value: u64) {
        self.0.incr(value);
    }

    /// Raises the counter to `value` when it is below: a read and an add,
    /// so two `absolute` calls racing may add twice (counters only grow).
    fn absolute(&self, value: u64) {
        let now = self.0.get();
        if value > now {
            self.0.incr(value - now);
        }
    }
}

/// `gauge!` → a Cantal `level 8 float`.
pub(crate) struct GaugeHandle(pub(crate) &'static Float);

impl GaugeFn for GaugeHandle {
    #[inline]
    fn increment(&self, value: f64) {
        self.0.incr(value);
    }

    #[inline]
    fn decrement(&self, value: f64) {
        self.0.incr(-value);
    }

    #[inline]
    fn set(&self, value: f64) {
        self.0.set(value);
    }
}

/// `histogram!` → a count counter, a float sum, and a counter for each
/// bucket holding only its own range (`cantal_core::Histogram`'s shape).
pub(crate) struct HistogramHandle {
    pub(crate) count: &'static Counter,
    pub(crate) sum: &'static Float,
    /// Ascending finite bounds, each with the counter of the values in
    /// (previous bound, bound].
    pub(crate) buckets: &'static [(f64, Counter)],
    /// The values above the last bound.
    pub(crate) overflow: &'static Counter,
}

impl HistogramHandle {
    /// Three atomic operations: `n` more in the value's one bucket (found
    /// by binary search) and in the count, `value * n` more in the sum (a
    /// compare-and-swap loop). `NaN` is counted and summed (making the sum
    /// `NaN`) but in no bucket.
    #[inline]
    fn add(&self, value: f64, n: u64) {
        if !value.is_nan() {
            let at = self.buckets.partition_point(|(bound, _)| *bound < value);
            match self.buckets.get(at) {
                Some((_, bucket)) => bucket.incr(n),
                None => self.overflow.incr(n),
            }
        }
        self.count.incr(n);
        self.sum.incr(if n == 1 { value } else { value * n as f64 });
    }
}

impl HistogramFn for HistogramHandle {
    #[inline]
    fn record(&self, value: f64) {
        self.add(value, 1);
    }

    fn record_many(&self, value: f64, count: usize) {
        self.add(value, count as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leak_counter(name: &'static str) -> &'static Counter {
        Box::leak(Box::new(Counter::new(Box::leak(Box::new([(
            "metric", name,
        )])))))
    }

    #[test]
    fn absolute_only_raises() {
        let c = CounterHandle(leak_counter("c"));
        c.increment(5);
        c.absolute(3);
        assert_eq!(c.0.get(), 5);
        c.absolute(9);
        assert_eq!(c.0.get(), 9);
    }

    #[test]
    fn gauge_operations() {
        let g = GaugeHandle(Box::leak(Box::new(Float::new(&[("metric", "g")]))));
        g.set(2.5);
        g.increment(1.0);
        g.decrement(0.25);
        assert_eq!(g.0.get(), 3.25);
    }

    #[test]
    fn each_value_is_in_one_bucket_and_nan_is_in_none() {
        let buckets: Vec<(f64, Counter)> = [1.0, 2.0, 5.0]
            .into_iter()
            .map(|b| (b, Counter::new(&[("metric", "b")])))
            .collect();
        let h = HistogramHandle {
            count: leak_counter("count"),
            sum: Box::leak(Box::new(Float::new(&[("metric", "sum")]))),
            buckets: Box::leak(buckets.into_boxed_slice()),
            overflow: leak_counter("inf"),
        };
        h.record(0.5);
        h.record(2.0);
        h.record(7.0);
        h.record_many(1.5, 4);
        h.record(f64::NAN);
        let counts: Vec<u64> = h.buckets.iter().map(|(_, c)| c.get()).collect();
        assert_eq!(counts, [1, 5, 0]);
        assert_eq!(h.overflow.get(), 1);
        assert_eq!(h.count.get(), 8);
        assert!(h.sum.get().is_nan());
    }
}

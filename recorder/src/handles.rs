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

/// `histogram!` → counters `_count` and `_bucket{le}`, a float `_sum`.
pub(crate) struct HistogramHandle {
    pub(crate) count: &'static Counter,
    pub(crate) sum: &'static Float,
    /// Ascending finite bounds, with the cumulative counter of each.
    pub(crate) buckets: &'static [(f64, Counter)],
}

impl HistogramHandle {
    /// Every bucket whose bound is at least `value` counts `n` (the
    /// buckets are cumulative, as Prometheus's `le`); `NaN` is in none.
    #[inline]
    fn add(&self, value: f64, n: u64) {
        self.count.incr(n);
        self.sum.incr(if n == 1 { value } else { value * n as f64 });
        let first = self.buckets.partition_point(|(bound, _)| *bound < value);
        if value.is_nan() {
            return;
        }
        for (_, bucket) in self.buckets.get(first..).unwrap_or_default() {
            bucket.incr(n);
        }
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
    fn buckets_are_cumulative_and_nan_is_in_none() {
        let buckets: Vec<(f64, Counter)> = [1.0, 2.0, 5.0]
            .into_iter()
            .map(|b| (b, Counter::new(&[("metric", "b")])))
            .collect();
        let h = HistogramHandle {
            count: leak_counter("count"),
            sum: Box::leak(Box::new(Float::new(&[("metric", "sum")]))),
            buckets: Box::leak(buckets.into_boxed_slice()),
        };
        h.record(0.5);
        h.record(2.0);
        h.record(7.0);
        h.record_many(1.5, 4);
        h.record(f64::NAN);
        let counts: Vec<u64> = h.buckets.iter().map(|(_, c)| c.get()).collect();
        assert_eq!(counts, [1, 6, 6]);
        assert_eq!(h.count.get(), 8);
        assert!(h.sum.get().is_nan());
    }
}

//! The slots of a [`Histogram`](super::Histogram): one counter per bucket
//! and the count and sum, and how each is named (the histogram's name plus
//! one pair; see the protocol note on `Histogram`).

use core::fmt;

use super::buckets::{DEFAULT_BUCKETS, DEFAULT_LE};
use super::{HISTOGRAM_KEY, INF_BOUND, LE_KEY};
use crate::cell::AddCell;
use crate::counter::Counter;
use crate::described::Described;
use crate::metric::{Kind, Metric, Parts, Sealed};
use crate::name::{Name, NameRef, Pair};

/// How the slots of a histogram are named, kept in each slot's handle
/// and composed when a collection asks.
#[derive(Clone, Copy)]
pub(super) enum Names {
    /// The histogram's name plus the slot's pair.
    Added(NameRef),
    /// A [`TimedRequestTracker`](crate::TimedRequestTracker)'s `duration`
    /// histogram: `extra` pairs, a static row holding the slot's pair and
    /// `"metric": "request_duration"`, and `"group": group` (default bounds only).
    Duration {
        extra: &'static [Pair],
        group: &'static str,
    },
}

/// The slots of a histogram with the default buckets: the buckets, the
/// count and the sum.
pub(crate) const DEFAULT_SLOTS: usize = DEFAULT_BUCKETS + 2;

/// The fixed pairs of each slot of a default-bucket histogram named by
/// `"metric": metric` and pairs of its owner's, in slot order: the
/// bucket's `cantal_le` pair (or the count's or sum's `cantal_histogram`
/// pair), then the `metric` pair.
pub(crate) const fn metric_rows(metric: &'static str) -> [[Pair; 2]; DEFAULT_SLOTS] {
    let mut rows = [[("", ""); 2]; DEFAULT_SLOTS];
    let mut i = 0;
    while i < DEFAULT_SLOTS {
        let own = if i < DEFAULT_BUCKETS {
            (LE_KEY, DEFAULT_LE[i])
        } else if i == DEFAULT_BUCKETS {
            (HISTOGRAM_KEY, "count")
        } else {
            (HISTOGRAM_KEY, "sum")
        };
        rows[i] = [own, ("metric", metric)];
        i += 1;
    }
    rows
}

/// The duration histogram's fixed pairs for each slot (the bucket's name
/// is found by its `cantal_le` value, which no count or sum row has).
static DURATION_ROWS: [[Pair; 2]; DEFAULT_SLOTS] = metric_rows("request_duration");

/// The fixed pairs of a histogram's count and sum slots: those of a plain
/// histogram, then those of a duration histogram.
pub(super) const TOTAL_ROWS: [&[Pair]; 4] = [
    &[(HISTOGRAM_KEY, "count")],
    &[(HISTOGRAM_KEY, "sum")],
    &[(HISTOGRAM_KEY, "count"), ("metric", "request_duration")],
    &[(HISTOGRAM_KEY, "sum"), ("metric", "request_duration")],
];

impl Names {
    /// The name of the bucket whose bound is `le`.
    pub(super) fn bucket(self, le: &'static str) -> Name {
        match self {
            Names::Added(name) => name.get().with(LE_KEY, le),
            Names::Duration { extra, group } => {
                let row = DURATION_ROWS.iter().find(|row| row[0].1 == le);
                Name::new(extra)
                    .with_pairs(row.unwrap_or(&DURATION_ROWS[DEFAULT_BUCKETS - 1]))
                    .with("group", group)
            }
        }
    }

    /// The name of the count (`total(0)`) or sum (`total(1)`) slot.
    pub(super) const fn total(self, which: usize) -> Name {
        match self {
            Names::Added(name) => match name {
                NameRef::Pairs(pairs) => Name::new(pairs).with_pairs(TOTAL_ROWS[which]),
                NameRef::Static(name) => name.with_pairs(TOTAL_ROWS[which]),
            },
            Names::Duration { extra, group } => Name::new(extra)
                .with_pairs(TOTAL_ROWS[which + 2])
                .with("group", group),
        }
    }

    /// Panics (at compile time for a `static`) when a slot's name would
    /// have a key twice: composing one bucket's and the totals' names
    /// checks every key.
    pub(super) const fn check(self, name: Name) {
        match self {
            Names::Added(_) => {
                let _ = name.with(LE_KEY, INF_BOUND);
            }
            Names::Duration { extra, group } => {
                let _ = Name::new(extra)
                    .with_pairs(&DURATION_ROWS[0])
                    .with("group", group);
            }
        }
        let _ = self.total(0);
    }
}

/// One bucket: its counter and what names it.
pub(super) struct Bucket {
    pub(super) names: Names,
    pub(super) le: &'static str,
    pub(super) cell: AddCell,
}

impl fmt::Display for Bucket {
    /// The bucket's name, for the unpublished hook.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.name(), f)
    }
}

impl Sealed for Bucket {}

impl Metric for Bucket {
    fn name(&self) -> Name {
        self.names.bucket(self.le)
    }
    fn kind(&self) -> Kind {
        Kind::Counter
    }
    fn is_published(&self) -> bool {
        self.cell.is_published()
    }
    fn restore(&self, slot: &[u8]) {
        self.cell.add(crate::metric::word(slot, 0), self);
    }
    unsafe fn publish(&self, slot: *mut u64) -> bool {
        // SAFETY: the trait's contract is `AddCell::publish`'s.
        unsafe { self.cell.publish(slot) }.is_ok()
    }
}

/// The count and sum slots, each named by its own pair, and what names
/// them.
pub(super) struct Totals {
    pub(super) names: Names,
    /// The count slot, which carries the histogram's unit to the help file.
    pub(super) count: Described<Counter>,
    pub(super) sum: Counter,
}

impl Parts for Totals {
    fn part(&self, index: usize) -> &dyn Metric {
        if index == 0 { &self.count } else { &self.sum }
    }
    fn part_name(&self, index: usize) -> Name {
        self.names.total(index.min(1))
    }
}

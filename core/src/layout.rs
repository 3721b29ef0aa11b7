//! The slot layout: the reference client's order and padding, and the
//! [`Layout`] (size and lines) it gives.
//!
//! Slots are sorted by `(size, canonical JSON name)`, and before the first
//! slot of each size a `pad` is inserted so that a slot whose size is a
//! power of two starts at a multiple of its size (8-byte values first, then
//! 64-byte states on cache-line boundaries). The same declarations always
//! give the same layout, byte for byte the reference client's.

use crate::error::StartError;
use crate::metric::Metric;
use crate::name::Name;
use core::cmp::Ordering;

/// The shape of a laid-out collection: what
/// [`Collection::layout`](crate::Collection::layout) computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    size: usize,
    lines: usize,
}

impl Layout {
    /// Sorts `metrics` into the reference client's order and measures the
    /// result.
    ///
    /// # Errors
    ///
    /// [`StartError::Duplicate`] naming a metric given twice, or
    /// [`StartError::TooLarge`].
    pub(crate) fn plan(metrics: &mut [&dyn Metric]) -> Result<Layout, StartError> {
        sort(metrics).map_err(|name| StartError::Duplicate { name })?;
        let mut walk = Walk::new(metrics);
        let lines = walk.by_ref().count();
        if walk.overflow {
            return Err(StartError::TooLarge);
        }
        Ok(Layout {
            size: walk.offset(),
            lines,
        })
    }

    /// The bytes the values need: the size of the region (and values file).
    pub fn size(&self) -> usize {
        self.size
    }

    /// The number of meta lines, pads included.
    pub fn lines(&self) -> usize {
        self.lines
    }
}

/// Sorts by `(size, name)` and checks that no two metrics share a name;
/// returns the name that is duplicated, if one is.
///
/// One sort: two metrics of one size with the same name end up side by
/// side, and those of different sizes are found by merging the size
/// groups pairwise (each sorted by name), a linear walk per pair. With
/// more than a few sizes (states of many capacities), a sort by name
/// alone finds them instead.
pub(crate) fn sort(metrics: &mut [&dyn Metric]) -> Result<(), Name> {
    let by_size_and_name = |a: &&dyn Metric, b: &&dyn Metric| {
        a.kind()
            .size()
            .cmp(&b.kind().size())
            .then_with(|| a.name().canonical_cmp(&b.name()))
    };
    metrics.sort_unstable_by(by_size_and_name);
    if let Some(pair) = metrics
        .windows(2)
        .find(|w| by_size_and_name(&w[0], &w[1]) == Ordering::Equal)
    {
        return Err(pair[0].name());
    }
    let groups = Groups(metrics).count();
    if groups > MERGED_GROUPS {
        metrics.sort_unstable_by(|a, b| a.name().canonical_cmp(&b.name()));
        let found = metrics
            .windows(2)
            .find(|w| w[0].name().canonical_cmp(&w[1].name()) == Ordering::Equal)
            .map(|pair| pair[0].name());
        metrics.sort_unstable_by(by_size_and_name);
        return found.map_or(Ok(()), Err);
    }
    for (i, a) in Groups(metrics).enumerate() {
        for b in Groups(metrics).skip(i + 1) {
            merge_equal(a, b).map_or(Ok(()), Err)?;
        }
    }
    Ok(())
}

/// The most size groups merged pairwise (the work grows with their
/// square).
const MERGED_GROUPS: usize = 8;

/// The runs of one size in metrics sorted by size.
struct Groups<'s, 'a>(&'s [&'a dyn Metric]);

impl<'s, 'a> Iterator for Groups<'s, 'a> {
    type Item = &'s [&'a dyn Metric];

    fn next(&mut self) -> Option<Self::Item> {
        let size = self.0.first()?.kind().size();
        let end = self
            .0
            .iter()
            .position(|m| m.kind().size() != size)
            .unwrap_or(self.0.len());
        let (group, rest) = self.0.split_at(end);
        self.0 = rest;
        Some(group)
    }
}

/// A name found in both `a` and `b`, each sorted by name.
fn merge_equal(a: &[&dyn Metric], b: &[&dyn Metric]) -> Option<Name> {
    let (mut a, mut b) = (a.iter().peekable(), b.iter().peekable());
    while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
        let name = x.name();
        match name.canonical_cmp(&y.name()) {
            Ordering::Less => drop(a.next()),
            Ordering::Greater => drop(b.next()),
            Ordering::Equal => return Some(name),
        }
    }
    None
}

/// One line of the meta file.
#[derive(Clone, Copy)]
pub(crate) enum Item<'s, 'a> {
    /// `pad N`.
    Pad(usize),
    /// A metric's slot at `offset`.
    Slot {
        metric: &'s &'a dyn Metric,
        offset: usize,
    },
}

/// The lines of the layout of `sorted` metrics, in order.
pub(crate) struct Walk<'s, 'a> {
    metrics: core::slice::Iter<'s, &'a dyn Metric>,
    offset: usize,
    size: usize,
    pending: Option<&'s &'a dyn Metric>,
    /// A counter shard's trailing pad, due after its slot (its bytes are
    /// already counted in the slot's size).
    trailing_pad: usize,
    /// The offsets stopped fitting in `usize`.
    overflow: bool,
}

impl<'s, 'a> Walk<'s, 'a> {
    pub(crate) fn new(sorted: &'s [&'a dyn Metric]) -> Self {
        Walk {
            metrics: sorted.iter(),
            offset: 0,
            size: 0,
            pending: None,
            trailing_pad: 0,
            overflow: false,
        }
    }

    /// The offset after the last line walked: the total size once done.
    fn offset(&self) -> usize {
        self.offset
    }

    fn slot(&mut self, metric: &'s &'a dyn Metric) -> Option<Item<'s, 'a>> {
        let offset = self.offset;
        match offset.checked_add(self.size) {
            Some(end) => self.offset = end,
            None => {
                self.overflow = true;
                return None;
            }
        }
        self.trailing_pad = metric.kind().trailing_pad();
        Some(Item::Slot { metric, offset })
    }
}

impl<'s, 'a> Iterator for Walk<'s, 'a> {
    type Item = Item<'s, 'a>;

    fn next(&mut self) -> Option<Item<'s, 'a>> {
        if self.overflow {
            return None;
        }
        if self.trailing_pad != 0 {
            let pad = core::mem::take(&mut self.trailing_pad);
            return Some(Item::Pad(pad));
        }
        if let Some(metric) = self.pending.take() {
            return self.slot(metric);
        }
        let metric = self.metrics.next()?;
        let size = metric.kind().size();
        if size != self.size {
            self.size = size;
            // The reference client's rule, including its odd arithmetic for
            // sizes that are multiples of 8 but not powers of two (it never
            // triggers for our slots, which keep offsets 8-aligned).
            let pad = if size.is_power_of_two() {
                match self.offset % size {
                    0 => 0,
                    rem => size - rem,
                }
            } else if size % 8 == 0 {
                match self.offset % 8 {
                    0 => 0,
                    rem => size - rem,
                }
            } else {
                0
            };
            if pad != 0 {
                match self.offset.checked_add(pad) {
                    Some(end) => self.offset = end,
                    None => {
                        self.overflow = true;
                        return None;
                    }
                }
                self.pending = Some(metric);
                return Some(Item::Pad(pad));
            }
        }
        self.slot(metric)
    }
}

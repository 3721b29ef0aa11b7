//! The slot layout: the reference client's order and padding.
//!
//! Slots are sorted by `(size, canonical JSON name)`, and before the first
//! slot of each size a `pad` is inserted so that a slot whose size is a
//! power of two starts at a multiple of its size (8-byte values first, then
//! 64-byte states on cache-line boundaries). The same declarations always
//! give the same layout, byte for byte the reference client's.

use crate::metric::Metric;
use crate::name::Name;
use core::cmp::Ordering;

/// Sorts by `(size, name)`, after checking that no two metrics share a
/// name; returns the name that is duplicated, if one is.
pub(crate) fn sort(metrics: &mut [&dyn Metric]) -> Result<(), Name> {
    metrics.sort_unstable_by(|a, b| a.name().canonical_cmp(&b.name()));
    if let Some(pair) = metrics
        .windows(2)
        .find(|w| w[0].name().canonical_cmp(&w[1].name()) == Ordering::Equal)
    {
        return Err(pair[0].name());
    }
    metrics.sort_unstable_by(|a, b| {
        a.kind()
            .size()
            .cmp(&b.kind().size())
            .then_with(|| a.name().canonical_cmp(&b.name()))
    });
    Ok(())
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
    pub(crate) overflow: bool,
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
    pub(crate) fn offset(&self) -> usize {
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

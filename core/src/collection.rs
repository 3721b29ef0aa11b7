//! [`Collection`] (declaring metrics) and [`ActiveCollection`] (publishing
//! them).

use crate::error::{RegisterError, StartError};
use crate::layout::{Item, Layout, Walk};
use crate::metric::{Metric, Metrics};
use crate::region::{REGION_ALIGN, Region};
use crate::sync::{Ordering, u64_at};
use core::fmt;

/// A registered metric.
pub type MetricRef<'a> = &'a dyn Metric;

mod sealed {
    pub trait Sealed {}
}

/// Where a collection keeps its metric references: [`Fixed`] (no_std,
/// fixed capacity) or `Growable` (with the `alloc` feature).
pub trait Storage<'a>: sealed::Sealed {
    /// Appends `metric`; `Err(capacity)` when full.
    #[doc(hidden)]
    fn push(&mut self, metric: MetricRef<'a>) -> Result<(), usize>;
    /// The metrics, in registration order until the collection is laid out.
    #[doc(hidden)]
    fn as_slice(&self) -> &[MetricRef<'a>];
    #[doc(hidden)]
    fn as_mut_slice(&mut self) -> &mut [MetricRef<'a>];
}

/// Room for at most `N` metrics, inline (no allocator).
pub struct Fixed<'a, const N: usize>(heapless::Vec<MetricRef<'a>, N>);

impl<const N: usize> sealed::Sealed for Fixed<'_, N> {}

impl<'a, const N: usize> Storage<'a> for Fixed<'a, N> {
    fn push(&mut self, metric: MetricRef<'a>) -> Result<(), usize> {
        self.0.push(metric).map_err(|_| N)
    }
    fn as_slice(&self) -> &[MetricRef<'a>] {
        &self.0
    }
    fn as_mut_slice(&mut self) -> &mut [MetricRef<'a>] {
        &mut self.0
    }
}

/// Room for any number of metrics, on the heap.
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub struct Growable<'a>(alloc::vec::Vec<MetricRef<'a>>);

#[cfg(feature = "alloc")]
impl sealed::Sealed for Growable<'_> {}

#[cfg(feature = "alloc")]
impl<'a> Storage<'a> for Growable<'a> {
    fn push(&mut self, metric: MetricRef<'a>) -> Result<(), usize> {
        self.0.push(metric);
        Ok(())
    }
    fn as_slice(&self) -> &[MetricRef<'a>] {
        &self.0
    }
    fn as_mut_slice(&mut self) -> &mut [MetricRef<'a>] {
        &mut self.0
    }
}

/// Metrics being declared, before they are published.
///
/// Register metrics (each name once), then [`start`](Collection::start)
/// the collection over a [`Region`]: that fixes the layout, moves every
/// value into its slot, and returns the [`ActiveCollection`] that writes
/// the meta text. Duplicate names are reported by `start` (and
/// [`layout`](Collection::layout)), naming the metric.
///
/// # Examples
///
/// ```
/// # extern crate cantal_core as cantal;
/// use cantal::{Collection, Counter, Fixed, Integer};
/// # use core::ptr::NonNull;
/// # #[repr(C, align(64))] struct Buf([u64; 8]);
/// # struct R(NonNull<u8>);
/// # // SAFETY: a leaked, zeroed, 64-aligned buffer used by this region only.
/// # unsafe impl cantal_core::Region for R {
/// #     fn base(&self) -> NonNull<u8> { self.0 }
/// #     fn len(&self) -> usize { 64 }
/// # }
/// # fn region() -> R { R(NonNull::from(Box::leak(Box::new(Buf([0; 8])))).cast()) }
///
/// static TICKS: Counter = Counter::new(&[("group", "main_loop"), ("metric", "ticks")]);
/// static QUEUE: Integer = Integer::new(&[("group", "main_loop"), ("metric", "queue")]);
///
/// let mut metrics: Collection<Fixed<4>> = Collection::fixed();
/// metrics.register(&TICKS)?;
/// metrics.register(&QUEUE)?;
/// TICKS.incr(5); // counts before start, too
/// assert_eq!(metrics.layout()?.size(), 16);
///
/// let active = metrics.start(region())?; // e.g. cantal-static's buffer
/// TICKS.incr(1);
/// assert_eq!(TICKS.get(), 6);
/// assert_eq!(
///     active.meta().to_string(),
///     "level 8 signed: {\"group\": \"main_loop\", \"metric\": \"queue\"}\n\
///      counter 8: {\"group\": \"main_loop\", \"metric\": \"ticks\"}"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Collection<'a, S: Storage<'a>> {
    metrics: S,
    _metrics: core::marker::PhantomData<MetricRef<'a>>,
}

impl<'a, const N: usize> Collection<'a, Fixed<'a, N>> {
    /// An empty collection with room for `N` metrics.
    pub const fn fixed() -> Self {
        Collection {
            metrics: Fixed(heapless::Vec::new()),
            _metrics: core::marker::PhantomData,
        }
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<'a> Collection<'a, Growable<'a>> {
    /// An empty collection without a capacity limit.
    pub const fn growable() -> Self {
        Collection {
            metrics: Growable(alloc::vec::Vec::new()),
            _metrics: core::marker::PhantomData,
        }
    }
}

impl<'a, S: Storage<'a>> Collection<'a, S> {
    /// Registers a metric, or each metric of a group.
    ///
    /// # Errors
    ///
    /// [`RegisterError::CapacityExceeded`] when a [`Fixed`] collection is
    /// full; the metrics registered before the one that did not fit stay
    /// registered.
    pub fn register<M: Metrics + ?Sized>(&mut self, metrics: &'a M) -> Result<(), RegisterError> {
        let mut result = Ok(());
        metrics.for_each(&mut |metric| {
            if result.is_ok() {
                result =
                    self.metrics
                        .push(metric)
                        .map_err(|capacity| RegisterError::CapacityExceeded {
                            name: metric.name(),
                            capacity,
                        });
            }
        });
        result
    }

    /// The number of registered metrics.
    pub fn len(&self) -> usize {
        self.metrics.as_slice().len()
    }

    /// Whether no metric is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fixes the order of the metrics and computes the size of the region
    /// they need, without starting anything: allocate a region of
    /// [`Layout::size`] bytes, then call [`start`](Collection::start).
    ///
    /// # Errors
    ///
    /// [`StartError::Duplicate`] naming a metric registered twice, or
    /// [`StartError::TooLarge`].
    pub fn layout(&mut self) -> Result<Layout, StartError> {
        Layout::plan(self.metrics.as_mut_slice())
    }

    /// The meta text this collection will publish (it lays the collection
    /// out first): compare it with a previous publication's before
    /// [`restore`](Collection::restore)-ing that one's values.
    ///
    /// # Errors
    ///
    /// Those of [`layout`](Collection::layout).
    pub fn meta(&mut self) -> Result<Meta<'_, 'a>, StartError> {
        self.layout()?;
        Ok(Meta {
            metrics: self.metrics.as_slice(),
        })
    }

    /// Takes over the values of a previous publication of the same layout
    /// (same [`meta`](Collection::meta) text), so that a process that
    /// restarts does not reset its counters: each counter adds its old
    /// value, gauges and states take theirs. Call it before
    /// [`start`](Collection::start).
    ///
    /// # Errors
    ///
    /// Those of [`layout`](Collection::layout), and
    /// [`StartError::ValuesTooShort`] when `values` is shorter than the
    /// layout (nothing is restored then).
    pub fn restore(&mut self, values: &[u8]) -> Result<(), StartError> {
        let layout = self.layout()?;
        if values.len() < layout.size() {
            return Err(StartError::ValuesTooShort {
                needed: layout.size(),
                available: values.len(),
            });
        }
        for item in Walk::new(self.metrics.as_slice()) {
            if let Item::Slot { metric, offset } = item {
                let end = offset.saturating_add(metric.kind().size());
                metric.restore(values.get(offset..end).unwrap_or_default());
            }
        }
        Ok(())
    }

    /// Publishes the metrics into `region`: lays them out, moves each
    /// metric's value into its slot (no update is lost, even from threads
    /// updating at that moment), and points the handles there for good.
    ///
    /// # Errors
    ///
    /// Those of [`layout`](Collection::layout), a region that is too small
    /// or misaligned, and a metric that is already published. Every check
    /// is made before any metric moves, except that another collection may
    /// publish one of our metrics at the same moment: then the metrics
    /// moved before it stay in this region (which lives forever anyway).
    pub fn start<R: Region>(mut self, region: R) -> Result<ActiveCollection<'a, S, R>, StartError> {
        let layout = self.layout()?;
        let base = region.base();
        if !base.as_ptr().addr().is_multiple_of(REGION_ALIGN) {
            return Err(StartError::RegionMisaligned {
                address: base.as_ptr().addr(),
            });
        }
        if region.len() < layout.size() {
            return Err(StartError::RegionTooSmall {
                needed: layout.size(),
                available: region.len(),
            });
        }
        if let Some(m) = self.metrics.as_slice().iter().find(|m| m.is_published()) {
            return Err(StartError::AlreadyPublished { name: m.name() });
        }
        for item in Walk::new(self.metrics.as_slice()) {
            if let Item::Slot { metric, offset } = item {
                let slot = base.as_ptr().wrapping_add(offset).cast::<u64>();
                // SAFETY: `Metric::publish`'s contract: `offset + size <=
                // layout.size() <= region.len()`, so the slot lies in the
                // region, whose contract makes it valid forever, zeroed and
                // atomic-only; offsets are multiples of 8 (every size is)
                // from a 64-aligned base; the layout gives each metric its
                // own slot.
                if !unsafe { metric.publish(slot) } {
                    return Err(StartError::AlreadyPublished {
                        name: metric.name(),
                    });
                }
            }
        }
        Ok(ActiveCollection {
            metrics: self.metrics,
            region,
            layout,
            _metrics: core::marker::PhantomData,
        })
    }
}

/// Published metrics: the layout is fixed, the values live in the region.
///
/// Dropping it does not move the metrics back: they keep updating their
/// slots, which the [`Region`] contract keeps valid forever.
pub struct ActiveCollection<'a, S: Storage<'a>, R: Region> {
    metrics: S,
    region: R,
    layout: Layout,
    _metrics: core::marker::PhantomData<MetricRef<'a>>,
}

impl<'a, S: Storage<'a>, R: Region> ActiveCollection<'a, S, R> {
    /// The meta text (lines joined by `\n`, no trailing newline, as the
    /// reference client writes it). It is `Display`: write it to a file, a
    /// `String`, or any `core::fmt::Write`.
    pub fn meta(&self) -> Meta<'_, 'a> {
        Meta {
            metrics: self.metrics.as_slice(),
        }
    }

    /// The layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The region the values live in.
    pub fn region(&self) -> &R {
        &self.region
    }

    /// The published metrics, in layout order.
    pub fn metrics(&self) -> impl Iterator<Item = MetricRef<'a>> + '_ {
        self.metrics.as_slice().iter().copied()
    }

    /// Copies the values bytes (what a reader of the region sees) into
    /// `out`, up to its length or the layout's size, whichever is smaller,
    /// rounded down to whole 8-byte words; returns the bytes copied.
    ///
    /// Each word is read atomically; words are not read at one instant.
    pub fn read_values(&self, out: &mut [u8]) -> usize {
        let base = self.region.base().as_ptr().cast::<u64>();
        let mut copied = 0;
        for (i, chunk) in out
            .chunks_exact_mut(8)
            .take(self.layout.size() / 8)
            .enumerate()
        {
            // SAFETY: `i < size / 8`, so the word lies in the region (whose
            // length is at least the layout size, checked by `start`); the
            // region is 64-aligned, valid forever and atomic-only.
            let word = unsafe { u64_at(base.wrapping_add(i)) }.load(Ordering::Acquire);
            chunk.copy_from_slice(&word.to_ne_bytes());
            copied += 8;
        }
        copied
    }

    /// Always fails: after `start` the layout is fixed. (The reference
    /// client raises here too.)
    ///
    /// # Errors
    ///
    /// [`RegisterError::AlreadyStarted`], naming the first metric.
    pub fn register<M: Metrics + ?Sized>(&mut self, metrics: &M) -> Result<(), RegisterError> {
        let mut first = None;
        metrics.for_each(&mut |m| {
            first.get_or_insert(m.name());
        });
        match first {
            Some(name) => Err(RegisterError::AlreadyStarted { name }),
            None => Ok(()),
        }
    }
}

/// The meta text of an [`ActiveCollection`]; see
/// [`ActiveCollection::meta`].
pub struct Meta<'s, 'a> {
    metrics: &'s [MetricRef<'a>],
}

impl fmt::Display for Meta<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in Walk::new(self.metrics).enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            match item {
                Item::Pad(n) => write!(f, "pad {n}")?,
                Item::Slot { metric, .. } => write!(f, "{}: {}", metric.kind(), metric.name())?,
            }
        }
        Ok(())
    }
}

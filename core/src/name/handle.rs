//! [`NameRef`]: the two words of name a metric handle keeps, from which
//! the full [`Name`] is composed when a collection asks.

use core::fmt;

use super::{Name, Pair};

/// The name a metric handle keeps: two words, where a [`Name`] takes
/// eleven.
///
/// A handle made with `new(pairs)` keeps the slice; one made with a name
/// composed in a `static` keeps a pointer to it. The pairs that compound
/// metrics ([`RequestTracker`](crate::RequestTracker), [`Fork`](crate::Fork),
/// [`Histogram`](crate::Histogram), [`ShardedCounter`](crate::ShardedCounter))
/// add to their parts' names are kept once, in the compound, and composed
/// when a collection asks for the name (registration, layout, meta text),
/// never on an update.
#[derive(Clone, Copy)]
pub(crate) enum NameRef {
    /// `Name::new(pairs)`, checked when the handle was made.
    Pairs(&'static [Pair]),
    /// A name composed in a `static`.
    Static(&'static Name),
}

impl NameRef {
    /// The handle's name for `name`, which must be made of one slice of
    /// pairs (`Name::new`).
    ///
    /// # Panics
    ///
    /// When `name` has pairs added with `with_pairs`, `with` or
    /// `with_joined` (a compile-time error for a `static`).
    pub(crate) const fn of(name: Name) -> NameRef {
        if !name.more.is_empty() || name.key.is_some() {
            panic!(
                "`with_name` takes a name made by `Name::new`; for a composed name, put it in \
                 a `static` and use `with_static_name`"
            );
        }
        NameRef::Pairs(name.pairs)
    }

    /// The name.
    #[inline]
    pub(crate) fn get(self) -> Name {
        match self {
            // Not classified: a layout compares names many times, and
            // reads only up to the first difference.
            NameRef::Pairs(pairs) => Name {
                pairs,
                more: &[],
                key: None,
                head: "",
                tail: None,
                plain: false,
            },
            NameRef::Static(name) => *name,
        }
    }
}

impl fmt::Display for NameRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.get(), f)
    }
}

impl fmt::Debug for NameRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

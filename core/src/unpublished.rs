//! A hook called when a metric that no region holds is updated: the cold
//! path an unpublished handle takes anyway (its inline storage), so the
//! published hot path does not change.
//!
//! The `cantal` facade sets it after `start()`, to warn once about a
//! `static` metric declared without `cantal::metrics!` (which counts but is
//! never published).

use core::fmt;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

/// The hook, called with the metric's name.
pub(crate) type UnpublishedHook = fn(&dyn fmt::Display);

/// The hook as a function pointer cast to a data pointer; null when none.
static HOOK: AtomicPtr<()> = AtomicPtr::new(ptr::null_mut());

/// Sets the function called by every update of a metric that is not
/// published (`None` removes it). For the `cantal` facade; not public API.
#[doc(hidden)]
pub fn set_unpublished_hook(hook: Option<fn(&dyn fmt::Display)>) {
    let raw = hook.map_or(ptr::null_mut(), |f| f as *mut ());
    HOOK.store(raw, Ordering::Release);
}

/// Calls the hook, if any: the unpublished metric `name` was updated.
#[inline]
pub(crate) fn updated(name: &dyn fmt::Display) {
    let raw = HOOK.load(Ordering::Acquire);
    if !raw.is_null() {
        // SAFETY: a non-null `HOOK` was stored by `set_unpublished_hook`
        // from an `UnpublishedHook`, cast to a pointer; a function pointer
        // and a data pointer have the same size and representation on
        // every target Rust supports, and casting back gives the same
        // function.
        let hook = unsafe { core::mem::transmute::<*mut (), UnpublishedHook>(raw) };
        hook(name);
    }
}

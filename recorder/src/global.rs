//! The process's global recorder, and the publication it goes into.
//!
//! `install()` and the `cantal` crate's `start()` may come in either order:
//! whichever comes second connects the recorder to the publication.

use crate::error::Error;
use crate::recorder::{Builder, CantalRecorder};
use cantal_mmap::Extender;
use std::sync::{Mutex, PoisonError};

/// The global recorder once installed, or the publication waiting for it.
enum Global {
    Empty,
    Installed(CantalRecorder),
    Waiting(Extender),
}

static GLOBAL: Mutex<Global> = Mutex::new(Global::Empty);

// In this module, not beside the other builder methods, so that the
// recorder module does not depend on this one.
impl Builder {
    /// Builds the recorder and sets it as the process's global `metrics`
    /// recorder; the `cantal` crate's `start()` then publishes its metrics
    /// with the `metrics!` statics (see [`connect_global`](crate::connect_global)).
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyInstalled`] when a global recorder is set already;
    /// an error connecting to a publication started before (see
    /// [`CantalRecorder::connect`]).
    pub fn install(self) -> Result<CantalRecorder, Error> {
        install(self.build())
    }
}

pub(crate) fn install(recorder: CantalRecorder) -> Result<CantalRecorder, Error> {
    let mut global = GLOBAL.lock().unwrap_or_else(PoisonError::into_inner);
    metrics::set_global_recorder(recorder.clone()).map_err(|_| Error::AlreadyInstalled)?;
    let waiting = std::mem::replace(&mut *global, Global::Installed(recorder.clone()));
    drop(global);
    if let Global::Waiting(extender) = waiting
        && !extender.is_closed()
    {
        recorder.connect(extender)?;
    }
    Ok(recorder)
}

/// Connects the global recorder, when one is installed with
/// [`install`](crate::install), to the publication of `extender`; when
/// none is installed yet, the next `install` connects it. The `cantal`
/// crate's `start()` calls it (with the `metrics` feature), so that the
/// recorder's metrics share the files of the `metrics!` statics.
///
/// # Errors
///
/// Those of [`CantalRecorder::connect`].
pub fn connect_global(extender: Extender) -> Result<(), Error> {
    let mut global = GLOBAL.lock().unwrap_or_else(PoisonError::into_inner);
    match &*global {
        Global::Installed(recorder) => {
            let recorder = recorder.clone();
            drop(global);
            recorder.connect(extender)
        }
        _ => {
            *global = Global::Waiting(extender);
            Ok(())
        }
    }
}

/// The recorder set by [`install`](crate::install), if any.
pub fn installed() -> Option<CantalRecorder> {
    match &*GLOBAL.lock().unwrap_or_else(PoisonError::into_inner) {
        Global::Installed(recorder) => Some(recorder.clone()),
        _ => None,
    }
}

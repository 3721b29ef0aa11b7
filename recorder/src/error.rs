//! [`Error`]: what can go wrong installing or connecting the recorder.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why the recorder could not be installed or connected to a publication.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A global `metrics` recorder was set already (by us or another
    /// crate): `metrics::set_global_recorder` takes one per process.
    AlreadyInstalled,
    /// This recorder publishes into a publication already; one recorder
    /// feeds one publication.
    AlreadyConnected {
        /// The base path it publishes to.
        path: PathBuf,
    },
    /// The re-publication thread could not be started.
    Spawn {
        /// The base path of the publication.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The metrics could not be added to the files (the error names the
    /// file).
    Publish(cantal_mmap::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::AlreadyInstalled => f.write_str(
                "cannot install the Cantal metrics recorder: a global `metrics` recorder is set \
                 already",
            ),
            Error::AlreadyConnected { path } => write!(
                f,
                "the Cantal metrics recorder publishes to {} already",
                path.display()
            ),
            Error::Spawn { path, source } => write!(
                f,
                "cannot start the thread publishing new metrics to {}: {source}",
                path.display()
            ),
            Error::Publish(e) => write!(f, "cannot publish the recorder's metrics: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Spawn { source, .. } => Some(source),
            Error::Publish(e) => Some(e),
            _ => None,
        }
    }
}

impl From<cantal_mmap::Error> for Error {
    fn from(e: cantal_mmap::Error) -> Error {
        Error::Publish(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_path() {
        let e = Error::AlreadyConnected {
            path: PathBuf::from("/run/app"),
        };
        assert!(e.to_string().contains("/run/app"), "{e}");
        let e = Error::Spawn {
            path: PathBuf::from("/run/app"),
            source: io::Error::other("no threads"),
        };
        assert!(e.to_string().contains("/run/app: no threads"), "{e}");
    }
}

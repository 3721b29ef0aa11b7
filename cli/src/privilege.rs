//! What this process may read of other users: root, or the two
//! capabilities a dedicated exporter user needs (see `contrib/systemd`):
//!
//! - `CAP_DAC_READ_SEARCH`: open other users' publication files and search
//!   their directories (`0700` runtime directories among them);
//! - `CAP_SYS_PTRACE`: read other users' `/proc/PID/environ` (where their
//!   `CANTAL_PATH` is) and list their `/proc/PID/fd`.
//!
//! A reader with the first is privileged: the ownership rule of
//! SECURITY.md applies to it as to root ([`OwnerCheck::Auto`](crate::owner::OwnerCheck)).

use crate::procfs;

/// The bit of `CAP_DAC_READ_SEARCH` in a capability set.
const CAP_DAC_READ_SEARCH: u32 = 2;

/// The bit of `CAP_SYS_PTRACE` in a capability set.
const CAP_SYS_PTRACE: u32 = 19;

/// A capability the exporter wants, and what it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wanted {
    /// Its name, as `capabilities(7)` writes it.
    pub(crate) name: &'static str,
    /// Its bit.
    bit: u32,
    /// What is lost without it.
    pub(crate) without: &'static str,
}

/// The two capabilities, in bit order.
pub(crate) const WANTED: [Wanted; 2] = [
    Wanted {
        name: "CAP_DAC_READ_SEARCH",
        bit: CAP_DAC_READ_SEARCH,
        without: "other users' publication files cannot be opened: those publishers are down \
                  (their files are not readable)",
    },
    Wanted {
        name: "CAP_SYS_PTRACE",
        bit: CAP_SYS_PTRACE,
        without: "other users' /proc/PID/environ cannot be read: their CANTAL_PATH, so their \
                  publishers, are not found (and process_open_fds is left out for them)",
    },
];

/// Whether the effective set `caps` holds `bit`.
fn has(caps: u64, bit: u32) -> bool {
    caps & (1 << bit) != 0
}

/// Whether this process reads files as a privileged reader: root, or
/// `CAP_DAC_READ_SEARCH` in its effective set. Asked for every publisher
/// read, so `/proc/self` is read once: the exporter never changes its
/// credentials.
pub(crate) fn is_privileged() -> bool {
    static PRIVILEGED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PRIVILEGED.get_or_init(|| {
        procfs::my_uid() == 0
            || procfs::effective_capabilities().is_some_and(|c| has(c, CAP_DAC_READ_SEARCH))
    })
}

/// The capabilities of [`WANTED`] that a process with effective set `caps`
/// lacks (root normally has every one; root without them lacks them too).
pub(crate) fn missing(caps: u64) -> Vec<Wanted> {
    WANTED.into_iter().filter(|w| !has(caps, w.bit)).collect()
}

/// Tells on stderr, once at start, which of the two capabilities this
/// process lacks and what that costs; nothing when it has both (as root
/// normally does).
pub(crate) fn report() {
    let Some(caps) = procfs::effective_capabilities() else {
        eprintln!(
            "cantal export: warning: cannot read CapEff in /proc/self/status: other users' \
             publishers may be neither found nor read"
        );
        return;
    };
    for w in missing(caps) {
        eprintln!(
            "cantal export: warning: running without {} (uid {}): {}; grant it (for example \
             AmbientCapabilities={} in a systemd unit) to export every user's publishers",
            w.name,
            procfs::my_uid(),
            w.without,
            w.name
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_capabilities_by_bit() {
        assert_eq!(missing(0).len(), 2);
        // setpriv --ambient-caps=+dac_read_search,+sys_ptrace: CapEff 0x80004.
        assert!(missing(0x80004).is_empty());
        let names: Vec<&str> = missing(1 << CAP_DAC_READ_SEARCH)
            .iter()
            .map(|w| w.name)
            .collect();
        assert_eq!(names, ["CAP_SYS_PTRACE"]);
        // Root's full set.
        assert!(missing(0x1ff_ffff_ffff).is_empty());
    }
}

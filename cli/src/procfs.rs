//! What `/proc` tells about other processes: their environment (where they
//! publish), their owner, whether they still run.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The Cantal variables of a process's (initial) environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CantalEnv {
    /// `CANTAL_PATH`, made absolute against the process's working
    /// directory when it was relative.
    pub(crate) path: Option<PathBuf>,
    /// `CANTAL_APPNAME`.
    pub(crate) appname: Option<String>,
    /// `XDG_RUNTIME_DIR`, for the default path.
    pub(crate) runtime_dir: Option<PathBuf>,
}

/// Reads `/proc/<pid>/environ`.
///
/// # Errors
///
/// The process does not exist, or we may not read its environment.
pub(crate) fn cantal_env(pid: u32) -> io::Result<CantalEnv> {
    let bytes = fs::read(format!("/proc/{pid}/environ"))?;
    let mut env = CantalEnv::default();
    for var in bytes.split(|&b| b == 0) {
        let Some(eq) = var.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (key, value) = (&var[..eq], &var[eq + 1..]);
        let value = OsStr::from_bytes(value);
        match key {
            b"CANTAL_PATH" if !value.is_empty() => {
                let path = Path::new(value);
                env.path = Some(if path.is_absolute() {
                    path.to_path_buf()
                } else {
                    let cwd = fs::read_link(format!("/proc/{pid}/cwd"))
                        .unwrap_or_else(|_| PathBuf::from(format!("/proc/{pid}/cwd")));
                    cwd.join(path)
                });
            }
            b"CANTAL_APPNAME" => env.appname = Some(value.to_string_lossy().into_owned()),
            b"XDG_RUNTIME_DIR" if !value.is_empty() => {
                env.runtime_dir = Some(PathBuf::from(OsString::from(value)));
            }
            _ => {}
        }
    }
    Ok(env)
}

/// The owner of a process, if it exists.
pub(crate) fn owner(pid: u32) -> Option<u32> {
    fs::metadata(format!("/proc/{pid}")).ok().map(|m| m.uid())
}

/// Whether a process with this id runs (zombies included).
pub(crate) fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Our own user id.
pub(crate) fn my_uid() -> u32 {
    fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid())
}

/// Our effective capability set: `CapEff` of `/proc/self/status`.
pub(crate) fn effective_capabilities() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

/// The name of user `uid` in the text of `/etc/passwd` (`name:x:uid:...`).
pub(crate) fn passwd_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_string())
    })
}

/// The ids of all processes, ascending.
pub(crate) fn pids() -> Vec<u32> {
    let mut pids: Vec<u32> = fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    pids.sort_unstable();
    pids
}

/// What the Prometheus client libraries' process collectors export, for
/// one process, from `/proc/<pid>/stat`, `status`, `limits` and `fd`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ProcessStats {
    /// User and system CPU time, in seconds.
    pub(crate) cpu_seconds: f64,
    /// Resident set size, in bytes.
    pub(crate) resident_bytes: u64,
    /// Virtual memory size, in bytes.
    pub(crate) virtual_bytes: u64,
    /// When the process started, in seconds since the Unix epoch.
    pub(crate) start_time_seconds: f64,
    /// Open file descriptors, when `/proc/<pid>/fd` may be listed (the
    /// process's user, or a reader with `CAP_SYS_PTRACE`).
    pub(crate) open_fds: Option<u64>,
    /// The soft limit on open files, when it is not unlimited.
    pub(crate) max_fds: Option<u64>,
}

/// The most bytes read of a `/proc/<pid>` text file (`stat` and `limits`
/// are well under 4 KiB).
const PROC_TEXT_LIMIT: u64 = 64 * 1024;

/// The most file descriptors counted: a process with more costs no more
/// than this many directory entries (`process_open_fds` is then this
/// number).
pub(crate) const MAX_FDS_COUNTED: u64 = 1 << 22;

/// The statistics of process `pid`; `None` when it is gone (or `/proc`
/// does not say).
pub(crate) fn process_stats(pid: u32) -> Option<ProcessStats> {
    let read = |name: &str| read_text(pid, name, PROC_TEXT_LIMIT);
    let stat = parse_stat(&read("stat")?)?;
    let status = read("status")?;
    let start = boot_time()? as f64 + stat.start_ticks as f64 / USER_HZ;
    let open_fds = fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()
        .map(|dir| dir.take(MAX_FDS_COUNTED as usize).count() as u64);
    Some(ProcessStats {
        cpu_seconds: stat.utime.saturating_add(stat.stime) as f64 / USER_HZ,
        // A kernel thread or a zombie has no memory lines: 0.
        resident_bytes: status_bytes(&status, "VmRSS").unwrap_or(0),
        virtual_bytes: status_bytes(&status, "VmSize").unwrap_or(stat.vsize),
        start_time_seconds: start,
        open_fds,
        max_fds: read("limits").as_deref().and_then(max_open_files),
    })
}

/// The text of `/proc/<pid>/<name>`, at most `limit` bytes; `None` when
/// the process is gone or the file cannot be read.
pub(crate) fn read_text(pid: u32, name: &str, limit: u64) -> Option<String> {
    use std::io::Read as _;
    let mut text = String::new();
    fs::File::open(format!("/proc/{pid}/{name}"))
        .ok()?
        .take(limit)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// The fields of `/proc/<pid>/stat` that [`ProcessStats`] needs.
#[derive(Debug, PartialEq)]
struct Stat {
    utime: u64,
    stime: u64,
    start_ticks: u64,
    vsize: u64,
}

/// Parses `/proc/<pid>/stat` (proc(5)): the fields after the command name,
/// which is in parentheses and may hold spaces and parentheses itself, so
/// the fields start after the last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name.
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    let field = |n: usize| -> Option<u64> { fields.get(n.checked_sub(3)?)?.parse().ok() };
    Some(Stat {
        utime: field(14)?,
        stime: field(15)?,
        start_ticks: field(22)?,
        vsize: field(23)?,
    })
}

/// The soft limit of `Max open files` in `/proc/<pid>/limits`; `None` when
/// unlimited or not found.
fn max_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `btime` of `/proc/stat`: when the system booted, in seconds since the
/// Unix epoch (read once).
fn boot_time() -> Option<u64> {
    static BOOT: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *BOOT.get_or_init(|| {
        let text = fs::read_to_string("/proc/stat").ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()
    })
}

/// The unit of the times in `/proc/<pid>/stat`: `USER_HZ`, which the
/// kernel keeps at 100 per second in that file on every architecture this
/// builds for (whatever the kernel's own `HZ`), as `getconf CLK_TCK` says.
const USER_HZ: f64 = 100.0;

/// The value in kB of the `key:` line of `/proc/<pid>/status`, in bytes.
fn status_bytes(status: &str, key: &str) -> Option<u64> {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))?;
    let kib: u64 = line.split_ascii_whitespace().next()?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_an_odd_command_name() {
        // The name holds spaces and parentheses; the fields follow the last `)`.
        let text = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    250 50 0 0 20 0 3 0 123456 987654321 2500 18446744073709551615 \
                    1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        assert_eq!(
            parse_stat(text),
            Some(Stat {
                utime: 250,
                stime: 50,
                start_ticks: 123456,
                vsize: 987654321,
            })
        );
        assert_eq!(parse_stat("4242 (no fields)"), None);
    }

    #[test]
    fn status_sizes_in_bytes() {
        let status = "Name:\tx\nVmSize:\t  10240 kB\nVmRSS:\t    512 kB\n";
        assert_eq!(status_bytes(status, "VmRSS"), Some(512 * 1024));
        assert_eq!(status_bytes(status, "VmSize"), Some(10240 * 1024));
        assert_eq!(status_bytes(status, "VmSwap"), None);
    }

    #[test]
    fn open_files_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max processes             63883                63883                processes\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(max_open_files(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(max_open_files(unlimited), None);
    }

    #[test]
    fn our_own_process() {
        let me = process_stats(std::process::id()).expect("our own /proc entry");
        assert!(
            me.resident_bytes > 0 && me.virtual_bytes >= me.resident_bytes,
            "{me:?}"
        );
        assert!(me.open_fds.is_some_and(|n| n >= 3), "{me:?}");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        // Started in the past, at most a day ago (a test process).
        assert!(me.start_time_seconds <= now + 1.0, "{me:?} now {now}");
        assert!(me.start_time_seconds > now - 86_400.0, "{me:?} now {now}");
    }

    #[test]
    fn passwd() {
        let text = "root:x:0:0:root:/root:/bin/sh\n# comment\nnobody:x:65534:65534::/:/bin/false\n";
        assert_eq!(passwd_name(text, 0).as_deref(), Some("root"));
        assert_eq!(passwd_name(text, 65534).as_deref(), Some("nobody"));
        assert_eq!(passwd_name(text, 7), None);
    }
}

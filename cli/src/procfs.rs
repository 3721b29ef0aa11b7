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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd() {
        let text = "root:x:0:0:root:/root:/bin/sh\n# comment\nnobody:x:65534:65534::/:/bin/false\n";
        assert_eq!(passwd_name(text, 0).as_deref(), Some("root"));
        assert_eq!(passwd_name(text, 65534).as_deref(), Some("nobody"));
        assert_eq!(passwd_name(text, 7), None);
    }
}

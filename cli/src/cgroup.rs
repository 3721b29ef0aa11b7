//! Which systemd unit and which container a process belongs to, from its
//! control groups (`/proc/PID/cgroup`, cgroup v2 and v1 layouts), and its
//! command name (`/proc/PID/comm`): the opt-in identity labels
//! `--label-unit`, `--label-container` and `--label-comm` of `export`.

use crate::procfs;

/// The most bytes read of `/proc/PID/cgroup` (a v1 system lists about a
/// dozen lines).
const CGROUP_LIMIT: u64 = 64 * 1024;

/// The cgroup paths of a process, the most telling first: the unified
/// (v2) line `0::PATH`, v1's `name=systemd` hierarchy, then the other v1
/// controllers (where a container runtime with the cgroupfs driver puts
/// its `/docker/<id>`); `/` (the root, which says nothing) left out.
fn cgroup_paths(text: &str) -> Vec<&str> {
    let mut paths: Vec<(u8, &str)> = text
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let rank = match (id, controllers) {
                ("0", "") => 0,
                (_, "name=systemd") => 1,
                _ => 2,
            };
            (path != "/").then_some((rank, path))
        })
        .collect();
    paths.sort_by_key(|(rank, _)| *rank);
    paths.into_iter().map(|(_, p)| p).collect()
}

/// A container id in a cgroup path component: 64 hexadecimal digits, alone
/// (`/docker/<id>`, `/kubepods/.../<id>`) or with a runtime's prefix and a
/// `.scope` suffix (`docker-<id>.scope`, `cri-containerd-<id>.scope`,
/// `crio-<id>.scope`, `libpod-<id>.scope`).
fn container_id(component: &str) -> Option<&str> {
    let stem = component.strip_suffix(".scope").unwrap_or(component);
    let id = stem.rsplit('-').next()?;
    (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

/// The process's container id: the last component of its cgroup path
/// that holds one.
pub(crate) fn container(cgroup: &str) -> Option<String> {
    cgroup_paths(cgroup)
        .into_iter()
        .find_map(|path| path.rsplit('/').find_map(container_id))
        .map(str::to_string)
}

/// The process's systemd unit: the last component of its cgroup path that
/// is a service or a scope (`nginx.service`, `session-3.scope`; for a user
/// service, its own unit, not `user@1000.service`), not a container's
/// scope.
pub(crate) fn unit(cgroup: &str) -> Option<String> {
    let is_unit =
        |c: &&str| (c.ends_with(".service") || c.ends_with(".scope")) && container_id(c).is_none();
    cgroup_paths(cgroup)
        .into_iter()
        .find_map(|path| path.rsplit('/').find(is_unit))
        .map(str::to_string)
}

/// The identity labels asked for, of process `pid`: `unit`, `container`,
/// `comm`, each when asked and known.
pub(crate) fn labels(pid: u32, asked: Asked) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if asked.unit || asked.container {
        let cgroup = procfs::read_text(pid, "cgroup", CGROUP_LIMIT).unwrap_or_default();
        if asked.container
            && let Some(id) = container(&cgroup)
        {
            out.push(("container".to_string(), id));
        }
        if asked.unit
            && let Some(unit) = unit(&cgroup)
        {
            out.push(("unit".to_string(), unit));
        }
    }
    if asked.comm
        && let Some(comm) = procfs::read_text(pid, "comm", 64)
    {
        let comm = comm.trim_end_matches('\n');
        if !comm.is_empty() {
            out.push(("comm".to_string(), comm.to_string()));
        }
    }
    out
}

/// Which identity labels `export` adds (its `--label-*` flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::Args)]
pub(crate) struct Asked {
    /// Give every series a unit label: the publisher's systemd unit
    /// (from /proc/PID/cgroup), when it has one.
    #[arg(long = "label-unit")]
    pub(crate) unit: bool,
    /// Give every series a container label: the publisher's container id
    /// (64 hex digits, from /proc/PID/cgroup), when it runs in one.
    #[arg(long = "label-container")]
    pub(crate) container: bool,
    /// Give every series a comm label: the publisher's command name
    /// (/proc/PID/comm).
    #[arg(long = "label-comm")]
    pub(crate) comm: bool,
}

impl Asked {
    /// Whether any is asked for.
    pub(crate) fn any(self) -> bool {
        self.unit || self.container || self.comm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f1c2b8e9d7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e";

    #[test]
    fn units_and_containers_in_both_layouts() {
        let v2_service = "0::/system.slice/nginx.service\n";
        assert_eq!(unit(v2_service).as_deref(), Some("nginx.service"));
        assert_eq!(container(v2_service), None);
        let user = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/web.service\n";
        assert_eq!(unit(user).as_deref(), Some("web.service"));
        let docker = format!("0::/system.slice/docker-{ID}.scope\n");
        assert_eq!(container(&docker).as_deref(), Some(ID));
        // The container's scope is not the unit; its parent slice is none.
        assert_eq!(unit(&docker), None);
        let kube = format!(
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/cri-containerd-{ID}.scope\n"
        );
        assert_eq!(container(&kube).as_deref(), Some(ID));
        let v1 = format!("12:memory:/docker/{ID}\n1:name=systemd:/system.slice/docker.service\n");
        assert_eq!(unit(&v1).as_deref(), Some("docker.service"));
        let v1_kube = format!("1:name=systemd:/kubepods/burstable/pod1234/{ID}\n");
        assert_eq!(container(&v1_kube).as_deref(), Some(ID));
        assert_eq!((unit(""), container("")), (None, None));
        // Hybrid: an empty unified line, the unit in name=systemd, the
        // container in a v1 controller.
        let hybrid =
            format!("9:name=systemd:/system.slice/app.service\n4:memory:/docker/{ID}\n0::/\n");
        assert_eq!(unit(&hybrid).as_deref(), Some("app.service"));
        assert_eq!(container(&hybrid).as_deref(), Some(ID));
        // Not 64 hexadecimal digits: no container.
        assert_eq!(container("0::/system.slice/docker-abc.scope"), None);
    }

    #[test]
    fn our_own_command_name() {
        let asked = Asked {
            comm: true,
            ..Asked::default()
        };
        let labels = labels(std::process::id(), asked);
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert_eq!(labels, [("comm".to_string(), comm.trim_end().to_string())]);
    }
}

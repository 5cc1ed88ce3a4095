//! Free disk where the engine keeps its data (`DockerRootDir`), against what a lab's images
//! and volumes take.
//!
//! Measured with `docker image ls` on the kit (2026-12-01): the base 149 MB; postgres 611 MB,
//! python 304 MB, redis 238 MB and nginx 244 MB, each including the base's layers; pgAdmin 881
//! MB (on python); a lab's own built image adds about 20 MB to python's. The largest lab
//! (phase 5: postgres, redis, nginx, pgAdmin and a built API) needs about 1.6 GB of image
//! layers, plus its volumes and build cache. Below [`BLOCKS_BELOW`] a lab's images cannot all
//! be built; below [`WARN_BELOW`] a build or a database's growth may fill the disk midway.

use super::{Finding, Level};

pub const GIB: u64 = 1 << 30;
/// Less than this free: the largest lab's images do not fit.
pub const BLOCKS_BELOW: u64 = 2 * GIB;
/// Less than this free: they fit, with little room for builds, volumes and logs.
pub const WARN_BELOW: u64 = 5 * GIB;

/// Where the engine's data is, and what doctor could learn of its free space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Space {
    Free(u64),
    /// Not on this machine's filesystem (a remote engine, Docker Desktop's VM, doctor in a
    /// container): why.
    Elsewhere(String),
    /// statvfs failed.
    Unreadable(String),
}

pub fn finding(root: &str, space: &Space) -> Finding {
    match space {
        Space::Free(bytes) => {
            let shown = format!(
                "{:.1} GB free in {root} (the engine's data)",
                *bytes as f64 / 1e9
            );
            let level = match *bytes {
                b if b < BLOCKS_BELOW => Level::Blocks,
                b if b < WARN_BELOW => Level::Warn,
                _ => return Finding::ok("disk", shown),
            };
            Finding::new(
                "disk",
                level,
                shown,
                format!(
                    "a lab's images and volumes take up to about 1.6 GB, plus build cache: under {} GB free, builds and databases fail midway",
                    WARN_BELOW / GIB
                ),
                Some("free space: `docker system df` shows what the engine holds, `docker system prune` removes stopped containers, unused networks, dangling images and build cache".into()),
            )
        }
        Space::Elsewhere(why) => Finding::new(
            "disk",
            Level::Unknown,
            format!("free disk in {root} (the engine's data) is unknown: {why}"),
            "",
            Some("on the engine's machine: `df -h` on that folder".into()),
        ),
        Space::Unreadable(e) => Finding::new(
            "disk",
            Level::Unknown,
            format!("free disk in {root} could not be read: {e}"),
            "",
            None,
        ),
    }
}

/// Free bytes for an unprivileged writer on the filesystem holding `path`.
pub fn free_bytes(path: &std::path::Path) -> Result<u64, String> {
    let s = rustix::fs::statvfs(path).map_err(|e| e.to_string())?;
    Ok(s.f_bavail.saturating_mul(s.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_decide_the_level() {
        let at = |b| finding("/var/lib/docker", &Space::Free(b)).level;
        assert_eq!(at(GIB), Level::Blocks);
        assert_eq!(at(3 * GIB), Level::Warn);
        assert_eq!(at(57 * GIB), Level::Ok);
        let f = finding("/var/lib/docker", &Space::Free(57 * GIB));
        assert_eq!(
            f.what,
            "61.2 GB free in /var/lib/docker (the engine's data)"
        );
        assert_eq!(
            finding(
                "/var/lib/docker",
                &Space::Elsewhere("the engine is remote".into())
            )
            .level,
            Level::Unknown
        );
    }

    #[test]
    fn statvfs_reads_this_machines_disk() {
        assert!(free_bytes(std::path::Path::new("/")).unwrap() > 0);
        assert!(free_bytes(std::path::Path::new("/nonexistent/x")).is_err());
    }
}

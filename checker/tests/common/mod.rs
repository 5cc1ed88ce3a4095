//! Helpers shared by the live tests (the tests may use the docker CLI; labcheck itself may not).
// Each test binary uses its own subset of these.
#![allow(dead_code)]

use std::process::Command;

use labcheck::probe::Timeouts;
use labcheck::target::Engine;

/// Run `docker <args>`, assert it succeeded, and return its trimmed stdout.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A runtime and labcheck's own connection to the engine. Without a reachable engine the test
/// fails here: live tests never skip.
pub fn engine() -> (tokio::runtime::Runtime, Engine) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let engine = rt
        .block_on(labcheck::target::connect(Timeouts::default()))
        .unwrap_or_else(|e| panic!("live tests need a reachable Docker engine: {e}"));
    (rt, engine)
}

/// What a test created, removed when it ends, also on panic: containers first, then networks,
/// volumes and images.
#[derive(Default)]
pub struct Cleanup {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
    pub images: Vec<String>,
}

impl Cleanup {
    pub fn containers<S: ToString>(names: impl IntoIterator<Item = S>) -> Cleanup {
        Cleanup {
            containers: names.into_iter().map(|s| s.to_string()).collect(),
            networks: vec![],
            volumes: vec![],
            images: vec![],
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let rm = |args: &[&str], names: &[String]| {
            if !names.is_empty() {
                let _ = Command::new("docker").args(args).args(names).output();
            }
        };
        rm(&["rm", "-f"], &self.containers);
        rm(&["network", "rm"], &self.networks);
        rm(&["volume", "rm", "-f"], &self.volumes);
        rm(&["rmi", "-f"], &self.images);
    }
}

/// The lock that every run publishing a lab's fixed host ports (8080, ...) holds, in tests,
/// scripts and by hand: `flock /tmp/compose-lab-live.lock <command>`.
pub const LIVE_LOCK: &str = "/tmp/compose-lab-live.lock";

/// The live lock, held until dropped (`None`: an ancestor process holds it for us).
pub struct LiveLock(Option<std::fs::File>);

/// Takes the live lock, waiting for whoever holds it. When the test run itself was started
/// under `flock /tmp/compose-lab-live.lock cargo test ...` (as the live tests' docs say), the
/// lock is held by an ancestor process: taking it again on a new file description would wait
/// for ourselves forever, so then it is only noted.
pub fn live_lock() -> LiveLock {
    use fs4::fs_std::FileExt;
    use std::os::unix::fs::MetadataExt;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LIVE_LOCK)
        .unwrap_or_else(|e| panic!("cannot open {LIVE_LOCK}: {e}"));
    let inode = file.metadata().unwrap().ino();
    if held_by_an_ancestor(inode) {
        return LiveLock(None);
    }
    if !matches!(file.try_lock_exclusive(), Ok(true)) {
        eprintln!("waiting for {LIVE_LOCK} (another live run publishes the labs' ports)");
        file.lock_exclusive()
            .unwrap_or_else(|e| panic!("cannot lock {LIVE_LOCK}: {e}"));
    }
    LiveLock(Some(file))
}

/// Does a process above this one hold a flock on the file with this inode (/proc/locks)?
fn held_by_an_ancestor(inode: u64) -> bool {
    let locks = std::fs::read_to_string("/proc/locks").unwrap_or_default();
    // "1: FLOCK  ADVISORY  WRITE 6133 fe:00:10010770 0 EOF"; a waiter's line has "->"
    let holders: Vec<u32> = locks
        .lines()
        .filter(|l| !l.contains("->"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let ino = f.get(5)?.rsplit(':').next()?.parse::<u64>().ok()?;
            (f.get(1) == Some(&"FLOCK") && ino == inode).then(|| f.get(4)?.parse().ok())?
        })
        .collect();
    let mut pid = std::process::id();
    while pid > 1 {
        if holders.contains(&pid) {
            return true;
        }
        // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
        match after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            Some(parent) => pid = parent,
            None => return false,
        }
    }
    false
}

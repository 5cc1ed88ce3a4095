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

//! Helpers shared by the live tests (the tests may use the docker CLI; labcheck itself may not).

use std::process::Command;

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

//! `labcheck reset` against live compose projects: the lab's project is taken down (volumes only
//! when asked), the folder is backed up and laid down again, and an unrelated project beside it
//! survives untouched. Also the refusals that need no engine.

mod common;

use std::path::Path;
use std::process::Command as Cli;

use assert_cmd::Command;
use common::docker;

const LAB: &str = r#"format_version = 1
id = "h-progress-demo"
title = "Reset demo"

[target]
kind = "compose"
services = ["app"]

[[checks]]
id = "app-running"
title = "app is running"
kind = "running"
service = "app"
"#;

/// A service with a named volume and a network of its own; no published port.
const COMPOSE: &str = r#"services:
  app:
    image: busybox
    command: ["sleep", "3600"]
    volumes: [data:/data]
    networks: [inner]
volumes:
  data:
networks:
  inner:
"#;

fn labs(root: &Path) -> std::path::PathBuf {
    let lab = root.join("labs/h-progress-demo");
    for (dir, text) in [
        ("starter", "# the starter\n"),
        ("solution", "# the solution\n"),
    ] {
        std::fs::create_dir_all(lab.join(dir)).unwrap();
        std::fs::write(
            lab.join(dir).join("compose.yaml"),
            format!("{text}{COMPOSE}"),
        )
        .unwrap();
    }
    std::fs::write(lab.join("lab.toml"), LAB).unwrap();
    root.join("labs")
}

fn labcheck(labs: &Path) -> Command {
    let mut c = Command::cargo_bin("labcheck").unwrap();
    c.env("LABCHECK_LABS", labs).env("NO_COLOR", "1");
    c
}

fn up(project: &str, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("compose.yaml"), COMPOSE).unwrap();
    let f = dir.join("compose.yaml");
    docker(&[
        "compose",
        "-f",
        f.to_str().unwrap(),
        "-p",
        project,
        "up",
        "-d",
        "--wait",
    ]);
}

fn ids(kind: &str, project: &str) -> Vec<String> {
    let filter = format!("label=com.docker.compose.project={project}");
    let args: Vec<&str> = match kind {
        "container" => vec!["ps", "-aq", "--filter", &filter],
        "network" => vec!["network", "ls", "-q", "--filter", &filter],
        _ => vec!["volume", "ls", "-q", "--filter", &filter],
    };
    let out = docker(&args);
    let mut v: Vec<String> = out.lines().map(String::from).collect();
    v.sort();
    v
}

/// What a project has on the engine: containers, networks, volumes.
fn state(project: &str) -> [Vec<String>; 3] {
    ["container", "network", "volume"].map(|k| ids(k, project))
}

/// `docker compose down -v` of the test's own projects, also on panic.
struct Down(Vec<(String, std::path::PathBuf)>);

impl Drop for Down {
    fn drop(&mut self) {
        for (p, dir) in &self.0 {
            let _ = Cli::new("docker")
                .args(["compose", "-f"])
                .arg(dir.join("compose.yaml"))
                .args(["-p", p, "down", "-v"])
                .output();
        }
    }
}

#[test]
fn live_reset_takes_down_only_its_project_and_lays_down_the_starter() {
    let root = tempfile::tempdir().unwrap();
    let labs = labs(root.path());
    let (a, b) = ("h-progress-reset-a", "h-progress-reset-b");
    let (dir_a, dir_b) = (root.path().join("a"), root.path().join("other"));
    let _down = Down(vec![(a.into(), dir_a.clone()), (b.into(), dir_b.clone())]);
    up(a, &dir_a);
    up(b, &dir_b);
    std::fs::write(dir_a.join("notes.txt"), "mine").unwrap();
    let before_b = state(b);
    assert!(before_b.iter().all(|v| !v.is_empty()), "{before_b:?}");

    // No terminal, no --yes: the volume is kept, and the output says so.
    let out = labcheck(&labs)
        .args(["reset", "h-progress-demo", "-p", a, "--dir"])
        .arg(&dir_a)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = regex::Regex::new(r"backup-\d{8}T\d{6}Z")
        .unwrap()
        .replace_all(
            &stdout.replace(
                &root.path().canonicalize().unwrap().display().to_string(),
                "[TEMP]",
            ),
            "backup-[STAMP]",
        )
        .into_owned();
    insta::assert_snapshot!("reset_without_yes", shown);
    let [c, n, v] = state(a);
    assert!(c.is_empty() && n.is_empty(), "{c:?} {n:?}");
    assert_eq!(v.len(), 1, "kept without --yes");
    assert_eq!(state(b), before_b, "the other project is untouched");
    assert_eq!(
        std::fs::read_to_string(dir_a.join("compose.yaml")).unwrap(),
        format!("# the starter\n{COMPOSE}")
    );
    assert!(!dir_a.join("notes.txt").exists());
    let backup = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("a.backup-"))
        .expect("a backup beside the folder");
    assert_eq!(
        std::fs::read_to_string(backup.join("notes.txt")).unwrap(),
        "mine"
    );

    // With --yes, to the solution: the volume goes too; the other project still stands.
    let out = labcheck(&labs)
        .args([
            "reset",
            "h-progress-demo",
            "--to",
            "solution",
            "--yes",
            "-p",
            a,
            "--dir",
        ])
        .arg(&dir_a)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("  removed volumes: {a}_data\n")),
        "{stdout}"
    );
    assert!(state(a).iter().all(|v| v.is_empty()), "{:?}", state(a));
    assert_eq!(state(b), before_b, "the other project is untouched");
    assert!(std::fs::read_to_string(dir_a.join("compose.yaml"))
        .unwrap()
        .starts_with("# the solution"));
}

#[test]
fn reset_refuses_the_labs_own_starter_and_a_folder_that_is_no_lab() {
    let root = tempfile::tempdir().unwrap();
    let labs = labs(root.path());
    let starter = labs.join("h-progress-demo/starter");
    let out = labcheck(&labs)
        .args(["reset", "h-progress-demo", "--dir"])
        .arg(&starter)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is the lab's own starter (")
            && stderr.contains("labcheck has no other copy of it"),
        "{stderr}"
    );
    let home = root.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join(".bashrc"), "x").unwrap();
    let out = labcheck(&labs)
        .args(["reset", "h-progress-demo", "--dir"])
        .arg(&home)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not look like a lab folder"),
        "{stderr}"
    );
    assert!(home.join(".bashrc").exists());
}

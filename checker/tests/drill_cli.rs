//! The drills on the command line: the flag says what it does, and `explain` marks the drills
//! (no engine needed).

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn labcheck() -> Command {
    let mut c = Command::cargo_bin("labcheck").unwrap();
    c.env_remove("LABCHECK_LABS")
        .env("DOCKER_HOST", "unix:///nonexistent.sock");
    c
}

fn repo_labs() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../labs")
}

#[test]
fn the_drill_flag_warns_that_it_deletes_data() {
    labcheck()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("--drill").and(predicate::str::contains("DELETES")));
}

#[test]
fn explain_marks_the_drills() {
    let out = labcheck()
        .args(["explain", "phase-6", "--lab-dir"])
        .arg(repo_labs())
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let heal = text
        .lines()
        .skip_while(|l| !l.contains("heal-killed"))
        .nth(1)
        .unwrap_or_default();
    assert!(heal.contains("DRILL:"), "{text}");
    let scaled = text
        .lines()
        .skip_while(|l| !l.contains("backend-scaled"))
        .nth(1)
        .unwrap_or_default();
    assert!(!scaled.contains("DRILL"), "{text}");
}

#[test]
fn a_drill_cannot_hide_behind_a_normal_check() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("demo")).unwrap();
    std::fs::write(
        dir.path().join("demo/lab.toml"),
        r#"format_version = 1
id = "demo"
title = "Demo"
[target]
kind = "compose"
services = ["db"]
[[checks]]
id = "drill"
title = "d"
kind = "persistence"
service = "db"
marker_table = "m"
[[checks]]
id = "after"
title = "a"
kind = "running"
service = "db"
needs = ["drill"]
"#,
    )
    .unwrap();
    labcheck()
        .args(["lint", "--lab-dir"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "check `after` needs the drill `drill`",
        ));
}

//! `labcheck doctor` against the real engine: a lab port held by another container, an image
//! the lab needs that is missing, a project of the lab from another folder made by Compose v1,
//! and DOCKER_HOST pointing at nothing; each reported with its fix. Run under the live lock
//! (the first test publishes phase 3's port 8080):
//! `flock /tmp/compose-lab-live.lock cargo test -p labcheck --test live_doctor`.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::{docker, engine, Cleanup};
use serde_json::Value;

fn repo_labs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../labs")
}

/// labcheck with the caller's engine, no colour, and the labs folder given.
fn doctor(labs: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("labcheck")
        .unwrap()
        .env_remove("LABCHECK_LABS")
        .env("NO_COLOR", "1")
        .arg("doctor")
        .args(args)
        .arg("--lab-dir")
        .arg(labs)
        .current_dir(labs)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn findings(json: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(v["schema"], "labcheck-doctor");
    v["findings"].as_array().unwrap().clone()
}

/// The finding of `topic` whose `what` contains `text`.
fn find<'a>(all: &'a [Value], topic: &str, text: &str) -> &'a Value {
    all.iter()
        .find(|f| f["topic"] == topic && f["what"].as_str().unwrap().contains(text))
        .unwrap_or_else(|| panic!("no {topic} finding with `{text}` in {all:#?}"))
}

#[test]
fn the_engine_alone_is_well() {
    let (_rt, _engine) = engine();
    let (code, out) = doctor(&repo_labs(), &["--format", "json"]);
    let all = findings(&out);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        find(&all, "engine", "labcheck talks to unix://")["level"],
        "ok"
    );
    assert_eq!(
        find(&all, "engine", "the engine is Docker Engine")["level"],
        "ok"
    );
    assert_eq!(find(&all, "clock", "agrees")["level"], "ok");
    assert!(find(&all, "disk", "GB free in")["level"] != "unknown");
    assert!(
        all.iter().all(|f| f["topic"] != "port"),
        "no lab, no ports: {all:#?}"
    );
}

#[test]
fn a_container_on_a_labs_port_is_named_with_its_fix() {
    let (_rt, _engine) = engine();
    let name = format!("lcdoc-squatter-{}", std::process::id());
    let _c = Cleanup::containers([&name]);
    docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "-p",
        "127.0.0.1:8080:8080",
        "busybox:latest",
        "sleep",
        "120",
    ]);
    let (code, out) = doctor(&repo_labs(), &["phase-3", "--format", "json"]);
    let all = findings(&out);
    assert_eq!(code, 1, "{out}");
    let port = find(
        &all,
        "port",
        &format!("127.0.0.1:8080 (web) is taken by the container {name}"),
    );
    assert_eq!(port["level"], "blocks");
    assert_eq!(port["fix"], format!("stop it: `docker stop {name}`"));

    let (code, human) = doctor(&repo_labs(), &["phase-3"]);
    assert_eq!(code, 1);
    assert!(
        human.contains(&format!(
            "✗ host port 127.0.0.1:8080 (web) is taken by the container {name}:"
        )) && human.contains(&format!("    fix: stop it: `docker stop {name}`")),
        "{human}"
    );

    // The lab's own web on its port is the stack up already, not a conflict.
    docker(&["rm", "-f", &name]);
    let own = format!("lcdoc-own-web-{}", std::process::id());
    let _own = Cleanup::containers([&own]);
    docker(&[
        "run",
        "-d",
        "--name",
        &own,
        "--label",
        "com.docker.compose.project=phase-3",
        "--label",
        "com.docker.compose.service=web",
        "-p",
        "127.0.0.1:8080:8080",
        "busybox:latest",
        "sleep",
        "120",
    ]);
    let (_, out) = doctor(&repo_labs(), &["phase-3", "--format", "json"]);
    let all = findings(&out);
    let port = find(
        &all,
        "port",
        &format!("127.0.0.1:8080 (web) is published by {own}"),
    );
    assert_eq!(port["level"], "ok");
}

/// A lab in a temp checkout: `db` names an image that does not exist, which the checkout's
/// kit script lists; `web` is built FROM busybox (present).
fn missing_image_lab() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let lab = root.path().join("labs/doc-missing");
    std::fs::create_dir_all(lab.join("solution")).unwrap();
    std::fs::create_dir_all(root.path().join("scripts")).unwrap();
    let write = |p: PathBuf, text: &str| std::fs::write(p, text).unwrap();
    write(
        lab.join("lab.toml"),
        &include_str!("fixtures/demo-lab.toml").replace("\"demo\"", "\"doc-missing\""),
    );
    write(
        lab.join("solution/compose.yaml"),
        "name: lcdoc-missing\nservices:\n  web:\n    build: .\n  db:\n    image: compose-lab-doctor-missing:1\n",
    );
    write(lab.join("solution/Dockerfile"), "FROM busybox:latest\n");
    write(
        root.path().join("scripts/images.sh"),
        "KIT=(\n  \"missing|compose-lab-doctor-missing:1|a test image\"\n)\n",
    );
    root
}

#[test]
fn a_missing_image_is_reported_with_the_command_that_builds_it() {
    let (_rt, _engine) = engine();
    let out = std::process::Command::new("docker")
        .args(["image", "inspect", "compose-lab-doctor-missing:1"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the test image must not exist");
    let root = missing_image_lab();
    let labs = root.path().join("labs");
    let (code, out) = doctor(&labs, &["doc-missing", "--format", "json"]);
    let all = findings(&out);
    assert_eq!(code, 1, "{out}");
    let image = find(
        &all,
        "image",
        "compose-lab-doctor-missing:1 is missing (needed by service db)",
    );
    assert_eq!(image["level"], "blocks");
    assert!(
        image["fix"]
            .as_str()
            .unwrap()
            .contains("`bash scripts/images.sh`"),
        "{image}"
    );
    assert!(
        !out.contains("busybox:latest is missing"),
        "the Dockerfile's FROM image is here: {out}"
    );
}

#[test]
fn a_compose_v1_project_of_the_lab_from_another_folder_warns() {
    let (_rt, _engine) = engine();
    let root = missing_image_lab();
    let labs = root.path().join("labs");
    let elsewhere = root.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let elsewhere = elsewhere.to_str().unwrap();
    let pid = std::process::id();
    let names: Vec<String> = ["web", "db"]
        .iter()
        .map(|s| format!("lcdoc-missing_{s}_{pid}"))
        .collect();
    let _c = Cleanup::containers(&names);
    for (name, service) in names.iter().zip(["web", "db"]) {
        let label = |k: &str, v: &str| format!("{k}={v}");
        docker(&[
            "create",
            "--name",
            name,
            "--label",
            &label("com.docker.compose.project", "lcdoc-missing"),
            "--label",
            &label("com.docker.compose.service", service),
            "--label",
            &label("com.docker.compose.project.working_dir", elsewhere),
            "--label",
            &label("com.docker.compose.version", "1.29.2"),
            "busybox:latest",
            "true",
        ]);
    }
    let (_, out) = doctor(&labs, &["doc-missing", "--format", "json"]);
    let all = findings(&out);
    let project = find(
        &all,
        "project",
        &format!("lcdoc-missing of this lab runs from {elsewhere}, not from this folder"),
    );
    assert_eq!(project["level"], "warn");
    let fix = project["fix"].as_str().unwrap();
    assert!(fix.contains(&format!("cd {elsewhere}")), "{fix}");
    assert_eq!(
        find(&all, "compose", "Compose 1.29.2 (v1)")["level"],
        "warn"
    );
}

#[test]
fn docker_host_pointing_at_nothing_is_the_one_finding_with_its_fix() {
    let out = Command::cargo_bin("labcheck")
        .unwrap()
        .env("DOCKER_HOST", "tcp://127.0.0.1:9")
        .env("NO_COLOR", "1")
        .args(["doctor", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let all = findings(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(all.len(), 1, "{all:#?}");
    let f = find(
        &all,
        "engine",
        "the engine at tcp://127.0.0.1:9 does not answer",
    );
    assert_eq!(f["level"], "blocks");
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.contains("sudo systemctl start docker")
            && fix.contains("DOCKER_HOST (now: tcp://127.0.0.1:9)"),
        "{fix}"
    );
}

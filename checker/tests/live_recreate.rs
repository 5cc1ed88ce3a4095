//! Live: the API-only `down`/`up` of the persistence drill (probe/recreate.rs) against a real
//! compose project. A service on two networks with an alias, a named and an anonymous volume:
//! after a plain recreate the named volume's data is there and the anonymous one is empty, the
//! networks and alias are back, and compose still sees the container as its own; after the
//! `down -v` recreate the named volume is empty and keeps its compose labels; a volume still
//! used elsewhere gives a clear error with the way back. Then the drill itself, end to end,
//! fails on a stack whose data is not in a named volume.
//! With no reachable engine these tests FAIL: they never skip.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use assert_cmd::Command as Cli;
use bollard::{ClientVersion, Docker};
use labcheck::drill::recreate::{recreate, Down};
use labcheck::probe::Timeouts;

mod common;
use common::{docker, Cleanup};

/// A compose project in a temp folder; `down -v` on drop.
struct Project {
    name: String,
    dir: tempfile::TempDir,
}

impl Project {
    fn up(name: &str, compose: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
        let p = Project {
            name: name.to_string(),
            dir,
        };
        p.compose(&["up", "-d", "--wait"]);
        p
    }

    /// `docker compose -p <name> <args>`; returns stdout + stderr (compose reports on stderr).
    fn compose(&self, args: &[&str]) -> String {
        let out = Command::new("docker")
            .args(["compose", "-p", &self.name])
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("docker CLI");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "compose {args:?}: {text}");
        text
    }

    fn container(&self, service: &str) -> String {
        format!("{}-{service}-1", self.name)
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["compose", "-p", &self.name, "down", "-v", "-t", "1"])
            .current_dir(self.dir.path())
            .output();
    }
}

fn sh(container: &str, script: &str) -> String {
    docker(&["exec", container, "sh", "-c", script])
}

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn live_recreate_is_compose_down_and_up_for_one_service() {
    let name = format!("lc-recreate-{}", std::process::id());
    let p = Project::up(
        &name,
        r#"
services:
  store:
    image: alpine
    command: ["sleep", "3600"]
    init: true
    volumes:
      - keep:/keep
      - /anon
    networks:
      front:
      back:
        aliases: [vault]
    healthcheck:
      test: ["CMD", "test", "-d", "/keep"]
      interval: 1s
  peer:
    image: alpine
    command: ["sleep", "3600"]
    init: true
    networks: [back]
networks:
  front:
  back:
volumes:
  keep:
"#,
    );
    let store = p.container("store");
    let peer = p.container("peer");
    sh(&store, "echo kept > /keep/f && echo lost > /anon/f");
    let old_id = docker(&["inspect", "-f", "{{.Id}}", &store]);

    // An engine spoken to as API 1.41 (one network at create, the rest connected after).
    let old_api = Docker::connect_with_socket(
        "/var/run/docker.sock",
        30,
        &ClientVersion {
            major_version: 1,
            minor_version: 41,
        },
    )
    .unwrap();
    let t = Timeouts::default();
    let removed = recreate(&old_api, &t, &old_id, Down::KeepVolumes, LIMIT)
        .await
        .expect("recreate keeping volumes");
    assert!(removed.is_empty(), "{removed:?}");

    let new_id = docker(&["inspect", "-f", "{{.Id}}", &store]);
    assert_ne!(new_id, old_id, "the container is a new one");
    assert_eq!(
        sh(&store, "cat /keep/f; ls /anon | wc -l"),
        "kept\n0",
        "the named volume kept its data, the anonymous one started empty"
    );
    let nets = docker(&[
        "inspect",
        "-f",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
        &store,
    ]);
    assert_eq!(nets, format!("{name}_back {name}_front"));
    // The peer finds it again by its alias and by its service name.
    assert!(!sh(&peer, "getent hosts vault").is_empty());
    assert!(!sh(&peer, "getent hosts store").is_empty());
    let up = p.compose(&["up", "-d", "--wait"]);
    assert!(
        !up.contains("Recreate") && !up.contains("Created"),
        "compose must see the container as its own and up to date:\n{up}"
    );

    // `down -v`: the project's named volume is removed and created again, empty, still compose's.
    let removed = recreate(
        &Docker::connect_with_local_defaults().unwrap(),
        &t,
        &new_id,
        Down::RemoveVolumes,
        LIMIT,
    )
    .await
    .expect("recreate removing volumes");
    assert_eq!(removed, vec![format!("{name}_keep")]);
    assert_eq!(sh(&store, "ls /keep | wc -l"), "0");
    assert_eq!(
        docker(&[
            "volume",
            "inspect",
            "-f",
            "{{index .Labels \"com.docker.compose.project\"}}",
            &format!("{name}_keep")
        ]),
        name
    );
}

#[tokio::test]
async fn live_recreate_says_who_holds_the_volume_and_how_to_get_back() {
    let name = format!("lc-recreate-busy-{}", std::process::id());
    let p = Project::up(
        &name,
        r#"
services:
  store:
    image: alpine
    command: ["sleep", "3600"]
    init: true
    volumes: [keep:/keep]
volumes:
  keep:
"#,
    );
    let holder = format!("{name}-holder");
    // Dropped before `p`: the holder goes first, so `down -v` can remove the volume.
    let _holder = Cleanup::containers([holder.clone()]);
    docker(&[
        "run",
        "-d",
        "--name",
        &holder,
        "-v",
        &format!("{name}_keep:/k"),
        "alpine",
        "sleep",
        "3600",
    ]);
    let id = docker(&["inspect", "-f", "{{.Id}}", &p.container("store")]);
    let d = Docker::connect_with_local_defaults().unwrap();
    let err = recreate(&d, &Timeouts::default(), &id, Down::RemoveVolumes, LIMIT)
        .await
        .expect_err("the volume is in use");
    assert!(err.contains(&format!("still used by {holder}")), "{err}");
    assert!(err.contains("`docker compose up -d`"), "{err}");
    // What the message promises brings it back.
    let up = p.compose(&["up", "-d", "--wait"]);
    assert!(
        up.contains("Started") || up.contains("Healthy") || up.contains("Running"),
        "{up}"
    );
}

#[test]
fn live_the_persistence_drill_fails_when_data_is_not_in_a_named_volume() {
    let name = format!("lc-drill-anon-{}", std::process::id());
    // PostgreSQL's data directory left to the image's VOLUME: an anonymous volume per container.
    let _p = Project::up(
        &name,
        r#"
services:
  db:
    image: postgres:15-alpine
    environment:
      POSTGRES_USER: lab
      POSTGRES_PASSWORD: lab
      POSTGRES_DB: lab
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U lab -d lab"]
      interval: 1s
      retries: 30
"#,
    );
    let labs = tempfile::tempdir().unwrap();
    let lab = labs.path().join("anon");
    std::fs::create_dir_all(&lab).unwrap();
    std::fs::write(
        lab.join("lab.toml"),
        r#"format_version = 1
id = "anon"
title = "Data in an anonymous volume"
[target]
kind = "compose"
services = ["db"]
[[checks]]
id = "data-survives-restart"
title = "data survives down/up and is gone after down -v"
kind = "persistence"
service = "db"
marker_table = "labcheck_marker"
"#,
    )
    .unwrap();
    let run = |drill: bool| {
        let mut c = Cli::cargo_bin("labcheck").unwrap();
        c.env_remove("LABCHECK_LABS")
            .args(["anon", "--format", "json", "-p", &name, "--lab-dir"])
            .arg(labs.path())
            .timeout(Duration::from_secs(180));
        if drill {
            c.arg("--drill");
        }
        c.assert()
    };
    // Without the flag the drill is skipped and nothing changes.
    let before = docker(&["inspect", "-f", "{{.Id}}", &format!("{name}-db-1")]);
    run(false).code(0);
    assert_eq!(
        docker(&["inspect", "-f", "{{.Id}}", &format!("{name}-db-1")]),
        before
    );
    let out = run(true).code(1);
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let check = &json["checks"][0];
    assert_eq!(check["status"], "fail", "{json:#}");
    let message = check["message"].as_str().unwrap();
    assert!(message.contains("down"), "{message}");
    let evidence = check["evidence"].to_string();
    assert!(evidence.contains("created it again"), "{evidence}");
    assert!(Path::new(&lab.join("lab.toml")).exists());
}

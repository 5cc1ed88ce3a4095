//! Live: `labcheck <lab>` finds a stack through a docker CLI context (--context, and the current
//! context of `docker context use`) and through ssh:// (a tunnel to the local engine via an
//! sshd on loopback, scripts/grade-sshd.sh), and discovery sees every container of a scaled
//! service.
//!
//! The stack is the test's own: `app` (busybox httpd, published on a free 127.0.0.1 port) and
//! `worker` (two replicas). Through ssh the lab's http check must go over the tunnel's
//! forwarded port, as `labcheck grade` does: the ssh lab's URL names a port where nothing
//! listens here, and only the tunnel (its far end pointed at the app's port) reaches the app.
//! The docker CLI sets the stack and the context up (the product never calls it); everything is
//! removed on drop. With no reachable engine these tests FAIL: they never skip.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The test's compose project; `down -v` on drop.
struct Project {
    name: String,
    file: PathBuf,
}

impl Project {
    fn compose(&self) -> Command {
        let mut c = Command::new("docker");
        c.args(["compose", "-p", &self.name, "-f"]).arg(&self.file);
        c
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self
            .compose()
            .args(["down", "-v", "--timeout", "1"])
            .output();
    }
}

/// Runs `scripts/grade-sshd.sh stop DIR` on drop.
struct Sshd(PathBuf);

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repo().join("scripts/grade-sshd.sh"))
            .arg("stop")
            .arg(&self.0)
            .output();
    }
}

const COMPOSE: &str = r#"services:
  app:
    image: busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo hello from app > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports:
      - "127.0.0.1:PORT:8080"
  worker:
    image: busybox:latest
    command: ["sleep", "3600"]
    deploy:
      replicas: 2
"#;

const LAB: &str = r#"format_version = 1
id = "ID"
title = "Reached through a context or ssh"

[target]
kind = "compose"
services = ["app", "worker"]

[[checks]]
id = "app-running"
title = "app is running"
kind = "running"
service = "app"

[[checks]]
id = "worker-replicas"
title = "worker has two containers"
kind = "replicas"
service = "worker"
min = 2
needs = ["app-running"]

[[checks]]
id = "app-http"
title = "app answers on its published port"
kind = "http"
url = "http://127.0.0.1:PORT/"
status = 200
body_contains = "hello from app"
needs = ["app-running"]
"#;

/// `labcheck <lab> --format json` with the given arguments and environment; its exit code and
/// report.
fn labcheck(
    labs: &Path,
    lab: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (i32, serde_json::Value) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_labcheck"));
    for v in ["DOCKER_HOST", "DOCKER_CONTEXT", "LABCHECK_HTTP_HOST"] {
        c.env_remove(v);
    }
    c.envs(env.iter().copied())
        .args([lab, "--format", "json", "--lab-dir"])
        .arg(labs)
        .args(args);
    let out = c.output().expect("labcheck runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: no json report\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// Every check passed, and the replicas check saw both workers.
fn assert_green(r: &serde_json::Value, code: i32) {
    let statuses: Vec<(String, String)> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].to_string(), c["status"].to_string()))
        .collect();
    assert!(
        code == 0 && statuses.iter().all(|(_, s)| s == "\"pass\""),
        "exit {code}: {statuses:?}\n{r:#}"
    );
    let replicas = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "worker-replicas")
        .unwrap();
    assert!(
        replicas["message"]
            .as_str()
            .unwrap()
            .starts_with("2 containers of worker are running"),
        "{replicas:#}"
    );
}

#[test]
fn a_stack_is_found_through_a_context_and_through_ssh() {
    let tmp = tempfile::Builder::new().prefix("lce-").tempdir().unwrap();
    let t = tmp.path();
    let port = free_port().to_string();
    // Where the ssh lab looks: nothing listens there on this machine.
    let unused = std::iter::repeat_with(free_port)
        .map(|p| p.to_string())
        .find(|p| *p != port)
        .unwrap();
    let labs = t.join("labs");
    for (id, p) in [("engine", &port), ("engine-ssh", &unused)] {
        std::fs::create_dir_all(labs.join(id)).unwrap();
        let text = LAB.replace("ID", id).replace("PORT", p);
        std::fs::write(labs.join(id).join("lab.toml"), text).unwrap();
    }
    std::fs::write(t.join("compose.yaml"), COMPOSE.replace("PORT", &port)).unwrap();
    let project = Project {
        name: format!("lce-{}", std::process::id()),
        file: t.join("compose.yaml"),
    };
    let up = project
        .compose()
        .args(["up", "-d", "--wait", "--wait-timeout", "60"])
        .output()
        .expect("docker compose");
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );

    // A docker CLI config of the test's own, with a context for the local engine's socket.
    let config = t.join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    let cfg = config.to_str().unwrap();
    let docker = |args: &[&str]| {
        let out = Command::new("docker")
            .env("DOCKER_CONFIG", cfg)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "docker {args:?}: {out:?}");
    };
    docker(&[
        "context",
        "create",
        "lce-local",
        "--docker",
        "host=unix:///var/run/docker.sock",
    ]);
    let env = [("DOCKER_CONFIG", cfg)];
    let by_project = ["--project", project.name.as_str()];

    let (code, r) = labcheck(
        &labs,
        "engine",
        &[&by_project[..], &["--context", "lce-local"]].concat(),
        &env,
    );
    assert_eq!(
        r["engine"]["endpoint"], "unix:///var/run/docker.sock (context lce-local)",
        "{r:#}"
    );
    assert_eq!(r["stack"]["project"], project.name.as_str());
    assert_green(&r, code);

    // The current context (`docker context use`) is used when nothing else is said.
    docker(&["context", "use", "lce-local"]);
    let (code, r) = labcheck(&labs, "engine", &by_project, &env);
    assert_eq!(
        r["engine"]["endpoint"], "unix:///var/run/docker.sock (context lce-local)",
        "{r:#}"
    );
    assert_green(&r, code);

    // ssh://: an sshd on loopback in front of this machine's engine socket. ssh reads keys and
    // known hosts from the user's home, not $HOME, so a wrapper named `ssh` first on PATH adds
    // the test's own; it also points the far end of the forwarded http port at the app's port.
    let sshd_dir = t.join("ssh");
    let sshd_port = free_port().to_string();
    let out = Command::new("bash")
        .arg(repo().join("scripts/grade-sshd.sh"))
        .arg("start")
        .arg(&sshd_dir)
        .args(["127.0.0.8", &sshd_port])
        .output()
        .unwrap();
    let _sshd = Sshd(sshd_dir.clone());
    assert!(out.status.success(), "sshd: {out:?}");
    let vars: std::collections::BTreeMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let bin = t.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let wrapper = bin.join("ssh");
    std::fs::write(
        &wrapper,
        format!(
            r#"#!/bin/sh
n=$#
for a in "$@"; do
  case "$a" in *:{unused}:127.0.0.1:{unused}) a="${{a%:{unused}}}:{port}" ;; esac
  set -- "$@" "$a"
done
shift "$n"
exec /usr/bin/ssh -i '{}' -o UserKnownHostsFile='{}' -o StrictHostKeyChecking=yes "$@"
"#,
            vars["SSH_IDENTITY"], vars["SSH_KNOWN_HOSTS"]
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let host = vars["SSH_ENDPOINT"].clone();
    let (code, r) = labcheck(
        &labs,
        "engine-ssh",
        &[&by_project[..], &["--host", &host]].concat(),
        &[("DOCKER_CONFIG", cfg), ("PATH", &path)],
    );
    assert_eq!(r["engine"]["endpoint"], host.as_str(), "{r:#}");
    // app-http passed, so it went through the tunnel: 127.0.0.1:{unused} has nothing.
    assert_green(&r, code);
}

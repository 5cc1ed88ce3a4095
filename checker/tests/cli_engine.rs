//! Which engine `labcheck <lab>` connects to (--host, --context, DOCKER_HOST, DOCKER_CONTEXT,
//! the docker CLI's current context) and the clear exit-2 messages when it cannot. No engine
//! needed: every endpoint here is one that does not answer.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use sha2::Digest;

const LAB: &str = r#"format_version = 1
id = "demo"
title = "Demo lab"

[target]
kind = "compose"
services = ["web"]

[[checks]]
id = "web-running"
title = "web is running"
kind = "running"
service = "web"
"#;

/// A labs folder with the demo lab and a docker CLI config folder, both temporary.
struct Setup {
    labs: tempfile::TempDir,
    config: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let labs = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(labs.path().join("demo")).unwrap();
        std::fs::write(labs.path().join("demo/lab.toml"), LAB).unwrap();
        Setup {
            labs,
            config: tempfile::tempdir().unwrap(),
        }
    }

    /// A context as `docker context create NAME --docker host=HOST` writes it.
    fn context(&self, name: &str, host: &str) -> &Setup {
        let digest: String = sha2::Sha256::digest(name.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let meta = self.config.path().join("contexts/meta").join(digest);
        std::fs::create_dir_all(&meta).unwrap();
        let json = serde_json::json!({"Name": name, "Metadata": {},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}}});
        std::fs::write(meta.join("meta.json"), json.to_string()).unwrap();
        self
    }

    fn current(&self, name: &str) -> &Setup {
        let json = serde_json::json!({"auths": {}, "currentContext": name});
        std::fs::write(self.config.path().join("config.json"), json.to_string()).unwrap();
        self
    }

    /// `labcheck demo` with only this setup's environment: no DOCKER_* from outside.
    fn labcheck(&self) -> Command {
        let mut c = Command::cargo_bin("labcheck").unwrap();
        for v in [
            "DOCKER_HOST",
            "DOCKER_CONTEXT",
            "DOCKER_TLS_VERIFY",
            "DOCKER_CERT_PATH",
            "LABCHECK_LABS",
            "LABCHECK_HTTP_HOST",
        ] {
            c.env_remove(v);
        }
        c.env("DOCKER_CONFIG", self.config.path())
            .args(["demo", "--lab-dir"])
            .arg(self.labs.path());
        c
    }
}

fn fails_with(cmd: &mut Command, says: &[&str]) {
    let out = cmd.assert().code(2).stdout(predicate::str::is_empty());
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    for s in says {
        assert!(err.contains(s), "stderr lacks {s:?}:\n{err}");
    }
}

#[test]
fn a_context_that_does_not_exist_is_named_with_where_it_came_from() {
    let s = Setup::new();
    fails_with(
        s.labcheck().args(["--context", "ghost"]),
        &[
            "context `ghost` does not exist",
            "docker context ls",
            "named by --context",
        ],
    );
    fails_with(
        s.labcheck().env("DOCKER_CONTEXT", "ghost"),
        &["context `ghost` does not exist", "named by DOCKER_CONTEXT"],
    );
    s.current("ghost");
    fails_with(
        &mut s.labcheck(),
        &["context `ghost` does not exist", "config.json"],
    );
}

#[test]
fn the_engine_is_chosen_in_the_docker_clis_order() {
    let s = Setup::new();
    s.context("flag", "unix:///nonexistent-flag.sock")
        .context("env", "unix:///nonexistent-env.sock")
        .context("current", "unix:///nonexistent-current.sock")
        .current("current");
    let at = |sock: &str| format!("cannot reach the Docker daemon at unix:///{sock}.sock");
    fails_with(
        &mut s.labcheck(),
        &[
            &at("nonexistent-current"),
            "check the context `current` (from currentContext in",
        ],
    );
    fails_with(
        s.labcheck().env("DOCKER_CONTEXT", "env"),
        &[&at("nonexistent-env"), "(from DOCKER_CONTEXT)"],
    );
    fails_with(
        s.labcheck()
            .env("DOCKER_CONTEXT", "env")
            .env("DOCKER_HOST", "unix:///nonexistent-host.sock"),
        &[
            &at("nonexistent-host"),
            "check DOCKER_HOST (now: unix:///nonexistent-host.sock)",
        ],
    );
    fails_with(
        s.labcheck()
            .env("DOCKER_HOST", "unix:///nonexistent-host.sock")
            .args(["--context", "flag"]),
        &[&at("nonexistent-flag"), "(from --context)"],
    );
    fails_with(
        s.labcheck()
            .env("DOCKER_HOST", "unix:///nonexistent-host.sock")
            .args(["-H", "unix:///nonexistent-opt.sock"]),
        &[&at("nonexistent-opt"), "check --host"],
    );
    // as with docker: --host and --context together are a usage error
    fails_with(
        s.labcheck().args(["-H", "unix:///x.sock", "-c", "flag"]),
        &["cannot be used with"],
    );
}

#[test]
fn a_missing_tls_file_is_named() {
    let s = Setup::new();
    let certs = s.config.path().join("certs");
    fails_with(
        s.labcheck()
            .env("DOCKER_HOST", "tcp://127.0.0.1:1")
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", &certs),
        &[
            "tcp://127.0.0.1:1 (TLS): the TLS ca file",
            &format!("{}", Path::new(&certs).join("ca.pem").display()),
            "does not exist",
            "DOCKER_HOST (now: tcp://127.0.0.1:1)",
        ],
    );
}

#[test]
fn an_ssh_host_that_refuses_is_one_clear_message() {
    let s = Setup::new();
    // Nothing listens on port 1: ssh is refused at once.
    fails_with(
        s.labcheck().args(["--host", "ssh://nobody@127.0.0.1:1"]),
        &[
            "cannot reach the Docker daemon at ssh://nobody@127.0.0.1:1",
            "ssh to ssh://nobody@127.0.0.1:1 failed",
            "refused",
            "check --host (now: ssh://nobody@127.0.0.1:1)",
        ],
    );
    // the same from a context
    s.context("remote", "ssh://nobody@127.0.0.1:1");
    fails_with(
        s.labcheck().env("DOCKER_CONTEXT", "remote"),
        &["ssh to ssh://nobody@127.0.0.1:1 failed", "refused"],
    );
}

#[test]
fn a_host_labcheck_cannot_use_is_named() {
    let s = Setup::new();
    fails_with(
        s.labcheck()
            .env("DOCKER_HOST", "npipe:////./pipe/docker_engine"),
        &[
            "DOCKER_HOST (now: npipe:////./pipe/docker_engine)",
            "not an endpoint labcheck knows",
        ],
    );
}

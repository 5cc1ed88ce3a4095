//! `labcheck doctor`'s report on canned findings, pinned with insta: the human form (symbols,
//! the fix indented, text from the engine made inert) and the versioned JSON.

use labcheck::doctor::{human, wire, Diagnosis, Finding, Level};

fn canned() -> Diagnosis {
    Diagnosis {
        lab: Some("phase-3".into()),
        endpoint: "unix:///var/run/docker.sock".into(),
        chosen_by: "DOCKER_HOST (now: unset)".into(),
        findings: vec![
            Finding::ok("engine", "labcheck talks to unix:///var/run/docker.sock through the unix socket /var/run/docker.sock, chosen by DOCKER_HOST (now: unset)"),
            Finding::ok("engine", "the engine is Docker Engine 26.1.5 (API 1.45) on Debian GNU/Linux 12 (bookworm)"),
            Finding::new("clock", Level::Warn, "the engine's clock is 1m 30s behind this machine's", "TLS certificates are judged by the clock", Some("sync both clocks: `sudo timedatectl set-ntp true` (on each machine)".into())),
            Finding::new("compose", Level::Unknown, "the Compose version is unknown", "no container carries its label", Some("`docker compose version` shows it".into())),
            // a hostile container name: the escape sequence must not reach the terminal
            Finding::new("port", Level::Blocks, "host port 127.0.0.1:8080 (web) is taken by the container evil\u{1b}[2J", "`docker compose up` cannot publish web on it", Some("stop it: `docker stop evil\u{1b}[2J`".into())),
            Finding::new("image", Level::Blocks, "the image postgres:15-alpine is missing (needed by service db)", "with no registry, pulling it fails", Some("build the offline image kit: `bash scripts/images.sh`".into())),
        ],
    }
}

#[test]
fn doctor_human() {
    insta::assert_snapshot!(human::render(&canned(), false));
}

#[test]
fn doctor_human_all_well() {
    let mut d = canned();
    d.lab = None;
    d.findings.truncate(2);
    insta::assert_snapshot!(human::render(&d, false));
}

#[test]
fn doctor_human_in_colour_keeps_the_escape_inert() {
    let out = human::render(&canned(), true);
    assert!(
        out.contains("\u{1b}[31m"),
        "the symbol is coloured: {out:?}"
    );
    assert!(
        !out.contains("\u{1b}[2J") && out.contains("evil\\u{1b}[2J"),
        "{out:?}"
    );
}

#[test]
fn doctor_json() {
    let version = regex::escape(env!("CARGO_PKG_VERSION"));
    insta::with_settings!({filters => vec![(version.as_str(), "[VERSION]")]}, {
        insta::assert_snapshot!(wire::render(&canned()));
    });
}

//! Live: labcheck speaking Engine API 1.41 (Engine 20.10, Podman 4), as on an old engine.
//! `LABCHECK_MAX_API=1.41` caps the version labcheck negotiates, so the engine answers with
//! 1.41-shaped responses (no DNSNames, no start_interval, ...). Every inspect-based kind and the
//! in-namespace probes must still work. With no reachable engine this test FAILS.

use labcheck::report::Status;
use labcheck::RunOptions;

mod common;
use common::{docker, Cleanup};

#[test]
fn live_every_inspect_kind_works_on_api_1_41() {
    let n = format!("lc-api141-{}", std::process::id());
    let mut _cleanup = Cleanup::containers([format!("{n}-a"), format!("{n}-b")]);
    _cleanup.networks.push(n.clone());
    _cleanup.volumes.push(format!("{n}-data"));
    let (a, b) = (format!("{n}-a"), format!("{n}-b"));
    docker(&["network", "create", &n]);
    docker(&[
        "run",
        "-d",
        "--name",
        &b,
        "--network",
        &n,
        "-e",
        "ROLE=server",
        "-v",
        &format!("{n}-data:/data"),
        "--health-cmd",
        "true",
        "--health-interval",
        "1s",
        "busybox",
        "sh",
        "-c",
        "while true; do nc -l -p 5432 -e true; done",
    ]);
    docker(&[
        "run",
        "-d",
        "--name",
        &a,
        "--network",
        &n,
        "busybox",
        "sleep",
        "300",
    ]);

    let labs = tempfile::tempdir().unwrap();
    let dir = labs.path().join("old");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("lab.toml"),
        format!(
            r#"format_version = 1
id = "old"
title = "API 1.41"
[target]
kind = "containers"
containers = ["{a}", "{b}"]

[[checks]]
id = "running"
title = "b runs"
kind = "running"
service = "{b}"
[[checks]]
id = "healthy"
title = "b is healthy"
kind = "healthy"
service = "{b}"
[[checks]]
id = "shared"
title = "a and b share a network"
kind = "shared_network"
service = "{a}"
peer = "{b}"
[[checks]]
id = "attached"
title = "b is on the network only"
kind = "attached"
service = "{b}"
networks = ["{n}"]
only = true
[[checks]]
id = "network"
title = "the network"
kind = "network"
network = "{n}"
[[checks]]
id = "volume"
title = "b has a named volume"
kind = "volume"
service = "{b}"
path = "/data"
[[checks]]
id = "env"
title = "b's role"
kind = "env"
service = "{b}"
var = "ROLE"
equals = "server"
[[checks]]
id = "unpublished"
title = "b publishes nothing"
kind = "not_published"
service = "{b}"
[[checks]]
id = "resolves"
title = "b resolves from a"
kind = "resolves"
from = "{a}"
name = "{b}"
[[checks]]
id = "tcp"
title = "a reaches b:5432"
kind = "tcp"
from = "{a}"
host = "{b}"
port = 5432
"#
        ),
    )
    .unwrap();
    let lab = labcheck::lab::load_lab(&dir).unwrap();

    std::env::set_var("LABCHECK_MAX_API", "1.41");
    let (rt, engine) = common::engine();
    assert_eq!(
        engine.api_version, "1.41",
        "labcheck must speak the capped version"
    );
    let opts = RunOptions {
        project: None,
        cwd: std::env::temp_dir(),
        http_host: None,
        drill: false,
        strict: false,
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let r = rt
        .block_on(labcheck::run_until(
            &engine,
            &lab,
            &opts,
            deadline,
            std::time::Duration::from_millis(500),
            |_| {},
        ))
        .unwrap();
    let text = labcheck::report::human::render(
        &r,
        &labcheck::report::RenderOptions {
            verbose: true,
            color: false,
            book_url: "http://b/".into(),
            timings: true,
        },
    );
    assert!(r.results.iter().all(|c| c.status == Status::Pass), "{text}");
    assert!(text.contains("API 1.41"), "{text}");
}

//! Live: the in-namespace probes when the image has no tools. A container whose image holds
//! nothing but a `sleep` binary must be probed through a helper container (busybox), the result
//! must say so, and no helper may be left behind. Uses the plain-containers target kind.
//! With no reachable engine this test FAILS: it never skips.

use std::process::Command;

use labcheck::probe::helper::HELPER_LABEL;
use labcheck::probe::Timeouts;
use labcheck::report::Status;
use labcheck::{run_lab, RunOptions};

mod common;
use common::{docker, Cleanup};

#[test]
fn live_probes_use_a_helper_when_the_image_has_no_tools() {
    let n = format!("lc-probe-{}", std::process::id());
    let mut _cleanup = Cleanup::containers([format!("{n}-bare"), format!("{n}-srv")]);
    _cleanup.networks.push(n.clone());
    _cleanup.images.push(format!("{n}-bare:test"));

    // An image with a single static binary, /sleep (busybox called as `sleep`): no sh, no getent.
    let dir = tempfile::tempdir().unwrap();
    let tmp = docker(&["create", "busybox"]);
    docker(&[
        "cp",
        &format!("{tmp}:/bin/busybox"),
        dir.path().join("sleep").to_str().unwrap(),
    ]);
    docker(&["rm", &tmp]);
    let tar = dir.path().join("bare.tar");
    let st = Command::new("tar")
        .arg("-cf")
        .arg(&tar)
        .arg("-C")
        .arg(dir.path())
        .arg("sleep")
        .status()
        .unwrap();
    assert!(st.success());
    docker(&["import", tar.to_str().unwrap(), &format!("{n}-bare:test")]);

    docker(&["network", "create", &n]);
    docker(&[
        "run",
        "-d",
        "--name",
        &format!("{n}-srv"),
        "--network",
        &n,
        "busybox",
        "sh",
        "-c",
        "while true; do nc -l -p 5432 -e true; done",
    ]);
    docker(&[
        "run",
        "-d",
        "--name",
        &format!("{n}-bare"),
        "--network",
        &n,
        &format!("{n}-bare:test"),
        "/sleep",
        "300",
    ]);

    let labs = tempfile::tempdir().unwrap();
    let lab_dir = labs.path().join("probe");
    std::fs::create_dir_all(&lab_dir).unwrap();
    let (bare, srv) = (format!("{n}-bare"), format!("{n}-srv"));
    std::fs::write(
        lab_dir.join("lab.toml"),
        format!(
            r#"format_version = 1
id = "probe"
title = "probes through a helper"
[target]
kind = "containers"
containers = ["{bare}", "{srv}"]
networks = ["{n}"]

[[checks]]
id = "bare-running"
title = "bare runs"
kind = "running"
service = "{bare}"

[[checks]]
id = "resolves"
title = "srv resolves from bare"
kind = "resolves"
from = "{bare}"
name = "{srv}"
needs = ["bare-running"]

[[checks]]
id = "no-such-name"
title = "a name nobody has"
kind = "resolves"
from = "{bare}"
name = "nosuch-{n}"
needs = ["bare-running"]

[[checks]]
id = "tcp-open"
title = "srv:5432 from bare"
kind = "tcp"
from = "{bare}"
host = "{srv}"
port = 5432
needs = ["resolves"]

[[checks]]
id = "tcp-closed"
title = "srv:5433 from bare"
kind = "tcp"
from = "{bare}"
host = "{srv}"
port = 5433
needs = ["resolves"]

[[checks]]
id = "shared"
title = "they share a network"
kind = "shared_network"
service = "{bare}"
peer = "{srv}"
"#
        ),
    )
    .unwrap();
    let lab = labcheck::lab::load_lab(&lab_dir).unwrap();

    let (rt, engine) = common::engine();
    let opts = RunOptions {
        project: None,
        cwd: std::env::temp_dir(),
        http_host: None,
        services: vec![],
        drill: false,
        strict: false,
    };
    let r = rt.block_on(run_lab(&engine, &lab, &opts)).unwrap();
    let get = |id: &str| r.results.iter().find(|c| c.id == id).unwrap();
    let text = labcheck::report::human::render(
        &r,
        &labcheck::report::RenderOptions {
            verbose: true,
            color: false,
            book_url: "http://b/".into(),
            timings: true,
        },
    );

    for id in ["bare-running", "resolves", "tcp-open", "shared"] {
        assert_eq!(get(id).status, Status::Pass, "{id}:\n{text}");
    }
    for id in ["no-such-name", "tcp-closed"] {
        assert_eq!(get(id).status, Status::Fail, "{id}:\n{text}");
    }
    for id in ["resolves", "no-such-name", "tcp-open", "tcp-closed"] {
        assert!(
            get(id)
                .evidence
                .iter()
                .any(|e| e.contains("helper container (busybox)")),
            "{id} must say a helper was used:\n{text}"
        );
    }

    // No helper is left behind (one-shot helpers are removed by the engine as they end).
    let left = || docker(&["ps", "-aq", "--filter", &format!("label={HELPER_LABEL}")]);
    let since = std::time::Instant::now();
    while !left().is_empty() && since.elapsed() < std::time::Duration::from_secs(3) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(left(), "", "helper containers left behind");

    // And the same probes on a container that has the tools use an exec, not a helper.
    let spec = std::fs::read_to_string(lab_dir.join("lab.toml")).unwrap();
    std::fs::write(
        lab_dir.join("lab.toml"),
        spec.replace(&format!("from = \"{bare}\""), &format!("from = \"{srv}\"")),
    )
    .unwrap();
    let lab2 = labcheck::lab::load_lab(&lab_dir).unwrap();
    let r2 = rt.block_on(run_lab(&engine, &lab2, &opts)).unwrap();
    let res = r2.results.iter().find(|c| c.id == "tcp-open").unwrap();
    assert_eq!(res.status, Status::Pass, "{res:?}");
    assert!(
        res.evidence.iter().any(|e| e.contains("exec `nc`")),
        "{res:?}"
    );
}

/// A hung exec becomes a failed probe with a clear message, within the exec timeout; output is
/// capped.
#[test]
fn live_a_hung_exec_is_an_error_not_a_hang_and_output_is_capped() {
    let name = format!("lc-hang-{}", std::process::id());
    let mut _cleanup = Cleanup::containers([format!("{name}-bare"), format!("{name}-srv")]);
    _cleanup.networks.push(name.clone());
    _cleanup.images.push(format!("{name}-bare:test"));
    docker(&[
        "run",
        "-d",
        "--name",
        &format!("{name}-bare"),
        "busybox",
        "sleep",
        "300",
    ]);
    let (rt, engine) = common::engine();
    let t = Timeouts {
        exec: std::time::Duration::from_secs(1),
        ..Timeouts::default()
    };
    let started = std::time::Instant::now();
    let err = rt
        .block_on(labcheck::probe::exec::exec(
            &engine.docker,
            &t,
            &format!("{name}-bare"),
            &["sleep", "20"],
        ))
        .expect_err("a hung exec must fail");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.contains("no answer within 1.0s"), "{err}");

    let out = rt
        .block_on(labcheck::probe::exec::exec(
            &engine.docker,
            &Timeouts::default(),
            &format!("{name}-bare"),
            &["sh", "-c", "yes | head -c 200000"],
        ))
        .unwrap();
    assert_eq!(out.stdout.len(), labcheck::probe::exec::OUTPUT_CAP);
    assert!(out.truncated);
    assert_eq!(out.exit_code, Some(0));

    // the same through a one-shot helper: capped, and its exit code still read
    use labcheck::probe::helper::{run, HelperNet};
    let long = ["sh", "-c", "yes | head -c 200000; exit 3"];
    let r = rt
        .block_on(run(
            &engine.docker,
            &Timeouts::default(),
            HelperNet::Disabled,
            vec![],
            &long,
        ))
        .unwrap();
    assert_eq!(r.out.stdout.len(), labcheck::probe::exec::OUTPUT_CAP);
    assert!(r.out.truncated);
    assert_eq!(r.out.exit_code, Some(3));
    // and a helper that hangs is an error within its bound, not a hang
    let started = std::time::Instant::now();
    let err = rt
        .block_on(run(
            &engine.docker,
            &t,
            HelperNet::Disabled,
            vec![],
            &["sleep", "20"],
        ))
        .err()
        .expect("a hung helper must fail");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.contains("no answer within 1.0s"), "{err}");
}

//! Live: `serves` finds where a container publishes its port, whatever host port and address the
//! learner chose, and answers there; an unpublished port says what is published instead.
//! With no reachable engine this test FAILS: it never skips.

use labcheck::report::Status;
use labcheck::{run_lab, RunOptions};

mod common;
use common::{docker, Cleanup};

#[test]
fn live_serves_follows_the_published_port() {
    let n = format!("lc-serves-{}", std::process::id());
    let (web, other) = (format!("{n}-web"), format!("{n}-other"));
    let _cleanup = Cleanup::containers([web.clone(), other.clone()]);
    let httpd = "mkdir -p /www && echo 'hello from serves' > /www/index.html && exec httpd -f -p 80 -h /www";
    // a random host port on every interface: not the lab's 8080, not loopback only
    docker(&[
        "run", "-d", "--name", &web, "-p", "80", "busybox", "sh", "-c", httpd,
    ]);
    // the same app, published for another container port than the check's
    docker(&[
        "run",
        "-d",
        "--name",
        &other,
        "-p",
        "127.0.0.1::81",
        "busybox",
        "sh",
        "-c",
        httpd,
    ]);
    let host_port = docker(&["port", &web, "80/tcp"]);

    let labs = tempfile::tempdir().unwrap();
    let dir = labs.path().join("serves");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("lab.toml"),
        format!(
            r#"format_version = 1
id = "serves"
title = "serves"
[target]
kind = "containers"
containers = ["{web}", "{other}"]

[[checks]]
id = "web-serves"
title = "web answers where it is published"
kind = "serves"
service = "{web}"
container_port = 80
body_contains = "hello from serves"

[[checks]]
id = "other-serves"
title = "other answers on its port 80"
kind = "serves"
service = "{other}"
container_port = 80
"#
        ),
    )
    .unwrap();
    let lab = labcheck::lab::load_lab(&dir).unwrap();
    let (rt, engine) = common::engine();
    let opts = RunOptions {
        project: None,
        cwd: std::env::temp_dir(),
        http_host: None,
        drill: false,
        strict: false,
    };
    let r = rt.block_on(run_lab(&engine, &lab, &opts)).unwrap();
    let web_r = r.results.iter().find(|c| c.id == "web-serves").unwrap();
    assert_eq!(web_r.status, Status::Pass, "{web_r:?}");
    let port = host_port
        .lines()
        .next()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    assert!(
        web_r.message.contains(&format!(":{port}/")),
        "{web_r:?} ({host_port})"
    );
    let other_r = r.results.iter().find(|c| c.id == "other-serves").unwrap();
    assert_eq!(other_r.status, Status::Fail, "{other_r:?}");
    assert!(
        other_r.message.contains("not published")
            && other_r.message.contains("81/tcp -> 127.0.0.1:"),
        "{other_r:?}"
    );
}

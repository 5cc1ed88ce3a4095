//! `labcheck grade` against real engines: one class in one run, on three kinds of endpoint.
//!
//! - the local engine over its unix socket: a solution stack, a stack broken by a phase-3 fault,
//!   and a learner whose project is absent (each stack on its own host port, so they can run
//!   side by side and beside other test runs that use 8080);
//! - a second Engine 26 over TCP with mutual TLS on 127.0.0.2:2376 (scripts/grade-tls-engine.sh),
//!   with a small busybox stack; reached by endpoint + tls files and by a docker CLI context; and
//!   once with the wrong CA;
//! - an sshd on 127.0.0.4 (scripts/grade-sshd.sh), through which labcheck tunnels to the local
//!   engine's socket; and once with a key the server does not accept;
//! - dead endpoints: a refused port, and a port that accepts TCP but never answers.
//!
//! Then the wall time of grading 1, 10 and 30 targets. With no engine these tests FAIL.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sha2::Digest;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the repo")
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} did not run: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn engine_must_answer() {
    let out = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .expect("the docker CLI runs");
    assert!(
        out.status.success(),
        "no Docker engine answers (these live tests fail rather than skip): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port(addr: &str) -> u16 {
    TcpListener::bind((addr, 0))
        .expect("a free port")
        .local_addr()
        .unwrap()
        .port()
}

/// A compose project on some engine, torn down (with its volumes) on drop.
struct Project {
    host: Option<String>,
    name: String,
    files: Vec<PathBuf>,
    dir: PathBuf,
}

impl Project {
    fn compose(&self) -> Command {
        let mut c = Command::new("docker");
        if let Some(h) = &self.host {
            c.args(["-H", h]);
        }
        c.arg("compose");
        for f in &self.files {
            c.arg("-f").arg(f);
        }
        c.args(["-p", &self.name]).current_dir(&self.dir);
        c
    }

    /// `up -d`; with `wait`, until every service is healthy (a broken stack never is: without
    /// it, `up` still waits for db's healthcheck before it starts web).
    fn up(
        host: Option<&str>,
        name: String,
        files: Vec<PathBuf>,
        dir: PathBuf,
        wait: bool,
    ) -> Project {
        let p = Project {
            host: host.map(str::to_string),
            name,
            files,
            dir,
        };
        let mut args = vec!["up", "-d", "--build"];
        if wait {
            args.extend(["--wait", "--wait-timeout", "120"]);
        }
        run(p.compose().args(args));
        p
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self
            .compose()
            .args(["down", "-v", "--remove-orphans", "--timeout", "1"])
            .output();
    }
}

/// Runs `scripts/<script> stop DIR` on drop.
struct Service {
    script: &'static str,
    dir: PathBuf,
}

impl Service {
    fn start(script: &'static str, dir: &Path) -> (Service, BTreeMap<String, String>) {
        let out = run(Command::new("bash")
            .arg(repo().join("scripts").join(script))
            .arg("start")
            .arg(dir));
        let vars = out
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        (
            Service {
                script,
                dir: dir.to_path_buf(),
            },
            vars,
        )
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repo().join("scripts").join(self.script))
            .arg("stop")
            .arg(&self.dir)
            .output();
    }
}

/// Accepts TCP connections and never answers.
fn black_hole(addr: &str) -> u16 {
    let l = TcpListener::bind((addr, 0)).expect("bind the black hole");
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

struct Graded {
    code: i32,
    wall: Duration,
    stdout: String,
    stderr: String,
    rows: BTreeMap<String, BTreeMap<String, String>>,
    out: PathBuf,
}

fn grade(roster: &Path, out: &Path, extra: &[&str], env: &[(&str, &Path)]) -> Graded {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labcheck"));
    cmd.args(["grade", "phase-3", "--roster"])
        .arg(roster)
        .arg("--out")
        .arg(out)
        .args(extra);
    cmd.arg("--lab-dir").arg(repo().join("labs"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.env_remove("DOCKER_HOST");
    let started = Instant::now();
    let o = cmd.output().expect("labcheck runs");
    let wall = started.elapsed();
    let csv = std::fs::read_to_string(out.join("gradebook.csv")).unwrap_or_default();
    Graded {
        code: o.status.code().unwrap_or(-1),
        wall,
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        rows: parse_csv(&csv),
        out: out.to_path_buf(),
    }
}

/// learner id -> column -> cell.
fn parse_csv(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|row| {
            // The reader refuses a row with more or fewer cells than the header.
            let row = row.unwrap();
            (
                row[0].to_string(),
                header
                    .iter()
                    .map(String::from)
                    .zip(row.iter().map(String::from))
                    .collect(),
            )
        })
        .collect()
}

const CHECKS: [(&str, u32); 16] = [
    ("db-running", 1),
    ("db-healthy", 2),
    ("web-running", 1),
    ("depends-on-healthy", 2),
    ("shared-network", 2),
    ("db-resolves", 1),
    ("db-port-reachable", 2),
    ("web-published", 1),
    ("web-loopback", 1),
    ("db-not-published", 2),
    ("web-db-host", 2),
    ("healthz-ok", 2),
    ("users-endpoint", 2),
    ("db-volume", 1),
    ("users-seeded", 2),
    ("users-seed-rows", 1),
];

/// Assert a row: its status, and that exactly `zero` checks earned nothing (all others full).
fn assert_row(g: &Graded, id: &str, status: &str, zero: &[&str]) {
    let row = g
        .rows
        .get(id)
        .unwrap_or_else(|| panic!("no row for {id}:\n{}\n{}", g.stdout, g.stderr));
    assert_eq!(row["status"], status, "{id}: {row:?}");
    let mut total = 0;
    for (check, pts) in CHECKS {
        let want = if zero.contains(&check) { 0 } else { pts };
        assert_eq!(
            row[check],
            want.to_string(),
            "{id}: {check} should earn {want}: {row:?}"
        );
        total += want;
    }
    assert_eq!(row["total"], total.to_string(), "{id}");
    assert_eq!(row["max"], "25", "{id}");
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).expect("write a test file");
    path.to_path_buf()
}

#[test]
fn a_class_on_three_kinds_of_engine_is_graded_in_one_run() {
    engine_must_answer();
    let tmp = tempfile::Builder::new()
        .prefix("lcg-")
        .tempdir()
        .expect("a temp dir");
    let t = tmp.path();
    let lab = repo().join("labs/phase-3");
    let tag = format!("{}", std::process::id());

    // The local engine: the solution and a fault, each on its own host port.
    let port_file = |name: &str, port: u16| {
        write(
            &t.join(format!("{name}-port.yml")),
            &format!(
                "services:\n  web:\n    ports: !override\n      - \"127.0.0.1:{port}:5000\"\n"
            ),
        )
    };
    let solution = lab.join("solution/compose.yaml");
    let green = Project::up(
        None,
        format!("lcg-green-{tag}"),
        vec![solution.clone(), port_file("green", free_port("127.0.0.1"))],
        lab.join("solution"),
        true,
    );
    let broken = Project::up(
        None,
        format!("lcg-broken-{tag}"),
        vec![
            solution.clone(),
            lab.join("faults/db-localhost.yml"),
            port_file("broken", free_port("127.0.0.1")),
        ],
        lab.join("solution"),
        false,
    );

    // The second engine, over TLS, with a small stack: two busybox services that only sleep.
    let (_engine2, e2) = Service::start("grade-tls-engine.sh", &t.join("engine2"));
    let certs = PathBuf::from(&e2["DOCKER_CERT_PATH"]);
    let small_dir = t.join("small");
    std::fs::create_dir_all(&small_dir).unwrap();
    // Its bridge is named lcgb<pid> so that the engine script's DOCKER-USER rule lets it forward.
    let small_file = write(
        &small_dir.join("compose.yaml"),
        &format!("services:\n  db:\n    image: busybox\n    command: [\"sleep\", \"3600\"]\n    init: true\n    volumes:\n      - pgdata:/var/lib/postgresql/data\n  web:\n    image: busybox\n    command: [\"sleep\", \"3600\"]\n    init: true\n    environment:\n      DB_HOST: db\nvolumes:\n  pgdata:\nnetworks:\n  default:\n    driver_opts:\n      com.docker.network.bridge.name: lcgb{tag}\n", tag = std::process::id() % 100_000_000),
    );
    let small = Project::up(
        Some(&format!("unix://{}", e2["SOCKET"])),
        format!("lcg-small-{tag}"),
        vec![small_file],
        small_dir,
        true,
    );

    // A docker CLI context for the second engine, in a config folder of the test's own.
    let docker_config = t.join("docker-config");
    run(Command::new("docker")
        .arg("--config")
        .arg(&docker_config)
        .args(["context", "create", "lcg-vm", "--docker"])
        .arg(format!(
            "host=tcp://127.0.0.2:2376,ca={0}/ca.pem,cert={0}/cert.pem,key={0}/key.pem",
            certs.display()
        )));

    // An sshd on loopback, in front of the local engine's socket.
    let (_sshd, ssh) = Service::start("grade-sshd.sh", &t.join("ssh"));
    let hole = black_hole("127.0.0.5");

    let roster = write(
        &t.join("class.toml"),
        &format!(
            r#"
[defaults]
ssh_identity = "{id}"
ssh_known_hosts = "{kh}"

[[learner]]
id = "green"
endpoint = "unix:///var/run/docker.sock"
project = "{green}"

[[learner]]
id = "broken"
endpoint = "unix:///var/run/docker.sock"
project = "{broken}"

[[learner]]
id = "absent"
endpoint = "unix:///var/run/docker.sock"
project = "lcg-nobody-{tag}"

[[learner]]
id = "tls"
endpoint = "tcp://127.0.0.2:2376"
project = "{small}"
tls = {{ ca = "{certs}/ca.pem", cert = "{certs}/cert.pem", key = "{certs}/key.pem" }}

[[learner]]
id = "ctx"
context = "lcg-vm"
project = "{small}"

[[learner]]
id = "wrong-ca"
endpoint = "tcp://127.0.0.2:2376"
project = "{small}"
tls = {{ ca = "{certs}/other-ca.pem", cert = "{certs}/cert.pem", key = "{certs}/key.pem" }}

[[learner]]
id = "ssh"
endpoint = "{ssh_ep}"
project = "{green}"

[[learner]]
id = "ssh-bad-key"
endpoint = "{ssh_ep}"
ssh_identity = "{bad_key}"
project = "{green}"

[[learner]]
id = "refused"
endpoint = "tcp://127.0.0.3:2376"

[[learner]]
id = "silent"
endpoint = "tcp://127.0.0.5:{hole}"
"#,
            id = ssh["SSH_IDENTITY"],
            kh = ssh["SSH_KNOWN_HOSTS"],
            green = green.name,
            broken = broken.name,
            small = small.name,
            certs = certs.display(),
            ssh_ep = ssh["SSH_ENDPOINT"],
            bad_key = t.join("ssh/host_key").display(),
        ),
    );

    let limit = 6;
    let g = grade(
        &roster,
        &t.join("out"),
        &["--timeout", &format!("{limit}s"), "--jobs", "8"],
        &[("DOCKER_CONFIG", &docker_config)],
    );
    eprintln!("{}\n{}", g.stdout, g.stderr);
    assert_eq!(g.code, 1, "some learners could not be graded: exit 1");

    // The solution on another host port: the port check fails, and the endpoints answer on the
    // port it is published on. Over ssh only the lab's port (8080) is forwarded, so there the
    // endpoints cannot be reached.
    assert_row(&g, "green", "failing", &["web-published"]);
    let unforwarded = ["web-published", "healthz-ok", "users-endpoint"];
    assert_row(&g, "ssh", "failing", &unforwarded);
    // db-localhost: /healthz fails where it is published, with DB_HOST as its cause.
    let localhost = [
        "web-published",
        "web-db-host",
        "healthz-ok",
        "users-endpoint",
    ];
    assert_row(&g, "broken", "failing", &localhost);
    assert_row(&g, "absent", "absent", &CHECKS.map(|c| c.0));
    assert!(
        g.rows["absent"]["error"].contains("has no containers"),
        "{:?}",
        g.rows["absent"]
    );
    // busybox that sleeps: running, networked and resolving, but no PostgreSQL, no healthcheck,
    // no web app. DB_HOST is db, and web's missing port binding is only a warning on loopback.
    let sleeping = [
        "db-healthy",
        "depends-on-healthy",
        "db-port-reachable",
        "web-published",
        "healthz-ok",
        "users-endpoint",
        "users-seeded",
        "users-seed-rows",
    ];
    assert_row(&g, "tls", "failing", &sleeping);
    assert_row(&g, "ctx", "failing", &sleeping);
    assert!(
        g.rows["tls"]["endpoint"].contains("127.0.0.2:2376 (TLS)"),
        "{:?}",
        g.rows["tls"]
    );
    assert!(
        g.rows["ctx"]["endpoint"].contains("context lcg-vm"),
        "{:?}",
        g.rows["ctx"]
    );
    assert!(
        g.rows["ssh"]["endpoint"].starts_with("ssh://"),
        "{:?}",
        g.rows["ssh"]
    );

    for (id, says) in [
        ("wrong-ca", "UnknownIssuer"),
        ("ssh-bad-key", "Permission denied"),
        ("refused", "127.0.0.3:2376"),
        ("silent", "no answer within"),
    ] {
        assert_row(&g, id, "error", &CHECKS.map(|c| c.0));
        assert!(g.rows[id]["error"].contains(says), "{id}: {:?}", g.rows[id]);
    }
    // A silent host costs one ping's limit (5 s, or less when --timeout is less), once, and
    // nothing else waits for it.
    let silent: f64 = g.rows["silent"]["seconds"].parse().unwrap();
    assert!(
        (4.5..limit as f64 + 1.0).contains(&silent),
        "the silent host took {silent}s"
    );
    let refused: f64 = g.rows["refused"]["seconds"].parse().unwrap();
    assert!(
        refused < 1.0,
        "a refused connection is known at once, not after {refused}s"
    );
    assert!(
        g.wall < Duration::from_secs(limit + 4),
        "the whole class took {:?}",
        g.wall
    );

    // grade.json: the lab file's digest, every learner with its report, per-check counts.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(g.out.join("grade.json")).unwrap()).unwrap();
    let digest: String = sha2::Sha256::digest(std::fs::read(lab.join("lab.toml")).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(json["schema"], "labcheck-grade");
    assert_eq!(json["lab"]["sha256"], digest);
    assert_eq!(json["learners"].as_array().unwrap().len(), 10);
    assert_eq!(json["summary"]["error"], 4);
    assert_eq!(json["summary"]["absent"], 1);
    let learner_json = |id: &str| {
        json["learners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(learner_json("green")["report"]["schema"], "labcheck-report");
    let skipped = learner_json("broken")["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "users-endpoint")
        .unwrap()
        .clone();
    assert_eq!(
        skipped["note"], "skipped: needs healthz-ok",
        "a skipped check says why"
    );
    let db_running = json["summary"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "db-running")
        .unwrap();
    assert_eq!(
        (db_running["earned"].as_u64(), db_running["graded"].as_u64()),
        (Some(5), Some(5))
    );

    // junit per learner; an unreachable one is an <error>.
    let mut xml = String::new();
    std::fs::File::open(g.out.join("junit/silent.xml"))
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert!(
        xml.contains("<error message=") && xml.contains("errors=\"1\""),
        "{xml}"
    );
    let green_xml = std::fs::read_to_string(g.out.join("junit/green.xml")).unwrap();
    assert!(green_xml.contains("failures=\"1\""), "{green_xml}");
    let broken_xml = std::fs::read_to_string(g.out.join("junit/broken.xml")).unwrap();
    assert!(broken_xml.contains("<skipped"), "{broken_xml}");
    assert!(
        green_xml.contains("<property name=\"learner\" value=\"green\"/>"),
        "{green_xml}"
    );
    // The summary table names where the class struggles.
    assert!(
        g.stdout.contains("where the class struggles:"),
        "{}",
        g.stdout
    );
    assert!(
        g.stdout.contains("web-published") && g.stdout.contains("5 failing"),
        "{}",
        g.stdout
    );

    // The ssh tunnel also forwards the lab's http ports: a server on this machine's 127.0.0.1
    // (the far side of the tunnel) answers on the tunnel's own loopback address; once the
    // connection is dropped, the tunnel is gone.
    tunnel_forwards_http(&ssh);

    // Scale: the same reachable stacks under many learner ids. 30 must cost far less than 30 x 1.
    let targets = [
        format!("endpoint = \"unix:///var/run/docker.sock\"\nproject = \"{}\"", green.name),
        format!("endpoint = \"unix:///var/run/docker.sock\"\nproject = \"{}\"", broken.name),
        format!(
            "endpoint = \"tcp://127.0.0.2:2376\"\nproject = \"{}\"\ntls = {{ ca = \"{c}/ca.pem\", cert = \"{c}/cert.pem\", key = \"{c}/key.pem\" }}",
            small.name,
            c = certs.display()
        ),
        format!(
            "endpoint = \"{}\"\nproject = \"{}\"\nssh_identity = \"{}\"\nssh_known_hosts = \"{}\"",
            ssh["SSH_ENDPOINT"], green.name, ssh["SSH_IDENTITY"], ssh["SSH_KNOWN_HOSTS"]
        ),
    ];
    let mut times = Vec::new();
    for n in [1usize, 10, 30] {
        let text: String = (0..n)
            .map(|i| {
                format!(
                    "[[learner]]\nid = \"l{i:02}\"\n{}\n\n",
                    targets[i % targets.len()]
                )
            })
            .collect();
        let r = write(&t.join(format!("scale-{n}.toml")), &text);
        let g = grade(
            &r,
            &t.join(format!("scale-{n}")),
            &["--timeout", "30s"],
            &[],
        );
        assert_eq!(
            g.code, 0,
            "every target answers:\n{}\n{}",
            g.stdout, g.stderr
        );
        assert_eq!(g.rows.len(), n);
        assert!(
            g.rows.values().all(|row| row["status"] == "failing"),
            "{:?}",
            g.rows
        );
        eprintln!("[grade] {n} target(s): {:.2}s wall", g.wall.as_secs_f64());
        times.push(g.wall.as_secs_f64());
    }
    // The same 30, one at a time: what a loop over the class would cost.
    let r = t.join("scale-30.toml");
    let serial = grade(
        &r,
        &t.join("scale-30-serial"),
        &["--timeout", "30s", "--jobs", "1"],
        &[],
    );
    assert_eq!(serial.code, 0, "{}", serial.stderr);
    let serial = serial.wall.as_secs_f64();
    eprintln!("[grade] wall times for 1, 10, 30 targets (jobs 8): {times:.2?}; 30 with --jobs 1: {serial:.2}s");
    // Here every target shares one 2-core machine and its engine, so the engine's CPU (execs in
    // containers) bounds the gain; on a real class each target is its own machine.
    // What concurrency must buy even here: the same 30 in clearly less time than one at a time.
    // (30 x one target is not a stable bound on one loaded engine: one target takes ~0.15 s of
    // pure CPU, so 30 of them cannot overlap much on 2 cores.)
    assert!(
        times[2] < 0.8 * serial,
        "30 targets took {:.2}s with 8 jobs, {serial:.2}s one at a time",
        times[2]
    );
    assert!(
        times[2] < 0.75 * serial,
        "30 targets with --jobs 8 took {:.2}s, with --jobs 1 {serial:.2}s",
        times[2]
    );
}

/// A one-shot HTTP server on 127.0.0.1; returns its port.
fn tiny_http_server() -> u16 {
    let l = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = std::io::Write::write_all(
                &mut s,
                b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\nConnection: close\r\n\r\nthrough ssh -L",
            );
        }
    });
    port
}

fn tunnel_forwards_http(ssh: &BTreeMap<String, String>) {
    use labcheck::grade::roster;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port = tiny_http_server();
    let text = format!(
        "[[learner]]\nid = \"t\"\nendpoint = \"{}\"\nssh_identity = \"{}\"\nssh_known_hosts = \"{}\"\n",
        ssh["SSH_ENDPOINT"], ssh["SSH_IDENTITY"], ssh["SSH_KNOWN_HOSTS"]
    );
    let ep = roster::parse(&text, Path::new("/"))
        .expect("a roster")
        .learners
        .remove(0)
        .endpoint;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = labcheck::target::connect_to(
            &ep,
            labcheck::probe::Timeouts::default(),
            Duration::from_secs(10),
            7,
            &[port],
        )
        .await
        .expect("the tunnel opens");
        let host = c
            .http_host
            .clone()
            .expect("ssh forwards http ports to a loopback address");
        assert!(host.starts_with("127.77."), "{host}");
        let mut s = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .expect("the forwarded port answers");
        s.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).await.unwrap();
        assert!(
            body.starts_with("HTTP/1.1 200 OK") && body.ends_with("through ssh -L"),
            "{body}"
        );
        drop(c);
        let deadline = Instant::now() + Duration::from_secs(3);
        while tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .is_ok()
        {
            assert!(
                Instant::now() < deadline,
                "the tunnel outlived its connection"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
}

/// Answers /_ping and /version like an engine, then never answers anything else.
fn stalling_engine() -> u16 {
    let l = TcpListener::bind(("127.0.0.6", 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let path = req.split_whitespace().nth(1).unwrap_or("").to_string();
            let body = if path.ends_with("/_ping") {
                "OK".to_string()
            } else if path.ends_with("/version") {
                r#"{"Version":"26.1.5","ApiVersion":"1.45","MinAPIVersion":"1.24"}"#.to_string()
            } else {
                held.push(s);
                continue;
            };
            let ctype = if body == "OK" {
                "text/plain"
            } else {
                "application/json"
            };
            let _ = std::io::Write::write_all(
                &mut s,
                format!("HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).as_bytes(),
            );
        }
    });
    port
}

#[test]
fn an_engine_that_answers_ping_then_stalls_costs_one_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let port = stalling_engine();
    let roster = write(
        &tmp.path().join("class.toml"),
        &format!("[[learner]]\nid = \"stalls\"\nendpoint = \"tcp://127.0.0.6:{port}\"\nproject = \"p\"\n[[learner]]\nid = \"stalls-too\"\nendpoint = \"tcp://127.0.0.6:{port}\"\nproject = \"p\"\n"),
    );
    let g = grade(&roster, &tmp.path().join("out"), &["--timeout", "3s"], &[]);
    assert_eq!(g.code, 1, "{}\n{}", g.stdout, g.stderr);
    for id in ["stalls", "stalls-too"] {
        let row = &g.rows[id];
        assert_eq!(row["status"], "error", "{row:?}");
        let secs: f64 = row["seconds"].parse().unwrap();
        assert!((2.5..4.5).contains(&secs), "{id} took {secs}s: {row:?}");
        assert!(
            row["error"].contains("3.0s") || row["error"].contains("3s limit"),
            "{row:?}"
        );
    }
    assert!(
        g.wall < Duration::from_secs(6),
        "two stalling engines graded side by side took {:?}",
        g.wall
    );
}

/// A learner's stack whose tools misbehave: `getent` floods its output forever, `nc` and
/// `nslookup` never return. Its grade costs at most the limit, and the run goes on.
#[test]
fn a_hostile_stack_costs_at_most_its_limit() {
    engine_must_answer();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hostile");
    std::fs::create_dir_all(&dir).unwrap();
    let file = write(
        &dir.join("compose.yaml"),
        concat!(
            "services:\n",
            "  db:\n    image: busybox\n    command: [\"sleep\", \"3600\"]\n    init: true\n",
            "  web:\n    image: busybox\n    init: true\n",
            // Each tool is a hard link to busybox: unlink it before writing the replacement.
            "    command: [\"sh\", \"-c\", \"for t in nc nslookup; do rm -f /bin/$$t; printf '#!/bin/sh\\nexec sleep 1000\\n' > /bin/$$t; chmod +x /bin/$$t; done; ",
            "rm -f /bin/getent; printf '#!/bin/sh\\nexec yes flood\\n' > /bin/getent; chmod +x /bin/getent; exec sleep 3600\"]\n",
        ),
    );
    let p = Project::up(
        None,
        format!("lcg-hostile-{}", std::process::id()),
        vec![file],
        dir,
        false,
    );
    // the replacements are in place before grading starts
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Command::new("docker")
        .args([
            "exec",
            &format!("{}-web-1", p.name),
            "grep",
            "-q",
            "yes flood",
            "/bin/getent",
        ])
        .status()
        .unwrap()
        .success()
    {
        assert!(
            Instant::now() < deadline,
            "the hostile web container did not set itself up"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let roster = write(
        &tmp.path().join("class.toml"),
        &format!("[[learner]]\nid = \"hostile\"\nendpoint = \"unix:///var/run/docker.sock\"\nproject = \"{}\"\n", p.name),
    );
    let g = grade(&roster, &tmp.path().join("out"), &["--timeout", "4s"], &[]);
    let row = &g.rows["hostile"];
    let secs: f64 = row["seconds"].parse().unwrap();
    assert!(secs < 5.0, "the hostile stack took {secs}s: {row:?}");
    assert!(g.wall < Duration::from_secs(7), "{:?}", g.wall);
    match row["status"].as_str() {
        // the probes' own limits fired first: the flooded name lookup earned nothing
        "failing" => assert_eq!(row["db-resolves"], "0", "{row:?}"),
        // or the learner's overall limit did
        "error" => assert!(row["error"].contains("4s limit"), "{row:?}"),
        other => panic!("unexpected status {other}: {row:?}"),
    }
}

#[test]
fn roster_mistakes_stop_the_run_with_their_place() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = write(
        &tmp.path().join("class.toml"),
        "[[learner]]\nid = \"a\"\nendpoint = \"unix:///var/run/docker.sock\"\nprojet = \"x\"\n",
    );
    let o = Command::new(env!("CARGO_BIN_EXE_labcheck"))
        .args(["grade", "phase-3", "--roster"])
        .arg(&roster)
        .arg("--out")
        .arg(tmp.path().join("out"))
        .arg("--lab-dir")
        .arg(repo().join("labs"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("line 4") && err.contains("projet"), "{err}");
    assert!(!tmp.path().join("out/gradebook.csv").exists());
}

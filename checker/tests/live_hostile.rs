//! Live: a hostile learner's stack. Its healthcheck and an env value print terminal escape codes
//! and HTML, its app answers a huge binary body and a request it never answers, its `getent`
//! answers a name with 5000 addresses and hangs on another, and its `stat` floods output
//! forever. labcheck must judge it within its timeouts, and nothing the stack printed may reach
//! the report raw. With no reachable engine this test FAILS: it never skips.

use std::process::Command;
use std::time::{Duration, Instant};

use labcheck::report::{self, Format, RenderOptions, Status};
use labcheck::{run_lab, RunOptions};

mod common;

const PORT: u16 = 18391;

const COMPOSE: &str = r#"
services:
  web:
    image: python:3.11-slim
    environment:
      DB_HOST: "\u001b[2J\u001b]0;OWNED\u0007<script>alert(1)</script>"
    ports: ["127.0.0.1:18391:8000"]
    command:
      - sh
      - -c
      - |
        printf '#!/bin/sh\nif [ "$$2" = hang ]; then sleep 3600; fi\ni=0; while [ $$i -lt 5000 ]; do echo "10.9.$$((i / 250)).$$((i %% 250)) $$2"; i=$$((i+1)); done\n' > /usr/local/bin/getent
        printf '#!/bin/sh\nyes "\033[2J\033]0;FLOOD\007"\n' > /usr/local/bin/stat
        chmod +x /usr/local/bin/getent /usr/local/bin/stat
        exec python -c '
        import http.server, os, time
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/hang":
                    time.sleep(3600)
                self.send_response(200)
                self.end_headers()
                if self.path == "/big":
                    chunk = b"\x1b[2J\x1b]0;BODY\x07<b>\x00\xff" * 4096
                    for _ in range(4000):
                        self.wfile.write(chunk)
                else:
                    self.wfile.write(b"\x1b]0;OWNED\x07 <script>x</script>")
        http.server.ThreadingHTTPServer(("", 8000), H).serve_forever()
        '
    healthcheck:
      test: ["CMD-SHELL", "printf '\\033]0;OWNED\\007\\033[31mPWNED\\033[2J<img src=x>'; exit 1"]
      interval: 1s
      start_interval: 1s
      start_period: 1s
"#;

fn lab_toml(project: &str) -> String {
    format!(
        r#"format_version = 1
id = "hostile"
title = "A hostile stack"
[target]
kind = "compose"
services = ["web"]
[[checks]]
id = "web-healthy"
title = "healthy"
kind = "healthy"
service = "web"
[[checks]]
id = "db-host"
title = "env"
kind = "env"
service = "web"
var = "DB_HOST"
equals = "db"
[[checks]]
id = "many-records"
title = "5000 records"
kind = "resolves"
from = "web"
name = "{project}-many"
[[checks]]
id = "big-body"
title = "a huge binary body"
kind = "http"
url = "http://127.0.0.1:{PORT}/big"
body_contains = "never there"
[[checks]]
id = "hung-request"
title = "a request never answered"
kind = "http"
url = "http://127.0.0.1:{PORT}/hang"
[[checks]]
id = "flooding-exec"
title = "stat floods forever"
kind = "file_owner"
service = "web"
path = "/tmp"
user = "root"
"#
    )
}

fn compose(dir: &std::path::Path, project: &str, args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .args(["compose", "-p", project])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("docker compose runs")
}

struct Down<'a>(&'a std::path::Path, &'a str);
impl Drop for Down<'_> {
    fn drop(&mut self) {
        compose(self.0, self.1, &["down", "-v", "--timeout", "1"]);
    }
}

#[test]
fn live_a_hostile_stack_is_judged_in_time_and_shown_inert() {
    let (rt, engine) = common::engine();
    let project = format!("lc-hostile-{}", std::process::id());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("labs/hostile");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("compose.yaml"), COMPOSE).unwrap();
    std::fs::write(dir.join("lab.toml"), lab_toml(&project)).unwrap();
    let _down = Down(&dir, &project);
    let up = compose(&dir, &project, &["up", "-d"]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let lab = labcheck::lab::load_lab(&dir).unwrap();
    let opts = RunOptions {
        project: Some(project.clone()),
        cwd: std::env::temp_dir(),
        http_host: None,
        drill: false,
        strict: false,
    };

    // the healthcheck has run at least once and the server listens
    let deadline = Instant::now() + Duration::from_secs(60);
    let r = loop {
        let r = rt.block_on(run_lab(&engine, &lab, &opts)).unwrap();
        let health = r.results.iter().find(|c| c.id == "web-healthy").unwrap();
        let shown =
            health.message.contains("OWNED") || health.evidence.iter().any(|e| e.contains("OWNED"));
        if (health.status == Status::Fail && shown) || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_secs(1));
    };

    // Judged within its timeouts: the hung exec, request and flood each cost one timeout,
    // all at once.
    assert!(r.duration < Duration::from_secs(20), "{:?}", r.duration);
    let status = |id: &str| r.results.iter().find(|c| c.id == id).unwrap().status;
    for id in ["web-healthy", "db-host", "big-body", "hung-request"] {
        assert_eq!(status(id), Status::Fail, "{id}");
    }
    // 5000 answers are a pass (the name resolves), shown in bounded space
    assert_eq!(status("many-records"), Status::Pass);
    let many = r.results.iter().find(|c| c.id == "many-records").unwrap();
    // (the exec's output is capped, so fewer than 5000 arrive)
    assert!(
        many.message.ends_with(" more") && many.message.len() < 200,
        "{}",
        many.message
    );
    assert_ne!(status("flooding-exec"), Status::Pass);

    for format in [Format::Human, Format::Json, Format::Junit, Format::Tap] {
        let out = report::render(
            &r,
            format,
            &RenderOptions {
                verbose: true,
                color: false,
                book_url: "http://book/".into(),
                timings: true,
            },
        );
        let raw = out
            .chars()
            .find(|&c| c.is_control() && c != '\n' && !(format == Format::Junit && c == '\t'));
        assert_eq!(
            raw, None,
            "{format:?} lets a control character through:\n{out}"
        );
        assert!(out.len() < 200_000, "{format:?} is {} bytes", out.len());
        if format == Format::Human {
            assert!(out.contains("\\x1b]0;OWNED\\x07"), "{out}");
        }
    }
    let json = report::render(
        &r,
        Format::Json,
        &RenderOptions {
            verbose: false,
            color: false,
            book_url: "http://book/".into(),
            timings: false,
        },
    );
    serde_json::from_str::<serde_json::Value>(&json).expect("the JSON report stays valid");

    // Graded beside a learner whose stack is absent: nothing leaks into the other row, the
    // terminal summary or the CSV.
    let roster = tmp.path().join("roster.toml");
    std::fs::write(
        &roster,
        format!(
            "[defaults]\nendpoint = \"unix:///var/run/docker.sock\"\n\n[[learner]]\nid = \"evil\"\nproject = \"{project}\"\n\n[[learner]]\nid = \"good\"\nproject = \"{project}-absent\"\n"
        ),
    )
    .unwrap();
    let out = tmp.path().join("grades");
    let started = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_labcheck"))
        .args(["grade", "hostile", "--timeout", "20s", "--roster"])
        .arg(&roster)
        .arg("--out")
        .arg(&out)
        .arg("--lab-dir")
        .arg(tmp.path().join("labs"))
        .env_remove("DOCKER_HOST")
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(40));
    for text in [&o.stdout, &o.stderr] {
        let text = String::from_utf8_lossy(text);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "the grade summary lets a control character through:\n{text}"
        );
    }
    let csv = std::fs::read_to_string(out.join("gradebook.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2, "one row per learner:\n{csv}");
    for row in &rows {
        for cell in row {
            assert!(!cell.chars().any(|c| c.is_control()), "{cell:?}");
            assert!(!cell.starts_with(['=', '+', '@']), "formula: {cell:?}");
        }
        if &row[0] == "good" {
            assert!(!row.iter().any(|c| c.contains("OWNED")), "{row:?}");
        }
    }
}

//! Live: a phase-3 stack as learners write it, under their own service names (`database` and
//! `app`), and one brought up by Compose v1 (`docker-compose` 1.29): both are found and judged
//! with no failure. Both publish the lab's host port 8080: run under the shared lock
//! (`flock /tmp/compose-lab-live.lock cargo test -p labcheck --test live_names`).
//! With no reachable engine, or no `docker-compose` v1, these tests FAIL: they never skip.

use std::path::{Path, PathBuf};
use std::process::Command;

use labcheck::report::{self, Format, RenderOptions, StackState, Status};
use labcheck::{run_lab, RunOptions, ToolError};

mod common;

fn phase3() -> (labcheck::lab::Lab, PathBuf) {
    let labs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../labs");
    let lab = labcheck::lab::load_lab(&labs.join("phase-3")).unwrap();
    let solution = labs.join("phase-3/solution").canonicalize().unwrap();
    (lab, solution)
}

/// `cmd args` in `dir`, asserted to succeed.
fn run(dir: &Path, cmd: &str, args: &[&str]) {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("{cmd} (is it installed? scripts/setup-engine.sh installs it): {e}")
        });
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `down -v` of a project (and the images it built) when the test ends, also on panic.
struct Down {
    cmd: &'static str,
    dir: PathBuf,
    project: String,
}

impl Drop for Down {
    fn drop(&mut self) {
        // `docker compose -p …` for v2, `docker-compose -p …` for v1
        let compose: &[&str] = if self.cmd == "docker" {
            &["compose"]
        } else {
            &[]
        };
        let _ = Command::new(self.cmd)
            .args(compose)
            .args(["-p", &self.project, "down", "-v", "--timeout", "2"])
            .current_dir(&self.dir)
            .output();
    }
}

/// The phase-3 app and database as a learner may write them: `database` and `app`.
fn renamed_compose(solution: &Path) -> String {
    let s = solution.display();
    format!(
        r#"services:
  app:
    build: {s}
    ports:
      - "127.0.0.1:8080:5000"
    env_file: {s}/.env
    environment:
      DB_HOST: database
    depends_on:
      database:
        condition: service_healthy
  database:
    image: postgres:15-alpine
    env_file: {s}/.env
    volumes:
      - data:/var/lib/postgresql/data
      - {s}/initdb:/docker-entrypoint-initdb.d:ro
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U \"$$POSTGRES_USER\" -d \"$$POSTGRES_DB\""]
      interval: 1s
      timeout: 3s
      retries: 30
volumes:
  data:
"#
    )
}

fn render_opts() -> RenderOptions {
    RenderOptions {
        verbose: true,
        color: false,
        book_url: "http://localhost:3000/".into(),
        timings: false,
    }
}

fn failures(r: &labcheck::Report) -> Vec<String> {
    r.results
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| format!("{}: {}", c.id, c.message))
        .collect()
}

fn opts(project: &str, services: &[(&str, &str)]) -> RunOptions {
    RunOptions {
        project: Some(project.to_string()),
        cwd: std::env::temp_dir(),
        http_host: None,
        drill: false,
        strict: false,
        services: services
            .iter()
            .map(|(l, y)| (l.to_string(), y.to_string()))
            .collect(),
    }
}

static PORT_8080: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn live_a_renamed_phase3_stack_passes_under_its_own_names() {
    // both tests publish 8080: one at a time, whatever the test threads
    let _port = PORT_8080.lock().unwrap_or_else(|p| p.into_inner());
    let (lab, solution) = phase3();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), renamed_compose(&solution)).unwrap();
    let project = format!("lc-names-{}", std::process::id());
    let _down = Down {
        cmd: "docker",
        dir: dir.path().into(),
        project: project.clone(),
    };
    let t = std::time::Instant::now();
    run(
        dir.path(),
        "docker",
        &["compose", "-p", &project, "up", "-d", "--build", "--wait"],
    );
    eprintln!("renamed stack up in {:?}", t.elapsed());
    let (rt, engine) = common::engine();

    let t = std::time::Instant::now();
    let r = rt
        .block_on(run_lab(&engine, &lab, &opts(&project, &[])))
        .unwrap();
    eprintln!("labcheck phase-3 on the renamed stack: {:?}", t.elapsed());
    let StackState::Found { renamed, .. } = &r.stack else {
        panic!("{:?}", r.stack)
    };
    let lines: Vec<String> = renamed.iter().map(|m| m.line()).collect();
    assert_eq!(
        lines,
        [
            "treating your service `database` as db",
            "treating your service `app` as web"
        ]
    );
    assert!(failures(&r).is_empty(), "{:#?}", failures(&r));
    assert!(
        r.ok(),
        "{}",
        report::render(&r, Format::Human, &render_opts())
    );
    // the names were really used: db resolved as `database`, DB_HOST=database matched db
    let msg = |id: &str| {
        r.results
            .iter()
            .find(|c| c.id == id)
            .unwrap()
            .message
            .clone()
    };
    assert!(
        msg("web-db-host").contains("`database`"),
        "{}",
        msg("web-db-host")
    );
    let human = report::render(&r, Format::Human, &render_opts());
    assert!(
        human.contains("treating your service `database` as db\n"),
        "{human}"
    );
    let json = report::render(&r, Format::Json, &render_opts());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["stack"]["services"][0],
        serde_json::json!({"lab": "db", "yours": "database", "by": "role"})
    );

    // --service overrides, and a wrong one is one clear error
    let r = rt
        .block_on(run_lab(&engine, &lab, &opts(&project, &[("web", "app")])))
        .unwrap();
    let StackState::Found { renamed, .. } = &r.stack else {
        panic!()
    };
    assert_eq!(
        renamed.iter().map(|m| m.line()).collect::<Vec<_>>(),
        [
            "treating your service `database` as db",
            "treating your service `app` as web (--service)"
        ]
    );
    let e = rt
        .block_on(run_lab(&engine, &lab, &opts(&project, &[("db", "pg")])))
        .unwrap_err();
    assert!(matches!(e, ToolError::ServiceFlag(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("--service db=pg: the project `{project}` has no service `pg` (its services: app, database)")
    );
    let e = rt
        .block_on(run_lab(&engine, &lab, &opts(&project, &[("api", "app")])))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "--service api=app: `api` is not a service of lab phase-3 (web, db); the lab's name goes first, yours second"
    );
}

/// The phase-3 solution as Compose v1 (1.29) reads it: no top-level `name`, no healthcheck
/// `start_interval`; the app's image is the one built for the test.
fn v1_compose(solution: &Path, image: &str) -> String {
    let s = solution.display();
    format!(
        r#"services:
  web:
    image: {image}
    ports:
      - "127.0.0.1:8080:5000"
    env_file: {s}/.env
    environment:
      DB_HOST: db
    depends_on:
      db:
        condition: service_healthy
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/healthz', timeout=2)"]
      interval: 2s
      timeout: 3s
      retries: 10
  db:
    image: postgres:15-alpine
    env_file: {s}/.env
    volumes:
      - pgdata:/var/lib/postgresql/data
      - {s}/initdb:/docker-entrypoint-initdb.d:ro
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U \"$$POSTGRES_USER\" -d \"$$POSTGRES_DB\""]
      interval: 1s
      timeout: 3s
      retries: 30
volumes:
  pgdata:
"#
    )
}

#[test]
fn live_a_compose_v1_stack_is_found_and_judged() {
    // both tests publish 8080: one at a time, whatever the test threads
    let _port = PORT_8080.lock().unwrap_or_else(|p| p.into_inner());
    let (lab, solution) = phase3();
    let project = format!("lcv1{}", std::process::id());
    let image = format!("{project}-web:latest");
    let mut _image = common::Cleanup::default();
    _image.images.push(image.clone());
    // the app image, built by the Compose v2 plugin's BuildKit (cached) rather than v1's classic builder
    run(&solution, "docker", &["build", "-q", "-t", &image, "."]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        v1_compose(&solution, &image),
    )
    .unwrap();
    let _down = Down {
        cmd: "docker-compose",
        dir: dir.path().into(),
        project: project.clone(),
    };
    let out = Command::new("docker-compose")
        .arg("version")
        .output()
        .expect("docker-compose v1 must be installed (scripts/setup-engine.sh installs Debian's)");
    let version = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(version.contains("version 1."), "not Compose v1: {version}");
    let t = std::time::Instant::now();
    run(dir.path(), "docker-compose", &["-p", &project, "up", "-d"]);
    // v1 has no --wait: let labcheck re-check until the healthchecks pass
    let (rt, engine) = common::engine();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let r = rt
        .block_on(labcheck::run_until(
            &engine,
            &lab,
            &opts(&project, &[]),
            deadline,
            std::time::Duration::from_secs(1),
            |_| {},
        ))
        .unwrap();
    eprintln!("v1 stack up and green in {:?}", t.elapsed());
    let names = common::docker(&[
        "ps",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--format",
        "{{.Names}} {{.Label \"com.docker.compose.version\"}}",
    ]);
    assert!(names.contains(&format!("{project}_db_1 1.29")), "{names}");
    assert!(failures(&r).is_empty(), "{:#?}", failures(&r));
    let warned: Vec<String> = r
        .results
        .iter()
        .filter(|c| c.status == Status::Warn)
        .map(|c| format!("{}: {}", c.id, c.message))
        .collect();
    eprintln!("warnings on the v1 stack: {warned:#?}");
    assert!(
        r.ok(),
        "{}",
        report::render(&r, Format::Human, &render_opts())
    );
    // v1 writes no depends_on label: it was read from the compose file
    let dep = r
        .results
        .iter()
        .find(|c| c.id == "depends-on-healthy")
        .unwrap();
    assert_eq!(dep.status, Status::Pass, "{dep:?}");
    assert!(
        dep.evidence
            .iter()
            .any(|e| e.contains("docker-compose.yml")),
        "{dep:?}"
    );
}

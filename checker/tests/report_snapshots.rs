//! Snapshots of every report format for a fixed set of results (durations fixed by hand).

use std::time::Duration;

use labcheck::kinds::Verdict;
use labcheck::lab::{Role, Severity};
use labcheck::report::{
    self, CheckResult, EngineInfo, Format, RenderOptions, Report, Skip, StackState, Status,
};

fn result(id: &str, status: Status, depth: usize) -> CheckResult {
    CheckResult {
        id: id.into(),
        title: format!("{id} title"),
        kind: "running".into(),
        status,
        verdict: match status {
            Status::Pass => Some(Verdict::Pass),
            Status::Fail => Some(Verdict::Fail),
            Status::Warn => Some(Verdict::Unknown),
            Status::Skip => None,
        },
        severity: Severity::Fail,
        role: Role::Behaviour,
        note: None,
        causes: vec![],
        points: if status == Status::Pass { 2 } else { 0 },
        max_points: 2,
        message: format!("{id}: what was found"),
        evidence: vec![],
        skip: None,
        hints: labcheck::lab::Hints {
            nudge: Some(format!("nudge for {id}")),
            concept: Some(format!("concept for {id}")),
            see: Some(format!("see for {id}")),
            fix: Some(format!("fix for {id}")),
        },
        book: Some(format!("phase-3/troubleshooting.html#{id}")),
        see: Some(format!("docker compose -p phase-3 ps -a {id}")),
        duration: Duration::from_millis(12),
        depth,
    }
}

fn fixture() -> Report {
    let mut healthy = result("db-healthy", Status::Pass, 1);
    healthy.kind = "healthy".into();
    healthy.evidence = vec!["last healthcheck output (exit 0): accepting connections".into()];
    let mut host = result("web-db-host", Status::Fail, 1);
    host.kind = "env".into();
    host.message = "DB_HOST in web is `localhost`, which cannot work here".into();
    host.evidence = vec!["<inside> & \"quoted\"".into()];
    let mut warn = result("depends-on-healthy", Status::Warn, 1);
    warn.kind = "depends_on".into();
    warn.message = "cannot tell whether web depends on db: no label # and no file".into();
    let mut skip = result("healthz-ok", Status::Skip, 2);
    skip.kind = "http".into();
    skip.skip = Some(Skip::Needs(vec!["web-db-host".into()]));
    skip.message = "skipped: needs web-db-host".into();
    Report {
        lab_id: "phase-3".into(),
        lab_title: "Networking and Compose: Flask and PostgreSQL".into(),
        lab_book: Some("phase-3/index.html".into()),
        engine: EngineInfo {
            endpoint: "unix:///var/run/docker.sock".into(),
            api_version: "1.45".into(),
            server_version: "26.1.5".into(),
        },
        stack: StackState::Found {
            project: Some("phase-3".into()),
            missing: vec![],
            renamed: vec![],
        },
        notes: vec![],
        results: vec![
            result("db-running", Status::Pass, 0),
            healthy,
            result("web-running", Status::Pass, 0),
            warn,
            host,
            skip,
        ],
        duration: Duration::from_millis(210),
    }
}

fn opts(verbose: bool) -> RenderOptions {
    RenderOptions {
        verbose,
        color: false,
        book_url: "http://localhost:3000/".into(),
        timings: true,
    }
}

#[test]
fn human() {
    insta::assert_snapshot!(
        "human",
        report::render(&fixture(), Format::Human, &opts(false))
    );
}

/// What watch shows on a terminal too short for the whole ladder.
#[test]
fn human_short() {
    insta::assert_snapshot!(
        "human_short",
        labcheck::report::human::render_short(&fixture(), &opts(false))
    );
}

#[test]
fn human_verbose() {
    insta::assert_snapshot!(
        "human_verbose",
        report::render(&fixture(), Format::Human, &opts(true))
    );
}

#[test]
fn json() {
    let out = report::render(&fixture(), Format::Json, &opts(false))
        .replace(env!("CARGO_PKG_VERSION"), "[VERSION]");
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["schema_version"], 1);
    insta::assert_snapshot!("json", out);
}

#[test]
fn junit() {
    let xml = report::render(&fixture(), Format::Junit, &opts(false));
    insta::assert_snapshot!("junit", xml);
    // What a CI system reads back: the counts and one case per check, in ladder order.
    let doc = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!((doc.tests, doc.failures, doc.skipped), (6, 1, 1));
    let cases: Vec<&str> = doc.test_suites[0]
        .test_cases
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(cases[0], "db-running: db-running title");
    assert_eq!(cases.len(), fixture().results.len());
}

#[test]
fn tap() {
    insta::assert_snapshot!("tap", report::render(&fixture(), Format::Tap, &opts(false)));
}

fn half_up() -> Report {
    let mut r = fixture();
    // the learner named the database `database`: the report says once that it is db
    r.stack = StackState::Found {
        project: Some("phase-3".into()),
        missing: vec!["web".into()],
        renamed: vec![labcheck::target::matching::Mapped {
            lab: "db".into(),
            yours: "database".into(),
            by: labcheck::target::matching::By::Match,
        }],
    };
    let mut web = result("web-running", Status::Fail, 0);
    web.message = "`web` has no container".into();
    web.evidence = vec!["start it: docker compose up -d web".into()];
    let mut net = result("shared-network", Status::Skip, 1);
    net.skip = Some(Skip::NoContainer(vec!["web".into()]));
    net.message = "skipped: web has no container".into();
    r.results = vec![result("db-running", Status::Pass, 0), web, net];
    r
}

#[test]
fn human_half_up() {
    insta::assert_snapshot!(
        "human_half_up",
        report::render(&half_up(), Format::Human, &opts(false))
    );
}

fn absent() -> Report {
    let mut r = fixture();
    r.stack = StackState::Absent {
        message: "No compose project on this engine has the services of lab phase-3 (web, db).\nStart them: cd labs/phase-3/solution && docker compose up -d".into(),
    };
    r.notes = vec!["this lab needs Docker Engine API 1.44 or newer".into()];
    for c in &mut r.results {
        c.status = Status::Skip;
        c.points = 0;
        c.skip = Some(Skip::StackAbsent);
        c.message = "skipped: the stack is not up".into();
    }
    r
}

#[test]
fn every_format_when_the_stack_is_absent() {
    let a = absent();
    let all = [Format::Human, Format::Json, Format::Junit, Format::Tap]
        .iter()
        .map(|f| report::render(&a, *f, &opts(false)))
        .collect::<Vec<_>>()
        .join("\n----\n")
        .replace(env!("CARGO_PKG_VERSION"), "[VERSION]");
    insta::assert_snapshot!("absent_all_formats", all);
}

#[test]
fn colour_only_when_asked() {
    let plain = report::render(&fixture(), Format::Human, &opts(false));
    assert!(!plain.contains('\u{1b}'));
    let coloured = report::render(
        &fixture(),
        Format::Human,
        &RenderOptions {
            color: true,
            ..opts(false)
        },
    );
    assert!(coloured.contains('\u{1b}'));
}

#[test]
fn exit_codes_follow_the_results() {
    assert_eq!(fixture().exit_code(), 1);
    let mut green = fixture();
    green
        .results
        .retain(|c| matches!(c.status, Status::Pass | Status::Warn));
    assert_eq!(green.exit_code(), 0, "warnings do not fail");
    assert_eq!(absent().exit_code(), 1);
    let mut half = half_up();
    half.results.retain(|c| c.status == Status::Pass);
    assert_eq!(half.exit_code(), 1, "a half-up stack never passes");
}

/// A green phase-4 run without `--drill`: the drills are named as not run, and count for no
/// points, so the learner sees full marks.
#[test]
fn human_green_with_drills_not_run() {
    let mut drill = result("data-survives-restart", Status::Skip, 1);
    drill.kind = "persistence".into();
    drill.points = 0;
    drill.max_points = 0; // as run.rs reports a drill it was not asked to run
    drill.skip = Some(Skip::DrillNotRequested);
    drill.message = "skipped: a drill (it changes the stack); run with --drill to run it".into();
    let mut r = fixture();
    r.lab_id = "phase-4".into();
    r.results = vec![
        result("db-running", Status::Pass, 0),
        result("db-volume", Status::Pass, 1),
        drill,
    ];
    let s = r.summary();
    assert_eq!((s.points, s.max_points, s.drills_not_run), (4, 4, 1));
    assert_eq!(r.exit_code(), 0);
    let junit = report::render(&r, Format::Junit, &opts(false));
    let doc = quick_junit::Report::deserialize_from_str(&junit).unwrap();
    assert_eq!(
        (doc.tests, doc.failures, doc.errors, doc.skipped),
        (3, 0, 0, 1),
        "{junit}"
    );
    insta::assert_snapshot!(
        "human_green_with_drills_not_run",
        report::render(&r, Format::Human, &opts(false))
    );
}

/// The learner's own working config: a diagnosis that differs from the solution passes with a
/// note; a broken behaviour names its cause; hardening warns.
fn roles_fixture() -> Report {
    let mut r = fixture();
    let mut port = result("web-published", Status::Fail, 1);
    port.kind = "published".into();
    port.message = "web publishes 5000/tcp on 0.0.0.0:8000, not on 8080".into();
    let mut host = result("web-db-host", Status::Fail, 1);
    host.kind = "env".into();
    host.role = Role::Diagnosis;
    host.message = "DB_HOST in web is `localhost`, which cannot work here".into();
    let mut serves = result("healthz-ok", Status::Fail, 1);
    serves.kind = "serves".into();
    serves.message = "GET http://127.0.0.1:8000/healthz answered 503".into();
    serves.causes = vec!["web-db-host".into()];
    let mut dep = result("depends-on-healthy", Status::Pass, 1);
    dep.kind = "depends_on".into();
    dep.role = Role::Diagnosis;
    dep.message = "web depends on db with condition service_started".into();
    dep.note = Some("differs from the lab's solution, but healthz-ok works".into());
    let mut exposed = result("db-not-published", Status::Warn, 1);
    exposed.kind = "not_published".into();
    exposed.role = Role::Hardening;
    exposed.verdict = Some(Verdict::Fail);
    exposed.message = "db publishes 5432/tcp on 0.0.0.0:5432".into();
    exposed.points = 2;
    r.results = vec![
        result("web-running", Status::Pass, 0),
        port,
        dep,
        host,
        serves,
        exposed,
    ];
    r
}

#[test]
fn roles_human() {
    insta::assert_snapshot!(
        "roles_human",
        report::render(&roles_fixture(), Format::Human, &opts(false))
    );
    // a diagnosis that is the first broken step says which behaviours it breaks
    let mut r = roles_fixture();
    r.results.remove(1);
    let human = report::render(&r, Format::Human, &opts(false));
    assert!(
        human.contains("First broken step: web-db-host title"),
        "{human}"
    );
    assert!(
        human.contains("healthz-ok fails because of this."),
        "{human}"
    );
    // and from the behaviour's side when the behaviour comes first
    r.results.swap(2, 3);
    let human = report::render(&r, Format::Human, &opts(false));
    assert!(
        human.contains("First broken step: healthz-ok title"),
        "{human}"
    );
    assert!(
        human.contains("Cause: web-db-host: DB_HOST in web is `localhost`"),
        "{human}"
    );
}

/// A plain-containers lab (phase 2) is made with `docker run`, not Compose.
#[test]
fn half_up_plain_containers_says_docker_run() {
    let mut r = fixture();
    r.stack = StackState::Found {
        project: None,
        missing: vec!["api".into()],
        renamed: vec![],
    };
    let human = report::render(&r, Format::Human, &opts(false));
    assert!(
        human.contains("no container for api. Create it with `docker run --name …`"),
        "{human}"
    );
    assert!(!human.contains("docker compose up"), "{human}");
    r.stack = StackState::Found {
        project: Some("phase-3".into()),
        missing: vec!["db".into()],
        renamed: vec![],
    };
    let human = report::render(&r, Format::Human, &opts(false));
    assert!(
        human.contains("Start it: docker compose up -d db"),
        "{human}"
    );
}

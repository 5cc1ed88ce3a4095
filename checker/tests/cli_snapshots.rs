//! What a user sees from the main commands, pinned with insta (no engine needed): each snapshot
//! is the exit code, then stdout, then stderr, named for its test. Versions, measured durations, temp folders and
//! the checkout's path are filtered, so a diff here is a change in what users read.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A small lab: two checks, one needing the other.
const DEMO: &str = include_str!("fixtures/demo-lab.toml");

/// One test's temp folder, and insta's filters that make its output stable, in force for the
/// test's thread while the context lives.
struct Context {
    temp: tempfile::TempDir,
    _filters: insta::internals::SettingsBindDropGuard,
}

impl Context {
    fn new() -> Self {
        let temp = tempfile::tempdir().unwrap();
        let mut filters = Vec::new();
        let mut path = |p: &Path, with: &str| {
            for p in [p.to_path_buf(), p.canonicalize().unwrap()] {
                filters.push((regex::escape(&p.display().to_string()), with.to_string()));
            }
        };
        path(temp.path(), "[TEMP_DIR]");
        path(&repo(), "[REPO]");
        filters.extend(
            [
                (regex::escape(env!("CARGO_PKG_VERSION")), "[VERSION]"),
                // measured: `in 0.1s`, `(12 ms)`, JUnit's time="0.012", a CSV's seconds cell
                (r"\b\d+\.\d+s\b".into(), "[TIME]"),
                (r"\b\d+ ms\b".into(), "[TIME]"),
                (r#"time="\d+\.\d+""#.into(), r#"time="[TIME]""#),
                (r",\d+\.\d\d,".into(), ",[TIME],"),
            ]
            .map(|(re, with)| (re, with.to_string())),
        );
        let mut settings = insta::Settings::clone_current();
        for (re, with) in &filters {
            settings.add_filter(re, with.as_str());
        }
        settings.set_omit_expression(true);
        Context {
            _filters: settings.bind_to_scope(),
            temp,
        }
    }

    /// labcheck with a clean environment: no engine, no colour, nothing from the caller.
    fn labcheck(&self) -> Command {
        let mut c = Command::cargo_bin("labcheck").unwrap();
        for var in [
            "LABCHECK_LABS",
            "LABCHECK_BOOK_URL",
            "DOCKER_CONTEXT",
            "DOCKER_CONFIG",
        ] {
            c.env_remove(var);
        }
        c.env("DOCKER_HOST", "unix:///nonexistent")
            .env("NO_COLOR", "1")
            .current_dir(self.temp.path());
        c
    }

    /// `<temp>/labs/<id>/lab.toml`; returns the labs folder.
    fn lab(&self, id: &str, text: &str) -> PathBuf {
        let labs = self.temp.path().join("labs");
        std::fs::create_dir_all(labs.join(id)).unwrap();
        std::fs::write(labs.join(id).join("lab.toml"), text).unwrap();
        labs
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.temp.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Exit code, stdout and stderr, as one text.
    fn run(&self, cmd: &mut Command) -> String {
        let out = cmd.output().unwrap();
        let code = out
            .status
            .code()
            .map_or("none".to_string(), |c| c.to_string());
        format!(
            "exit code: {code}\n----- stdout -----\n{}\n----- stderr -----\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn repo_labs() -> PathBuf {
    repo().join("labs")
}

#[test]
fn help() {
    let ctx = Context::new();
    insta::assert_snapshot!(ctx.run(ctx.labcheck().arg("--help")));
}

#[test]
fn version() {
    let ctx = Context::new();
    insta::assert_snapshot!(ctx.run(ctx.labcheck().arg("--version")));
}

#[test]
fn no_arguments_is_usage_and_exit_2() {
    let ctx = Context::new();
    insta::assert_snapshot!(ctx.run(&mut ctx.labcheck()));
}

#[test]
fn list() {
    let ctx = Context::new();
    insta::assert_snapshot!(ctx.run(ctx.labcheck().arg("list").arg("--lab-dir").arg(repo_labs())));
}

#[test]
fn list_shows_a_broken_lab_too() {
    let ctx = Context::new();
    ctx.lab("demo", DEMO);
    let labs = ctx.lab("broken", "format_version = 1\nid = \n");
    insta::assert_snapshot!(ctx.run(ctx.labcheck().arg("list").arg("--lab-dir").arg(labs)));
}

#[test]
fn explain_phase_3() {
    let ctx = Context::new();
    insta::assert_snapshot!(ctx.run(
        ctx.labcheck()
            .args(["explain", "phase-3", "--lab-dir"])
            .arg(repo_labs())
    ));
}

#[test]
fn lint_every_lab_of_the_repo() {
    let ctx = Context::new();
    insta::assert_snapshot!(ctx.run(ctx.labcheck().arg("lint").arg("--lab-dir").arg(repo_labs())));
}

#[test]
fn lint_names_a_need_that_does_not_exist() {
    let ctx = Context::new();
    let labs = ctx.lab(
        "demo",
        &DEMO.replace("needs = [\"db-running\"]", "needs = [\"db-runing\"]"),
    );
    insta::assert_snapshot!(ctx.run(ctx.labcheck().arg("lint").arg("--lab-dir").arg(labs)));
}

#[test]
fn an_unknown_lab() {
    let ctx = Context::new();
    let labs = ctx.lab("demo", DEMO);
    insta::assert_snapshot!(ctx.run(ctx.labcheck().arg("nope").arg("--lab-dir").arg(labs)));
}

#[test]
fn a_malformed_lab_toml() {
    let ctx = Context::new();
    let labs = ctx.lab("demo", &DEMO.replace("title = \"Demo lab\"", "title = "));
    insta::assert_snapshot!(ctx.run(ctx.labcheck().arg("demo").arg("--lab-dir").arg(labs)));
}

#[test]
fn an_empty_labs_folder() {
    let ctx = Context::new();
    let labs = ctx.temp.path().join("labs");
    std::fs::create_dir_all(&labs).unwrap();
    insta::assert_snapshot!(ctx.run(ctx.labcheck().arg("list").arg("--lab-dir").arg(labs)));
}

#[test]
fn an_unreachable_daemon() {
    let ctx = Context::new();
    let labs = ctx.lab("demo", DEMO);
    insta::assert_snapshot!(ctx.run(ctx.labcheck().arg("demo").arg("--lab-dir").arg(labs)));
}

#[test]
fn an_unreachable_daemon_in_json_is_still_one_message_on_stderr() {
    let ctx = Context::new();
    let labs = ctx.lab("demo", DEMO);
    insta::assert_snapshot!(ctx.run(
        ctx.labcheck()
            .args(["demo", "--format", "json", "--lab-dir"])
            .arg(labs)
    ));
}

#[test]
fn a_bad_wait_duration() {
    let ctx = Context::new();
    insta::assert_snapshot!(ctx.run(ctx.labcheck().args(["demo", "--wait", "soon"])));
}

#[test]
fn grade_help() {
    let ctx = Context::new();
    insta::assert_snapshot!(ctx.run(ctx.labcheck().args(["grade", "--help"])));
}

#[test]
fn grade_a_limit_over_an_hour() {
    let ctx = Context::new();
    insta::assert_snapshot!(ctx.run(ctx.labcheck().args([
        "grade",
        "demo",
        "--roster",
        "class.toml",
        "--timeout",
        "2h"
    ])));
}

/// A learner whose engine can't be reached: a row marked error, the summary, and the files.
#[test]
fn grade_an_unreachable_learner() {
    let ctx = Context::new();
    let labs = ctx.lab("demo", DEMO);
    let roster = ctx.file(
        "class.toml",
        "[[learner]]\nid = \"bob\"\nendpoint = \"unix:///nonexistent.sock\"\n",
    );
    insta::assert_snapshot!(ctx.run(
        ctx.labcheck()
            .args(["grade", "demo", "--out", "grades", "--roster"])
            .arg(roster)
            .arg("--lab-dir")
            .arg(labs)
    ));
    let grades = ctx.temp.path().join("grades");
    let read = |f: &str| std::fs::read_to_string(grades.join(f)).unwrap();
    insta::assert_snapshot!("grade_an_unreachable_learner_csv", read("gradebook.csv"));
    insta::assert_snapshot!("grade_an_unreachable_learner_junit", read("junit/bob.xml"));
}

#[test]
fn doctor_with_no_engine_names_the_fix_and_exits_1() {
    let ctx = Context::new();
    insta::assert_snapshot!(ctx.run(ctx.labcheck().arg("doctor")));
}

#[test]
fn doctor_with_no_engine_in_json() {
    let ctx = Context::new();
    insta::assert_snapshot!(ctx.run(ctx.labcheck().args(["doctor", "--format", "json"])));
}

#[test]
fn doctor_with_an_unknown_lab_could_not_run() {
    let ctx = Context::new();
    let labs = ctx.lab("demo", DEMO);
    insta::assert_snapshot!(ctx.run(
        ctx.labcheck()
            .args(["doctor", "phase-9", "--lab-dir"])
            .arg(labs)
    ));
}

#[test]
fn doctor_help() {
    let ctx = Context::new();
    insta::assert_snapshot!(ctx.run(ctx.labcheck().args(["doctor", "--help"])));
}

/// The demo lab with its hints.toml; returns the labs folder.
fn demo_with_hints(ctx: &Context) -> PathBuf {
    let labs = ctx.lab("demo", DEMO);
    std::fs::write(labs.join("demo").join("hints.toml"), DEMO_HINTS).unwrap();
    labs
}

const DEMO_HINTS: &str = include_str!("fixtures/demo-hints.toml");

impl Context {
    /// `labcheck hint <args>` on `labs`, remembering in this test's own state folder.
    fn hint(&self, labs: &Path, args: &[&str]) -> String {
        self.run(
            self.labcheck()
                .arg("hint")
                .args(args)
                .arg("--lab-dir")
                .arg(labs)
                .env("XDG_STATE_HOME", self.temp.path().join("state")),
        )
    }

    fn hints_json(&self) -> serde_json::Value {
        let path = self.temp.path().join("state/labcheck/hints.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }
}

#[test]
fn hint_reveals_one_more_level_per_run_and_stops_at_the_fix() {
    let ctx = Context::new();
    let labs = demo_with_hints(&ctx);
    let runs: Vec<String> = (0..5)
        .map(|_| ctx.hint(&labs, &["demo", "db-running"]))
        .collect();
    // the fifth run shows the same as the fourth: there is no fifth level
    assert_eq!(runs[3], runs[4]);
    insta::assert_snapshot!(runs[..4].join("\n=====\n"));
    assert_eq!(ctx.hints_json()["labs"]["demo"]["db-running"], 4);
    assert_eq!(ctx.hints_json()["version"], 1);
}

#[test]
fn hint_a_level_directly_then_reset() {
    let ctx = Context::new();
    let labs = demo_with_hints(&ctx);
    let out = [
        ctx.hint(&labs, &["demo", "web-running", "--level", "3"]),
        ctx.hint(&labs, &["demo", "db-running"]),
        ctx.hint(&labs, &["demo", "web-running", "--reset"]),
        ctx.hint(&labs, &["demo", "--reset"]),
        ctx.hint(&labs, &["demo", "--reset"]),
    ];
    insta::assert_snapshot!(out.join("\n=====\n"));
    assert!(ctx.hints_json()["labs"].as_object().unwrap().is_empty());
}

#[test]
fn hint_refuses_an_unknown_check_and_a_level_out_of_range() {
    let ctx = Context::new();
    let labs = demo_with_hints(&ctx);
    let out = [
        ctx.hint(&labs, &["demo", "db-runing"]),
        ctx.hint(&labs, &["demo", "db-running", "--level", "5"]),
        ctx.hint(&labs, &["demo", "db-running", "--level", "2", "--reset"]),
    ];
    insta::assert_snapshot!(out.join("\n=====\n"));
    assert!(!ctx.temp.path().join("state/labcheck/hints.json").exists());
}

#[test]
fn hint_for_the_first_broken_step_needs_the_engine() {
    let ctx = Context::new();
    let labs = demo_with_hints(&ctx);
    insta::assert_snapshot!(ctx.hint(&labs, &["demo"]));
}

#[test]
fn hint_keeps_an_unreadable_state_file_aside() {
    let ctx = Context::new();
    let labs = demo_with_hints(&ctx);
    let dir = ctx.temp.path().join("state/labcheck");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hints.json"), "{\"version\": 7}").unwrap();
    let out = ctx.hint(&labs, &["demo", "db-running"]);
    let out = regex::Regex::new(r"unreadable-\d+")
        .unwrap()
        .replace(&out, "unreadable-[TIME]")
        .into_owned();
    insta::assert_snapshot!(out);
    assert_eq!(ctx.hints_json()["labs"]["demo"]["db-running"], 1);
    let aside: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .filter(|t| t.contains("\"version\": 7"))
        .collect();
    assert_eq!(aside.len(), 1, "the old file is kept, unchanged");
}

#[test]
fn a_hint_in_lab_toml_is_refused_and_points_to_hints_toml() {
    let ctx = Context::new();
    let labs = ctx.lab(
        "demo",
        &DEMO.replace(
            "service = \"db\"\n",
            "service = \"db\"\nhint = \"Start it.\"\n",
        ),
    );
    insta::assert_snapshot!(ctx.run(
        ctx.labcheck()
            .args(["explain", "demo", "--lab-dir"])
            .arg(labs)
    ));
}

#[test]
fn hints_toml_for_a_check_that_does_not_exist() {
    let ctx = Context::new();
    let labs = demo_with_hints(&ctx);
    std::fs::write(
        labs.join("demo/hints.toml"),
        DEMO_HINTS.replace("[web-running]", "[web-runing]"),
    )
    .unwrap();
    insta::assert_snapshot!(ctx.run(
        ctx.labcheck()
            .args(["explain", "demo", "--lab-dir"])
            .arg(labs)
    ));
}

#[test]
fn lint_requires_every_hint_level() {
    let ctx = Context::new();
    let labs = demo_with_hints(&ctx);
    std::fs::write(
        labs.join("demo/hints.toml"),
        DEMO_HINTS.replace("see = \"`docker compose ps -a web`\"\n", ""),
    )
    .unwrap();
    let mut out = ctx.run(ctx.labcheck().arg("lint").arg("--lab-dir").arg(&labs));
    std::fs::remove_file(labs.join("demo/hints.toml")).unwrap();
    out.push_str("\n=====\n");
    out.push_str(&ctx.run(ctx.labcheck().arg("lint").arg("--lab-dir").arg(&labs)));
    insta::assert_snapshot!(out);
}

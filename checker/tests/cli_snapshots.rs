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

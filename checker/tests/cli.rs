//! The command line: usage, list, explain, lint, and the exit codes (no engine needed).

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

const LAB: &str = r#"format_version = 1
id = "demo"
title = "Demo lab"

[target]
kind = "compose"
services = ["web", "db"]

[[checks]]
id = "db-running"
title = "db is running"
kind = "running"
service = "db"

[[checks]]
id = "web-running"
title = "web is running"
kind = "running"
service = "web"
needs = ["db-running"]
"#;

fn labcheck() -> Command {
    let mut c = Command::cargo_bin("labcheck").unwrap();
    c.env_remove("LABCHECK_LABS")
        .env_remove("NO_COLOR")
        .env("DOCKER_HOST", "unix:///nonexistent.sock");
    c
}

fn labs(with: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (id, text) in with {
        std::fs::create_dir_all(dir.path().join(id)).unwrap();
        std::fs::write(dir.path().join(id).join("lab.toml"), text).unwrap();
    }
    dir
}

fn repo_labs() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../labs")
}

#[test]
fn no_arguments_prints_usage_and_exits_2() {
    labcheck()
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Usage: labcheck"));
}

#[test]
fn help_names_the_commands_and_exit_codes() {
    labcheck().arg("--help").assert().success().stdout(
        predicate::str::contains("explain")
            .and(predicate::str::contains("lint"))
            .and(predicate::str::contains("Exit codes")),
    );
}

#[test]
fn list_shows_every_lab_even_a_broken_one() {
    let d = labs(&[("demo", LAB), ("broken", "format_version = 1\nid = \n")]);
    labcheck()
        .args(["list", "--lab-dir"])
        .arg(d.path())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("demo       Demo lab  (2 checks)")
                .and(predicate::str::contains("broken     (cannot be checked: ")),
        );
}

#[test]
fn explain_prints_the_ladder_without_an_engine() {
    labcheck()
        .args(["explain", "phase-3", "--lab-dir"])
        .arg(repo_labs())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("phase-3: ")
                .and(predicate::str::contains("db-running"))
                .and(predicate::str::contains("needs: db-running"))
                .and(predicate::str::contains(
                    "http://localhost:3000/phase-3/index.html",
                )),
        );
}

#[test]
fn explain_uses_the_book_url_from_the_environment() {
    let d = labs(&[(
        "demo",
        &LAB.replace(
            "title = \"Demo lab\"",
            "title = \"Demo lab\"\nbook = \"demo/index.html\"",
        ),
    )]);
    labcheck()
        .env("LABCHECK_BOOK_URL", "https://book.example/")
        .args(["explain", "demo", "--lab-dir"])
        .arg(d.path())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("book: https://book.example/demo/index.html").and(
                predicate::str::contains("  2.   web-running  web is running [running, 1 pt]"),
            ),
        );
}

#[test]
fn an_unknown_lab_lists_the_known_ones_and_exits_2() {
    let d = labs(&[("demo", LAB)]);
    labcheck()
        .args(["nope", "--lab-dir"])
        .arg(d.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown lab `nope`. Known labs: demo",
        ));
}

#[test]
fn a_malformed_lab_toml_is_named_with_line_and_column_and_exits_2() {
    let d = labs(&[("demo", &LAB.replace("title = \"Demo lab\"", "title = "))]);
    labcheck()
        .args(["demo", "--lab-dir"])
        .arg(d.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("demo/lab.toml:3:9: "));
}

#[test]
fn an_unreachable_daemon_is_one_clear_message_and_exit_2() {
    let d = labs(&[("demo", LAB)]);
    for format in ["human", "json"] {
        labcheck()
            .args(["demo", "--format", format, "--lab-dir"])
            .arg(d.path())
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(
                predicate::str::contains(
                    "cannot reach the Docker daemon at unix:///nonexistent.sock",
                )
                .and(predicate::str::contains("start Docker"))
                .and(predicate::str::contains("DOCKER_HOST"))
                .and(predicate::str::contains("socket")),
            );
    }
}

#[test]
fn lint_exit_codes() {
    let good = labs(&[("demo", LAB)]);
    labcheck()
        .args(["lint", "--lab-dir"])
        .arg(good.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("1 lab(s) (demo), 0 problem(s)"));
    let bad = labs(&[(
        "demo",
        &LAB.replace("needs = [\"db-running\"]", "needs = [\"db-runing\"]"),
    )]);
    labcheck()
        .args(["lint", "--lab-dir"])
        .arg(bad.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "demo/lab.toml:20:10: check `web-running` needs `db-runing`",
        ));
}

#[test]
fn an_empty_labs_folder_is_nothing_to_check() {
    let d = labs(&[]);
    labcheck()
        .args(["list", "--lab-dir"])
        .arg(d.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no labs found"));
}

#[test]
fn a_bad_wait_duration_is_a_usage_error() {
    labcheck()
        .args(["demo", "--wait", "soon"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a duration"));
}

#[test]
fn the_labs_folder_comes_from_the_environment() {
    let d = labs(&[("demo", LAB)]);
    labcheck()
        .env("LABCHECK_LABS", d.path())
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("Demo lab"));
}

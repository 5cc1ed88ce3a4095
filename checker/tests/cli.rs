//! The command line under settings from the environment (no engine needed). What the main
//! commands print, and their exit codes, are pinned in cli_snapshots.rs.

use assert_cmd::Command;
use predicates::prelude::*;

const LAB: &str = include_str!("fixtures/demo-lab.toml");

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
fn the_labs_folder_comes_from_the_environment() {
    let d = labs(&[("demo", LAB)]);
    labcheck()
        .env("LABCHECK_LABS", d.path())
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("Demo lab"));
}

#[test]
fn the_global_lab_dir_may_come_before_a_subcommand() {
    // issue #13: clap's args_conflicts_with_subcommands read `watch` as the lab after --lab-dir
    let d = labs(&[("demo", LAB)]);
    for sub in [&["list"][..], &["explain", "demo"]] {
        labcheck()
            .arg("--lab-dir")
            .arg(d.path())
            .args(sub)
            .assert()
            .success()
            .stdout(
                predicate::str::contains("web-running").or(predicate::str::contains("Demo lab")),
            );
    }
    // no engine here: watch gets as far as connecting, so it took `watch` as the subcommand
    labcheck()
        .arg("--lab-dir")
        .arg(d.path())
        .args(["watch", "demo"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot reach the Docker daemon"));
}

#[test]
fn a_check_argument_with_a_subcommand_is_a_usage_error() {
    let d = labs(&[("demo", LAB)]);
    for (args, named) in [
        (&["demo", "list"][..], "'[LAB]'"),
        (&["--strict", "list"], "'--strict'"),
        (&["-p", "x", "watch", "demo"], "'--project <PROJECT>'"),
        (&["--verbose", "explain", "demo"], "'--verbose'"),
    ] {
        labcheck()
            .arg("--lab-dir")
            .arg(d.path())
            .args(args)
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(format!(
                "cannot be used with {named}"
            )));
    }
}

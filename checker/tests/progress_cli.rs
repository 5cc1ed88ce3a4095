//! `labcheck progress` and the progress file, from the command line, in a temporary state folder:
//! the table and JSON (insta), a damaged and a newer file kept aside, the export, and many
//! labcheck processes recording at once (against the live engine: a run needs one).

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn repo_labs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../labs")
        .canonicalize()
        .unwrap()
}

fn labcheck(state: &Path) -> Command {
    let mut c = Command::cargo_bin("labcheck").unwrap();
    c.env_remove("LABCHECK_LABS")
        .env_remove("XDG_STATE_HOME")
        .env("NO_COLOR", "1")
        .env("LABCHECK_STATE_DIR", state)
        .env("LABCHECK_LABS", repo_labs());
    c
}

/// A file as three runs of two labs would leave it.
const RECORDED: &str = r#"{
  "schema": "labcheck-progress",
  "version": 1,
  "labs": {
    "phase-1": {
      "first_run": "2026-11-30T09:00:00Z",
      "last_run": "2026-11-30T09:42:10Z",
      "runs": 7,
      "first_green": "2026-11-30T09:42:10Z",
      "time_to_green_s": 2530,
      "last_green": true,
      "last_passed": 10,
      "last_total": 10,
      "hints_revealed": 0,
      "drills_passed": []
    },
    "phase-4": {
      "first_run": "2026-12-01T14:05:00Z",
      "last_run": "2026-12-01T15:00:00Z",
      "runs": 3,
      "first_green": null,
      "time_to_green_s": null,
      "last_green": false,
      "last_passed": 6,
      "last_total": 13,
      "hints_revealed": 0,
      "drills_passed": ["restore-works"]
    },
    "phase-9": {
      "first_run": "2026-12-01T16:00:00Z",
      "last_run": "2026-12-01T16:00:00Z",
      "runs": 1,
      "first_green": "2026-12-01T16:00:00Z",
      "time_to_green_s": 0,
      "last_green": false,
      "last_passed": 2,
      "last_total": 3,
      "hints_revealed": 0,
      "drills_passed": []
    }
  }
}
"#;

/// exit code, stdout, stderr; the state folder shown as [STATE].
fn shown(out: &std::process::Output, state: &Path) -> String {
    let text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stamp = regex::Regex::new(r"corrupt-\d{8}T\d{6}Z").unwrap();
    stamp
        .replace_all(
            &text.replace(&state.display().to_string(), "[STATE]"),
            "corrupt-[STAMP]",
        )
        .into_owned()
}

#[test]
fn progress_with_no_file_shows_every_lab_not_started() {
    let state = tempfile::tempdir().unwrap();
    let out = labcheck(state.path()).arg("progress").output().unwrap();
    insta::assert_snapshot!(shown(&out, state.path()));
    assert!(
        !state.path().join("progress.json").exists(),
        "reading writes nothing"
    );
}

#[test]
fn progress_shows_the_six_phases_then_labs_only_the_file_knows() {
    let state = tempfile::tempdir().unwrap();
    std::fs::write(state.path().join("progress.json"), RECORDED).unwrap();
    let out = labcheck(state.path()).arg("progress").output().unwrap();
    insta::assert_snapshot!(shown(&out, state.path()));
}

#[test]
fn progress_json_is_the_file_document() {
    let state = tempfile::tempdir().unwrap();
    std::fs::write(state.path().join("progress.json"), RECORDED).unwrap();
    let out = labcheck(state.path())
        .args(["progress", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file: serde_json::Value = serde_json::from_str(RECORDED).unwrap();
    assert_eq!(doc, file);
}

#[test]
fn a_damaged_file_is_reported_and_kept_aside() {
    let state = tempfile::tempdir().unwrap();
    let file = state.path().join("progress.json");
    std::fs::write(
        &file,
        "{\"schema\": \"labcheck-progress\", \"version\": 1, \"labs\": {",
    )
    .unwrap();
    let out = labcheck(state.path()).arg("progress").output().unwrap();
    insta::assert_snapshot!(shown(&out, state.path()));
    let aside: Vec<PathBuf> = std::fs::read_dir(state.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("progress.json.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(std::fs::read_to_string(&aside[0])
        .unwrap()
        .ends_with("\"labs\": {"));
}

#[test]
fn a_newer_file_is_reported_and_kept_aside() {
    let state = tempfile::tempdir().unwrap();
    let newer = RECORDED.replace("\"version\": 1", "\"version\": 2");
    std::fs::write(state.path().join("progress.json"), &newer).unwrap();
    let out = labcheck(state.path())
        .args(["progress", "--format", "json"])
        .output()
        .unwrap();
    insta::assert_snapshot!(shown(&out, state.path()));
    let kept = std::fs::read_dir(state.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("corrupt-"))
        .expect("kept aside");
    assert_eq!(std::fs::read_to_string(kept).unwrap(), newer, "untouched");
}

#[test]
fn export_writes_a_copy_to_hand_in() {
    let state = tempfile::tempdir().unwrap();
    std::fs::write(state.path().join("progress.json"), RECORDED).unwrap();
    let to = state.path().join("hand-in.json");
    let out = labcheck(state.path())
        .args(["progress", "--export"])
        .arg(&to)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("wrote your progress on 3 lab(s) to"),
        "{stderr}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&to).unwrap()).unwrap();
    assert_eq!(doc["schema"], "labcheck-progress");
    assert_eq!(doc["labs"]["phase-1"]["runs"], 7);
    let at = doc["exported_at"].as_str().expect("exported_at");
    assert!(humantime::parse_rfc3339(at).is_ok(), "{at}");
}

#[test]
fn the_state_folder_follows_xdg_state_home() {
    let xdg = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("labcheck")
        .unwrap()
        .env_remove("LABCHECK_STATE_DIR")
        .env("XDG_STATE_HOME", xdg.path())
        .env("LABCHECK_LABS", repo_labs())
        .arg("progress")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let want = xdg.path().join("labcheck").join("progress.json");
    assert!(
        stdout.starts_with(&format!("Progress in {}\n", want.display())),
        "{stdout}"
    );
}

#[test]
fn progress_in_an_unusable_state_folder_says_why() {
    let state = tempfile::tempdir().unwrap();
    let blocked = state.path().join("not-a-folder");
    std::fs::write(&blocked, "x").unwrap();
    let out = labcheck(&blocked).arg("progress").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("labcheck: progress: cannot create"),
        "{stderr}"
    );
}

/// A run whose progress cannot be recorded keeps its own exit code and says so on stderr.
#[test]
fn live_a_run_that_cannot_record_warns_and_keeps_its_exit_code() {
    let state = tempfile::tempdir().unwrap();
    let blocked = state.path().join("not-a-folder");
    std::fs::write(&blocked, "x").unwrap();
    let out = labcheck(&blocked)
        .args(["phase-1", "-p", "h-progress-not-up"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("labcheck: warning: progress not recorded: cannot create"),
        "{stderr}"
    );
}

/// Many labcheck processes at once, each a run (of a project that is not up: a report, exit 1)
/// recorded into one file: none is lost.
#[test]
fn live_concurrent_runs_lose_nothing() {
    let state = tempfile::tempdir().unwrap();
    let n = 16;
    let children: Vec<std::process::Child> = (0..n)
        .map(|i| {
            let lab = if i % 2 == 0 { "phase-1" } else { "phase-3" };
            std::process::Command::new(assert_cmd::cargo::cargo_bin("labcheck"))
                .env("LABCHECK_STATE_DIR", state.path())
                .env("LABCHECK_LABS", repo_labs())
                .args([lab, "-p", "h-progress-not-up", "--format", "json"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "a stack that is not up fails (needs a live engine): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = std::fs::read_to_string(state.path().join("progress.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["labs"]["phase-1"]["runs"], n / 2);
    assert_eq!(doc["labs"]["phase-3"]["runs"], n / 2);
    assert_eq!(
        doc["labs"]["phase-3"]["first_green"],
        serde_json::Value::Null
    );
    assert_eq!(doc["labs"]["phase-3"]["last_green"], false);
}

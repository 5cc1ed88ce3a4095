//! `labcheck watch` against a real phase-3 stack, read through a terminal (tmux): stopping db,
//! starting it again and editing `.env` are each reported once, and Ctrl-C exits with the last
//! verdict's code. Publishes phase 3's port 8080, so run under the live lock:
//! `flock /tmp/compose-lab-live.lock cargo test -p labcheck --test live_watch`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const PROJECT: &str = "h-watch-live";
const SESSION: &str = "h-watch-live";

fn labs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../labs")
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the command starts");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn compose(dir: &Path, args: &[&str]) -> String {
    run(Command::new("docker")
        .args(["compose", "-p", PROJECT])
        .args(args)
        .current_dir(dir))
}

fn screen() -> String {
    run(Command::new("tmux").args(["capture-pane", "-p", "-J", "-t", SESSION, "-S", "-200"]))
}

/// Waits until the screen shows `what`; returns the screen.
fn wait_for(what: &str, within: Duration) -> String {
    let start = Instant::now();
    loop {
        let s = screen();
        if s.contains(what) {
            return s;
        }
        assert!(
            start.elapsed() < within,
            "no `{what}` within {within:?}; the screen:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

struct Down(PathBuf);
impl Drop for Down {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", SESSION])
            .output();
        let _ = Command::new("docker")
            .args(["compose", "-p", PROJECT, "down", "-v", "--remove-orphans"])
            .current_dir(&self.0)
            .output();
    }
}

#[test]
fn watch_reports_each_change_once_and_exits_with_the_last_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("phase-3");
    run(Command::new("cp")
        .args(["-r"])
        .arg(labs().join("phase-3/solution"))
        .arg(&dir));
    let _down = Down(dir.clone());
    compose(&dir, &["up", "-d", "--wait", "--build"]);

    let bin = env!("CARGO_BIN_EXE_labcheck");
    let cmd = format!(
        "{bin} --lab-dir {} watch phase-3 -p {PROJECT}; echo EXIT=$?; sleep 60",
        labs().display()
    );
    run(Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-x",
            "200",
            "-y",
            "60",
            "-s",
            SESSION,
            "-c",
        ])
        .arg(&dir)
        .arg(cmd));
    wait_for("Ctrl-C quits", Duration::from_secs(30));
    wait_for(
        "changed: nothing since watch started",
        Duration::from_secs(5),
    );

    // stop db: its running check turns red, once
    compose(&dir, &["stop", "db"]);
    let s = wait_for("db-running turned red", Duration::from_secs(30));
    assert_eq!(s.matches("db-running turned red").count(), 1, "{s}");
    assert!(s.contains("after db: "), "the run names its event: {s}");

    // start it again: green again, and the red change is replaced, not repeated
    compose(&dir, &["start", "db"]);
    let s = wait_for("db-running turned green", Duration::from_secs(60));
    assert_eq!(s.matches("db-running turned").count(), 1, "{s}");

    // an edit to .env re-checks, once
    std::fs::write(
        dir.join(".env"),
        std::fs::read_to_string(dir.join(".env")).unwrap() + "# edited\n",
    )
    .unwrap();
    let s = wait_for("after .env changed", Duration::from_secs(10));
    assert_eq!(s.matches("after .env changed").count(), 1, "{s}");

    // wait for the whole stack to be green, then Ctrl-C: exit 0
    let green = regex::Regex::new(r"✓ \d+\.\d+s \(newest last").unwrap();
    let start = Instant::now();
    while !green.is_match(&screen()) {
        assert!(start.elapsed() < Duration::from_secs(90), "{}", screen());
        std::thread::sleep(Duration::from_millis(500));
    }
    run(Command::new("tmux").args(["send-keys", "-t", SESSION, "C-c"]));
    let s = wait_for("EXIT=", Duration::from_secs(10));
    assert!(s.contains("the last verdict exits 0"), "{s}");
    assert!(s.contains("EXIT=0"), "{s}");
}

#[test]
fn without_a_terminal_watch_prints_a_plain_report_per_run() {
    // no stack of this project: the first run says so, and Ctrl-C (SIGINT) ends with exit 1
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_labcheck"))
        .args(["--lab-dir"])
        .arg(labs())
        .args(["watch", "phase-3", "-p", "h-watch-none"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    run(Command::new("kill").args(["-INT", &child.id().to_string()]));
    let code = child.wait().unwrap().code();
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert!(
        out.contains("── labcheck watch phase-3: run 1 at "),
        "{out}"
    );
    assert!(
        out.contains("The compose project `h-watch-none` has no containers"),
        "{out}"
    );
    assert!(!out.contains("\x1b["), "no terminal codes in a pipe: {out}");
    assert!(out.contains("the last verdict exits 1"), "{out}");
    assert_eq!(code, Some(1));
}

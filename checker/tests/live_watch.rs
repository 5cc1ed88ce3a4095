//! Live: `labcheck watch` against a real phase-3 stack, read through a terminal (tmux) and
//! through a pipe at the same time: stopping db, starting it again and editing `.env` are each
//! reported once, and Ctrl-C exits with the last verdict's code. The stack publishes phase 3's
//! port 8080, so the test takes the live lock (`common::live_lock`). With no reachable engine,
//! or no tmux, these tests FAIL: they never skip.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

/// How long one step may take: a debug build on a busy 2-core machine.
const STEP: Duration = Duration::from_secs(60);

fn labs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../labs")
        .canonicalize()
        .unwrap()
}

/// `cmd`, asserted to succeed; its stdout.
fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{cmd:?} (is it installed? scripts/setup-engine.sh --for-tests installs tmux): {e}")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `look` every 200 ms until it returns Ok, for at most `within`; panics with its last Err.
fn until<T>(within: Duration, what: &str, mut look: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        match look() {
            Ok(t) => return t,
            Err(seen) if start.elapsed() > within => {
                panic!("no {what} within {within:?}; what there was:\n{seen}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// A phase-3 solution stack brought up from a copy of the solution folder under its own
/// project; `down -v` (and its built image removed) when the test ends, also on panic. Holds
/// the live lock while it publishes 8080.
struct Stack {
    project: String,
    dir: PathBuf,
    _tmp: tempfile::TempDir,
    _lock: common::LiveLock,
}

impl Stack {
    fn up(project: &str) -> Stack {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("phase-3");
        run(Command::new("cp")
            .arg("-r")
            .arg(labs().join("phase-3/solution"))
            .arg(&dir));
        let lock = common::live_lock();
        let stack = Stack {
            project: project.into(),
            dir,
            _tmp: tmp,
            _lock: lock,
        };
        let t = Instant::now();
        stack.compose(&["up", "-d", "--build", "--wait", "--wait-timeout", "120"]);
        eprintln!("stack up in {:.1?}", t.elapsed());
        stack
    }

    fn compose(&self, args: &[&str]) {
        run(Command::new("docker")
            .args(["compose", "-p", &self.project])
            .args(args)
            .current_dir(&self.dir));
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args([
                "compose",
                "-p",
                &self.project,
                "down",
                "-v",
                "--rmi",
                "local",
            ])
            .args(["--remove-orphans", "--timeout", "2"])
            .current_dir(&self.dir)
            .output();
    }
}

/// A tmux server of the test's own (its socket in a temporary folder), one window, killed
/// when dropped.
struct Tmux {
    socket: tempfile::TempDir,
}

impl Tmux {
    /// An interactive bash in a 200x100 window (the whole frame fits: no wrapping, no scroll).
    fn start(cwd: &Path) -> Tmux {
        let t = Tmux {
            socket: tempfile::tempdir().unwrap(),
        };
        run(t
            .cmd()
            .args([
                "new-session",
                "-d",
                "-s",
                "w",
                "-x",
                "200",
                "-y",
                "100",
                "-c",
            ])
            .arg(cwd)
            .arg("bash --norc --noprofile"));
        t
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S")
            .arg(self.socket.path().join("tmux"))
            .args(["-f", "/dev/null"])
            .env("LC_ALL", "C.UTF-8")
            .env_remove("TMUX");
        c
    }

    fn keys(&self, keys: &[&str]) {
        run(self.cmd().args(["send-keys", "-t", "w"]).args(keys));
    }

    /// What the window shows now.
    fn screen(&self) -> String {
        run(self.cmd().args(["capture-pane", "-p", "-J", "-t", "w"]))
    }

    /// The window's scrollback and what it shows now.
    fn history(&self) -> String {
        run(self
            .cmd()
            .args(["capture-pane", "-p", "-J", "-t", "w", "-S", "-"]))
    }

    /// Waits until the window shows `what`; returns the screen.
    fn wait_for(&self, what: &str) -> String {
        self.wait_until(what, |s| s.contains(what))
    }

    fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        until(STEP, &format!("`{what}` on the terminal"), || {
            let s = self.screen();
            if ok(&s) {
                Ok(s)
            } else {
                Err(s)
            }
        })
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

/// `labcheck watch` with its stdout a pipe, read as it comes; killed when dropped.
struct Piped {
    child: Child,
    /// bytes: a read may end inside a character ("─", "✓")
    out: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Piped {
    fn start(args: &[&str], cwd: &Path) -> Piped {
        let mut child = Command::new(env!("CARGO_BIN_EXE_labcheck"))
            .arg("--lab-dir")
            .arg(labs())
            .args(args)
            .current_dir(cwd)
            .env_remove("LABCHECK_LABS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = child.stdout.take().unwrap();
        let sink = out.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Piped {
            child,
            out,
            reader: Some(reader),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    fn wait_for(&self, what: &str) -> String {
        until(STEP, &format!("`{what}` in the piped output"), || {
            let s = self.text();
            if s.contains(what) {
                Ok(s)
            } else {
                Err(s)
            }
        })
    }

    /// Ctrl-C (SIGINT); the exit code and everything it printed.
    fn interrupt(&mut self) -> (Option<i32>, String) {
        run(Command::new("kill").args(["-INT", &self.child.id().to_string()]));
        let code = until(STEP, "exit after SIGINT", || match self.child.try_wait() {
            Ok(Some(status)) => Ok(status.code()),
            _ => Err(self.text()),
        });
        // the reader ends at EOF, with the last bytes taken
        let _ = self.reader.take().map(|r| r.join());
        (code, self.text())
    }
}

impl Drop for Piped {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The runs in a piped output: their headers ("── labcheck watch phase-3: run 3 at … after …").
fn runs(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.starts_with("── labcheck watch "))
        .collect()
}

#[test]
fn live_watch_reports_each_change_once_and_exits_with_the_last_verdict() {
    let _ = common::engine();
    let started = Instant::now();
    let project = format!("hw-watch-{}", std::process::id());
    // declared first, dropped last: the watchers end before the stack goes down
    let stack = Stack::up(&project);
    let bin = env!("CARGO_BIN_EXE_labcheck");
    // From elsewhere than the lab folder: watch finds the folder from the project's labels.
    let elsewhere = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(elsewhere.path());
    let mut piped = Piped::start(&["watch", "phase-3", "-p", &project], elsewhere.path());
    tmux.keys(&[
        &format!(
            "{bin} --lab-dir {} watch phase-3 -p {project}; echo EXIT=$?",
            labs().display()
        ),
        "Enter",
    ]);

    // the first frame: all green, nothing changed yet, the project's folder watched
    let s = tmux.wait_for("Ctrl-C quits");
    assert!(s.contains("changed: nothing since watch started"), "{s}");
    assert!(s.contains("runs: ✓ "), "the solution is green: {s}");
    let watched = format!(
        "watching Docker events of project {project} and the files in {}",
        stack.dir.display()
    );
    assert!(s.contains(&watched), "{s}");
    let first = piped.wait_for("runs: ");
    assert!(
        first.contains("── labcheck watch phase-3: run 1 at "),
        "{first}"
    );
    assert!(
        !first.contains("\x1b["),
        "no terminal codes in a pipe: {first}"
    );
    eprintln!("first frames after {:.1?}", started.elapsed());

    // stop db: its running check turns red, once
    stack.compose(&["stop", "db"]);
    let s = tmux.wait_for("db-running turned red");
    assert_eq!(s.matches("db-running turned").count(), 1, "{s}");
    let after_db =
        regex::Regex::new(r"\(newest last; the last at \S+ after [^)]*db: (kill|die|stop)")
            .unwrap();
    assert!(after_db.is_match(&s), "the run names its event: {s}");
    piped.wait_for("db-running turned red");
    eprintln!("db stopped and seen after {:.1?}", started.elapsed());

    // start it again: green again (healthy too), the red change replaced, not kept beside it
    // (the frame keeps the 6 newest changes: db-running's green may already be off it; the
    // pipe has every run's)
    stack.compose(&["start", "db"]);
    let s = tmux.wait_for("db-healthy turned green");
    assert!(!s.contains("db-running turned red"), "{s}");
    piped.wait_for("db-healthy turned green");
    eprintln!("db started and seen after {:.1?}", started.elapsed());

    // an edit to .env re-checks
    let env = stack.dir.join(".env");
    let text = std::fs::read_to_string(&env).unwrap();
    std::fs::write(&env, text + "# edited while watching\n").unwrap();
    tmux.wait_for("after .env changed");
    piped.wait_for("after .env changed ──");
    eprintln!(".env edit seen after {:.1?}", started.elapsed());

    // the whole stack green again, then Ctrl-C: exit 0
    let green = regex::Regex::new(r"✓ \d+\.\d+s \(newest last").unwrap();
    tmux.wait_until("the last run green", |s| green.is_match(s));
    tmux.keys(&["C-c"]);
    let s = tmux.wait_until("EXIT=", |s| s.lines().any(|l| l.starts_with("EXIT=")));
    assert!(s.contains("the last verdict exits 0 (all green)"), "{s}");
    assert!(s.contains("EXIT=0"), "{s}");
    // redraws overwrite the frame: tmux (scroll-on-clear) kept one copy per redraw when each
    // cleared the whole screen
    let h = tmux.history();
    assert_eq!(
        h.matches("Ctrl-C quits").count(),
        1,
        "one frame in all:\n{h}"
    );

    let (code, out) = piped.interrupt();
    assert!(
        out.contains("the last verdict exits 0 (all green)"),
        "{out}"
    );
    assert_eq!(code, Some(0), "{out}");
    // each change once in the pipe's reports: one stop, one start, one edit
    for once in [
        "db-running turned red",
        "db-running turned green",
        "after .env changed ──",
    ] {
        assert_eq!(out.matches(once).count(), 1, "`{once}` once:\n{out}");
    }
    let n = runs(&out);
    eprintln!(
        "{} runs in the pipe, {:.1?} in all:\n{}",
        n.len(),
        started.elapsed(),
        n.join("\n")
    );
}

#[test]
fn without_a_terminal_watch_prints_a_plain_report_per_run() {
    // no stack of this project: the first run says so, and Ctrl-C (SIGINT) ends with exit 1
    let _ = common::engine();
    let project = format!("hw-watch-none-{}", std::process::id());
    let cwd = tempfile::tempdir().unwrap();
    let mut piped = Piped::start(&["watch", "phase-3", "-p", &project], cwd.path());
    piped.wait_for("runs: ");
    let (code, out) = piped.interrupt();
    assert!(
        out.starts_with("── labcheck watch phase-3: run 1 at "),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "The compose project `{project}` has no containers"
        )),
        "{out}"
    );
    assert!(!out.contains("\x1b["), "no terminal codes in a pipe: {out}");
    assert!(
        out.contains("the last verdict exits 1 (something fails)"),
        "{out}"
    );
    assert_eq!(code, Some(1), "{out}");
}

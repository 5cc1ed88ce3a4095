//! Live tests against the real engine, driven by every labs/*/lab.toml that declares [[faults]].
//!
//! For each such compose lab (plain-containers labs: their `[live]` up/down scripts, faults as
//! scripts run after `up`): the solution passes every check; each fault (solution + override)
//! fails exactly its declared `fails`, with `first_broken` first (a fault that leaves the stack
//! working shows its declared `warns` and `notes` instead, and exits 0); each working variant
//! (`[[variants]]`, a learner's own way of writing the stack) has no failure; a half-up stack (only the
//! first service) and an absent stack give their single clear message.
//! Each compose lab runs from a private copy of its folder; each fault starts from a fresh
//! project (`down -v` first). A compose lab's `[live] after_up`
//! steps run after `up -d --wait` (e.g. a migration, a backup, `--scale`). Drills (checks that
//! change the stack) are skipped without `--drill`, pass on the solution with it, and a fault
//! with `drill = true` is checked with it (`LABCHECK_LIVE_NO_DRILLS=1` leaves those out).
//! The docker CLI sets the stacks up (the product itself never calls it). Labs run side by side
//! (at most `LABCHECK_LIVE_JOBS`, default 2) when the host ports they publish differ; a lab's own
//! variants run one after another. Stacks are always torn down, also on panic.
//! With no reachable engine these tests FAIL: they never skip. Both tests hold the live lock
//! (`common::live_lock`, taken once for the process) while they publish the labs' ports.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Condvar, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use labcheck::lab::{lint::lab_dirs, load_lab, Lab, Target};
use labcheck::report::{StackState, Status};
use labcheck::{run_lab, run_until_with, Report, RunOptions};

mod common;

/// The live lock, for this process: both tests publish the labs' ports, and run side by side.
static LIVE: OnceLock<common::LiveLock> = OnceLock::new();

fn labs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../labs")
        .canonicalize()
        .expect("the repo's labs/ folder")
}

/// A compose project brought up for a test; `down -v` on drop, panic or not.
struct Stack {
    project: String,
    dir: PathBuf,
    files: Vec<PathBuf>,
    /// `[live] after_up`: compose argument lists run after `up -d --wait` (then `up` waits).
    after_up: Vec<Vec<String>>,
    /// Files the stack writes into solution/ (the globs of `tarball` checks), removed around each run.
    written: Vec<String>,
}

impl Stack {
    fn new(lab: &Lab) -> Stack {
        let suffix = format!(
            "{}-{}",
            std::process::id(),
            Instant::now().elapsed().subsec_nanos() % 10000
        );
        // the backups a `tarball` check reads are written next to the compose file
        let spec: toml::Table =
            toml::from_str(&std::fs::read_to_string(&lab.file).unwrap()).unwrap();
        let written = spec
            .get("checks")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
            .filter(|c| c.get("kind").and_then(|k| k.as_str()) == Some("tarball"))
            .filter_map(|c| Some(c.get("path")?.as_str()?.to_string()))
            .collect();
        Stack {
            project: format!("lc-{}-{suffix}", lab.id),
            dir: lab.dir.clone(),
            files: vec![lab.dir.join("solution/compose.yaml")],
            after_up: live_after_up(lab),
            written,
        }
    }

    /// Remove what the stack wrote into solution/ (e.g. backups/pgdata-*.tar.gz).
    fn clean_written(&self) {
        for glob in &self.written {
            let (dir, pattern) = glob.rsplit_once('/').unwrap_or(("", glob));
            let (prefix, suffix) = pattern.split_once('*').unwrap_or((pattern, ""));
            let Ok(entries) = std::fs::read_dir(self.dir.join("solution").join(dir)) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with(prefix)
                    && name.ends_with(suffix)
                    && name.len() >= prefix.len() + suffix.len()
                {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    /// A fresh start: containers, networks and volumes of every profile removed.
    fn down(&self) {
        self.down_with(&[]);
    }

    /// `down` with more arguments (the last teardown also removes the images it built).
    fn down_with(&self, more: &[&str]) {
        let mut args = vec![
            "--profile",
            "*",
            "down",
            "-v",
            "--remove-orphans",
            "--timeout",
            "2",
        ];
        args.extend_from_slice(more);
        let out = self.compose(&self.files.clone(), &args);
        if !out.status.success() {
            eprintln!(
                "[live] teardown of {} failed: {}",
                self.project,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        self.clean_written();
    }

    fn compose(&self, files: &[PathBuf], args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new("docker");
        cmd.arg("compose");
        for f in files {
            cmd.arg("-f").arg(f);
        }
        cmd.args(["-p", &self.project])
            .args(args)
            .current_dir(&self.dir);
        cmd.output().expect("docker compose runs")
    }

    /// `up -d --build` with these override files (retrying while a host port is taken by
    /// another test run on this machine).
    fn up(&mut self, overrides: &[PathBuf], services: &[&str]) {
        let mut files = vec![self.dir.join("solution/compose.yaml")];
        files.extend(overrides.iter().cloned());
        self.up_files(files, services)
    }

    /// `up` of exactly these compose files (a working variant is a whole compose file).
    fn up_files(&mut self, files: Vec<PathBuf>, services: &[&str]) {
        self.files = files.clone();
        let mut args = vec!["up", "-d", "--build", "--remove-orphans"];
        if !services.is_empty() {
            args.push("--no-deps"); // really only these services
        }
        // A lab with set-up steps: they need the stack up and healthy first.
        let steps = services.is_empty() && !self.after_up.is_empty();
        if steps {
            args.extend(["--wait", "--wait-timeout", "60"]);
        }
        args.extend_from_slice(services);
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let out = self.compose(&files, &args);
            if out.status.success() {
                break;
            }
            let err = String::from_utf8_lossy(&out.stderr).to_string();
            if err.contains("port is already allocated") && Instant::now() < deadline {
                eprintln!("[live] a host port is busy (another run?); retrying");
                std::thread::sleep(Duration::from_secs(3));
                continue;
            }
            if steps {
                // a fault can keep a service from getting healthy: the checks will say which
                eprintln!(
                    "[live] `up --wait` of {} did not finish: {}",
                    self.project,
                    err.trim().lines().last().unwrap_or("")
                );
                break;
            }
            panic!("docker compose up failed for {}:\n{err}", self.project);
        }
        if steps {
            for step in &self.after_up {
                let args: Vec<&str> = step.iter().map(String::as_str).collect();
                let mut out = self.compose(&files, &args);
                if !out.status.success() {
                    // a one-off container started right after `up --wait` on a loaded machine
                    // has once failed to resolve a service name: one retry tells that apart
                    // from a step a fault breaks on purpose
                    std::thread::sleep(Duration::from_secs(2));
                    out = self.compose(&files, &args);
                }
                if !out.status.success() {
                    // faults make steps fail on purpose (e.g. a migration on a missing table)
                    let err = String::from_utf8_lossy(&out.stderr);
                    eprintln!(
                        "[live] {}: `{}` exited {:?}: {}",
                        self.project,
                        args.join(" "),
                        out.status.code(),
                        err.trim().lines().last().unwrap_or("")
                    );
                }
            }
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // The images built for this test's project name (lc-phase-5-<pid>-api), not the kit's.
        self.down_with(&["--rmi", "local"]);
    }
}

/// `[live] after_up` of a compose lab: argument lists of `docker compose` calls.
fn live_after_up(lab: &Lab) -> Vec<Vec<String>> {
    let Ok(text) = std::fs::read_to_string(&lab.file) else {
        return vec![];
    };
    let doc: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", lab.file.display()));
    let Some(steps) = doc.get("live").and_then(|l| l.get("after_up")) else {
        return vec![];
    };
    let steps = steps.as_array().unwrap_or_else(|| {
        panic!(
            "{}: [live] after_up must be a list of argument lists",
            lab.file.display()
        )
    });
    steps
        .iter()
        .map(|s| {
            s.as_array()
                .and_then(|a| {
                    a.iter()
                        .map(|v| v.as_str().map(String::from))
                        .collect::<Option<Vec<_>>>()
                })
                .unwrap_or_else(|| {
                    panic!(
                        "{}: each [live] after_up entry is a list of strings",
                        lab.file.display()
                    )
                })
        })
        .collect()
}

/// `cp -r from to` (files and folders; the labs hold nothing else).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else if src.is_file() {
            std::fs::copy(&src, &dst)
                .unwrap_or_else(|err| panic!("copying {}: {err}", src.display()));
        }
    }
}

/// labcheck's helper and scratch containers and the restore drill's volumes are gone (auto-remove
/// and the background removals may take a moment).
fn assert_no_leftovers(lab: &Lab) {
    let list = |args: &[&str]| {
        let out = Command::new("docker")
            .args(args)
            .output()
            .expect("docker runs");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let containers = list(&["ps", "-aq", "--filter", "label=org.compose-lab.probe"]);
        let volumes: Vec<String> = list(&["volume", "ls", "-q"])
            .into_iter()
            .filter(|v| v.starts_with("labcheck-restore-"))
            .collect();
        if containers.is_empty() && volumes.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{}: labcheck left containers {containers:?} and volumes {volumes:?}",
            lab.id
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// `LABCHECK_LIVE_NO_DRILLS=1` leaves the drills out (they take about a minute per lab).
fn drills_wanted() -> bool {
    std::env::var("LABCHECK_LIVE_NO_DRILLS").map_or(true, |v| v.is_empty() || v == "0")
}

/// What a run is expected to show: exactly `fails` fail; each of `warns` ends as a warning and
/// each of `notes` passes with a note (others may too).
#[derive(Default)]
struct Want {
    fails: BTreeSet<String>,
    warns: BTreeSet<String>,
    notes: BTreeSet<String>,
}

impl Want {
    fn of(f: &labcheck::lab::Fault) -> Want {
        let set = |v: &[String]| v.iter().cloned().collect();
        Want {
            fails: set(&f.fails),
            warns: set(&f.warns),
            notes: set(&f.notes),
        }
    }

    fn met(&self, r: &Report) -> bool {
        failing(r) == self.fails
            && self.warns.is_subset(&warned(r))
            && self.notes.is_subset(&noted(r))
    }

    /// Everything the run shows differs from the expectation, as assertions.
    fn assert(&self, r: &Report, what: &str) {
        assert_eq!(failing(r), self.fails, "{what}:\n{}", show(r));
        assert!(
            self.warns.is_subset(&warned(r)),
            "{what}: expected the warnings {:?}:\n{}",
            self.warns,
            show(r)
        );
        assert!(
            self.notes.is_subset(&noted(r)),
            "{what}: expected notes on {:?}:\n{}",
            self.notes,
            show(r)
        );
        // a fault that only warns leaves a working stack: exit 0
        let code = if self.fails.is_empty() { 0 } else { 1 };
        assert_eq!(r.exit_code(), code, "{what}:\n{}", show(r));
    }
}

/// Runs labcheck every second until `done` holds for its report, or `deadline`; alone when
/// `opts` runs the drills (see [`probing`]).
fn until(
    rt: &tokio::runtime::Runtime,
    engine: &labcheck::target::Engine,
    lab: &Lab,
    opts: &RunOptions,
    deadline: Instant,
    done: impl Fn(&Report) -> bool,
) -> Report {
    probing(opts.drill, || {
        rt.block_on(run_until_with(
            engine,
            lab,
            opts,
            deadline,
            Duration::from_secs(1),
            done,
            |_| {},
        ))
        .unwrap()
    })
}

/// Runs labcheck until it shows what `want` expects, or `settle` has passed.
fn until_failing(
    rt: &tokio::runtime::Runtime,
    engine: &labcheck::target::Engine,
    lab: &Lab,
    opts: &RunOptions,
    settle: Duration,
    want: &Want,
) -> Report {
    until(rt, engine, lab, opts, Instant::now() + settle, |r| {
        want.met(r)
    })
}

fn ids_where(
    r: &Report,
    keep: impl Fn(&labcheck::result::CheckResult) -> bool,
) -> BTreeSet<String> {
    r.results
        .iter()
        .filter(|c| keep(c))
        .map(|c| c.id.clone())
        .collect()
}

/// Runs labcheck until the stack is green (warnings allowed) or `deadline`.
fn until_green(
    rt: &tokio::runtime::Runtime,
    engine: &labcheck::target::Engine,
    lab: &Lab,
    project: &str,
    deadline: Instant,
) -> Report {
    until(rt, engine, lab, &opts(project), deadline, Report::ok)
}

fn failing(r: &Report) -> BTreeSet<String> {
    ids_where(r, |c| c.status == Status::Fail)
}

fn warned(r: &Report) -> BTreeSet<String> {
    ids_where(r, |c| c.status == Status::Warn)
}

/// Diagnoses that differ from the solution while their behaviours work.
fn noted(r: &Report) -> BTreeSet<String> {
    ids_where(r, |c| c.status == Status::Pass && c.note.is_some())
}

fn show(r: &Report) -> String {
    labcheck::report::human::render(
        r,
        &labcheck::report::RenderOptions {
            verbose: true,
            color: false,
            book_url: "http://book/".into(),
            timings: true,
        },
    )
}

fn opts(project: &str) -> RunOptions {
    RunOptions {
        project: Some(project.to_string()),
        cwd: std::env::temp_dir(),
        http_host: None,
        drill: false,
        strict: false,
        services: Vec::new(),
    }
}

/// Compose labs that declare faults and that this labcheck can load.
/// `LABCHECK_LIVE_LABS=phase-1,phase-3` keeps only those labs (e.g. while working on one).
fn fault_labs() -> Vec<Lab> {
    let only: Vec<String> = std::env::var("LABCHECK_LIVE_LABS")
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let mut labs = Vec::new();
    for dir in lab_dirs(&labs_dir()).unwrap() {
        match load_lab(&dir) {
            Ok(lab) if !only.is_empty() && !only.contains(&lab.id) => {
                eprintln!("[live] {}: left out (LABCHECK_LIVE_LABS)", lab.id)
            }
            Ok(lab) if !lab.faults.is_empty() && matches!(lab.target, Target::Compose { .. }) => {
                labs.push(lab)
            }
            Ok(_) => {}
            Err(e) => eprintln!("[live] not testing {}: {e}", dir.display()),
        }
    }
    labs
}

#[test]
fn live_every_lab_solution_faults_half_up_and_absent() {
    LIVE.get_or_init(common::live_lock);
    let (rt, engine) = common::engine();
    let labs = fault_labs();
    assert!(
        !labs.is_empty(),
        "no compose lab with [[faults]] could be loaded from {}",
        labs_dir().display()
    );
    std::thread::scope(|scope| {
        for lab in &labs {
            let (rt, engine) = (&rt, &engine);
            std::thread::Builder::new()
                .name(lab.id.clone())
                .spawn_scoped(scope, move || {
                    let _slot = JOBS.start(&lab.id, compose_lab_ports(lab));
                    check_compose_lab(rt, engine, lab)
                })
                .unwrap();
        }
    });
}

/// One compose lab: absent, half up, the solution (and its drills), each fault.
fn check_compose_lab(rt: &tokio::runtime::Runtime, engine: &labcheck::target::Engine, lab: &Lab) {
    let settle = Duration::from_secs(90);
    let tick = Duration::from_secs(1);
    // A private copy of the lab folder: what the stack writes there (backups, bind-mounted
    // data) cannot meet another run's, even one on the same checkout at the same time.
    let copy = tempfile::tempdir().unwrap();
    let dir = copy.path().join(&lab.id);
    copy_dir(&lab.dir, &dir);
    let lab = &load_lab(&dir).unwrap();
    let Target::Compose { services } = &lab.target else {
        unreachable!()
    };

    // Absent: a project name nothing uses.
    let absent = probing(false, || {
        rt.block_on(run_lab(
            engine,
            lab,
            &opts(&format!("lc-absent-{}", std::process::id())),
        ))
        .unwrap()
    });
    match &absent.stack {
        StackState::Absent { message } => {
            assert!(message.contains("docker compose up -d"), "{message}");
            for s in services {
                assert!(
                    message.contains(s.as_str()),
                    "the message names {s}: {message}"
                );
            }
        }
        other => panic!("expected an absent stack, got {other:?}"),
    }
    assert_eq!(absent.exit_code(), 1);
    assert!(absent.results.iter().all(|c| c.status == Status::Skip));

    let mut stack = Stack::new(lab);

    // Half up: only the first service (without its dependencies); a one-service lab has no half.
    if services.len() > 1 {
        let first = services[0].as_str();
        stack.up(&[], &[first]);
        let half = until(
            rt,
            engine,
            lab,
            &opts(&stack.project),
            Instant::now() + settle,
            |r| {
                r.results
                    .iter()
                    .filter(|c| c.kind == "running")
                    .all(|c| c.status != Status::Fail || !c.message.contains(first))
            },
        );
        match &half.stack {
            StackState::Found { missing, .. } => {
                let want: Vec<String> = services
                    .iter()
                    .filter(|s| s.as_str() != first)
                    .cloned()
                    .collect();
                assert_eq!(missing, &want, "{}", show(&half));
            }
            other => panic!("expected a half-up stack, got {other:?}"),
        }
        assert_eq!(half.exit_code(), 1);
        // Checks on the missing services are skipped, except their `running` check, which fails.
        for c in &half.results {
            let on_missing = lab
                .checks
                .iter()
                .find(|k| k.id == c.id)
                .unwrap()
                .kind
                .units()
                .iter()
                .any(|u| *u != first);
            if on_missing && c.kind == "running" {
                assert_eq!(c.status, Status::Fail, "{}", show(&half));
            } else if on_missing {
                assert_eq!(
                    c.status,
                    Status::Skip,
                    "{} should be skipped:\n{}",
                    c.id,
                    show(&half)
                );
            }
        }
        let human = show(&half);
        assert!(human.contains("half up"), "{human}");
    }

    // The solution: everything passes.
    stack.up(&[], &[]);
    let started = Instant::now();
    let solved = until_green(rt, engine, lab, &stack.project, started + settle);
    assert!(
        solved.ok(),
        "the solution of {} must pass every check:\n{}",
        lab.id,
        show(&solved)
    );
    eprintln!(
        "[live] {}: solution green after {:.1}s; one run took {:?}",
        lab.id,
        started.elapsed().as_secs_f64(),
        solved.duration
    );
    let skipped_drills: Vec<&str> = solved
        .results
        .iter()
        .filter(|c| c.status == Status::Skip)
        .map(|c| c.id.as_str())
        .collect();
    let drills: Vec<&str> = lab
        .checks
        .iter()
        .filter(|c| c.kind.is_drill())
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(
        skipped_drills,
        drills,
        "without --drill exactly the drills are skipped:\n{}",
        show(&solved)
    );

    // The drills, with the flag: they pass on the solution.
    if !drills.is_empty() && drills_wanted() {
        let _alone = PROBES.write().unwrap_or_else(|p| p.into_inner());
        let r = rt
            .block_on(run_lab(
                engine,
                lab,
                &RunOptions {
                    drill: true,
                    ..opts(&stack.project)
                },
            ))
            .unwrap();
        assert!(
            r.ok(),
            "the solution of {} must pass its drills too:\n{}",
            lab.id,
            show(&r)
        );
        let ran = r
            .results
            .iter()
            .filter(|c| drills.contains(&c.id.as_str()) && c.status == Status::Pass)
            .count();
        assert_eq!(ran, drills.len(), "{}", show(&r));
        eprintln!(
            "[live] {}: solution passes its {} drill(s) in {:?}",
            lab.id,
            drills.len(),
            r.duration
        );
        // The drills put the stack back: every check passes again, with no step by hand (the
        // set-up steps of [live] after_up are not run again).
        // (still alone: the drills' write lock is held)
        let again = rt
            .block_on(run_until_with(
                engine,
                lab,
                &opts(&stack.project),
                Instant::now() + Duration::from_secs(60),
                tick,
                Report::ok,
                |_| {},
            ))
            .unwrap();
        assert!(
            again.ok(),
            "after its drills, the solution of {} must pass every check again:\n{}",
            lab.id,
            show(&again)
        );
        assert_no_leftovers(lab);
    }

    // Each fault: exactly the declared checks fail, first_broken first; its warnings and notes.
    for fault in &lab.faults {
        if fault.drill && !drills_wanted() {
            eprintln!(
                "[live] {}: fault {} needs --drill: left out (LABCHECK_LIVE_NO_DRILLS)",
                lab.id, fault.file
            );
            continue;
        }
        // a fresh project: a fault may change what `up` does not recreate (networks, volumes)
        stack.down();
        stack.up(&[lab.dir.join(&fault.file)], &[]);
        let want = Want::of(fault);
        let started = Instant::now();
        let run_opts = RunOptions {
            drill: fault.drill,
            ..opts(&stack.project)
        };
        let r = until_failing(rt, engine, lab, &run_opts, settle, &want);
        want.assert(&r, &format!("fault {} of {}", fault.file, lab.id));
        assert_eq!(
            r.first_broken().map(|c| c.id.as_str()),
            fault.first_broken.as_deref(),
            "fault {}:\n{}",
            fault.file,
            show(&r)
        );
        eprintln!(
            "[live] {}: fault {} as declared after {:.1}s",
            lab.id,
            fault.file,
            started.elapsed().as_secs_f64()
        );
    }
    // Each working variant (the learner's own way of writing the stack): no failure.
    for variant in &lab.variants {
        stack.down();
        stack.up_files(vec![lab.dir.join(&variant.dir).join("compose.yaml")], &[]);
        let started = Instant::now();
        let r = until_green(rt, engine, lab, &stack.project, started + settle);
        assert!(
            r.ok(),
            "the working variant {} of {} ({}) must pass:\n{}",
            variant.dir,
            lab.id,
            variant.summary,
            show(&r)
        );
        eprintln!(
            "[live] {}: variant {} passes after {:.1}s ({} warning(s))",
            lab.id,
            variant.dir,
            started.elapsed().as_secs_f64(),
            r.summary().warned
        );
    }
    // back to the solution: a fault must not leave the stack broken for the next lab
    drop(stack);
    cleanup_bind_dirs(lab);
}

/// How a plain-containers lab is built, from its `[live]` table (scripts, not compose files).
struct Scripts {
    up: PathBuf,
    down: PathBuf,
}

fn live_scripts(lab: &Lab) -> Option<Scripts> {
    let text = std::fs::read_to_string(&lab.file).ok()?;
    let doc: toml::Table = toml::from_str(&text).ok()?;
    let live = doc.get("live")?.as_table()?;
    let path = |k: &str| {
        live.get(k)
            .and_then(|v| v.as_str())
            .map(|p| lab.dir.join(p))
    };
    Some(Scripts {
        up: path("up")?,
        down: path("down")?,
    })
}

fn bash(script: &Path) -> std::process::Output {
    Command::new("bash")
        .arg(script)
        .output()
        .expect("bash runs")
}

/// Runs the lab's down script on drop, panic or not.
struct ScriptStack<'a>(&'a Scripts);
impl Drop for ScriptStack<'_> {
    fn drop(&mut self) {
        let out = bash(&self.0.down);
        if !out.status.success() {
            eprintln!(
                "[live] {} failed: {}",
                self.0.down.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn live_every_container_lab_solution_and_faults() {
    LIVE.get_or_init(common::live_lock);
    let (rt, engine) = common::engine();
    let mut tested = 0;
    for dir in lab_dirs(&labs_dir()).unwrap() {
        let Ok(lab) = load_lab(&dir) else { continue };
        if !matches!(lab.target, Target::Containers { .. }) || lab.faults.is_empty() {
            continue;
        }
        let scripts = live_scripts(&lab)
            .unwrap_or_else(|| panic!("{} has [[faults]] but no [live] up/down scripts", lab.id));
        tested += 1;
        let _slot = JOBS.start(&lab.id, script_lab_ports(&lab));
        let opts = RunOptions {
            project: None,
            cwd: std::env::temp_dir(),
            http_host: None,
            services: vec![],
            drill: false,
            strict: false,
        };
        let runs = std::iter::once(None).chain(lab.faults.iter().map(Some));
        for fault in runs {
            let _ = bash(&scripts.down); // a clean slate
            let stack = ScriptStack(&scripts);
            let up = bash(&scripts.up);
            assert!(
                up.status.success(),
                "{} failed: {}",
                scripts.up.display(),
                String::from_utf8_lossy(&up.stderr)
            );
            let (want, name): (Want, String) = match fault {
                None => (Want::default(), "solution".into()),
                Some(f) => {
                    let out = bash(&lab.dir.join(&f.file));
                    assert!(
                        out.status.success(),
                        "fault script {} failed: {}",
                        f.file,
                        String::from_utf8_lossy(&out.stderr)
                    );
                    (Want::of(f), f.file.clone())
                }
            };
            let started = Instant::now();
            let r = until_failing(&rt, &engine, &lab, &opts, Duration::from_secs(60), &want);
            want.assert(&r, &format!("{} {name}", lab.id));
            if let Some(f) = fault {
                assert_eq!(
                    r.first_broken().map(|c| c.id.as_str()),
                    f.first_broken.as_deref(),
                    "{name}:
{}",
                    show(&r)
                );
            } else {
                assert!(r.ok(), "{}", show(&r));
            }
            eprintln!(
                "[live] {}: {name} as declared after {:.1}s (one run {:?})",
                lab.id,
                started.elapsed().as_secs_f64(),
                r.duration
            );
            drop(stack);
        }
        // Each working variant: its own up.sh instead of the solution's; no failure.
        for variant in &lab.variants {
            let _ = bash(&scripts.down);
            let stack = ScriptStack(&scripts);
            let up = bash(&lab.dir.join(&variant.dir).join("up.sh"));
            assert!(
                up.status.success(),
                "variant {} up.sh failed: {}",
                variant.dir,
                String::from_utf8_lossy(&up.stderr)
            );
            let r = until_failing(
                &rt,
                &engine,
                &lab,
                &opts,
                Duration::from_secs(60),
                &Want::default(),
            );
            assert!(
                r.ok(),
                "the working variant {} of {} ({}) must pass:\n{}",
                variant.dir,
                lab.id,
                variant.summary,
                show(&r)
            );
            drop(stack);
        }
    }
    assert!(
        tested > 0,
        "no plain-containers lab with [[faults]] could be loaded"
    );
}

/// Labs run side by side, but two stacks cannot publish the same host port: a lab starts once
/// none of its ports is in use by another lab of this run, and at most `LABCHECK_LIVE_JOBS`
/// (default 2) run at a time: with 3 at once on a loaded 2-core machine, pgAdmin missed its 3 s
/// health check timeout.
struct Jobs {
    busy: Mutex<(usize, BTreeSet<u16>)>,
    freed: Condvar,
}

static JOBS: Jobs = Jobs {
    busy: Mutex::new((0, BTreeSet::new())),
    freed: Condvar::new(),
};

/// A running lab's hold on its ports and its job slot, given back on drop (panic or not).
struct Slot(&'static Jobs, BTreeSet<u16>);

impl Jobs {
    fn start(&'static self, lab: &str, ports: BTreeSet<u16>) -> Slot {
        let max = std::env::var("LABCHECK_LIVE_JOBS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2usize)
            .max(1);
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        while busy.0 >= max || !busy.1.is_disjoint(&ports) {
            busy = self.freed.wait(busy).unwrap_or_else(|p| p.into_inner());
        }
        busy.0 += 1;
        busy.1.extend(&ports);
        eprintln!("[live] {lab}: starting (host ports {ports:?})");
        Slot(self, ports)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut busy = self.0.busy.lock().unwrap_or_else(|p| p.into_inner());
        busy.0 -= 1;
        busy.1.retain(|p| !self.1.contains(p));
        self.0.freed.notify_all();
    }
}

/// The host ports a compose lab publishes, in its solution, any fault or any working variant
/// (`docker compose config` resolves overrides, ranges and defaults).
fn compose_lab_ports(lab: &Lab) -> BTreeSet<u16> {
    let solution = lab.dir.join("solution/compose.yaml");
    let variants = std::iter::once(vec![solution.clone()])
        .chain(
            lab.faults
                .iter()
                .map(|f| vec![solution.clone(), lab.dir.join(&f.file)]),
        )
        .chain(
            lab.variants
                .iter()
                .map(|v| vec![lab.dir.join(&v.dir).join("compose.yaml")]),
        );
    let mut ports = BTreeSet::new();
    for files in variants {
        let mut cmd = Command::new("docker");
        cmd.arg("compose");
        for f in &files {
            cmd.arg("-f").arg(f);
        }
        let out = cmd
            .args(["config", "--format", "json"])
            .output()
            .expect("docker compose runs");
        assert!(
            out.status.success(),
            "docker compose config of {files:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let published = config["services"]
            .as_object()
            .into_iter()
            .flat_map(|s| s.values())
            .flat_map(|s| s["ports"].as_array().cloned().unwrap_or_default())
            .filter_map(|p| p["published"].as_str()?.parse::<u16>().ok());
        ports.extend(published);
    }
    ports
}

/// The host ports a plain-containers lab publishes: every `-p [IP:]HOST:CONTAINER` in its
/// up script and fault scripts.
fn script_lab_ports(lab: &Lab) -> BTreeSet<u16> {
    let publish = regex::Regex::new(r"(?:-p|--publish)[ =]+(?:[0-9.]+:)?([0-9]+):").unwrap();
    let scripts = live_scripts(lab).into_iter().map(|s| s.up);
    let faults = lab.faults.iter().map(|f| lab.dir.join(&f.file));
    scripts
        .chain(faults)
        .flat_map(|path| {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            publish
                .captures_iter(&text)
                .map(|c| c[1].parse::<u16>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// labcheck runs of one lab and the drills of another must not overlap: a drill's check that
/// it left nothing behind looks at every labcheck helper container and scratch volume on the
/// engine. Plain runs share the lock; drills (and that check) take it alone.
static PROBES: RwLock<()> = RwLock::new(());

fn probing<T>(drill: bool, run: impl FnOnce() -> T) -> T {
    if drill {
        let _alone = PROBES.write().unwrap_or_else(|p| p.into_inner());
        run()
    } else {
        let _shared = PROBES.read().unwrap_or_else(|p| p.into_inner());
        run()
    }
}

/// Faults that bind-mount data folders leave them in solution/ (owned by the container's user).
fn cleanup_bind_dirs(lab: &Lab) {
    for fault in &lab.faults {
        let Ok(text) = std::fs::read_to_string(lab.dir.join(&fault.file)) else {
            continue;
        };
        for line in text.lines() {
            let l = line.trim().trim_start_matches("- ").trim_matches('"');
            if let Some(rest) = l.strip_prefix("./") {
                let host = rest.split(':').next().unwrap_or("");
                let path = lab.dir.join("solution").join(host);
                // only folders the fault created: not tracked sources like ./initdb
                if !host.is_empty() && path.is_dir() && !tracked(&path) {
                    let _ = std::fs::remove_dir_all(&path);
                }
            }
        }
    }
}

fn tracked(path: &Path) -> bool {
    Command::new("git")
        .args(["ls-files", "--error-unmatch"])
        .arg(path)
        .current_dir(path.parent().unwrap_or(Path::new(".")))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(true)
}

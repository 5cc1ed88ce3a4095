//! `labcheck watch <lab>`: the ladder, re-checked whenever Docker reports an event for the
//! lab's stack or one of the lab's files changes, redrawn in place with what changed.
//!
//! - [`events`]: the Docker events that concern the lab, and the engine going away and back.
//! - [`files`]: the learner's folder, watched with `notify`.
//! - [`debounce`]: a burst of triggers becomes one run.
//! - [`changes`]: what turned red or green since the run before.
//! - [`screen`]: the frame on a terminal, a plain report per run otherwise.

pub mod changes;
pub mod debounce;
pub mod events;
pub mod files;
pub mod screen;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::error::ToolError;
use crate::lab::{Lab, Target};
use crate::report::{RenderOptions, StackState};
use crate::run::{run_lab, RunOptions};
use crate::target::discover::list;
use crate::target::labels::LABEL_PROJECT;
use crate::target::Engine;
use debounce::Settle;
use events::Scope;
use screen::View;

/// What starts a run (or changes the screen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A Docker event of the stack, described ("db: die").
    Docker(String),
    /// A file of the lab changed (relative to the watched folder).
    File(PathBuf),
    /// The learner pressed Enter.
    Enter,
    /// The engine stopped answering (why).
    EngineLost(String),
    /// It answers again.
    EngineBack,
}

/// How to watch.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub run: RunOptions,
    /// stdout is a terminal: redraw in place; otherwise print a plain report per run.
    pub tty: bool,
    pub render: RenderOptions,
    pub settle: Settle,
    /// Read Enter from stdin (when stdin is a terminal).
    pub enter: bool,
    /// The folder to watch instead of the project's own.
    pub dir: Option<PathBuf>,
}

/// The lab's files being watched: the folder and its watcher (None when it cannot be).
struct Files {
    dir: PathBuf,
    _watcher: Option<notify::RecommendedWatcher>,
}

/// Watches until Ctrl-C; returns the exit code of the last verdict.
pub async fn watch(engine: &Engine, lab: &Lab, o: &WatchOptions) -> Result<u8, ToolError> {
    let (tx, mut rx) = unbounded_channel();
    let scope = match &lab.target {
        Target::Compose { .. } => Scope::Project(o.run.project.clone()),
        Target::Containers {
            containers,
            networks,
        } => Scope::Containers {
            names: containers.clone(),
            networks: networks.clone(),
        },
    };
    let (scope_tx, scope_rx) = tokio::sync::watch::channel(scope);
    let forwarder = tokio::spawn(events::forward(engine.docker.clone(), scope_rx, tx.clone()));
    if o.enter {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for _ in std::io::stdin().lock().lines() {
                if tx.send(Trigger::Enter).is_err() {
                    return;
                }
            }
        });
    }
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut view = View::new(&lab.id, &engine.endpoint);
    let mut files: Option<Files> = None;
    let mut out = std::io::stdout();
    if o.tty {
        let _ = screen::begin(&mut out);
    }
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut reason = "start".to_string();
    'watch: loop {
        // one run, unless the engine is away
        if view.engine_down.is_none() {
            view.last_reason = std::mem::take(&mut reason);
            view.last_at = SystemTime::now();
            let result = tokio::select! {
                biased;
                _ = &mut ctrl_c => break 'watch,
                r = run_lab(engine, lab, &o.run) => r,
            };
            view.total_runs += 1;
            let changed = after_run(engine, &mut view, result).await;
            if let Some(project) = found_project(&view) {
                scope_tx.send_if_modified(|s| {
                    let new = Scope::Project(Some(project.clone()));
                    let differs = *s != new && matches!(s, Scope::Project(_));
                    if differs {
                        *s = new;
                    }
                    differs
                });
            }
            let dir = match &o.dir {
                Some(d) => d.clone(),
                None => project_folder(engine, &view, &o.run.cwd).await,
            };
            if files.as_ref().map(|f| &f.dir) != Some(&dir) {
                files = Some(watch_files(&dir, &tx, &mut view));
            }
            view.watching = watching(&view, files.as_ref());
            if o.tty {
                let _ = screen::redraw(&mut out, &view, &o.render);
            } else {
                let _ = out.write_all(screen::plain(&view, &changed, &o.render).as_bytes());
                let _ = out.flush();
            }
        }
        // wait for what starts the next run
        let batch = loop {
            tokio::select! {
                biased;
                _ = &mut ctrl_c => break 'watch,
                t = rx.recv() => match t {
                    None => break 'watch,
                    Some(first) => break debounce::settle(&mut rx, first, o.settle).await,
                },
                // on a terminal, "3 s ago" keeps counting; with the engine away, ask it each
                // second too (it may be back before its event stream noticed it was gone)
                _ = tick.tick(), if o.tty || view.engine_down.is_some() => {
                    if view.engine_down.is_some() && events::ping(&engine.docker).await.is_ok() {
                        break vec![Trigger::EngineBack];
                    }
                    if o.tty {
                        let _ = screen::redraw(&mut out, &view, &o.render);
                    }
                }
            }
        };
        let mut reasons = Vec::new();
        for t in batch {
            match t {
                Trigger::EngineLost(cause) => engine_lost(&mut view, cause, o.tty, &mut out),
                Trigger::EngineBack => {
                    view.engine_down = None;
                    if !o.tty {
                        let _ = writeln!(
                            out,
                            "labcheck watch: the Docker engine at {} answers again; re-checking",
                            view.endpoint
                        );
                    }
                    reasons.push("the engine came back".to_string());
                }
                Trigger::Docker(what) => reasons.push(what),
                Trigger::File(p) => reasons.push(format!("{} changed", p.display())),
                Trigger::Enter => reasons.push("Enter".to_string()),
            }
        }
        reasons.dedup();
        reason = summarize(&reasons);
        if view.engine_down.is_some() && o.tty {
            let _ = screen::redraw(&mut out, &view, &o.render);
        }
    }
    forwarder.abort();
    let code = view.exit_code();
    let _ = writeln!(
        out,
        "\nlabcheck watch: stopped; the last verdict exits {code} ({})",
        match code {
            0 => "all green",
            1 => "something fails",
            _ => "nothing could be checked",
        }
    );
    drain(&mut rx);
    Ok(code)
}

/// Takes a run's result into the view: a verdict, the engine gone, or another error. A run
/// during which the engine went away is not a verdict: the last one stays.
async fn after_run(
    engine: &Engine,
    view: &mut View,
    result: Result<crate::Report, ToolError>,
) -> Vec<changes::Change> {
    match result {
        Ok(report) => match events::ping(&engine.docker).await {
            Ok(()) => view.ran(report, Instant::now()),
            Err(e) => {
                let cause = crate::error::engine_gone(&e).unwrap_or(e);
                view.engine_down.get_or_insert((cause, Instant::now()));
                vec![]
            }
        },
        Err(ToolError::EngineGone { cause, .. }) => {
            view.engine_down.get_or_insert((cause, Instant::now()));
            vec![]
        }
        Err(e) => {
            view.error = Some(e.to_string());
            vec![]
        }
    }
}

fn engine_lost(view: &mut View, cause: String, tty: bool, out: &mut impl Write) {
    if view.engine_down.is_none() {
        view.engine_down = Some((cause, Instant::now()));
        if !tty {
            let line = view.engine_line(Instant::now()).unwrap_or_default();
            let _ = writeln!(out, "labcheck watch: {line}");
            let _ = out.flush();
        }
    }
}

/// "db: die, db: destroy and 3 more"
fn summarize(reasons: &[String]) -> String {
    match reasons.len() {
        0 => "nothing".into(),
        1..=3 => reasons.join(", "),
        n => format!("{} and {} more", reasons[..2].join(", "), n - 2),
    }
}

fn found_project(view: &View) -> Option<String> {
    match &view.report.as_ref()?.stack {
        StackState::Found {
            project: Some(p), ..
        } => Some(p.clone()),
        _ => None,
    }
}

/// The project's working directory (from its containers' labels) when it is on this machine,
/// else `cwd`.
async fn project_folder(engine: &Engine, view: &View, cwd: &Path) -> PathBuf {
    let Some(project) = found_project(view) else {
        return cwd.to_path_buf();
    };
    let seen = list(
        &engine.docker,
        &engine.timeouts,
        format!("{LABEL_PROJECT}={project}"),
    )
    .await
    .unwrap_or_default();
    let wd = seen
        .iter()
        .map(|s| s.working_dir.as_str())
        .find(|w| !w.is_empty());
    files::folder(wd, cwd)
}

fn watch_files(dir: &Path, tx: &UnboundedSender<Trigger>, view: &mut View) -> Files {
    let (watcher, note) = if !files::is_lab_folder(dir) && !dir.join("Dockerfile").is_file() {
        (
            None,
            Some(format!(
                "not watching files: {} has no compose file or Dockerfile; run `labcheck watch` from your lab folder (or give --dir), or press Enter to re-check after an edit",
                dir.display()
            )),
        )
    } else {
        match files::watch(dir, tx.clone()) {
            Ok(w) => (Some(w), None),
            Err(e) => (None, Some(files::unavailable(dir, &e))),
        }
    };
    view.files_note = note;
    Files {
        dir: dir.to_path_buf(),
        _watcher: watcher,
    }
}

fn watching(view: &View, files: Option<&Files>) -> String {
    let docker = match found_project(view) {
        Some(p) => format!("Docker events of project {p}"),
        None => "Docker events".to_string(),
    };
    match files {
        Some(Files {
            dir,
            _watcher: Some(_),
        }) => format!("{docker} and the files in {}", dir.display()),
        _ => docker,
    }
}

fn drain(rx: &mut UnboundedReceiver<Trigger>) {
    while rx.try_recv().is_ok() {}
}

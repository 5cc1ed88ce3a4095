//! Running a lab: discover the stack, inspect its containers once, hand the checks to the
//! scheduler ([`schedule`]) with the probe context as its observer, and report. `run_until`
//! re-runs on Docker events until green.

pub mod discover;
pub mod schedule;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, FutureExt};
use futures_util::StreamExt;

use crate::error::ToolError;
use crate::lab::{Check, Lab};
use crate::probe::cx::ProbeCx;
use crate::probe::facts::UnitFacts;
use crate::probe::{compose, container};
use crate::report::{EngineInfo, Report, StackState};
use crate::result::{CheckResult, Scoring};
use crate::see::SeeCx;
use crate::target::{api_at_least, Engine};
use crate::verdict::Judgement;
use discover::{discover, Discovery};
use schedule::Observer;

/// What a run needs besides the lab and the engine.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `--project`
    pub project: Option<String>,
    /// The folder labcheck runs in (for the working_dir match and messages).
    pub cwd: PathBuf,
    /// `$LABCHECK_HTTP_HOST`: replaces localhost in `http` checks.
    pub http_host: Option<String>,
    /// `--drill`: run the checks that change state (otherwise they are skipped, saying so).
    pub drill: bool,
    /// `--strict`: the lab's exact solution contract (see [`schedule::Rules`]).
    pub strict: bool,
    /// `--service lab=yours`: the learner's name for a lab service (over the roles' guess).
    pub services: Vec<(String, String)>,
}

impl RunOptions {
    pub fn here() -> Self {
        RunOptions {
            project: None,
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            http_host: std::env::var("LABCHECK_HTTP_HOST").ok(),
            drill: false,
            strict: false,
            services: Vec::new(),
        }
    }
}

fn engine_info(e: &Engine) -> EngineInfo {
    EngineInfo {
        endpoint: e.endpoint.clone(),
        api_version: e.api_version.clone(),
        server_version: e.server_version.clone(),
    }
}

fn notes(engine: &Engine, lab: &Lab) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(need) = &lab.requires_api {
        let have = if engine.server_api_version.is_empty() {
            &engine.api_version
        } else {
            &engine.server_api_version
        };
        if !api_at_least(have, need) {
            notes.push(format!(
                "this lab needs Docker Engine API {need} or newer (e.g. healthcheck start_interval), but the engine speaks {have}; \
                 some checks may fail for that reason alone: upgrade Docker (`labcheck doctor {}` says what else this machine lacks)",
                lab.id
            ));
        }
    }
    notes
}

/// Run every check of `lab` once against the stack on `engine`.
pub async fn run_lab(engine: &Engine, lab: &Lab, opts: &RunOptions) -> Result<Report, ToolError> {
    let started = Instant::now();
    let discovery = discover(
        engine,
        lab,
        opts.project.as_deref(),
        &opts.cwd,
        &opts.services,
    )
    .await?;
    let report = |stack: StackState, results: Vec<CheckResult>| Report {
        lab_id: lab.id.clone(),
        lab_title: lab.title.clone(),
        lab_book: lab.book.clone(),
        engine: engine_info(engine),
        stack,
        notes: notes(engine, lab),
        results,
        duration: started.elapsed(),
    };
    let stack = match discovery {
        Discovery::Absent { message } => {
            return Ok(report(
                StackState::Absent { message },
                schedule::absent(lab),
            ));
        }
        Discovery::Found(stack) => stack,
    };

    // One inspect per container, all at once.
    let inspects = stack.units.iter().map(|(unit, c)| async move {
        (
            unit.clone(),
            container::inspect(&engine.docker, &engine.timeouts, &c.id).await,
        )
    });
    let facts: UnitFacts = futures_util::future::join_all(inspects)
        .await
        .into_iter()
        .collect();
    // Every container of each service (for scaled services and the phase 4-6 kinds).
    let replicas =
        crate::probe::ext::replicas(&engine.docker, &engine.timeouts, &stack.replicas, &facts)
            .await;
    let requests = lab
        .checks
        .iter()
        .filter_map(|c| c.kind.net_request())
        .collect();
    let cx = ProbeCx::new(
        engine,
        &stack,
        &facts,
        &replicas,
        opts.http_host.as_deref(),
        requests,
    );
    let scoring = Scoring {
        warnings_cost_points: lab.warnings_cost_points,
    };
    let rules = schedule::Rules {
        drill: opts.drill,
        strict: opts.strict,
        scoring,
    };
    let results = schedule::schedule(lab, &cx, rules).await;
    Ok(report(
        StackState::Found {
            project: stack.project.clone(),
            missing: stack.missing.clone(),
            renamed: stack.renamed.clone(),
        },
        results,
    ))
}

/// The real observer: each check's kind probes the engine and judges.
impl Observer for ProbeCx<'_> {
    fn evaluate<'a>(&'a self, check: &'a Check) -> BoxFuture<'a, Judgement> {
        check.kind.evaluate(self).boxed()
    }

    fn missing(&self) -> &[String] {
        &self.stack.missing
    }

    fn see(&self, check: &Check) -> Option<String> {
        let name = |unit: &str| {
            self.stack
                .units
                .get(unit)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| unit.to_string())
        };
        let yours = |unit: &str| self.stack.yours(unit).to_string();
        let cx = SeeCx::new(self.stack.project.as_deref(), &name).with_yours(&yours);
        Some(check.kind.see(&cx))
    }
}

/// Re-run until every check passes or `deadline` passes. Between runs, wait for a Docker event
/// about the lab's containers (start, die, health_status, ...) or, at most, `tick`.
/// `progress` is called after every run that is not the last.
pub async fn run_until(
    engine: &Engine,
    lab: &Lab,
    opts: &RunOptions,
    deadline: Instant,
    tick: Duration,
    progress: impl FnMut(&Report),
) -> Result<Report, ToolError> {
    run_until_with(engine, lab, opts, deadline, tick, Report::ok, progress).await
}

/// [`run_until`] with another notion of done (the live tests wait for a fault's expected state).
pub async fn run_until_with(
    engine: &Engine,
    lab: &Lab,
    opts: &RunOptions,
    deadline: Instant,
    tick: Duration,
    done: impl Fn(&Report) -> bool,
    mut progress: impl FnMut(&Report),
) -> Result<Report, ToolError> {
    let mut filters = HashMap::new();
    filters.insert("type".to_string(), vec!["container".to_string()]);
    match &lab.target {
        crate::lab::Target::Compose { .. } => {
            let label = match &opts.project {
                Some(p) => format!("{}={p}", compose::LABEL_PROJECT),
                None => compose::LABEL_PROJECT.to_string(),
            };
            filters.insert("label".to_string(), vec![label]);
        }
        // plain containers: only theirs, not every container on a busy engine
        crate::lab::Target::Containers { containers, .. } => {
            filters.insert("container".to_string(), containers.clone());
        }
    }
    let options = bollard::query_parameters::EventsOptions {
        filters: Some(filters),
        ..Default::default()
    };
    let mut events = engine.docker.events(Some(options.clone())).boxed();
    loop {
        let report = run_lab(engine, lab, opts).await?;
        let now = Instant::now();
        if done(&report) || now >= deadline {
            return Ok(report);
        }
        progress(&report);
        let wait = tick.min(deadline - now);
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        // Wait for a relevant event (our own execs are events too: ignore them).
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                ev = events.next() => match ev {
                    Some(Ok(ev)) => {
                        let action = ev.action.unwrap_or_default();
                        if action.starts_with("exec_") || action == "attach" || action == "resize" {
                            continue;
                        }
                        // let a burst of events (a whole `up`) settle a little
                        tokio::time::sleep(Duration::from_millis(150)).await;
                        break;
                    }
                    Some(Err(_)) | None => {
                        // the stream broke: fall back to the tick, and reconnect for next time
                        (&mut sleep).await;
                        events = engine.docker.events(Some(options.clone())).boxed();
                        break;
                    }
                }
            }
        }
    }
}

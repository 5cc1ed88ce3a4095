//! `labcheck grade`: one lab, a class roster, every learner's engine graded concurrently.
//!
//! - [`roster`]: the roster file (TOML) and its endpoints.
//! - connecting is [`crate::target::connect_to`] (unix, tcp+TLS, ssh tunnel, docker context).
//! - [`score`]: points per check from a learner's [`Report`].
//! - [`output`]: gradebook.csv, grade.json, junit/<learner>.xml and the terminal summary.
//! - [`cli`]: the subcommand's arguments and progress display.
//!
//! At most `jobs` learners are in flight; each has one overall time limit that covers
//! connecting and every check, so a dead host, a hanging engine or a hostile container costs
//! that learner at most its limit and never stops the run.

pub mod cli;
pub mod output;
pub mod roster;
pub mod score;
pub mod wire;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;

use crate::lab::Lab;
use crate::limits::Timeouts;
use crate::report::Report;
use crate::run::{run_lab, RunOptions};

pub use cli::GradeArgs;
pub use roster::{Endpoint, GradingRules, Learner, Roster};
pub use score::{CheckGrade, RowStatus};

/// Longest error message kept per learner.
const ERROR_CAP: usize = 1000;

#[derive(Debug, Clone)]
pub struct GradeOptions {
    /// Learners in flight at once.
    pub jobs: usize,
    /// Overall limit per learner: connecting plus every check.
    pub timeout: Duration,
}

/// One learner's row.
#[derive(Debug, Clone)]
pub struct LearnerGrade {
    pub learner: Learner,
    pub status: RowStatus,
    pub checks: Vec<CheckGrade>,
    pub points: u32,
    pub max_points: u32,
    pub error: Option<String>,
    /// The engine as reached (with its version), or the roster's endpoint when unreached.
    pub endpoint: String,
    pub report: Option<Report>,
    pub started_at: SystemTime,
    pub duration: Duration,
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct Gradebook {
    pub lab_id: String,
    pub lab_title: String,
    pub lab_file: PathBuf,
    pub lab_sha256: String,
    pub check_ids: Vec<String>,
    pub check_points: Vec<u32>,
    pub roster_file: PathBuf,
    pub options: GradeOptions,
    pub rules: GradingRules,
    pub started_at: SystemTime,
    pub finished_at: SystemTime,
    pub duration: Duration,
    /// In roster order.
    pub rows: Vec<LearnerGrade>,
}

/// What the progress display hears.
pub enum Event<'a> {
    Started(&'a Learner),
    Finished(&'a LearnerGrade),
}

/// One line of printable text (a hostile label can't send escape sequences to the
/// instructor's terminal), at most ERROR_CAP bytes.
fn cap(s: String) -> String {
    let s: String = s
        .chars()
        .map(|c| {
            if c.is_control() && !c.is_whitespace() {
                '?'
            } else {
                c
            }
        })
        .collect();
    let mut s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.len() > ERROR_CAP {
        let mut end = ERROR_CAP;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str(" …");
    }
    s
}

fn capped_timeouts(limit: Duration) -> Timeouts {
    let d = Timeouts::default();
    Timeouts {
        api: d.api.min(limit),
        exec: d.exec.min(limit),
        http: d.http.min(limit),
        postgres: d.postgres.min(limit),
    }
}

async fn grade_one(
    lab: &Lab,
    learner: &Learner,
    slot: usize,
    rules: &GradingRules,
    limit: Duration,
    http_ports: &[u16],
) -> LearnerGrade {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let timeouts = capped_timeouts(limit);
    let mut reached = None;
    let work = async {
        let conn = crate::target::connect_to(&learner.endpoint, timeouts, limit, slot, http_ports)
            .await
            .map_err(|e| {
                format!(
                    "cannot reach the engine at {}: {e}",
                    learner.endpoint.display()
                )
            })?;
        reached = Some(format!(
            "{} (Docker {}, API {})",
            conn.engine.endpoint, conn.engine.server_version, conn.engine.api_version
        ));
        let opts = RunOptions {
            project: learner.project.clone(),
            // No folder of the grader's means anything on a learner's engine.
            cwd: PathBuf::from("/nonexistent-labcheck-grade"),
            http_host: learner.http_host.clone().or_else(|| conn.http_host.clone()),
            // grading only observes: drills change a learner's stack
            drill: false,
            strict: rules.strict,
        };
        run_lab(&conn.engine, lab, &opts)
            .await
            .map_err(|e| e.to_string())
    };
    let outcome = match tokio::time::timeout(limit, work).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no result within the {:.0}s limit ({}); the engine or a container in the stack is too slow to answer",
            limit.as_secs_f64(),
            if reached.is_some() { "the engine answered, the checks did not finish" } else { "while connecting" }
        )),
    };
    let endpoint = reached.unwrap_or_else(|| learner.endpoint.display());
    let duration = started.elapsed();
    match outcome {
        Ok(report) => {
            let checks = score::grade_checks(lab, &report, rules);
            let status = score::row_status(&report, &checks);
            let error = match &report.stack {
                crate::report::StackState::Absent { message } => {
                    Some(cap(message.lines().next().unwrap_or_default().to_string()))
                }
                _ => None,
            };
            LearnerGrade {
                learner: learner.clone(),
                status,
                points: checks.iter().map(|c| c.points).sum(),
                max_points: checks.iter().map(|c| c.max_points).sum(),
                checks,
                error,
                endpoint,
                report: Some(report),
                started_at,
                duration,
            }
        }
        Err(e) => {
            let checks = score::error_checks(lab);
            LearnerGrade {
                learner: learner.clone(),
                status: RowStatus::Error,
                points: 0,
                max_points: checks.iter().map(|c| c.max_points).sum(),
                checks,
                error: Some(cap(e)),
                endpoint,
                report: None,
                started_at,
                duration,
            }
        }
    }
}

/// Grade every learner of `roster` on `lab`; `progress` hears each start and finish.
pub async fn grade(
    lab: &Lab,
    roster: &Roster,
    opts: &GradeOptions,
    progress: &(dyn Fn(Event<'_>) + Sync),
) -> Gradebook {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let http_ports = lab.host_ports();
    let jobs = opts.jobs.max(1);
    let mut rows: Vec<Option<LearnerGrade>> = vec![None; roster.learners.len()];
    let mut stream = futures_util::stream::iter(roster.learners.iter().enumerate())
        .map(|(i, learner)| {
            let http_ports = &http_ports;
            async move {
                progress(Event::Started(learner));
                let row = grade_one(lab, learner, i, &roster.rules, opts.timeout, http_ports).await;
                progress(Event::Finished(&row));
                (i, row)
            }
        })
        .buffer_unordered(jobs);
    while let Some((i, row)) = stream.next().await {
        rows[i] = Some(row);
    }
    drop(stream);
    let lab_sha256 = std::fs::read(&lab.file)
        .map(|b| crate::target::context::hex(&sha2::Sha256::digest(&b)))
        .unwrap_or_default();
    Gradebook {
        lab_id: lab.id.clone(),
        lab_title: lab.title.clone(),
        lab_file: lab.file.clone(),
        lab_sha256,
        check_ids: lab.checks.iter().map(|c| c.id.clone()).collect(),
        check_points: lab.checks.iter().map(score::counted_points).collect(),
        roster_file: roster.file.clone(),
        options: opts.clone(),
        rules: roster.rules.clone(),
        started_at,
        finished_at: SystemTime::now(),
        duration: started.elapsed(),
        rows: rows
            .into_iter()
            .map(|r| r.expect("every learner was graded"))
            .collect(),
    }
}

use sha2::Digest as _;

#[cfg(test)]
mod tests {
    #[test]
    fn errors_are_one_printable_line() {
        assert_eq!(super::cap("é".repeat(800)).chars().count(), 502);
        assert_eq!(super::cap("a\x1b]0;pwned\x07\n  b".into()), "a?]0;pwned? b");
    }
}

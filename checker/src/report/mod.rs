//! Results and their renderings: one file per format, the JSON wire types apart.

pub mod human;
pub mod json;
pub mod junit;
pub mod tap;
mod wire;

use std::time::Duration;

/// The status of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    Skip,
}

impl Status {
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Fail => "✗",
            Status::Warn => "!",
            Status::Skip => "○",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Skip => "skip",
        }
    }
}

/// `skipped_because` of a drill that was not asked for: the run can still be green.
pub const DRILL_NOT_REQUESTED: &str = "--drill";

#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub status: Status,
    /// Points earned (the check's points when it passed, else 0).
    pub points: u32,
    pub max_points: u32,
    pub message: String,
    pub evidence: Vec<String>,
    /// For skipped checks: the needs that did not pass, or the services with no container
    /// (empty when the whole stack is absent).
    pub skipped_because: Vec<String>,
    pub hint: Option<String>,
    /// Book link, relative to the book root.
    pub book: Option<String>,
    /// The docker command that shows the same thing by hand.
    pub see: Option<String>,
    pub duration: Duration,
    /// Ladder depth (0 = no needs), for indentation.
    pub depth: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineInfo {
    pub endpoint: String,
    pub api_version: String,
    pub server_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackState {
    Found {
        project: Option<String>,
        missing: Vec<String>,
    },
    Absent {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub lab_id: String,
    pub lab_title: String,
    pub lab_book: Option<String>,
    pub engine: EngineInfo,
    pub stack: StackState,
    /// Things worth saying once (an engine older than the lab needs, ...).
    pub notes: Vec<String>,
    /// In ladder order.
    pub results: Vec<CheckResult>,
    pub duration: Duration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub warned: usize,
    pub skipped: usize,
    /// Drills left out because `--drill` was not given: not in `skipped` (their results carry
    /// `max_points: 0`, so a stack can score full marks without them).
    pub drills_not_run: usize,
    pub points: u32,
    pub max_points: u32,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            total: self.results.len(),
            ..Default::default()
        };
        for r in &self.results {
            match r.status {
                Status::Skip if r.skipped_because == [DRILL_NOT_REQUESTED] => s.drills_not_run += 1,
                Status::Pass => s.passed += 1,
                Status::Fail => s.failed += 1,
                Status::Warn => s.warned += 1,
                Status::Skip => s.skipped += 1,
            }
            s.points += r.points;
            s.max_points += r.max_points;
        }
        s
    }

    /// The first failing check in ladder order.
    pub fn first_broken(&self) -> Option<&CheckResult> {
        self.results.iter().find(|r| r.status == Status::Fail)
    }

    /// Everything passed (warnings allowed) and the whole stack is there.
    pub fn ok(&self) -> bool {
        matches!(&self.stack, StackState::Found { missing, .. } if missing.is_empty())
            && self.results.iter().all(|r| {
                matches!(r.status, Status::Pass | Status::Warn)
                    || r.skipped_because == [DRILL_NOT_REQUESTED]
            })
    }

    /// 0 when everything passed (warnings allowed), 1 when a check failed or the stack is absent.
    pub fn exit_code(&self) -> u8 {
        if self.ok() {
            0
        } else {
            1
        }
    }
}

/// How to render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub verbose: bool,
    pub color: bool,
    /// Base URL of the book, ending in `/`.
    pub book_url: String,
    /// Show durations (turned off for deterministic snapshots).
    pub timings: bool,
}

impl RenderOptions {
    pub fn book_link(&self, rel: &str) -> String {
        format!(
            "{}/{}",
            self.book_url.trim_end_matches('/'),
            rel.trim_start_matches('/')
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
    Tap,
}

pub fn render(report: &Report, format: Format, opts: &RenderOptions) -> String {
    match format {
        Format::Human => human::render(report, opts),
        Format::Json => json::render(report, opts),
        Format::Junit => junit::render(report, opts),
        Format::Tap => tap::render(report, opts),
    }
}

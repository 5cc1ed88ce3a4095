//! Results and their renderings: one file per format, the JSON wire types apart.

pub mod human;
pub mod json;
pub mod junit;
pub mod tap;
#[cfg(test)]
pub(crate) mod testing;
pub mod wire;

use std::time::Duration;

pub use crate::result::{CheckResult, Skip, Status};

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
        /// Lab services the learner named otherwise ("treating your service `database` as db").
        renamed: Vec<crate::target::matching::Mapped>,
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
                Status::Skip if r.drill_not_run() => s.drills_not_run += 1,
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
            && self
                .results
                .iter()
                .all(|r| r.status.lets_through() || r.drill_not_run())
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

//! `grade.json` wire types (serialise-only), schema `labcheck-grade` version 1: each learner's
//! row embeds the `labcheck-report` of their run as it is (`report/wire.rs`). Documented in
//! checker/README.md; bump SCHEMA_VERSION on any incompatible change.

use serde::Serialize;

use super::progress_file::Progress;
use super::score::{CheckGrade, RowStatus};
use crate::report::wire::WireReport;

#[derive(Serialize)]
pub struct WireGrade<'a> {
    pub schema: &'static str,
    pub schema_version: u32,
    pub labcheck_version: &'static str,
    pub lab: WireGradeLab<'a>,
    pub roster: String,
    pub options: WireOptions,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    pub summary: WireSummary,
    pub learners: Vec<WireRow<'a>>,
}

/// A learner graded in this run, or a row kept as the previous grade.json had it
/// (`grade --only`).
#[derive(Serialize)]
#[serde(untagged)]
pub enum WireRow<'a> {
    Graded(Box<WireLearner<'a>>),
    Kept(&'a serde_json::Value),
}

#[derive(Serialize)]
pub struct WireGradeLab<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub file: String,
    pub sha256: &'a str,
    pub checks: Vec<WireLabCheck<'a>>,
}

#[derive(Serialize)]
pub struct WireLabCheck<'a> {
    pub id: &'a str,
    pub points: u32,
}

#[derive(Serialize)]
pub struct WireOptions {
    pub jobs: usize,
    pub timeout_ms: u64,
    pub warnings_cost_points: bool,
    /// Graded against the lab's exact solution contract (`--strict`, or the roster's).
    pub strict: bool,
}

#[derive(Serialize)]
pub struct WireSummary {
    pub learners: usize,
    pub ok: usize,
    pub failing: usize,
    pub absent: usize,
    pub error: usize,
    pub checks: Vec<WireCheckStats>,
}

/// Per check over the learners whose stack was found.
#[derive(Serialize)]
pub struct WireCheckStats {
    pub id: String,
    pub points: u32,
    pub earned: usize,
    pub failed: usize,
    pub skipped: usize,
    pub graded: usize,
}

#[derive(Serialize)]
pub struct WireLearner<'a> {
    pub id: &'a str,
    pub status: RowStatus,
    pub points: u32,
    pub max_points: u32,
    pub error: Option<&'a str>,
    pub endpoint: &'a str,
    pub project: String,
    pub started_at: String,
    pub duration_ms: u64,
    pub checks: &'a [CheckGrade],
    /// Present when the roster names the learner's progress file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<&'a Progress>,
    pub report: Option<WireReport<'a>>,
}

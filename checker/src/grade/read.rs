//! grade.json read back: what the dashboard, the history and `grade --only` need from it.
//!
//! Lenient on purpose: only the fields used here are read, missing optional ones default, so a
//! grade.json from an older labcheck of the same schema still feeds the dashboard.

use std::path::Path;

use serde::Deserialize;

use super::output::{SCHEMA, SCHEMA_VERSION};

/// Largest grade.json read back (a class of thousands with full reports fits in far less).
const MAX_GRADE_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, Deserialize)]
pub struct Doc {
    pub schema: String,
    pub schema_version: u32,
    pub lab: DocLab,
    #[serde(default)]
    pub started_at: String,
    #[serde(default)]
    pub finished_at: String,
    #[serde(default)]
    pub duration_ms: u64,
    pub summary: DocSummary,
    pub learners: Vec<DocLearner>,
    #[serde(default)]
    pub options: DocOptions,
}

/// The options a grading was made with (those `--only` must keep).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DocOptions {
    #[serde(default)]
    pub strict: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DocLab {
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub sha256: String,
    pub checks: Vec<DocLabCheck>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DocLabCheck {
    pub id: String,
    pub points: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DocSummary {
    pub learners: usize,
    pub ok: usize,
    pub failing: usize,
    pub absent: usize,
    pub error: usize,
    pub checks: Vec<DocCheckStats>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DocCheckStats {
    pub id: String,
    pub points: u32,
    pub earned: usize,
    pub failed: usize,
    pub skipped: usize,
    pub graded: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DocLearner {
    pub id: String,
    pub status: String,
    pub points: u32,
    pub max_points: u32,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub endpoint: String,
    #[serde(default)]
    pub project: String,
    #[serde(default)]
    pub started_at: String,
    #[serde(default)]
    pub duration_ms: u64,
    pub checks: Vec<DocCheckGrade>,
    #[serde(default)]
    pub report: Option<DocReport>,
    #[serde(default)]
    pub progress: Option<DocProgress>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DocCheckGrade {
    pub id: String,
    pub status: String,
    pub points: u32,
    pub max_points: u32,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DocReport {
    #[serde(default)]
    pub first_broken: Option<String>,
    #[serde(default)]
    pub checks: Vec<DocReportCheck>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DocReportCheck {
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DocProgress {
    #[serde(default)]
    pub time_to_green_secs: Option<f64>,
    #[serde(default)]
    pub note: Option<String>,
}

impl DocLearner {
    /// The learner's report line for a check, if the report has one.
    pub fn result(&self, check: &str) -> Option<&DocReportCheck> {
        self.report
            .as_ref()
            .and_then(|r| r.checks.iter().find(|c| c.id == check))
    }
}

/// A grade.json, as text: the document and its raw value (kept rows are copied as they are).
pub fn parse(text: &str) -> Result<(Doc, serde_json::Value), String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let doc: Doc = serde_path_to_error::deserialize(&value)
        .map_err(|e| format!("at {}: {}", e.path(), e.inner()))?;
    if doc.schema != SCHEMA || doc.schema_version != SCHEMA_VERSION {
        return Err(format!(
            "schema {} version {}, not {SCHEMA} version {SCHEMA_VERSION}",
            doc.schema, doc.schema_version
        ));
    }
    Ok((doc, value))
}

/// `dir/grade.json` if there is one; an error names the file.
pub fn load(dir: &Path) -> Result<Option<(Doc, serde_json::Value)>, String> {
    let path = dir.join("grade.json");
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if meta.len() > MAX_GRADE_BYTES {
        return Err(format!(
            "{}: {} bytes; the limit is {MAX_GRADE_BYTES}",
            path.display(),
            meta.len()
        ));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text)
        .map(Some)
        .map_err(|e| format!("{}: {e}", path.display()))
}

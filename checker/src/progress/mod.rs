//! A learner's progress over the labs: one local file, `progress.json`, in the user's state
//! directory, that every `labcheck <lab>` run records into and `labcheck progress` shows.
//!
//! - this file: the document (versioned) and how one run changes it;
//! - [`store`]: where the file lives, and reading and writing it safely (a lock file, a
//!   temporary file renamed into place, a damaged file kept aside);
//! - [`view`]: the table of the labs and the export.

pub mod store;
pub mod view;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::lab::Lab;
use crate::report::{Report, StackState, Status};

/// The `schema` of the document.
pub const SCHEMA: &str = "labcheck-progress";
/// The version this labcheck writes and reads.
pub const VERSION: u32 = 1;

/// The whole file: one learner's progress on every lab they ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    pub schema: String,
    pub version: u32,
    /// Set only in an exported copy: when it was written (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exported_at: Option<String>,
    /// By lab id.
    #[serde(default)]
    pub labs: BTreeMap<String, LabProgress>,
}

/// One lab's record. Times are RFC 3339 in UTC, to the second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabProgress {
    pub first_run: String,
    pub last_run: String,
    /// Every `labcheck <lab>` run that produced a report (a stack that is not up counts too).
    pub runs: u64,
    /// The first run whose verdict was green (exit code 0).
    pub first_green: Option<String>,
    /// Seconds from the first run to the first green one.
    pub time_to_green_s: Option<u64>,
    /// The last run: green (exit code 0), and its checks passed, of how many (a skipped drill
    /// is not passed, and a green run may have warnings).
    pub last_green: bool,
    pub last_passed: usize,
    pub last_total: usize,
    /// Hint levels revealed with `labcheck hint` (read from hints.json).
    pub hints_revealed: u32,
    /// The drills (check ids) that have passed at least once, sorted.
    pub drills_passed: Vec<String>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            schema: SCHEMA.into(),
            version: VERSION,
            exported_at: None,
            labs: BTreeMap::new(),
        }
    }
}

/// What one run contributes.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    pub green: bool,
    pub passed: usize,
    pub total: usize,
    pub drills_passed: Vec<String>,
}

impl RunOutcome {
    /// The outcome of a report: green is what exit code 0 means.
    pub fn of(report: &Report, drill_ids: &[String]) -> RunOutcome {
        let s = report.summary();
        let up = !matches!(report.stack, StackState::Absent { .. });
        RunOutcome {
            green: up && report.exit_code() == 0,
            passed: s.passed,
            total: s.total,
            drills_passed: report
                .results
                .iter()
                .filter(|c| c.status == Status::Pass && drill_ids.contains(&c.id))
                .map(|c| c.id.clone())
                .collect(),
        }
    }
}

/// RFC 3339 in UTC, to the second.
pub fn stamp(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn parse(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339(s).ok()
}

impl Progress {
    /// Record one run of `lab` at `now`.
    pub fn record(&mut self, lab: &str, now: SystemTime, run: &RunOutcome) {
        let at = stamp(now);
        let p = self
            .labs
            .entry(lab.to_string())
            .or_insert_with(|| LabProgress {
                first_run: at.clone(),
                last_run: at.clone(),
                runs: 0,
                first_green: None,
                time_to_green_s: None,
                last_green: false,
                last_passed: 0,
                last_total: 0,
                hints_revealed: 0,
                drills_passed: Vec::new(),
            });
        p.runs += 1;
        p.last_run = at.clone();
        p.last_green = run.green;
        p.last_passed = run.passed;
        p.last_total = run.total;
        if run.green && p.first_green.is_none() {
            let since = parse(&p.first_run)
                .and_then(|first| now.duration_since(first).ok())
                .unwrap_or(Duration::ZERO);
            p.first_green = Some(at);
            p.time_to_green_s = Some(since.as_secs());
        }
        for d in &run.drills_passed {
            if !p.drills_passed.contains(d) {
                p.drills_passed.push(d.clone());
            }
        }
        p.drills_passed.sort();
    }
}

/// Record one run of `lab` in the learner's progress file. Returns the lines to warn with
/// (a file kept aside, or why nothing was recorded): a run's exit code never depends on it.
pub fn record_report(lab: &Lab, report: &Report) -> Vec<String> {
    let drills: Vec<String> = lab
        .checks
        .iter()
        .filter(|c| c.kind.is_drill())
        .map(|c| c.id.clone())
        .collect();
    let run = RunOutcome::of(report, &drills);
    let recorded = store::Store::default_place()
        .and_then(|s| s.update(|p| p.record(&lab.id, SystemTime::now(), &run)));
    match recorded {
        Ok(loaded) => loaded.kept_aside.iter().map(|k| k.to_string()).collect(),
        Err(e) => vec![format!("progress not recorded: {e}")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        // 2026-12-01T00:00:00Z
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_083_200 + secs)
    }

    fn outcome(green: bool, passed: usize, drills: &[&str]) -> RunOutcome {
        RunOutcome {
            green,
            passed,
            total: 14,
            drills_passed: drills.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn the_first_green_run_sets_time_to_green_once() {
        let mut p = Progress::default();
        p.record("phase-3", at(0), &outcome(false, 3, &[]));
        p.record("phase-3", at(600), &outcome(false, 9, &[]));
        p.record("phase-3", at(1500), &outcome(true, 14, &[]));
        p.record("phase-3", at(9000), &outcome(true, 14, &[]));
        let l = &p.labs["phase-3"];
        assert_eq!(l.runs, 4);
        assert_eq!(l.first_run, "2026-12-01T00:00:00Z");
        assert_eq!(l.last_run, "2026-12-01T02:30:00Z");
        assert_eq!(l.first_green.as_deref(), Some("2026-12-01T00:25:00Z"));
        assert_eq!(l.time_to_green_s, Some(1500));
        assert_eq!((l.last_passed, l.last_total), (14, 14));
    }

    #[test]
    fn a_red_run_after_green_keeps_the_first_green() {
        let mut p = Progress::default();
        p.record("phase-1", at(0), &outcome(true, 14, &[]));
        p.record("phase-1", at(60), &outcome(false, 2, &[]));
        let l = &p.labs["phase-1"];
        assert_eq!(l.time_to_green_s, Some(0));
        assert_eq!(l.last_passed, 2);
        assert!(!l.last_green);
    }

    #[test]
    fn drills_passed_accumulate_without_repeats() {
        let mut p = Progress::default();
        p.record("phase-4", at(0), &outcome(true, 14, &["restore-works"]));
        p.record(
            "phase-4",
            at(1),
            &outcome(true, 14, &["restore-works", "data-survives-restart"]),
        );
        assert_eq!(
            p.labs["phase-4"].drills_passed,
            ["data-survives-restart", "restore-works"]
        );
    }

    #[test]
    fn the_document_round_trips_with_its_schema_and_version() {
        let mut p = Progress::default();
        p.record("phase-3", at(0), &outcome(false, 3, &[]));
        let text = serde_json::to_string(&p).unwrap();
        assert!(text.starts_with(r#"{"schema":"labcheck-progress","version":1,"labs":{"#));
        assert_eq!(serde_json::from_str::<Progress>(&text).unwrap(), p);
    }
}

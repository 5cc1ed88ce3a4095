//! `labcheck progress`: the labs as a table, the document as JSON, and an exported copy.

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::store::write_atomic;
use super::{LabProgress, Progress};

/// What the table needs of a lab in the labs folder.
#[derive(Debug, Clone)]
pub struct LabRow {
    pub id: String,
    /// How many of its checks are drills.
    pub drills: usize,
}

/// The table: every lab of the labs folder in order (a lab not run yet is "not started"),
/// then any lab the file knows that the folder does not.
pub fn table(p: &Progress, labs: &[LabRow], file: &Path) -> String {
    let mut rows: Vec<[String; 6]> = vec![[
        "lab".into(),
        "status".into(),
        "runs".into(),
        "first run (UTC)".into(),
        "time to green".into(),
        "drills passed".into(),
    ]];
    let mut ids: Vec<(&str, Option<usize>)> = labs
        .iter()
        .map(|l| (l.id.as_str(), Some(l.drills)))
        .collect();
    for id in p.labs.keys() {
        if !labs.iter().any(|l| &l.id == id) {
            ids.push((id.as_str(), None));
        }
    }
    for (id, drills) in &ids {
        rows.push(row(id, p.labs.get(*id), *drills));
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!("Progress in {}\n\n", file.display());
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    let green = ids
        .iter()
        .filter(|(id, _)| p.labs.get(*id).is_some_and(|l| l.first_green.is_some()))
        .count();
    out.push_str(&format!(
        "\n{green} of {} labs green at least once.",
        ids.len()
    ));
    if p.labs.is_empty() {
        out.push_str(" Run `labcheck <lab>` to start recording.");
    }
    out.push('\n');
    out
}

fn row(id: &str, l: Option<&LabProgress>, drills: Option<usize>) -> [String; 6] {
    let Some(l) = l else {
        return [
            id.into(),
            "not started".into(),
            "0".into(),
            "-".into(),
            "-".into(),
            drills
                .filter(|d| *d > 0)
                .map_or("-".into(), |d| format!("0 of {d}")),
        ];
    };
    let status = match &l.first_green {
        Some(_) if l.last_green => "green".to_string(),
        Some(_) => format!("was green, now {}/{}", l.last_passed, l.last_total),
        None => format!("in progress ({}/{})", l.last_passed, l.last_total),
    };
    let first = match (l.first_run.get(..10), l.first_run.get(11..16)) {
        (Some(d), Some(t)) => format!("{d} {t}"),
        _ => l.first_run.clone(),
    };
    let ttg = l.time_to_green_s.map_or("-".into(), |s| {
        humantime::format_duration(Duration::from_secs(s)).to_string()
    });
    let passed = l.drills_passed.len();
    let drills = match drills {
        Some(0) => "-".to_string(),
        Some(d) => format!("{passed} of {d}"),
        None => passed.to_string(),
    };
    [id.into(), status, l.runs.to_string(), first, ttg, drills]
}

/// The document as `--format json` prints it (the file's own format).
pub fn json(p: &Progress) -> String {
    let mut s = serde_json::to_string_pretty(p).unwrap_or_default();
    s.push('\n');
    s
}

/// Write a copy a learner can hand in: the same document, with `exported_at`.
pub fn export(p: &Progress, to: &Path, now: SystemTime) -> Result<(), String> {
    let mut copy = p.clone();
    copy.exported_at = Some(super::stamp(now));
    write_atomic(to, &copy)
}

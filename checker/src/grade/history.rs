//! `history.jsonl` in the `--out` folder: one line per grading (a whole class or `--only`), so
//! the dashboard can show who moved since the previous one. Each line is schema
//! `labcheck-grade-history` version 1: when, which lab.toml, which learners were regraded
//! (`only`, null for the whole class), and every learner's status, points and first broken check.

use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::read::Doc;

pub const FILE: &str = "history.jsonl";
pub const SCHEMA: &str = "labcheck-grade-history";
pub const SCHEMA_VERSION: u32 = 1;
/// Most runs kept for the page (the file itself is never trimmed).
const SHOWN: usize = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub schema: String,
    pub schema_version: u32,
    pub finished_at: String,
    #[serde(default)]
    pub lab_sha256: String,
    /// The learners regraded by `--only`; None for the whole class.
    #[serde(default)]
    pub only: Option<Vec<String>>,
    pub learners: Vec<EntryLearner>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryLearner {
    pub id: String,
    pub status: String,
    pub points: u32,
    pub max_points: u32,
    #[serde(default)]
    pub first_broken: Option<String>,
}

impl Entry {
    pub fn learner(&self, id: &str) -> Option<&EntryLearner> {
        self.learners.iter().find(|l| l.id == id)
    }

    pub fn count(&self, status: &str) -> usize {
        self.learners.iter().filter(|l| l.status == status).count()
    }
}

/// The line for a grade.json.
pub fn entry(doc: &Doc, only: Option<&[String]>) -> Entry {
    Entry {
        schema: SCHEMA.into(),
        schema_version: SCHEMA_VERSION,
        finished_at: doc.finished_at.clone(),
        lab_sha256: doc.lab.sha256.clone(),
        only: only.map(<[String]>::to_vec),
        learners: doc
            .learners
            .iter()
            .map(|l| EntryLearner {
                id: l.id.clone(),
                status: l.status.clone(),
                points: l.points,
                max_points: l.max_points,
                first_broken: l.report.as_ref().and_then(|r| r.first_broken.clone()),
            })
            .collect(),
    }
}

/// The last runs of `dir/history.jsonl`, oldest first, and how many lines were not readable
/// (a line cut by a crash, or from another schema, is passed over, never fatal).
pub fn read(dir: &Path) -> (Vec<Entry>, usize) {
    let Ok(text) = std::fs::read_to_string(dir.join(FILE)) else {
        return (Vec::new(), 0);
    };
    let mut bad = 0;
    let mut entries: Vec<Entry> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| match serde_json::from_str::<Entry>(l) {
            Ok(e) if e.schema == SCHEMA && e.schema_version == SCHEMA_VERSION => Some(e),
            _ => {
                bad += 1;
                None
            }
        })
        .collect();
    if entries.len() > SHOWN {
        entries.drain(..entries.len() - SHOWN);
    }
    (entries, bad)
}

/// Append this run to `dir/history.jsonl`; when the file does not exist yet and a previous
/// grade.json does, that grading is recorded first, so the first run after an upgrade already
/// shows who moved.
pub fn record(dir: &Path, previous: Option<&Doc>, now: &Entry) -> std::io::Result<()> {
    let path = dir.join(FILE);
    let fresh = !path.exists();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    let mut line = |e: &Entry| -> std::io::Result<()> {
        let mut text = serde_json::to_string(e).expect("a history entry serialises");
        text.push('\n');
        f.write_all(text.as_bytes())
    };
    if let (true, Some(prev)) = (fresh, previous) {
        line(&entry(prev, None))?;
    }
    line(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(at: &str, points: u32) -> Entry {
        Entry {
            schema: SCHEMA.into(),
            schema_version: SCHEMA_VERSION,
            finished_at: at.into(),
            lab_sha256: "ab".into(),
            only: None,
            learners: vec![EntryLearner {
                id: "ada".into(),
                status: "failing".into(),
                points,
                max_points: 10,
                first_broken: Some("db-healthy".into()),
            }],
        }
    }

    #[test]
    fn runs_are_appended_and_a_broken_line_is_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        record(dir.path(), None, &e("2026-12-01T10:00:00.000Z", 3)).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(FILE))
            .unwrap()
            .write_all(b"{\"schema\": \"labcheck-grade-hist\n")
            .unwrap();
        record(dir.path(), None, &e("2026-12-01T11:00:00.000Z", 7)).unwrap();
        let (runs, bad) = read(dir.path());
        assert_eq!(bad, 1);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].learner("ada").unwrap().points, 7);
        assert_eq!(runs[0].count("failing"), 1);
    }
}

//! A learner's exported progress file (`labcheck-progress`, version 1), read for one number:
//! how long the learner took from their first run of the lab to their first green run.
//!
//! Read leniently: the learner's side writes it, so an unknown or missing field is "not known"
//! (the dashboard shows "—") rather than an error. What is looked at, for lab `<id>`:
//! `labs.<id>` (an object keyed by lab id, or an array of objects with `id` or `lab`), and in it
//! the first of `time_to_green_secs`, `time_to_green_s`, `time_to_green_seconds` (seconds) or
//! `time_to_green_ms` (milliseconds).

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

/// Largest progress file read.
const MAX_PROGRESS_BYTES: u64 = 4 * 1024 * 1024;

/// What grade.json says of a learner's progress file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub file: String,
    /// Seconds from the first run to the first green run; None while not green or not known.
    pub time_to_green_secs: Option<f64>,
    /// Why the time is not known, when the file could not be read or does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Read `path` for lab `lab_id`.
pub fn read(path: &Path, lab_id: &str) -> Progress {
    let file = path.display().to_string();
    let (time_to_green_secs, note) = match load(path).and_then(|v| time_to_green(&v, lab_id)) {
        Ok(Some(t)) => (Some(t), None),
        Ok(None) => (None, Some(format!("no green run of {lab_id} recorded"))),
        Err(e) => (None, Some(e)),
    };
    Progress {
        file,
        time_to_green_secs,
        note,
    }
}

fn load(path: &Path) -> Result<Value, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if meta.len() > MAX_PROGRESS_BYTES {
        return Err(format!(
            "{} bytes; the limit is {MAX_PROGRESS_BYTES}",
            meta.len()
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))
}

/// The time to green of `lab_id` in a progress document.
pub fn time_to_green(doc: &Value, lab_id: &str) -> Result<Option<f64>, String> {
    if let Some(schema) = doc.get("schema").and_then(Value::as_str) {
        if schema != "labcheck-progress" {
            return Err(format!("schema `{schema}`, not labcheck-progress"));
        }
    }
    let labs = doc.get("labs");
    let lab = match labs {
        Some(Value::Object(m)) => m.get(lab_id),
        Some(Value::Array(list)) => list.iter().find(|l| {
            ["id", "lab"]
                .iter()
                .any(|k| l.get(k).and_then(Value::as_str) == Some(lab_id))
        }),
        _ => return Err("no `labs` in it".into()),
    };
    let Some(lab) = lab else { return Ok(None) };
    for (key, scale) in [
        ("time_to_green_secs", 1.0),
        ("time_to_green_s", 1.0),
        ("time_to_green_seconds", 1.0),
        ("time_to_green_ms", 0.001),
    ] {
        if let Some(n) = lab.get(key).and_then(Value::as_f64) {
            if n.is_finite() && n >= 0.0 {
                return Ok(Some(n * scale));
            }
        }
    }
    Ok(None)
}

/// "12 min", "1 h 05 min", "40 s": short enough for a table cell.
pub fn human(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_time_is_found_under_any_of_its_names() {
        let by_id = json!({"schema": "labcheck-progress", "schema_version": 1,
            "labs": {"phase-3": {"time_to_green_secs": 754.0}, "phase-2": {"runs": 3}}});
        assert_eq!(time_to_green(&by_id, "phase-3"), Ok(Some(754.0)));
        assert_eq!(time_to_green(&by_id, "phase-2"), Ok(None));
        assert_eq!(time_to_green(&by_id, "phase-9"), Ok(None));
        let list = json!({"labs": [{"lab": "phase-3", "time_to_green_ms": 1500}]});
        assert_eq!(time_to_green(&list, "phase-3"), Ok(Some(1.5)));
        let other = json!({"schema": "something-else", "labs": {}});
        assert!(time_to_green(&other, "phase-3")
            .unwrap_err()
            .contains("something-else"));
        assert!(time_to_green(&json!([1, 2]), "phase-3").is_err());
        let negative = json!({"labs": {"phase-3": {"time_to_green_s": -4}}});
        assert_eq!(time_to_green(&negative, "phase-3"), Ok(None));
    }

    #[test]
    fn a_missing_file_is_a_note_not_an_error() {
        let p = read(Path::new("/nonexistent/progress.json"), "phase-3");
        assert_eq!(p.time_to_green_secs, None);
        assert!(p.note.unwrap().starts_with("cannot read it"));
    }

    #[test]
    fn times_read_short() {
        assert_eq!(human(40.2), "40 s");
        assert_eq!(human(754.0), "12 min");
        assert_eq!(human(3900.0), "1 h 05 min");
    }
}

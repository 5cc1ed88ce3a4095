//! `grade --only alice,bob`: regrade a few learners and keep every other row of the previous
//! grade.json in the same `--out` folder, as it is (its report, its time, its JUnit file).
//!
//! Refused, with what to do instead, when there is no previous grading, when it was made with
//! another lab.toml (its points would not add up with the new ones), when `--only` names someone
//! not in the roster, or when the roster has a learner the previous grading does not.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use super::read::Doc;
use super::{CheckGrade, Gradebook, LearnerGrade, RowStatus};
use crate::grade::roster::Roster;

/// The learners to grade now (a roster of those named), and the ids of the previous grading
/// that are no longer in the roster (dropped from the gradebook).
pub fn plan(
    roster: &Roster,
    only: &[String],
    previous: Option<&Doc>,
    lab_id: &str,
    lab_sha256: &str,
    strict: bool,
    out: &Path,
) -> Result<(Roster, Vec<String>), String> {
    let file = out.join("grade.json");
    let Some(prev) = previous else {
        return Err(format!(
            "--only regrades some learners of an earlier grading, and {} does not exist: grade the whole class first (without --only)",
            file.display()
        ));
    };
    if prev.lab.id != lab_id {
        return Err(format!(
            "{} grades lab {}, not {lab_id}: use another --out folder, or grade the whole class",
            file.display(),
            prev.lab.id
        ));
    }
    if prev.lab.sha256 != lab_sha256 {
        return Err(format!(
            "{} was graded with another version of {lab_id}'s lab.toml (sha256 {:.12}…, now {:.12}…), so its points do not add up with new ones: grade the whole class again (without --only)",
            file.display(),
            prev.lab.sha256,
            lab_sha256
        ));
    }
    if prev.options.strict != strict {
        let how = |s: bool| {
            if s {
                "with --strict"
            } else {
                "without --strict"
            }
        };
        return Err(format!(
            "{} was graded {}, and this grading is {}: its points would not add up with the new ones. Grade {} again, or the whole class (without --only)",
            file.display(),
            how(prev.options.strict),
            how(strict),
            how(prev.options.strict)
        ));
    }
    let known = |id: &str| prev.learners.iter().any(|l| l.id == id);
    let named = |id: &str| only.iter().any(|o| o == id);
    for id in only {
        if !roster.learners.iter().any(|l| &l.id == id) {
            return Err(format!("--only names `{id}`, who is not in the roster"));
        }
    }
    if let Some(l) = roster
        .learners
        .iter()
        .find(|l| !known(&l.id) && !named(&l.id))
    {
        return Err(format!(
            "`{}` is in the roster but not in {}: add them to --only, or grade the whole class",
            l.id,
            file.display()
        ));
    }
    let dropped = prev
        .learners
        .iter()
        .filter(|p| !roster.learners.iter().any(|l| l.id == p.id))
        .map(|p| p.id.clone())
        .collect();
    let mut now = roster.clone();
    now.learners.retain(|l| named(&l.id));
    Ok((now, dropped))
}

/// The class in roster order: the rows just graded, the others as `previous` has them.
pub fn merge(
    roster: &Roster,
    mut graded: Gradebook,
    previous: &Doc,
    previous_json: &serde_json::Value,
) -> Gradebook {
    let mut fresh = std::mem::take(&mut graded.rows);
    let mut rows = Vec::with_capacity(roster.learners.len());
    for learner in &roster.learners {
        if let Some(i) = fresh.iter().position(|r| r.learner.id == learner.id) {
            rows.push(fresh.swap_remove(i));
            continue;
        }
        let Some(i) = previous.learners.iter().position(|p| p.id == learner.id) else {
            continue; // `plan` refused this case
        };
        let p = &previous.learners[i];
        rows.push(LearnerGrade {
            learner: learner.clone(),
            status: RowStatus::parse(&p.status).unwrap_or(RowStatus::Error),
            checks: p
                .checks
                .iter()
                .map(|c| CheckGrade {
                    id: c.id.clone(),
                    status: c.status.clone(),
                    points: c.points,
                    max_points: c.max_points,
                    note: c.note.clone(),
                })
                .collect(),
            points: p.points,
            max_points: p.max_points,
            error: p.error.clone(),
            endpoint: p.endpoint.clone(),
            report: None,
            started_at: humantime::parse_rfc3339(&p.started_at).unwrap_or(UNIX_EPOCH),
            duration: Duration::from_millis(p.duration_ms),
            progress: None,
            kept: Some(previous_json["learners"][i].clone()),
        });
    }
    graded.rows = rows;
    graded
}

//! From one learner's report to gradebook points.
//!
//! - a passing check earns its points (from lab.toml);
//! - a check with `severity = "warn"` that does not pass still earns its points, unless the lab
//!   says otherwise (`warnings_cost_points = true` at the top of lab.toml) or the class does
//!   (the roster's `[grading] warnings_cost_points = true`);
//! - a `severity = "fail"` check that labcheck could not decide (a probe error, reported as a
//!   warning to the learner) earns nothing: it is marked `undetermined`;
//! - failed and skipped checks earn nothing; a skipped one says why.

use crate::lab::{Check, Lab};
use crate::report::{Report, StackState};
use crate::result::{earned, Scoring};

use super::roster::GradingRules;

/// The row status of a learner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowStatus {
    /// Every point earned and the whole stack found.
    Ok,
    /// The stack was found but some points were lost.
    Failing,
    /// No stack of the lab on the learner's engine.
    Absent,
    /// labcheck could not grade: engine unreachable, timeout, several candidate projects.
    Error,
}

impl RowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Ok => "ok",
            RowStatus::Failing => "failing",
            RowStatus::Absent => "absent",
            RowStatus::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<RowStatus> {
        [
            RowStatus::Ok,
            RowStatus::Failing,
            RowStatus::Absent,
            RowStatus::Error,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// How one check was graded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckGrade {
    pub id: String,
    /// pass, fail, warn, skip (as labcheck reported it), or "error" when the learner was not graded.
    pub status: String,
    pub points: u32,
    pub max_points: u32,
    /// Why points were given or not, when it is not a plain pass or fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why a drill earns nothing and counts for nothing in a gradebook.
pub const DRILL_NOT_GRADED: &str =
    "a drill: grading never runs it (it changes the learner's stack), so it is not counted";

/// The points a check counts for in a gradebook: a drill's are 0, since grading never runs it.
pub fn counted_points(c: &Check) -> u32 {
    if c.kind.is_drill() {
        0
    } else {
        c.points
    }
}

pub fn grade_checks(lab: &Lab, report: &Report, rules: &GradingRules) -> Vec<CheckGrade> {
    lab.checks
        .iter()
        .map(|c| {
            if c.kind.is_drill() {
                return CheckGrade {
                    id: c.id.clone(),
                    status: "skip".into(),
                    points: 0,
                    max_points: 0,
                    note: Some(DRILL_NOT_GRADED.into()),
                };
            }
            let Some(r) = report.results.iter().find(|r| r.id == c.id) else {
                return CheckGrade {
                    id: c.id.clone(),
                    status: "skip".into(),
                    points: 0,
                    max_points: c.points,
                    note: Some("not in the report".into()),
                };
            };
            let scoring = Scoring {
                warnings_cost_points: lab.warnings_cost_points || rules.warnings_cost_points,
            };
            let (points, note) = earned(r, scoring);
            CheckGrade {
                id: c.id.clone(),
                status: r.status.as_str().into(),
                points,
                max_points: c.points,
                note,
            }
        })
        .collect()
}

pub fn row_status(report: &Report, checks: &[CheckGrade]) -> RowStatus {
    match &report.stack {
        StackState::Absent { .. } => RowStatus::Absent,
        StackState::Found { missing, .. } => {
            let earned: u32 = checks.iter().map(|c| c.points).sum();
            let max: u32 = checks.iter().map(|c| c.max_points).sum();
            if missing.is_empty() && earned == max {
                RowStatus::Ok
            } else {
                RowStatus::Failing
            }
        }
    }
}

/// Every check at zero, for a learner who could not be graded.
pub fn error_checks(lab: &Lab) -> Vec<CheckGrade> {
    lab.checks
        .iter()
        .map(|c| CheckGrade {
            id: c.id.clone(),
            status: "error".into(),
            points: 0,
            max_points: counted_points(c),
            note: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Verdict;
    use crate::lab::{Role, Severity};
    use crate::report::testing::report;
    use crate::report::CheckResult;
    use crate::report::{Skip, Status};
    use std::time::Duration;

    fn lab() -> Lab {
        crate::lab::load_str(
            r#"
format_version = 1
id = "t"
title = "t"
[target]
kind = "compose"
services = ["web"]
[[checks]]
id = "a"
title = "a"
kind = "running"
service = "web"
points = 2
[[checks]]
id = "b"
title = "b"
kind = "healthy"
service = "web"
points = 3
severity = "warn"
needs = ["a"]
[[checks]]
id = "c"
title = "c"
kind = "env"
service = "web"
var = "X"
points = 4
needs = ["a"]
"#,
            std::path::Path::new("/labs/t/lab.toml"),
            std::path::Path::new("/labs/t"),
        )
        .expect("the test lab loads")
    }

    fn result(id: &str, status: Status, max: u32) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: id.into(),
            kind: "running".into(),
            status,
            verdict: match status {
                Status::Pass => Some(Verdict::Pass),
                Status::Fail | Status::Warn => Some(Verdict::Fail),
                Status::Skip => None,
            },
            severity: Severity::Fail,
            role: Role::Behaviour,
            note: None,
            causes: vec![],
            points: if status == Status::Pass { max } else { 0 },
            max_points: max,
            message: format!("{id} said so"),
            evidence: vec![],
            skip: (status == Status::Skip).then(|| Skip::Needs(vec!["a".into()])),
            hints: Default::default(),
            book: None,
            see: None,
            duration: Duration::ZERO,
            depth: 0,
        }
    }

    #[test]
    fn warnings_earn_their_points_unless_the_class_says_otherwise() {
        let lab = lab();
        let r = report(vec![
            result("a", Status::Pass, 2),
            result("b", Status::Warn, 3),
            result("c", Status::Pass, 4),
        ]);
        let g = grade_checks(&lab, &r, &GradingRules::default());
        assert_eq!(g.iter().map(|c| c.points).collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(row_status(&r, &g), RowStatus::Ok);
        let g = grade_checks(
            &lab,
            &r,
            &GradingRules {
                warnings_cost_points: true,
                strict: false,
            },
        );
        assert_eq!(g.iter().map(|c| c.points).collect::<Vec<_>>(), [2, 0, 4]);
        assert_eq!(row_status(&r, &g), RowStatus::Failing);
    }

    #[test]
    fn a_lab_can_say_that_warnings_cost_points() {
        let mut lab = lab();
        lab.warnings_cost_points = true;
        let r = report(vec![
            result("a", Status::Pass, 2),
            result("b", Status::Warn, 3),
            result("c", Status::Pass, 4),
        ]);
        let g = grade_checks(&lab, &r, &GradingRules::default());
        assert_eq!(g.iter().map(|c| c.points).collect::<Vec<_>>(), [2, 0, 4]);
    }

    #[test]
    fn drills_are_not_counted_because_grading_never_runs_them() {
        let mut lab = lab();
        let drill = crate::lab::load_str(
            r#"
format_version = 1
id = "d"
title = "d"
[target]
kind = "compose"
services = ["db"]
[[checks]]
id = "d"
title = "d"
kind = "persistence"
service = "db"
marker_table = "m"
points = 5
"#,
            std::path::Path::new("/labs/d/lab.toml"),
            std::path::Path::new("/labs/d"),
        )
        .expect("the drill lab loads");
        lab.checks.extend(drill.checks);
        let mut skipped = result("d", Status::Skip, 5);
        skipped.skip = Some(Skip::DrillNotRequested);
        let r = report(vec![
            result("a", Status::Pass, 2),
            result("b", Status::Pass, 3),
            result("c", Status::Pass, 4),
            skipped,
        ]);
        let g = grade_checks(&lab, &r, &GradingRules::default());
        assert_eq!((g[3].points, g[3].max_points), (0, 0));
        assert_eq!(g[3].note.as_deref(), Some(DRILL_NOT_GRADED));
        assert_eq!(
            row_status(&r, &g),
            RowStatus::Ok,
            "a full score is possible"
        );
        assert_eq!(error_checks(&lab)[3].max_points, 0);
    }

    #[test]
    fn an_undecided_fail_check_earns_nothing_and_skips_say_why() {
        let lab = lab();
        let r = report(vec![
            result("a", Status::Fail, 2),
            result("b", Status::Skip, 3),
            CheckResult {
                verdict: Some(Verdict::Unknown),
                ..result("c", Status::Warn, 4)
            },
        ]);
        let g = grade_checks(&lab, &r, &GradingRules::default());
        assert_eq!(g.iter().map(|c| c.points).collect::<Vec<_>>(), [0, 0, 0]);
        assert_eq!(g[1].note.as_deref(), Some("skipped: needs a"));
        assert!(g[2].note.as_deref().unwrap().starts_with("undetermined"));
        assert_eq!(row_status(&r, &g), RowStatus::Failing);
        let mut absent = r.clone();
        absent.stack = StackState::Absent {
            message: "no".into(),
        };
        assert_eq!(row_status(&absent, &g), RowStatus::Absent);
    }
}

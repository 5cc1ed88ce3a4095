//! What one check ended as: status, verdict, severity and skip reason as data, and the one
//! scoring rule that the report and the gradebook share.

use std::time::Duration;

use crate::lab::{Role, Severity};
use crate::verdict::Verdict;

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

    /// A verdict under a severity: a failed `warn` check, or a fact that could not be
    /// established, is a warning.
    pub fn of(verdict: Verdict, severity: Severity) -> Status {
        match (verdict, severity) {
            (Verdict::Pass, _) => Status::Pass,
            (Verdict::Unknown, _) | (Verdict::Fail, Severity::Warn) => Status::Warn,
            (Verdict::Fail, Severity::Fail) => Status::Fail,
        }
    }

    /// Does not block the checks that need it (a warning does not block the ladder).
    pub fn lets_through(self) -> bool {
        matches!(self, Status::Pass | Status::Warn)
    }
}

/// Why a check was not judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Needs that did not pass, in the order declared.
    Needs(Vec<String>),
    /// Services (or containers) of the check that have no container.
    NoContainer(Vec<String>),
    /// Nothing of the lab's stack is there.
    StackAbsent,
    /// A drill (it changes the stack), and `--drill` was not given: not run, worth nothing.
    DrillNotRequested,
}

impl Skip {
    /// Why, in words, without a "skipped" prefix.
    pub fn reason(&self) -> String {
        match self {
            Skip::Needs(ids) => format!("needs {}", ids.join(", ")),
            Skip::NoContainer(units) if units.len() == 1 => {
                format!("{} has no container", units[0])
            }
            Skip::NoContainer(units) => format!("{} have no container", units.join(" and ")),
            Skip::StackAbsent => "the stack is not up".into(),
            Skip::DrillNotRequested => {
                "a drill (it changes the stack); run with --drill to run it".into()
            }
        }
    }

    /// The JSON report's `skipped_because` (schema version 1): the needs, the services with
    /// no container, `--drill` for a drill not asked for, nothing when the stack is absent.
    pub fn because(&self) -> Vec<String> {
        match self {
            Skip::Needs(v) | Skip::NoContainer(v) => v.clone(),
            Skip::StackAbsent => vec![],
            Skip::DrillNotRequested => vec!["--drill".into()],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub status: Status,
    /// The kind's verdict (None when skipped).
    pub verdict: Option<Verdict>,
    pub severity: Severity,
    pub role: Role,
    /// A diagnosis that differs from the solution while what it explains works: why it passed.
    pub note: Option<String>,
    /// For a failed behaviour: the failed diagnoses that explain it, in ladder order.
    pub causes: Vec<String>,
    /// Points earned, by [`earned`] under the lab's rules.
    pub points: u32,
    /// What the check is worth (0 for a drill not run).
    pub max_points: u32,
    /// One line: what was found, or why it was skipped.
    pub message: String,
    pub evidence: Vec<String>,
    pub skip: Option<Skip>,
    /// The check's hint levels (nudge, concept, see, fix).
    pub hints: crate::lab::Hints,
    /// Book link, relative to the book root.
    pub book: Option<String>,
    /// The docker command that shows the same thing by hand.
    pub see: Option<String>,
    pub duration: Duration,
    /// Ladder depth (0 = no needs), for indentation.
    pub depth: usize,
}

impl CheckResult {
    /// The JSON report's `skipped_because`.
    pub fn skipped_because(&self) -> Vec<String> {
        self.skip.as_ref().map(Skip::because).unwrap_or_default()
    }

    /// A drill left out because `--drill` was not given.
    pub fn drill_not_run(&self) -> bool {
        self.skip == Some(Skip::DrillNotRequested)
    }
}

/// How warnings score: the lab's `warnings_cost_points`, or a roster's rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scoring {
    pub warnings_cost_points: bool,
}

/// Points earned, and a note for the gradebook when the points need explaining. The one
/// scoring rule: a pass earns the check's points; a failed `warn` check (hardening) keeps them
/// unless warnings cost points; a fact that could not be established (an undecided check,
/// whatever its severity) earns nothing, since nothing was shown; a failure or a skip earns
/// nothing.
pub fn earned(r: &CheckResult, scoring: Scoring) -> (u32, Option<String>) {
    let max = r.max_points;
    match (r.status, r.verdict) {
        (Status::Pass, _) => (max, None),
        (Status::Warn, Some(Verdict::Unknown)) => (0, Some(format!("undetermined: {}", r.message))),
        (Status::Warn, _) if scoring.warnings_cost_points => (
            0,
            Some(format!(
                "warning (costs points in this class): {}",
                r.message
            )),
        ),
        (Status::Warn, _) => (max, Some(format!("warning, no points lost: {}", r.message))),
        (Status::Fail, _) => (0, None),
        (Status::Skip, _) => (
            0,
            Some(match &r.skip {
                Some(s) => format!("skipped: {}", s.reason()),
                None => "skipped".into(),
            }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(status: Status, verdict: Option<Verdict>) -> CheckResult {
        CheckResult {
            verdict,
            severity: Severity::Warn,
            points: 0,
            max_points: 3,
            ..crate::report::testing::result("c", status)
        }
    }

    #[test]
    fn one_rule_for_every_outcome() {
        let lenient = Scoring::default();
        let strict = Scoring {
            warnings_cost_points: true,
        };
        let pass = result(Status::Pass, Some(Verdict::Pass));
        assert_eq!(earned(&pass, strict).0, 3);
        let warned = result(Status::Warn, Some(Verdict::Fail));
        assert_eq!(earned(&warned, lenient).0, 3);
        assert_eq!(earned(&warned, strict).0, 0);
        let undecided = result(Status::Warn, Some(Verdict::Unknown));
        assert_eq!(
            earned(&undecided, lenient).0,
            0,
            "nothing shown, nothing earned"
        );
        let skipped = CheckResult {
            skip: Some(Skip::Needs(vec!["a".into(), "b".into()])),
            ..result(Status::Skip, None)
        };
        assert_eq!(
            earned(&skipped, lenient),
            (0, Some("skipped: needs a, b".into()))
        );
        assert_eq!(
            earned(&result(Status::Fail, Some(Verdict::Fail)), lenient).0,
            0
        );
    }

    #[test]
    fn status_of_a_verdict() {
        assert_eq!(Status::of(Verdict::Fail, Severity::Warn), Status::Warn);
        assert_eq!(Status::of(Verdict::Unknown, Severity::Fail), Status::Warn);
        assert_eq!(Status::of(Verdict::Fail, Severity::Fail), Status::Fail);
        assert!(Status::Warn.lets_through() && !Status::Skip.lets_through());
    }

    #[test]
    fn skip_reasons_keep_the_wire_format() {
        assert_eq!(Skip::DrillNotRequested.because(), ["--drill"]);
        assert!(Skip::StackAbsent.because().is_empty());
        assert_eq!(
            Skip::NoContainer(vec!["db".into(), "web".into()]).reason(),
            "db and web have no container"
        );
    }
}

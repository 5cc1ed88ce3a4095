//! Results and reports for unit tests.

use std::time::Duration;

use super::{CheckResult, EngineInfo, Report, StackState, Status};
use crate::lab::{Role, Severity};

/// A behaviour check `id` of one point with `status`, at the root of the ladder.
pub fn result(id: &str, status: Status) -> CheckResult {
    CheckResult {
        id: id.into(),
        title: id.into(),
        kind: "running".into(),
        status,
        verdict: None,
        severity: Severity::Fail,
        role: Role::Behaviour,
        note: None,
        causes: vec![],
        points: u32::from(status == Status::Pass),
        max_points: 1,
        message: format!("{id}: what was found"),
        evidence: vec![],
        skip: None,
        hints: Default::default(),
        book: None,
        see: None,
        duration: Duration::ZERO,
        depth: 0,
    }
}

/// A report of `results` on the stack of project `p`.
pub fn report(results: Vec<CheckResult>) -> Report {
    Report {
        lab_id: "t".into(),
        lab_title: "t".into(),
        lab_book: None,
        engine: EngineInfo {
            endpoint: "x".into(),
            api_version: "1.45".into(),
            server_version: "26".into(),
        },
        stack: StackState::Found {
            project: Some("p".into()),
            missing: vec![],
            renamed: vec![],
        },
        notes: vec![],
        results,
        duration: Duration::ZERO,
    }
}

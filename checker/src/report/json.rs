//! `--format json`: the wire types of `wire.rs`, pretty-printed.

use super::wire::*;
use super::{RenderOptions, Report, StackState};
use crate::target::matching::By;

pub fn render(r: &Report, o: &RenderOptions) -> String {
    let mut s = serde_json::to_string_pretty(&wire(r, o)).expect("the wire types serialise");
    s.push('\n');
    s
}

/// The report as its versioned wire types (also embedded, as is, in `grade.json`).
pub fn wire<'a>(r: &'a Report, o: &RenderOptions) -> WireReport<'a> {
    let empty: &[String] = &[];
    let stack = match &r.stack {
        StackState::Found {
            project,
            missing,
            renamed,
        } => WireStack {
            state: if missing.is_empty() {
                "found"
            } else {
                "partial"
            },
            project: project.as_deref(),
            missing,
            message: None,
            services: renamed
                .iter()
                .map(|m| WireService {
                    lab: &m.lab,
                    yours: &m.yours,
                    by: match m.by {
                        By::Flag => "flag",
                        By::Match => "role",
                        By::Name => "name",
                    },
                })
                .collect(),
        },
        StackState::Absent { message } => WireStack {
            state: "absent",
            project: None,
            missing: empty,
            message: Some(message),
            services: Vec::new(),
        },
    };
    WireReport {
        schema: SCHEMA,
        schema_version: SCHEMA_VERSION,
        labcheck_version: env!("CARGO_PKG_VERSION"),
        lab: WireLab {
            id: &r.lab_id,
            title: &r.lab_title,
            book_url: r.lab_book.as_deref().map(|b| o.book_link(b)),
        },
        engine: WireEngine {
            endpoint: &r.engine.endpoint,
            api_version: &r.engine.api_version,
            server_version: &r.engine.server_version,
        },
        stack,
        notes: &r.notes,
        ok: r.ok(),
        exit_code: r.exit_code(),
        summary: r.summary(),
        first_broken: r.first_broken().map(|c| c.id.as_str()),
        checks: r
            .results
            .iter()
            .map(|c| WireCheck {
                id: &c.id,
                title: &c.title,
                kind: &c.kind,
                role: c.role,
                status: c.status,
                note: c.note.as_deref(),
                causes: &c.causes,
                points: c.points,
                max_points: c.max_points,
                message: &c.message,
                evidence: &c.evidence,
                skipped_because: c.skipped_because(),
                hint: c.hints.nudge.as_deref(),
                hints: &c.hints,
                book_url: c.book.as_deref().map(|b| o.book_link(b)),
                see: c.see.as_deref(),
                duration_ms: c.duration.as_millis() as u64,
            })
            .collect(),
        duration_ms: r.duration.as_millis() as u64,
    }
}

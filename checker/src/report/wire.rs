//! JSON wire types (serialise-only), schema `labcheck-report` version 1.
//! Documented in checker/README.md; bump SCHEMA_VERSION on any incompatible change.

use serde::Serialize;

use super::{Status, Summary};

pub const SCHEMA: &str = "labcheck-report";
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct WireReport<'a> {
    pub schema: &'static str,
    pub schema_version: u32,
    pub labcheck_version: &'static str,
    pub lab: WireLab<'a>,
    pub engine: WireEngine<'a>,
    pub stack: WireStack<'a>,
    pub notes: &'a [String],
    pub ok: bool,
    pub exit_code: u8,
    pub summary: Summary,
    pub first_broken: Option<&'a str>,
    pub checks: Vec<WireCheck<'a>>,
    pub duration_ms: u64,
}

#[derive(Serialize)]
pub struct WireLab<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub book_url: Option<String>,
}

#[derive(Serialize)]
pub struct WireEngine<'a> {
    pub endpoint: &'a str,
    pub api_version: &'a str,
    pub server_version: &'a str,
}

#[derive(Serialize)]
pub struct WireStack<'a> {
    /// "found", "partial" or "absent"
    pub state: &'static str,
    pub project: Option<&'a str>,
    pub missing: &'a [String],
    pub message: Option<&'a str>,
    /// Lab services found under the learner's own names (added in labcheck 0.1, additive).
    pub services: Vec<WireService<'a>>,
}

/// A lab service the learner named otherwise.
#[derive(Serialize)]
pub struct WireService<'a> {
    /// The lab's name (what the checks and the report say).
    pub lab: &'a str,
    /// The learner's compose service (or container, for a containers lab).
    pub yours: &'a str,
    /// "role" (the lab's `[target.match]`) or "flag" (`--service`).
    pub by: &'static str,
}

#[derive(Serialize)]
pub struct WireCheck<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub kind: &'a str,
    /// behaviour, diagnosis or hardening
    pub role: crate::lab::Role,
    pub status: Status,
    /// Why a diagnosis that differs from the solution passed.
    pub note: Option<&'a str>,
    /// For a failed behaviour: the failed diagnoses that explain it.
    pub causes: &'a [String],
    pub points: u32,
    pub max_points: u32,
    pub message: &'a str,
    pub evidence: &'a [String],
    pub skipped_because: Vec<String>,
    /// The first level (what the human report shows), as `hints.nudge`.
    pub hint: Option<&'a str>,
    /// Every level: nudge, concept, see, fix (each may be null).
    pub hints: &'a crate::lab::Hints,
    pub book_url: Option<String>,
    pub see: Option<&'a str>,
    pub duration_ms: u64,
}

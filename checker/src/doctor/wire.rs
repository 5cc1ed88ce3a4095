//! JSON wire type of `labcheck doctor --format json` (serialise-only), schema `labcheck-doctor`
//! version 1. Documented in checker/README.md; bump SCHEMA_VERSION on any incompatible change.

use serde::Serialize;

use super::{Diagnosis, Level};

pub const SCHEMA: &str = "labcheck-doctor";
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct WireDiagnosis<'a> {
    pub schema: &'static str,
    pub schema_version: u32,
    pub labcheck_version: &'static str,
    /// The lab examined, or null for the engine alone.
    pub lab: Option<&'a str>,
    /// The engine as the user would write it ("" when its settings could not be read).
    pub endpoint: &'a str,
    /// What chose it: "DOCKER_HOST (now: unset)", "the context `vm` (from --context)".
    pub chosen_by: &'a str,
    /// 0 nothing blocks the lab, 1 something does.
    pub exit_code: u8,
    pub findings: Vec<WireFinding<'a>>,
}

#[derive(Serialize)]
pub struct WireFinding<'a> {
    /// engine, api, compose, clock, disk, port, image or project
    pub topic: &'a str,
    /// ok, unknown, warn or blocks
    pub level: Level,
    pub what: &'a str,
    pub why: &'a str,
    pub fix: Option<&'a str>,
}

pub fn render(d: &Diagnosis) -> String {
    let wire = WireDiagnosis {
        schema: SCHEMA,
        schema_version: SCHEMA_VERSION,
        labcheck_version: env!("CARGO_PKG_VERSION"),
        lab: d.lab.as_deref(),
        endpoint: &d.endpoint,
        chosen_by: &d.chosen_by,
        exit_code: d.exit_code(),
        findings: d
            .findings
            .iter()
            .map(|f| WireFinding {
                topic: f.topic,
                level: f.level,
                what: &f.what,
                why: &f.why,
                fix: f.fix.as_deref(),
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&wire).expect("the wire types serialise");
    s.push('\n');
    s
}

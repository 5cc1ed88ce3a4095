//! labcheck: checks a learner's live Docker stack against a Compose Lab `lab.toml`.
//!
//! - [`lab`]: the spec (versioned lab.toml, errors with file:line:column) and its linter.
//! - [`target`]: the Docker endpoint and compose-project discovery by labels.
//! - [`probe`]: read-only observations, each with a timeout; they return plain facts.
//! - [`check`]: pure verdicts on those facts.
//! - [`ladder`]: `needs` ordering and skip propagation.
//! - [`run`]: one run ([`run::run_lab`]) or re-runs until green ([`run::run_until`]).
//! - [`report`]: human, json, junit and tap renderings.
//! - [`grade`]: `labcheck grade`, a class roster graded concurrently into a gradebook.

pub mod check;
pub mod drill;
pub mod error;
pub mod grade;
pub mod kinds;
pub mod lab;
pub mod labs_dir;
pub mod ladder;
pub mod probe;
pub mod report;
pub mod result;
pub mod run;
pub mod see;
pub mod target;

pub use error::ToolError;
pub use report::{Report, Status};
pub use run::{run_lab, run_until, run_until_with, RunOptions};

use std::time::Duration;

/// A duration as the flags take it: `30s`, `2m`, `500ms`, `1h`, or plain seconds (`5`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30s, 2m or 500ms"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit `{unit}` in `{s}`; use ms, s, m or h")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("`{s}` is not a duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

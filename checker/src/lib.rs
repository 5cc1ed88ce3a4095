//! labcheck: checks a learner's live Docker stack against a Compose Lab `lab.toml`.
//!
//! The modules, from the bottom layer up (each uses only those before it; a test checks it):
//! - [`limits`], [`verdict`], [`error`]: time limits; a kind's verdict; the errors that stop a run.
//! - [`target`]: the Docker engine (socket, DOCKER_HOST, TLS, contexts, ssh) and listing a
//!   compose project's containers by their labels.
//! - [`probe`]: read-only observations, each with a timeout; they return plain facts.
//! - [`drill`]: what changes a learner's stack, run only with `--drill`.
//! - [`see`]: what a "see it yourself" command is built from.
//! - [`kinds`]: one home per check kind: its fields, probe call, verdict and command.
//! - [`lab`]: the spec (versioned lab.toml, errors with file:line:column), its ladder and lint.
//! - [`result`]: a check's result and the one scoring rule.
//! - [`report`]: human, json, junit and tap renderings.
//! - [`run`]: discovery of the lab's stack, the scheduler, one run ([`run::run_lab`]) or re-runs
//!   until green ([`run::run_until`]).
//! - [`grade`]: `labcheck grade`, a class roster graded concurrently into a gradebook.
//! - [`doctor`]: `labcheck doctor`, the environment before the stack.
//! - [`progress`]: the learner's progress file, recorded by every run; `labcheck progress`.
//! - [`reset`]: `labcheck reset`, a lab's stack taken down and its folder laid down afresh.
//! - [`watch`]: `labcheck watch`, the ladder re-checked on Docker events and file changes.
//! - [`hint`]: `labcheck hint`, a check's hint one level at a time, remembered in hints.json.

pub mod doctor;
pub mod drill;
pub mod error;
pub mod grade;
pub mod hint;
pub mod kinds;
pub mod lab;
pub mod labs_dir;
pub mod limits;
pub mod probe;
pub mod progress;
pub mod report;
pub mod reset;
pub mod result;
pub mod run;
pub mod see;
pub mod target;
pub mod verdict;
pub mod watch;

pub use error::ToolError;
pub use report::{Report, Status};
pub use run::{run_lab, run_until, run_until_with, RunOptions};

use std::time::Duration;

/// A duration as the flags take it: humantime's `30s`, `2m`, `500ms`, `1h 30m`, or plain
/// seconds (`5`, `0.5`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return s
            .parse::<f64>()
            .ok()
            .and_then(|n| Duration::try_from_secs_f64(n).ok())
            .ok_or_else(|| format!("`{s}` is not a number of seconds"));
    }
    humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration like 30s, 2m or 500ms: {e}"))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_take_units_or_plain_seconds() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration(" 5 ").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("0.5").unwrap(), Duration::from_millis(500));
    }

    #[test]
    fn a_bad_duration_says_what_is_expected() {
        let e = parse_duration("5 parsecs").unwrap_err();
        assert!(
            e.contains("`5 parsecs` is not a duration like 30s") && e.contains("parsecs"),
            "{e}"
        );
        assert!(parse_duration("soon")
            .unwrap_err()
            .contains("not a duration"));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("1.2.3")
            .unwrap_err()
            .contains("not a number of seconds"));
    }
}

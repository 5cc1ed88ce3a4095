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
pub mod error;
pub mod grade;
pub mod lab;
pub mod labs_dir;
pub mod ladder;
pub mod probe;
pub mod report;
pub mod run;
pub mod see;
pub mod target;

pub use error::ToolError;
pub use report::{Report, Status};
pub use run::{run_lab, run_until, run_until_with, RunOptions};

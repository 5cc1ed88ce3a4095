//! Facts shared by the phase 4-6 kinds: a mount with its flags, and a drill's steps.

use serde::Serialize;

/// One mount as the container's inspect shows it, with its read/write flag.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MountDetail {
    /// `volume`, `bind`, `tmpfs`, ...
    pub kind: String,
    pub source: String,
    pub destination: String,
    pub rw: bool,
}

/// One step of a drill, for the evidence: what was done and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub what: String,
    pub secs: f64,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({:.1} s)", self.what, self.secs)
    }
}

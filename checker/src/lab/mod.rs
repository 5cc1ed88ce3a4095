//! The lab spec: `labs/<id>/lab.toml`, versioned, with errors that name file, line and column.
//!
//! Parsing happens in two steps: `toml` deserialises the lab and each check's common fields
//! (with spans), then each check's own table goes to its kind (`crate::kinds`), so a missing
//! field or a bad value is reported at the exact place in the file.

pub mod hints;
pub mod ladder;
pub mod lint;
pub(crate) mod load;
mod matching;
mod roles;

pub use hints::{Hints, Level};
pub use load::{load_lab, load_str, parse_api as parse_api_version, LoadError, SpecError};

use std::path::PathBuf;

/// The only `format_version` this labcheck understands.
pub const FORMAT_VERSION: i64 = 1;

/// One lab, as declared in its lab.toml.
#[derive(Debug, Clone)]
pub struct Lab {
    pub id: String,
    pub title: String,
    /// The lab's chapter, relative to the book root (e.g. `phase-3/index.html`).
    pub book: Option<String>,
    pub target: Target,
    /// `[target.match.<service>]`: how to recognise each lab service under another name.
    pub matches: std::collections::BTreeMap<String, crate::target::matching::Match>,
    /// Checks in ladder order (a stable topological order of `needs`, file order otherwise).
    pub checks: Vec<Check>,
    pub faults: Vec<Fault>,
    /// Working stacks that differ from the solution the way learners' stacks do (live tests).
    pub variants: Vec<Variant>,
    /// Lowest Docker Engine API version the lab's stack needs (e.g. "1.44" for `start_interval`).
    pub requires_api: Option<String>,
    /// Grading: whether a check of severity `warn` that ends as a warning scores zero. Default
    /// false: warnings teach, they don't cost points, unless the lab says so.
    pub warnings_cost_points: bool,
    /// The lab folder (where lab.toml lives).
    pub dir: PathBuf,
    /// The lab.toml path, for messages.
    pub file: PathBuf,
}

impl Lab {
    /// The host ports the lab's checks connect to on the learner's localhost (what an ssh
    /// tunnel forwards): every kind says which.
    pub fn host_ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self
            .checks
            .iter()
            .flat_map(|c| c.kind.host_ports())
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

/// How to find the lab's containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A compose project that must have these services.
    Compose { services: Vec<String> },
    /// Plain containers (found by name) and networks, for the phases before Compose.
    Containers {
        containers: Vec<String>,
        networks: Vec<String>,
    },
}

impl Target {
    /// The units (services or container names) that the lab's checks refer to.
    pub fn units(&self) -> &[String] {
        match self {
            Target::Compose { services } => services,
            Target::Containers { containers, .. } => containers,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Fail,
    Warn,
}

/// What a check's verdict means for the learner's stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// What the stack does (it runs, answers, resolves, keeps data): the ladder and the verdict.
    #[default]
    Behaviour,
    /// A configuration fact that explains the behaviours it names in `explains`: a failure
    /// only when one of them does not work, otherwise a pass with a note.
    Diagnosis,
    /// Least exposure (nothing published that need not be, non-root, no secrets in env):
    /// always a warning, never in the way of anything.
    Hardening,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Behaviour => "behaviour",
            Role::Diagnosis => "diagnosis",
            Role::Hardening => "hardening",
        }
    }
}

/// One step of the ladder.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: String,
    pub title: String,
    pub points: u32,
    pub severity: Severity,
    pub role: Role,
    /// For a diagnosis: the behaviours it explains.
    pub explains: Vec<String>,
    pub needs: Vec<String>,
    /// The hint's levels, from hints.toml beside lab.toml.
    pub hints: Hints,
    /// Book page and anchor, relative to the book root.
    pub book: Option<String>,
    pub kind: crate::kinds::Kind,
    /// Where the check is declared (1-based line), for lint messages.
    pub line: usize,
}

/// A compose override that breaks the solution on purpose (used by the live tests and lint).
#[derive(Debug, Clone)]
pub struct Fault {
    pub file: String,
    pub summary: String,
    /// The first failing check in ladder order; None when the fault fails nothing.
    pub first_broken: Option<String>,
    pub fails: Vec<String>,
    /// The checks that end as warnings (a fault whose stack still works, e.g. hardening).
    pub warns: Vec<String>,
    /// The diagnoses that pass with a note (the config differs, its behaviours work).
    pub notes: Vec<String>,
    pub line: usize,
    /// `fails` was measured with drills enabled (`--drill`).
    pub drill: bool,
}

/// A working stack written otherwise than the solution: `dir` holds its compose.yaml, and
/// labcheck must find no failure on it.
#[derive(Debug, Clone)]
pub struct Variant {
    pub dir: String,
    pub summary: String,
    pub line: usize,
}

/// For unit tests of kinds: a compose lab with these services and these extra tables.
#[cfg(test)]
pub(crate) fn test_lab(services: &[&str], tables: &str) -> Result<Lab, String> {
    let services = services
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let src = format!("format_version = 1\nid = \"t\"\ntitle = \"T\"\n[target]\nkind = \"compose\"\nservices = [{services}]\n{tables}");
    load_str(
        &src,
        std::path::Path::new("lab.toml"),
        std::path::Path::new("."),
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;

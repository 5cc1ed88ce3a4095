//! Errors that stop labcheck before it can judge anything (exit code 2).

use std::fmt;
use std::path::PathBuf;

/// The last line of every error about the engine: where to get a full diagnosis.
pub const DOCTOR: &str = "For a diagnosis of this machine's Docker setup, run `labcheck doctor` (or `labcheck doctor <lab>`).";

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("cannot reach the Docker daemon at {endpoint}: {detail}\n\
             Try: start Docker (e.g. `sudo systemctl start docker`, or open Docker Desktop); \
             check {chosen}; \
             make sure you may use the socket (e.g. add yourself to the `docker` group, then log in again).\n\
             {DOCTOR}")]
    NoDaemon {
        endpoint: String,
        detail: String,
        /// What chose that endpoint: "DOCKER_HOST (now: unset)", "the context `vm` (from --context)".
        chosen: String,
    },

    /// The engine's settings are wrong: a context that does not exist, a TLS file missing.
    #[error("{0}\n{DOCTOR}")]
    Endpoint(String),

    #[error("unknown lab `{id}`. Known labs: {}", if known.is_empty() { "(none found)".to_string() } else { known.join(", ") })]
    UnknownLab { id: String, known: Vec<String> },

    #[error("{0}")]
    Spec(#[from] LoadError),

    #[error("lab {lab} has no check `{id}`; its checks: {}", known.join(", "))]
    UnknownCheck {
        lab: String,
        id: String,
        known: Vec<String>,
    },

    /// labcheck's own files in the user's state folder (hints.json).
    #[error("{0}")]
    State(String),

    #[error("several compose projects have the services of lab {lab}: {}.\nChoose one with --project <name>.", candidates.join(", "))]
    Ambiguous {
        lab: String,
        candidates: Vec<String>,
    },

    #[error("lab {lab} checks plain containers by name, not a compose project: drop --project")]
    ProjectNotApplicable { lab: String },

    #[error(
        "no labs found in {0} (a lab is a folder with a lab.toml); set --lab-dir or $LABCHECK_LABS"
    )]
    NoLabs(String),

    #[error("cannot find the labs folder: not given with --lab-dir or $LABCHECK_LABS, and no `labs/` folder next to the labcheck binary or above the current folder")]
    NoLabDir,

    #[error("Docker API error: {0}")]
    Api(String),
}

/// A problem in a lab.toml, located at `file:line:column` (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Spec(Vec<SpecError>),
}

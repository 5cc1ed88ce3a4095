//! Errors that stop labcheck before it can judge anything (exit code 2).

use std::fmt;
use std::path::PathBuf;

/// The last line of every error about the engine: where to get a full diagnosis.
pub const DOCTOR: &str = "For a diagnosis of this machine's Docker setup, run `labcheck doctor` (or `labcheck doctor <lab>`).";

fn services_message(lab: &str, project: &str, choices: &[(String, String, Vec<String>)]) -> String {
    let mut out = String::new();
    for (service, role, candidates) in choices {
        out.push_str(&format!(
            "In the project `{project}`, more than one of your services could be the lab's {service} ({role}): {}.\n",
            candidates.join(", ")
        ));
    }
    let example: Vec<String> = choices
        .iter()
        .map(|(service, _, c)| format!("--service {service}={}", c[0]))
        .collect();
    out.push_str(&format!(
        "Say which with --service <lab service>=<your service>, e.g. `labcheck {lab} {}`.",
        example.join(" ")
    ));
    out
}

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

    /// Several of the learner's services could play a lab service: one message, exit 2.
    #[error("{}", services_message(lab, project, choices))]
    AmbiguousServices {
        lab: String,
        project: String,
        /// (lab service, its role in words, the learner's services that could play it)
        choices: Vec<(String, String, Vec<String>)>,
    },

    /// A `--service lab=yours` that names no lab service, or no service of the project.
    #[error("{0}")]
    ServiceFlag(String),

    #[error("lab {lab} checks plain containers by name, not a compose project: drop --project")]
    ProjectNotApplicable { lab: String },

    #[error(
        "no labs found in {0} (a lab is a folder with a lab.toml); set --lab-dir or $LABCHECK_LABS"
    )]
    NoLabs(String),

    #[error("cannot find the labs folder: not given with --lab-dir or $LABCHECK_LABS, and no `labs/` folder next to the labcheck binary or above the current folder")]
    NoLabDir,

    /// The engine answered when labcheck connected, then a call found no engine behind the
    /// endpoint (stopped, restarted, its socket gone).
    #[error("the Docker engine at {endpoint} stopped answering ({cause}); start it, or see `labcheck doctor`")]
    EngineGone { endpoint: String, cause: String },

    #[error("Docker API error: {0}")]
    Api(String),

    /// The progress file could not be read or written (`labcheck progress`).
    #[error("progress: {0}")]
    Progress(String),

    /// `labcheck reset` refused or stopped.
    #[error("reset: {0}")]
    Reset(String),

    /// `labcheck grade` cannot run: the roster, the output folder, `--only`.
    #[error("{0}")]
    Grade(String),
}

impl ToolError {
    /// A failed Engine API call to `endpoint`: [`ToolError::EngineGone`] when nothing answered
    /// there, else the engine's own error.
    pub fn api_call(endpoint: &str, detail: String) -> ToolError {
        match engine_gone(&detail) {
            Some(cause) => ToolError::EngineGone {
                endpoint: endpoint.to_string(),
                cause,
            },
            None => ToolError::Api(detail),
        }
    }
}

/// Why a call's error (with its causes, see `limits::error_chain`) means that no engine
/// answered, in words; None for an answer the engine gave (a 404, a 500, ...).
pub fn engine_gone(detail: &str) -> Option<String> {
    let d = detail.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| d.contains(w));
    let cause = if has(&["connection refused", "os error 111"]) {
        "connection refused".to_string()
    } else if has(&["no such file or directory", "os error 2)"]) {
        "its socket is gone".to_string()
    } else if has(&["permission denied", "os error 13"]) {
        "permission denied on its socket".to_string()
    } else if has(&[
        "connection reset",
        "broken pipe",
        "connection closed before message completed",
        "unexpected eof",
    ]) {
        "the connection was cut".to_string()
    } else if let Some(i) = d.find("no answer within ") {
        detail[i..].trim().to_string()
    } else if has(&["client error (connect)", "error trying to connect"]) {
        "cannot connect".to_string()
    } else {
        return None;
    };
    Some(cause)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connection_is_the_engine_gone_in_words() {
        let e = ToolError::api_call(
            "unix:///tmp/hw.sock",
            "listing containers: Error in the hyper legacy client: client error (Connect): Connection refused (os error 111)".into(),
        );
        assert_eq!(
            e.to_string(),
            "the Docker engine at unix:///tmp/hw.sock stopped answering (connection refused); start it, or see `labcheck doctor`"
        );
    }

    #[test]
    fn a_missing_socket_a_cut_and_a_timeout_are_named() {
        let gone = |d: &str| engine_gone(d).unwrap();
        assert_eq!(
            gone("listing containers: client error (Connect): No such file or directory (os error 2)"),
            "its socket is gone"
        );
        assert_eq!(
            gone("inspect: connection reset by peer"),
            "the connection was cut"
        );
        assert_eq!(
            gone("listing containers: no answer within 5.0s"),
            "no answer within 5.0s"
        );
        assert_eq!(
            gone("listing containers: Error in the hyper legacy client: client error (Connect)"),
            "cannot connect"
        );
    }

    #[test]
    fn an_answer_from_the_engine_stays_an_api_error() {
        let e = ToolError::api_call(
            "unix:///var/run/docker.sock",
            "inspect: Docker responded with status code 500: boom".into(),
        );
        assert!(matches!(e, ToolError::Api(_)), "{e:?}");
    }
}

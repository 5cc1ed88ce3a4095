//! Plain observations. Probes produce these; checks judge them. No Docker types leak past here,
//! so every check is unit-tested on hand-built facts.

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContainerFacts {
    pub id: String,
    pub name: String,
    /// `running`, `exited`, `restarting`, `created`, ...
    pub status: String,
    pub running: bool,
    pub restarting: bool,
    pub exit_code: Option<i64>,
    /// None when the image/service defines no healthcheck.
    pub health: Option<HealthFacts>,
    pub networks: Vec<NetworkFacts>,
    /// Published bindings only (a port exposed but not published has no entry).
    pub ports: Vec<PortFacts>,
    pub mounts: Vec<MountFacts>,
    /// `KEY=value` entries of the container's environment.
    pub env: Vec<String>,
    pub labels: std::collections::BTreeMap<String, String>,
    /// The image the container was created from, by ID (`.Image`, `sha256:…`).
    pub image: String,
    /// `Config.User`: compose `user:` / `docker run --user`, else the image's USER ("" = root).
    pub user: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HealthFacts {
    /// `starting`, `healthy`, `unhealthy`
    pub status: String,
    pub failing_streak: i64,
    /// Output of the most recent healthcheck run, if any.
    pub last_output: Option<String>,
    pub last_exit_code: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NetworkFacts {
    pub name: String,
    pub ip: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PortFacts {
    /// `5000/tcp`
    pub container_port: String,
    pub host_ip: String,
    pub host_port: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MountFacts {
    /// `volume`, `bind`, `tmpfs`, ...
    pub kind: String,
    pub name: Option<String>,
    pub source: Option<String>,
    pub destination: String,
}

impl ContainerFacts {
    /// Its address on each of its networks.
    pub fn addresses(&self) -> Vec<String> {
        self.networks.iter().filter_map(|n| n.ip.clone()).collect()
    }

    pub fn env_var(&self, var: &str) -> Option<&str> {
        self.env
            .iter()
            .find_map(|kv| kv.strip_prefix(var).and_then(|rest| rest.strip_prefix('=')))
    }
}

/// How an in-namespace probe ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// An exec in the container itself, with the tool named.
    Exec(String),
    /// A short-lived helper container sharing the container's network namespace (image named).
    Helper(String),
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Via::Exec(tool) => write!(f, "exec `{tool}` in the container"),
            Via::Helper(image) => write!(f, "a helper container ({image}) in its network namespace, because the image has no suitable tool"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolveFacts {
    pub addresses: Vec<String>,
    pub via: Via,
    /// Tool output when the name did not resolve.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectFacts {
    pub connected: bool,
    pub via: Via,
    pub detail: String,
}

pub use crate::target::labels::DependsEntry;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum DependsFacts {
    /// What Compose recorded (the v2 label, or the compose file for v1).
    Known {
        source: String,
        entries: Vec<DependsEntry>,
    },
    /// Neither a label nor a readable compose file.
    Unknown { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpFacts {
    pub status: Option<u16>,
    pub body_excerpt: String,
    /// Set when no response came back.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PgFacts {
    pub endpoint: String,
    /// The rows (each a list of text values), or why the query could not run.
    pub rows: Result<Vec<Vec<Option<String>>>, String>,
}

/// A network as `GET /networks/{name}` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetFacts {
    pub name: String,
    pub driver: String,
    /// `com.docker.network.bridge.default_bridge` is "true" (the predefined `bridge`).
    pub default_bridge: bool,
}

/// One attempt of an isolation probe: a name lookup or a connection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    /// What was tried: a name, or `ip:port`.
    pub target: String,
    /// The lookup returned one of the service's addresses / the connection succeeded.
    pub reached: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IsolationFacts {
    /// The network the helper joined (and nothing else).
    pub network: String,
    /// The helper's image.
    pub image: String,
    pub attempts: Vec<Attempt>,
}

/// The facts of one unit (service or container) as gathered for a run, keyed by unit.
pub type UnitFacts = std::collections::HashMap<String, Result<ContainerFacts, String>>;

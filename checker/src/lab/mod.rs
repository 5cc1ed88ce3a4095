//! The lab spec: `labs/<id>/lab.toml`, versioned, with errors that name file, line and column.
//!
//! Parsing happens in two steps: `toml` deserialises a flat, permissive raw form (with spans),
//! then [`load`] turns it into typed [`Check`]s, so a missing field or a bad value is reported at
//! the exact place in the file.

/// A required field of a check's raw fields `$f`: its value, or (its name noted in `$missing`)
/// a default to go on with, so every missing field is reported at once. Defined before the
/// kind modules so they can use it.
macro_rules! required {
    ($f:ident, $missing:ident, $field:ident) => {
        match &$f.$field {
            Some(v) => v.clone(),
            None => {
                $missing.push(stringify!($field));
                Default::default()
            }
        }
    };
}

pub mod ext;
pub mod image;
pub mod ladder;
pub mod lint;
pub(crate) mod load;

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
    /// Checks in ladder order (a stable topological order of `needs`, file order otherwise).
    pub checks: Vec<Check>,
    pub faults: Vec<Fault>,
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

/// One step of the ladder.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: String,
    pub title: String,
    pub points: u32,
    pub severity: Severity,
    pub needs: Vec<String>,
    pub hint: Option<String>,
    /// Book page and anchor, relative to the book root.
    pub book: Option<String>,
    pub kind: crate::kinds::Kind,
    /// Where the check is declared (1-based line), for lint messages.
    pub line: usize,
}

/// A container port as Docker keys it: `5432/tcp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortKey {
    pub port: u16,
    pub proto: String,
}

impl std::fmt::Display for PortKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.port, self.proto)
    }
}

/// The typed check kinds of docs/CONTRACTS.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Running {
        service: String,
    },
    Healthy {
        service: String,
    },
    SharedNetwork {
        service: String,
        peer: String,
    },
    Resolves {
        from: String,
        name: String,
    },
    Tcp {
        from: String,
        host: String,
        port: u16,
    },
    DependsOn {
        service: String,
        on: String,
        condition: String,
    },
    Published {
        service: String,
        container_port: PortKey,
        host_port: Option<u16>,
        host_ip: Option<String>,
    },
    NotPublished {
        service: String,
        container_port: Option<PortKey>,
    },
    Volume {
        service: String,
        path: String,
        named: bool,
    },
    Env {
        service: String,
        var: String,
        equals: Option<String>,
        not: Vec<String>,
    },
    Http {
        url: String,
        status: u16,
        body_contains: Option<String>,
    },
    Postgres {
        service: String,
        query: String,
        expect: Option<String>,
        min_rows: Option<u64>,
    },
    /// A user-defined network exists with that driver (not a predefined one).
    Network {
        network: String,
        driver: String,
    },
    /// The container is attached to these networks (and, with `only`, to no other).
    Attached {
        service: String,
        networks: Vec<String>,
        only: bool,
    },
    /// None of these containers is attached to the network (absent ones count as not attached).
    NetworkExcludes {
        network: String,
        services: Vec<String>,
    },
    /// A fresh container on `network` alone cannot resolve / reach `service`.
    Isolated {
        network: String,
        service: String,
        via: IsolationVia,
        name: String,
        port: Option<u16>,
        timeout_secs: u64,
    },
    /// The kinds of phases 4-6 (volumes and backups, secrets, replicas, drills): see [`ext`].
    Ext(ext::ExtKind),
    /// The kinds of the image lab (phase 1: labels, USER, HEALTHCHECK, what the image holds): see [`image`].
    Image(image::ImageKind),
}

pub use crate::probe::net::IsolationVia;

impl Kind {
    /// The kind's name as written in lab.toml.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Running { .. } => "running",
            Kind::Healthy { .. } => "healthy",
            Kind::SharedNetwork { .. } => "shared_network",
            Kind::Resolves { .. } => "resolves",
            Kind::Tcp { .. } => "tcp",
            Kind::DependsOn { .. } => "depends_on",
            Kind::Published { .. } => "published",
            Kind::NotPublished { .. } => "not_published",
            Kind::Volume { .. } => "volume",
            Kind::Env { .. } => "env",
            Kind::Http { .. } => "http",
            Kind::Postgres { .. } => "postgres",
            Kind::Network { .. } => "network",
            Kind::Attached { .. } => "attached",
            Kind::NetworkExcludes { .. } => "network_excludes",
            Kind::Isolated { .. } => "isolated",
            Kind::Ext(e) => e.name(),
            Kind::Image(i) => i.name(),
        }
    }

    /// What the check asserts, in words (for `labcheck explain`).
    pub fn describe(&self) -> String {
        match self {
            Kind::Running { service } => format!("{service} is running and not restarting"),
            Kind::Healthy { service } => format!("{service}'s healthcheck reports healthy"),
            Kind::SharedNetwork { service, peer } => {
                format!("{service} and {peer} share a user-defined network")
            }
            Kind::Resolves { from, name } => format!("`{name}` resolves inside {from}"),
            Kind::Tcp { from, host, port } => {
                format!("{from} can open a TCP connection to {host}:{port}")
            }
            Kind::DependsOn {
                service,
                on,
                condition,
            } => format!("{service} depends on {on} with condition {condition}"),
            Kind::Published {
                service,
                container_port,
                host_port,
                host_ip,
            } => format!(
                "{service}'s port {container_port} is published{}{}",
                host_port
                    .map(|p| format!(" to host port {p}"))
                    .unwrap_or_default(),
                host_ip
                    .as_ref()
                    .map(|ip| format!(" on {ip}"))
                    .unwrap_or_default()
            ),
            Kind::NotPublished {
                service,
                container_port: Some(p),
            } => format!("{service}'s port {p} is not published to the host"),
            Kind::NotPublished {
                service,
                container_port: None,
            } => format!("{service} publishes no port to the host"),
            Kind::Volume {
                service,
                path,
                named: true,
            } => format!("a named volume is mounted at {path} in {service}"),
            Kind::Volume {
                service,
                path,
                named: false,
            } => format!("something is mounted at {path} in {service}"),
            Kind::Env {
                service,
                var,
                equals,
                not,
            } => {
                let mut s = format!("{var} is set in {service}");
                if let Some(e) = equals {
                    s.push_str(&format!(" to `{e}`"));
                }
                if !not.is_empty() {
                    s.push_str(&format!(
                        " and is none of {}",
                        not.iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                s
            }
            Kind::Http {
                url,
                status,
                body_contains,
            } => format!(
                "GET {url} from the host returns {status}{}",
                body_contains
                    .as_ref()
                    .map(|b| format!(" with `{b}` in the body"))
                    .unwrap_or_default()
            ),
            Kind::Postgres {
                service,
                query,
                expect,
                min_rows,
            } => format!(
                "`{query}` on {service}'s PostgreSQL {}",
                match (expect, min_rows) {
                    (Some(e), _) => format!("returns `{e}`"),
                    (None, Some(n)) => format!("returns at least {n} row(s)"),
                    _ => "runs".to_string(),
                }
            ),
            Kind::Network { network, driver } => {
                format!("the user-defined network {network} exists with the {driver} driver")
            }
            Kind::Attached {
                service,
                networks,
                only,
            } => {
                format!(
                    "{service} is attached to {}{}",
                    networks.join(", "),
                    if *only { " and nothing else" } else { "" }
                )
            }
            Kind::NetworkExcludes { network, services } => {
                format!("none of {} is attached to {network}", services.join(", "))
            }
            Kind::Isolated {
                network,
                service,
                via: IsolationVia::Name,
                name,
                ..
            } => {
                format!("a container on {network} alone cannot resolve `{name}` to an address of {service}")
            }
            Kind::Isolated {
                network,
                service,
                via: IsolationVia::Ip,
                port,
                ..
            } => {
                format!("a container on {network} alone cannot connect to any address of {service} on port {}", port.unwrap_or(0))
            }
            Kind::Ext(e) => e.describe(),
            Kind::Image(i) => i.describe(),
        }
    }

    /// The services (or containers) this check observes.
    pub fn units(&self) -> Vec<&str> {
        match self {
            Kind::Running { service }
            | Kind::Healthy { service }
            | Kind::Published { service, .. }
            | Kind::NotPublished { service, .. }
            | Kind::Volume { service, .. }
            | Kind::Env { service, .. }
            | Kind::Postgres { service, .. } => vec![service],
            Kind::SharedNetwork { service, peer } => vec![service, peer],
            Kind::Resolves { from, .. } | Kind::Tcp { from, .. } => vec![from],
            Kind::DependsOn { service, .. }
            | Kind::Attached { service, .. }
            | Kind::Isolated { service, .. } => vec![service],
            Kind::NetworkExcludes { services, .. } => services.iter().map(String::as_str).collect(),
            Kind::Http { .. } | Kind::Network { .. } => vec![],
            Kind::Ext(e) => e.units(),
            Kind::Image(i) => i.units(),
        }
    }

    /// A drill changes the stack: it runs only with `--drill`, after every other check.
    pub fn is_drill(&self) -> bool {
        matches!(self, Kind::Ext(e) if e.is_drill())
    }

    /// Its probe is meant to leave state in the learner's app (two GETs fill a cache; a burst of
    /// requests spreads over replicas). A check that needs it waits for it instead of probing alongside,
    /// so it sees that state (e.g. `redis_key` after `http_cached` filled the cache).
    pub fn leaves_state(&self) -> bool {
        matches!(
            self,
            Kind::Ext(ext::ExtKind::HttpCached { .. } | ext::ExtKind::HttpDistinct { .. })
        )
    }
}

/// A compose override that breaks the solution on purpose (used by the live tests and lint).
#[derive(Debug, Clone)]
pub struct Fault {
    pub file: String,
    pub summary: String,
    pub first_broken: String,
    pub fails: Vec<String>,
    pub line: usize,
    /// `fails` was measured with drills enabled (`--drill`).
    pub drill: bool,
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

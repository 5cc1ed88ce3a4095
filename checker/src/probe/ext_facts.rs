//! What the phase 4-6 probes observe (plain data; the verdicts in check/ext.rs are pure).

use std::collections::BTreeMap;

use serde::Serialize;

use super::facts::{Attempt, ContainerFacts, MountFacts};

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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExtFacts {
    /// Every container of a service (when there is more than one, or for `replicas`).
    Replicas {
        service: String,
        containers: Vec<ContainerFacts>,
    },
    /// The mount at the path, and the labels of its volume (`Err`: the volume could not be inspected).
    Volume {
        project: String,
        mount: Option<MountFacts>,
        labels: Option<Result<BTreeMap<String, String>, String>>,
    },
    /// `stat` of the path (uid, octal mode) and `id -u` of the user, inside the container.
    Owner {
        stat: Result<(u32, String), String>,
        user_uid: Result<u32, String>,
    },
    /// The backup folder on the Docker host, the files matching the glob (sorted), and the
    /// entries of the newest one.
    Tarball {
        dir: String,
        files: Result<Vec<String>, String>,
        entries: Option<Result<Vec<String>, String>>,
    },
    /// What `tcp_blocked` tried from inside the container's namespace.
    Blocked {
        resolved: Vec<String>,
        attempts: Vec<Attempt>,
        image: String,
    },
    Mounts(Vec<MountDetail>),
    /// The responses to consecutive GETs: status and the header's value.
    Cached {
        responses: Vec<Result<(u16, Option<String>), String>>,
    },
    /// `EXISTS key` (and `TTL key`) in Redis, and how it was asked.
    Redis {
        exists: Result<i64, String>,
        ttl: Option<i64>,
        via: String,
    },
    /// Values of the JSON field per response, over every batch of GETs.
    Distinct {
        counts: BTreeMap<String, u32>,
        requests: u32,
        batches: u32,
        failures: Vec<String>,
        secs: f64,
    },
    /// The persistence drill: the marker after `down`/`up`, the table after `down -v`/`up`,
    /// and the extra query after it. `error` stops the drill at a step.
    Persistence {
        steps: Vec<Step>,
        marker_after_down: Option<Result<String, String>>,
        table_gone_after_down_v: Option<Result<String, String>>,
        query_after: Option<Result<String, String>>,
        /// The volumes the `down -v` half deleted (and created again, empty).
        volumes_removed: Vec<String>,
        error: Option<String>,
    },
    /// The restore drill: the tarball used, how long the server took to accept connections,
    /// and the query's answer.
    Restore {
        file: Option<String>,
        steps: Vec<Step>,
        result: Result<String, String>,
    },
    /// The self-heal drill on one container.
    Heal {
        container: String,
        /// Seconds after the action when the container was first seen down or not healthy.
        down_after: Option<f64>,
        /// Seconds after the action when it was running and healthy again (after being down).
        healthy_after: Option<f64>,
        /// The last state seen (`exited (137)`, `running, unhealthy`, ...).
        last_state: String,
        error: Option<String>,
    },
}

//! The Docker events that mean the lab's stack changed, from one subscription that survives the
//! engine going away.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bollard::models::{EventMessage, EventMessageTypeEnum};
use bollard::query_parameters::EventsOptions;
use bollard::Docker;
use futures_util::StreamExt;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::watch;

use super::Trigger;
use crate::error::engine_gone;
use crate::limits::error_chain;
use crate::probe::helper::HELPER_LABEL;
use crate::target::labels::{LABEL_PROJECT, LABEL_SERVICE};

/// Whose events count: a compose project (any, until one is found) or plain containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Project(Option<String>),
    Containers {
        names: Vec<String>,
        networks: Vec<String>,
    },
}

/// Container actions that change what the ladder sees. labcheck's own execs, attaches and
/// archive reads are events too, and must not start a run.
const CONTAINER_ACTIONS: &[&str] = &[
    "create", "start", "restart", "die", "stop", "kill", "oom", "pause", "unpause", "destroy",
    "rename", "update",
];
const NETWORK_ACTIONS: &[&str] = &["connect", "disconnect", "create", "destroy", "remove"];
const VOLUME_ACTIONS: &[&str] = &["create", "destroy", "remove", "prune"];

/// Decides which events concern the lab; remembers labcheck's helper containers (from their
/// create event) so that their network connects are ignored.
#[derive(Debug, Default)]
pub struct Filter {
    helpers: HashSet<String>,
}

impl Filter {
    /// A short description ("db: die", "network phase-3_backend: disconnect db") when `ev`
    /// concerns `scope`.
    pub fn relevant(&mut self, scope: &Scope, ev: &EventMessage) -> Option<String> {
        let action = ev.action.as_deref().unwrap_or_default();
        let actor = ev.actor.as_ref()?;
        let id = actor.id.clone().unwrap_or_default();
        let empty = HashMap::new();
        let attrs = actor.attributes.as_ref().unwrap_or(&empty);
        let attr = |k: &str| attrs.get(k).map(String::as_str).unwrap_or_default();
        match ev.typ? {
            EventMessageTypeEnum::CONTAINER => {
                if attrs.contains_key(HELPER_LABEL) {
                    self.helpers.insert(id);
                    return None;
                }
                let verb = action.split(':').next().unwrap_or_default();
                if verb != "health_status" && !CONTAINER_ACTIONS.contains(&verb) {
                    return None;
                }
                let name = attr("name");
                let ours = match scope {
                    Scope::Project(Some(p)) => attr(LABEL_PROJECT) == p,
                    Scope::Project(None) => attrs.contains_key(LABEL_PROJECT),
                    Scope::Containers { names, .. } => names.iter().any(|n| n == name),
                };
                let who = match attr(LABEL_SERVICE) {
                    "" => name,
                    service => service,
                };
                ours.then(|| format!("{who}: {}", action.trim()))
            }
            EventMessageTypeEnum::NETWORK => {
                if !NETWORK_ACTIONS.contains(&action) || self.helpers.contains(attr("container")) {
                    return None;
                }
                let name = attr("name");
                let ours = match scope {
                    Scope::Project(Some(p)) => name.starts_with(&format!("{p}_")),
                    Scope::Project(None) => false,
                    Scope::Containers { networks, .. } => networks.iter().any(|n| n == name),
                };
                ours.then(|| format!("network {name}: {action}"))
            }
            EventMessageTypeEnum::VOLUME => {
                let ours = match scope {
                    Scope::Project(Some(p)) => id.starts_with(&format!("{p}_")),
                    _ => false,
                };
                (ours && VOLUME_ACTIONS.contains(&action)).then(|| format!("volume {id}: {action}"))
            }
            _ => None,
        }
    }
}

/// Forwards the events of `scope` (which the run updates once it finds the project) as
/// [`Trigger::Docker`]. When the stream breaks and the engine does not answer a ping, sends
/// [`Trigger::EngineLost`], pings once a second until it answers, sends
/// [`Trigger::EngineBack`] and subscribes again.
pub async fn forward(docker: Docker, scope: watch::Receiver<Scope>, tx: UnboundedSender<Trigger>) {
    let mut filter = Filter::default();
    let types = vec!["container".into(), "network".into(), "volume".into()];
    let options = EventsOptions {
        filters: Some(HashMap::from([("type".to_string(), types)])),
        ..Default::default()
    };
    loop {
        let mut events = docker.events(Some(options.clone()));
        let broke = loop {
            match events.next().await {
                Some(Ok(ev)) => {
                    let current = scope.borrow().clone();
                    if let Some(what) = filter.relevant(&current, &ev) {
                        if tx.send(Trigger::Docker(what)).is_err() {
                            return;
                        }
                    }
                }
                Some(Err(e)) => break error_chain(&e),
                None => break "the event stream ended".to_string(),
            }
        };
        drop(events);
        if ping(&docker).await.is_err() {
            let cause = engine_gone(&broke).unwrap_or(broke);
            if tx.send(Trigger::EngineLost(cause)).is_err() {
                return;
            }
            while ping(&docker).await.is_err() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            if tx.send(Trigger::EngineBack).is_err() {
                return;
            }
        } else {
            // the engine is there: a stream cut by a proxy; subscribe again, without spinning
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// One bounded ping: does the engine answer at all?
pub async fn ping(docker: &Docker) -> Result<(), String> {
    crate::limits::bounded(Duration::from_secs(2), "ping", docker.ping())
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::EventActor;

    fn ev(
        typ: EventMessageTypeEnum,
        action: &str,
        id: &str,
        attrs: &[(&str, &str)],
    ) -> EventMessage {
        EventMessage {
            typ: Some(typ),
            action: Some(action.into()),
            actor: Some(EventActor {
                id: Some(id.into()),
                attributes: Some(
                    attrs
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
            }),
            ..Default::default()
        }
    }

    fn db(action: &str, project: &str) -> EventMessage {
        ev(
            EventMessageTypeEnum::CONTAINER,
            action,
            "c1",
            &[
                ("name", "p-db-1"),
                (LABEL_PROJECT, project),
                (LABEL_SERVICE, "db"),
            ],
        )
    }

    #[test]
    fn the_projects_container_events_count_and_labchecks_own_do_not() {
        let scope = Scope::Project(Some("p".into()));
        let mut f = Filter::default();
        assert_eq!(
            f.relevant(&scope, &db("die", "p")).as_deref(),
            Some("db: die")
        );
        assert_eq!(
            f.relevant(&scope, &db("health_status: unhealthy", "p"))
                .as_deref(),
            Some("db: health_status: unhealthy")
        );
        assert_eq!(f.relevant(&scope, &db("exec_start: sh -c true", "p")), None);
        assert_eq!(f.relevant(&scope, &db("archive-path", "p")), None);
        assert_eq!(f.relevant(&scope, &db("die", "other")), None);
        // before the project is known, any compose project's events count
        assert!(f
            .relevant(&Scope::Project(None), &db("start", "other"))
            .is_some());
    }

    #[test]
    fn a_helpers_network_connect_is_ignored_and_a_services_is_not() {
        let scope = Scope::Project(Some("p".into()));
        let mut f = Filter::default();
        let helper = ev(
            EventMessageTypeEnum::CONTAINER,
            "create",
            "h1",
            &[(HELPER_LABEL, "true"), ("name", "labcheck-helper")],
        );
        assert_eq!(f.relevant(&scope, &helper), None);
        let connect = |c: &str| {
            ev(
                EventMessageTypeEnum::NETWORK,
                "connect",
                "n1",
                &[("name", "p_backend"), ("container", c), ("type", "bridge")],
            )
        };
        assert_eq!(f.relevant(&scope, &connect("h1")), None);
        assert_eq!(
            f.relevant(&scope, &connect("c1")).as_deref(),
            Some("network p_backend: connect")
        );
        let elsewhere = ev(
            EventMessageTypeEnum::NETWORK,
            "disconnect",
            "n2",
            &[("name", "q_backend"), ("container", "c9")],
        );
        assert_eq!(f.relevant(&scope, &elsewhere), None);
    }

    #[test]
    fn the_projects_volumes_and_plain_containers_by_name() {
        let mut f = Filter::default();
        let vol = ev(EventMessageTypeEnum::VOLUME, "destroy", "p_pgdata", &[]);
        assert!(f
            .relevant(&Scope::Project(Some("p".into())), &vol)
            .is_some());
        let mount = ev(EventMessageTypeEnum::VOLUME, "mount", "p_pgdata", &[]);
        assert_eq!(f.relevant(&Scope::Project(Some("p".into())), &mount), None);
        let plain = Scope::Containers {
            names: vec!["api".into()],
            networks: vec!["frontend".into()],
        };
        let api = ev(
            EventMessageTypeEnum::CONTAINER,
            "stop",
            "a",
            &[("name", "api")],
        );
        assert_eq!(f.relevant(&plain, &api).as_deref(), Some("api: stop"));
        let net = ev(
            EventMessageTypeEnum::NETWORK,
            "disconnect",
            "n",
            &[("name", "frontend"), ("container", "a")],
        );
        assert!(f.relevant(&plain, &net).is_some());
    }
}

//! `labcheck reset`: start a lab over. A changing action, like the drills, and only on request.
//!
//! - this file: the lab's stack on the engine, found by what marks it as the lab's (a compose
//!   project's labels; for a plain-containers lab, its named containers and networks that no
//!   compose project owns), and taken down through the Engine API;
//! - [`files`]: the learner's folder backed up, then the starter (or solution) laid down;
//! - [`cli`]: the order of the steps, the question about volumes, and what is said.

pub mod cli;
pub mod files;

use std::collections::HashMap;
use std::time::Duration;

use bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, ListVolumesOptions, RemoveContainerOptions,
    RemoveVolumeOptions, StopContainerOptions,
};
use bollard::Docker;

use crate::lab::{Lab, Target};
use crate::limits::{bounded, Timeouts};
use crate::target::labels::LABEL_PROJECT;

/// Longest a container gets to stop before it is killed (as `docker compose down`).
const STOP_SECS: i32 = 10;

/// A thing on the engine: its id and the name to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// The lab's stack as found: what a reset would remove.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stack {
    pub containers: Vec<Named>,
    pub networks: Vec<Named>,
    /// Volume names (a volume's name is its id).
    pub volumes: Vec<String>,
}

impl Stack {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.networks.is_empty() && self.volumes.is_empty()
    }
}

fn label_filter(project: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_string(),
        vec![format!("{LABEL_PROJECT}={project}")],
    )])
}

/// A compose project's containers, networks and volumes, by the label compose puts on each.
pub async fn compose_stack(docker: &Docker, t: &Timeouts, project: &str) -> Result<Stack, String> {
    let containers = bounded(
        t.api,
        "listing the project's containers",
        docker.list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(label_filter(project)),
            ..Default::default()
        })),
    )
    .await?;
    let networks = bounded(
        t.api,
        "listing the project's networks",
        docker.list_networks(Some(ListNetworksOptions {
            filters: Some(label_filter(project)),
        })),
    )
    .await?;
    let volumes = bounded(
        t.api,
        "listing the project's volumes",
        docker.list_volumes(Some(ListVolumesOptions {
            filters: Some(label_filter(project)),
        })),
    )
    .await?;
    // The filter is the engine's; the label is checked again here, so a filter an old engine
    // ignores can never widen the reset to another project.
    let ours = |l: Option<&HashMap<String, String>>| {
        l.and_then(|l| l.get(LABEL_PROJECT))
            .is_some_and(|p| p == project)
    };
    let mut stack = Stack {
        containers: containers
            .into_iter()
            .filter(|c| ours(c.labels.as_ref()))
            .map(|c| Named {
                name: first_name(c.names.as_deref()).unwrap_or_else(|| short(&c.id)),
                id: c.id.unwrap_or_default(),
            })
            .collect(),
        networks: networks
            .into_iter()
            .filter(|n| ours(n.labels.as_ref()))
            .map(|n| Named {
                id: n.id.unwrap_or_default(),
                name: n.name.unwrap_or_default(),
            })
            .collect(),
        volumes: volumes
            .volumes
            .unwrap_or_default()
            .into_iter()
            .filter(|v| ours(Some(&v.labels)))
            .map(|v| v.name)
            .collect(),
    };
    stack.containers.sort_by(|a, b| a.name.cmp(&b.name));
    stack.networks.sort_by(|a, b| a.name.cmp(&b.name));
    stack.volumes.sort();
    Ok(stack)
}

fn first_name(names: Option<&[String]>) -> Option<String> {
    names
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_string())
}

fn short(id: &Option<String>) -> String {
    id.as_deref().unwrap_or_default().chars().take(12).collect()
}

/// A plain-containers lab's stack: its named containers and networks that no compose project
/// owns (a compose project's `db` is someone else's).
pub async fn named_stack(
    docker: &Docker,
    t: &Timeouts,
    containers: &[String],
    networks: &[String],
) -> Result<Stack, String> {
    let listed = bounded(
        t.api,
        "listing containers",
        docker.list_containers(Some(ListContainersOptions {
            all: true,
            ..Default::default()
        })),
    )
    .await?;
    let nets = bounded(
        t.api,
        "listing networks",
        docker.list_networks(None::<ListNetworksOptions>),
    )
    .await?;
    let unowned =
        |l: Option<&HashMap<String, String>>| !l.is_some_and(|l| l.contains_key(LABEL_PROJECT));
    let mut stack = Stack::default();
    for c in listed {
        let Some(name) = first_name(c.names.as_deref()) else {
            continue;
        };
        if containers.contains(&name) && unowned(c.labels.as_ref()) {
            stack.containers.push(Named {
                id: c.id.unwrap_or_default(),
                name,
            });
        }
    }
    for n in nets {
        let name = n.name.clone().unwrap_or_default();
        if networks.contains(&name) && unowned(n.labels.as_ref()) {
            stack.networks.push(Named {
                id: n.id.unwrap_or_default(),
                name,
            });
        }
    }
    stack.containers.sort_by(|a, b| a.name.cmp(&b.name));
    stack.networks.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(stack)
}

/// The lab's stack: `project` (else the lab's id, the `name:` of its compose files) for a
/// compose lab; the named containers and networks for a plain-containers lab.
pub async fn find(
    docker: &Docker,
    t: &Timeouts,
    lab: &Lab,
    project: Option<&str>,
) -> Result<Stack, String> {
    match &lab.target {
        Target::Compose { .. } => compose_stack(docker, t, project.unwrap_or(&lab.id)).await,
        Target::Containers {
            containers,
            networks,
        } => named_stack(docker, t, containers, networks).await,
    }
}

/// What was taken down, as far as it got.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Removed {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

/// Stop and remove the containers, then remove the networks, then (when asked) the volumes.
/// On an error, what was removed before it comes with the error.
pub async fn take_down(
    docker: &Docker,
    t: &Timeouts,
    stack: &Stack,
    volumes: bool,
) -> Result<Removed, (Removed, String)> {
    let mut done = Removed::default();
    for c in &stack.containers {
        // 304 (already stopped) is fine; anything else shows up when removing it.
        let _ = bounded(
            t.api + Duration::from_secs(STOP_SECS as u64),
            &format!("stopping {}", c.name),
            docker.stop_container(
                &c.id,
                Some(StopContainerOptions {
                    t: Some(STOP_SECS),
                    signal: None,
                }),
            ),
        )
        .await;
        if let Err(e) = bounded(
            t.api,
            &format!("removing {}", c.name),
            docker.remove_container(
                &c.id,
                Some(RemoveContainerOptions {
                    // anonymous volumes go with their container only when volumes may go
                    v: volumes,
                    force: true,
                    link: false,
                }),
            ),
        )
        .await
        {
            return Err((done, e));
        }
        done.containers.push(c.name.clone());
    }
    for n in &stack.networks {
        if let Err(e) = bounded(
            t.api,
            &format!("removing the network {}", n.name),
            docker.remove_network(&n.id),
        )
        .await
        {
            return Err((done, e));
        }
        done.networks.push(n.name.clone());
    }
    if volumes {
        for v in &stack.volumes {
            if let Err(e) = bounded(
                t.api,
                &format!("removing the volume {v}"),
                docker.remove_volume(v, None::<RemoveVolumeOptions>),
            )
            .await
            {
                return Err((done, e));
            }
            done.volumes.push(v.clone());
        }
    }
    Ok(done)
}

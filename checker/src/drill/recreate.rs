//! What `docker compose down` and `up` do to one service's container, through the Engine API
//! (labcheck never runs the docker CLI): stop and remove the container; for `down -v` also remove
//! the named volumes of the project that it mounts; then create the container again from its
//! own recorded configuration (image, env, mounts, ports, networks and aliases, healthcheck,
//! compose labels), start it and wait until it is healthy. Other services are left running.
//!
//! Only the container's definition is reused, never its state: anonymous volumes and tmpfs
//! mounts start empty, as they do after a real `down` and `up`. That is what the persistence
//! drill tests. It also works where the compose files are not readable (a remote engine).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, EndpointSettings, HealthStatusEnum,
    MountPointTypeEnum, MountTypeEnum, NetworkConnectRequest, NetworkingConfig,
    VolumeCreateOptions,
};
use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, ListContainersOptions, RemoveContainerOptions,
    RemoveVolumeOptions, StartContainerOptions, StopContainerOptions,
};
use bollard::Docker;

use super::restore::{self, Kept};
use crate::limits::{bounded, Timeouts};
use crate::target::labels::LABEL_PROJECT;

/// Which `down`: a plain one keeps named volumes, `down -v` removes the project's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Down {
    KeepVolumes,
    RemoveVolumes,
}

/// How to create the container again, read from its inspect record.
#[derive(Debug)]
pub struct Spec {
    pub name: String,
    pub body: ContainerCreateBody,
    /// Networks to connect after create, in order (the first one is given at create time:
    /// engines before API 1.44 accept only one there).
    pub networks: Vec<(String, EndpointSettings)>,
    pub has_healthcheck: bool,
}

/// An anonymous volume's name: 64 hex digits.
fn is_anonymous(volume: &str) -> bool {
    volume.len() == 64 && volume.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The container's definition, without what the engine generated for this instance.
pub fn spec(c: &ContainerInspectResponse) -> Result<Spec, String> {
    let id = c.id.clone().unwrap_or_default();
    let name = c
        .name
        .as_deref()
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_string();
    let config = c
        .config
        .as_ref()
        .ok_or_else(|| format!("{name}: the inspect record has no Config"))?;
    // Config and the create body share their JSON field names.
    let mut body: ContainerCreateBody = serde_json::to_value(config)
        .and_then(serde_json::from_value)
        .map_err(|e| format!("{name}: cannot reuse its Config: {e}"))?;
    // Generated per instance: the hostname defaults to the short id, the MAC to a random one.
    if body.hostname.as_deref().is_some_and(|h| id.starts_with(h)) {
        body.hostname = None;
    }
    body.mac_address = None;

    let mut host = c.host_config.clone().unwrap_or_default();
    // An anonymous volume is not part of the definition: a new container gets a new, empty one.
    for m in host.mounts.iter_mut().flatten() {
        if m.typ == Some(MountTypeEnum::VOLUME) && m.source.as_deref().is_some_and(is_anonymous) {
            m.source = None;
        }
    }
    let mode = host.network_mode.clone().unwrap_or_default();
    body.host_config = Some(host);

    let short = id.get(..12).unwrap_or(&id).to_string();
    let mut networks: Vec<(String, EndpointSettings)> = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|(net, e)| {
            let aliases = e
                .aliases
                .map(|a| a.into_iter().filter(|a| *a != short).collect::<Vec<_>>());
            let keep = EndpointSettings {
                ipam_config: e.ipam_config,
                links: e.links,
                aliases,
                driver_opts: e.driver_opts,
                ..Default::default()
            };
            (net, keep)
        })
        .collect();
    // host, none, container:<id>: no endpoints to recreate.
    if matches!(mode.as_str(), "host" | "none") || mode.starts_with("container:") {
        networks.clear();
    }
    // The network named in NetworkMode first, then the rest by name.
    networks.sort_by_key(|(n, _)| (*n != mode, n.clone()));
    if let Some((net, e)) = networks.first() {
        body.networking_config = Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(net.clone(), e.clone())])),
        });
    }
    let has_healthcheck = config
        .healthcheck
        .as_ref()
        .and_then(|h| h.test.as_ref())
        .and_then(|t| t.first())
        .is_some_and(|t| t != "NONE");
    Ok(Spec {
        name,
        body,
        networks,
        has_healthcheck,
    })
}

/// Remove the container of `id` (and for `down -v` the project's named volumes it mounts), then
/// create, start and wait for it again. Returns the volumes it removed and created again.
pub async fn recreate(
    docker: &Docker,
    t: &Timeouts,
    id: &str,
    down: Down,
    limit: Duration,
) -> Result<Vec<String>, String> {
    recreate_keeping(docker, t, id, down, limit, None)
        .await
        .map(|(names, _)| names)
}

/// [`recreate`], and with `keep` (a token for the names) each volume that `down -v` removes is
/// first saved into a labcheck volume, returned to be put back (restore.rs).
pub async fn recreate_keeping(
    docker: &Docker,
    t: &Timeouts,
    id: &str,
    down: Down,
    limit: Duration,
    keep: Option<&str>,
) -> Result<(Vec<String>, Vec<Kept>), String> {
    let old = bounded(
        t.api,
        "inspecting the container",
        docker.inspect_container(id, None::<InspectContainerOptions>),
    )
    .await?;
    let spec = spec(&old)?;
    let project = old
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .and_then(|l| l.get(LABEL_PROJECT))
        .cloned()
        .unwrap_or_default();
    // `down -v` removes the volumes the project declares (compose labels them), not external ones.
    let mut volumes = Vec::new();
    if down == Down::RemoveVolumes {
        for name in old
            .mounts
            .iter()
            .flatten()
            .filter(|m| m.typ == Some(MountPointTypeEnum::VOLUME))
            .filter_map(|m| m.name.clone())
        {
            let v = bounded(t.api, "inspecting a volume", docker.inspect_volume(&name)).await?;
            if v.labels.get(LABEL_PROJECT) == Some(&project) {
                volumes.push(VolumeCreateOptions {
                    name: Some(v.name),
                    driver: Some(v.driver),
                    driver_opts: Some(v.options).filter(|o| !o.is_empty()),
                    labels: Some(v.labels),
                    ..Default::default()
                });
            }
        }
    }

    let stop_secs = old
        .config
        .as_ref()
        .and_then(|c| c.stop_timeout)
        .unwrap_or(10);
    bounded(
        t.api + Duration::from_secs(stop_secs.max(0) as u64),
        &format!("stopping {}", spec.name),
        docker.stop_container(
            id,
            Some(StopContainerOptions {
                t: Some(stop_secs as i32),
                signal: None,
            }),
        ),
    )
    .await?;
    bounded(
        t.api,
        &format!("removing {}", spec.name),
        docker.remove_container(
            id,
            Some(RemoveContainerOptions {
                v: down == Down::RemoveVolumes,
                force: false,
                link: false,
            }),
        ),
    )
    .await?;

    // From here on the container is gone: say how to get it back if anything fails.
    let back = |e: String| {
        format!(
            "{e}. {} was removed and is not back: `docker compose up -d` in the lab folder recreates it",
            spec.name
        )
    };
    // Saved while the container is gone and nothing writes to them; if saving fails, nothing
    // is deleted and the container comes back as it was.
    let mut kept = Vec::new();
    if let Some(token) = keep {
        for v in &volumes {
            let name = v.name.clone().unwrap_or_default();
            match restore::save(docker, t, &name, token).await {
                Ok(k) => kept.push(k),
                Err(e) => {
                    restore::discard(docker, t, &kept).await;
                    start(docker, t, &spec, limit).await.map_err(back)?;
                    return Err(format!(
                        "{e}: the drill stopped before deleting anything ({} is back as it was)",
                        spec.name
                    ));
                }
            }
        }
    }
    let saved = |e: String| {
        if kept.is_empty() {
            e
        } else {
            let copies: Vec<&str> = kept.iter().map(|k| k.copy.as_str()).collect();
            format!("{e} (a copy of the data is in {})", copies.join(", "))
        }
    };
    let mut names = Vec::new();
    for v in volumes {
        let name = v.name.clone().unwrap_or_default();
        if let Err(e) = bounded(
            t.api,
            &format!("removing the volume {name}"),
            docker.remove_volume(&name, None::<RemoveVolumeOptions>),
        )
        .await
        {
            let users = users_of(docker, t, &name).await;
            return Err(saved(back(if users.is_empty() {
                e
            } else {
                format!("{e} (still used by {}: `docker compose down -v` removes those too, this drill only recreates one service)", users.join(", "))
            })));
        }
        bounded(
            t.api,
            &format!("creating the volume {name}"),
            docker.create_volume(v),
        )
        .await
        .map_err(|e| saved(back(e)))?;
        names.push(name);
    }
    start(docker, t, &spec, limit)
        .await
        .map_err(|e| saved(back(e)))?;
    Ok((names, kept))
}

/// Containers (by name) that mount the volume.
async fn users_of(docker: &Docker, t: &Timeouts, volume: &str) -> Vec<String> {
    let filters = HashMap::from([("volume".to_string(), vec![volume.to_string()])]);
    bounded(
        t.api,
        "listing containers",
        docker.list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        })),
    )
    .await
    .unwrap_or_default()
    .into_iter()
    .flat_map(|c| c.names.unwrap_or_default())
    .map(|n| n.trim_start_matches('/').to_string())
    .collect()
}

/// Create, connect, start; then wait until healthy (or running, without a healthcheck).
async fn start(docker: &Docker, t: &Timeouts, spec: &Spec, limit: Duration) -> Result<(), String> {
    let created = bounded(
        t.api,
        &format!("creating {}", spec.name),
        docker.create_container(
            Some(CreateContainerOptions {
                name: Some(spec.name.clone()),
                ..Default::default()
            }),
            spec.body.clone(),
        ),
    )
    .await?;
    for (net, endpoint) in spec.networks.iter().skip(1) {
        bounded(
            t.api,
            &format!("connecting {} to {net}", spec.name),
            docker.connect_network(
                net,
                NetworkConnectRequest {
                    container: Some(created.id.clone()),
                    endpoint_config: Some(endpoint.clone()),
                },
            ),
        )
        .await?;
    }
    bounded(
        t.api,
        &format!("starting {}", spec.name),
        docker.start_container(&created.id, None::<StartContainerOptions>),
    )
    .await?;
    let deadline = Instant::now() + limit;
    loop {
        let c = bounded(
            t.api,
            "inspecting the new container",
            docker.inspect_container(&created.id, None::<InspectContainerOptions>),
        )
        .await?;
        let state = c.state.unwrap_or_default();
        let health = state.health.and_then(|h| h.status);
        if state.running != Some(true) {
            return Err(format!(
                "{} exited (code {}) after it was created again",
                spec.name,
                state.exit_code.unwrap_or_default()
            ));
        }
        match health {
            Some(HealthStatusEnum::HEALTHY) => return Ok(()),
            Some(HealthStatusEnum::UNHEALTHY) => {
                return Err(format!(
                    "{} is unhealthy after it was created again",
                    spec.name
                ))
            }
            _ if !spec.has_healthcheck => return Ok(()),
            _ => {}
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{} was not healthy within {} s after it was created again",
                spec.name,
                limit.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> ContainerInspectResponse {
        serde_json::from_str(include_str!(
            "../../tests/fixtures/inspect-compose-postgres.json"
        ))
        .expect("the fixture is a docker inspect record")
    }

    #[test]
    fn keeps_the_definition_and_drops_what_the_engine_generated() {
        let c = fixture();
        let s = spec(&c).unwrap();
        assert_eq!(s.name, "p4fix-db-1");
        assert_eq!(s.body.image.as_deref(), Some("postgres:15-alpine"));
        assert_eq!(
            s.body.hostname, None,
            "the short-id hostname is per instance"
        );
        assert_eq!(s.body.mac_address, None);
        assert!(s.has_healthcheck);
        let labels = s.body.labels.as_ref().unwrap();
        assert_eq!(labels[LABEL_PROJECT], "p4fix");
        let host = s.body.host_config.as_ref().unwrap();
        let mounts = host.mounts.as_ref().unwrap();
        assert_eq!(mounts[0].source.as_deref(), Some("p4fix_pgdata"));
        assert_eq!(
            host.binds.as_ref().unwrap()[0],
            "/home/learner/compose-lab/labs/phase-4/solution/initdb:/docker-entrypoint-initdb.d:ro"
        );
        assert!(s
            .body
            .env
            .as_ref()
            .unwrap()
            .iter()
            .any(|e| e == "POSTGRES_DB=inventory"));
    }

    #[test]
    fn keeps_service_aliases_and_only_the_endpoint_settings_one_can_set() {
        let s = spec(&fixture()).unwrap();
        assert_eq!(s.networks.len(), 1);
        let (net, e) = &s.networks[0];
        assert_eq!(net, "p4fix_default");
        assert_eq!(
            e.aliases.as_deref(),
            Some(&["p4fix-db-1".to_string(), "db".to_string()][..])
        );
        assert_eq!(e.ip_address, None);
        assert_eq!(e.mac_address, None);
        assert_eq!(e.endpoint_id, None);
        let given = s.body.networking_config.as_ref().unwrap();
        assert!(given
            .endpoints_config
            .as_ref()
            .unwrap()
            .contains_key("p4fix_default"));
    }

    #[test]
    fn anonymous_volumes_start_empty_and_the_network_mode_network_comes_first() {
        let mut c = fixture();
        let anon = "a".repeat(64);
        let host = c.host_config.as_mut().unwrap();
        host.mounts.as_mut().unwrap()[0].source = Some(anon);
        host.network_mode = Some("p4fix_z".into());
        let nets = c
            .network_settings
            .as_mut()
            .unwrap()
            .networks
            .as_mut()
            .unwrap();
        let e = nets["p4fix_default"].clone();
        nets.insert("p4fix_z".into(), e);
        let s = spec(&c).unwrap();
        assert_eq!(s.body.host_config.unwrap().mounts.unwrap()[0].source, None);
        let order: Vec<&str> = s.networks.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(order, ["p4fix_z", "p4fix_default"]);
    }

    #[test]
    fn host_networking_has_no_endpoints_to_recreate() {
        let mut c = fixture();
        c.host_config.as_mut().unwrap().network_mode = Some("host".into());
        let s = spec(&c).unwrap();
        assert!(s.networks.is_empty());
        assert!(s.body.networking_config.is_none());
    }

    #[test]
    fn anonymous_means_64_hex_digits() {
        assert!(is_anonymous(&"0f".repeat(32)));
        assert!(!is_anonymous("p4fix_pgdata"));
        assert!(!is_anonymous(&"g".repeat(64)));
    }
}

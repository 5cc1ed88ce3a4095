//! Container facts from one `inspect` call.

use bollard::models::{ContainerInspectResponse, HealthStatusEnum, MountPointTypeEnum};
use bollard::Docker;

use super::facts::{ContainerFacts, HealthFacts, MountFacts, NetworkFacts, PortFacts};
use super::{bounded, Timeouts};

/// Inspect a container (by id or name) and keep the facts the checks use.
pub async fn inspect(docker: &Docker, t: &Timeouts, id: &str) -> Result<ContainerFacts, String> {
    let resp = bounded(
        t.api,
        &format!("inspecting container {id}"),
        docker.inspect_container(
            id,
            None::<bollard::query_parameters::InspectContainerOptions>,
        ),
    )
    .await?;
    Ok(from_inspect(&resp))
}

/// Turn the Engine's inspect answer into plain facts (pure; unit-tested on hand-built answers).
pub fn from_inspect(r: &ContainerInspectResponse) -> ContainerFacts {
    let state = r.state.clone().unwrap_or_default();
    let health = state.health.as_ref().and_then(|h| {
        let status = match h.status? {
            HealthStatusEnum::NONE | HealthStatusEnum::EMPTY => return None,
            s => s.to_string(),
        };
        let last = h.log.as_ref().and_then(|l| l.last());
        Some(HealthFacts {
            status,
            failing_streak: h.failing_streak.unwrap_or(0),
            last_output: last.and_then(|l| l.output.clone()),
            last_exit_code: last.and_then(|l| l.exit_code),
        })
    });
    let ns = r.network_settings.clone().unwrap_or_default();
    let mut networks: Vec<NetworkFacts> = ns
        .networks
        .unwrap_or_default()
        .into_iter()
        .map(|(name, ep)| NetworkFacts {
            name,
            ip: ep.ip_address.filter(|ip| !ip.is_empty()),
        })
        .collect();
    networks.sort_by(|a, b| a.name.cmp(&b.name));
    let mut ports: Vec<PortFacts> = ns
        .ports
        .unwrap_or_default()
        .into_iter()
        .flat_map(|(container_port, binds)| {
            binds
                .unwrap_or_default()
                .into_iter()
                .map(move |b| PortFacts {
                    container_port: container_port.clone(),
                    host_ip: b.host_ip.unwrap_or_default(),
                    host_port: b.host_port.unwrap_or_default(),
                })
        })
        .collect();
    ports.sort_by(|a, b| (&a.container_port, &a.host_ip).cmp(&(&b.container_port, &b.host_ip)));
    let mounts = r
        .mounts
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|m| MountFacts {
            kind: match m.typ {
                Some(MountPointTypeEnum::EMPTY) | None => String::new(),
                Some(t) => t.to_string(),
            },
            name: m.name.filter(|n| !n.is_empty()),
            source: m.source,
            destination: m.destination.unwrap_or_default(),
        })
        .collect();
    let config = r.config.clone().unwrap_or_default();
    ContainerFacts {
        id: r.id.clone().unwrap_or_default(),
        name: r
            .name
            .clone()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        status: state.status.map(|s| s.to_string()).unwrap_or_default(),
        running: state.running.unwrap_or(false),
        restarting: state.restarting.unwrap_or(false),
        exit_code: state.exit_code,
        health,
        networks,
        ports,
        mounts,
        env: config.env.unwrap_or_default(),
        labels: config.labels.unwrap_or_default().into_iter().collect(),
        image: r.image.clone().unwrap_or_default(),
        user: config.user.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::*;
    use std::collections::HashMap;

    #[test]
    fn inspect_answer_becomes_facts() {
        let mut ports = HashMap::new();
        ports.insert(
            "5000/tcp".to_string(),
            Some(vec![PortBinding {
                host_ip: Some("0.0.0.0".into()),
                host_port: Some("8080".into()),
            }]),
        );
        ports.insert("5432/tcp".to_string(), None);
        let mut nets = HashMap::new();
        nets.insert(
            "p_backend".to_string(),
            EndpointSettings {
                ip_address: Some("172.20.0.3".into()),
                ..Default::default()
            },
        );
        let r = ContainerInspectResponse {
            id: Some("abc".into()),
            name: Some("/p-web-1".into()),
            state: Some(ContainerState {
                status: Some(ContainerStateStatusEnum::RUNNING),
                running: Some(true),
                health: Some(Health {
                    status: Some(HealthStatusEnum::UNHEALTHY),
                    failing_streak: Some(3),
                    log: Some(vec![HealthcheckResult {
                        exit_code: Some(1),
                        output: Some("no response".into()),
                        ..Default::default()
                    }]),
                }),
                ..Default::default()
            }),
            network_settings: Some(NetworkSettings {
                ports: Some(ports),
                networks: Some(nets),
                ..Default::default()
            }),
            mounts: Some(vec![MountPoint {
                typ: Some(MountPointTypeEnum::VOLUME),
                name: Some("p_pgdata".into()),
                destination: Some("/var/lib/postgresql/data".into()),
                ..Default::default()
            }]),
            config: Some(ContainerConfig {
                env: Some(vec!["A=1".into(), "DB_HOST=db".into()]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let f = from_inspect(&r);
        assert_eq!(f.name, "p-web-1");
        assert_eq!(f.status, "running");
        assert!(f.running);
        let h = f.health.as_ref().unwrap();
        assert_eq!(
            (
                h.status.as_str(),
                h.failing_streak,
                h.last_output.as_deref()
            ),
            ("unhealthy", 3, Some("no response"))
        );
        assert_eq!(
            f.ports,
            vec![PortFacts {
                container_port: "5000/tcp".into(),
                host_ip: "0.0.0.0".into(),
                host_port: "8080".into()
            }]
        );
        assert_eq!(f.networks[0].ip.as_deref(), Some("172.20.0.3"));
        assert_eq!(f.mounts[0].kind, "volume");
        assert_eq!(f.env_var("DB_HOST"), Some("db"));
        assert_eq!(f.env_var("DB"), None);
    }

    #[test]
    fn no_healthcheck_means_no_health_facts() {
        let r = ContainerInspectResponse {
            state: Some(ContainerState {
                health: Some(Health {
                    status: Some(HealthStatusEnum::NONE),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(from_inspect(&r).health.is_none());
    }
}

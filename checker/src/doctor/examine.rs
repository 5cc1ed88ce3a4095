//! Gathering the facts: one engine connection, `/info`, `/version`, the container list and an
//! image lookup per image the lab needs (each call bounded), then the judges of each group.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use bollard::models::{ContainerSummary, SystemInfo, SystemVersion};
use bollard::query_parameters::ListContainersOptions;
use bollard::Docker;

use super::compose_file::{self, ComposeFile, Published};
use super::images::{Looked, Needed};
use super::ports::{Holder, Local};
use super::project::Running;
use super::{disk, engine, images, ports, project, Diagnosis, Finding, Level};
use crate::lab::{Lab, Target};
use crate::probe::{bounded, error_chain, Timeouts};
use crate::target::context::{self, Asked};
use crate::target::{connect_to, ConnectError, Endpoint};

/// How long doctor gives ssh to log in and open its tunnel.
const SSH_BUDGET: Duration = Duration::from_secs(15);

/// Examine the engine the command line means, and the lab's needs when one is given. Never
/// fails: what doctor could not learn is itself a finding.
pub async fn examine(
    asked: &Asked,
    lab: Option<&Lab>,
    cwd: &Path,
    labs_dir: Option<&Path>,
    t: Timeouts,
) -> Diagnosis {
    let mut d = Diagnosis {
        lab: lab.map(|l| l.id.clone()),
        endpoint: String::new(),
        chosen_by: String::new(),
        findings: vec![],
    };
    let chosen = match context::choose(asked) {
        Ok(c) => c,
        Err(e) => {
            d.findings.push(engine::bad_settings(&e));
            return d;
        }
    };
    d.endpoint = chosen.endpoint.display();
    d.chosen_by = chosen.because.clone();
    let budget = if matches!(chosen.endpoint, Endpoint::Ssh { .. }) {
        SSH_BUDGET
    } else {
        t.api
    };
    let engine_ = match connect_to(&chosen.endpoint, t, budget, 0, &[]).await {
        Ok(c) => c.engine,
        Err(ConnectError::Setup(m)) => {
            d.findings.push(engine::bad_settings(&m));
            return d;
        }
        Err(ConnectError::Unreachable(detail)) => {
            d.findings.push(engine::unreachable(&chosen, &detail));
            return d;
        }
    };
    d.findings.push(engine::connection(&chosen));
    let docker = &engine_.docker;
    let (info, version) = tokio::join!(
        bounded(t.api, "reading /info", docker.info()),
        bounded(t.api, "reading /version", docker.version())
    );
    let unknown = |what: String| Finding::new("engine", Level::Unknown, what, "", None);
    let info = info.unwrap_or_else(|e| {
        d.findings.push(unknown(e));
        SystemInfo::default()
    });
    let facts = facts(
        &info,
        &version.unwrap_or_default(),
        &engine_.server_version,
        &engine_.server_api_version,
        &chosen.endpoint,
    );
    d.findings.push(engine::kind(&facts));
    let engine_host = info.name.clone().unwrap_or_default();
    let places = Places::of(
        &chosen.endpoint,
        facts.is_desktop(),
        &engine_host,
        &this_host(),
    );
    if let Some(lab) = lab {
        d.findings.push(engine::api(
            &lab.id,
            &facts.api_version,
            lab.requires_api.as_deref(),
        ));
    }
    d.findings.push(engine::clock(
        info.system_time.as_deref(),
        SystemTime::now(),
    ));
    if let Some(root) = &info.docker_root_dir {
        d.findings.push(disk::finding(root, &places.space(root)));
    }
    let Some(lab) = lab else { return d };

    let containers = match bounded(
        t.api,
        "listing containers",
        docker.list_containers(Some(ListContainersOptions {
            all: true,
            ..Default::default()
        })),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            d.findings.push(unknown(e));
            vec![]
        }
    };
    let file = match compose_file::read(&lab.dir) {
        Ok(f) => f,
        Err(e) => {
            d.findings.push(Finding::new(
                "image",
                Level::Unknown,
                format!("the lab's compose file could not be read: {e}"),
                "",
                None,
            ));
            None
        }
    };
    let project_name = file.as_ref().and_then(|f| f.project.clone());
    let lab_services = match &lab.target {
        Target::Compose { services } => services.clone(),
        Target::Containers { .. } => vec![],
    };
    let running = projects(&containers);
    let labs: Vec<&Running> = running
        .values()
        .map(|(r, _)| r)
        .filter(|r| project::is_labs(r, project_name.as_deref(), &lab_services))
        .collect();
    if file.is_some() {
        let made_by: Vec<(String, String)> = running
            .values()
            .filter(|(r, _)| labs.contains(&r))
            .flat_map(|(_, v)| v.clone())
            .collect();
        d.findings.push(engine::compose(&made_by));
    }

    let wanted = wanted_ports(file.as_ref(), lab);
    d.findings.extend(ports::findings(
        &wanted,
        &holders(&containers),
        project_name.as_deref(),
        &places.ports,
        &ports::try_bind,
    ));

    match &file {
        Some(f) => {
            let (needed, unreadable) = needed_images(f);
            d.findings.extend(unreadable);
            let looked = look_up(docker, t.api, needed).await;
            let kit =
                labs_dir.and_then(|l| std::fs::read_to_string(l.join("../scripts/images.sh")).ok());
            d.findings.extend(images::findings(&looked, kit.as_deref()));
        }
        None => d.findings.push(Finding::new(
            "image",
            Level::Unknown,
            format!(
                "lab {} has no compose file in solution/: its images are not checked",
                lab.id
            ),
            "",
            None,
        )),
    }
    if !lab_services.is_empty() {
        d.findings.extend(project::findings(&labs, cwd));
    }
    d
}

fn facts(
    info: &SystemInfo,
    v: &SystemVersion,
    server: &str,
    api: &str,
    endpoint: &Endpoint,
) -> engine::EngineFacts {
    let mut names: Vec<String> = v.platform.iter().map(|p| p.name.clone()).collect();
    names.extend(v.components.iter().flatten().map(|c| c.name.clone()));
    engine::EngineFacts {
        server_version: server.to_string(),
        api_version: api.to_string(),
        os: info.operating_system.clone().unwrap_or_default(),
        security_options: info.security_options.clone().unwrap_or_default(),
        names,
        socket: engine::socket_of(endpoint),
    }
}

/// Whether this machine's ports and disk are the engine's.
#[derive(Debug, PartialEq, Eq)]
struct Places {
    ports: Local,
    disk: Local,
}

impl Places {
    /// `engine_host`: the engine's host name (`/info` Name); `this_host`: this machine's. A
    /// local socket on another host is doctor in a container, with the engine's socket mounted.
    fn of(endpoint: &Endpoint, desktop: bool, engine_host: &str, this_host: &str) -> Places {
        if !matches!(endpoint, Endpoint::Unix(_)) {
            let why = Err(format!(
                "the engine is at {}, on another machine",
                endpoint.display()
            ));
            return Places {
                ports: why.clone(),
                disk: why,
            };
        }
        if desktop {
            return Places {
                // Docker Desktop forwards published ports to this machine's localhost.
                ports: Ok(()),
                disk: Err("Docker Desktop keeps it in its VM's disk image".into()),
            };
        }
        if engine_host != this_host {
            let why = Err(format!(
                "the engine runs on the host {engine_host}, and doctor on {this_host} (in a container with the engine's socket?)"
            ));
            return Places {
                ports: why.clone(),
                disk: why,
            };
        }
        Places {
            ports: Ok(()),
            disk: Ok(()),
        }
    }

    fn space(&self, root: &str) -> disk::Space {
        match &self.disk {
            Err(why) => disk::Space::Elsewhere(why.clone()),
            Ok(()) if !Path::new(root).exists() => disk::Space::Elsewhere(format!(
                "{root} is not visible here (doctor in a container?)"
            )),
            Ok(()) => disk::free_bytes(Path::new(root))
                .map_or_else(disk::Space::Unreadable, disk::Space::Free),
        }
    }
}

/// This machine's host name (as the engine's `/info` Name gives its own).
fn this_host() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// The compose projects on the engine, each with the (container, Compose version) pairs of its
/// containers.
fn projects(containers: &[ContainerSummary]) -> BTreeMap<String, (Running, Vec<(String, String)>)> {
    let mut out: BTreeMap<String, (Running, Vec<(String, String)>)> = BTreeMap::new();
    for c in containers {
        let labels = c.labels.clone().unwrap_or_default();
        let Some(p) = labels.get("com.docker.compose.project") else {
            continue;
        };
        let (r, made_by) = out.entry(p.clone()).or_insert_with(|| {
            (
                Running {
                    project: p.clone(),
                    working_dir: labels
                        .get("com.docker.compose.project.working_dir")
                        .cloned(),
                    services: vec![],
                },
                vec![],
            )
        });
        if let Some(s) = labels.get("com.docker.compose.service") {
            if !r.services.contains(s) {
                r.services.push(s.clone());
            }
        }
        if let Some(v) = labels.get("com.docker.compose.version") {
            made_by.push((name(c), v.clone()));
        }
    }
    out
}

fn name(c: &ContainerSummary) -> String {
    c.names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_string())
        .or_else(|| c.id.clone())
        .unwrap_or_default()
}

/// Every host port a container publishes now.
fn holders(containers: &[ContainerSummary]) -> Vec<Holder> {
    let mut out = Vec::new();
    for c in containers {
        let labels = c.labels.clone().unwrap_or_default();
        for p in c.ports.iter().flatten() {
            let Some(port) = p.public_port else { continue };
            out.push(Holder {
                container: name(c),
                project: labels.get("com.docker.compose.project").cloned(),
                service: labels.get("com.docker.compose.service").cloned(),
                host_ip: p.ip.clone().unwrap_or_default(),
                port,
                proto: p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into()),
            });
        }
    }
    out
}

/// The compose file's published ports, and the localhost ports the lab's checks connect to
/// that it does not publish (a lab with no compose file publishes them by other means).
fn wanted_ports(file: Option<&ComposeFile>, lab: &Lab) -> Vec<Published> {
    let mut wanted: Vec<Published> = file
        .iter()
        .flat_map(|f| f.services.iter().flat_map(|s| s.ports.clone()))
        .collect();
    for port in lab.host_ports() {
        if !wanted.iter().any(|p| p.port == port && p.proto == "tcp") {
            wanted.push(Published {
                service: String::new(),
                host_ip: "127.0.0.1".into(),
                port,
                proto: "tcp".into(),
                var: None,
            });
        }
    }
    wanted
}

/// The images the compose file needs: each `image:` Compose does not build, and the FROM
/// images of the Dockerfiles it builds; and a finding per Dockerfile that cannot be read.
fn needed_images(f: &ComposeFile) -> (Vec<Needed>, Vec<Finding>) {
    let mut needed: Vec<Needed> = Vec::new();
    let mut unreadable = Vec::new();
    let mut add = |image: String, by: String| {
        if !needed.iter().any(|n| n.image == image) {
            needed.push(Needed { image, by });
        }
    };
    for s in &f.services {
        match (&s.dockerfile, &s.image) {
            (Some(path), _) => match std::fs::read_to_string(path) {
                Ok(text) => compose_file::from_images(&text)
                    .into_iter()
                    .for_each(|i| add(i, format!("the Dockerfile of {} (FROM)", s.name))),
                Err(e) => unreadable.push(Finding::new(
                    "image",
                    Level::Unknown,
                    format!(
                        "the Dockerfile of {} ({}) could not be read: {e}",
                        s.name,
                        path.display()
                    ),
                    "",
                    None,
                )),
            },
            (None, Some(image)) => add(image.clone(), format!("service {}", s.name)),
            (None, None) => {}
        }
    }
    (needed, unreadable)
}

/// Whether the engine has each image (404: it does not), looked up side by side.
async fn look_up(docker: &Docker, limit: Duration, needed: Vec<Needed>) -> Vec<Looked> {
    let lookups = needed.into_iter().map(|n| async move {
        let found = match tokio::time::timeout(limit, docker.inspect_image(&n.image)).await {
            Ok(Ok(_)) => Ok(true),
            Ok(Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            })) => Ok(false),
            Ok(Err(e)) => Err(error_chain(&e)),
            Err(_) => Err(format!("no answer within {:.1}s", limit.as_secs_f64())),
        };
        (n, found)
    });
    futures_util::future::join_all(lookups).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_disk_are_this_machines_only_for_a_local_socket_on_this_host() {
        let unix = Endpoint::default_socket();
        assert_eq!(
            Places::of(&unix, false, "box", "box"),
            Places {
                ports: Ok(()),
                disk: Ok(())
            }
        );
        let desktop = Places::of(&unix, true, "docker-desktop", "laptop");
        assert!(desktop.ports.is_ok() && desktop.disk.is_err());
        let in_container = Places::of(&unix, false, "box", "3f2a9c");
        assert!(in_container.ports.unwrap_err().contains("in a container"));
        let tcp = Endpoint::Tcp {
            host: "10.0.0.5".into(),
            port: 2376,
            tls: None,
        };
        assert!(Places::of(&tcp, false, "box", "box")
            .disk
            .unwrap_err()
            .contains("tcp://10.0.0.5:2376"));
        let here = Places::of(&unix, false, "box", "box");
        assert!(matches!(here.space("/"), disk::Space::Free(_)));
        assert!(matches!(
            here.space("/nonexistent-root"),
            disk::Space::Elsewhere(_)
        ));
    }
}

//! Probes for the phase 4-6 kinds (lab/ext.rs). Read-only, each bounded by a timeout, except
//! the drills (probe/drill.rs), which run only with `--drill`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountTypeEnum};
use bollard::query_parameters::{CreateContainerOptions, InspectContainerOptions};
use bollard::Docker;

use super::compose::LABEL_WORKING_DIR;
use super::exec::{exec, helper_labels, ExecOutput, HelperGuard};
use super::ext_facts::{ExtFacts, MountDetail};
use super::facts::{ContainerFacts, Observed};
use super::{bounded, container, http, Timeouts};
use crate::lab::ext::ExtKind;
use crate::target::ContainerRef;

/// What the probes may use: the engine, the stack's container facts, the HTTP client.
pub struct Env<'a> {
    pub docker: &'a Docker,
    pub t: &'a Timeouts,
    /// `unix:///var/run/docker.sock`, `tcp://...`: where container IPs are reachable from here.
    pub endpoint: &'a str,
    pub project: Option<&'a str>,
    /// One container per service (a running one first).
    pub facts: &'a HashMap<String, Result<ContainerFacts, String>>,
    /// Every container of each compose service.
    pub replicas: &'a HashMap<String, Vec<ContainerFacts>>,
    pub http: &'a reqwest::Client,
    pub http_host: Option<&'a str>,
}

impl Env<'_> {
    fn container(&self, unit: &str) -> Result<&ContainerFacts, Observed> {
        crate::probe::facts::unit_container(self.facts, unit)
    }

    fn running(&self, unit: &str) -> Result<&ContainerFacts, Observed> {
        crate::probe::facts::unit_running(self.facts, unit)
    }
}

fn ext(f: ExtFacts) -> Observed {
    Observed::Ext(Box::new(f))
}

/// Every container of each unit (as discovery listed them), inspected. Units with one container
/// reuse `facts`; the others are inspected, all at once.
pub async fn replicas(
    docker: &Docker,
    t: &Timeouts,
    all: &BTreeMap<String, Vec<ContainerRef>>,
    facts: &HashMap<String, Result<ContainerFacts, String>>,
) -> HashMap<String, Vec<ContainerFacts>> {
    let mut out = HashMap::new();
    let mut to_inspect = Vec::new();
    for (svc, cs) in all {
        match (cs.len(), facts.get(svc)) {
            (1, Some(Ok(f))) if f.id == cs[0].id => {
                out.insert(svc.clone(), vec![f.clone()]);
            }
            _ => to_inspect.push((svc, cs)),
        }
    }
    let inspected =
        futures_util::future::join_all(to_inspect.into_iter().map(|(svc, cs)| async move {
            let all = futures_util::future::join_all(
                cs.iter().map(|c| container::inspect(docker, t, &c.id)),
            )
            .await;
            (
                svc.clone(),
                all.into_iter().filter_map(Result::ok).collect::<Vec<_>>(),
            )
        }))
        .await;
    out.extend(inspected);
    out
}

pub async fn observe(env: &Env<'_>, kind: &ExtKind) -> Observed {
    let (docker, t) = (env.docker, env.t);
    match kind {
        ExtKind::Replicas { service, .. } => match env.replicas.get(service) {
            Some(cs) if !cs.is_empty() => ext(ExtFacts::Replicas {
                service: service.clone(),
                containers: cs.clone(),
            }),
            _ => Observed::Missing(service.clone()),
        },
        ExtKind::NoSharedNetwork { service, peer } => {
            match (env.container(service), env.container(peer)) {
                (Ok(a), Ok(b)) => Observed::Pair(Box::new(a.clone()), Box::new(b.clone())),
                (Err(o), _) | (_, Err(o)) => o,
            }
        }
        ExtKind::EnvAbsent { service, .. } => match env.container(service) {
            Ok(c) => Observed::Container(Box::new(c.clone())),
            Err(o) => o,
        },
        ExtKind::ComposeVolume { service, path } => match env.container(service) {
            Ok(c) => ext(compose_volume(docker, t, env.project.unwrap_or_default(), c, path).await),
            Err(o) => o,
        },
        ExtKind::FileOwner {
            service,
            path,
            user,
            ..
        } => match env.running(service) {
            Ok(c) => ext(file_owner(docker, t, &c.id, path, user).await),
            Err(o) => o,
        },
        ExtKind::Tarball { service, path, .. } => match env.container(service) {
            Ok(c) => match working_dir(c) {
                Ok(wd) => {
                    let f = crate::kinds::backup::tarball(docker, t, &wd, path).await;
                    ext(ExtFacts::Tarball {
                        dir: f.dir,
                        files: f.files,
                        entries: f.entries,
                    })
                }
                Err(e) => Observed::ProbeError(e),
            },
            Err(o) => o,
        },
        ExtKind::TcpBlocked {
            from,
            host,
            port,
            timeout_secs,
        } => {
            let c = match env.running(from) {
                Ok(c) => c,
                Err(o) => return o,
            };
            // the host service's own addresses, whether or not its name resolves
            let addresses: Vec<String> = match env.container(host) {
                Ok(h) => h.networks.iter().filter_map(|n| n.ip.clone()).collect(),
                Err(_) => vec![],
            };
            let to = (host.as_str(), *port);
            match crate::kinds::reach::blocked(docker, t, &c.id, to, &addresses, *timeout_secs)
                .await
            {
                Ok(b) => ext(ExtFacts::Blocked {
                    resolved: b.resolved,
                    attempts: b.attempts,
                    image: b.image,
                }),
                Err(e) => Observed::ProbeError(e),
            }
        }
        ExtKind::SecretFile { service, .. } | ExtKind::BindMount { service, .. } => {
            match env.container(service) {
                Ok(c) => match mounts(docker, t, &c.id).await {
                    Ok(m) => ext(ExtFacts::Mounts(m)),
                    Err(e) => Observed::ProbeError(e),
                },
                Err(o) => o,
            }
        }
        ExtKind::HttpBodyExcludes { url, .. } => {
            let url = http::effective_url(url, env.http_host);
            Observed::Http(http::get(env.http, &url).await)
        }
        ExtKind::HttpCached { url, header, .. } => {
            let url = http::effective_url(url, env.http_host);
            ext(ExtFacts::Cached {
                responses: crate::kinds::cache::http_cached(env.http, &url, header).await,
            })
        }
        ExtKind::HttpDistinct {
            url,
            field,
            requests,
            min_distinct,
            within_secs,
        } => {
            let url = http::effective_url(url, env.http_host);
            let f = crate::kinds::replicas::http_distinct(
                t.http,
                &url,
                field,
                *requests,
                *min_distinct,
                Duration::from_secs(*within_secs),
            )
            .await;
            ext(ExtFacts::Distinct {
                counts: f.counts,
                requests: f.requests,
                batches: f.batches,
                failures: f.failures,
                secs: f.secs,
            })
        }
        ExtKind::RedisKey { service, key } => match env.running(service) {
            Ok(c) => match crate::kinds::cache::redis_key(docker, t, &c.id, key).await {
                Ok(f) => ext(ExtFacts::Redis {
                    exists: f.exists,
                    ttl: f.ttl,
                    via: f.via,
                }),
                Err(e) => Observed::ProbeError(e),
            },
            Err(o) => o,
        },
        ExtKind::Persistence { .. } | ExtKind::RestoreDrill { .. } | ExtKind::SelfHeal { .. } => {
            crate::drill::observe(env, kind).await
        }
    }
}

/// The compose working directory (on the Docker host) from the container's label.
pub fn working_dir(c: &ContainerFacts) -> Result<String, String> {
    c.labels
        .get(LABEL_WORKING_DIR)
        .filter(|w| !w.is_empty())
        .cloned()
        .ok_or_else(|| {
            format!(
                "{} has no {LABEL_WORKING_DIR} label, so the compose folder is unknown",
                c.name
            )
        })
}

fn norm(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        "/"
    } else {
        t
    }
}

async fn compose_volume(
    docker: &Docker,
    t: &Timeouts,
    project: &str,
    c: &ContainerFacts,
    path: &str,
) -> ExtFacts {
    let mount = c
        .mounts
        .iter()
        .find(|m| norm(&m.destination) == norm(path))
        .cloned();
    let labels = match &mount {
        Some(m) if m.kind == "volume" => match &m.name {
            Some(name) => Some(
                bounded(
                    t.api,
                    &format!("inspecting volume {name}"),
                    docker.inspect_volume(name),
                )
                .await
                .map(|v| v.labels.into_iter().collect()),
            ),
            None => None,
        },
        _ => None,
    };
    ExtFacts::Volume {
        project: project.to_string(),
        mount,
        labels,
    }
}

/// `stat -c '%u %a'` output: uid and octal mode.
pub fn parse_stat(out: &str) -> Option<(u32, String)> {
    let mut it = out.split_whitespace();
    let uid = it.next()?.parse().ok()?;
    let mode = it.next()?;
    mode.chars()
        .all(|c| c.is_ascii_digit())
        .then(|| (uid, mode.to_string()))
}

pub(crate) fn exec_err(out: &ExecOutput, what: &str) -> String {
    let d = out.diagnostic();
    format!(
        "{what} exited {}{}",
        out.exit_code.unwrap_or(-1),
        if d.is_empty() {
            String::new()
        } else {
            format!(": {d}")
        }
    )
}

async fn file_owner(docker: &Docker, t: &Timeouts, id: &str, path: &str, user: &str) -> ExtFacts {
    let (stat_cmd, id_cmd) = (["stat", "-c", "%u %a", path], ["id", "-u", user]);
    let (stat, uid) =
        futures_util::join!(exec(docker, t, id, &stat_cmd), exec(docker, t, id, &id_cmd));
    let stat = stat.and_then(|o| match parse_stat(&o.stdout) {
        Some(s) if o.exit_code == Some(0) => Ok(s),
        _ => Err(exec_err(&o, &format!("stat {path}"))),
    });
    let user_uid = uid.and_then(|o| match o.stdout.trim().parse::<u32>() {
        Ok(n) if o.exit_code == Some(0) => Ok(n),
        _ => Err(exec_err(&o, &format!("id -u {user}"))),
    });
    ExtFacts::Owner { stat, user_uid }
}

/// A short-lived container labcheck made (helper or scratch server): removed on `remove()`,
/// or in the background if the probe is dropped first.
pub(crate) struct Scratch {
    pub id: String,
    guard: HelperGuard,
}

impl Scratch {
    /// Create and start a container from `image` running `cmd`, labelled as labcheck's.
    pub(crate) async fn start(
        docker: &Docker,
        t: &Timeouts,
        image: &str,
        cmd: Option<Vec<String>>,
        env: Vec<String>,
        host: HostConfig,
    ) -> Result<Scratch, String> {
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            cmd,
            env: Some(env),
            labels: Some(helper_labels()),
            host_config: Some(host),
            ..Default::default()
        };
        let created = bounded(
            t.api,
            "creating a helper container",
            docker.create_container(None::<CreateContainerOptions>, body),
        )
        .await?;
        let s = Scratch {
            guard: HelperGuard::new(docker, &created.id, t),
            id: created.id,
        };
        bounded(
            t.api,
            "starting a helper container",
            docker.start_container(
                &s.id,
                None::<bollard::query_parameters::StartContainerOptions>,
            ),
        )
        .await?;
        Ok(s)
    }

    pub(crate) async fn remove(mut self) {
        self.guard.remove().await;
    }
}

/// A read-only bind mount of `dir` (on the Docker host) at `/b`. `Mounts`, not `Binds`: a
/// missing folder is an error instead of being created.
pub(crate) fn bind_ro(dir: &str) -> Mount {
    Mount {
        target: Some("/b".into()),
        source: Some(dir.to_string()),
        typ: Some(MountTypeEnum::BIND),
        read_only: Some(true),
        ..Default::default()
    }
}

/// Split `backups/pgdata-*.tar.gz` into the folder under `working_dir` and the file pattern.
pub fn glob_parts(working_dir: &str, path: &str) -> (String, String) {
    let (dir, pattern) = path.rsplit_once('/').unwrap_or(("", path));
    let base = working_dir.trim_end_matches('/');
    let dir = if dir.is_empty() {
        base.to_string()
    } else {
        format!("{base}/{dir}")
    };
    (dir, pattern.to_string())
}

/// Lists `/b/<pattern>` (a shell glob) in a helper: one file name a line.
pub(crate) const LIST_SCRIPT: &str =
    r#"for f in /b/$1; do [ -f "$f" ] && echo "${f#/b/}"; done; exit 0"#;

async fn mounts(docker: &Docker, t: &Timeouts, id: &str) -> Result<Vec<MountDetail>, String> {
    let r = bounded(
        t.api,
        "inspecting the container's mounts",
        docker.inspect_container(id, None::<InspectContainerOptions>),
    )
    .await?;
    Ok(r.mounts
        .unwrap_or_default()
        .into_iter()
        .map(|m| MountDetail {
            kind: m.typ.map(|k| k.to_string()).unwrap_or_default(),
            source: m.source.unwrap_or_default(),
            destination: m.destination.unwrap_or_default(),
            rw: m.rw.unwrap_or(true),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_output_is_parsed() {
        assert_eq!(parse_stat("70 700\n"), Some((70, "700".into())));
        assert_eq!(parse_stat("stat: can't stat"), None);
    }

    #[test]
    fn globs_are_split_under_the_working_dir() {
        assert_eq!(
            glob_parts("/w/lab/", "backups/pgdata-*.tar.gz"),
            ("/w/lab/backups".into(), "pgdata-*.tar.gz".into())
        );
        assert_eq!(glob_parts("/w", "x.tgz"), ("/w".into(), "x.tgz".into()));
    }
}

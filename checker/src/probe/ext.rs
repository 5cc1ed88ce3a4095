//! Probes for the phase 4-6 kinds (lab/ext.rs). Read-only, each bounded by a timeout, except
//! the drills (probe/drill.rs), which run only with `--drill`.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountTypeEnum};
use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, ListContainersOptions,
};
use bollard::Docker;

use super::compose::{LABEL_ONEOFF, LABEL_PROJECT, LABEL_SERVICE, LABEL_WORKING_DIR};
use super::exec::{exec, helper_image, helper_labels, ExecOutput, Helper, HelperGuard};
use super::ext_facts::{ExtFacts, MountDetail};
use super::facts::{Attempt, ContainerFacts, Observed};
use super::{bounded, container, http, net, Timeouts};
use crate::lab::ext::ExtKind;

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

/// Every container of each of `services` in `project` (one-off `run` containers excluded).
/// Services with one container reuse `facts`; the others are inspected, all at once.
pub async fn replicas(
    docker: &Docker,
    t: &Timeouts,
    project: &str,
    services: &[String],
    facts: &HashMap<String, Result<ContainerFacts, String>>,
) -> HashMap<String, Vec<ContainerFacts>> {
    let mut filters = HashMap::new();
    filters.insert(
        "label".to_string(),
        vec![format!("{LABEL_PROJECT}={project}")],
    );
    let list = bounded(
        t.api,
        "listing the project's containers",
        docker.list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        })),
    )
    .await
    .unwrap_or_default();
    let mut ids: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for c in &list {
        let Some(labels) = c.labels.as_ref() else {
            continue;
        };
        if labels
            .get(LABEL_ONEOFF)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            continue;
        }
        let (Some(svc), Some(id)) = (labels.get(LABEL_SERVICE), c.id.clone()) else {
            continue;
        };
        if services.contains(svc) {
            let name = c
                .names
                .as_ref()
                .and_then(|n| n.first())
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_default();
            ids.entry(svc.clone()).or_default().push((name, id));
        }
    }
    let mut out = HashMap::new();
    let mut to_inspect = Vec::new();
    for (svc, mut cs) in ids {
        cs.sort();
        match (cs.len(), facts.get(&svc)) {
            (1, Some(Ok(f))) if f.id == cs[0].1 => {
                out.insert(svc, vec![f.clone()]);
            }
            _ => to_inspect.push((svc, cs)),
        }
    }
    let inspected =
        futures_util::future::join_all(to_inspect.into_iter().map(|(svc, cs)| async move {
            let all = futures_util::future::join_all(
                cs.iter().map(|(_, id)| container::inspect(docker, t, id)),
            )
            .await;
            (
                svc,
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
                Ok(wd) => ext(tarball(docker, t, &wd, path).await),
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
            match tcp_blocked(docker, t, &c.id, host, &addresses, *port, *timeout_secs).await {
                Ok(f) => ext(f),
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
            ext(http_cached(env.http, &url, header).await)
        }
        ExtKind::HttpDistinct {
            url,
            field,
            requests,
            min_distinct,
            within_secs,
        } => {
            let url = http::effective_url(url, env.http_host);
            ext(http_distinct(
                t.http,
                &url,
                field,
                *requests,
                *min_distinct,
                Duration::from_secs(*within_secs),
            )
            .await)
        }
        ExtKind::RedisKey { service, key } => match env.running(service) {
            Ok(c) => match redis_key(docker, t, &c.id, key).await {
                Ok(f) => ext(f),
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

async fn tarball(docker: &Docker, t: &Timeouts, wd: &str, path: &str) -> ExtFacts {
    let (dir, pattern) = glob_parts(wd, path);
    let run = async {
        let image = helper_image(docker, t).await?;
        let host = HostConfig {
            network_mode: Some("none".into()),
            mounts: Some(vec![bind_ro(&dir)]),
            auto_remove: Some(true),
            ..Default::default()
        };
        let helper = Scratch::start(
            docker,
            t,
            image,
            Some(vec!["sleep".into(), "60".into()]),
            vec![],
            host,
        )
        .await?;
        let listed = exec(
            docker,
            t,
            &helper.id,
            &["sh", "-c", LIST_SCRIPT, "sh", &pattern],
        )
        .await;
        let files = listed.map(|o| {
            let mut v: Vec<String> = o
                .stdout
                .lines()
                .map(str::to_string)
                .filter(|l| !l.is_empty())
                .collect();
            v.sort();
            v
        });
        let entries = match &files {
            Ok(v) if !v.is_empty() => {
                let newest = format!("/b/{}", v[v.len() - 1]);
                Some(
                    exec(docker, t, &helper.id, &["tar", "-tzf", &newest])
                        .await
                        .and_then(|o| {
                            if o.exit_code == Some(0) {
                                Ok(o.stdout
                                    .lines()
                                    .map(|l| {
                                        l.trim_start_matches("./").trim_end_matches('/').to_string()
                                    })
                                    .filter(|l| !l.is_empty())
                                    .collect())
                            } else {
                                Err(exec_err(&o, "tar -tzf"))
                            }
                        }),
                )
            }
            _ => None,
        };
        helper.remove().await;
        Ok::<_, String>((files, entries))
    };
    match run.await {
        Ok((files, entries)) => ExtFacts::Tarball {
            dir,
            files,
            entries,
        },
        Err(e) if e.contains("bind source path does not exist") || e.contains("no such file") => {
            ExtFacts::Tarball {
                dir: dir.clone(),
                files: Err(format!(
                    "the folder {dir} does not exist on the Docker host"
                )),
                entries: None,
            }
        }
        Err(e) => ExtFacts::Tarball {
            dir,
            files: Err(e),
            entries: None,
        },
    }
}

#[allow(clippy::too_many_arguments)]
async fn tcp_blocked(
    docker: &Docker,
    t: &Timeouts,
    id: &str,
    host: &str,
    addresses: &[String],
    port: u16,
    secs: u64,
) -> Result<ExtFacts, String> {
    let helper = Helper::start(docker, t, &format!("container:{id}")).await?;
    let looked = helper.exec(&["nslookup", host]).await;
    let resolved = looked
        .as_ref()
        .map(|o| net::parse_nslookup(&o.stdout))
        .unwrap_or_default();
    let mut targets: Vec<String> = resolved.clone();
    for a in addresses {
        if !targets.contains(a) {
            targets.push(a.clone());
        }
    }
    let (port_s, secs_s) = (port.to_string(), secs.to_string());
    let tries = targets.iter().map(|ip| {
        let (helper, port_s, secs_s) = (&helper, &port_s, &secs_s);
        async move {
            let target = format!("{ip}:{port_s}");
            match helper
                .exec(&["nc", "-w", secs_s, ip, port_s, "-e", "true"])
                .await
            {
                Ok(o) => Attempt {
                    target,
                    reached: o.exit_code == Some(0),
                    detail: o.diagnostic(),
                },
                Err(e) => Attempt {
                    target,
                    reached: false,
                    detail: e,
                },
            }
        }
    });
    let attempts = futures_util::future::join_all(tries).await;
    helper.remove().await;
    if let Err(e) = looked {
        return Err(format!("looking up {host}: {e}"));
    }
    Ok(ExtFacts::Blocked {
        resolved,
        attempts,
        image: helper.image.to_string(),
    })
}

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

async fn http_cached(client: &reqwest::Client, url: &str, header: &str) -> ExtFacts {
    let mut responses = Vec::new();
    for _ in 0..2 {
        let r = match client.get(url).send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let value = resp
                    .headers()
                    .get(header)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
                // read the body so the connection is reused for the second request
                let _ = resp.bytes().await;
                Ok((status, value))
            }
            Err(e) => Err(super::error_chain(&e)),
        };
        let failed = r.is_err();
        responses.push(r);
        if failed {
            break;
        }
    }
    ExtFacts::Cached { responses }
}

/// The value of a top-level JSON field as text (strings without quotes).
pub fn json_field(body: &str, field: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    match v.get(field)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

async fn http_distinct(
    limit: Duration,
    url: &str,
    field: &str,
    requests: u32,
    min_distinct: u32,
    within: Duration,
) -> ExtFacts {
    // a new connection per request, as independent clients would make
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(limit)
        .connect_timeout(limit)
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client builds");
    let started = Instant::now();
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    let mut failures = Vec::new();
    let (mut sent, mut batches) = (0u32, 0u32);
    loop {
        batches += 1;
        let mut batch: BTreeMap<String, u32> = BTreeMap::new(); // this batch's values
        for _ in 0..requests {
            sent += 1;
            match client.get(url).send().await {
                Ok(resp) if resp.status().as_u16() == 200 => {
                    let body = resp.text().await.unwrap_or_default();
                    match json_field(&body, field) {
                        Some(v) => *batch.entry(v).or_default() += 1,
                        None => failures.push(format!(
                            "200 without a `{field}` field: {}",
                            crate::check::excerpt(&body, 80)
                        )),
                    }
                }
                Ok(resp) => failures.push(format!("status {}", resp.status().as_u16())),
                Err(e) => failures.push(super::error_chain(&e)),
            }
        }
        for (k, n) in &batch {
            *counts.entry(k.clone()).or_default() += n;
        }
        if counts.len() as u32 >= min_distinct || started.elapsed() >= within {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    failures.truncate(5);
    ExtFacts::Distinct {
        counts,
        requests: sent,
        batches,
        failures,
        secs: started.elapsed().as_secs_f64(),
    }
}

/// `redis-cli` integer replies ("1", "(integer) 1").
pub fn parse_redis_int(out: &str) -> Option<i64> {
    let t = out.trim();
    let t = t.strip_prefix("(integer)").map(str::trim).unwrap_or(t);
    let t = t.strip_prefix(':').unwrap_or(t);
    t.lines().next()?.trim().parse().ok()
}

/// RESP for one command (for images without redis-cli, sent with nc from a helper).
pub fn resp(args: &[&str]) -> String {
    let mut s = format!("*{}\r\n", args.len());
    for a in args {
        s.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    s
}

async fn redis_key(docker: &Docker, t: &Timeouts, id: &str, key: &str) -> Result<ExtFacts, String> {
    let out = exec(docker, t, id, &["redis-cli", "EXISTS", key]).await?;
    if !out.tool_missing() {
        let exists = match parse_redis_int(&out.stdout) {
            Some(n) if out.exit_code == Some(0) => Ok(n),
            _ => Err(exec_err(&out, "redis-cli EXISTS")),
        };
        let ttl = exec(docker, t, id, &["redis-cli", "TTL", key])
            .await
            .ok()
            .and_then(|o| parse_redis_int(&o.stdout));
        return Ok(ExtFacts::Redis {
            exists,
            ttl,
            via: "exec `redis-cli` in the container".into(),
        });
    }
    let helper = Helper::start(docker, t, &format!("container:{id}")).await?;
    let script = r#"printf '%s' "$1" | nc -w 2 127.0.0.1 6379"#;
    let ex = helper
        .exec(&["sh", "-c", script, "sh", &resp(&["EXISTS", key])])
        .await;
    let ttl = helper
        .exec(&["sh", "-c", script, "sh", &resp(&["TTL", key])])
        .await;
    helper.remove().await;
    let ex = ex?;
    let exists = parse_redis_int(&ex.stdout).ok_or_else(|| exec_err(&ex, "EXISTS over nc"));
    Ok(ExtFacts::Redis {
        exists,
        ttl: ttl.ok().and_then(|o| parse_redis_int(&o.stdout)),
        via: format!("RESP over nc from a helper container ({})", helper.image),
    })
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

    #[test]
    fn redis_replies_and_requests() {
        assert_eq!(parse_redis_int("1\n"), Some(1));
        assert_eq!(parse_redis_int("(integer) -2"), Some(-2));
        assert_eq!(parse_redis_int(":0\r\n"), Some(0));
        assert_eq!(parse_redis_int("ERR"), None);
        assert_eq!(
            resp(&["EXISTS", "tasks:all"]),
            "*2\r\n$6\r\nEXISTS\r\n$9\r\ntasks:all\r\n"
        );
    }

    #[test]
    fn json_fields_as_text() {
        assert_eq!(
            json_field(r#"{"instance":"b4af63c1ecb9","n":3}"#, "instance").as_deref(),
            Some("b4af63c1ecb9")
        );
        assert_eq!(
            json_field(r#"{"instance":"b","n":3}"#, "n").as_deref(),
            Some("3")
        );
        assert_eq!(json_field("<html>", "instance"), None);
    }
}

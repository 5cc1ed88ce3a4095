//! Verdicts for the phase 4-6 kinds (lab/ext.rs): pure functions of what the probes saw.

use super::{excerpt, fail, pass, Judgement};
use crate::lab::ext::{ExtKind, HealAction};
use crate::probe::ext_facts::{ExtFacts, MountDetail};
use crate::probe::facts::{ContainerFacts, HttpFacts, Observed};

const PROJECT_LABEL: &str = "com.docker.compose.project";

pub fn judge(kind: &ExtKind, observed: &Observed) -> Judgement {
    let x = match observed {
        Observed::Ext(x) => Some(x.as_ref()),
        _ => None,
    };
    match (kind, observed, x) {
        (ExtKind::NoSharedNetwork { service, peer }, Observed::Pair(a, b), _) => {
            no_shared_network(service, peer, a, b)
        }
        (ExtKind::EnvAbsent { service, vars }, Observed::Container(c), _) => {
            env_absent(service, vars, c)
        }
        (
            ExtKind::HttpBodyExcludes {
                url,
                status,
                excludes,
            },
            Observed::Http(h),
            _,
        ) => http_body_excludes(url, *status, excludes, h),
        (
            ExtKind::Replicas {
                service,
                min,
                healthy,
            },
            _,
            Some(ExtFacts::Replicas { containers, .. }),
        ) => replicas(service, *min, *healthy, containers),
        (
            ExtKind::ComposeVolume { service, path },
            _,
            Some(ExtFacts::Volume {
                project,
                mount,
                labels,
            }),
        ) => compose_volume(service, path, project, mount.as_ref(), labels.as_ref()),
        (
            ExtKind::FileOwner {
                path, user, mode, ..
            },
            _,
            Some(ExtFacts::Owner { stat, user_uid }),
        ) => file_owner(path, user, mode.as_deref(), stat, user_uid),
        (
            ExtKind::Tarball { path, contains, .. },
            _,
            Some(ExtFacts::Tarball {
                dir,
                files,
                entries,
            }),
        ) => tarball(path, contains, dir, files, entries.as_ref()),
        (
            ExtKind::TcpBlocked {
                from, host, port, ..
            },
            _,
            Some(ExtFacts::Blocked {
                resolved,
                attempts,
                image,
            }),
        ) => tcp_blocked(from, host, *port, resolved, attempts, image),
        (ExtKind::SecretFile { service, secret }, _, Some(ExtFacts::Mounts(m))) => {
            secret_file(service, secret, m)
        }
        (
            ExtKind::BindMount {
                service,
                source,
                target,
            },
            _,
            Some(ExtFacts::Mounts(m)),
        ) => bind_mount(service, source, target, m),
        (ExtKind::HttpCached { url, header, hit }, _, Some(ExtFacts::Cached { responses })) => {
            http_cached(url, header, hit, responses)
        }
        (ExtKind::RedisKey { key, .. }, _, Some(ExtFacts::Redis { exists, ttl, via })) => {
            redis_key(key, exists, *ttl, via)
        }
        (
            ExtKind::HttpDistinct {
                url,
                field,
                min_distinct,
                ..
            },
            _,
            Some(ExtFacts::Distinct {
                counts,
                requests,
                batches,
                failures,
                secs,
            }),
        ) => http_distinct(
            url,
            field,
            *min_distinct,
            counts,
            *requests,
            *batches,
            failures,
            *secs,
        ),
        (
            ExtKind::Persistence {
                marker_table,
                expect,
                query,
                ..
            },
            _,
            Some(f @ ExtFacts::Persistence { .. }),
        ) => persistence(marker_table, query.as_deref(), expect.as_deref(), f),
        (
            ExtKind::RestoreDrill { query, expect, .. },
            _,
            Some(ExtFacts::Restore {
                file,
                steps,
                result,
            }),
        ) => {
            let mut j = match result {
                Ok(v) if v.trim() == expect.trim() => pass(format!(
                    "the backup {} restores: `{query}` returned `{v}`",
                    file.as_deref().unwrap_or("?")
                )),
                Ok(v) => fail(format!(
                    "the restored data answers `{query}` with `{v}`, expected `{expect}`"
                )),
                Err(e) => fail(format!("the restore failed: {e}")),
            };
            for s in steps {
                j = j.with(s.to_string());
            }
            j.with("the scratch volume and server were removed; your stack was not touched")
        }
        (
            ExtKind::SelfHeal {
                service,
                action,
                within_secs,
                ..
            },
            _,
            Some(ExtFacts::Heal {
                container,
                down_after,
                healthy_after,
                last_state,
                error,
            }),
        ) => self_heal(
            service,
            *action,
            *within_secs,
            container,
            *down_after,
            *healthy_after,
            last_state,
            error.as_deref(),
        ),
        (k, o, _) => fail(format!(
            "internal error: probe result {o:?} does not fit check kind {}",
            k.name()
        )),
    }
}

/// `running` (or `healthy`) of a service with several containers: every one must be.
pub fn scaled(running: bool, service: &str, x: &ExtFacts) -> Judgement {
    match x {
        ExtFacts::Replicas { containers, .. } if running => running_all(service, containers),
        ExtFacts::Replicas { containers, .. } => healthy_all(service, containers),
        other => fail(format!(
            "internal error: {other:?} is not the containers of {service}"
        )),
    }
}

/// `running` over every container of a scaled service.
pub fn running_all(service: &str, cs: &[ContainerFacts]) -> Judgement {
    let bad: Vec<String> = cs
        .iter()
        .filter(|c| !c.running || c.restarting)
        .map(|c| {
            format!(
                "{} {}",
                c.name,
                if c.restarting {
                    "restarting"
                } else {
                    c.status.as_str()
                }
            )
        })
        .collect();
    if bad.is_empty() {
        pass(format!(
            "all {} containers of {service} are running",
            cs.len()
        ))
    } else {
        fail(format!(
            "{} of {} containers of {service} are not running: {}",
            bad.len(),
            cs.len(),
            bad.join(", ")
        ))
    }
}

/// `healthy` over every container of a scaled service.
pub fn healthy_all(service: &str, cs: &[ContainerFacts]) -> Judgement {
    if cs.iter().any(|c| c.health.is_none()) {
        return fail(format!(
            "{service} has no healthcheck, so Docker cannot tell when it is ready"
        ));
    }
    let bad: Vec<&ContainerFacts> = cs
        .iter()
        .filter(|c| !c.running || c.health.as_ref().is_some_and(|h| h.status != "healthy"))
        .collect();
    let show = |c: &ContainerFacts| {
        if c.running {
            format!(
                "{} {}",
                c.name,
                c.health.as_ref().map(|h| h.status.as_str()).unwrap_or("")
            )
        } else {
            format!("{} {}", c.name, c.status)
        }
    };
    if bad.is_empty() {
        return pass(format!(
            "all {} containers of {service} are healthy",
            cs.len()
        ));
    }
    let mut j = fail(format!(
        "{} of {} containers of {service} are not healthy: {}",
        bad.len(),
        cs.len(),
        bad.iter().map(|c| show(c)).collect::<Vec<_>>().join(", ")
    ));
    if let Some(out) = bad
        .iter()
        .filter_map(|c| c.health.as_ref()?.last_output.clone())
        .find(|o| !o.trim().is_empty())
    {
        j = j.with(format!("last healthcheck output: {}", excerpt(&out, 300)));
    }
    j
}

pub fn replicas(service: &str, min: u32, healthy: bool, cs: &[ContainerFacts]) -> Judgement {
    let good = |c: &ContainerFacts| {
        c.running
            && !c.restarting
            && (!healthy || c.health.as_ref().is_some_and(|h| h.status == "healthy"))
    };
    let n = cs.iter().filter(|c| good(c)).count() as u32;
    let what = if healthy {
        "running and healthy"
    } else {
        "running"
    };
    let others: Vec<String> = cs
        .iter()
        .filter(|c| !good(c))
        .map(|c| match (&c.health, c.running) {
            (Some(h), true) => format!("{} {}", c.name, h.status),
            (None, true) => format!("{} has no healthcheck", c.name),
            _ => format!("{} {}", c.name, c.status),
        })
        .collect();
    if n >= min {
        pass(format!(
            "{n} containers of {service} are {what} (at least {min})"
        ))
    } else {
        let mut msg = format!("{n} of {min} wanted containers of {service} are {what}");
        if !others.is_empty() {
            msg.push_str(&format!(": {}", others.join(", ")));
        }
        fail(msg)
    }
}

pub fn no_shared_network(
    service: &str,
    peer: &str,
    a: &ContainerFacts,
    b: &ContainerFacts,
) -> Judgement {
    let common: Vec<&str> = a
        .networks
        .iter()
        .map(|n| n.name.as_str())
        .filter(|n| b.networks.iter().any(|m| m.name == *n))
        .collect();
    if common.is_empty() {
        pass(format!("{service} and {peer} share no network"))
            .with(format!(
                "{service}: {}",
                a.networks
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .with(format!(
                "{peer}: {}",
                b.networks
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
    } else {
        fail(format!(
            "{service} and {peer} share the network {}",
            common.join(", ")
        ))
    }
}

pub fn env_absent(service: &str, vars: &[String], c: &ContainerFacts) -> Judgement {
    // names only: the values are the secrets this check is about
    let set: Vec<&str> = vars
        .iter()
        .map(String::as_str)
        .filter(|v| c.env_var(v).is_some())
        .collect();
    if set.is_empty() {
        pass(format!("none of {} is set in {service}", vars.join(", ")))
    } else {
        fail(format!("{} set in {service}'s environment (value not shown); anyone who can run `docker inspect` can read it", set.join(", ") + if set.len() == 1 { " is" } else { " are" }))
    }
}

pub fn http_body_excludes(url: &str, status: u16, excludes: &[String], h: &HttpFacts) -> Judgement {
    let Some(got) = h.status else {
        return fail(format!(
            "GET {url} got no response: {}",
            h.error.as_deref().unwrap_or("no error text")
        ));
    };
    if got != status {
        return fail(format!("GET {url} returned {got}, expected {status}"));
    }
    let found: Vec<String> = excludes
        .iter()
        .filter(|e| !e.is_empty())
        .filter_map(|e| {
            let line = h
                .body_excerpt
                .lines()
                .position(|l| l.contains(e.as_str()))?;
            Some(format!(
                "`{e}` on line {}: {}",
                line + 1,
                excerpt(h.body_excerpt.lines().nth(line).unwrap_or(""), 120)
            ))
        })
        .collect();
    if found.is_empty() {
        pass(format!(
            "GET {url} returned {got} and the body has none of {}",
            excludes
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else {
        let mut j = fail(format!(
            "GET {url}: the body contains {}",
            found
                .iter()
                .map(|f| f.split(" on line").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for f in found {
            j = j.with(f);
        }
        j
    }
}

pub fn compose_volume(
    service: &str,
    path: &str,
    project: &str,
    mount: Option<&crate::probe::facts::MountFacts>,
    labels: Option<&Result<std::collections::BTreeMap<String, String>, String>>,
) -> Judgement {
    let Some(m) = mount else {
        return fail(format!("nothing is mounted at {path} in {service}"));
    };
    let name = m.name.clone().unwrap_or_default();
    if m.kind != "volume" {
        return fail(format!(
            "{path} in {service} is a {} mount{}, not a volume compose manages",
            m.kind,
            m.source
                .as_ref()
                .map(|s| format!(" from {s}"))
                .unwrap_or_default()
        ));
    }
    match labels {
        None => fail(format!("{path} in {service} is a volume without a name")),
        Some(Err(e)) => fail(format!("cannot inspect the volume {name}: {e}")),
        Some(Ok(l)) => match l.get(PROJECT_LABEL) {
            Some(p) if p == project => pass(format!(
                "{path} in {service} is the volume {name}, owned by the compose project {project}"
            )),
            Some(p) => fail(format!(
                "the volume {name} belongs to the compose project {p}, not {project}"
            )),
            None => {
                let shown = if l.is_empty() {
                    "no labels".to_string()
                } else {
                    l.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                fail(format!("the volume {name} was not created by this compose project ({shown}): `external: true` or `docker volume create`, so `down -v` will not remove it"))
            }
        },
    }
}

pub fn file_owner(
    path: &str,
    user: &str,
    mode: Option<&str>,
    stat: &Result<(u32, String), String>,
    user_uid: &Result<u32, String>,
) -> Judgement {
    let (uid, got_mode) = match stat {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot stat {path}: {e}")),
    };
    let want = match user_uid {
        Ok(u) => *u,
        Err(e) => {
            return fail(format!(
                "cannot find the uid of {user} in the container: {e}"
            ))
        }
    };
    let who = if *uid == 0 {
        "uid 0 (root)".to_string()
    } else {
        format!("uid {uid}")
    };
    let norm = |m: &str| m.trim_start_matches('0').to_string();
    if *uid != want {
        fail(format!(
            "{path} is owned by {who}, mode {got_mode}; {user} is uid {want}"
        ))
    } else if let Some(m) = mode.filter(|m| norm(m) != norm(got_mode)) {
        fail(format!("{path} has mode {got_mode}, expected {m}"))
    } else {
        pass(format!(
            "{path} is owned by {user} (uid {uid}), mode {got_mode}"
        ))
    }
}

pub fn tarball(
    path: &str,
    contains: &[String],
    dir: &str,
    files: &Result<Vec<String>, String>,
    entries: Option<&Result<Vec<String>, String>>,
) -> Judgement {
    let files = match files {
        Ok(f) => f,
        Err(e) => return fail(format!("cannot list {path}: {e}")),
    };
    let Some(newest) = files.last() else {
        return fail(format!(
            "no file matches {path} (in {dir} on the Docker host)"
        ));
    };
    let entries = match entries {
        Some(Ok(e)) => e,
        Some(Err(e)) => {
            return fail(format!("{newest} is not a readable gzip tar: {e}"))
                .with(format!("in {dir}"))
        }
        None => return fail(format!("{newest} was not read")),
    };
    let norm = |s: &str| s.trim_start_matches("./").trim_end_matches('/').to_string();
    if let Some(missing) = contains
        .iter()
        .find(|c| !entries.iter().any(|e| norm(e) == norm(c)))
    {
        return fail(format!(
            "{newest} ({} entries) lacks {missing}",
            entries.len()
        ))
        .with(format!("in {dir}; files: {}", files.join(", ")));
    }
    pass(format!(
        "{newest} holds {} entries, including {}",
        entries.len(),
        contains.join(", ")
    ))
    .with(format!("in {dir}; {} file(s) match", files.len()))
}

pub fn tcp_blocked(
    from: &str,
    host: &str,
    port: u16,
    resolved: &[String],
    attempts: &[crate::probe::facts::Attempt],
    image: &str,
) -> Judgement {
    let reached: Vec<&str> = attempts
        .iter()
        .filter(|a| a.reached)
        .map(|a| a.target.as_str())
        .collect();
    let mut j = if !resolved.is_empty() {
        fail(format!(
            "`{host}` resolves to {} from {from}",
            resolved.join(", ")
        ))
    } else if !reached.is_empty() {
        fail(format!(
            "{} accepted a connection from {from}",
            reached.join(", ")
        ))
    } else if attempts.is_empty() {
        pass(format!(
            "`{host}` does not resolve from {from}, and {host} has no address to try"
        ))
    } else {
        pass(format!("from {from}, `{host}` does not resolve and none of its addresses accepts a connection on port {port}"))
    };
    for a in attempts {
        j = j.with(format!(
            "{}: {}",
            a.target,
            if a.reached {
                "connected"
            } else {
                "no connection"
            }
        ));
    }
    j.with(format!(
        "checked from a helper container ({image}) in {from}'s network namespace"
    ))
}

fn find_mount<'a>(m: &'a [MountDetail], target: &str) -> Option<&'a MountDetail> {
    m.iter()
        .find(|x| x.destination.trim_end_matches('/') == target.trim_end_matches('/'))
}

pub fn secret_file(service: &str, secret: &str, m: &[MountDetail]) -> Judgement {
    let target = format!("/run/secrets/{secret}");
    match find_mount(m, &target) {
        None => fail(format!("no mount at {target} in {service}")),
        Some(x) if x.rw => fail(format!("{target} in {service} is mounted read-write")),
        Some(x) => pass(format!(
            "{target} is mounted read-only in {service} ({} mount)",
            x.kind
        )),
    }
}

pub fn bind_mount(service: &str, source: &str, target: &str, m: &[MountDetail]) -> Judgement {
    match find_mount(m, target) {
        None if target.ends_with("docker.sock") => {
            fail(format!("nothing is mounted at {target} in {service}: without the Docker API socket it cannot see or restart anything"))
        }
        None => fail(format!("nothing is mounted at {target} in {service}")),
        Some(x) if x.kind != "bind" => fail(format!("{target} in {service} is a {} mount, not a bind mount of {source}", x.kind)),
        Some(x) if x.source != source => fail(format!("{target} in {service} is bound from {}, not {source}", x.source)),
        Some(_) => pass(format!("{source} is bind-mounted at {target} in {service}")),
    }
}

pub fn http_cached(
    url: &str,
    header: &str,
    hit: &str,
    responses: &[Result<(u16, Option<String>), String>],
) -> Judgement {
    let shown: Vec<String> = responses
        .iter()
        .map(|r| match r {
            Ok((s, v)) => format!("{s} {header}: {}", v.as_deref().unwrap_or("(none)")),
            Err(e) => format!("no response ({e})"),
        })
        .collect();
    let j = match responses {
        [Ok((200, _)), Ok((200, Some(v)))] if v.eq_ignore_ascii_case(hit) => {
            pass(format!("the second GET {url} was a cache {hit}"))
        }
        [Ok((200, a)), Ok((200, b))] => fail(format!(
            "{header}: {}, {}: the second GET was not served from the cache",
            a.as_deref().unwrap_or("(none)"),
            b.as_deref().unwrap_or("(none)")
        )),
        _ => fail(format!(
            "GET {url} did not answer 200 twice: {}",
            shown.join("; ")
        )),
    };
    j.with(format!("responses: {}", shown.join("; ")))
}

pub fn redis_key(
    key: &str,
    exists: &Result<i64, String>,
    ttl: Option<i64>,
    via: &str,
) -> Judgement {
    let ttl_s = ttl
        .map(|t| format!("TTL {t}"))
        .unwrap_or_else(|| "TTL unknown".into());
    let j = match exists {
        Ok(1) => pass(format!("the key `{key}` exists ({ttl_s})")),
        Ok(n) => fail(format!(
            "the key `{key}` does not exist (EXISTS {n}, {ttl_s})"
        )),
        Err(e) => fail(format!("cannot ask Redis about `{key}`: {e}")),
    };
    j.with(format!("checked with {via}"))
}

#[allow(clippy::too_many_arguments)]
pub fn http_distinct(
    url: &str,
    field: &str,
    min: u32,
    counts: &std::collections::BTreeMap<String, u32>,
    requests: u32,
    batches: u32,
    failures: &[String],
    secs: f64,
) -> Judgement {
    let shown = format!(
        "{{{}}}",
        counts
            .iter()
            .map(|(k, v)| format!("\"{k}\": {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut j = if counts.len() as u32 >= min {
        pass(format!(
            "{} distinct `{field}` values in {requests} GETs of {url}",
            counts.len()
        ))
    } else {
        fail(format!("only {} distinct `{field}` value(s) in {requests} GETs of {url} over {secs:.1} s, expected at least {min}: {shown}", counts.len()))
    };
    j = j.with(format!(
        "counts: {shown}; {batches} batch(es) in {secs:.1} s"
    ));
    for f in failures {
        j = j.with(format!("failed request: {f}"));
    }
    j
}

pub fn persistence(
    table: &str,
    query: Option<&str>,
    expect: Option<&str>,
    f: &ExtFacts,
) -> Judgement {
    let ExtFacts::Persistence {
        steps,
        marker_after_down,
        table_gone_after_down_v,
        query_after,
        volumes_removed,
        error,
    } = f
    else {
        return fail("internal error: not persistence facts");
    };
    let mut problems = Vec::new();
    match marker_after_down {
        Some(Ok(n)) if n == "1" => {}
        Some(Ok(n)) => problems.push(format!("after `down`/`up` the marker row is gone ({n} rows): the data is not in a volume that survives `down`")),
        Some(Err(e)) => problems.push(format!("after `down`/`up` the marker could not be read: {e}")),
        None => {}
    }
    match table_gone_after_down_v {
        Some(Ok(t)) if t == "true" => {}
        Some(Ok(_)) => problems.push(format!("after `down -v`/`up` the table {table} is still there: `down -v` did not remove the data volume")),
        Some(Err(e)) => problems.push(format!("after `down -v`/`up` the database could not be read: {e}")),
        None => {}
    }
    if let (Some(q), Some(want), Some(got)) = (query, expect, query_after) {
        match got {
            Ok(v) if v.trim() == want.trim() => {}
            Ok(v) => problems.push(format!(
                "after `down -v`/`up`, `{q}` returned `{v}`, expected `{want}`"
            )),
            Err(e) => problems.push(format!("after `down -v`/`up`, `{q}` failed: {e}")),
        }
    }
    let mut j = if let Some(e) = error {
        fail(format!("the drill stopped: {e}"))
    } else if let Some(first) = problems.first() {
        fail(first.clone())
    } else {
        pass(format!("a row in {table} survived `down`/`up`, and `down -v`/`up` started from an empty volume"))
    };
    for p in problems.iter().skip(usize::from(error.is_none())) {
        j = j.with(p.clone());
    }
    for s in steps {
        j = j.with(s.to_string());
    }
    if !volumes_removed.is_empty() {
        j = j.with(format!(
            "the drill deleted {}: re-run your set-up steps (migrations, backups)",
            volumes_removed.join(", ")
        ));
    }
    j
}

#[allow(clippy::too_many_arguments)]
pub fn self_heal(
    service: &str,
    action: HealAction,
    within: u64,
    container: &str,
    down_after: Option<f64>,
    healthy_after: Option<f64>,
    last_state: &str,
    error: Option<&str>,
) -> Judgement {
    let what = match action {
        HealAction::Kill => "killed",
        HealAction::Unhealthy => "made unhealthy",
    };
    if let Some(e) = error {
        return fail(format!("the drill could not start on {service}: {e}"));
    }
    let j = match (down_after, healthy_after) {
        (Some(d), Some(h)) => pass(format!("{container} was {what}, went down after {d:.1} s and was healthy again after {h:.1} s")),
        (None, _) => fail(format!("{container} was {what} but never looked down within {within} s (last state: {last_state})")),
        (Some(d), None) => fail(format!(
            "{container} was {what} (down after {d:.1} s) and was not running and healthy again within {within} s: last state {last_state}"
        )),
    };
    if healthy_after.is_none() {
        j.with("labcheck left the container as it is: whatever should restore it (your manager) did not")
    } else {
        j
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Verdict;
    use crate::probe::facts::{Attempt, HealthFacts, NetworkFacts};
    use std::collections::BTreeMap;

    fn c(name: &str, status: &str, health: Option<&str>) -> ContainerFacts {
        ContainerFacts {
            name: name.into(),
            status: status.into(),
            running: status == "running",
            health: health.map(|h| HealthFacts {
                status: h.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn every_replica_must_run_and_be_healthy() {
        let cs = vec![
            c("p-backend-1", "running", Some("healthy")),
            c("p-backend-2", "created", None),
            c("p-backend-3", "created", None),
        ];
        let j = running_all("backend", &cs);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.message.contains("2 of 3") && j.message.contains("p-backend-2 created"),
            "{}",
            j.message
        );
        let ok = vec![
            c("a", "running", Some("healthy")),
            c("b", "running", Some("healthy")),
        ];
        assert_eq!(running_all("backend", &ok).verdict, Verdict::Pass);
        assert_eq!(healthy_all("backend", &ok).verdict, Verdict::Pass);
        let sick = vec![
            c("a", "running", Some("healthy")),
            c("b", "running", Some("unhealthy")),
        ];
        let j = healthy_all("backend", &sick);
        assert!(
            j.verdict == Verdict::Fail && j.message.contains("b unhealthy"),
            "{}",
            j.message
        );
    }

    #[test]
    fn networks_must_be_disjoint() {
        let mut a = c("nginx", "running", None);
        a.networks = vec![NetworkFacts {
            name: "p_app".into(),
            ip: None,
        }];
        let mut b = c("pg", "running", None);
        b.networks = vec![NetworkFacts {
            name: "p_db".into(),
            ip: None,
        }];
        assert_eq!(
            no_shared_network("nginx", "postgres", &a, &b).verdict,
            Verdict::Pass
        );
        a.networks.push(NetworkFacts {
            name: "p_db".into(),
            ip: None,
        });
        let j = no_shared_network("nginx", "postgres", &a, &b);
        assert!(j.verdict == Verdict::Fail && j.message.contains("p_db"));
    }

    #[test]
    fn env_absent_never_shows_values() {
        let mut x = c("pg", "running", None);
        x.env = vec!["POSTGRES_PASSWORD=hunter2".into(), "A=1".into()];
        let j = env_absent(
            "postgres",
            &["POSTGRES_PASSWORD".into(), "DB_PASSWORD".into()],
            &x,
        );
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.message.contains("POSTGRES_PASSWORD is set") && !j.message.contains("hunter2"),
            "{}",
            j.message
        );
        x.env = vec!["POSTGRES_PASSWORD_FILE=/run/secrets/db".into()];
        assert_eq!(
            env_absent("postgres", &["POSTGRES_PASSWORD".into()], &x).verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn body_excludes_names_the_line() {
        let h = HttpFacts {
            status: Some(200),
            body_excerpt: "const a = 1;\nfetch('http://localhost:5000/api/tasks')\n".into(),
            error: None,
        };
        let j = http_body_excludes(
            "u",
            200,
            &["localhost:5000".into(), "//api:5000".into()],
            &h,
        );
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[0].contains("line 2"), "{:?}", j.evidence);
        let h = HttpFacts {
            status: Some(200),
            body_excerpt: "fetch('/api/tasks')".into(),
            error: None,
        };
        assert_eq!(
            http_body_excludes("u", 200, &["localhost:5000".into()], &h).verdict,
            Verdict::Pass
        );
        let h = HttpFacts {
            status: Some(404),
            body_excerpt: String::new(),
            error: None,
        };
        assert_eq!(
            http_body_excludes("u", 200, &["x".into()], &h).verdict,
            Verdict::Fail
        );
    }

    #[test]
    fn tarball_takes_the_newest_and_wants_every_entry() {
        let files = Ok(vec![
            "pgdata-20260101T000000Z.tar.gz".to_string(),
            "pgdata-20260102T000000Z.tar.gz".to_string(),
        ]);
        let entries = Ok(vec![
            ".".to_string(),
            "PG_VERSION".into(),
            "global".into(),
            "global/pg_control".into(),
        ]);
        let want = ["PG_VERSION".to_string(), "./global/pg_control".into()];
        let j = tarball(
            "backups/pgdata-*.tar.gz",
            &want,
            "/w/backups",
            &files,
            Some(&entries),
        );
        assert!(
            j.verdict == Verdict::Pass && j.message.contains("20260102"),
            "{}",
            j.message
        );
        let j = tarball(
            "b/*.gz",
            &want,
            "/w/b",
            &files,
            Some(&Ok(vec!["PG_VERSION".into()])),
        );
        assert!(
            j.message.contains("lacks ./global/pg_control"),
            "{}",
            j.message
        );
        assert!(tarball("b/*.gz", &want, "/w/b", &Ok(vec![]), None)
            .message
            .contains("no file matches"));
        assert_eq!(
            tarball(
                "b/*.gz",
                &want,
                "/w/b",
                &files,
                Some(&Err("gzip: invalid magic".into()))
            )
            .verdict,
            Verdict::Fail
        );
    }

    #[test]
    fn tcp_blocked_fails_on_a_name_or_a_connection() {
        let no = Attempt {
            target: "172.20.0.2:5432".into(),
            reached: false,
            detail: String::new(),
        };
        assert_eq!(
            tcp_blocked(
                "nginx",
                "postgres",
                5432,
                &[],
                std::slice::from_ref(&no),
                "busybox"
            )
            .verdict,
            Verdict::Pass
        );
        let j = tcp_blocked(
            "nginx",
            "postgres",
            5432,
            &["172.20.0.2".into()],
            std::slice::from_ref(&no),
            "busybox",
        );
        assert_eq!(j.message, "`postgres` resolves to 172.20.0.2 from nginx");
        let yes = Attempt {
            reached: true,
            ..no
        };
        assert!(
            tcp_blocked("nginx", "postgres", 5432, &[], &[yes], "busybox")
                .message
                .contains("accepted a connection")
        );
    }

    #[test]
    fn cache_needs_a_hit_on_the_second_request() {
        let hit = |s: &str| Ok((200u16, Some(s.to_string())));
        assert_eq!(
            http_cached("u", "X-Cache", "HIT", &[hit("MISS"), hit("HIT")]).verdict,
            Verdict::Pass
        );
        assert_eq!(
            http_cached("u", "X-Cache", "HIT", &[hit("HIT"), hit("HIT")]).verdict,
            Verdict::Pass
        );
        let j = http_cached("u", "X-Cache", "HIT", &[hit("MISS"), hit("MISS")]);
        assert!(
            j.verdict == Verdict::Fail && j.message.starts_with("X-Cache: MISS, MISS"),
            "{}",
            j.message
        );
        assert_eq!(
            http_cached("u", "X-Cache", "HIT", &[Err("refused".into())]).verdict,
            Verdict::Fail
        );
    }

    #[test]
    fn redis_and_distinct() {
        assert_eq!(
            redis_key("k", &Ok(1), Some(42), "exec").verdict,
            Verdict::Pass
        );
        assert!(redis_key("k", &Ok(0), Some(-2), "exec")
            .message
            .contains("TTL -2"));
        let mut counts = BTreeMap::new();
        counts.insert("b4af63c1ecb9".to_string(), 132);
        let j = http_distinct("u", "instance", 2, &counts, 132, 11, &[], 10.2);
        assert!(
            j.verdict == Verdict::Fail && j.message.contains("{\"b4af63c1ecb9\": 132}"),
            "{}",
            j.message
        );
        counts.insert("c".into(), 1);
        assert_eq!(
            http_distinct("u", "instance", 2, &counts, 12, 1, &[], 0.1).verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn persistence_needs_both_halves() {
        let f = |a: &str, b: &str, err: Option<&str>| ExtFacts::Persistence {
            steps: vec![],
            marker_after_down: Some(Ok(a.into())),
            table_gone_after_down_v: Some(Ok(b.into())),
            query_after: Some(Ok("1".into())),
            volumes_removed: vec!["p_pgdata".into()],
            error: err.map(String::from),
        };
        let ok = persistence("m", Some("q"), Some("1"), &f("1", "true", None));
        assert_eq!(ok.verdict, Verdict::Pass);
        assert!(ok
            .evidence
            .iter()
            .any(|e| e.starts_with("the drill deleted p_pgdata:")));
        assert!(persistence("m", None, None, &f("0", "true", None))
            .message
            .contains("marker row is gone"));
        assert!(persistence("m", None, None, &f("1", "false", None))
            .message
            .contains("still there"));
        assert!(persistence(
            "m",
            None,
            None,
            &f("1", "true", Some("`docker compose down` failed"))
        )
        .message
        .starts_with("the drill stopped"));
    }

    #[test]
    fn self_heal_needs_down_then_healthy() {
        assert_eq!(
            self_heal(
                "backend",
                HealAction::Kill,
                20,
                "b-1",
                Some(0.3),
                Some(2.7),
                "running, healthy",
                None
            )
            .verdict,
            Verdict::Pass
        );
        let j = self_heal(
            "backend",
            HealAction::Kill,
            20,
            "b-1",
            Some(0.3),
            None,
            "exited (137)",
            None,
        );
        assert!(
            j.verdict == Verdict::Fail && j.message.contains("exited (137)"),
            "{}",
            j.message
        );
        assert_eq!(
            self_heal(
                "backend",
                HealAction::Unhealthy,
                30,
                "b-1",
                None,
                None,
                "running, healthy",
                None
            )
            .verdict,
            Verdict::Fail
        );
    }
}

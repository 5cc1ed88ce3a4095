//! Verdicts: pure functions from a check's spec and what its probe observed.

pub mod ext;
pub mod image;
#[cfg(test)]
mod tests;

use crate::lab::Kind;
use crate::probe::facts::*;

pub use crate::verdict::{excerpt, fail, pass, Judgement, Verdict};

const USER_NETWORKS_EXCLUDED: &[&str] = &["bridge", "host", "none"];

/// Judge one check. `observed` must come from the probe for this kind.
pub fn judge(kind: &Kind, observed: &Observed) -> Judgement {
    match observed {
        Observed::Missing(unit) => return fail(format!("`{unit}` has no container")),
        Observed::ProbeError(e) => return fail(e.clone()),
        _ => {}
    }
    match (kind, observed) {
        (Kind::Running { service }, Observed::Container(c)) => running(service, c),
        (Kind::Healthy { service }, Observed::Container(c)) => healthy(service, c),
        (Kind::SharedNetwork { service, peer }, Observed::Pair(a, b)) => {
            shared_network(service, peer, a, b)
        }
        (Kind::Resolves { from, name }, Observed::Resolve(r)) => resolves(from, name, r),
        (Kind::Tcp { from, host, port }, Observed::Connect(c)) => tcp(from, host, *port, c),
        (
            Kind::DependsOn {
                service,
                on,
                condition,
            },
            Observed::DependsOn(d),
        ) => depends_on(service, on, condition, d),
        (
            Kind::Published {
                service,
                container_port,
                host_port,
                host_ip,
            },
            Observed::Container(c),
        ) => published(
            service,
            &container_port.to_string(),
            *host_port,
            host_ip.as_deref(),
            c,
        ),
        (
            Kind::NotPublished {
                service,
                container_port,
            },
            Observed::Container(c),
        ) => not_published(
            service,
            container_port.as_ref().map(|p| p.to_string()).as_deref(),
            c,
        ),
        (
            Kind::Volume {
                service,
                path,
                named,
            },
            Observed::Container(c),
        ) => volume(service, path, *named, c),
        (
            Kind::Env {
                service,
                var,
                equals,
                not,
            },
            Observed::Container(c),
        ) => env(service, var, equals.as_deref(), not, c),
        (
            Kind::Http {
                url,
                status,
                body_contains,
            },
            Observed::Http(h),
        ) => http(url, *status, body_contains.as_deref(), h),
        (
            Kind::Postgres {
                query,
                expect,
                min_rows,
                ..
            },
            Observed::Postgres(p),
        ) => postgres(query, expect.as_deref(), *min_rows, p),
        (
            Kind::Network {
                network: name,
                driver,
            },
            Observed::Network(n),
        ) => network(name, driver, n.as_ref()),
        (
            Kind::Attached {
                service,
                networks,
                only,
            },
            Observed::Container(c),
        ) => attached(service, networks, *only, c),
        (Kind::NetworkExcludes { network, .. }, Observed::Many(cs)) => {
            network_excludes(network, cs)
        }
        (
            Kind::Isolated {
                service, network, ..
            },
            Observed::Isolation(i),
        ) => isolated(service, network, i),
        (Kind::Running { service }, Observed::Ext(x)) => ext::scaled(true, service, x),
        (Kind::Healthy { service }, Observed::Ext(x)) => ext::scaled(false, service, x),
        (Kind::Ext(e), o) => ext::judge(e, o),
        (Kind::Image(i), o) => image::judge(i, o),
        (k, o) => fail(format!(
            "internal error: probe result {o:?} does not fit check kind {}",
            k.name()
        )),
    }
}

fn state_line(c: &ContainerFacts) -> String {
    match (c.status.as_str(), c.exit_code) {
        ("exited", Some(code)) => format!("exited with code {code}"),
        (s, _) => s.to_string(),
    }
}

pub fn running(service: &str, c: &ContainerFacts) -> Judgement {
    if c.running && !c.restarting {
        pass(format!("{service} is running ({})", c.name))
    } else if c.restarting {
        fail(format!(
            "{service} is restarting (it keeps exiting; last exit code {})",
            c.exit_code.unwrap_or_default()
        ))
    } else {
        fail(format!("{service} is not running: {}", state_line(c)))
    }
}

pub fn healthy(service: &str, c: &ContainerFacts) -> Judgement {
    let Some(h) = &c.health else {
        return fail(format!(
            "{service} has no healthcheck, so Docker cannot tell when it is ready"
        ));
    };
    if !c.running {
        return fail(format!(
            "{service} is not running ({}), so it cannot be healthy",
            state_line(c)
        ));
    }
    let mut j = if h.status == "healthy" {
        pass(format!("{service} is healthy"))
    } else if h.status == "starting" {
        fail(format!(
            "{service} is still starting (its healthcheck has not passed yet)"
        ))
    } else {
        fail(format!(
            "{service} is {} (failing streak {})",
            h.status, h.failing_streak
        ))
    };
    if let Some(out) = h.last_output.as_deref().filter(|o| !o.trim().is_empty()) {
        let code = h
            .last_exit_code
            .map(|c| format!(" (exit {c})"))
            .unwrap_or_default();
        j = j.with(format!(
            "last healthcheck output{code}: {}",
            excerpt(out, 300)
        ));
    }
    j
}

fn user_networks(c: &ContainerFacts) -> Vec<&str> {
    c.networks
        .iter()
        .map(|n| n.name.as_str())
        .filter(|n| !USER_NETWORKS_EXCLUDED.contains(n))
        .collect()
}

pub fn shared_network(
    service: &str,
    peer: &str,
    a: &ContainerFacts,
    b: &ContainerFacts,
) -> Judgement {
    let na = user_networks(a);
    let nb = user_networks(b);
    let common: Vec<&str> = na.iter().copied().filter(|n| nb.contains(n)).collect();
    if let Some(first) = common.first() {
        pass(format!("{service} and {peer} share the network {first}"))
    } else {
        let show = |v: &[&str], c: &ContainerFacts| {
            if v.is_empty() {
                let all: Vec<&str> = c.networks.iter().map(|n| n.name.as_str()).collect();
                format!(
                    "no user-defined network (on: {})",
                    if all.is_empty() {
                        "nothing".into()
                    } else {
                        all.join(", ")
                    }
                )
            } else {
                v.join(", ")
            }
        };
        fail(format!(
            "{service} and {peer} share no user-defined network"
        ))
        .with(format!("{service}: {}", show(&na, a)))
        .with(format!("{peer}: {}", show(&nb, b)))
    }
}

pub fn resolves(from: &str, name: &str, r: &ResolveFacts) -> Judgement {
    let j = if r.addresses.is_empty() {
        let mut j = fail(format!("`{name}` does not resolve inside {from}"));
        if !r.detail.trim().is_empty() {
            j = j.with(format!("output: {}", excerpt(&r.detail, 200)));
        }
        j
    } else {
        pass(format!(
            "`{name}` resolves inside {from} to {}",
            r.addresses.join(", ")
        ))
    };
    j.with(format!("checked with {}", r.via))
}

pub fn tcp(from: &str, host: &str, port: u16, c: &ConnectFacts) -> Judgement {
    let j = if c.connected {
        pass(format!("{from} connects to {host}:{port}"))
    } else {
        let detail = if c.detail.trim().is_empty() {
            String::new()
        } else {
            format!(": {}", excerpt(&c.detail, 200))
        };
        fail(format!("{from} cannot connect to {host}:{port}{detail}"))
    };
    j.with(format!("checked with {}", c.via))
}

pub fn depends_on(service: &str, on: &str, condition: &str, d: &DependsFacts) -> Judgement {
    match d {
        DependsFacts::Unknown { reason } => Judgement {
            verdict: Verdict::Unknown,
            message: format!("cannot tell whether {service} depends on {on}: {reason}"),
            evidence: vec![],
        },
        DependsFacts::Known { source, entries } => {
            let j = match entries.iter().find(|e| e.on == on) {
                Some(e) if e.condition == condition => {
                    pass(format!("{service} depends on {on} ({condition})"))
                }
                Some(e) => fail(format!(
                    "{service} depends on {on} with condition {}, not {condition}",
                    e.condition
                )),
                None if entries.is_empty() => fail(format!(
                    "{service} has no depends_on at all; it needs {on} ({condition})"
                )),
                None => fail(format!(
                    "{service} does not depend on {on} (it depends on {})",
                    entries
                        .iter()
                        .map(|e| e.on.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            j.with(format!("read from {source}"))
        }
    }
}

fn bindings<'a>(c: &'a ContainerFacts, port: &str) -> Vec<&'a PortFacts> {
    c.ports
        .iter()
        .filter(|p| p.container_port == port)
        .collect()
}

fn show_binding(p: &PortFacts) -> String {
    let ip = if p.host_ip.is_empty() {
        "0.0.0.0"
    } else {
        p.host_ip.as_str()
    };
    format!("{ip}:{} -> {}", p.host_port, p.container_port)
}

pub fn published(
    service: &str,
    port: &str,
    host_port: Option<u16>,
    host_ip: Option<&str>,
    c: &ContainerFacts,
) -> Judgement {
    let b = bindings(c, port);
    if b.is_empty() {
        let others: Vec<String> = c.ports.iter().map(show_binding).collect();
        let mut j = fail(format!(
            "{service}'s port {port} is not published to the host"
        ));
        if !others.is_empty() {
            j = j.with(format!("published instead: {}", others.join(", ")));
        }
        return j;
    }
    let shown = b
        .iter()
        .map(|p| show_binding(p))
        .collect::<Vec<_>>()
        .join(", ");
    let port_ok = |p: &PortFacts| host_port.map_or(true, |hp| p.host_port == hp.to_string());
    let ip_ok = |p: &PortFacts| {
        host_ip.map_or(true, |ip| {
            p.host_ip == ip || (p.host_ip.is_empty() && ip == "0.0.0.0")
        })
    };
    // Every binding must match: `-p 127.0.0.1:8080:80 -p 8080:80` is also public.
    if b.iter().all(|p| port_ok(p) && ip_ok(p)) {
        pass(format!("{service}'s port {port} is published ({shown})"))
    } else {
        let want = format!(
            "{}:{}",
            host_ip.unwrap_or("*"),
            host_port
                .map(|p| p.to_string())
                .unwrap_or_else(|| "*".into())
        );
        fail(format!(
            "{service}'s port {port} is published as {shown}, expected {want}"
        ))
    }
}

pub fn not_published(service: &str, port: Option<&str>, c: &ContainerFacts) -> Judgement {
    let b: Vec<&PortFacts> = match port {
        Some(p) => bindings(c, p),
        None => c.ports.iter().collect(),
    };
    let what = port
        .map(|p| format!("port {p}"))
        .unwrap_or_else(|| "any port".into());
    if b.is_empty() {
        pass(format!("{service} does not publish {what} to the host"))
    } else {
        fail(format!(
            "{service} publishes {} to the host: anyone who can reach this machine can try it",
            b.iter()
                .map(|p| show_binding(p))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

pub fn volume(service: &str, path: &str, named: bool, c: &ContainerFacts) -> Judgement {
    let norm = |p: &str| p.trim_end_matches('/').to_string();
    let Some(m) = c.mounts.iter().find(|m| norm(&m.destination) == norm(path)) else {
        let mut j = fail(format!("nothing is mounted at {path} in {service}: its data lives in the container and dies with it"));
        if !c.mounts.is_empty() {
            j = j.with(format!(
                "mounts: {}",
                c.mounts
                    .iter()
                    .map(|m| m.destination.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        return j;
    };
    let is_named = m.kind == "volume" && m.name.as_deref().is_some_and(|n| !looks_anonymous(n));
    if !named {
        return pass(format!("{path} in {service} is a {} mount", m.kind));
    }
    if is_named {
        pass(format!(
            "{path} in {service} is the named volume {}",
            m.name.as_deref().unwrap_or_default()
        ))
    } else if m.kind == "volume" {
        fail(format!(
            "{path} in {service} is an anonymous volume; name it in the top-level `volumes:`"
        ))
    } else {
        fail(format!(
            "{path} in {service} is a {} mount ({}), not a named volume",
            m.kind,
            m.source.as_deref().unwrap_or("?")
        ))
    }
}

/// Docker names anonymous volumes with 64 hex digits.
fn looks_anonymous(name: &str) -> bool {
    name.len() == 64 && name.chars().all(|c| c.is_ascii_hexdigit())
}

pub fn env(
    service: &str,
    var: &str,
    equals: Option<&str>,
    not: &[String],
    c: &ContainerFacts,
) -> Judgement {
    let Some(value) = c.env_var(var) else {
        return fail(format!("{var} is not set in {service}"));
    };
    let shown = shown_value(var, value);
    if let Some(want) = equals {
        if value != want {
            let want = shown_value(var, want);
            return fail(format!("{var} in {service} is {shown}, expected {want}"));
        }
    }
    if not.iter().any(|n| n == value) {
        return fail(format!(
            "{var} in {service} is {shown}, which cannot work here"
        ));
    }
    pass(format!("{var} in {service} is {shown}"))
}

/// How a variable's value appears in a report: quoted, unless its name says it is a secret
/// (reports end up in CI logs and gradebooks), then only its length.
fn shown_value(var: &str, value: &str) -> String {
    let upper = var.to_ascii_uppercase();
    let secret = ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL"]
        .iter()
        .any(|w| upper.contains(w));
    if secret {
        format!("set (hidden, {} characters)", value.chars().count())
    } else {
        format!("`{value}`")
    }
}

pub fn http(url: &str, status: u16, body_contains: Option<&str>, h: &HttpFacts) -> Judgement {
    let Some(got) = h.status else {
        return fail(format!(
            "GET {url} got no response: {}",
            h.error.as_deref().unwrap_or("no error text")
        ));
    };
    let body = if h.body_excerpt.is_empty() {
        "(empty body)".to_string()
    } else {
        excerpt(&h.body_excerpt, 200)
    };
    if got != status {
        return fail(format!("GET {url} returned {got}, expected {status}"))
            .with(format!("body: {body}"));
    }
    if let Some(needle) = body_contains {
        if !h.body_excerpt.contains(needle) {
            return fail(format!(
                "GET {url} returned {got} but the body lacks `{needle}`"
            ))
            .with(format!("body: {body}"));
        }
    }
    pass(format!("GET {url} returned {got}")).with(format!("body: {body}"))
}

pub fn postgres(
    query: &str,
    expect: Option<&str>,
    min_rows: Option<u64>,
    p: &PgFacts,
) -> Judgement {
    let rows = match &p.rows {
        Err(e) => {
            return fail(format!("the query could not run on {}: {e}", p.endpoint))
                .with(format!("query: {query}"))
        }
        Ok(rows) => rows,
    };
    let first = rows.first().and_then(|r| r.first()).cloned().flatten();
    let j = if let Some(want) = expect {
        match first.as_deref() {
            Some(v) if v.trim() == want.trim() => pass(format!("the query returned `{v}`")),
            Some(v) => fail(format!("the query returned `{v}`, expected `{want}`")),
            None if rows.is_empty() => {
                fail(format!("the query returned no rows, expected `{want}`"))
            }
            None => fail(format!("the query returned NULL, expected `{want}`")),
        }
    } else if let Some(min) = min_rows {
        let n = rows.len() as u64;
        if n >= min {
            pass(format!("the query returned {n} row(s) (at least {min})"))
        } else {
            fail(format!(
                "the query returned {n} row(s), expected at least {min}"
            ))
        }
    } else {
        pass(format!("the query ran ({} row(s))", rows.len()))
    };
    j.with(format!("query: {query}"))
        .with(format!("on {}", p.endpoint))
}

pub fn network(name: &str, driver: &str, n: Option<&NetFacts>) -> Judgement {
    let Some(n) = n else {
        return fail(format!("no such network: {name}"));
    };
    if n.default_bridge || USER_NETWORKS_EXCLUDED.contains(&n.name.as_str()) {
        return fail(format!(
            "{name} is one of Docker's predefined networks, not a user-defined one"
        ));
    }
    if n.driver != driver {
        return fail(format!(
            "{name} exists with driver={}, expected {driver}",
            n.driver
        ));
    }
    pass(format!("{name} is a user-defined {driver} network"))
}

pub fn attached(service: &str, networks: &[String], only: bool, c: &ContainerFacts) -> Judgement {
    let on: Vec<&str> = c.networks.iter().map(|n| n.name.as_str()).collect();
    let missing: Vec<&str> = networks
        .iter()
        .map(String::as_str)
        .filter(|n| !on.contains(n))
        .collect();
    let extra: Vec<&str> = on
        .iter()
        .copied()
        .filter(|n| !networks.iter().any(|w| w == n))
        .collect();
    let shown = format!("on [{}]", on.join(", "));
    if !missing.is_empty() {
        fail(format!(
            "{service} is not on {} ({shown})",
            missing.join(", ")
        ))
    } else if only && !extra.is_empty() {
        fail(format!(
            "{service} is also on {} ({shown})",
            extra.join(", ")
        ))
    } else {
        pass(format!("{service} is {shown}"))
    }
}

pub fn network_excludes(network: &str, cs: &[(String, Option<Box<ContainerFacts>>)]) -> Judgement {
    let on: Vec<&str> = cs
        .iter()
        .filter(|(_, c)| {
            c.as_ref()
                .is_some_and(|c| c.networks.iter().any(|n| n.name == network))
        })
        .map(|(name, _)| name.as_str())
        .collect();
    if on.is_empty() {
        pass(format!(
            "none of {} is on {network}",
            cs.iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else {
        fail(format!("on {network}: {}", on.join(", ")))
    }
}

pub fn isolated(service: &str, network: &str, i: &IsolationFacts) -> Judgement {
    let reached: Vec<&Attempt> = i.attempts.iter().filter(|a| a.reached).collect();
    let mut j = if !reached.is_empty() {
        fail(format!(
            "from {network}, {service} is reachable: {}",
            reached
                .iter()
                .map(|a| if a.detail.contains("->") {
                    a.detail.clone()
                } else {
                    format!("reached {}", a.target)
                })
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else if i.attempts.is_empty() {
        fail(format!("{service} has no address to try"))
    } else {
        pass(format!(
            "a container on {network} alone cannot reach {service}"
        ))
    };
    for a in &i.attempts {
        j = j.with(format!(
            "{}: {}{}",
            a.target,
            if a.reached { "reached" } else { "not reached" },
            if a.detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", excerpt(&a.detail, 120))
            }
        ));
    }
    j.with(format!(
        "checked from a helper container ({}) attached to {network} only",
        i.image
    ))
}

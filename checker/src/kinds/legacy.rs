//! The kinds not yet moved into a file of their own, dispatched the old way: `lab::Kind`
//! observed into `Observed`, judged by `check::judge`. Each kind that moves leaves this file;
//! the file goes when the last one has.

use super::Judgement;
use crate::lab::ext::ExtKind;
use crate::lab::Kind;
use crate::probe::cx::ProbeCx;
use crate::probe::facts::Observed;
use crate::probe::net::NetRequest;
use crate::probe::{compose, http, net, postgres};
use crate::see::SeeCx;

pub fn describe(k: &Kind) -> String {
    k.describe()
}
pub fn units(k: &Kind) -> Vec<&str> {
    k.units()
}
pub fn judges_missing_units(k: &Kind) -> bool {
    matches!(k, Kind::Running { .. } | Kind::NetworkExcludes { .. })
}
pub fn is_drill(k: &Kind) -> bool {
    k.is_drill()
}
pub fn leaves_state(k: &Kind) -> bool {
    k.leaves_state()
}
pub fn host_ports(k: &Kind) -> Vec<u16> {
    let url = match k {
        Kind::Http { url, .. }
        | Kind::Ext(
            ExtKind::HttpBodyExcludes { url, .. }
            | ExtKind::HttpCached { url, .. }
            | ExtKind::HttpDistinct { url, .. },
        ) => url,
        _ => return vec![],
    };
    http::local_port(url).into_iter().collect()
}
pub fn net_request(k: &Kind) -> Option<NetRequest> {
    match k {
        Kind::Resolves { from, name } => Some(NetRequest::Resolve {
            from: from.clone(),
            name: name.clone(),
        }),
        Kind::Tcp { from, host, port } => Some(NetRequest::Connect {
            from: from.clone(),
            host: host.clone(),
            port: *port,
        }),
        _ => None,
    }
}
pub fn see(k: &Kind, cx: &SeeCx<'_>) -> String {
    crate::see::command(k, cx.project, cx.name)
}

pub async fn evaluate(kind: &Kind, cx: &ProbeCx<'_>) -> Judgement {
    let observed = observe(kind, cx).await;
    let j = crate::check::judge(kind, &observed);
    match &observed {
        Observed::Missing(unit) => cx.missing(unit),
        _ => j,
    }
}

async fn observe(kind: &Kind, cx: &ProbeCx<'_>) -> Observed {
    let (docker, t) = (cx.docker(), cx.timeouts());
    let container = |unit: &str| crate::probe::facts::unit_container(cx.facts, unit);
    let running = |unit: &str| crate::probe::facts::unit_running(cx.facts, unit);
    let one = |unit: &str| {
        container(unit)
            .map(|c| Observed::Container(Box::new(c.clone())))
            .unwrap_or_else(|o| o)
    };
    match kind {
        Kind::Running { service } | Kind::Healthy { service } => match cx.scaled(service) {
            Some(all) => Observed::Ext(Box::new(crate::probe::ext_facts::ExtFacts::Replicas {
                service: service.clone(),
                containers: all.to_vec(),
            })),
            None => one(service),
        },
        Kind::Published { service, .. }
        | Kind::NotPublished { service, .. }
        | Kind::Volume { service, .. }
        | Kind::Env { service, .. }
        | Kind::Attached { service, .. } => one(service),
        Kind::SharedNetwork { service, peer } => match (container(service), container(peer)) {
            (Ok(a), Ok(b)) => Observed::Pair(Box::new(a.clone()), Box::new(b.clone())),
            (Err(o), _) | (_, Err(o)) => o,
        },
        Kind::Resolves { from, name } => match running(from) {
            Ok(_) => match cx.resolve(from, name).await {
                Ok(r) => Observed::Resolve(r),
                Err(j) => Observed::ProbeError(j.message),
            },
            Err(o) => o,
        },
        Kind::Tcp { from, host, port } => match running(from) {
            Ok(_) => match cx.connect(from, host, *port).await {
                Ok(r) => Observed::Connect(r),
                Err(j) => Observed::ProbeError(j.message),
            },
            Err(o) => o,
        },
        Kind::DependsOn { service, .. } => match container(service) {
            Ok(c) => Observed::DependsOn(compose::depends_on(c)),
            Err(o) => o,
        },
        Kind::Http { url, .. } => {
            let url = http::effective_url(url, cx.http_host);
            Observed::Http(http::get(&cx.http, &url).await)
        }
        Kind::Postgres { service, query, .. } => match running(service) {
            Ok(c) => Observed::Postgres(
                postgres::query_anywhere(docker, t, cx.endpoint(), c, query).await,
            ),
            Err(o) => o,
        },
        Kind::Ext(x) => crate::probe::ext::observe(&cx.env(), x).await,
        Kind::Image(x) => match container(x.units()[0]) {
            Ok(c) => crate::probe::image::observe(docker, t, x, c).await,
            Err(o) => o,
        },
        Kind::Network { network, .. } => match net::network(docker, t, network).await {
            Ok(n) => Observed::Network(n),
            Err(err) => Observed::ProbeError(err),
        },
        Kind::NetworkExcludes { services, .. } => {
            let mut all = Vec::new();
            for s in services {
                match container(s) {
                    Ok(c) => all.push((s.clone(), Some(Box::new(c.clone())))),
                    Err(Observed::Missing(_)) => all.push((s.clone(), None)),
                    Err(o) => return o,
                }
            }
            Observed::Many(all)
        }
        Kind::Isolated {
            network,
            service,
            via,
            name,
            port,
            timeout_secs,
        } => match container(service) {
            Ok(c) => {
                let addresses: Vec<String> =
                    c.networks.iter().filter_map(|n| n.ip.clone()).collect();
                let probe = net::Isolation {
                    network,
                    via: *via,
                    name,
                    port: *port,
                    timeout_secs: *timeout_secs,
                };
                match net::isolated(docker, t, probe, &addresses).await {
                    Ok(i) => Observed::Isolation(i),
                    Err(err) => Observed::ProbeError(err),
                }
            }
            Err(o) => o,
        },
    }
}

/// Lets the loader's tests compare a loaded kind with a legacy one.
#[cfg(test)]
impl PartialEq<Kind> for super::Kind {
    fn eq(&self, other: &Kind) -> bool {
        matches!(self, super::Kind::Legacy(k) if **k == *other)
    }
}

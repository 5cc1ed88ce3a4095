//! Reaching a service from inside a container: `resolves` and `tcp` (a name lookup and a TCP
//! connect, batched by the probe context with the other lookups from the same container), and
//! `tcp_blocked` (neither works, tried from a helper in the container's network namespace).

use bollard::Docker;
use serde::{Deserialize, Deserializer};

use super::{excerpt, fail, pass, CheckKind, Judgement, Port};
use crate::probe::cx::ProbeCx;
use crate::probe::facts::{Attempt, ConnectFacts, ResolveFacts};
use crate::probe::helper::HelperNet;
use crate::probe::net::NetRequest;
use crate::probe::race::{self, Tries};
use crate::probe::Timeouts;
use crate::see::SeeCx;

/// `name` resolves inside `from`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolves {
    pub from: String,
    pub name: String,
}

/// `from` can open a TCP connection to `host:port`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tcp {
    pub from: String,
    pub host: String,
    pub port: Port,
}

impl CheckKind for Resolves {
    const NAME: &'static str = "resolves";
    type Facts = ResolveFacts;

    fn describe(&self) -> String {
        format!("`{}` resolves inside {}", self.name, self.from)
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.from]
    }
    fn net_request(&self) -> Option<NetRequest> {
        Some(NetRequest::Resolve {
            from: self.from.clone(),
            name: self.name.clone(),
        })
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        cx.resolve(&self.from, &self.name).await
    }
    fn judge(&self, r: &Self::Facts) -> Judgement {
        let (from, name) = (&self.from, &self.name);
        let j = if r.addresses.is_empty() {
            let mut j = fail(format!("`{name}` does not resolve inside {from}"));
            if !r.detail.trim().is_empty() {
                j = j.with(format!("output: {}", excerpt(&r.detail, 200)));
            }
            j
        } else {
            // a name can answer with thousands of addresses: a few say enough
            let shown = r.addresses.len().min(6);
            let more = match r.addresses.len() - shown {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            pass(format!(
                "`{name}` resolves inside {from} to {}{more}",
                r.addresses[..shown].join(", ")
            ))
        };
        j.with(format!("checked with {}", r.via))
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        cx.exec(
            &self.from,
            &format!("getent hosts {}", cx.quote(&self.name)),
        )
    }
}

impl CheckKind for Tcp {
    const NAME: &'static str = "tcp";
    type Facts = ConnectFacts;

    fn describe(&self) -> String {
        format!(
            "{} can open a TCP connection to {}:{}",
            self.from, self.host, self.port
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.from]
    }
    fn net_request(&self) -> Option<NetRequest> {
        Some(NetRequest::Connect {
            from: self.from.clone(),
            host: self.host.clone(),
            port: self.port.0,
        })
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        cx.connect(&self.from, &self.host, self.port.0).await
    }
    fn judge(&self, c: &Self::Facts) -> Judgement {
        let (from, host, port) = (&self.from, &self.host, self.port);
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
    fn see(&self, cx: &SeeCx<'_>) -> String {
        cx.exec(
            &self.from,
            &format!(
                "python3 -c 'import socket; socket.create_connection((\"{}\", {}), timeout=3); print(\"connected\")'",
                self.host, self.port
            ),
        )
    }
}

/// From inside `from`, `host` does not resolve and none of its addresses accepts a
/// connection on `port`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpBlocked {
    pub from: String,
    pub host: String,
    pub port: Port,
    /// Seconds each connection attempt waits.
    #[serde(default)]
    pub timeout: Secs,
}

/// How long a blocked-path probe waits per attempt: 1 to 30 seconds, 2 unless given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secs(pub u64);

impl Default for Secs {
    fn default() -> Secs {
        Secs(2)
    }
}

impl<'de> Deserialize<'de> for Secs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        if (1..=30).contains(&n) {
            Ok(Secs(n as u64))
        } else {
            Err(serde::de::Error::custom(format!(
                "timeout = {n} must be 1 to 30 seconds"
            )))
        }
    }
}

/// What `tcp_blocked` tried from inside the container's namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocked {
    /// What `host` resolved to.
    pub resolved: Vec<String>,
    /// A connection to each resolved address and each of `host`'s own addresses.
    pub attempts: Vec<Attempt>,
    /// The helper's image.
    pub image: String,
}

impl CheckKind for TcpBlocked {
    const NAME: &'static str = "tcp_blocked";
    type Facts = Blocked;

    fn describe(&self) -> String {
        let (from, host, port) = (&self.from, &self.host, self.port);
        format!("from inside {from}, `{host}` does not resolve and no address of {host} accepts a connection on port {port}")
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.from, &self.host]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        let c = cx.running(&self.from)?;
        // the host service's own addresses, whether or not its name resolves
        let addresses: Vec<String> = match cx.container(&self.host) {
            Ok(h) => h.addresses(),
            Err(_) => vec![],
        };
        let (docker, t) = (cx.docker(), cx.timeouts());
        let to = (cx.yours(&self.host), self.port.0);
        blocked(docker, t, &c.id, to, &addresses, self.timeout.0)
            .await
            .map_err(fail)
    }
    fn judge(&self, b: &Self::Facts) -> Judgement {
        let (from, host, port) = (&self.from, &self.host, self.port);
        let reached: Vec<&str> = b
            .attempts
            .iter()
            .filter(|a| a.reached)
            .map(|a| a.target.as_str())
            .collect();
        let mut j = if !b.resolved.is_empty() {
            fail(format!(
                "`{host}` resolves to {} from {from}",
                b.resolved.join(", ")
            ))
        } else if !reached.is_empty() {
            fail(format!(
                "{} accepted a connection from {from}",
                reached.join(", ")
            ))
        } else if b.attempts.is_empty() {
            pass(format!(
                "`{host}` does not resolve from {from}, and {host} has no address to try"
            ))
        } else {
            pass(format!("from {from}, `{host}` does not resolve and none of its addresses accepts a connection on port {port}"))
        };
        for a in &b.attempts {
            let seen = if a.reached {
                "connected"
            } else {
                "no connection"
            };
            j = j.with(format!("{}: {seen}", a.target));
        }
        j.with(format!(
            "checked from a helper container ({}) in {from}'s network namespace",
            b.image
        ))
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        let (host, port) = (&self.host, self.port);
        format!(
            "docker run --rm --network container:{} busybox sh -c 'nslookup {host}; nc -w 2 <an address of {host}> {port} -e true && echo connected'",
            cx.name(&self.from)
        )
    }
}

/// From a one-shot helper in container `id`'s network namespace: look `host` up and, at the
/// same time, race a connection to every one of `addresses` ([`race::from`]); then, in a
/// second helper, to any other address the name resolved to (rare: a name that leads
/// elsewhere).
pub async fn blocked(
    docker: &Docker,
    t: &Timeouts,
    id: &str,
    (host, port): (&str, u16),
    addresses: &[String],
    secs: u64,
) -> Result<Blocked, String> {
    let net = HelperNet::ContainerOf(id);
    let tries = Tries {
        names: vec![host.to_string()],
        targets: addresses.iter().map(|a| (a.clone(), port)).collect(),
        secs,
        server: None,
    };
    let seen = race::from(docker, t, net, &tries)
        .await
        .map_err(|e| format!("looking up {host}: {e}"))?;
    let resolved = seen.resolved.get(host).cloned().unwrap_or_default();
    let mut attempts = seen.attempts;
    let others: Vec<(String, u16)> = resolved
        .iter()
        .filter(|a| !addresses.contains(a))
        .map(|a| (a.clone(), port))
        .collect();
    if !others.is_empty() {
        let tries = Tries {
            names: vec![],
            targets: others,
            ..tries
        };
        attempts.extend(race::from(docker, t, net, &tries).await?.attempts);
    }
    Ok(Blocked {
        resolved,
        attempts,
        image: seen.image,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{invalid, kind};
    use crate::kinds::Verdict;
    use crate::probe::facts::Via;

    #[test]
    fn resolves_passes_with_an_address_and_says_when_a_helper_was_used() {
        let k: Resolves = kind("from = 'web'\nname = 'db'");
        let r = ResolveFacts {
            addresses: vec!["172.20.0.2".into()],
            via: Via::Helper("busybox".into()),
            detail: String::new(),
        };
        let j = k.judge(&r);
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(j.message, "`db` resolves inside web to 172.20.0.2");
        assert!(
            j.evidence
                .iter()
                .any(|e| e.contains("helper container (busybox)")),
            "{:?}",
            j.evidence
        );
        let r = ResolveFacts {
            addresses: vec![],
            via: Via::Exec("getent hosts".into()),
            detail: "  nothing found\n".into(),
        };
        let j = k.judge(&r);
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(j.evidence[0], "output: nothing found");
    }

    #[test]
    fn tcp_reports_the_tool_error() {
        let k: Tcp = kind("from = 'web'\nhost = 'db'\nport = 5432");
        let ok = ConnectFacts {
            connected: true,
            via: Via::Exec("python3".into()),
            detail: String::new(),
        };
        assert_eq!(k.judge(&ok).verdict, Verdict::Pass);
        let bad = ConnectFacts {
            connected: false,
            via: Via::Exec("python3".into()),
            detail: "ConnectionRefusedError: [Errno 111] Connection refused".into(),
        };
        let j = k.judge(&bad);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.message.contains("Connection refused"), "{}", j.message);
        assert_eq!(j.evidence, ["checked with exec `python3` in the container"]);
    }

    #[test]
    fn lookups_and_connects_are_batched_requests() {
        let k: Resolves = kind("from = 'web'\nname = 'db'");
        assert_eq!(
            k.net_request(),
            Some(NetRequest::Resolve {
                from: "web".into(),
                name: "db".into()
            })
        );
        let k: Tcp = kind("from = 'web'\nhost = 'db'\nport = 5432");
        assert_eq!(
            k.net_request(),
            Some(NetRequest::Connect {
                from: "web".into(),
                host: "db".into(),
                port: 5432
            })
        );
        assert_eq!(k.units(), ["web"]);
        assert_eq!(k.describe(), "web can open a TCP connection to db:5432");
    }

    #[test]
    fn fields_are_checked() {
        let e = invalid::<Tcp>("from = 'web'\nhost = 'db'\nport = 70000");
        assert_eq!(e[0].field.as_deref(), Some("port"));
        assert!(e[0].message.contains("70000 is not a port"), "{e:?}");
        let e = invalid::<Tcp>("from = 'web'\nhost = 'db'");
        assert!(e[0].message.contains("missing field `port`"), "{e:?}");
        let e = invalid::<Resolves>("from = 'web'\nhost = 'db'");
        assert_eq!(e[0].field.as_deref(), Some("host"));
    }

    #[test]
    fn tcp_blocked_fails_on_a_name_or_a_connection() {
        let k: TcpBlocked = kind("from = 'nginx'\nhost = 'postgres'\nport = 5432");
        let no = Attempt {
            target: "172.20.0.2:5432".into(),
            reached: false,
            detail: String::new(),
        };
        let facts = |resolved: &[&str], attempts: &[Attempt]| Blocked {
            resolved: resolved.iter().map(|s| s.to_string()).collect(),
            attempts: attempts.to_vec(),
            image: "busybox".into(),
        };
        let j = k.judge(&facts(&[], std::slice::from_ref(&no)));
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(
            j.evidence,
            [
                "172.20.0.2:5432: no connection",
                "checked from a helper container (busybox) in nginx's network namespace"
            ]
        );
        let j = k.judge(&facts(&["172.20.0.2"], std::slice::from_ref(&no)));
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(j.message, "`postgres` resolves to 172.20.0.2 from nginx");
        let yes = Attempt {
            reached: true,
            ..no
        };
        let j = k.judge(&facts(&[], &[yes]));
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.message.contains("accepted a connection"), "{}", j.message);
        let j = k.judge(&facts(&[], &[]));
        assert_eq!(j.verdict, Verdict::Pass);
        assert!(j.message.contains("no address to try"), "{}", j.message);
    }

    #[test]
    fn tcp_blocked_waits_two_seconds_unless_told() {
        let k: TcpBlocked = kind("from = 'nginx'\nhost = 'postgres'\nport = 5432");
        assert_eq!(k.timeout, Secs(2));
        assert_eq!(k.units(), ["nginx", "postgres"]);
        let k: TcpBlocked = kind("from = 'a'\nhost = 'b'\nport = 1\ntimeout = 1");
        assert_eq!(k.timeout, Secs(1));
        let e = invalid::<TcpBlocked>("from = 'a'\nhost = 'b'\nport = 1\ntimeout = 31");
        assert_eq!(e[0].field.as_deref(), Some("timeout"));
        assert!(
            e[0].message
                .contains("timeout = 31 must be 1 to 30 seconds"),
            "{e:?}"
        );
        let e = invalid::<TcpBlocked>("from = 'a'\nhost = 'b'\nport = 70000");
        assert_eq!(e[0].field.as_deref(), Some("port"));
        let e = invalid::<TcpBlocked>("from = 'a'\nhost = 'b'");
        assert!(e[0].message.contains("missing field `port`"), "{e:?}");
    }

    #[test]
    fn see_runs_inside_the_container() {
        let name = |u: &str| format!("p-{u}-1");
        let cx = SeeCx::new(Some("p"), &name);
        let k: Resolves = kind("from = 'web'\nname = 'db'");
        assert_eq!(k.see(&cx), "docker compose -p p exec web getent hosts db");
        let k: Tcp = kind("from = 'web'\nhost = 'db'\nport = 5432");
        let plain = SeeCx::new(None, &name);
        assert!(
            k.see(&plain).starts_with("docker exec p-web-1 python3 -c"),
            "{}",
            k.see(&plain)
        );
        let k: TcpBlocked = kind("from = 'nginx'\nhost = 'postgres'\nport = 5432");
        assert_eq!(
            k.see(&cx),
            "docker run --rm --network container:p-nginx-1 busybox sh -c 'nslookup postgres; nc -w 2 <an address of postgres> 5432 -e true && echo connected'"
        );
    }
}

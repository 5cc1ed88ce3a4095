//! `resolves` and `tcp`: a name lookup and a TCP connect from inside a container, batched by
//! the probe context with the other lookups from the same container.

use serde::Deserialize;

use super::{excerpt, fail, pass, CheckKind, Judgement, Port};
use crate::probe::cx::ProbeCx;
use crate::probe::facts::{ConnectFacts, ResolveFacts};
use crate::probe::net::NetRequest;
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
            pass(format!(
                "`{name}` resolves inside {from} to {}",
                r.addresses.join(", ")
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
    fn see_runs_inside_the_container() {
        let name = |u: &str| format!("p-{u}-1");
        let cx = SeeCx {
            project: Some("p"),
            name: &name,
        };
        let k: Resolves = kind("from = 'web'\nname = 'db'");
        assert_eq!(k.see(&cx), "docker compose -p p exec web getent hosts db");
        let k: Tcp = kind("from = 'web'\nhost = 'db'\nport = 5432");
        let plain = SeeCx {
            project: None,
            name: &name,
        };
        assert!(
            k.see(&plain).starts_with("docker exec p-web-1 python3 -c"),
            "{}",
            k.see(&plain)
        );
    }
}

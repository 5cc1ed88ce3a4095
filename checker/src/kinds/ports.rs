//! `published` and `not_published`: what a service's container publishes to the host, read from
//! its port bindings.

use serde::Deserialize;

use super::{fail, pass, CheckKind, Judgement, Port, PortKey};
use crate::probe::cx::ProbeCx;
use crate::probe::facts::{ContainerFacts, PortFacts};
use crate::see::SeeCx;

/// The service's `container_port` is published (to `host_port` on `host_ip`, when given).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Published {
    pub service: String,
    // Through `deserialize_with` so that a missing field is reported as missing (serde would
    // otherwise feed the missing value to PortKey, which calls it a bad port).
    #[serde(deserialize_with = "PortKey::deserialize")]
    pub container_port: PortKey,
    pub host_port: Option<Port>,
    pub host_ip: Option<String>,
}

/// The service publishes `container_port` (or, without it, any port) nowhere on the host.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotPublished {
    pub service: String,
    pub container_port: Option<PortKey>,
}

impl CheckKind for Published {
    const NAME: &'static str = "published";
    type Facts = ContainerFacts;

    fn describe(&self) -> String {
        format!(
            "{}'s port {} is published{}{}",
            self.service,
            self.container_port,
            self.host_port
                .map(|p| format!(" to host port {p}"))
                .unwrap_or_default(),
            self.host_ip
                .as_ref()
                .map(|ip| format!(" on {ip}"))
                .unwrap_or_default()
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    /// The host port the lab expects the service on: grading forwards it over ssh, so that a
    /// `serves` check of the same service reaches the app there.
    fn host_ports(&self) -> Vec<u16> {
        self.host_port.map(|p| p.0).into_iter().collect()
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        cx.container(&self.service).cloned()
    }
    fn judge(&self, c: &Self::Facts) -> Judgement {
        let (service, port) = (&self.service, self.container_port.to_string());
        let (host_port, host_ip) = (self.host_port, self.host_ip.as_deref());
        let b = bindings(c, &port);
        if b.is_empty() {
            let others: Vec<String> = c.ports.iter().map(show_binding).collect();
            let j = fail(format!(
                "{service}'s port {port} is not published to the host"
            ));
            if others.is_empty() {
                return j;
            }
            return j.with(format!("published instead: {}", others.join(", ")));
        }
        let shown = show_all(&b);
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
    fn see(&self, cx: &SeeCx<'_>) -> String {
        match cx.project {
            Some(_) => cx.compose(&format!(
                "port {} {}",
                cx.service(&self.service),
                self.container_port.port
            )),
            None => format!(
                "docker port {} {}",
                cx.name(&self.service),
                self.container_port
            ),
        }
    }
}

impl CheckKind for NotPublished {
    const NAME: &'static str = "not_published";
    type Facts = ContainerFacts;

    fn describe(&self) -> String {
        match &self.container_port {
            Some(p) => format!("{}'s port {p} is not published to the host", self.service),
            None => format!("{} publishes no port to the host", self.service),
        }
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        cx.container(&self.service).cloned()
    }
    fn judge(&self, c: &Self::Facts) -> Judgement {
        let port = self.container_port.as_ref().map(|p| p.to_string());
        let b: Vec<&PortFacts> = match &port {
            Some(p) => bindings(c, p),
            None => c.ports.iter().collect(),
        };
        let what = port
            .map(|p| format!("port {p}"))
            .unwrap_or_else(|| "any port".into());
        if b.is_empty() {
            pass(format!(
                "{} does not publish {what} to the host",
                self.service
            ))
        } else {
            fail(format!(
                "{} publishes {} to the host: anyone who can reach this machine can try it",
                self.service,
                show_all(&b)
            ))
        }
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        format!("docker port {}", cx.name(&self.service))
    }
}

/// The container's bindings of `port` (`5432/tcp`).
fn bindings<'a>(c: &'a ContainerFacts, port: &str) -> Vec<&'a PortFacts> {
    c.ports
        .iter()
        .filter(|p| p.container_port == port)
        .collect()
}

/// `127.0.0.1:8080 -> 5000/tcp` (an empty host IP is every address).
fn show_binding(p: &PortFacts) -> String {
    let ip = if p.host_ip.is_empty() {
        "0.0.0.0"
    } else {
        p.host_ip.as_str()
    };
    format!("{ip}:{} -> {}", p.host_port, p.container_port)
}

fn show_all(b: &[&PortFacts]) -> String {
    b.iter()
        .map(|p| show_binding(p))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{container, invalid, kind, port, see_cx};
    use crate::kinds::Verdict;

    fn with(ports: Vec<PortFacts>) -> ContainerFacts {
        ContainerFacts {
            ports,
            ..container()
        }
    }

    #[test]
    fn published_checks_port_host_port_and_ip() {
        let web = with(vec![port("5000/tcp", "127.0.0.1", "8080")]);
        let k = |extra: &str| -> Published {
            kind(&format!("service = 'web'\ncontainer_port = 5000\n{extra}"))
        };
        let v = |k: Published, c: &ContainerFacts| k.judge(c).verdict;
        assert_eq!(v(k(""), &web), Verdict::Pass);
        let exact = k("host_port = 8080\nhost_ip = '127.0.0.1'");
        let j = exact.judge(&web);
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(
            j.message,
            "web's port 5000/tcp is published (127.0.0.1:8080 -> 5000/tcp)"
        );
        assert_eq!(v(k("host_port = 8000"), &web), Verdict::Fail);
        let j = k("host_port = 8080\nhost_ip = '0.0.0.0'").judge(&web);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.message.ends_with("expected 0.0.0.0:8080"),
            "{}",
            j.message
        );
        let all = with(vec![port("5000/tcp", "", "8080")]);
        assert_eq!(
            v(k("host_port = 8080\nhost_ip = '0.0.0.0'"), &all),
            Verdict::Pass
        );
        let j = k("").judge(&with(vec![port("80/tcp", "", "8081")]));
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(j.evidence, ["published instead: 0.0.0.0:8081 -> 80/tcp"]);
        assert_eq!(v(k(""), &container()), Verdict::Fail);
    }

    #[test]
    fn the_expected_host_port_is_forwarded_when_grading_over_ssh() {
        let k: Published = kind("service = 'web'\ncontainer_port = 5000\nhost_port = 8080");
        assert_eq!(k.host_ports(), [8080]);
        let any: Published = kind("service = 'web'\ncontainer_port = 5000\nhost_ip = '127.0.0.1'");
        assert!(any.host_ports().is_empty());
    }

    #[test]
    fn published_with_an_ip_needs_every_binding_to_match() {
        let k: Published =
            kind("service = 'web'\ncontainer_port = 80\nhost_port = 8102\nhost_ip = '127.0.0.1'");
        let both = with(vec![
            port("80/tcp", "127.0.0.1", "8102"),
            port("80/tcp", "0.0.0.0", "8102"),
        ]);
        assert_eq!(k.judge(&both).verdict, Verdict::Fail);
        let v4v6 = with(vec![
            port("80/tcp", "0.0.0.0", "8102"),
            port("80/tcp", "::", "8102"),
        ]);
        assert_eq!(k.judge(&v4v6).verdict, Verdict::Fail);
    }

    #[test]
    fn not_published_with_and_without_a_port() {
        let db = with(vec![port("5432/tcp", "0.0.0.0", "5432")]);
        let any: NotPublished = kind("service = 'db'");
        let p5432: NotPublished = kind("service = 'db'\ncontainer_port = '5432/tcp'");
        let p80: NotPublished = kind("service = 'db'\ncontainer_port = 80");
        let j = any.judge(&container());
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(j.message, "db does not publish any port to the host");
        let j = any.judge(&db);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.message.contains("0.0.0.0:5432 -> 5432/tcp"),
            "{}",
            j.message
        );
        assert_eq!(p5432.judge(&db).verdict, Verdict::Fail);
        assert_eq!(p80.judge(&db).verdict, Verdict::Pass);
    }

    #[test]
    fn describe_says_what_is_expected() {
        let k: Published =
            kind("service = 'app'\ncontainer_port = 8000\nhost_port = 8101\nhost_ip = '127.0.0.1'");
        assert_eq!(
            k.describe(),
            "app's port 8000/tcp is published to host port 8101 on 127.0.0.1"
        );
        let k: NotPublished = kind("service = 'db'\ncontainer_port = '53/udp'");
        assert_eq!(
            k.describe(),
            "db's port 53/udp is not published to the host"
        );
        let k: NotPublished = kind("service = 'db'");
        assert_eq!(k.describe(), "db publishes no port to the host");
    }

    #[test]
    fn bad_fields_are_refused_with_their_name() {
        let e = invalid::<Published>("service = 'web'\ncontainer_port = 80\nhost_port = 70000");
        assert_eq!(e[0].field.as_deref(), Some("host_port"));
        assert!(e[0].message.contains("70000 is not a port"), "{e:?}");
        let e = invalid::<Published>("service = 'web'\ncontainer_port = '5000/http'");
        assert_eq!(e[0].field.as_deref(), Some("container_port"));
        assert!(e[0].message.contains("container_port must be"), "{e:?}");
        let e = invalid::<Published>("service = 'web'");
        assert!(
            e[0].message.contains("missing field `container_port`"),
            "{e:?}"
        );
        let e = invalid::<NotPublished>("service = 'db'\nhost_port = 5432");
        assert_eq!(e[0].field.as_deref(), Some("host_port"));
    }

    #[test]
    fn see_uses_compose_port_or_docker_port() {
        let compose = see_cx(Some("p"));
        let plain = see_cx(None);
        let k: Published = kind("service = 'web'\ncontainer_port = 5000");
        assert_eq!(k.see(&compose), "docker compose -p p port web 5000");
        assert_eq!(k.see(&plain), "docker port p-web-1 5000/tcp");
        let k: NotPublished = kind("service = 'db'");
        assert_eq!(k.see(&compose), "docker port p-db-1");
    }
}

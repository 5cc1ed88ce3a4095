//! `serves`: the service answers HTTP on whatever host port it publishes for a container port.
//! A behaviour check: `127.0.0.1:8080`, `0.0.0.0:8080` or `8000` all pass if the app answers
//! there, and a failure says where the port is published (or that it is not).

use serde::Deserialize;

use super::http::{with_body, Http, Status};
use super::{fail, CheckKind, Judgement, PortKey};
use crate::probe::cx::ProbeCx;
use crate::probe::facts::{HttpFacts, PortFacts};
use crate::probe::http;
use crate::see::SeeCx;

/// GET `path` on the host port that `service` publishes for `container_port` returns `status`
/// (default 200), with `body_contains` in the body when given.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Serves {
    pub service: String,
    pub container_port: PortKey,
    #[serde(default = "root")]
    pub path: String,
    #[serde(default)]
    pub status: Status,
    pub body_contains: Option<String>,
}

fn root() -> String {
    "/".into()
}

/// Where the port is published, and what a GET there answered.
#[derive(Debug, Clone, PartialEq)]
pub struct ServesFacts {
    /// The URL tried (None: the port is not published).
    pub url: Option<String>,
    /// Every published binding of the container, as `5000/tcp -> 127.0.0.1:8080`.
    pub published: Vec<String>,
    pub http: Option<HttpFacts>,
}

/// The host address to reach a binding from this machine: its own IP, or loopback for one on
/// every interface (`0.0.0.0`, `::`).
fn host_of(b: &PortFacts) -> String {
    match b.host_ip.as_str() {
        "" | "0.0.0.0" | "::" => "127.0.0.1".into(),
        ip if ip.contains(':') => format!("[{ip}]"),
        ip => ip.into(),
    }
}

impl Serves {
    /// The URL for the first binding of the container port, if it is published.
    fn url(&self, ports: &[PortFacts]) -> Option<String> {
        let key = self.container_port.to_string();
        let b = ports
            .iter()
            .find(|p| p.container_port == key && !p.host_port.is_empty())?;
        let path = if self.path.starts_with('/') {
            self.path.clone()
        } else {
            format!("/{}", self.path)
        };
        Some(format!("http://{}:{}{path}", host_of(b), b.host_port))
    }
}

impl CheckKind for Serves {
    const NAME: &'static str = "serves";
    type Facts = ServesFacts;

    fn describe(&self) -> String {
        format!(
            "GET {} on the host port that {} publishes for {} returns {}{}",
            self.path,
            self.service,
            self.container_port,
            self.status.0,
            with_body(&self.body_contains)
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        let c = cx.container(&self.service)?;
        let published = c
            .ports
            .iter()
            .filter(|p| !p.host_port.is_empty())
            .map(|p| format!("{} -> {}:{}", p.container_port, host_of(p), p.host_port))
            .collect();
        let url = self.url(&c.ports);
        let http = match &url {
            Some(u) => Some(http::get(&cx.http, &http::effective_url(u, cx.http_host)).await),
            None => None,
        };
        Ok(ServesFacts {
            url,
            published,
            http,
        })
    }
    fn judge(&self, f: &Self::Facts) -> Judgement {
        let (Some(url), Some(h)) = (&f.url, &f.http) else {
            let published = match f.published.as_slice() {
                [] => "it publishes no port".to_string(),
                all => format!("it publishes {}", all.join(", ")),
            };
            return fail(format!(
                "{}'s port {} is not published to the host: {published}",
                self.service, self.container_port
            ));
        };
        let get = Http {
            url: url.clone(),
            status: self.status,
            body_contains: self.body_contains.clone(),
        };
        get.judge(h)
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        let port = match cx.project {
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
        };
        format!(
            "{port}   # then: curl -i http://<that address>{}",
            self.path
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{invalid, kind, port, see_cx};
    use crate::kinds::Verdict;

    fn k() -> Serves {
        kind("service = 'web'\ncontainer_port = 5000\npath = '/healthz'\nbody_contains = 'ok'")
    }

    fn answered(status: u16, body: &str) -> Option<HttpFacts> {
        Some(HttpFacts {
            status: Some(status),
            body_excerpt: body.into(),
            error: None,
        })
    }

    #[test]
    fn any_published_address_will_do() {
        let k = k();
        for (ip, host) in [
            ("127.0.0.1", "127.0.0.1"),
            ("0.0.0.0", "127.0.0.1"),
            ("::", "127.0.0.1"),
        ] {
            let url = k.url(&[port("5000/tcp", ip, "8000")]).unwrap();
            assert_eq!(url, format!("http://{host}:8000/healthz"));
        }
        assert_eq!(
            k.url(&[port("5000/tcp", "::1", "8080")]).unwrap(),
            "http://[::1]:8080/healthz"
        );
        assert_eq!(k.url(&[port("5432/tcp", "0.0.0.0", "5432")]), None);
    }

    #[test]
    fn the_verdict_is_what_the_app_answered_where_it_is_published() {
        let k = k();
        let url = Some("http://127.0.0.1:8000/healthz".to_string());
        let f = |http| ServesFacts {
            url: url.clone(),
            published: vec!["5000/tcp -> 127.0.0.1:8000".into()],
            http,
        };
        let j = k.judge(&f(answered(200, "ok")));
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert!(j.message.contains("127.0.0.1:8000"), "{}", j.message);
        assert_eq!(k.judge(&f(answered(500, "ok"))).verdict, Verdict::Fail);
        assert_eq!(k.judge(&f(answered(200, "nope"))).verdict, Verdict::Fail);
    }

    #[test]
    fn an_unpublished_port_says_what_is_published_instead() {
        let j = k().judge(&ServesFacts {
            url: None,
            published: vec!["8000/tcp -> 127.0.0.1:8000".into()],
            http: None,
        });
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(
            j.message,
            "web's port 5000/tcp is not published to the host: it publishes 8000/tcp -> 127.0.0.1:8000"
        );
        let j = k().judge(&ServesFacts {
            url: None,
            published: vec![],
            http: None,
        });
        assert!(j.message.ends_with("it publishes no port"), "{}", j.message);
    }

    #[test]
    fn fields_and_words() {
        let e = invalid::<Serves>("service = 'web'\ncontainer_port = 0");
        assert_eq!(e[0].field.as_deref(), Some("container_port"), "{e:?}");
        let e = invalid::<Serves>("service = 'web'\ncontainer_port = 5000\nurl = 'x'");
        assert_eq!(e[0].field.as_deref(), Some("url"), "{e:?}");
        let d: Serves = kind("service = 'web'\ncontainer_port = 5000");
        assert_eq!(
            d.describe(),
            "GET / on the host port that web publishes for 5000/tcp returns 200"
        );
        assert_eq!(
            d.see(&see_cx(Some("p"))),
            "docker compose -p p port web 5000   # then: curl -i http://<that address>/"
        );
    }
}

//! `isolated`: a fresh helper container on one network alone cannot resolve a service's name to
//! one of its addresses, or cannot connect to any of them: the network boundary holds.

use serde::{Deserialize, Deserializer};

use super::reach::Secs;
use super::{excerpt, fail, pass, CheckKind, Invalid, Judgement, Port};
use crate::probe::cx::ProbeCx;
use crate::probe::facts::{Attempt, IsolationFacts};
use crate::probe::net::{IsolatedRequest, NetRequest};
use crate::see::SeeCx;

/// A fresh container on `network` alone cannot resolve / reach `service`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Isolated {
    pub network: String,
    pub service: String,
    pub via: Via,
    /// The name looked up (via = "name"); the service's name unless given.
    #[serde(default)]
    pub name: Option<String>,
    /// The port connected to (via = "ip", where it is required).
    #[serde(default)]
    pub port: Option<Port>,
    /// Seconds each connection attempt waits.
    #[serde(default)]
    pub timeout: Secs,
}

/// What the helper tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Look the name up; pass when none of the service's addresses comes back.
    Name,
    /// Connect to each of the service's addresses; pass when every attempt fails.
    Ip,
}

impl<'de> Deserialize<'de> for Via {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "name" => Ok(Via::Name),
            "ip" => Ok(Via::Ip),
            other => Err(serde::de::Error::custom(format!(
                "via `{other}` must be \"name\" or \"ip\""
            ))),
        }
    }
}

impl Isolated {
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.service)
    }
    fn port(&self) -> u16 {
        self.port.map_or(0, |p| p.0)
    }
    /// What the helper on the network is asked (shared with the network's other checks).
    fn request(&self) -> IsolatedRequest {
        IsolatedRequest {
            network: self.network.clone(),
            service: self.service.clone(),
            lookup: (self.via == Via::Name).then(|| self.name().to_string()),
            port: (self.via == Via::Ip).then(|| self.port()),
            secs: self.timeout.0,
        }
    }
}

impl CheckKind for Isolated {
    const NAME: &'static str = "isolated";
    type Facts = IsolationFacts;

    fn validate(&self) -> Vec<Invalid> {
        match (self.via, self.port) {
            (Via::Ip, None) => vec![Invalid::field(
                "port",
                "missing field `port` (via = \"ip\" connects to it)",
            )],
            _ => vec![],
        }
    }
    fn describe(&self) -> String {
        let (network, service) = (&self.network, &self.service);
        match self.via {
            Via::Name => format!(
                "a container on {network} alone cannot resolve `{}` to an address of {service}",
                self.name()
            ),
            Via::Ip => format!(
                "a container on {network} alone cannot connect to any address of {service} on port {}",
                self.port()
            ),
        }
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    fn net_request(&self) -> Option<NetRequest> {
        Some(NetRequest::Isolated(self.request()))
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        let addresses = cx.container(&self.service)?.addresses();
        let name = cx.yours(self.name());
        let seen = cx.isolation(&self.request()).await.map_err(fail)?;
        let attempts = match self.via {
            Via::Name => {
                let found = seen.resolved.get(name).cloned().unwrap_or_default();
                let detail = if found.is_empty() {
                    "no answer".to_string()
                } else {
                    format!("{name} -> {}", found.join(", "))
                };
                vec![Attempt {
                    target: name.to_string(),
                    reached: found.iter().any(|a| addresses.contains(a)),
                    detail,
                }]
            }
            Via::Ip => seen.attempts_to(&addresses, self.port()),
        };
        Ok(IsolationFacts {
            network: self.network.clone(),
            image: seen.image,
            attempts,
        })
    }
    fn judge(&self, i: &Self::Facts) -> Judgement {
        let (network, service) = (&self.network, &self.service);
        let reached: Vec<&Attempt> = i.attempts.iter().filter(|a| a.reached).collect();
        let mut j = if !reached.is_empty() {
            let shown: Vec<String> = reached
                .iter()
                .map(|a| {
                    if a.detail.contains("->") {
                        a.detail.clone()
                    } else {
                        format!("reached {}", a.target)
                    }
                })
                .collect();
            fail(format!(
                "from {network}, {service} is reachable: {}",
                shown.join(", ")
            ))
        } else if i.attempts.is_empty() {
            fail(format!("{service} has no address to try"))
        } else {
            pass(format!(
                "a container on {network} alone cannot reach {service}"
            ))
        };
        for a in &i.attempts {
            let seen = if a.reached { "reached" } else { "not reached" };
            let detail = if a.detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", excerpt(&a.detail, 120))
            };
            j = j.with(format!("{}: {seen}{detail}", a.target));
        }
        j.with(format!(
            "checked from a helper container ({}) attached to {network} only",
            i.image
        ))
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        let network = &self.network;
        match self.via {
            Via::Name => format!(
                "docker run --rm --network {network} busybox nslookup {} 127.0.0.11",
                self.name()
            ),
            Via::Ip => format!(
                "docker run --rm --network {network} busybox nc -w 2 <an address of {}> {} -e true",
                cx.name(&self.service),
                self.port()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{invalid, kind};
    use crate::kinds::Verdict;

    const BY_IP: &str = "network = 'frontend'\nservice = 'db'\nvia = 'ip'\nport = 5432";

    fn facts(reached: &[bool]) -> IsolationFacts {
        IsolationFacts {
            network: "frontend".into(),
            image: "busybox".into(),
            attempts: reached
                .iter()
                .enumerate()
                .map(|(i, r)| Attempt {
                    target: format!("10.0.0.{i}:5432"),
                    reached: *r,
                    detail: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn isolated_fails_when_any_attempt_reached() {
        let k: Isolated = kind(BY_IP);
        assert_eq!(k.judge(&facts(&[false, false])).verdict, Verdict::Pass);
        let j = k.judge(&facts(&[false, true]));
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.message.contains("reached 10.0.0.1:5432"), "{}", j.message);
        assert!(j
            .evidence
            .iter()
            .any(|e| e.contains("helper container (busybox) attached to frontend only")));
        assert_eq!(
            k.judge(&facts(&[])).verdict,
            Verdict::Fail,
            "no address tried is not a pass"
        );
    }

    #[test]
    fn a_name_that_comes_back_shows_its_answer() {
        let k: Isolated = kind("network = 'frontend'\nservice = 'db'\nvia = 'name'");
        let answered = IsolationFacts {
            attempts: vec![Attempt {
                target: "db".into(),
                reached: true,
                detail: "db -> 172.20.0.2".into(),
            }],
            ..facts(&[])
        };
        let j = k.judge(&answered);
        assert_eq!(
            j.message,
            "from frontend, db is reachable: db -> 172.20.0.2"
        );
        assert_eq!(j.evidence[0], "db: reached (db -> 172.20.0.2)");
    }

    #[test]
    fn name_defaults_to_the_service_and_timeout_to_two_seconds() {
        let k: Isolated = kind(BY_IP);
        assert_eq!(
            (k.via, k.name(), k.port(), k.timeout),
            (Via::Ip, "db", 5432, Secs(2))
        );
        assert_eq!(
            k.describe(),
            "a container on frontend alone cannot connect to any address of db on port 5432"
        );
        let k: Isolated =
            kind("network = 'f'\nservice = 'db'\nvia = 'name'\nname = 'database'\ntimeout = 5");
        assert_eq!((k.name(), k.timeout), ("database", Secs(5)));
        assert_eq!(
            k.describe(),
            "a container on f alone cannot resolve `database` to an address of db"
        );
    }

    #[test]
    fn fields_are_checked() {
        let e = invalid::<Isolated>(&BY_IP.replace("port = 5432", ""));
        assert_eq!(e[0].field.as_deref(), Some("port"));
        assert!(e[0].message.contains("missing field `port`"), "{e:?}");
        let e = invalid::<Isolated>(&BY_IP.replace("'ip'", "'dns'"));
        assert_eq!(e[0].field.as_deref(), Some("via"));
        assert!(e[0].message.contains("via `dns`"), "{e:?}");
        let e = invalid::<Isolated>("network = 'f'\nservice = 'db'");
        assert!(e[0].message.contains("missing field `via`"), "{e:?}");
        let e = invalid::<Isolated>(&format!("{BY_IP}\ntimeout = 0"));
        assert_eq!(e[0].field.as_deref(), Some("timeout"));
        let e = invalid::<Isolated>(&format!("{BY_IP}\nhost = 'db'"));
        assert_eq!(e[0].field.as_deref(), Some("host"));
    }

    #[test]
    fn see_runs_a_helper_on_the_network() {
        let name = |u: &str| format!("p-{u}-1");
        let cx = SeeCx::new(Some("p"), &name);
        let k: Isolated = kind(BY_IP);
        assert_eq!(
            k.see(&cx),
            "docker run --rm --network frontend busybox nc -w 2 <an address of p-db-1> 5432 -e true"
        );
        let k: Isolated = kind("network = 'frontend'\nservice = 'db'\nvia = 'name'");
        assert_eq!(
            k.see(&cx),
            "docker run --rm --network frontend busybox nslookup db 127.0.0.11"
        );
    }
}

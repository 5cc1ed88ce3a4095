//! Networks as the engine records them: a user-defined network exists (`network`), which
//! networks a container is on (`attached`, `network_excludes`), and whether two containers
//! share one (`shared_network`, `no_shared_network`). No exec: inspect data only.

use serde::Deserialize;

use super::{fail, pass, CheckKind, Judgement};
use crate::probe::cx::ProbeCx;
use crate::probe::facts::{ContainerFacts, NetFacts};
use crate::probe::net;
use crate::see::SeeCx;

/// Docker's predefined networks: never what a lab means by "a user-defined network".
const PREDEFINED: &[&str] = &["bridge", "host", "none"];

/// A user-defined network exists with that driver (not a predefined one).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    pub network: String,
    #[serde(default = "bridge")]
    pub driver: String,
}

fn bridge() -> String {
    "bridge".into()
}

/// The container is attached to these networks (and, with `only`, to no other).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attached {
    pub service: String,
    pub networks: Vec<String>,
    #[serde(default)]
    pub only: bool,
}

/// None of these containers is attached to the network (absent ones count as not attached).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkExcludes {
    pub network: String,
    pub services: Vec<String>,
}

/// The two containers have a user-defined network in common.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedNetwork {
    pub service: String,
    pub peer: String,
}

/// The two containers have no network in common.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSharedNetwork {
    pub service: String,
    pub peer: String,
}

impl CheckKind for Network {
    const NAME: &'static str = "network";
    /// None when there is no such network.
    type Facts = Option<NetFacts>;

    fn describe(&self) -> String {
        format!(
            "the user-defined network {} exists with the {} driver",
            self.network, self.driver
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        net::network(cx.docker(), cx.timeouts(), &self.network)
            .await
            .map_err(fail)
    }
    fn judge(&self, n: &Self::Facts) -> Judgement {
        let (name, driver) = (&self.network, &self.driver);
        let Some(n) = n else {
            return fail(format!("no such network: {name}"));
        };
        if n.default_bridge || PREDEFINED.contains(&n.name.as_str()) {
            return fail(format!(
                "{name} is one of Docker's predefined networks, not a user-defined one"
            ));
        }
        if n.driver != *driver {
            return fail(format!(
                "{name} exists with driver={}, expected {driver}",
                n.driver
            ));
        }
        pass(format!("{name} is a user-defined {driver} network"))
    }
    fn see(&self, _: &SeeCx<'_>) -> String {
        format!(
            "docker network inspect --format '{{{{.Name}}}} {{{{.Driver}}}}' {}",
            self.network
        )
    }
}

impl CheckKind for Attached {
    const NAME: &'static str = "attached";
    type Facts = ContainerFacts;

    fn describe(&self) -> String {
        format!(
            "{} is attached to {}{}",
            self.service,
            self.networks.join(", "),
            if self.only { " and nothing else" } else { "" }
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        cx.container(&self.service).cloned()
    }
    fn judge(&self, c: &Self::Facts) -> Judgement {
        let service = &self.service;
        let on = names(c);
        let missing: Vec<&str> = self
            .networks
            .iter()
            .map(String::as_str)
            .filter(|n| !on.contains(n))
            .collect();
        let extra: Vec<&str> = on
            .iter()
            .copied()
            .filter(|n| !self.networks.iter().any(|w| w == n))
            .collect();
        let shown = format!("on [{}]", on.join(", "));
        if !missing.is_empty() {
            fail(format!(
                "{service} is not on {} ({shown})",
                missing.join(", ")
            ))
        } else if self.only && !extra.is_empty() {
            fail(format!(
                "{service} is also on {} ({shown})",
                extra.join(", ")
            ))
        } else {
            pass(format!("{service} is {shown}"))
        }
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        format!(
            "docker inspect --format '{{{{json .NetworkSettings.Networks}}}}' {}",
            cx.name(&self.service)
        )
    }
}

impl CheckKind for NetworkExcludes {
    const NAME: &'static str = "network_excludes";
    /// Each service, with its container (None: it has none).
    type Facts = Vec<(String, Option<ContainerFacts>)>;

    fn describe(&self) -> String {
        format!(
            "none of {} is attached to {}",
            self.services.join(", "),
            self.network
        )
    }
    fn units(&self) -> Vec<&str> {
        self.services.iter().map(String::as_str).collect()
    }
    /// A service with no container is not on the network: that is a pass, not a skip.
    fn judges_missing_units(&self) -> bool {
        true
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        let mut all = Vec::new();
        for s in &self.services {
            let c = match cx.facts.get(s) {
                Some(Ok(c)) => Some(c.clone()),
                Some(Err(e)) => return Err(fail(e.clone())),
                None => None,
            };
            all.push((s.clone(), c));
        }
        Ok(all)
    }
    fn judge(&self, cs: &Self::Facts) -> Judgement {
        let network = &self.network;
        let on: Vec<&str> = cs
            .iter()
            .filter(|(_, c)| {
                c.as_ref()
                    .is_some_and(|c| c.networks.iter().any(|n| n.name == *network))
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
    fn see(&self, _: &SeeCx<'_>) -> String {
        format!(
            "docker network inspect --format '{{{{range .Containers}}}}{{{{.Name}}}} {{{{end}}}}' {}",
            self.network
        )
    }
}

impl CheckKind for SharedNetwork {
    const NAME: &'static str = "shared_network";
    type Facts = (ContainerFacts, ContainerFacts);

    fn describe(&self) -> String {
        format!(
            "{} and {} share a user-defined network",
            self.service, self.peer
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service, &self.peer]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        pair(cx, &self.service, &self.peer)
    }
    fn judge(&self, (a, b): &Self::Facts) -> Judgement {
        let (service, peer) = (&self.service, &self.peer);
        let (na, nb) = (user_networks(a), user_networks(b));
        if let Some(first) = na.iter().find(|n| nb.contains(n)) {
            return pass(format!("{service} and {peer} share the network {first}"));
        }
        let show = |v: &[&str], c: &ContainerFacts| {
            if !v.is_empty() {
                return v.join(", ");
            }
            let all = names(c);
            let all = if all.is_empty() {
                "nothing".to_string()
            } else {
                all.join(", ")
            };
            format!("no user-defined network (on: {all})")
        };
        fail(format!(
            "{service} and {peer} share no user-defined network"
        ))
        .with(format!("{service}: {}", show(&na, a)))
        .with(format!("{peer}: {}", show(&nb, b)))
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        see_pair(cx, &self.service, &self.peer)
    }
}

impl CheckKind for NoSharedNetwork {
    const NAME: &'static str = "no_shared_network";
    type Facts = (ContainerFacts, ContainerFacts);

    fn describe(&self) -> String {
        format!("{} and {} share no network", self.service, self.peer)
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service, &self.peer]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        pair(cx, &self.service, &self.peer)
    }
    fn judge(&self, (a, b): &Self::Facts) -> Judgement {
        let (service, peer) = (&self.service, &self.peer);
        let (na, nb) = (names(a), names(b));
        let common: Vec<&str> = na.iter().copied().filter(|n| nb.contains(n)).collect();
        if common.is_empty() {
            pass(format!("{service} and {peer} share no network"))
                .with(format!("{service}: {}", na.join(", ")))
                .with(format!("{peer}: {}", nb.join(", ")))
        } else {
            fail(format!(
                "{service} and {peer} share the network {}",
                common.join(", ")
            ))
        }
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        see_pair(cx, &self.service, &self.peer)
    }
}

/// The networks a container is on, by name.
fn names(c: &ContainerFacts) -> Vec<&str> {
    c.networks.iter().map(|n| n.name.as_str()).collect()
}

/// The networks a container is on, the predefined ones left out.
fn user_networks(c: &ContainerFacts) -> Vec<&str> {
    names(c)
        .into_iter()
        .filter(|n| !PREDEFINED.contains(n))
        .collect()
}

/// Both containers; the first one missing decides the verdict.
fn pair(cx: &ProbeCx<'_>, a: &str, b: &str) -> Result<(ContainerFacts, ContainerFacts), Judgement> {
    Ok((cx.container(a)?.clone(), cx.container(b)?.clone()))
}

fn see_pair(cx: &SeeCx<'_>, a: &str, b: &str) -> String {
    format!(
        "docker inspect --format '{{{{.Name}}}}: {{{{range $n, $e := .NetworkSettings.Networks}}}}{{{{$n}}}} {{{{end}}}}' {} {}",
        cx.name(a),
        cx.name(b)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{container as c, invalid, kind, net};
    use crate::kinds::Verdict;

    fn on(nets: &[&str]) -> ContainerFacts {
        ContainerFacts {
            networks: nets.iter().map(|n| net(n)).collect(),
            ..c()
        }
    }

    #[test]
    fn network_must_be_user_defined_with_the_driver() {
        let k: Network = kind("network = 'frontend'");
        assert_eq!(k.driver, "bridge", "the driver defaults to bridge");
        let n = |name: &str, driver: &str, default_bridge| {
            Some(NetFacts {
                name: name.into(),
                driver: driver.into(),
                default_bridge,
            })
        };
        let v = |f| k.judge(&f).verdict;
        assert_eq!(v(n("frontend", "bridge", false)), Verdict::Pass);
        assert_eq!(v(n("frontend", "overlay", false)), Verdict::Fail);
        assert_eq!(v(n("frontend", "bridge", true)), Verdict::Fail);
        let k: Network = kind("network = 'bridge'\ndriver = 'bridge'");
        let j = k.judge(&n("bridge", "bridge", false));
        assert!(j.message.contains("predefined"), "{}", j.message);
        let j = k.judge(&None);
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (Verdict::Fail, "no such network: bridge")
        );
        assert!(k.units().is_empty());
    }

    #[test]
    fn attached_with_and_without_only() {
        let api = on(&["backend", "frontend"]);
        let k = |fields: &str| -> Attached { kind(&format!("service = 'api'\n{fields}")) };
        let both = k("networks = ['frontend', 'backend']\nonly = true");
        assert_eq!(both.judge(&api).verdict, Verdict::Pass);
        assert_eq!(
            both.describe(),
            "api is attached to frontend, backend and nothing else"
        );
        let backend = k("networks = ['backend']");
        assert!(!backend.only, "only defaults to false");
        assert_eq!(backend.judge(&api).verdict, Verdict::Pass);
        let j = k("networks = ['backend']\nonly = true").judge(&api);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.message
                .contains("also on frontend (on [backend, frontend])"),
            "{}",
            j.message
        );
        let j = k("networks = ['other']").judge(&api);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.message.contains("api is not on other"), "{}", j.message);
    }

    #[test]
    fn network_excludes_counts_absent_containers_as_not_attached() {
        let k: NetworkExcludes = kind("network = 'bridge'\nservices = ['web', 'db']");
        assert!(k.judges_missing_units());
        assert_eq!(k.units(), ["web", "db"]);
        let ok = vec![
            ("web".to_string(), Some(on(&["backend"]))),
            ("db".to_string(), None),
        ];
        let j = k.judge(&ok);
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (Verdict::Pass, "none of web, db is on bridge")
        );
        let bad = vec![
            ("web".to_string(), Some(on(&["backend"]))),
            ("db".to_string(), Some(on(&["bridge"]))),
        ];
        let j = k.judge(&bad);
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (Verdict::Fail, "on bridge: db")
        );
    }

    #[test]
    fn shared_network_ignores_the_default_bridge() {
        let k: SharedNetwork = kind("service = 'web'\npeer = 'db'");
        let j = k.judge(&(on(&["p_default"]), on(&["other", "p_default"])));
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (Verdict::Pass, "web and db share the network p_default")
        );
        let j = k.judge(&(on(&["bridge"]), on(&["bridge"])));
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(
            j.evidence,
            [
                "web: no user-defined network (on: bridge)",
                "db: no user-defined network (on: bridge)"
            ]
        );
        let j = k.judge(&(on(&["p_front"]), on(&[])));
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(
            j.evidence,
            ["web: p_front", "db: no user-defined network (on: nothing)"]
        );
    }

    #[test]
    fn no_shared_network_wants_disjoint_networks() {
        let k: NoSharedNetwork = kind("service = 'nginx'\npeer = 'postgres'");
        let j = k.judge(&(on(&["p_app"]), on(&["p_db"])));
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(j.evidence, ["nginx: p_app", "postgres: p_db"]);
        let j = k.judge(&(on(&["p_app", "p_db"]), on(&["p_db"])));
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (Verdict::Fail, "nginx and postgres share the network p_db")
        );
    }

    #[test]
    fn fields_are_checked() {
        let e = invalid::<Attached>("service = 'db'\nnetworks = 'backend'");
        assert_eq!(e[0].field.as_deref(), Some("networks"));
        let e = invalid::<Attached>("service = 'db'\nnetworks = ['backend']\nonly = 'yes'");
        assert_eq!(e[0].field.as_deref(), Some("only"));
        let e = invalid::<Network>("network = 'frontend'\ndrivr = 'bridge'");
        assert_eq!(e[0].field.as_deref(), Some("drivr"));
        let e = invalid::<NetworkExcludes>("network = 'bridge'");
        assert!(e[0].message.contains("missing field `services`"), "{e:?}");
        let e = invalid::<SharedNetwork>("service = 'web'\npeers = 'db'");
        assert_eq!(e[0].field.as_deref(), Some("peers"));
        let e = invalid::<NoSharedNetwork>("service = 'web'");
        assert!(e[0].message.contains("missing field `peer`"), "{e:?}");
    }

    #[test]
    fn see_inspects_networks_or_containers() {
        let name = |u: &str| format!("p-{u}-1");
        let cx = SeeCx::new(Some("p"), &name);
        let k: Network = kind("network = 'frontend'");
        assert_eq!(
            k.see(&cx),
            "docker network inspect --format '{{.Name}} {{.Driver}}' frontend"
        );
        let k: Attached = kind("service = 'db'\nnetworks = ['backend']");
        assert_eq!(
            k.see(&cx),
            "docker inspect --format '{{json .NetworkSettings.Networks}}' p-db-1"
        );
        let k: NoSharedNetwork = kind("service = 'web'\npeer = 'db'");
        assert!(
            k.see(&cx).ends_with("{{end}}' p-web-1 p-db-1"),
            "{}",
            k.see(&cx)
        );
    }
}

//! `running` and `healthy`: the first rungs of every ladder. A scaled service is judged over
//! every one of its containers.

use serde::Deserialize;

use super::{excerpt, fail, pass, CheckKind, Judgement};
use crate::probe::cx::ProbeCx;
use crate::probe::facts::ContainerFacts;
use crate::see::SeeCx;

/// The service's container runs and is not restarting.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Running {
    pub service: String,
}

/// The service's healthcheck reports healthy.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Healthy {
    pub service: String,
}

/// The service's container, or every container of a scaled service.
fn containers(cx: &ProbeCx<'_>, service: &str) -> Result<Vec<ContainerFacts>, super::Judgement> {
    match cx.scaled(service) {
        Some(all) => Ok(all.to_vec()),
        None => cx.container(service).map(|c| vec![c.clone()]),
    }
}

impl CheckKind for Running {
    const NAME: &'static str = "running";
    type Facts = Vec<ContainerFacts>;

    fn describe(&self) -> String {
        format!("{} is running and not restarting", self.service)
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    fn judges_missing_units(&self) -> bool {
        true
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        containers(cx, &self.service)
    }
    fn judge(&self, cs: &Self::Facts) -> Judgement {
        match cs.as_slice() {
            [c] => running_one(&self.service, c),
            all => running_all(&self.service, all),
        }
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        let s = &self.service;
        match cx.project {
            Some(_) => format!(
                "{}   # then: {}",
                cx.compose(&format!("ps -a {}", cx.service(s))),
                cx.compose(&format!("logs --tail 50 {}", cx.service(s)))
            ),
            None => format!(
                "docker ps -a --filter name={}   # then: docker logs --tail 50 {}",
                cx.name(s),
                cx.name(s)
            ),
        }
    }
}

impl CheckKind for Healthy {
    const NAME: &'static str = "healthy";
    type Facts = Vec<ContainerFacts>;

    fn describe(&self) -> String {
        format!("{}'s healthcheck reports healthy", self.service)
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        containers(cx, &self.service)
    }
    fn judge(&self, cs: &Self::Facts) -> Judgement {
        match cs.as_slice() {
            [c] => healthy_one(&self.service, c),
            all => healthy_all(&self.service, all),
        }
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        format!(
            "docker inspect --format '{{{{json .State.Health}}}}' {}",
            cx.name(&self.service)
        )
    }
}

/// `exited with code 1`, `created`, ...
pub fn state_line(c: &ContainerFacts) -> String {
    match (c.status.as_str(), c.exit_code) {
        ("exited", Some(code)) => format!("exited with code {code}"),
        (s, _) => s.to_string(),
    }
}

fn running_one(service: &str, c: &ContainerFacts) -> Judgement {
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

fn running_all(service: &str, cs: &[ContainerFacts]) -> Judgement {
    let bad: Vec<String> = cs
        .iter()
        .filter(|c| !c.running || c.restarting)
        .map(|c| {
            let state = if c.restarting {
                "restarting"
            } else {
                &c.status
            };
            format!("{} {state}", c.name)
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

const NO_HEALTHCHECK: &str = "has no healthcheck, so Docker cannot tell when it is ready";

fn healthy_one(service: &str, c: &ContainerFacts) -> Judgement {
    let Some(h) = &c.health else {
        return fail(format!("{service} {NO_HEALTHCHECK}"));
    };
    if !c.running {
        return fail(format!(
            "{service} is not running ({}), so it cannot be healthy",
            state_line(c)
        ));
    }
    let j = match h.status.as_str() {
        "healthy" => pass(format!("{service} is healthy")),
        "starting" => fail(format!(
            "{service} is still starting (its healthcheck has not passed yet)"
        )),
        other => fail(format!(
            "{service} is {other} (failing streak {})",
            h.failing_streak
        )),
    };
    match h.last_output.as_deref().filter(|o| !o.trim().is_empty()) {
        Some(out) => {
            let code = h
                .last_exit_code
                .map(|c| format!(" (exit {c})"))
                .unwrap_or_default();
            j.with(format!(
                "last healthcheck output{code}: {}",
                excerpt(out, 300)
            ))
        }
        None => j,
    }
}

fn healthy_all(service: &str, cs: &[ContainerFacts]) -> Judgement {
    if cs.iter().any(|c| c.health.is_none()) {
        return fail(format!("{service} {NO_HEALTHCHECK}"));
    }
    let bad: Vec<&ContainerFacts> = cs
        .iter()
        .filter(|c| !c.running || c.health.as_ref().is_some_and(|h| h.status != "healthy"))
        .collect();
    if bad.is_empty() {
        return pass(format!(
            "all {} containers of {service} are healthy",
            cs.len()
        ));
    }
    let show = |c: &&ContainerFacts| match (&c.health, c.running) {
        (Some(h), true) => format!("{} {}", c.name, h.status),
        _ => format!("{} {}", c.name, c.status),
    };
    let j = fail(format!(
        "{} of {} containers of {service} are not healthy: {}",
        bad.len(),
        cs.len(),
        bad.iter().map(show).collect::<Vec<_>>().join(", ")
    ));
    match bad
        .iter()
        .filter_map(|c| c.health.as_ref()?.last_output.clone())
        .find(|o| !o.trim().is_empty())
    {
        Some(out) => j.with(format!("last healthcheck output: {}", excerpt(&out, 300))),
        None => j,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{container as c, health, kind};
    use crate::kinds::Verdict;

    #[test]
    fn running_needs_running_and_not_restarting() {
        let k: Running = kind("service = 'db'");
        assert_eq!(k.judge(&vec![c()]).verdict, Verdict::Pass);
        let exited = ContainerFacts {
            running: false,
            status: "exited".into(),
            exit_code: Some(1),
            ..c()
        };
        let j = k.judge(&vec![exited]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.message.contains("exited with code 1"), "{}", j.message);
        let restarting = ContainerFacts {
            restarting: true,
            ..c()
        };
        assert_eq!(k.judge(&vec![restarting]).verdict, Verdict::Fail);
    }

    #[test]
    fn running_a_scaled_service_judges_every_container() {
        let k: Running = kind("service = 'api'");
        let down = ContainerFacts {
            name: "p-api-2".into(),
            running: false,
            status: "exited".into(),
            ..c()
        };
        assert_eq!(k.judge(&vec![c(), c()]).verdict, Verdict::Pass);
        let j = k.judge(&vec![c(), down]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.message.contains("1 of 2 containers of api"),
            "{}",
            j.message
        );
        assert!(j.message.contains("p-api-2 exited"), "{}", j.message);
    }

    #[test]
    fn healthy_shows_the_last_healthcheck_output_on_failure() {
        let k: Healthy = kind("service = 'db'");
        let with = |s: &str| ContainerFacts {
            health: Some(health(s)),
            ..c()
        };
        assert_eq!(k.judge(&vec![with("healthy")]).verdict, Verdict::Pass);
        let j = k.judge(&vec![with("unhealthy")]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(
            j.evidence,
            ["last healthcheck output (exit 2): no response"]
        );
        let j = k.judge(&vec![c()]);
        assert!(j.message.contains("no healthcheck"), "{}", j.message);
        let j = k.judge(&vec![with("healthy"), with("starting")]);
        assert!(
            j.message
                .contains("1 of 2 containers of db are not healthy"),
            "{}",
            j.message
        );
    }

    #[test]
    fn fields_are_checked() {
        use crate::kinds::testing::invalid;
        let e = invalid::<Running>("servce = 'db'");
        assert_eq!(e[0].field.as_deref(), Some("servce"));
        let e = invalid::<Healthy>("");
        assert!(e[0].message.contains("missing field `service`"), "{e:?}");
    }

    #[test]
    fn see_uses_compose_or_plain_docker() {
        let name = |u: &str| format!("p-{u}-1");
        let k: Healthy = kind("service = 'db'");
        let cx = SeeCx::new(Some("p"), &name);
        assert_eq!(
            k.see(&cx),
            "docker inspect --format '{{json .State.Health}}' p-db-1"
        );
        let k: Running = kind("service = 'db'");
        assert!(k.see(&cx).starts_with("docker compose -p p ps -a db"));
        let cx = SeeCx::new(None, &name);
        assert!(k.see(&cx).starts_with("docker ps -a --filter name=p-db-1"));
    }
}

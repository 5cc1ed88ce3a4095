//! `depends_on`: the service waits for another with a start condition. Read from the compose
//! label (Compose v2), else from the compose files (v1); neither readable is Unknown, not Fail.

use serde::Deserialize;

use super::{fail, pass, unknown, CheckKind, Invalid, Judgement};
use crate::probe::compose;
use crate::probe::cx::ProbeCx;
use crate::probe::facts::{DependsEntry, DependsFacts};
use crate::see::SeeCx;

/// `service` depends on `on` with `condition` (Compose's default: `service_started`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependsOn {
    pub service: String,
    pub on: String,
    #[serde(default = "service_started")]
    pub condition: String,
}

fn service_started() -> String {
    CONDITIONS[0].to_string()
}

/// The conditions Compose knows.
const CONDITIONS: &[&str] = &[
    "service_started",
    "service_healthy",
    "service_completed_successfully",
];

impl CheckKind for DependsOn {
    const NAME: &'static str = "depends_on";
    type Facts = DependsFacts;

    fn validate(&self) -> Vec<Invalid> {
        if CONDITIONS.contains(&self.condition.as_str()) {
            return vec![];
        }
        vec![Invalid::field(
            "condition",
            format!(
                "condition `{}` is not one of {}",
                self.condition,
                CONDITIONS.join(", ")
            ),
        )]
    }
    fn describe(&self) -> String {
        format!(
            "{} depends on {} with condition {}",
            self.service, self.on, self.condition
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        // in the lab's names: the learner's `database` is the lab's db
        Ok(match compose::depends_on(cx.container(&self.service)?) {
            DependsFacts::Known { source, entries } => DependsFacts::Known {
                source,
                entries: entries
                    .into_iter()
                    .map(|e| DependsEntry {
                        on: cx.lab_name(&e.on).to_string(),
                        condition: e.condition,
                    })
                    .collect(),
            },
            unknown => unknown,
        })
    }
    fn judge(&self, d: &Self::Facts) -> Judgement {
        let (service, on, condition) = (&self.service, &self.on, &self.condition);
        let (source, entries) = match d {
            DependsFacts::Unknown { reason } => {
                return unknown(format!(
                    "cannot tell whether {service} depends on {on}: {reason}"
                ))
            }
            DependsFacts::Known { source, entries } => (source, entries),
        };
        let j = match entries.iter().find(|e| &e.on == on) {
            Some(e) if &e.condition == condition => {
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
    fn see(&self, cx: &SeeCx<'_>) -> String {
        format!("{}   # see depends_on", cx.compose("config"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{invalid, kind, see_cx};
    use crate::kinds::Verdict;

    fn known(entries: &[(&str, &str)]) -> DependsFacts {
        DependsFacts::Known {
            source: "label".into(),
            entries: entries
                .iter()
                .map(|(on, condition)| DependsEntry {
                    on: on.to_string(),
                    condition: condition.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn compares_the_condition_and_unknown_is_its_own_verdict() {
        let k: DependsOn = kind("service = 'web'\non = 'db'\ncondition = 'service_healthy'");
        let j = k.judge(&known(&[("db", "service_healthy")]));
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(j.evidence, ["read from label"]);
        let j = k.judge(&known(&[("db", "service_started")]));
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.message
                .contains("with condition service_started, not service_healthy"),
            "{}",
            j.message
        );
        let j = k.judge(&known(&[]));
        assert!(j.message.contains("no depends_on at all"), "{}", j.message);
        let j = k.judge(&known(&[("cache", "service_started")]));
        assert!(j.message.contains("(it depends on cache)"), "{}", j.message);
        let j = k.judge(&DependsFacts::Unknown {
            reason: "v1".into(),
        });
        assert_eq!(j.verdict, Verdict::Unknown);
        assert_eq!(j.message, "cannot tell whether web depends on db: v1");
    }

    #[test]
    fn the_condition_defaults_to_started_and_is_checked() {
        let k: DependsOn = kind("service = 'web'\non = 'db'");
        assert_eq!(k.condition, "service_started");
        assert_eq!(
            k.describe(),
            "web depends on db with condition service_started"
        );
        let e = invalid::<DependsOn>("service = 'web'\non = 'db'\ncondition = 'healthy'");
        assert_eq!(e[0].field.as_deref(), Some("condition"));
        assert!(
            e[0].message
                .contains("condition `healthy` is not one of service_started, service_healthy"),
            "{e:?}"
        );
        let e = invalid::<DependsOn>("service = 'web'\nonn = 'db'");
        assert_eq!(e[0].field.as_deref(), Some("onn"));
    }

    #[test]
    fn see_shows_the_compose_config() {
        let cx = see_cx(Some("p"));
        let k: DependsOn = kind("service = 'web'\non = 'db'");
        assert_eq!(k.see(&cx), "docker compose -p p config   # see depends_on");
    }
}

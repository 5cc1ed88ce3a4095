//! `volume`: something (by default a named volume) is mounted at a path in the service, so its
//! data outlives the container.

use serde::Deserialize;

use super::{fail, pass, CheckKind, Judgement};
use crate::probe::cx::ProbeCx;
use crate::probe::facts::ContainerFacts;
use crate::see::SeeCx;

/// A mount at `path` in the service; with `named` (the default), a named volume.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    pub service: String,
    pub path: String,
    #[serde(default = "yes")]
    pub named: bool,
}

fn yes() -> bool {
    true
}

impl CheckKind for Volume {
    const NAME: &'static str = "volume";
    type Facts = ContainerFacts;

    fn describe(&self) -> String {
        let (service, path) = (&self.service, &self.path);
        if self.named {
            format!("a named volume is mounted at {path} in {service}")
        } else {
            format!("something is mounted at {path} in {service}")
        }
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        cx.container(&self.service).cloned()
    }
    fn judge(&self, c: &Self::Facts) -> Judgement {
        let (service, path) = (&self.service, &self.path);
        let norm = |p: &str| p.trim_end_matches('/').to_string();
        let Some(m) = c.mounts.iter().find(|m| norm(&m.destination) == norm(path)) else {
            let j = fail(format!("nothing is mounted at {path} in {service}: its data lives in the container and dies with it"));
            if c.mounts.is_empty() {
                return j;
            }
            let all: Vec<&str> = c.mounts.iter().map(|m| m.destination.as_str()).collect();
            return j.with(format!("mounts: {}", all.join(", ")));
        };
        if !self.named {
            return pass(format!("{path} in {service} is a {} mount", m.kind));
        }
        let is_named = m.kind == "volume" && m.name.as_deref().is_some_and(|n| !looks_anonymous(n));
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
    fn see(&self, cx: &SeeCx<'_>) -> String {
        format!(
            "docker inspect --format '{{{{json .Mounts}}}}' {}",
            cx.name(&self.service)
        )
    }
}

/// Docker names anonymous volumes with 64 hex digits.
fn looks_anonymous(name: &str) -> bool {
    name.len() == 64 && name.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{container, invalid, kind, see_cx};
    use crate::kinds::Verdict;
    use crate::probe::facts::MountFacts;

    const PG: &str = "service = 'db'\npath = '/var/lib/postgresql/data'";

    fn mounted(kind: &str, name: Option<&str>) -> ContainerFacts {
        ContainerFacts {
            mounts: vec![MountFacts {
                kind: kind.into(),
                name: name.map(String::from),
                source: Some("/src".into()),
                destination: "/var/lib/postgresql/data/".into(),
            }],
            ..container()
        }
    }

    #[test]
    fn tells_named_anonymous_and_bind_apart() {
        let k: Volume = kind(PG);
        assert!(k.named, "named is the default");
        let j = k.judge(&mounted("volume", Some("p_pgdata")));
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(
            j.message,
            "/var/lib/postgresql/data in db is the named volume p_pgdata"
        );
        let j = k.judge(&mounted("volume", Some(&"a".repeat(64))));
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.message.contains("anonymous"), "{}", j.message);
        let j = k.judge(&mounted("bind", None));
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.message.contains("a bind mount (/src)"), "{}", j.message);
        let j = k.judge(&container());
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence.is_empty(), "{:?}", j.evidence);
        let any: Volume = kind(&format!("{PG}\nnamed = false"));
        assert_eq!(any.judge(&mounted("bind", None)).verdict, Verdict::Pass);
    }

    #[test]
    fn a_missing_mount_lists_the_others() {
        let k: Volume = kind("service = 'db'\npath = '/data'");
        let j = k.judge(&mounted("volume", Some("p_pgdata")));
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(j.evidence, ["mounts: /var/lib/postgresql/data/"]);
    }

    #[test]
    fn describe_see_and_bad_fields() {
        let k: Volume = kind(PG);
        assert_eq!(
            k.describe(),
            "a named volume is mounted at /var/lib/postgresql/data in db"
        );
        let k: Volume = kind(&format!("{PG}\nnamed = false"));
        assert_eq!(
            k.describe(),
            "something is mounted at /var/lib/postgresql/data in db"
        );
        let cx = see_cx(Some("p"));
        assert_eq!(
            k.see(&cx),
            "docker inspect --format '{{json .Mounts}}' p-db-1"
        );
        let e = invalid::<Volume>(&format!("{PG}\nnamed = 'yes'"));
        assert_eq!(e[0].field.as_deref(), Some("named"));
        let e = invalid::<Volume>("service = 'db'\ntarget = '/data'");
        assert_eq!(e[0].field.as_deref(), Some("target"));
    }
}

//! `image_label`, `image_healthcheck` and `non_root`: what the Dockerfile wrote into the
//! container's image config. The image is read by ID (retagging after the start does not change
//! the answer); nothing needs a shell in the image.

use serde::Deserialize;

use super::{excerpt, fail, pass, CheckKind, Invalid, Judgement};
use crate::probe::cx::ProbeCx;
use crate::probe::image::{image_config, uid_of};
use crate::probe::image_facts::{user_spec, ImageConfigFacts, UidLookup, UserSpec};
use crate::see::SeeCx;

/// The image's `Config.Labels[label]` exists (and equals `equals`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageLabel {
    pub service: String,
    pub label: String,
    pub equals: Option<String>,
}

/// The image (not only the container) defines a health check.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageHealthcheck {
    pub service: String,
}

/// The container's main process does not run as uid 0.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NonRoot {
    pub service: String,
}

/// The container's `Config.User` and, for a user name, its uid.
#[derive(Debug, Clone, PartialEq)]
pub struct UserFacts {
    pub config_user: String,
    pub uid: UidLookup,
}

/// The config of the service's image (by the container's image ID).
async fn config_of(cx: &ProbeCx<'_>, service: &str) -> Result<ImageConfigFacts, Judgement> {
    let c = cx.container(service)?;
    image_config(cx.docker(), cx.timeouts(), &c.image)
        .await
        .map_err(fail)
}

/// The container's image by ID in a shell command: what it runs, even if the tag moved since.
pub(super) fn image_of(cx: &SeeCx<'_>, unit: &str) -> String {
    format!(
        "$(docker inspect --format '{{{{.Image}}}}' {})",
        cx.name(unit)
    )
}

fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

/// `compose-lab/phase-1-app:latest (377da209d38c)`, or `an untagged image (…)`.
pub(super) fn image_name(id: &str, tags: &[String]) -> String {
    if tags.is_empty() {
        format!("an untagged image ({})", short_id(id))
    } else {
        format!("{} ({})", tags.join(", "), short_id(id))
    }
}

impl CheckKind for ImageLabel {
    const NAME: &'static str = "image_label";
    type Facts = ImageConfigFacts;

    fn validate(&self) -> Vec<Invalid> {
        if self.label.trim().is_empty() {
            return vec![Invalid::field("label", "label is empty")];
        }
        Vec::new()
    }
    fn describe(&self) -> String {
        let (service, label) = (&self.service, &self.label);
        match &self.equals {
            Some(v) => format!("{service}'s image has the label {label}={v}"),
            None => format!("{service}'s image has the label {label}"),
        }
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        config_of(cx, &self.service).await
    }
    fn judge(&self, i: &Self::Facts) -> Judgement {
        let (service, label) = (&self.service, &self.label);
        let image = image_name(&i.id, &i.tags);
        match (i.labels.get(label), self.equals.as_deref()) {
            (Some(v), Some(want)) if v == want => {
                pass(format!("{service}'s image has {label}={v}")).with(format!("image: {image}"))
            }
            (Some(v), Some(want)) => fail(format!(
                "{service}'s image has {label}=`{v}`, expected `{want}`"
            ))
            .with(format!("image: {image}")),
            (Some(v), None) => {
                pass(format!("{service}'s image has {label}={v}")).with(format!("image: {image}"))
            }
            (None, _) => {
                let mut j = fail(format!("{service}'s image has no label {label} (label absent): it is not built from your Dockerfile, or the Dockerfile does not set it"))
                    .with(format!("{service} runs {image}"));
                // what compose adds to every image it builds says nothing about the Dockerfile
                let others: Vec<String> = i
                    .labels
                    .iter()
                    .filter(|(k, _)| !k.starts_with("com.docker.compose."))
                    .map(|(k, v)| format!("{k}={}", excerpt(v, 60)))
                    .collect();
                if !others.is_empty() {
                    j = j.with(format!("its labels: {}", others.join(", ")));
                }
                j
            }
        }
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        format!(
            "docker image inspect --format '{{{{index .Config.Labels \"{}\"}}}} {{{{.RepoTags}}}}' {}",
            self.label,
            image_of(cx, &self.service)
        )
    }
}

impl CheckKind for ImageHealthcheck {
    const NAME: &'static str = "image_healthcheck";
    type Facts = ImageConfigFacts;

    fn describe(&self) -> String {
        format!(
            "{}'s image defines a HEALTHCHECK (in the Dockerfile, not only in compose)",
            self.service
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        config_of(cx, &self.service).await
    }
    fn judge(&self, i: &Self::Facts) -> Judgement {
        let service = &self.service;
        let image = image_name(&i.id, &i.tags);
        match i.healthcheck.as_deref() {
            None | Some([]) => fail(format!("no HEALTHCHECK in the image of {service}"))
                .with(format!("image: {image}")),
            Some([first, ..]) if first == "NONE" => fail(format!(
                "the image of {service} disables its health check (HEALTHCHECK NONE)"
            ))
            .with(format!("image: {image}")),
            Some(test) => pass(format!(
                "the image of {service} has a HEALTHCHECK: {}",
                excerpt(&shown_test(test), 120)
            ))
            .with(format!("image: {image}")),
        }
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        format!(
            "docker image inspect --format '{{{{json .Config.Healthcheck}}}}' {}",
            image_of(cx, &self.service)
        )
    }
}

/// `Healthcheck.Test` as the Dockerfile wrote it: `CMD-SHELL x` as `x`, `CMD a "b c"` as words.
fn shown_test(test: &[String]) -> String {
    match test {
        [how, rest @ ..] if how == "CMD-SHELL" => rest.join(" "),
        [how, rest @ ..] if how == "CMD" => rest
            .iter()
            .map(|a| {
                if a.contains(' ') {
                    format!("\"{a}\"")
                } else {
                    a.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
        all => all.join(" "),
    }
}

impl CheckKind for NonRoot {
    const NAME: &'static str = "non_root";
    type Facts = UserFacts;

    fn describe(&self) -> String {
        format!(
            "{}'s main process does not run as root (uid 0)",
            self.service
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        let c = cx.container(&self.service)?;
        Ok(UserFacts {
            config_user: c.user.clone(),
            uid: uid_of(cx.docker(), cx.timeouts(), c).await,
        })
    }
    fn judge(&self, f: &Self::Facts) -> Judgement {
        let (service, config_user) = (&self.service, &f.config_user);
        let shown = format!("Config.User is \"{config_user}\"");
        match user_spec(config_user) {
            UserSpec::Root if config_user.trim().is_empty() => {
                fail(format!("{service} runs as root ({shown}: the image has no USER and compose sets no `user:`)"))
            }
            UserSpec::Root => fail(format!("{service} runs as root ({shown})")),
            UserSpec::Uid(n) => pass(format!("{service} runs as uid {n} ({shown})")),
            UserSpec::Name(name) => match &f.uid {
                UidLookup::Passwd(0) | UidLookup::Exec(0) => fail(format!("{service} runs as {name}, whose uid is 0: that is root under another name ({shown})")),
                UidLookup::Passwd(n) => pass(format!("{service} runs as {name} (uid {n} in the container's /etc/passwd)")),
                UidLookup::Exec(n) => pass(format!("{service} runs as {name} (uid {n}, from `id -u` in the container)")),
                UidLookup::Failed(why) => pass(format!("{service} runs as user \"{name}\" (uid not verified)")).with(why.clone()),
                UidLookup::NotNeeded => pass(format!("{service} runs as user \"{name}\" (uid not verified)")),
            },
        }
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        format!(
            "docker inspect --format '{{{{.Config.User}}}}' {}   # then: {}",
            cx.name(&self.service),
            cx.exec(&self.service, "id")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{invalid, kind};
    use crate::kinds::Verdict;
    use std::collections::BTreeMap;

    fn config(labels: &[(&str, &str)], hc: Option<&[&str]>) -> ImageConfigFacts {
        ImageConfigFacts {
            id: "sha256:377da209d38c0123456789".into(),
            tags: vec!["compose-lab/phase-1-app:latest".into()],
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            healthcheck: hc.map(|t| t.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn image_label_needs_the_label_and_its_value() {
        let with: ImageLabel =
            kind("service = 'app'\nlabel = 'org.compose-lab.lab'\nequals = 'phase-1'");
        let without: ImageLabel = kind("service = 'app'\nlabel = 'org.compose-lab.lab'");
        let ours = config(
            &[
                ("org.compose-lab.lab", "phase-1"),
                ("org.compose-lab.lookalike", "true"),
            ],
            None,
        );
        assert_eq!(with.judge(&ours).verdict, Verdict::Pass);
        assert_eq!(without.judge(&ours).verdict, Verdict::Pass);
        let other = config(&[("org.compose-lab.lab", "phase-3")], None);
        let j = with.judge(&other);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.message.contains("`phase-3`, expected `phase-1`"),
            "{}",
            j.message
        );
        // the kit's python image: inherited look-alike labels, but not ours; the tags show what it is
        let base = ImageConfigFacts {
            tags: vec!["python:3.11-slim".into()],
            ..config(
                &[
                    ("org.compose-lab.lookalike", "true"),
                    ("com.docker.compose.project", "p"),
                ],
                None,
            )
        };
        let j = with.judge(&base);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.evidence
                .iter()
                .any(|e| e == "its labels: org.compose-lab.lookalike=true"),
            "{:?}",
            j.evidence
        );
        assert!(j.message.contains("label absent"), "{}", j.message);
        assert!(
            j.evidence
                .iter()
                .any(|e| e.contains("python:3.11-slim (377da209d38c)")),
            "{:?}",
            j.evidence
        );
        let j = with.judge(&ImageConfigFacts {
            tags: vec![],
            ..base
        });
        assert_eq!(j.evidence[0], "app runs an untagged image (377da209d38c)");
    }

    #[test]
    fn image_healthcheck_separates_image_from_compose() {
        let k: ImageHealthcheck = kind("service = 'app'");
        let j = k.judge(&config(
            &[],
            Some(&["CMD", "python", "-c", "import sys; sys.exit(0)"]),
        ));
        assert_eq!(j.verdict, Verdict::Pass);
        assert!(
            j.message.contains("python -c \"import sys; sys.exit(0)\""),
            "{}",
            j.message
        );
        let j = k.judge(&config(&[], Some(&["CMD-SHELL", "true"])));
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (Verdict::Pass, "the image of app has a HEALTHCHECK: true")
        );
        let j = k.judge(&config(&[], None));
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (Verdict::Fail, "no HEALTHCHECK in the image of app")
        );
        assert_eq!(k.judge(&config(&[], Some(&[]))).verdict, Verdict::Fail);
        let j = k.judge(&config(&[], Some(&["NONE"])));
        assert!(
            j.verdict == Verdict::Fail && j.message.contains("HEALTHCHECK NONE"),
            "{}",
            j.message
        );
    }

    #[test]
    fn non_root_compares_uids() {
        let k: NonRoot = kind("service = 'app'");
        let v = |user: &str, uid: UidLookup| {
            k.judge(&UserFacts {
                config_user: user.into(),
                uid,
            })
        };
        let j = v("root", UidLookup::NotNeeded);
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (Verdict::Fail, "app runs as root (Config.User is \"root\")")
        );
        let j = v("", UidLookup::NotNeeded);
        assert!(
            j.verdict == Verdict::Fail && j.message.contains("no USER"),
            "{}",
            j.message
        );
        assert_eq!(v("0:0", UidLookup::NotNeeded).verdict, Verdict::Fail);
        assert_eq!(
            v("10001:10001", UidLookup::NotNeeded).verdict,
            Verdict::Pass
        );
        let j = v("app", UidLookup::Passwd(10001));
        assert!(
            j.verdict == Verdict::Pass && j.message.contains("uid 10001"),
            "{}",
            j.message
        );
        assert_eq!(v("app", UidLookup::Exec(10001)).verdict, Verdict::Pass);
        let j = v("toor", UidLookup::Passwd(0));
        assert!(
            j.verdict == Verdict::Fail && j.message.contains("uid is 0"),
            "{}",
            j.message
        );
        assert_eq!(v("toor", UidLookup::Exec(0)).verdict, Verdict::Fail);
        let j = v(
            "app",
            UidLookup::Failed("no /etc/passwd in the container".into()),
        );
        assert!(
            j.verdict == Verdict::Pass && j.message.contains("(uid not verified)"),
            "{}",
            j.message
        );
        assert_eq!(j.evidence, ["no /etc/passwd in the container"]);
    }

    #[test]
    fn fields_are_checked() {
        let e = invalid::<ImageLabel>("service = 'app'");
        assert!(e[0].message.contains("missing field `label`"), "{e:?}");
        let e = invalid::<ImageLabel>("service = 'app'\nlabel = ' '");
        assert_eq!(
            (e[0].field.as_deref(), e[0].message.as_str()),
            (Some("label"), "label is empty")
        );
        let e = invalid::<NonRoot>("service = 'app'\nuid = 0");
        assert_eq!(e[0].field.as_deref(), Some("uid"), "{e:?}");
        assert!(e[0].message.contains("unknown field `uid`"), "{e:?}");
        let e = invalid::<ImageHealthcheck>("service = 'app'\nequals = 'x'");
        assert_eq!(e[0].field.as_deref(), Some("equals"), "{e:?}");
    }

    #[test]
    fn describe_and_see_read_the_containers_image() {
        let name = |u: &str| format!("p-{u}-1");
        let cx = SeeCx::new(Some("p"), &name);
        let k: ImageLabel = kind("service = 'app'\nlabel = 'org.compose-lab.lab'");
        assert_eq!(
            k.describe(),
            "app's image has the label org.compose-lab.lab"
        );
        assert_eq!(
            k.see(&cx),
            "docker image inspect --format '{{index .Config.Labels \"org.compose-lab.lab\"}} {{.RepoTags}}' $(docker inspect --format '{{.Image}}' p-app-1)"
        );
        let k: NonRoot = kind("service = 'app'");
        assert_eq!(
            k.see(&cx),
            "docker inspect --format '{{.Config.User}}' p-app-1   # then: docker compose -p p exec app id"
        );
        let plain = SeeCx::new(None, &name);
        assert!(k.see(&plain).ends_with("# then: docker exec p-app-1 id"));
        let k: ImageHealthcheck = kind("service = 'app'");
        assert!(k.see(&cx).contains(".Config.Healthcheck"));
    }
}

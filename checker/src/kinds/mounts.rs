//! What is mounted into a container, and how: `compose_volume` (a named volume the compose
//! project owns), `bind_mount` and `secret_file` (read-only under /run/secrets).

use std::collections::BTreeMap;

use bollard::query_parameters::InspectContainerOptions;
use serde::Deserialize;

use super::{fail, pass, CheckKind, Invalid, Judgement};
use crate::probe::cx::ProbeCx;
use crate::probe::ext_facts::MountDetail;
use crate::probe::facts::{ContainerFacts, MountFacts};
use crate::probe::{bounded, Timeouts};
use crate::see::SeeCx;

const PROJECT_LABEL: &str = "com.docker.compose.project";

/// The mount at `path` is a named volume that belongs to the compose project.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeVolume {
    pub service: String,
    pub path: String,
}

/// A bind mount from `source` (on the Docker host) at `target`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindMount {
    pub service: String,
    pub source: String,
    pub target: String,
}

/// A read-only mount at `/run/secrets/<secret>`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretFile {
    pub service: String,
    pub secret: String,
}

/// The mount at the path, and the labels of its volume (None: not a named volume; `Err`: the
/// volume could not be inspected).
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeFacts {
    pub project: String,
    pub mount: Option<MountFacts>,
    pub labels: Option<Result<BTreeMap<String, String>, String>>,
}

/// `/data/` and `/data` are the same mount point.
fn norm(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        "/"
    } else {
        t
    }
}

/// The container's mounts with their read/write flag (the stack's facts leave it out).
async fn mounts(cx: &ProbeCx<'_>, service: &str) -> Result<Vec<MountDetail>, Judgement> {
    let c = cx.container(service)?;
    let r = bounded(
        cx.timeouts().api,
        "inspecting the container's mounts",
        cx.docker()
            .inspect_container(&c.id, None::<InspectContainerOptions>),
    )
    .await
    .map_err(fail)?;
    Ok(r.mounts
        .unwrap_or_default()
        .into_iter()
        .map(|m| MountDetail {
            kind: m.typ.map(|k| k.to_string()).unwrap_or_default(),
            source: m.source.unwrap_or_default(),
            destination: m.destination.unwrap_or_default(),
            rw: m.rw.unwrap_or(true),
        })
        .collect())
}

fn find_mount<'a>(m: &'a [MountDetail], target: &str) -> Option<&'a MountDetail> {
    m.iter().find(|x| norm(&x.destination) == norm(target))
}

/// `docker inspect` of the service's mounts.
fn see_mounts(cx: &SeeCx<'_>, service: &str) -> String {
    format!(
        "docker inspect --format '{{{{json .Mounts}}}}' {}",
        cx.name(service)
    )
}

impl CheckKind for ComposeVolume {
    const NAME: &'static str = "compose_volume";
    type Facts = VolumeFacts;

    fn describe(&self) -> String {
        format!("the volume at {} in {} is a named volume that this compose project owns (so `down -v` removes it)", self.path, self.service)
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        let c = cx.container(&self.service)?;
        Ok(volume(
            cx.docker(),
            cx.timeouts(),
            cx.project().unwrap_or_default(),
            c,
            &self.path,
        )
        .await)
    }
    fn judge(&self, f: &Self::Facts) -> Judgement {
        let (service, path, project) = (&self.service, &self.path, &f.project);
        let Some(m) = &f.mount else {
            return fail(format!("nothing is mounted at {path} in {service}"));
        };
        let name = m.name.clone().unwrap_or_default();
        if m.kind != "volume" {
            return fail(format!(
                "{path} in {service} is a {} mount{}, not a volume compose manages",
                m.kind,
                m.source
                    .as_ref()
                    .map(|s| format!(" from {s}"))
                    .unwrap_or_default()
            ));
        }
        match &f.labels {
            None => fail(format!("{path} in {service} is a volume without a name")),
            Some(Err(e)) => fail(format!("cannot inspect the volume {name}: {e}")),
            Some(Ok(l)) => match l.get(PROJECT_LABEL) {
                Some(p) if p == project => pass(format!(
                    "{path} in {service} is the volume {name}, owned by the compose project {project}"
                )),
                Some(p) => fail(format!(
                    "the volume {name} belongs to the compose project {p}, not {project}"
                )),
                None => {
                    let shown = if l.is_empty() {
                        "no labels".to_string()
                    } else {
                        l.iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    fail(format!("the volume {name} was not created by this compose project ({shown}): `external: true` or `docker volume create`, so `down -v` will not remove it"))
                }
            },
        }
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        format!(
            "docker inspect --format '{{{{range .Mounts}}}}{{{{if eq .Destination \"{}\"}}}}{{{{.Name}}}}{{{{end}}}}{{{{end}}}}' {}   # then: docker volume inspect -f '{{{{json .Labels}}}}' <name>",
            self.path,
            cx.name(&self.service)
        )
    }
}

/// The mount at `path` in `c`, and its volume's labels when it is a named volume.
async fn volume(
    docker: &bollard::Docker,
    t: &Timeouts,
    project: &str,
    c: &ContainerFacts,
    path: &str,
) -> VolumeFacts {
    let mount = c
        .mounts
        .iter()
        .find(|m| norm(&m.destination) == norm(path))
        .cloned();
    let labels = match &mount {
        Some(MountFacts {
            kind,
            name: Some(name),
            ..
        }) if kind == "volume" => Some(
            bounded(
                t.api,
                &format!("inspecting volume {name}"),
                docker.inspect_volume(name),
            )
            .await
            .map(|v| v.labels.into_iter().collect()),
        ),
        _ => None,
    };
    VolumeFacts {
        project: project.to_string(),
        mount,
        labels,
    }
}

impl CheckKind for BindMount {
    const NAME: &'static str = "bind_mount";
    type Facts = Vec<MountDetail>;

    fn describe(&self) -> String {
        format!(
            "{} is bind-mounted at {} in {}",
            self.source, self.target, self.service
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        mounts(cx, &self.service).await
    }
    fn judge(&self, m: &Self::Facts) -> Judgement {
        let (service, source, target) = (&self.service, &self.source, &self.target);
        match find_mount(m, target) {
            None if target.ends_with("docker.sock") => {
                fail(format!("nothing is mounted at {target} in {service}: without the Docker API socket it cannot see or restart anything"))
            }
            None => fail(format!("nothing is mounted at {target} in {service}")),
            Some(x) if x.kind != "bind" => fail(format!("{target} in {service} is a {} mount, not a bind mount of {source}", x.kind)),
            Some(x) if x.source != *source => fail(format!("{target} in {service} is bound from {}, not {source}", x.source)),
            Some(_) => pass(format!("{source} is bind-mounted at {target} in {service}")),
        }
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        see_mounts(cx, &self.service)
    }
}

impl CheckKind for SecretFile {
    const NAME: &'static str = "secret_file";
    type Facts = Vec<MountDetail>;

    fn validate(&self) -> Vec<Invalid> {
        if self.secret.contains('/') {
            return vec![Invalid::field(
                "secret",
                format!(
                    "secret = \"{}\" is a secret's name, not a path",
                    self.secret
                ),
            )];
        }
        Vec::new()
    }
    fn describe(&self) -> String {
        format!(
            "/run/secrets/{} is mounted read-only in {}",
            self.secret, self.service
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        mounts(cx, &self.service).await
    }
    fn judge(&self, m: &Self::Facts) -> Judgement {
        let (service, target) = (&self.service, format!("/run/secrets/{}", self.secret));
        match find_mount(m, &target) {
            None => fail(format!("no mount at {target} in {service}")),
            Some(x) if x.rw => fail(format!("{target} in {service} is mounted read-write")),
            Some(x) => pass(format!(
                "{target} is mounted read-only in {service} ({} mount)",
                x.kind
            )),
        }
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        see_mounts(cx, &self.service)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{invalid, kind};
    use crate::kinds::Verdict;

    #[test]
    fn compose_volume_needs_the_project_label() {
        let k: ComposeVolume = kind("service = 'db'\npath = '/d'");
        let m = MountFacts {
            kind: "volume".into(),
            name: Some("p_pgdata".into()),
            source: None,
            destination: "/d".into(),
        };
        let facts =
            |project: &str,
             mount: Option<&MountFacts>,
             labels: Option<Result<BTreeMap<String, String>, String>>| VolumeFacts {
                project: project.into(),
                mount: mount.cloned(),
                labels,
            };
        let l = BTreeMap::from([(PROJECT_LABEL.to_string(), "p".to_string())]);
        let j = k.judge(&facts("p", Some(&m), Some(Ok(l.clone()))));
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (
                Verdict::Pass,
                "/d in db is the volume p_pgdata, owned by the compose project p"
            )
        );
        let j = k.judge(&facts("q", Some(&m), Some(Ok(l))));
        assert_eq!(
            j.message,
            "the volume p_pgdata belongs to the compose project p, not q"
        );
        let j = k.judge(&facts("p", Some(&m), Some(Ok(BTreeMap::new()))));
        assert!(
            j.verdict == Verdict::Fail && j.message.contains("external"),
            "{}",
            j.message
        );
        let tmpfs = MountFacts {
            kind: "tmpfs".into(),
            ..m.clone()
        };
        assert!(k
            .judge(&facts("p", Some(&tmpfs), None))
            .message
            .contains("tmpfs"));
        let j = k.judge(&facts("p", Some(&m), Some(Err("no such volume".into()))));
        assert_eq!(
            j.message,
            "cannot inspect the volume p_pgdata: no such volume"
        );
        let j = k.judge(&facts("p", None, None));
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (Verdict::Fail, "nothing is mounted at /d in db")
        );
    }

    #[test]
    fn secrets_and_binds() {
        let m = vec![
            MountDetail {
                kind: "bind".into(),
                source: "/w/secrets/db.txt".into(),
                destination: "/run/secrets/db_password".into(),
                rw: false,
            },
            MountDetail {
                kind: "bind".into(),
                source: "/var/run/docker.sock".into(),
                destination: "/var/run/docker.sock".into(),
                rw: true,
            },
        ];
        let secret =
            |name: &str| -> SecretFile { kind(&format!("service = 'pg'\nsecret = '{name}'")) };
        let j = secret("db_password").judge(&m);
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (
                Verdict::Pass,
                "/run/secrets/db_password is mounted read-only in pg (bind mount)"
            )
        );
        assert!(secret("other").judge(&m).message.contains("no mount"));
        let rw = vec![MountDetail {
            rw: true,
            ..m[0].clone()
        }];
        assert!(secret("db_password")
            .judge(&rw)
            .message
            .contains("read-write"));
        let bind = |source: &str| -> BindMount {
            kind(&format!(
                "service = 'manager'\nsource = '{source}'\ntarget = '/var/run/docker.sock'"
            ))
        };
        let sock = bind("/var/run/docker.sock");
        assert_eq!(sock.judge(&m).verdict, Verdict::Pass);
        assert!(sock
            .judge(&vec![])
            .message
            .contains("cannot see or restart"));
        assert!(bind("/run/docker.sock")
            .judge(&m)
            .message
            .contains("bound from"));
        let tmpfs = vec![MountDetail {
            kind: "tmpfs".into(),
            ..m[1].clone()
        }];
        assert!(sock
            .judge(&tmpfs)
            .message
            .contains("a tmpfs mount, not a bind mount"));
    }

    #[test]
    fn fields_are_checked() {
        let e = invalid::<SecretFile>("service = 'pg'\nsecret = '/run/secrets/db'");
        assert_eq!(
            (e[0].field.as_deref(), e[0].message.as_str()),
            (
                Some("secret"),
                "secret = \"/run/secrets/db\" is a secret's name, not a path"
            )
        );
        let e =
            invalid::<BindMount>("service = 'm'\nsource = '/a'\ntarget = '/b'\nreadonly = true");
        assert_eq!(e[0].field.as_deref(), Some("readonly"), "{e:?}");
        let e = invalid::<ComposeVolume>("service = 'db'");
        assert!(e[0].message.contains("missing field `path`"), "{e:?}");
    }

    #[test]
    fn see_shows_the_mounts() {
        let name = |u: &str| format!("p-{u}-1");
        let cx = SeeCx::new(Some("p"), &name);
        let k: SecretFile = kind("service = 'pg'\nsecret = 'db_password'");
        assert_eq!(
            k.see(&cx),
            "docker inspect --format '{{json .Mounts}}' p-pg-1"
        );
        let k: ComposeVolume = kind("service = 'db'\npath = '/d'");
        assert!(k.see(&cx).starts_with(
            "docker inspect --format '{{range .Mounts}}{{if eq .Destination \"/d\"}}{{.Name}}{{end}}{{end}}' p-db-1"
        ));
        assert!(k.describe().contains("so `down -v` removes it"));
    }
}

//! `absent_paths`: what a `.dockerignore` keeps out of the image (secrets, tests). The paths are
//! looked up through the archive API, so the image needs no shell.

use serde::Deserialize;

use super::{excerpt, fail, pass, unknown, CheckKind, Invalid, Judgement};
use crate::probe::cx::ProbeCx;
use crate::probe::image::stat_path;
use crate::probe::image_facts::PathProbe;
use crate::see::SeeCx;

/// None of `paths` exists in the container's filesystem.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbsentPaths {
    pub service: String,
    pub paths: Vec<String>,
}

impl CheckKind for AbsentPaths {
    const NAME: &'static str = "absent_paths";
    /// Each path as the archive API answered.
    type Facts = Vec<PathProbe>;

    fn validate(&self) -> Vec<Invalid> {
        if self.paths.is_empty() {
            return vec![Invalid::field("paths", "absent_paths: `paths` is empty")];
        }
        self.paths
            .iter()
            .filter(|p| !p.starts_with('/'))
            .map(|p| {
                Invalid::field(
                    "paths",
                    format!("path \"{p}\" must be absolute (a path inside the container)"),
                )
            })
            .collect()
    }
    fn describe(&self) -> String {
        format!(
            "none of {} exists in {}'s container",
            self.paths.join(", "),
            self.service
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        let c = cx.container(&self.service)?;
        let probes = self.paths.iter().map(|p| async move {
            PathProbe {
                path: p.clone(),
                state: stat_path(cx.docker(), cx.timeouts(), &c.id, p).await,
            }
        });
        Ok(futures_util::future::join_all(probes).await)
    }
    fn judge(&self, probes: &Self::Facts) -> Judgement {
        let service = &self.service;
        let present: Vec<String> = probes
            .iter()
            .filter_map(|p| match &p.state {
                Ok(Some(s)) if s.kind == "file" => {
                    Some(format!("{} (file, {} bytes)", p.path, s.size))
                }
                Ok(Some(s)) => Some(format!("{} ({})", p.path, s.kind)),
                _ => None,
            })
            .collect();
        let errors: Vec<(&str, &String)> = probes
            .iter()
            .filter_map(|p| Some((p.path.as_str(), p.state.as_ref().err()?)))
            .collect();
        let all = probes
            .iter()
            .map(|p| p.path.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut j = if !present.is_empty() {
            fail(format!("present in {service}: {}", present.join(", ")))
        } else if !errors.is_empty() {
            unknown(format!(
                "cannot tell whether {} exist in {service}",
                errors
                    .iter()
                    .map(|(path, _)| *path)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else {
            pass(format!("none of {all} exists in {service}"))
        };
        for (path, e) in errors {
            j = j.with(format!("{path}: {}", excerpt(e, 160)));
        }
        j
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        format!(
            "for p in {}; do docker cp {}:\"$p\" - | tar -tv | head -n 1; done",
            self.paths
                .iter()
                .map(|p| cx.quote(p))
                .collect::<Vec<_>>()
                .join(" "),
            cx.name(&self.service)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{invalid, kind};
    use crate::kinds::Verdict;
    use crate::probe::image_facts::PathStat;

    fn p(path: &str, state: Result<Option<PathStat>, String>) -> PathProbe {
        PathProbe {
            path: path.into(),
            state,
        }
    }

    fn file(size: u64) -> Option<PathStat> {
        Some(PathStat {
            kind: "file".into(),
            size,
        })
    }

    fn dir() -> Option<PathStat> {
        Some(PathStat {
            kind: "directory".into(),
            size: 0,
        })
    }

    #[test]
    fn absent_paths_names_what_is_present() {
        let k: AbsentPaths = kind("service = 'app'\npaths = ['/app/.env', '/app/tests']");
        let j = k.judge(&vec![p("/app/.env", Ok(None)), p("/app/tests", Ok(None))]);
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (Verdict::Pass, "none of /app/.env, /app/tests exists in app")
        );
        let j = k.judge(&vec![
            p("/app/.env", Ok(file(24))),
            p("/app/tests", Ok(dir())),
        ]);
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (
                Verdict::Fail,
                "present in app: /app/.env (file, 24 bytes), /app/tests (directory)"
            )
        );
        let j = k.judge(&vec![p("/app/.env", Ok(None)), p("/app/tests", Ok(dir()))]);
        assert_eq!(j.message, "present in app: /app/tests (directory)");
        // a probe that could not answer is not a pass
        let j = k.judge(&vec![
            p("/app/.env", Err("no answer within 5.0s".into())),
            p("/app/tests", Ok(None)),
        ]);
        assert_eq!(j.verdict, Verdict::Unknown);
        assert_eq!(j.message, "cannot tell whether /app/.env exist in app");
        assert_eq!(j.evidence, ["/app/.env: no answer within 5.0s"]);
        // present beats unknown
        let j = k.judge(&vec![
            p("/app/.env", Err("x".into())),
            p("/app/tests", Ok(file(3))),
        ]);
        assert_eq!(j.verdict, Verdict::Fail);
    }

    #[test]
    fn fields_are_checked() {
        let e = invalid::<AbsentPaths>("service = 'app'\npaths = ['app/.env', '/ok', 'tests']");
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(e[0].field.as_deref(), Some("paths"));
        assert_eq!(
            e[0].message,
            "path \"app/.env\" must be absolute (a path inside the container)"
        );
        let e = invalid::<AbsentPaths>("service = 'app'\npaths = []");
        assert!(e[0].message.contains("`paths` is empty"), "{e:?}");
        let e = invalid::<AbsentPaths>("service = 'app'\npaths = '/app/.env'");
        assert_eq!(e[0].field.as_deref(), Some("paths"), "{e:?}");
        let e = invalid::<AbsentPaths>("service = 'app'\npath = ['/app/.env']");
        assert_eq!(e[0].field.as_deref(), Some("path"), "{e:?}");
    }

    #[test]
    fn the_loader_builds_it_and_points_at_a_bad_path() {
        let check = |paths: &str| {
            crate::lab::test_lab(&["app"], &format!("[[checks]]\nid = \"p\"\ntitle = \"p\"\nkind = \"absent_paths\"\nservice = \"app\"\npaths = {paths}\n"))
        };
        let lab = check("[\"/app/.env\"]").unwrap();
        assert!(
            matches!(&lab.checks[0].kind, crate::kinds::Kind::AbsentPaths(k) if k.paths == ["/app/.env"]),
            "{:?}",
            lab.checks[0].kind
        );
        let e = check("[\"app/.env\"]").unwrap_err();
        assert!(
            e.starts_with(
                "lab.toml:12:9: check `p` (kind absent_paths): path \"app/.env\" must be absolute"
            ),
            "{e}"
        );
    }

    #[test]
    fn describe_and_see_name_every_path() {
        let k: AbsentPaths = kind("service = 'app'\npaths = ['/app/.env', '/app/my tests']");
        assert_eq!(
            k.describe(),
            "none of /app/.env, /app/my tests exists in app's container"
        );
        let name = |u: &str| format!("p-{u}-1");
        let cx = SeeCx::new(None, &name);
        assert_eq!(
            k.see(&cx),
            "for p in /app/.env '/app/my tests'; do docker cp p-app-1:\"$p\" - | tar -tv | head -n 1; done"
        );
    }
}

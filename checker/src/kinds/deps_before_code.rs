//! `deps_before_code`: the Dockerfile installs the dependencies right after copying only their
//! manifests, and copies the code after that, so a code change does not reinstall them. Read
//! from the image's history (oldest first); a builder stage's own steps are not in it.

mod steps;

use serde::Deserialize;

use super::image_config::{image_name, image_of};
use super::{fail, pass, unknown, CheckKind, Invalid, Judgement, OneOrMany};
use crate::probe::cx::ProbeCx;
use crate::probe::image::history;
use crate::probe::image_facts::{HistoryFacts, Layer};
use crate::see::SeeCx;
use steps::{copy_step, is_run, step_line, CopyStep};

/// The image's history installs the dependencies (a step containing one of `install`) right
/// after a COPY/ADD of nothing but dependency manifests (each source contains one of
/// `manifest`), and copies something after it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepsBeforeCode {
    pub service: String,
    pub install: OneOrMany,
    pub manifest: OneOrMany,
}

impl CheckKind for DepsBeforeCode {
    const NAME: &'static str = "deps_before_code";
    type Facts = HistoryFacts;

    fn validate(&self) -> Vec<Invalid> {
        let mut problems = Vec::new();
        for (field, list) in [("install", &self.install.0), ("manifest", &self.manifest.0)] {
            if list.is_empty() {
                problems.push(Invalid::field(
                    field,
                    format!("deps_before_code: `{field}` is empty"),
                ));
            } else if list.iter().any(|s| s.trim().is_empty()) {
                problems.push(Invalid::field(field, format!("{field} has an empty entry")));
            }
        }
        problems
    }
    fn describe(&self) -> String {
        format!(
            "{}'s image runs `{}` right after copying only the dependency manifests ({}), and copies the code after it",
            self.service,
            self.install.0.join("` / `"),
            self.manifest.0.join(", ")
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        let c = cx.container(&self.service)?;
        history(cx.docker(), cx.timeouts(), &c.image)
            .await
            .map_err(fail)
    }
    fn judge(&self, h: &Self::Facts) -> Judgement {
        verdict(
            &self.service,
            &self.install.0,
            &self.manifest.0,
            &h.id,
            &h.tags,
            &h.layers,
        )
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        format!(
            "docker history --no-trunc --format '{{{{.CreatedBy}}}}' {}   # newest first",
            image_of(cx, &self.service)
        )
    }
}

fn verdict(
    service: &str,
    install: &[String],
    manifest: &[String],
    id: &str,
    tags: &[String],
    layers: &[Layer],
) -> Judgement {
    let copies: Vec<Option<CopyStep>> = layers.iter().map(|l| copy_step(&l.created_by)).collect();
    let installs: Vec<usize> = (0..layers.len())
        .filter(|&i| {
            copies[i].is_none()
                && install
                    .iter()
                    .any(|s| layers[i].created_by.contains(s.as_str()))
        })
        .collect();
    let what = install
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(" or ");
    let image = image_name(id, tags);
    // The evidence: the steps from the first COPY/ADD on (the image's own part, usually).
    let from = copies
        .iter()
        .position(Option::is_some)
        .unwrap_or(0)
        .saturating_sub(3);
    let history = |j: Judgement| -> Judgement {
        let steps: Vec<String> = layers[from..]
            .iter()
            .map(|l| step_line(&l.created_by))
            .filter(|s| !s.is_empty())
            .collect();
        j.with(format!("image: {image}"))
            .with(format!("history (oldest first): {}", steps.join(" → ")))
    };
    let Some(&first_install) = installs.first() else {
        // A multi-stage build installs in a builder stage, whose steps are not in this history:
        // what it brings over (`COPY --from=build /venv /venv`) must come before the code.
        let from_stage = (0..layers.len()).find(|&k| {
            matches!(
                &copies[k],
                Some(CopyStep::Named {
                    from_stage: true,
                    ..
                })
            )
        });
        if let Some(f) = from_stage {
            if let Some(code) = (f + 1..layers.len()).find(|&k| {
                matches!(
                    &copies[k],
                    Some(CopyStep::Named {
                        from_stage: false,
                        ..
                    })
                )
            }) {
                return history(pass(format!(
                    "{service}'s image brings its installed dependencies from another build stage (`{}`) before the code (`{}`)",
                    step_line(&layers[f].created_by),
                    step_line(&layers[code].created_by)
                )))
                .with("the builder stage's own steps are not in this image's history, so their order is not checked");
            }
        }
        return history(fail(format!("no layer of {service}'s image runs {what}")));
    };
    // The install that matters is the first one after something was copied in; installs before
    // any COPY (a base image's tools, packages named in the Dockerfile) copy no project file.
    let Some(&i) = installs
        .iter()
        .find(|&&i| copies[..i].iter().any(Option::is_some))
    else {
        return if copies[first_install..].iter().any(Option::is_some) {
            history(pass(format!(
                "{service}'s image installs its packages before anything is copied in (named in the Dockerfile), and copies the code after"
            )))
        } else {
            history(fail(format!("nothing is copied into {service}'s image after {what}: where does the code come from?")))
        };
    };
    let install_line = step_line(&layers[i].created_by);
    // Every COPY/ADD since the previous RUN step (the nearest one at least) must copy manifests only.
    let nearest = (0..i)
        .rev()
        .find(|&k| copies[k].is_some())
        .expect("a copy precedes the install");
    let start = (0..nearest)
        .rev()
        .find(|&k| is_run(&layers[k].created_by))
        .map_or(nearest, |k| k + 1);
    let mut notes: Vec<String> = Vec::new();
    for k in (start..=nearest).rev() {
        let Some(step) = &copies[k] else { continue };
        let line = step_line(&layers[k].created_by);
        let bad = match step {
            CopyStep::Named {
                from_stage: true, ..
            } => {
                notes.push(format!("`{line}` copies from another build stage or image (absolute sources), not from the build context"));
                None
            }
            CopyStep::Named { sources, .. } if sources.is_empty() => {
                Some(format!("`{line}` (cannot tell what it copies)"))
            }
            CopyStep::Named { sources, .. } => {
                let code: Vec<&String> = sources
                    .iter()
                    .filter(|s| !manifest.iter().any(|m| s.contains(m.as_str())))
                    .collect();
                (!code.is_empty()).then(|| {
                    format!(
                        "`{line}` ({} {} not a dependency manifest)",
                        code.iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        if code.len() == 1 { "is" } else { "are" }
                    )
                })
            }
            CopyStep::ClassicFile => {
                notes.push(format!(
                    "`{line}`: the classic builder does not record the file's name (BuildKit does)"
                ));
                None
            }
            CopyStep::ClassicDir => Some(format!(
                "`{line}` (a whole folder, as `COPY . .` records in the classic builder)"
            )),
            CopyStep::ClassicMulti => {
                return history(unknown(format!(
                    "{service}'s image copies several files before `{install_line}`, and the classic builder does not record their names; \
                     build with BuildKit (Docker's default since 23.0) so labcheck can tell"
                )));
            }
        };
        if let Some(bad) = bad {
            return history(fail(format!("code is copied before the dependencies are installed: {bad} comes before `{install_line}`")));
        }
    }
    let Some(after) = (i + 1..layers.len()).find(|&k| copies[k].is_some()) else {
        return history(fail(format!("nothing is copied into {service}'s image after `{install_line}`: where does the code come from?")));
    };
    let mut j = pass(format!(
        "{service}'s image runs `{install_line}` after `{}`, and copies the code after it (`{}`)",
        step_line(&layers[nearest].created_by),
        step_line(&layers[after].created_by)
    ));
    for n in notes {
        j = j.with(n);
    }
    history(j)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{invalid, kind};
    use crate::kinds::Verdict;

    fn history(steps: &[&str]) -> HistoryFacts {
        HistoryFacts {
            id: "sha256:79deb9e40f96aaaa".into(),
            tags: vec!["compose-lab/phase-1-app:latest".into()],
            layers: steps
                .iter()
                .map(|s| Layer {
                    created_by: s.to_string(),
                })
                .collect(),
        }
    }

    /// The kit's python base, then the steps of a Dockerfile.
    fn with_base(own: &[&str]) -> HistoryFacts {
        let mut all = vec![
            "",
            "RUN /bin/sh -c apt-get update && apt-get install -y python3 python3-venv && python3 -m venv /usr/local/python # buildkit",
            "ENV PATH=/usr/local/python/bin:/usr/bin:/bin",
            "CMD [\"python3\"]",
            "LABEL org.compose-lab.lab=phase-1",
            "WORKDIR /app",
            "RUN /bin/sh -c useradd --system --uid 10001 app # buildkit",
        ];
        all.extend_from_slice(own);
        history(&all)
    }

    fn deps(f: HistoryFacts) -> Judgement {
        let k: DepsBeforeCode =
            kind("service = 'app'\ninstall = 'pip install'\nmanifest = 'requirements'");
        k.judge(&f)
    }

    #[test]
    fn deps_before_code_passes_the_solution() {
        let j = deps(with_base(&[
            "COPY requirements.txt . # buildkit",
            "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
            "COPY . . # buildkit",
            "USER app",
            "CMD [\"gunicorn\"]",
        ]));
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert!(
            j.message.contains("after `COPY requirements.txt .`"),
            "{}",
            j.message
        );
        assert!(
            j.evidence.iter().any(|e| e.contains(
                "COPY requirements.txt . → RUN pip install -r requirements.txt → COPY . ."
            )),
            "{:?}",
            j.evidence
        );
    }

    #[test]
    fn deps_before_code_fails_code_first() {
        let j = deps(with_base(&[
            "COPY . . # buildkit",
            "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
            "USER app",
        ]));
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.message.contains("`COPY . .` (. is not a dependency manifest) comes before `RUN pip install -r requirements.txt`"), "{}", j.message);
    }

    #[test]
    fn deps_before_code_closes_the_blind_spot_of_one_copy_with_code() {
        // `COPY requirements.txt app.py ./`: the COPY names the manifest, but also the code
        let j = deps(with_base(&[
            "COPY requirements.txt app.py ./ # buildkit",
            "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
            "COPY . . # buildkit",
        ]));
        assert_eq!(j.verdict, Verdict::Fail, "{j:?}");
        assert!(
            j.message.contains("app.py is not a dependency manifest"),
            "{}",
            j.message
        );
        // and a code COPY one step earlier, with nothing run in between
        let j = deps(with_base(&[
            "COPY app.py . # buildkit",
            "COPY requirements.txt . # buildkit",
            "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
            "COPY . . # buildkit",
        ]));
        assert_eq!(j.verdict, Verdict::Fail, "{j:?}");
        assert!(j.message.contains("`COPY app.py .`"), "{}", j.message);
        // several manifests are fine
        let j = deps(with_base(&[
            "COPY requirements.txt requirements-dev.txt ./ # buildkit",
            "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
            "COPY . . # buildkit",
        ]));
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
    }

    #[test]
    fn deps_before_code_needs_an_install_and_code_after_it() {
        let j = deps(with_base(&["COPY . . # buildkit", "USER app"]));
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (
                Verdict::Fail,
                "no layer of app's image runs \"pip install\""
            )
        );
        let j = deps(with_base(&[
            "COPY requirements.txt . # buildkit",
            "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
            "USER app",
        ]));
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.message.contains("nothing is copied"), "{}", j.message);
        // packages named in the Dockerfile, before any COPY: deps first all the same
        let j = deps(with_base(&[
            "RUN /bin/sh -c pip install flask gunicorn # buildkit",
            "COPY . . # buildkit",
        ]));
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        // ... but a later install from requirements after the code counts
        let j = deps(with_base(&[
            "RUN /bin/sh -c pip install wheel # buildkit",
            "COPY . . # buildkit",
            "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
        ]));
        assert_eq!(j.verdict, Verdict::Fail, "{j:?}");
    }

    #[test]
    fn deps_before_code_reads_the_classic_builder() {
        let classic = |copy: &str| {
            with_base(&[
                copy,
                "/bin/sh -c pip install -r requirements.txt",
                "/bin/sh -c #(nop) COPY dir:4d2e in . ",
                "/bin/sh -c #(nop)  USER app",
            ])
        };
        let j = deps(classic("/bin/sh -c #(nop) COPY file:5f3c in . "));
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert!(
            j.evidence
                .iter()
                .any(|e| e.contains("does not record the file's name")),
            "{:?}",
            j.evidence
        );
        assert_eq!(
            deps(classic("/bin/sh -c #(nop) COPY dir:4d2e in . ")).verdict,
            Verdict::Fail
        );
        assert_eq!(
            deps(classic("/bin/sh -c #(nop) COPY multi:77aa in ./ ")).verdict,
            Verdict::Unknown
        );
    }

    #[test]
    fn deps_before_code_accepts_a_copy_from_another_stage() {
        let j = deps(with_base(&[
            "COPY --from=build /wheels /wheels # buildkit",
            "RUN /bin/sh -c pip install /wheels/* # buildkit",
            "COPY . . # buildkit",
        ]));
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert!(
            j.evidence.iter().any(|e| e.contains("another build stage")),
            "{:?}",
            j.evidence
        );
    }

    #[test]
    fn deps_before_code_accepts_dependencies_from_a_builder_stage() {
        let j = deps(with_base(&[
            "COPY /venv /venv # buildkit",
            "COPY . . # buildkit",
            "USER app",
        ]));
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert!(
            j.message
                .contains("from another build stage (`COPY /venv /venv`)"),
            "{}",
            j.message
        );
        // the code before what the builder brings: no install step here, and the code comes first
        let j = deps(with_base(&[
            "COPY . . # buildkit",
            "COPY --from=build /venv /venv # buildkit",
        ]));
        assert_eq!(j.verdict, Verdict::Fail, "{j:?}");
    }

    #[test]
    fn fields_are_checked() {
        let k: DepsBeforeCode = kind(
            "service = 'app'\ninstall = 'pip install'\nmanifest = ['requirements', 'constraints']",
        );
        assert_eq!(k.install.0, ["pip install"]);
        assert_eq!(k.manifest.0, ["requirements", "constraints"]);
        assert!(
            k.describe().contains("runs `pip install` right after"),
            "{}",
            k.describe()
        );
        let e = invalid::<DepsBeforeCode>("service = 'app'\ninstall = 'pip install'");
        assert_eq!(e[0].field.as_deref(), Some("manifest"), "{e:?}");
        assert!(e[0].message.contains("missing field `manifest`"), "{e:?}");
        let e = invalid::<DepsBeforeCode>(
            "service = 'app'\ninstall = []\nmanifest = ['requirements', '']",
        );
        assert_eq!(
            e,
            [
                Invalid::field("install", "deps_before_code: `install` is empty"),
                Invalid::field("manifest", "manifest has an empty entry"),
            ]
        );
        let e = invalid::<DepsBeforeCode>(
            "service = 'app'\ninstall = 'pip install'\nmanifest = 'r'\nmanifests = 'x'",
        );
        assert_eq!(e[0].field.as_deref(), Some("manifests"), "{e:?}");
    }

    #[test]
    fn see_reads_the_history_of_the_containers_image() {
        let k: DepsBeforeCode =
            kind("service = 'app'\ninstall = 'pip install'\nmanifest = 'requirements'");
        let name = |u: &str| format!("p-{u}-1");
        let cx = SeeCx::new(Some("p"), &name);
        assert_eq!(
            k.see(&cx),
            "docker history --no-trunc --format '{{.CreatedBy}}' $(docker inspect --format '{{.Image}}' p-app-1)   # newest first"
        );
    }
}

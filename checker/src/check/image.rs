//! Verdicts for the phase 1 kinds (lab/image.rs): pure functions of what the probes saw.

use super::{excerpt, fail, pass, Judgement, Verdict};
use crate::lab::image::ImageKind;
use crate::probe::facts::Observed;
use crate::probe::image_facts::*;

pub fn judge(kind: &ImageKind, observed: &Observed) -> Judgement {
    let Observed::Image(x) = observed else {
        return fail(format!(
            "internal error: probe result {observed:?} does not fit check kind {}",
            kind.name()
        ));
    };
    match (kind, x.as_ref()) {
        (
            ImageKind::ImageLabel {
                service,
                label,
                equals,
            },
            ImageFacts::Config(i),
        ) => image_label(service, label, equals.as_deref(), i),
        (ImageKind::ImageHealthcheck { service }, ImageFacts::Config(i)) => {
            image_healthcheck(service, i)
        }
        (ImageKind::NonRoot { service }, ImageFacts::User { config_user, uid }) => {
            non_root(service, config_user, uid)
        }
        (ImageKind::AbsentPaths { service, .. }, ImageFacts::Paths(p)) => absent_paths(service, p),
        (
            ImageKind::DepsBeforeCode {
                service,
                install,
                manifest,
            },
            ImageFacts::History { id, tags, layers },
        ) => deps_before_code(service, install, manifest, id, tags, layers),
        (k, x) => fail(format!(
            "internal error: probe result {x:?} does not fit check kind {}",
            k.name()
        )),
    }
}

fn unknown(message: impl Into<String>) -> Judgement {
    Judgement {
        verdict: Verdict::Unknown,
        message: message.into(),
        evidence: vec![],
    }
}

fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

/// `compose-lab/phase-1-app:latest (377da209d38c)`, or `an untagged image (…)`.
fn image_name(id: &str, tags: &[String]) -> String {
    if tags.is_empty() {
        format!("an untagged image ({})", short_id(id))
    } else {
        format!("{} ({})", tags.join(", "), short_id(id))
    }
}

pub fn image_label(
    service: &str,
    label: &str,
    equals: Option<&str>,
    i: &ImageConfigFacts,
) -> Judgement {
    let image = image_name(&i.id, &i.tags);
    match (i.labels.get(label), equals) {
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

pub fn image_healthcheck(service: &str, i: &ImageConfigFacts) -> Judgement {
    let image = image_name(&i.id, &i.tags);
    match i.healthcheck.as_deref() {
        None | Some([]) => fail(format!("no HEALTHCHECK in the image of {service}"))
            .with(format!("image: {image}")),
        Some([first, ..]) if first == "NONE" => fail(format!(
            "the image of {service} disables its health check (HEALTHCHECK NONE)"
        ))
        .with(format!("image: {image}")),
        Some(test) => {
            let shown = match test {
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
            };
            pass(format!(
                "the image of {service} has a HEALTHCHECK: {}",
                excerpt(&shown, 120)
            ))
            .with(format!("image: {image}"))
        }
    }
}

pub fn non_root(service: &str, config_user: &str, uid: &UidLookup) -> Judgement {
    let shown = format!("Config.User is \"{config_user}\"");
    match user_spec(config_user) {
        UserSpec::Root if config_user.trim().is_empty() => {
            fail(format!("{service} runs as root ({shown}: the image has no USER and compose sets no `user:`)"))
        }
        UserSpec::Root => fail(format!("{service} runs as root ({shown})")),
        UserSpec::Uid(n) => pass(format!("{service} runs as uid {n} ({shown})")),
        UserSpec::Name(name) => match uid {
            UidLookup::Passwd(0) | UidLookup::Exec(0) => fail(format!("{service} runs as {name}, whose uid is 0: that is root under another name ({shown})")),
            UidLookup::Passwd(n) => pass(format!("{service} runs as {name} (uid {n} in the container's /etc/passwd)")),
            UidLookup::Exec(n) => pass(format!("{service} runs as {name} (uid {n}, from `id -u` in the container)")),
            UidLookup::Failed(why) => pass(format!("{service} runs as user \"{name}\" (uid not verified)")).with(why.clone()),
            UidLookup::NotNeeded => pass(format!("{service} runs as user \"{name}\" (uid not verified)")),
        },
    }
}

pub fn absent_paths(service: &str, probes: &[PathProbe]) -> Judgement {
    let present: Vec<String> = probes
        .iter()
        .filter_map(|p| match &p.state {
            Ok(Some(s)) if s.kind == "file" => Some(format!("{} (file, {} bytes)", p.path, s.size)),
            Ok(Some(s)) => Some(format!("{} ({})", p.path, s.kind)),
            _ => None,
        })
        .collect();
    let errors: Vec<String> = probes
        .iter()
        .filter_map(|p| {
            p.state
                .as_ref()
                .err()
                .map(|e| format!("{}: {}", p.path, excerpt(e, 160)))
        })
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
                .map(|e| e.split(':').next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else {
        pass(format!("none of {all} exists in {service}"))
    };
    for e in errors {
        j = j.with(e);
    }
    j
}

/// A COPY or ADD step of an image's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyStep {
    /// BuildKit records the instruction as written (but without `--from=`): its sources (flags
    /// and destination removed), and whether it copies from another stage or image: `--from=`
    /// when recorded, else sources that are all absolute paths (a build-context source is
    /// relative; measured: BuildKit records `COPY --from=build /venv /venv` as `COPY /venv /venv`).
    Named {
        sources: Vec<String>,
        from_stage: bool,
    },
    /// The classic builder: `COPY file:<hash>` (one file, name not recorded).
    ClassicFile,
    /// The classic builder: `COPY dir:<hash>` (a folder, e.g. `COPY . .`).
    ClassicDir,
    /// The classic builder: `COPY multi:<hash>` (several sources, names not recorded).
    ClassicMulti,
}

/// The COPY/ADD step that a history entry records, if it is one.
pub fn copy_step(created_by: &str) -> Option<CopyStep> {
    let text = created_by.trim();
    if let Some(i) = text.find("#(nop) ") {
        // classic builder: `/bin/sh -c #(nop) COPY file:abc… in /app/ `
        let rest = text[i + 7..].trim_start();
        let (word, args) = rest.split_once(char::is_whitespace)?;
        if !(word == "COPY" || word == "ADD") {
            return None;
        }
        let args: Vec<&str> = args
            .split_whitespace()
            .filter(|a| !a.starts_with("--"))
            .collect();
        let src = args.first().copied().unwrap_or("");
        return Some(if src.starts_with("file:") {
            CopyStep::ClassicFile
        } else if src.starts_with("dir:") {
            CopyStep::ClassicDir
        } else {
            CopyStep::ClassicMulti
        });
    }
    let (word, args) = text.split_once(char::is_whitespace)?;
    if !(word.eq_ignore_ascii_case("COPY") || word.eq_ignore_ascii_case("ADD")) {
        return None;
    }
    let args = args
        .trim()
        .strip_suffix("# buildkit")
        .unwrap_or(args)
        .trim();
    let mut from_stage = false;
    let mut words: Vec<String> = Vec::new();
    let mut rest = args;
    // flags first: --chown=…, --from=…, --link
    while let Some(flag) = rest.strip_prefix("--") {
        let (f, r) = flag.split_once(char::is_whitespace).unwrap_or((flag, ""));
        from_stage |= f.starts_with("from=");
        rest = r.trim_start();
    }
    if rest.starts_with('[') {
        if let Ok(list) = serde_json::from_str::<Vec<String>>(rest) {
            words = list;
        }
    }
    if words.is_empty() {
        words = rest.split_whitespace().map(String::from).collect();
    }
    words.pop(); // the destination
    from_stage |= !words.is_empty() && words.iter().all(|w| w.starts_with('/'));
    Some(CopyStep::Named {
        sources: words,
        from_stage,
    })
}

/// A history entry as a short line for the evidence.
fn step_line(created_by: &str) -> String {
    let t = created_by.trim();
    let t = t.strip_prefix("/bin/sh -c ").unwrap_or(t);
    let t = t.strip_prefix("#(nop) ").unwrap_or(t).trim();
    let t = t.strip_suffix("# buildkit").unwrap_or(t).trim();
    let t = match t.strip_prefix("RUN /bin/sh -c ") {
        Some(cmd) => format!("RUN {cmd}"),
        None => t.to_string(),
    };
    excerpt(&t, 90)
}

fn is_run(created_by: &str) -> bool {
    let t = created_by.trim();
    t.starts_with("RUN ") || (t.starts_with("/bin/sh -c ") && !t.contains("#(nop)"))
}

pub fn deps_before_code(
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

    fn image(kind: ImageKind, f: ImageFacts) -> Judgement {
        judge(&kind, &Observed::Image(Box::new(f)))
    }

    #[test]
    fn facts_of_another_kind_are_an_internal_error() {
        let k = ImageKind::NonRoot {
            service: "app".into(),
        };
        assert!(image(k.clone(), ImageFacts::Paths(vec![]))
            .message
            .starts_with("internal error"));
        assert!(judge(&k, &Observed::ProbeError("x".into()))
            .message
            .starts_with("internal error"));
    }
}

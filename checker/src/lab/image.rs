//! Check kinds for the image lab (phase 1): what a Dockerfile put into an image, and how its
//! container runs. They read the container's image (by ID, so retagging after the start does not
//! change the answer), its history and its filesystem; nothing is changed and nothing needs a
//! shell in the image.
//!
//! They hang off [`super::Kind::Image`], beside the core kinds and the phase 4-6 ones.

/// The kinds declared here, as written in lab.toml.
pub const KINDS: &[&str] = &[
    "image_label",
    "non_root",
    "image_healthcheck",
    "absent_paths",
    "deps_before_code",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageKind {
    /// The image's `Config.Labels[label]` exists (and equals `equals`).
    ImageLabel {
        service: String,
        label: String,
        equals: Option<String>,
    },
    /// The container's main process does not run as uid 0.
    NonRoot { service: String },
    /// The image (not only the container) defines a health check.
    ImageHealthcheck { service: String },
    /// None of `paths` exists in the container's filesystem.
    AbsentPaths { service: String, paths: Vec<String> },
    /// The image's history installs the dependencies (a step containing one of `install`) right
    /// after a COPY/ADD of nothing but dependency manifests (each source contains one of
    /// `manifest`), and copies something after it.
    DepsBeforeCode {
        service: String,
        install: Vec<String>,
        manifest: Vec<String>,
    },
}

impl ImageKind {
    pub fn name(&self) -> &'static str {
        match self {
            ImageKind::ImageLabel { .. } => "image_label",
            ImageKind::NonRoot { .. } => "non_root",
            ImageKind::ImageHealthcheck { .. } => "image_healthcheck",
            ImageKind::AbsentPaths { .. } => "absent_paths",
            ImageKind::DepsBeforeCode { .. } => "deps_before_code",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ImageKind::ImageLabel { service, label, equals: Some(v) } => format!("{service}'s image has the label {label}={v}"),
            ImageKind::ImageLabel { service, label, equals: None } => format!("{service}'s image has the label {label}"),
            ImageKind::NonRoot { service } => format!("{service}'s main process does not run as root (uid 0)"),
            ImageKind::ImageHealthcheck { service } => format!("{service}'s image defines a HEALTHCHECK (in the Dockerfile, not only in compose)"),
            ImageKind::AbsentPaths { service, paths } => format!("none of {} exists in {service}'s container", paths.join(", ")),
            ImageKind::DepsBeforeCode { service, install, manifest } => format!(
                "{service}'s image runs `{}` right after copying only the dependency manifests ({}), and copies the code after it",
                install.join("` / `"),
                manifest.join(", ")
            ),
        }
    }

    pub fn units(&self) -> Vec<&str> {
        match self {
            ImageKind::ImageLabel { service, .. }
            | ImageKind::NonRoot { service }
            | ImageKind::ImageHealthcheck { service }
            | ImageKind::AbsentPaths { service, .. }
            | ImageKind::DepsBeforeCode { service, .. } => vec![service],
        }
    }
}

/// The lab.toml fields these kinds read (the loader fills it from its raw check).
#[derive(Debug, Default, Clone)]
pub struct Fields {
    pub service: Option<String>,
    pub label: Option<String>,
    pub equals: Option<String>,
    pub paths: Option<Vec<String>>,
    /// A string or a list of strings in lab.toml.
    pub install: Option<Vec<String>>,
    /// A string or a list of strings in lab.toml.
    pub manifest: Option<Vec<String>>,
}

/// Build a kind of [`KINDS`]. Missing required fields are pushed to `missing`; other problems
/// go to `err`. Returns None only for a kind that is not one of [`KINDS`].
pub fn build(
    kind: &str,
    f: &Fields,
    missing: &mut Vec<&'static str>,
    err: &mut dyn FnMut(String),
) -> Option<ImageKind> {
    macro_rules! req {
        ($field:ident) => {
            required!(f, missing, $field)
        };
    }
    let non_empty = |name: &str, v: &[String], err: &mut dyn FnMut(String)| {
        if v.iter().any(|s| s.trim().is_empty()) {
            err(format!("{name} has an empty entry"));
        }
    };
    let kind = match kind {
        "image_label" => {
            let label: String = req!(label);
            if f.label.is_some() && label.trim().is_empty() {
                err("label is empty".into());
            }
            ImageKind::ImageLabel {
                service: req!(service),
                label,
                equals: f.equals.clone(),
            }
        }
        "non_root" => ImageKind::NonRoot {
            service: req!(service),
        },
        "image_healthcheck" => ImageKind::ImageHealthcheck {
            service: req!(service),
        },
        "absent_paths" => {
            let paths: Vec<String> = req!(paths);
            if f.paths.is_some() && paths.is_empty() {
                err("absent_paths: `paths` is empty".into());
            }
            for p in &paths {
                if !p.starts_with('/') {
                    err(format!(
                        "path \"{p}\" must be absolute (a path inside the container)"
                    ));
                }
            }
            ImageKind::AbsentPaths {
                service: req!(service),
                paths,
            }
        }
        "deps_before_code" => {
            let install: Vec<String> = req!(install);
            let manifest: Vec<String> = req!(manifest);
            if f.install.is_some() && install.is_empty() {
                err("deps_before_code: `install` is empty".into());
            }
            if f.manifest.is_some() && manifest.is_empty() {
                err("deps_before_code: `manifest` is empty".into());
            }
            non_empty("install", &install, err);
            non_empty("manifest", &manifest, err);
            ImageKind::DepsBeforeCode {
                service: req!(service),
                install,
                manifest,
            }
        }
        _ => return None,
    };
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Kind;

    #[test]
    fn every_kind_is_buildable_and_named_as_listed() {
        for name in KINDS {
            let k = build(name, &Fields::default(), &mut Vec::new(), &mut |_| {})
                .unwrap_or_else(|| panic!("{name}"));
            assert_eq!(k.name(), *name);
            assert_eq!(Kind::Image(k.clone()).name(), *name);
            assert!(!Kind::Image(k).is_drill());
        }
        assert!(build("running", &Fields::default(), &mut Vec::new(), &mut |_| {}).is_none());
    }
}

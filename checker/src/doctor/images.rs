//! The images the lab needs that are missing: each service's `image:` (unless Compose builds
//! it), and the FROM images of the Dockerfiles it builds. No registry is reachable in a
//! classroom: the offline kit (`scripts/images.sh`) builds them.

use super::{Finding, Level};

/// An image the lab needs, and who needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    pub image: String,
    /// "service db", "the Dockerfile of web (FROM)"
    pub by: String,
}

/// Each needed image, and whether the engine has it (`Err`: it could not say).
pub type Looked = (Needed, Result<bool, String>);

/// One finding per missing image (or that could not be looked up), else one that all are here.
/// `kit`: the text of the kit's `scripts/images.sh`, when the labs sit in a Compose Lab
/// checkout: an image it lists is built offline by it.
pub fn findings(looked: &[Looked], kit: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (n, present) in looked {
        match present {
            Ok(true) => {}
            Ok(false) => {
                let kit_cmd =
                    "`bash scripts/images.sh` (in the Compose Lab folder; no registry needed)";
                let fix = match kit.map(|k| in_kit(k, &n.image)) {
                    Some(true) => format!("build the offline image kit: {kit_cmd}"),
                    Some(false) => format!("`docker pull {}` where a registry is reachable; the offline kit (`bash scripts/images.sh`) does not make this one", n.image),
                    // no kit script beside the labs (labcheck in a container): either may apply
                    None => format!("build the offline image kit: {kit_cmd} if it makes this one, else `docker pull {}` where a registry is reachable", n.image),
                };
                out.push(Finding::new(
                    "image",
                    Level::Blocks,
                    format!("the image {} is missing (needed by {})", n.image, n.by),
                    "`docker compose up` would try to pull it, and with no registry it fails",
                    Some(fix),
                ));
            }
            Err(e) => out.push(Finding::new(
                "image",
                Level::Unknown,
                format!("the image {} could not be looked up: {e}", n.image),
                "",
                None,
            )),
        }
    }
    if out.is_empty() && !looked.is_empty() {
        let names: Vec<&str> = looked.iter().map(|(n, _)| n.image.as_str()).collect();
        out.push(Finding::ok(
            "image",
            format!("the images the lab needs are here: {}", names.join(", ")),
        ));
    }
    out
}

/// Whether the kit script tags an image with this name (its KIT and ALIASES lines list the
/// tags, space-separated between `|`).
pub fn in_kit(script: &str, image: &str) -> bool {
    script.lines().any(|l| {
        let l = l.trim();
        l.starts_with('"')
            && l.split('|')
                .nth(1)
                .is_some_and(|tags| tags.split_whitespace().any(|t| t == image))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIT: &str = "KIT=(\n  \"postgres|postgres:15-alpine postgres:15|PostgreSQL 15\"\n)\nALIASES=(\n  \"python:3.11-slim|python:3.12-slim|Python\"\n)\n";

    fn need(image: &str) -> Needed {
        Needed {
            image: image.into(),
            by: "service db".into(),
        }
    }

    #[test]
    fn a_missing_kit_image_blocks_with_the_kit_command() {
        let f = findings(&[(need("postgres:15-alpine"), Ok(false))], Some(KIT));
        assert_eq!(f[0].level, Level::Blocks);
        assert_eq!(
            f[0].what,
            "the image postgres:15-alpine is missing (needed by service db)"
        );
        assert!(f[0]
            .fix
            .as_deref()
            .unwrap()
            .starts_with("build the offline image kit: `bash scripts/images.sh`"));
        let other = findings(&[(need("mysql:8"), Ok(false))], Some(KIT));
        assert!(other[0]
            .fix
            .as_deref()
            .unwrap()
            .starts_with("`docker pull mysql:8`"));
    }

    #[test]
    fn all_present_is_one_ok_and_a_failed_lookup_is_unknown() {
        let f = findings(
            &[
                (need("postgres:15-alpine"), Ok(true)),
                (need("python:3.12-slim"), Ok(true)),
            ],
            Some(KIT),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].what,
            "the images the lab needs are here: postgres:15-alpine, python:3.12-slim"
        );
        let f = findings(
            &[(
                need("x"),
                Err("inspecting image x: no answer within 5.0s".into()),
            )],
            None,
        );
        assert_eq!(f[0].level, Level::Unknown);
        assert!(findings(&[], None).is_empty());
    }

    #[test]
    fn the_kit_lists_tags_and_aliases() {
        assert!(in_kit(KIT, "postgres:15"));
        assert!(in_kit(KIT, "python:3.12-slim"));
        assert!(!in_kit(KIT, "postgres:1"));
        assert!(!in_kit(KIT, "PostgreSQL"));
    }
}

//! "See it yourself" commands for the phase 1 kinds: the docker CLI calls that show what the
//! probes read (the container's image by ID, its history, its files through the archive API).

use super::sh_quote;
use crate::lab::image::ImageKind;

pub fn command(kind: &ImageKind, project: Option<&str>, name: &dyn Fn(&str) -> String) -> String {
    // The container's image by ID: what it runs, even if the tag moved since.
    let image_of =
        |unit: &str| format!("$(docker inspect --format '{{{{.Image}}}}' {})", name(unit));
    match kind {
        ImageKind::ImageLabel { service, label, .. } => format!(
            "docker image inspect --format '{{{{index .Config.Labels \"{label}\"}}}} {{{{.RepoTags}}}}' {}",
            image_of(service)
        ),
        ImageKind::ImageHealthcheck { service } => {
            format!("docker image inspect --format '{{{{json .Config.Healthcheck}}}}' {}", image_of(service))
        }
        ImageKind::NonRoot { service } => {
            let id = match project {
                Some(p) => format!("docker compose -p {} exec {service} id", sh_quote(p)),
                None => format!("docker exec {} id", name(service)),
            };
            format!("docker inspect --format '{{{{.Config.User}}}}' {}   # then: {id}", name(service))
        }
        ImageKind::AbsentPaths { service, paths } => format!(
            "for p in {}; do docker cp {}:\"$p\" - | tar -tv | head -n 1; done",
            paths.iter().map(|p| sh_quote(p)).collect::<Vec<_>>().join(" "),
            name(service)
        ),
        ImageKind::DepsBeforeCode { service, .. } => {
            format!("docker history --no-trunc --format '{{{{.CreatedBy}}}}' {}   # newest first", image_of(service))
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_read_the_containers_image_and_files() {
        let name = |u: &str| format!("p-{u}-1");
        let k = ImageKind::ImageLabel {
            service: "app".into(),
            label: "org.compose-lab.lab".into(),
            equals: None,
        };
        assert_eq!(
            command(&k, Some("p"), &name),
            "docker image inspect --format '{{index .Config.Labels \"org.compose-lab.lab\"}} {{.RepoTags}}' $(docker inspect --format '{{.Image}}' p-app-1)"
        );
        assert_eq!(
            command(&ImageKind::NonRoot { service: "app".into() }, Some("p"), &name),
            "docker inspect --format '{{.Config.User}}' p-app-1   # then: docker compose -p p exec app id"
        );
        let k = ImageKind::AbsentPaths {
            service: "app".into(),
            paths: vec!["/app/.env".into(), "/app/my tests".into()],
        };
        assert_eq!(command(&k, None, &name), "for p in /app/.env '/app/my tests'; do docker cp p-app-1:\"$p\" - | tar -tv | head -n 1; done");
        let k = ImageKind::DepsBeforeCode {
            service: "app".into(),
            install: vec![],
            manifest: vec![],
        };
        assert!(command(&k, Some("p"), &name).starts_with("docker history --no-trunc"));
        assert!(command(
            &ImageKind::ImageHealthcheck {
                service: "app".into()
            },
            Some("p"),
            &name
        )
        .contains(".Config.Healthcheck"));
    }
}

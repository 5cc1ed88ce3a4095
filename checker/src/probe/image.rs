//! Read-only probes of the phase 1 kinds (lab/image.rs): the container's image config and
//! history, and its filesystem through the archive API (no exec, no shell needed); `id -u` by
//! exec only when /etc/passwd cannot be read. Every call is bounded by a timeout.

use bollard::errors::Error as DockerError;
use bollard::query_parameters::DownloadFromContainerOptionsBuilder;
use bollard::Docker;
use futures_util::StreamExt;

use super::exec::exec;
use super::facts::ContainerFacts;
use super::image_facts::*;
use super::{bounded, Timeouts};

/// Most of /etc/passwd read through the archive API.
const PASSWD_CAP: usize = 1024 * 1024;
/// Enough for the first entry of an archive with its extended (PAX) header.
const HEADER_CAP: usize = 64 * 1024;

fn short(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

/// `GET /images/{id}/json`, reduced to what the checks read.
pub async fn image_config(
    docker: &Docker,
    t: &Timeouts,
    image: &str,
) -> Result<ImageConfigFacts, String> {
    if image.is_empty() {
        return Err("the container's inspect names no image".into());
    }
    let r = bounded(
        t.api,
        &format!("inspecting image {}", short(image)),
        docker.inspect_image(image),
    )
    .await?;
    let config = r.config.unwrap_or_default();
    Ok(ImageConfigFacts {
        id: r.id.unwrap_or_else(|| image.to_string()),
        tags: r.repo_tags.unwrap_or_default(),
        labels: config.labels.unwrap_or_default().into_iter().collect(),
        healthcheck: config.healthcheck.and_then(|h| h.test),
    })
}

/// `GET /images/{id}/history`, oldest first.
pub async fn history(docker: &Docker, t: &Timeouts, image: &str) -> Result<HistoryFacts, String> {
    if image.is_empty() {
        return Err("the container's inspect names no image".into());
    }
    let items = bounded(
        t.api,
        &format!("reading the history of image {}", short(image)),
        docker.image_history(image),
    )
    .await?;
    // newest first: its tags are the image's
    let tags = items.first().map(|i| i.tags.clone()).unwrap_or_default();
    let layers = items
        .into_iter()
        .rev()
        .map(|i| Layer {
            created_by: i.created_by,
        })
        .collect();
    Ok(HistoryFacts {
        id: image.to_string(),
        tags,
        layers,
    })
}

/// The uid behind `Config.User` when it is a name: the container's /etc/passwd, else `id -u`.
pub async fn uid_of(docker: &Docker, t: &Timeouts, c: &ContainerFacts) -> UidLookup {
    let UserSpec::Name(name) = user_spec(&c.user) else {
        return UidLookup::NotNeeded;
    };
    let passwd = read_file(docker, t, &c.id, "/etc/passwd").await;
    if let Ok(Some(uid)) = passwd.as_deref().map(|text| passwd_uid(text, &name)) {
        return UidLookup::Passwd(uid);
    }
    let why_passwd = match &passwd {
        Ok(_) => format!("no `{name}` in /etc/passwd"),
        Err(e) => e.clone(),
    };
    if !c.running {
        return UidLookup::Failed(format!(
            "{why_passwd}; the container is not running, so `id -u` cannot run in it"
        ));
    }
    match exec(docker, t, &c.id, &["id", "-u"]).await {
        Ok(out) if out.exit_code == Some(0) => match out.stdout.trim().parse() {
            Ok(uid) => UidLookup::Exec(uid),
            Err(_) => UidLookup::Failed(format!(
                "{why_passwd}; `id -u` printed `{}`",
                out.stdout.trim()
            )),
        },
        Ok(out) => UidLookup::Failed(format!(
            "{why_passwd}; `id -u` failed: {}",
            out.diagnostic()
        )),
        Err(e) => UidLookup::Failed(format!("{why_passwd}; {e}")),
    }
}

fn is_not_found(e: &DockerError) -> bool {
    matches!(
        e,
        DockerError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// A single file of the container, through `GET /containers/{id}/archive` (a tar stream).
async fn read_file(
    docker: &Docker,
    t: &Timeouts,
    container: &str,
    path: &str,
) -> Result<String, String> {
    let what = format!("reading {path} from the container");
    let read = async {
        let opts = DownloadFromContainerOptionsBuilder::new()
            .path(path)
            .build();
        let mut stream = docker.download_from_container(container, Some(opts));
        let mut tar = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                if is_not_found(&e) {
                    format!("no {path} in the container")
                } else {
                    e.to_string()
                }
            })?;
            tar.extend_from_slice(&chunk);
            if tar.len() > PASSWD_CAP {
                return Err(format!("{path} is larger than {} KiB", PASSWD_CAP / 1024));
            }
        }
        tar_first_file(&tar).ok_or_else(|| format!("the archive of {path} holds no file"))
    };
    bounded(t.api, &what, read).await
}

/// Whether `path` exists in the container: the archive API answers 404 for a missing path.
/// Only the first tar header is read; the rest of the stream (a whole folder) is dropped.
pub async fn stat_path(
    docker: &Docker,
    t: &Timeouts,
    container: &str,
    path: &str,
) -> Result<Option<PathStat>, String> {
    let probe = async {
        let opts = DownloadFromContainerOptionsBuilder::new()
            .path(path)
            .build();
        let mut stream = docker.download_from_container(container, Some(opts));
        // Read until the first entry's header (after any extended header) is whole.
        let mut head = Vec::with_capacity(512);
        let mut first = None;
        while first.is_none() && head.len() <= HEADER_CAP {
            match stream.next().await {
                Some(Ok(chunk)) => head.extend_from_slice(&chunk),
                Some(Err(e)) if is_not_found(&e) => return Ok(None),
                Some(Err(e)) => return Err(e.to_string()),
                None => break,
            }
            first = tar_first_entry(&head);
        }
        // An answer without a readable header still means the path is there.
        Ok(Some(first.unwrap_or(PathStat {
            kind: "other".into(),
            size: 0,
        })))
    };
    bounded(
        t.api,
        &format!("looking for {path} in the container"),
        probe,
    )
    .await
}

//! Containers labcheck makes for a moment: one-shot helpers that run a probe as their only
//! process (for images without the tools, other network namespaces, the learner's files), and
//! scratch containers the drills keep running. Each is labelled, bounded and removed.

use std::collections::HashMap;

use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig, Mount};
use bollard::query_parameters::{
    AttachContainerOptions, CreateContainerOptions, RemoveContainerOptions, StartContainerOptions,
};
use bollard::Docker;
use futures_util::StreamExt;

use super::exec::{collect, ExecOutput};
use super::{bounded, Timeouts};

/// Images tried, in order, for a helper container.
pub const HELPER_IMAGES: &[&str] = &["busybox", "alpine"];

/// The label that marks labcheck's helper containers.
pub const HELPER_LABEL: &str = "org.compose-lab.labcheck-helper";

/// The label of everything labcheck makes: helpers, scratch servers, scratch volumes.
pub const PROBE_LABEL: &str = "org.compose-lab.probe";

/// The first helper image present on the engine, or a message saying what to do.
pub async fn helper_image(docker: &Docker, t: &Timeouts) -> Result<&'static str, String> {
    for image in HELPER_IMAGES {
        if bounded(t.api, "inspecting image", docker.inspect_image(image))
            .await
            .is_ok()
        {
            return Ok(image);
        }
    }
    Err(format!(
        "the image has no tool for this check and no helper image ({}) is on the engine; \
         load one (e.g. `docker load -i busybox.tar`, or `scripts/images.sh` in Compose Lab) and run labcheck again",
        HELPER_IMAGES.join(" or ")
    ))
}

/// The network a one-shot helper sees.
#[derive(Debug, Clone, Copy)]
pub enum HelperNet<'a> {
    /// The network namespace of this container (its ID).
    ContainerOf(&'a str),
    /// This network alone.
    Network(&'a str),
    /// No network at all (the quickest to start: no namespace to set up).
    Disabled,
}

/// What a one-shot helper ran on: its image and output.
pub struct OneShot {
    pub image: &'static str,
    pub out: ExecOutput,
}

/// Prints the command's exit code after its output (`\nlabcheck-exit N`), so that the code
/// survives the helper's auto-removal (the engine forgets a removed container's state).
const WRAP: &str = r#""$@"; printf '\nlabcheck-exit %s\n' "$?""#;
/// How [`WRAP`]'s last line starts.
const EXIT_MARK: &str = "\nlabcheck-exit ";
/// How much of stdout's end is kept apart, so that the exit code is found after a long output
/// was cut at [`super::exec::OUTPUT_CAP`].
const TAIL: usize = 64;

/// Run `cmd` as the only process of a fresh helper container, attached before it starts, and
/// collect its output and exit code, bounded by `t.exec`. No exec and no removal call sit on
/// the path: the helper ends with its command and the engine removes it (auto-remove); it is
/// force-removed only when something went wrong. `cmd` needs a shell in the helper image.
pub async fn run(
    docker: &Docker,
    t: &Timeouts,
    net: HelperNet<'_>,
    mounts: Vec<Mount>,
    cmd: &[&str],
) -> Result<OneShot, String> {
    let image = helper_image(docker, t).await?;
    let mut argv: Vec<String> = vec!["sh".into(), "-c".into(), WRAP.into(), "sh".into()];
    argv.extend(cmd.iter().map(|s| s.to_string()));
    let (network_mode, network_disabled) = match net {
        HelperNet::ContainerOf(id) => (Some(format!("container:{id}")), None),
        HelperNet::Network(n) => (Some(n.to_string()), None),
        HelperNet::Disabled => (None, Some(true)),
    };
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(argv),
        network_disabled,
        host_config: Some(HostConfig {
            network_mode,
            mounts: Some(mounts),
            auto_remove: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    let (id, mut guard) = create(docker, t, body).await?;
    let what = format!("the helper running `{}`", cmd.join(" "));
    let ran = bounded(t.exec, &what, async {
        let attached = docker
            .attach_container(
                &id,
                Some(AttachContainerOptions {
                    stream: true,
                    stdout: true,
                    stderr: true,
                    ..Default::default()
                }),
            )
            .await
            .map_err(|e| format!("attaching to the helper: {e}"))?;
        docker
            .start_container(&id, None::<StartContainerOptions>)
            .await
            .map_err(|e| format!("starting the helper: {e}"))?;
        // stdout's last bytes, kept apart from the (capped) output
        let mut tail: Vec<u8> = Vec::new();
        let output = attached.output.inspect(|chunk| {
            if let Ok(LogOutput::StdOut { message }) = chunk {
                tail.extend_from_slice(message);
                tail.drain(..tail.len().saturating_sub(TAIL));
            }
        });
        let out = collect(output).await?;
        Ok::<_, String>(unwrap_exit(out, &String::from_utf8_lossy(&tail)))
    })
    .await;
    match ran {
        Ok(out) if out.exit_code.is_some() => {
            guard.disarm(); // it has ended: auto-remove takes it
            Ok(OneShot { image, out })
        }
        Ok(out) => {
            guard.remove().await;
            let why = if out.truncated {
                " (its output was too long)"
            } else {
                ""
            };
            Err(format!(
                "the helper ended without finishing `{}`{why}",
                cmd.join(" ")
            ))
        }
        Err(e) => {
            guard.remove().await;
            Err(e)
        }
    }
}

/// The exit code from [`WRAP`]'s last line, found in `tail` (stdout's end), and that line
/// taken off stdout (unless the cap already cut it off).
fn unwrap_exit(mut out: ExecOutput, tail: &str) -> ExecOutput {
    if let Some(at) = tail.rfind(EXIT_MARK) {
        out.exit_code = tail[at + EXIT_MARK.len()..].trim().parse().ok();
    }
    if let Some(at) = out.stdout.rfind(EXIT_MARK) {
        out.stdout.truncate(at);
    }
    out
}

/// Run `cmd` in a one-shot helper that shares `container`'s network namespace. Returns the
/// output and the helper's image.
pub async fn in_helper(
    docker: &Docker,
    t: &Timeouts,
    container: &str,
    cmd: &[&str],
) -> Result<(ExecOutput, &'static str), String> {
    let r = run(docker, t, HelperNet::ContainerOf(container), vec![], cmd).await?;
    Ok((r.out, r.image))
}

/// The labels of every container labcheck makes (helpers, scratch servers), so they can be
/// found and removed.
pub(crate) fn helper_labels() -> HashMap<String, String> {
    [HELPER_LABEL, PROBE_LABEL]
        .into_iter()
        .map(|l| (l.to_string(), "true".to_string()))
        .collect()
}

/// A container labcheck keeps running for a while (a drill's scratch server): removed on
/// `remove()`, or in the background if the probe is dropped first.
pub(crate) struct Scratch {
    pub id: String,
    guard: HelperGuard,
}

impl Scratch {
    /// Create and start a container from `image` running `cmd`, labelled as labcheck's.
    pub(crate) async fn start(
        docker: &Docker,
        t: &Timeouts,
        image: &str,
        cmd: Option<Vec<String>>,
        env: Vec<String>,
        host: HostConfig,
    ) -> Result<Scratch, String> {
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            cmd,
            env: Some(env),
            host_config: Some(host),
            ..Default::default()
        };
        let (id, guard) = create(docker, t, body).await?;
        let s = Scratch { id, guard };
        bounded(
            t.api,
            "starting a helper container",
            docker.start_container(&s.id, None::<StartContainerOptions>),
        )
        .await?;
        Ok(s)
    }

    pub(crate) async fn remove(mut self) {
        self.guard.remove().await;
    }
}

/// Create a container labelled as labcheck's, with the guard that removes it.
async fn create(
    docker: &Docker,
    t: &Timeouts,
    body: ContainerCreateBody,
) -> Result<(String, HelperGuard), String> {
    let body = ContainerCreateBody {
        labels: Some(helper_labels()),
        ..body
    };
    let created = bounded(
        t.api,
        "creating a helper container",
        docker.create_container(None::<CreateContainerOptions>, body),
    )
    .await?;
    let guard = HelperGuard::new(docker, &created.id, t);
    Ok((created.id, guard))
}

/// Removes a container labcheck made, even when the probe is dropped half-way (a skipped
/// check, a timeout).
struct HelperGuard {
    docker: Docker,
    id: Option<String>,
    limit: std::time::Duration,
}

impl HelperGuard {
    fn new(docker: &Docker, id: &str, t: &Timeouts) -> HelperGuard {
        HelperGuard {
            docker: docker.clone(),
            id: Some(id.to_string()),
            limit: t.api,
        }
    }

    async fn remove(&mut self) {
        if let Some(id) = self.id.take() {
            let _ = remove(&self.docker, &id, self.limit).await;
        }
    }

    /// The container removes itself.
    fn disarm(&mut self) {
        self.id = None;
    }
}

async fn remove(docker: &Docker, id: &str, limit: std::time::Duration) -> Result<(), String> {
    bounded(
        limit,
        "removing the helper container",
        docker.remove_container(
            id,
            Some(RemoveContainerOptions {
                force: true,
                v: true,
                link: false,
            }),
        ),
    )
    .await
}

impl Drop for HelperGuard {
    fn drop(&mut self) {
        if let (Some(id), Ok(handle)) = (self.id.take(), tokio::runtime::Handle::try_current()) {
            let docker = self.docker.clone();
            let limit = self.limit;
            // best effort: auto-remove covers a runtime that ends first
            handle.spawn(async move {
                let _ = remove(&docker, &id, limit).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_mark_is_taken_off_stdout() {
        let out = |s: &str| ExecOutput {
            stdout: s.into(),
            ..Default::default()
        };
        let done = |s: &str| unwrap_exit(out(s), &s[s.len().saturating_sub(TAIL)..]);
        assert!(WRAP.contains(&EXIT_MARK.replace('\n', "\\n")));
        let o = done("reached 10.0.0.2\ncut\n\nlabcheck-exit 0\n");
        assert_eq!(
            (o.exit_code, o.stdout.as_str()),
            (Some(0), "reached 10.0.0.2\ncut\n")
        );
        // output without a final newline keeps its last line whole
        let o = done("no newline\nlabcheck-exit 1\n");
        assert_eq!((o.exit_code, o.stdout.as_str()), (Some(1), "no newline"));
        // a helper that died before the mark has no exit code
        assert_eq!(done("partial").exit_code, None);
        // output cut at the cap: the code is still read from the tail kept apart
        let o = unwrap_exit(out("entry 1\nentry 2\n"), "entry 9999\n\nlabcheck-exit 0\n");
        assert_eq!(
            (o.exit_code, o.stdout.as_str()),
            (Some(0), "entry 1\nentry 2\n")
        );
    }
}

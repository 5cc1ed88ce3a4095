//! Exec in a container (capped output, bounded time) and short-lived helper containers that
//! share a container's network namespace when its image has no suitable tool.

use std::collections::HashMap;

use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CreateContainerOptions, RemoveContainerOptions};
use bollard::Docker;
use futures_util::StreamExt;

use super::{bounded, Timeouts};

/// Most output kept from one exec.
pub const OUTPUT_CAP: usize = 64 * 1024;

/// Images tried, in order, for a helper container.
pub const HELPER_IMAGES: &[&str] = &["busybox", "alpine"];

/// The label that marks labcheck's helper containers.
pub const HELPER_LABEL: &str = "org.compose-lab.labcheck-helper";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub exit_code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    pub truncated: bool,
}

impl ExecOutput {
    /// The command (or the shell) was not found in the image.
    pub fn tool_missing(&self) -> bool {
        matches!(self.exit_code, Some(126) | Some(127))
            || self.stdout.contains("executable file not found")
            || self.stderr.contains("executable file not found")
    }

    /// stderr, or stdout when stderr is empty, trimmed to its last lines.
    pub fn diagnostic(&self) -> String {
        let text = if self.stderr.trim().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        let lines: Vec<&str> = text.trim().lines().collect();
        lines[lines.len().saturating_sub(3)..].join(" | ")
    }
}

/// Run `cmd` in `container` and collect its output (capped at [`OUTPUT_CAP`]) and exit code.
/// The whole exec, output included, is bounded by `t.exec`: a hung command is an error.
pub async fn exec(
    docker: &Docker,
    t: &Timeouts,
    container: &str,
    cmd: &[&str],
) -> Result<ExecOutput, String> {
    let what = format!("exec `{}` in {}", cmd.join(" "), short(container));
    let run = async {
        let created = docker
            .create_exec(
                container,
                CreateExecOptions {
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(cmd.to_vec()),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        let mut out = ExecOutput::default();
        if let StartExecResults::Attached { mut output, .. } = docker
            .start_exec(
                &created.id,
                Some(StartExecOptions {
                    detach: false,
                    tty: false,
                    output_capacity: Some(OUTPUT_CAP),
                }),
            )
            .await
            .map_err(|e| e.to_string())?
        {
            let mut total = 0usize;
            while let Some(chunk) = output.next().await {
                let chunk = chunk.map_err(|e| e.to_string())?;
                let (is_err, bytes) = match chunk {
                    bollard::container::LogOutput::StdErr { message } => (true, message),
                    bollard::container::LogOutput::StdOut { message }
                    | bollard::container::LogOutput::Console { message } => (false, message),
                    bollard::container::LogOutput::StdIn { .. } => continue,
                };
                let room = OUTPUT_CAP.saturating_sub(total);
                if room == 0 {
                    out.truncated = true;
                    continue; // drain, so the exec can finish
                }
                let take = &bytes[..bytes.len().min(room)];
                out.truncated |= take.len() < bytes.len();
                total += take.len();
                let s = String::from_utf8_lossy(take);
                if is_err {
                    out.stderr.push_str(&s)
                } else {
                    out.stdout.push_str(&s)
                }
            }
        }
        let inspect = docker
            .inspect_exec(&created.id)
            .await
            .map_err(|e| e.to_string())?;
        out.exit_code = inspect.exit_code;
        Ok::<_, String>(out)
    };
    bounded(t.exec, &what, run).await
}

fn short(id: &str) -> &str {
    if id.len() == 64 {
        &id[..12]
    } else {
        id
    }
}

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

/// Run `cmd` in a short-lived helper container that shares `container`'s network namespace.
/// The helper is auto-removed, and removed explicitly as well. Returns the output and image.
pub async fn in_helper(
    docker: &Docker,
    t: &Timeouts,
    container: &str,
    cmd: &[&str],
) -> Result<(ExecOutput, &'static str), String> {
    let helper = Helper::start(docker, t, &format!("container:{container}")).await?;
    let out = helper.exec(cmd).await;
    helper.remove().await;
    out.map(|o| (o, helper.image))
}

/// A running helper container; several execs may run in it at once.
pub struct Helper<'a> {
    docker: &'a Docker,
    t: &'a Timeouts,
    pub id: String,
    pub image: &'static str,
    guard: tokio::sync::Mutex<HelperGuard>,
}

impl<'a> Helper<'a> {
    /// Start a helper whose `NetworkMode` is `network_mode` (`container:<id>`, or a network name).
    pub async fn start(
        docker: &'a Docker,
        t: &'a Timeouts,
        network_mode: &str,
    ) -> Result<Helper<'a>, String> {
        let image = helper_image(docker, t).await?;
        let (id, guard) = create_helper(docker, t, image, network_mode).await?;
        let helper = Helper {
            docker,
            t,
            id,
            image,
            guard: tokio::sync::Mutex::new(guard),
        };
        bounded(
            t.api,
            "starting the helper container",
            docker.start_container(
                &helper.id,
                None::<bollard::query_parameters::StartContainerOptions>,
            ),
        )
        .await?;
        Ok(helper)
    }

    pub async fn exec(&self, cmd: &[&str]) -> Result<ExecOutput, String> {
        exec(self.docker, self.t, &self.id, cmd).await
    }

    pub async fn remove(&self) {
        self.guard.lock().await.remove().await;
    }
}

async fn create_helper(
    docker: &Docker,
    t: &Timeouts,
    image: &'static str,
    network_mode: &str,
) -> Result<(String, HelperGuard), String> {
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        // Bounded life even if labcheck dies before cleaning up; auto-remove does the rest.
        cmd: Some(vec!["sleep".into(), "30".into()]),
        labels: Some(helper_labels()),
        network_disabled: None,
        host_config: Some(HostConfig {
            network_mode: Some(network_mode.to_string()),
            auto_remove: Some(true),
            ..Default::default()
        }),
        ..Default::default()
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

/// The labels of every container labcheck makes (helpers, scratch servers), so they can be
/// found and removed.
pub(crate) fn helper_labels() -> HashMap<String, String> {
    [HELPER_LABEL, "org.compose-lab.probe"]
        .into_iter()
        .map(|l| (l.to_string(), "true".to_string()))
        .collect()
}

/// Removes a container labcheck made, even when the probe is dropped half-way (a skipped
/// check, a timeout).
pub(crate) struct HelperGuard {
    docker: Docker,
    id: Option<String>,
    limit: std::time::Duration,
}

impl HelperGuard {
    pub(crate) fn new(docker: &Docker, id: &str, t: &Timeouts) -> HelperGuard {
        HelperGuard {
            docker: docker.clone(),
            id: Some(id.to_string()),
            limit: t.api,
        }
    }

    pub(crate) async fn remove(&mut self) {
        if let Some(id) = self.id.take() {
            let _ = remove(&self.docker, &id, self.limit).await;
        }
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
            // best effort: auto-remove and the helper's 30 s lifetime cover a runtime that ends first
            handle.spawn(async move {
                let _ = remove(&docker, &id, limit).await;
            });
        }
    }
}

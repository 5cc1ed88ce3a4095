//! Putting the stack back after a drill, so a learner never repairs it by hand:
//! - persistence: the volumes `down -v` deletes are copied first (the container is already
//!   stopped, so the copy is consistent) into labcheck volumes, and copied back afterwards;
//! - self-heal: a container the learner's manager did not bring back is started again (killed)
//!   or has its chaos file removed (unhealthy), then awaited.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::models::{HealthStatusEnum, HostConfig, Mount, MountTypeEnum, VolumeCreateOptions};
use bollard::query_parameters::{
    InspectContainerOptions, RemoveVolumeOptions, StartContainerOptions, StopContainerOptions,
};
use bollard::Docker;

use crate::limits::{bounded, Timeouts};
use crate::probe::exec::exec;
use crate::probe::helper::{helper_image, Scratch, PROBE_LABEL};

/// A volume's contents saved in a labcheck volume.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub volume: String,
    pub copy: String,
}

fn vol(source: &str, target: &str, read_only: bool) -> Mount {
    Mount {
        target: Some(target.into()),
        source: Some(source.into()),
        typ: Some(MountTypeEnum::VOLUME),
        read_only: Some(read_only),
        ..Default::default()
    }
}

/// `/from` copied onto `/to` (emptied first) in a helper with no network, which is then removed.
async fn copy(docker: &Docker, t: &Timeouts, from: &str, to: &str) -> Result<(), String> {
    let image = helper_image(docker, t).await?;
    let host = HostConfig {
        network_mode: Some("none".into()),
        mounts: Some(vec![vol(from, "/from", true), vol(to, "/to", false)]),
        ..Default::default()
    };
    let cmd = Some(vec!["sleep".into(), "300".into()]);
    let helper = Scratch::start(docker, t, image, cmd, vec![], host).await?;
    // `cp -a` keeps owners and modes (a PostgreSQL data directory must stay 0700, its owner's).
    let script = "rm -rf /to/..?* /to/.[!.]* /to/* && cp -a /from/. /to/";
    let out = exec(docker, t, &helper.id, &["sh", "-c", script]).await;
    helper.remove().await;
    match out {
        Ok(o) if o.exit_code == Some(0) => Ok(()),
        Ok(o) => Err(format!("copying {from} to {to} failed: {}", o.diagnostic())),
        Err(e) => Err(e),
    }
}

/// Save `volume` into a new labcheck volume. Nothing may write to it meanwhile.
pub async fn save(
    docker: &Docker,
    t: &Timeouts,
    volume: &str,
    token: &str,
) -> Result<Kept, String> {
    let copy_name = format!("labcheck-keep-{token}-{volume}");
    scratch_volume(docker, t, &copy_name, "a volume for the saved copy").await?;
    if let Err(e) = copy(docker, t, volume, &copy_name).await {
        drop_volume(docker, t, &copy_name, "the saved copy").await;
        return Err(format!("saving {volume}: {e}"));
    }
    Ok(Kept {
        volume: volume.into(),
        copy: copy_name,
    })
}

/// Create the volume `name`, labelled as labcheck's so that it can be found and removed.
pub(super) async fn scratch_volume(
    docker: &Docker,
    t: &Timeouts,
    name: &str,
    what: &str,
) -> Result<(), String> {
    let labels = HashMap::from([(PROBE_LABEL.to_string(), "true".to_string())]);
    let options = VolumeCreateOptions {
        name: Some(name.to_string()),
        labels: Some(labels),
        ..Default::default()
    };
    bounded(
        t.api,
        &format!("creating {what}"),
        docker.create_volume(options),
    )
    .await?;
    Ok(())
}

/// Remove a volume labcheck made (`what` names it in a timeout's message); best effort.
pub(super) async fn drop_volume(docker: &Docker, t: &Timeouts, name: &str, what: &str) {
    let options = Some(RemoveVolumeOptions { force: true });
    let _ = bounded(
        t.api,
        &format!("removing {what}"),
        docker.remove_volume(name, options),
    )
    .await;
}

/// Remove saved copies that are no longer needed.
pub async fn discard(docker: &Docker, t: &Timeouts, kept: &[Kept]) {
    for k in kept {
        drop_volume(docker, t, &k.copy, "the saved copy").await;
    }
}

/// Stop the container `id`, copy each saved volume back, start it and wait until it is healthy
/// (or running, without a healthcheck). The copies are removed once they are back.
pub async fn put_back(
    docker: &Docker,
    t: &Timeouts,
    id: &str,
    name: &str,
    kept: &[Kept],
    limit: Duration,
) -> Result<(), String> {
    bounded(
        t.api + Duration::from_secs(10),
        &format!("stopping {name}"),
        docker.stop_container(
            id,
            Some(StopContainerOptions {
                t: Some(10),
                signal: None,
            }),
        ),
    )
    .await?;
    for k in kept {
        copy(docker, t, &k.copy, &k.volume).await.map_err(|e| {
            format!(
                "{e}; your data is still in the volume {} (copy it back into {} by hand, or start over with `labcheck reset`)",
                k.copy, k.volume
            )
        })?;
    }
    start_and_wait(docker, t, id, name, limit).await?;
    discard(docker, t, kept).await;
    Ok(())
}

/// Start `id` (if it is not running) and wait until it is healthy.
pub async fn start_and_wait(
    docker: &Docker,
    t: &Timeouts,
    id: &str,
    name: &str,
    limit: Duration,
) -> Result<(), String> {
    let running = inspect(docker, t, id).await?.0;
    if !running {
        bounded(
            t.api,
            &format!("starting {name}"),
            docker.start_container(id, None::<StartContainerOptions>),
        )
        .await?;
    }
    let deadline = Instant::now() + limit;
    loop {
        let (running, health) = inspect(docker, t, id).await?;
        match health {
            Some(HealthStatusEnum::HEALTHY) if running => return Ok(()),
            None | Some(HealthStatusEnum::EMPTY) if running => return Ok(()),
            _ => {}
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{name} was not running and healthy within {} s after labcheck put it back",
                limit.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn inspect(
    docker: &Docker,
    t: &Timeouts,
    id: &str,
) -> Result<(bool, Option<HealthStatusEnum>), String> {
    let c = bounded(
        t.api,
        "inspecting the container",
        docker.inspect_container(id, None::<InspectContainerOptions>),
    )
    .await?;
    let s = c.state.unwrap_or_default();
    Ok((s.running.unwrap_or(false), s.health.and_then(|h| h.status)))
}

/// Longest labcheck waits for a container it put back after a self-heal drill.
const HEAL_BACK: Duration = Duration::from_secs(60);

/// After a self-heal drill the learner's manager did not finish: remove the chaos file (a
/// container still running) and start the container (one that is stopped), then wait until it
/// is healthy. Returns what was done.
pub async fn after_heal(
    docker: &Docker,
    t: &Timeouts,
    id: &str,
    name: &str,
    action: super::HealAction,
    chaos_file: Option<&str>,
) -> Result<String, String> {
    let (running, _) = inspect(docker, t, id).await?;
    let mut done = Vec::new();
    if let (super::HealAction::Unhealthy, Some(file), true) = (action, chaos_file, running) {
        let out = exec(docker, t, id, &["rm", "-f", file]).await?;
        if out.exit_code != Some(0) {
            return Err(format!(
                "`rm -f {file}` in {name} failed: {}",
                out.diagnostic()
            ));
        }
        done.push(format!("removed {file} in {name}"));
    }
    if !running {
        done.push(format!("started {name} again"));
    }
    start_and_wait(docker, t, id, name, HEAL_BACK).await?;
    done.push("it is healthy".into());
    Ok(done.join(", "))
}

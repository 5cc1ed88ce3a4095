//! The restore drill: the newest backup unpacked into a scratch volume, served by a scratch
//! server from the service's image, and asked a query. Both are removed; the stack is not
//! touched.

use std::time::{Duration, Instant};

use bollard::models::{HostConfig, Mount, MountTypeEnum};
use bollard::query_parameters::InspectContainerOptions;
use bollard::Docker;

use super::restore::{drop_volume, scratch_volume};
use super::{token, Drill};
use crate::probe::exec::exec;
use crate::probe::ext::{bind_ro, glob_parts, working_dir, LIST_SCRIPT};
use crate::probe::ext_facts::Step;
use crate::probe::facts::ContainerFacts;
use crate::probe::helper::{helper_image, Scratch};
use crate::probe::{bounded, container, Timeouts};

/// Longest the scratch server of the restore drill may take to accept connections.
const READY_LIMIT: Duration = Duration::from_secs(30);

/// The restore drill: the tarball used, its steps, and the query's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreFacts {
    pub file: Option<String>,
    pub steps: Vec<Step>,
    pub result: Result<String, String>,
}

/// The restore drill: the newest backup matching `path` (next to the compose file of `c`)
/// unpacked into a scratch volume, a scratch server from `c`'s image on it, and `query` asked
/// there. Both are removed; the stack is not touched.
pub async fn restore(d: &Drill<'_>, c: &ContainerFacts, path: &str, query: &str) -> RestoreFacts {
    let (docker, t) = (d.docker, d.t);
    let mut steps = Vec::new();
    let wd = match working_dir(c) {
        Ok(w) => w,
        Err(e) => {
            return RestoreFacts {
                file: None,
                steps,
                result: Err(e),
            }
        }
    };
    let (dir, pattern) = glob_parts(&wd, path);
    let image = match bounded(
        t.api,
        "inspecting the service's container",
        docker.inspect_container(&c.id, None::<InspectContainerOptions>),
    )
    .await
    {
        Ok(r) => r.config.and_then(|c| c.image).unwrap_or_default(),
        Err(e) => {
            return RestoreFacts {
                file: None,
                steps,
                result: Err(e),
            }
        }
    };
    let volume = format!("labcheck-restore-{}", token());
    if let Err(e) = scratch_volume(docker, t, &volume, "the scratch volume").await {
        return RestoreFacts {
            file: None,
            steps,
            result: Err(e),
        };
    }
    let mut file = None;
    let result = restore_into(
        docker, t, c, &dir, &pattern, &image, &volume, query, &mut steps, &mut file,
    )
    .await;
    drop_volume(docker, t, &volume, "the scratch volume").await;
    RestoreFacts {
        file,
        steps,
        result,
    }
}

#[allow(clippy::too_many_arguments)]
async fn restore_into(
    docker: &Docker,
    t: &Timeouts,
    c: &ContainerFacts,
    dir: &str,
    pattern: &str,
    image: &str,
    volume: &str,
    query: &str,
    steps: &mut Vec<Step>,
    file: &mut Option<String>,
) -> Result<String, String> {
    let clock = Instant::now();
    let vol = |target: &str| Mount {
        target: Some(target.into()),
        source: Some(volume.to_string()),
        typ: Some(MountTypeEnum::VOLUME),
        ..Default::default()
    };
    // 1. unpack the newest tarball in a helper
    let helper_img = helper_image(docker, t).await?;
    let host = HostConfig {
        network_mode: Some("none".into()),
        mounts: Some(vec![bind_ro(dir), vol("/data")]),
        ..Default::default()
    };
    let helper = Scratch::start(
        docker,
        t,
        helper_img,
        Some(vec!["sleep".into(), "120".into()]),
        vec![],
        host,
    )
    .await
    .map_err(|e| {
        if e.contains("bind source path does not exist") {
            format!("the folder {dir} does not exist on the Docker host")
        } else {
            e
        }
    })?;
    let unpacked = async {
        let listed = exec(
            docker,
            t,
            &helper.id,
            &["sh", "-c", LIST_SCRIPT, "sh", pattern],
        )
        .await?;
        let mut files: Vec<&str> = listed.stdout.lines().filter(|l| !l.is_empty()).collect();
        files.sort();
        let newest = files
            .last()
            .ok_or_else(|| format!("no file matches {pattern} in {dir}"))?
            .to_string();
        *file = Some(newest.clone());
        let out = exec(
            docker,
            t,
            &helper.id,
            &["tar", "-xzf", &format!("/b/{newest}"), "-C", "/data"],
        )
        .await?;
        if out.exit_code != Some(0) {
            return Err(format!("tar -xzf {newest} failed: {}", out.diagnostic()));
        }
        Ok::<_, String>(newest)
    }
    .await;
    helper.remove().await;
    let newest = unpacked?;
    steps.push(Step {
        what: format!("unpacked {newest} into the scratch volume {volume}"),
        secs: clock.elapsed().as_secs_f64(),
    });

    // 2. a server from the service's own image on that volume: no network, no init scripts
    let clock = Instant::now();
    let env: Vec<String> = c
        .env
        .iter()
        .filter(|kv| kv.starts_with("POSTGRES_") || kv.starts_with("PG"))
        .cloned()
        .collect();
    let host = HostConfig {
        network_mode: Some("none".into()),
        mounts: Some(vec![vol("/var/lib/postgresql/data")]),
        ..Default::default()
    };
    let server = Scratch::start(docker, t, image, None, env, host).await?;
    let user = c
        .env_var("POSTGRES_USER")
        .filter(|v| !v.is_empty())
        .unwrap_or("postgres")
        .to_string();
    let db = c
        .env_var("POSTGRES_DB")
        .filter(|v| !v.is_empty())
        .unwrap_or(&user)
        .to_string();
    let answer = async {
        let deadline = Instant::now() + READY_LIMIT;
        loop {
            let r = exec(docker, t, &server.id, &["pg_isready", "-h", "127.0.0.1", "-U", &user, "-d", &db]).await;
            if matches!(&r, Ok(o) if o.exit_code == Some(0)) {
                break;
            }
            let state = container::inspect(docker, t, &server.id).await.map(|f| (f.running, f.status, f.exit_code));
            if let Ok((false, status, code)) = state {
                return Err(format!("the restored server stopped ({status}, exit code {}) before accepting connections", code.unwrap_or_default()));
            }
            if Instant::now() >= deadline {
                return Err(format!("the restored server did not accept connections within {} s", READY_LIMIT.as_secs()));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        steps.push(Step { what: format!("a {image} server on the restored data accepted connections"), secs: clock.elapsed().as_secs_f64() });
        let out = exec(docker, t, &server.id, &["psql", "-X", "-U", &user, "-d", &db, "-tAc", query]).await?;
        if out.exit_code == Some(0) {
            Ok(out.stdout.trim().to_string())
        } else {
            Err(format!("the query failed on the restored data: {}", out.diagnostic()))
        }
    }
    .await;
    server.remove().await;
    answer
}

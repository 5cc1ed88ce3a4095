//! Drills: the probes that change state. They run only with `--drill`, after every read-only
//! check, one at a time (run.rs), and each step has a time limit.
//!
//! - persistence: what `docker compose down` and `up` do to the service's container (removed,
//!   created again from its own definition), then the same with `down -v` (recreate.rs);
//! - restore: the newest backup into a scratch volume and a scratch server (both removed)
//!   (backup.rs);
//! - self-heal: kill or break one container and watch the learner's manager restore it.
//!
//! restore.rs puts the stack back after the persistence and self-heal drills.

mod backup;
pub mod recreate;
pub mod restore;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::models::HealthStatusEnum;
use bollard::query_parameters::{
    InspectContainerOptions, KillContainerOptions, ListContainersOptions,
};
use bollard::Docker;
use serde::Deserialize;

use crate::probe::cx::ProbeCx;
use crate::probe::exec::exec;
use crate::probe::ext_facts::Step;
use crate::probe::facts::ContainerFacts;
use crate::probe::{bounded, container, postgres, Timeouts};
use crate::target::labels::{LABEL_ONEOFF, LABEL_PROJECT, LABEL_SERVICE};
use crate::verdict::{fail, Judgement};
use recreate::{recreate_keeping, Down};
use restore::Kept;

pub use backup::{restore, RestoreFacts};

/// Longest a recreated container may take to be healthy again.
const UP_LIMIT: Duration = Duration::from_secs(120);

/// What a `self_heal` drill does to one container of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealAction {
    /// SIGKILL through the Engine API, as `docker kill` does.
    Kill,
    /// Create `chaos_file` in the container, which makes its healthcheck fail.
    Unhealthy,
}

/// The persistence drill: the marker after `down`/`up`, the table after `down -v`/`up`, and
/// the extra query after it. `error` stops the drill at a step.
#[derive(Debug, Clone, PartialEq)]
pub struct PersistenceFacts {
    pub steps: Vec<Step>,
    pub marker_after_down: Option<Result<String, String>>,
    pub table_gone_after_down_v: Option<Result<String, String>>,
    pub query_after: Option<Result<String, String>>,
    /// The volumes the `down -v` half deleted (and created again, empty).
    pub volumes_removed: Vec<String>,
    pub error: Option<String>,
    /// Why the stack could not be put back as it was before the drill (its data copied back,
    /// the marker table dropped); None when it was.
    pub restore_error: Option<String>,
}

/// The self-heal drill on one container.
#[derive(Debug, Clone, PartialEq)]
pub struct HealFacts {
    pub container: String,
    /// Seconds after the action when the container was first seen down or not healthy.
    pub down_after: Option<f64>,
    /// Seconds after the action when it was running and healthy again (after being down).
    pub healthy_after: Option<f64>,
    /// The last state seen (`exited (137)`, `running, unhealthy`, ...).
    pub last_state: String,
    pub error: Option<String>,
    /// When the container did not come back by itself: what labcheck did to put it back, or
    /// why it could not.
    pub put_back: Option<Result<String, String>>,
}

/// What a drill works on: the engine and the compose project.
#[derive(Clone, Copy)]
pub struct Drill<'a> {
    pub docker: &'a Docker,
    pub t: &'a Timeouts,
    /// Where the engine is (container IPs are reachable from here only on a local engine).
    pub endpoint: &'a str,
    pub project: &'a str,
    /// The run's stack: the learner's name of each lab service.
    pub stack: &'a crate::target::Stack,
}

impl<'a> Drill<'a> {
    /// The drill of this run's stack; drills need a compose project.
    pub fn of(cx: &'a ProbeCx<'_>) -> Result<Drill<'a>, Judgement> {
        let project = cx
            .project()
            .ok_or_else(|| fail("drills need a compose project"))?;
        Ok(Drill {
            docker: cx.docker(),
            t: cx.timeouts(),
            endpoint: cx.endpoint(),
            project,
            stack: cx.stack,
        })
    }

    /// The running container of `service`, inspected now: an earlier drill may have replaced
    /// the one seen at the start.
    pub async fn container(&self, service: &str) -> Result<ContainerFacts, Judgement> {
        find(self.docker, self.t, self.project, self.stack.yours(service))
            .await
            .map_err(fail)
    }

    /// Every container of `service`, inspected now.
    pub async fn containers(&self, service: &str) -> Vec<ContainerFacts> {
        let service = self.stack.yours(service);
        let listed = crate::target::list_services(
            self.docker,
            self.t,
            self.project,
            std::slice::from_ref(&service.to_string()),
        )
        .await;
        let mut fresh =
            crate::probe::ext::replicas(self.docker, self.t, &listed, &HashMap::new()).await;
        fresh.remove(service).unwrap_or_default()
    }
}

fn token() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", n & 0xffff_ffff_ffff, std::process::id())
}

/// The first value of the first row, or the error. Over the container's IP where the host can
/// reach it, else with `psql` inside the container (a remote engine).
async fn scalar(d: &Drill<'_>, c: &ContainerFacts, sql: &str) -> Result<String, String> {
    let r = postgres::query_anywhere(d.docker, d.t, d.endpoint, c, sql).await;
    r.rows.map(|rows| {
        rows.first()
            .and_then(|r| r.first())
            .cloned()
            .flatten()
            .unwrap_or_default()
    })
}

/// The running container of `service` in `project`, inspected.
async fn find(
    docker: &Docker,
    t: &Timeouts,
    project: &str,
    service: &str,
) -> Result<ContainerFacts, String> {
    let mut filters = HashMap::new();
    filters.insert(
        "label".to_string(),
        vec![
            format!("{LABEL_PROJECT}={project}"),
            format!("{LABEL_SERVICE}={service}"),
        ],
    );
    filters.insert("status".to_string(), vec!["running".to_string()]);
    let list = bounded(
        t.api,
        "listing containers",
        docker.list_containers(Some(ListContainersOptions {
            all: false,
            filters: Some(filters),
            ..Default::default()
        })),
    )
    .await?;
    let c = list
        .iter()
        .find(|c| {
            !c.labels.as_ref().is_some_and(|l| {
                l.get(LABEL_ONEOFF)
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            })
        })
        .and_then(|c| c.id.clone())
        .ok_or_else(|| format!("no running container of {service}"))?;
    container::inspect(docker, t, &c).await
}

/// A query on a server that has just come up: retried for a few seconds.
async fn settle_scalar(d: &Drill<'_>, service: &str, sql: &str) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = match find(d.docker, d.t, d.project, service).await {
            Ok(c) => scalar(d, &c, sql).await,
            Err(e) => Err(e),
        };
        match r {
            Err(e) if Instant::now() < deadline && !e.contains("ERROR") => {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => return other,
        }
    }
}

/// The persistence drill on `c`, a container of `service`: a marker row in `table`, then
/// `down`/`up` (the row must survive) and `down -v`/`up` (the table must be gone; `query`, when
/// given, is asked afterwards).
pub async fn persistence(
    d: &Drill<'_>,
    c: &ContainerFacts,
    service: &str,
    table: &str,
    query: Option<&str>,
) -> PersistenceFacts {
    let mut steps = Vec::new();
    let facts = |steps: Vec<Step>, a, error: Option<String>| PersistenceFacts {
        steps,
        marker_after_down: a,
        table_gone_after_down_v: None,
        query_after: None,
        volumes_removed: Vec::new(),
        error,
        restore_error: None,
    };
    let (docker, t) = (d.docker, d.t);
    let mark = token();
    let clock = Instant::now();
    if let Err(e) = scalar(d, c, &format!("CREATE TABLE IF NOT EXISTS {table}(v text); INSERT INTO {table} VALUES ('{mark}'); SELECT 1")).await {
        return facts(steps, None, Some(format!("writing the marker row failed: {e}")));
    }
    steps.push(Step {
        what: format!("wrote the marker row into {table}"),
        secs: clock.elapsed().as_secs_f64(),
    });

    // The container is found afresh for each cycle: the first one replaces it. `down -v`
    // saves the volumes it deletes, to put them back after the drill.
    let token = mark.as_str();
    let cycle = |down: Down| async move {
        let clock = Instant::now();
        let c = find(docker, t, d.project, service).await?;
        let keep = (down == Down::RemoveVolumes).then_some(token);
        let (removed, kept) = recreate_keeping(docker, t, &c.id, down, UP_LIMIT, keep).await?;
        let what = match down {
                Down::KeepVolumes => format!("removed {} and created it again, keeping its volumes (compose down, then up)", c.name),
                Down::RemoveVolumes if removed.is_empty() => format!("removed {} and created it again; it mounts no volume of the project (compose down -v, then up)", c.name),
                Down::RemoveVolumes => format!("removed {} and the volume {} (a copy kept aside), then created both again (compose down -v, then up)", c.name, removed.join(", ")),
            };
        let step = Step {
            what,
            secs: clock.elapsed().as_secs_f64(),
        };
        Ok::<_, String>((step, removed, kept))
    };
    let mut f = match cycle(Down::KeepVolumes).await {
        Ok((s, _, _)) => {
            steps.push(s);
            facts(steps, None, None)
        }
        Err(e) => facts(steps, None, Some(e)),
    };
    if f.error.is_some() {
        f.restore_error = put_back(d, service, table, &[], &mut f.steps).await.err();
        return f;
    }
    // A new, empty cluster has no marker table at all: that is "0 rows", not a query error.
    let exists = format!("SELECT (to_regclass('{table}') IS NOT NULL)::text");
    f.marker_after_down = Some(match settle_scalar(d, service, &exists).await {
        Ok(e) if e == "false" => Ok("0".to_string()),
        Ok(_) => {
            let count = format!("SELECT count(*)::text FROM {table} WHERE v = '{mark}'");
            settle_scalar(d, service, &count).await
        }
        Err(e) => Err(e),
    });
    let kept = match cycle(Down::RemoveVolumes).await {
        Ok((s, removed, kept)) => {
            f.steps.push(s);
            f.volumes_removed = removed;
            kept
        }
        Err(e) => {
            f.error = Some(e);
            f.restore_error = put_back(d, service, table, &[], &mut f.steps).await.err();
            return f;
        }
    };
    f.table_gone_after_down_v = Some(
        settle_scalar(
            d,
            service,
            &format!("SELECT (to_regclass('{table}') IS NULL)::text"),
        )
        .await,
    );
    if let Some(q) = query {
        f.query_after = Some(settle_scalar(d, service, q).await);
    }
    f.restore_error = put_back(d, service, table, &kept, &mut f.steps).await.err();
    f
}

/// After the persistence drill: the saved volumes copied back (the service's container stopped
/// meanwhile), then the marker table dropped, so the stack is as it was before the drill.
async fn put_back(
    d: &Drill<'_>,
    service: &str,
    table: &str,
    kept: &[Kept],
    steps: &mut Vec<Step>,
) -> Result<(), String> {
    let clock = Instant::now();
    if !kept.is_empty() {
        let c = find(d.docker, d.t, d.project, service).await.map_err(|e| {
            let copies: Vec<&str> = kept.iter().map(|k| k.copy.as_str()).collect();
            format!("{e}; the data is kept in {}", copies.join(", "))
        })?;
        restore::put_back(d.docker, d.t, &c.id, &c.name, kept, UP_LIMIT).await?;
        let names: Vec<&str> = kept.iter().map(|k| k.volume.as_str()).collect();
        steps.push(Step {
            what: format!(
                "put the data of {} back as it was before the drill and started {} again",
                names.join(", "),
                c.name
            ),
            secs: clock.elapsed().as_secs_f64(),
        });
    }
    let clock = Instant::now();
    settle_scalar(
        d,
        service,
        &format!("DROP TABLE IF EXISTS {table}; SELECT 1"),
    )
    .await
    .map_err(|e| format!("dropping the marker table {table}: {e}"))?;
    steps.push(Step {
        what: format!("dropped the marker table {table}"),
        secs: clock.elapsed().as_secs_f64(),
    });
    Ok(())
}

/// (running, health status, StartedAt) of a container; Err(404 text) when it is gone.
async fn state(
    docker: &Docker,
    t: &Timeouts,
    id: &str,
) -> Result<(bool, String, String, String), String> {
    let r = bounded(
        t.api,
        "inspecting the container",
        docker.inspect_container(id, None::<InspectContainerOptions>),
    )
    .await?;
    let s = r.state.unwrap_or_default();
    let health = s
        .health
        .and_then(|h| h.status)
        .map(|h| {
            if h == HealthStatusEnum::EMPTY {
                "none".to_string()
            } else {
                h.to_string()
            }
        })
        .unwrap_or_else(|| "none".into());
    let status = s.status.map(|s| s.to_string()).unwrap_or_default();
    let shown = match (s.running.unwrap_or(false), s.exit_code) {
        (false, Some(code)) => format!("{status} ({code})"),
        (true, _) => format!("{status}, {health}"),
        _ => status.clone(),
    };
    Ok((
        s.running.unwrap_or(false),
        health,
        s.started_at.unwrap_or_default(),
        shown,
    ))
}

/// The self-heal drill: `action` on the first running, healthy container of `service` (of
/// `all`), then watch it for `within` until it is running and healthy again.
pub async fn self_heal(
    d: &Drill<'_>,
    service: &str,
    all: &[ContainerFacts],
    action: HealAction,
    chaos_file: Option<&str>,
    within: Duration,
) -> HealFacts {
    let (docker, t) = (d.docker, d.t);
    let heal = |container: String, error: Option<String>| HealFacts {
        container,
        down_after: None,
        healthy_after: None,
        last_state: String::new(),
        error,
        put_back: None,
    };
    let mut candidates: Vec<&ContainerFacts> = all
        .iter()
        .filter(|c| c.running && c.health.as_ref().is_some_and(|h| h.status == "healthy"))
        .collect();
    candidates.sort_by(|a, b| a.name.cmp(&b.name));
    let Some(victim) = candidates.first() else {
        return heal(
            String::new(),
            Some(format!(
                "no running, healthy container of {service} to try it on"
            )),
        );
    };
    let started_before = match state(docker, t, &victim.id).await {
        Ok((_, _, started, _)) => started,
        Err(e) => return heal(victim.name.clone(), Some(e)),
    };
    let clock = Instant::now();
    let acted = match action {
        HealAction::Kill => {
            bounded(
                t.api,
                "killing the container",
                docker.kill_container(
                    &victim.id,
                    Some(KillContainerOptions {
                        signal: "SIGKILL".into(),
                    }),
                ),
            )
            .await
        }
        HealAction::Unhealthy => {
            let file = chaos_file.unwrap_or("/tmp/labcheck-chaos");
            match exec(docker, t, &victim.id, &["touch", file]).await {
                Ok(o) if o.exit_code == Some(0) => Ok(()),
                Ok(o) => Err(format!(
                    "`touch {file}` in the container failed: {}",
                    o.diagnostic()
                )),
                Err(e) => Err(e),
            }
        }
    };
    if let Err(e) = acted {
        return heal(victim.name.clone(), Some(e));
    }
    let (mut down_after, mut healthy_after, mut last_state) = (None, None, String::new());
    while clock.elapsed() < within {
        match state(docker, t, &victim.id).await {
            Ok((running, health, started, shown)) => {
                last_state = shown;
                let ok = running && health == "healthy";
                if down_after.is_none() && (!ok || started != started_before) {
                    down_after = Some(clock.elapsed().as_secs_f64());
                }
                if ok && down_after.is_some() {
                    healthy_after = Some(clock.elapsed().as_secs_f64());
                    break;
                }
            }
            Err(e) if e.contains("404") || e.contains("No such container") => {
                last_state = "removed".into();
                down_after.get_or_insert(clock.elapsed().as_secs_f64());
                break;
            }
            Err(e) => last_state = e,
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Not back by itself: labcheck puts it back, so the stack is as it was.
    let put_back = match healthy_after {
        Some(_) => None,
        None => {
            Some(restore::after_heal(docker, t, &victim.id, &victim.name, action, chaos_file).await)
        }
    };
    HealFacts {
        container: victim.name.clone(),
        down_after,
        healthy_after,
        last_state,
        error: None,
        put_back,
    }
}

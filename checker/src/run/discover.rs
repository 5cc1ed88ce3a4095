//! Find the lab's stack: its compose project (by labels, never by container names) and each
//! service's containers, or the plain containers by name for the labs before Compose.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::ToolError;
use crate::lab::{Lab, Target};
use futures_util::FutureExt;

use crate::limits::{bounded, error_chain};
use crate::target::discover::{choose_project, list, pick_units, Units};
use crate::target::labels::LABEL_PROJECT;
use crate::target::{ContainerRef, Engine, Stack};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discovery {
    Found(Stack),
    /// Nothing of the lab is there: one message, no wall of failures.
    Absent {
        message: String,
    },
}

/// How to start the lab, as a command line, with the lab folder shown relative to `cwd`.
pub fn start_hint(lab: &Lab, cwd: &Path) -> String {
    let solution = lab.dir.join("solution");
    let shown = solution
        .strip_prefix(cwd)
        .map(Path::to_path_buf)
        .unwrap_or(solution);
    format!("cd {} && docker compose up -d", shown.display())
}

pub async fn discover(
    engine: &Engine,
    lab: &Lab,
    explicit: Option<&str>,
    cwd: &Path,
) -> Result<Discovery, ToolError> {
    match &lab.target {
        Target::Compose { services } => {
            discover_compose(engine, lab, services, explicit, cwd).await
        }
        Target::Containers { .. } if explicit.is_some() => Err(ToolError::ProjectNotApplicable {
            lab: lab.id.clone(),
        }),
        Target::Containers { containers, .. } => discover_containers(engine, lab, containers).await,
    }
}

async fn discover_compose(
    engine: &Engine,
    lab: &Lab,
    services: &[String],
    explicit: Option<&str>,
    cwd: &Path,
) -> Result<Discovery, ToolError> {
    let label = match explicit {
        Some(p) => format!("{LABEL_PROJECT}={p}"),
        None => LABEL_PROJECT.to_string(),
    };
    let all = list(&engine.docker, &engine.timeouts, label)
        .await
        .map_err(|e| ToolError::api_call(&engine.endpoint, e))?;
    let project = choose_project(&all, services, explicit, cwd).map_err(|candidates| {
        ToolError::Ambiguous {
            lab: lab.id.clone(),
            candidates,
        }
    })?;
    let Some(project) = project else {
        let message = match explicit {
            Some(p) => format!(
                "The compose project `{p}` has no containers on this engine. Lab {} needs the services {}.\nStart them: {}",
                lab.id,
                services.join(", "),
                start_hint(lab, cwd)
            ),
            None => format!(
                "No compose project on this engine has the services of lab {} ({}).\nStart them: {}\n(or name another project with --project)",
                lab.id,
                services.join(", "),
                start_hint(lab, cwd)
            ),
        };
        return Ok(Discovery::Absent { message });
    };
    let Units { one, all, missing } = pick_units(&all, &project, services);
    if one.is_empty() {
        return Ok(Discovery::Absent {
            message: format!(
                "The compose project `{project}` has none of the services of lab {} ({}).\nStart them: {}",
                lab.id,
                services.join(", "),
                start_hint(lab, cwd)
            ),
        });
    }
    Ok(Discovery::Found(Stack {
        project: Some(project),
        units: one,
        replicas: all,
        missing,
    }))
}

async fn discover_containers(
    engine: &Engine,
    lab: &Lab,
    names: &[String],
) -> Result<Discovery, ToolError> {
    let looks = names.iter().map(|n| async move {
        let r = engine
            .docker
            .inspect_container(
                n,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .map(|r| r.map_err(|e| error_chain(&e)));
        (n, bounded(engine.timeouts.api, "inspect", r).await)
    });
    let mut units = BTreeMap::new();
    let mut missing = Vec::new();
    for (name, r) in futures_util::future::join_all(looks).await {
        match r {
            Ok(c) => {
                units.insert(
                    name.clone(),
                    ContainerRef {
                        id: c.id.unwrap_or_default(),
                        name: name.clone(),
                    },
                );
            }
            Err(e) if e.contains("404") || e.contains("No such container") => {
                missing.push(name.clone())
            }
            Err(e) => return Err(ToolError::api_call(&engine.endpoint, e)),
        }
    }
    if units.is_empty() {
        return Ok(Discovery::Absent {
            message: format!(
                "None of the containers of lab {} exist ({}). Create them as the lab's chapter shows, then run labcheck again.",
                lab.id,
                names.join(", ")
            ),
        });
    }
    Ok(Discovery::Found(Stack {
        project: None,
        replicas: units
            .iter()
            .map(|(unit, c)| (unit.clone(), vec![c.clone()]))
            .collect(),
        units,
        missing,
    }))
}

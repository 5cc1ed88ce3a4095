//! Find the lab's stack: its compose project (by labels, never by container names) and each
//! service's containers, or the plain containers by name for the labs before Compose.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::ToolError;
use crate::lab::{Lab, Target};
use futures_util::FutureExt;

use crate::limits::{bounded, error_chain};
use crate::probe::compose;
use crate::probe::facts::DependsFacts;
use crate::target::discover::{
    choose_project, exposed_ports, list, pick_units, Seen, Units, Wanted,
};
use crate::target::labels::LABEL_PROJECT;
use crate::target::matching::{By, Mapped};
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

/// `--service lab=yours` pairs, each naming one of the lab's services (units).
pub fn service_flags(
    lab: &Lab,
    pairs: &[(String, String)],
) -> Result<BTreeMap<String, String>, ToolError> {
    let units = lab.target.units();
    let mut flags = BTreeMap::new();
    for (l, y) in pairs {
        if !units.contains(l) {
            return Err(ToolError::ServiceFlag(format!(
                "--service {l}={y}: `{l}` is not a service of lab {} ({}); the lab's name goes first, yours second",
                lab.id,
                units.join(", ")
            )));
        }
        if flags.insert(l.clone(), y.clone()).is_some() {
            return Err(ToolError::ServiceFlag(format!(
                "--service names `{l}` twice; give each lab service once"
            )));
        }
    }
    Ok(flags)
}

pub async fn discover(
    engine: &Engine,
    lab: &Lab,
    explicit: Option<&str>,
    cwd: &Path,
    flags: &[(String, String)],
) -> Result<Discovery, ToolError> {
    let flags = service_flags(lab, flags)?;
    match &lab.target {
        Target::Compose { services } => {
            let want = Wanted {
                services,
                matches: &lab.matches,
                flags: &flags,
            };
            discover_compose(engine, lab, &want, explicit, cwd).await
        }
        Target::Containers { .. } if explicit.is_some() => Err(ToolError::ProjectNotApplicable {
            lab: lab.id.clone(),
        }),
        Target::Containers { containers, .. } => {
            discover_containers(engine, lab, containers, &flags).await
        }
    }
}

/// Compose v1 records depends_on only in the compose files: read them where they are readable
/// (the roles need it to tell services apart).
fn v1_depends_on(all: &mut [Seen]) {
    for s in all.iter_mut().filter(|s| s.looks.depends_on.is_none()) {
        if let DependsFacts::Known { entries, .. } = compose::from_files(
            &s.service,
            s.config_files.as_deref(),
            Some(s.working_dir.as_str()).filter(|w| !w.is_empty()),
        ) {
            s.looks.depends_on = Some(entries.into_iter().map(|e| e.on).collect());
        }
    }
}

async fn discover_compose(
    engine: &Engine,
    lab: &Lab,
    want: &Wanted<'_>,
    explicit: Option<&str>,
    cwd: &Path,
) -> Result<Discovery, ToolError> {
    let services = want.services;
    let label = match explicit {
        Some(p) => format!("{LABEL_PROJECT}={p}"),
        None => LABEL_PROJECT.to_string(),
    };
    let mut all = list(&engine.docker, &engine.timeouts, label)
        .await
        .map_err(|e| ToolError::api_call(&engine.endpoint, e))?;
    v1_depends_on(&mut all);
    exposed_ports(&engine.docker, &engine.timeouts, &mut all, want).await;
    let project =
        choose_project(&all, want, explicit, cwd).map_err(|candidates| ToolError::Ambiguous {
            lab: lab.id.clone(),
            candidates,
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
    let mine: Vec<&Seen> = all.iter().filter(|s| s.project == project).collect();
    let assignment = want.assign(&mine);
    if !assignment.ambiguous.is_empty() {
        return Err(ToolError::AmbiguousServices {
            lab: lab.id.clone(),
            project,
            choices: assignment
                .ambiguous
                .into_iter()
                .map(|a| (a.lab, a.role, a.candidates))
                .collect(),
        });
    }
    for (l, y) in want.flags {
        if !assignment.mapped.contains_key(l) {
            let mut theirs: Vec<&str> = mine.iter().map(|s| s.service.as_str()).collect();
            theirs.sort_unstable();
            theirs.dedup();
            return Err(ToolError::ServiceFlag(format!(
                "--service {l}={y}: the project `{project}` has no service `{y}` (its services: {})",
                theirs.join(", ")
            )));
        }
    }
    let renamed: Vec<Mapped> = assignment
        .mapped
        .into_values()
        .filter(|m| m.by != By::Name)
        .collect();
    let yours = |unit: &str| {
        renamed
            .iter()
            .find(|m| m.lab == unit)
            .map_or(unit.to_string(), |m| m.yours.clone())
    };
    let Units { one, all, missing } = pick_units(&all, &project, services, &yours);
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
        renamed,
    }))
}

/// Plain containers by name; `--service api=myapi` looks `api` up as `myapi`.
async fn discover_containers(
    engine: &Engine,
    lab: &Lab,
    names: &[String],
    flags: &BTreeMap<String, String>,
) -> Result<Discovery, ToolError> {
    let looks = names.iter().map(|n| async move {
        let theirs = flags.get(n).unwrap_or(n);
        let r = engine
            .docker
            .inspect_container(
                theirs,
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
                        name: flags.get(name).unwrap_or(name).clone(),
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
        renamed: flags
            .iter()
            .map(|(l, y)| Mapped {
                lab: l.clone(),
                yours: y.clone(),
                by: By::Flag,
            })
            .collect(),
    }))
}

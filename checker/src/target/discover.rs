//! Compose containers as discovery sees them, by labels (never by container names): listing,
//! choosing the project, and picking each service's containers. Which lab wants which of them
//! is `run::discover`'s.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use bollard::models::ContainerSummary;
use bollard::query_parameters::ListContainersOptions;
use bollard::Docker;

use futures_util::FutureExt;

use crate::limits::{bounded, error_chain, Timeouts};
use crate::target::labels::{LABEL_ONEOFF, LABEL_PROJECT, LABEL_SERVICE, LABEL_WORKING_DIR};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRef {
    pub id: String,
    pub name: String,
}

/// The lab's containers on the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    /// The compose project (None for a containers-kind lab).
    pub project: Option<String>,
    /// Service (or container name) -> its container (a running one first).
    pub units: BTreeMap<String, ContainerRef>,
    /// Service (or container name) -> every container of it, by name (a scaled service has
    /// several): listed once here, so no probe lists the project again.
    pub replicas: BTreeMap<String, Vec<ContainerRef>>,
    /// Units the lab needs that have no container.
    pub missing: Vec<String>,
}

/// A compose container as discovery sees it (pure data, so project choice is unit-tested).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub id: String,
    pub name: String,
    pub project: String,
    pub service: String,
    pub working_dir: String,
    pub running: bool,
}

fn seen(c: &ContainerSummary) -> Option<Seen> {
    let labels = c.labels.as_ref()?;
    if labels
        .get(LABEL_ONEOFF)
        .is_some_and(|v: &String| v.eq_ignore_ascii_case("true"))
    {
        return None; // `docker compose run` containers are not the service
    }
    Some(Seen {
        id: c.id.clone()?,
        name: c
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_default(),
        project: labels.get(LABEL_PROJECT)?.clone(),
        service: labels.get(LABEL_SERVICE)?.clone(),
        working_dir: labels.get(LABEL_WORKING_DIR).cloned().unwrap_or_default(),
        running: c.state.map(|s| s.to_string() == "running").unwrap_or(false),
    })
}

/// Choose the project: the explicit one, else the one whose working_dir is `cwd` (and that has
/// some of the lab's services), else the single project with all (then: any) of the services.
/// `Ok(None)`: nothing matches. `Err(candidates)`: several match.
pub fn choose_project(
    all: &[Seen],
    services: &[String],
    explicit: Option<&str>,
    cwd: &Path,
) -> Result<Option<String>, Vec<String>> {
    if let Some(p) = explicit {
        return Ok(all.iter().any(|s| s.project == p).then(|| p.to_string()));
    }
    let mut by_project: BTreeMap<&str, Vec<&Seen>> = BTreeMap::new();
    for s in all {
        by_project.entry(&s.project).or_default().push(s);
    }
    let has = |cs: &[&Seen], svc: &str| cs.iter().any(|c| c.service == svc);
    let some_services = |cs: &[&Seen]| services.iter().any(|s| has(cs, s));
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let here: Vec<&str> = by_project
        .iter()
        .filter(|(_, cs)| some_services(cs) && cs.iter().any(|c| Path::new(&c.working_dir) == cwd))
        .map(|(p, _)| *p)
        .collect();
    if here.len() == 1 {
        return Ok(Some(here[0].to_string()));
    }
    let full: Vec<&str> = by_project
        .iter()
        .filter(|(_, cs)| services.iter().all(|s| has(cs, s)))
        .map(|(p, _)| *p)
        .collect();
    let pick = |v: Vec<&str>| match v.len() {
        0 => Ok(None),
        1 => Ok(Some(v[0].to_string())),
        _ => Err(v.into_iter().map(str::to_string).collect()),
    };
    if !full.is_empty() {
        return pick(full);
    }
    pick(
        by_project
            .iter()
            .filter(|(_, cs)| some_services(cs))
            .map(|(p, _)| *p)
            .collect(),
    )
}

/// The units of `project`: for each service its container (a running one first, then the first
/// by name), every container of it (by name), and the services with none.
pub fn pick_units(all: &[Seen], project: &str, services: &[String]) -> Units {
    let mut units = Units::default();
    for svc in services {
        let mut cs: Vec<&Seen> = all
            .iter()
            .filter(|s| s.project == project && &s.service == svc)
            .collect();
        let as_ref = |c: &&Seen| ContainerRef {
            id: c.id.clone(),
            name: c.name.clone(),
        };
        cs.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        let every: Vec<ContainerRef> = cs.iter().map(as_ref).collect();
        match cs.iter().find(|c| c.running).or(cs.first()) {
            Some(c) => {
                units.one.insert(svc.clone(), as_ref(c));
                units.all.insert(svc.clone(), every);
            }
            None => units.missing.push(svc.clone()),
        }
    }
    units
}

/// What [`pick_units`] found.
#[derive(Debug, Default)]
pub struct Units {
    pub one: BTreeMap<String, ContainerRef>,
    pub all: BTreeMap<String, Vec<ContainerRef>>,
    pub missing: Vec<String>,
}

/// The compose containers with the label filter `label` (`project` or `project=name`).
pub(crate) async fn list(
    docker: &Docker,
    t: &Timeouts,
    label: String,
) -> Result<Vec<Seen>, String> {
    let filters = HashMap::from([("label".to_string(), vec![label])]);
    let list = bounded(
        t.api,
        "listing containers",
        // with its causes: "(Connect): Connection refused" tells that the engine is gone
        docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..Default::default()
            }))
            .map(|r| r.map_err(|e| error_chain(&e))),
    )
    .await?;
    Ok(list.iter().filter_map(seen).collect())
}

/// Every container of each of `services` in `project`, listed now (the drills' fresh view,
/// after an earlier drill may have replaced some).
pub async fn list_services(
    docker: &Docker,
    t: &Timeouts,
    project: &str,
    services: &[String],
) -> BTreeMap<String, Vec<ContainerRef>> {
    let all = list(docker, t, format!("{LABEL_PROJECT}={project}"))
        .await
        .unwrap_or_default();
    pick_units(&all, project, services).all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(project: &str, service: &str, wd: &str) -> Seen {
        Seen {
            id: format!("{project}-{service}"),
            name: format!("{project}-{service}-1"),
            project: project.into(),
            service: service.into(),
            working_dir: wd.into(),
            running: true,
        }
    }
    fn svcs() -> Vec<String> {
        vec!["web".into(), "db".into()]
    }

    #[test]
    fn explicit_project_wins_and_may_be_absent() {
        let all = vec![s("a", "web", "/x"), s("a", "db", "/x")];
        assert_eq!(
            choose_project(&all, &svcs(), Some("a"), Path::new("/")).unwrap(),
            Some("a".into())
        );
        assert_eq!(
            choose_project(&all, &svcs(), Some("b"), Path::new("/")).unwrap(),
            None
        );
    }

    #[test]
    fn the_project_of_the_current_folder_is_preferred() {
        let all = vec![
            s("a", "web", "/labs/a"),
            s("a", "db", "/labs/a"),
            s("b", "web", "/labs/b"),
            s("b", "db", "/labs/b"),
        ];
        assert_eq!(
            choose_project(&all, &svcs(), None, Path::new("/labs/b")).unwrap(),
            Some("b".into())
        );
    }

    #[test]
    fn several_full_projects_are_ambiguous() {
        let all = vec![
            s("a", "web", "/1"),
            s("a", "db", "/1"),
            s("b", "web", "/2"),
            s("b", "db", "/2"),
        ];
        assert_eq!(
            choose_project(&all, &svcs(), None, Path::new("/")).unwrap_err(),
            ["a", "b"]
        );
    }

    #[test]
    fn a_full_project_beats_a_partial_one_and_a_partial_one_is_still_found() {
        let all = vec![s("a", "web", "/1"), s("a", "db", "/1"), s("b", "db", "/2")];
        assert_eq!(
            choose_project(&all, &svcs(), None, Path::new("/")).unwrap(),
            Some("a".into())
        );
        let half = vec![s("b", "db", "/2"), s("other", "cache", "/3")];
        assert_eq!(
            choose_project(&half, &svcs(), None, Path::new("/")).unwrap(),
            Some("b".into())
        );
        assert_eq!(
            choose_project(&[s("other", "cache", "/3")], &svcs(), None, Path::new("/")).unwrap(),
            None
        );
    }

    #[test]
    fn running_containers_are_picked_and_missing_services_listed() {
        let mut stopped = s("a", "web", "/1");
        stopped.running = false;
        stopped.name = "a-web-1".into();
        stopped.id = "old".into();
        let mut live = s("a", "web", "/1");
        live.name = "a-web-2".into();
        live.id = "new".into();
        let u = pick_units(&[live, stopped], "a", &svcs());
        assert_eq!(u.one["web"].id, "new");
        let every: Vec<&str> = u.all["web"].iter().map(|c| c.id.as_str()).collect();
        assert_eq!(every, ["old", "new"], "every container, by name");
        assert_eq!(u.missing, ["db"]);
        assert!(!u.all.contains_key("db"));
    }
}

//! Compose containers as discovery sees them, by labels (never by container names): listing,
//! choosing the project, and picking each service's containers. Which lab wants which of them
//! is `run::discover`'s.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use bollard::models::ContainerSummary;
use bollard::query_parameters::{InspectContainerOptions, ListContainersOptions};
use bollard::Docker;

use futures_util::FutureExt;

use crate::limits::{bounded, error_chain, Timeouts};
use crate::target::labels::{
    parse_depends_label, LABEL_CONFIG_FILES, LABEL_DEPENDS_ON, LABEL_ONEOFF, LABEL_PROJECT,
    LABEL_SERVICE, LABEL_WORKING_DIR,
};
use crate::target::matching::{assign, Assignment, By, Mapped, Match, Service};

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
    /// Lab services the learner named otherwise (by role or `--service`), lab name first.
    pub renamed: Vec<Mapped>,
}

impl Stack {
    /// The learner's name for `unit`: what DNS, env values and depends_on use in their stack.
    pub fn yours<'a>(&'a self, unit: &'a str) -> &'a str {
        self.renamed
            .iter()
            .find(|m| m.lab == unit)
            .map_or(unit, |m| m.yours.as_str())
    }

    /// The lab's name for the learner's `name` (the inverse of [`Stack::yours`]).
    pub fn lab_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.renamed
            .iter()
            .find(|m| m.yours == name)
            .map_or(name, |m| m.lab.as_str())
    }
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
    /// What the role mapping reads: image, labels, ports, depends_on.
    pub looks: Service,
    /// The `config_files` label (Compose v1 records depends_on only there).
    pub config_files: Option<String>,
}

/// A listed container as discovery sees it; None for one-off (`compose run`) containers and
/// containers without the project and service labels.
pub fn seen(c: &ContainerSummary) -> Option<Seen> {
    let labels = c.labels.as_ref()?;
    if labels
        .get(LABEL_ONEOFF)
        .is_some_and(|v: &String| v.eq_ignore_ascii_case("true"))
    {
        return None; // `docker compose run` containers are not the service
    }
    let service = labels.get(LABEL_SERVICE)?.clone();
    let mut ports: Vec<u16> = c.ports.iter().flatten().map(|p| p.private_port).collect();
    ports.sort_unstable();
    ports.dedup();
    let running = c.state.map(|s| s.to_string() == "running").unwrap_or(false);
    Some(Seen {
        id: c.id.clone()?,
        name: c
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_default(),
        project: labels.get(LABEL_PROJECT)?.clone(),
        working_dir: labels.get(LABEL_WORKING_DIR).cloned().unwrap_or_default(),
        running,
        looks: Service {
            name: service.clone(),
            image: c.image.clone().unwrap_or_default(),
            labels: labels
                .iter()
                .filter(|(k, _)| !k.starts_with("com.docker.compose."))
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            ports,
            mounts: c
                .mounts
                .iter()
                .flatten()
                .flat_map(|m| [m.source.clone(), m.destination.clone()])
                .flatten()
                .collect(),
            depends_on: labels
                .get(LABEL_DEPENDS_ON)
                .map(|l| parse_depends_label(l).into_iter().map(|e| e.on).collect()),
            running,
        },
        config_files: labels.get(LABEL_CONFIG_FILES).cloned(),
        service,
    })
}

/// What the lab wants of a project: its services, their matches, and the `--service` pairs.
pub struct Wanted<'a> {
    pub services: &'a [String],
    pub matches: &'a BTreeMap<String, Match>,
    pub flags: &'a BTreeMap<String, String>,
}

impl Wanted<'_> {
    /// The learner's services of one project (each as its running container, else its first)
    /// mapped onto the lab's.
    pub fn assign(&self, cs: &[&Seen]) -> Assignment {
        let mut by_service: BTreeMap<&str, &Seen> = BTreeMap::new();
        for c in cs {
            let e = by_service.entry(&c.service).or_insert(c);
            if c.running && !e.running {
                *e = c;
            }
        }
        let yours: Vec<Service> = by_service.values().map(|c| c.looks.clone()).collect();
        assign(self.services, self.matches, self.flags, &yours)
    }
}

/// Choose the project: the explicit one; else the one whose working_dir is `cwd` and that
/// plausibly is the lab's (any [`Rank`] but `None`); else the single project that has
/// every lab service by name or `--service`; else the single one that has every lab service by
/// role and is mostly made of them (a phase-5 stack has a postgres and a port-5000 app, but it is
/// not phase-3's: three of its five services play no phase-3 role); else the single one with
/// some of them by name or flag. A role alone never makes a partial project the lab's: any
/// project with a postgres would do.
/// `Ok(None)`: nothing matches. `Err(candidates)`: several match.
pub fn choose_project(
    all: &[Seen],
    want: &Wanted,
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
    let rank: BTreeMap<&str, Rank> = by_project
        .iter()
        .map(|(p, cs)| (*p, Rank::of(&want.assign(cs), want.services.len(), cs)))
        .collect();
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let here: Vec<&str> = by_project
        .iter()
        .filter(|(p, cs)| {
            rank[*p] != Rank::None && cs.iter().any(|c| Path::new(&c.working_dir) == cwd)
        })
        .map(|(p, _)| *p)
        .collect();
    if here.len() == 1 {
        return Ok(Some(here[0].to_string()));
    }
    let pick = |v: Vec<&str>| match v.len() {
        0 => Ok(None),
        1 => Ok(Some(v[0].to_string())),
        _ => Err(v.into_iter().map(str::to_string).collect()),
    };
    for tier in [Rank::FullByName, Rank::FullByRole, Rank::SomeByName] {
        let v: Vec<&str> = rank
            .iter()
            .filter(|(_, r)| **r == tier)
            .map(|(p, _)| *p)
            .collect();
        if !v.is_empty() {
            return pick(v);
        }
    }
    Ok(None)
}

/// How plausibly a project is the lab's stack, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rank {
    /// Every lab service, each by its name or `--service`.
    FullByName,
    /// Every lab service, some by role, and at least half of the project's services play one.
    FullByRole,
    /// Some lab services by name or `--service`.
    SomeByName,
    /// Nothing, or roles alone on a partial or mostly foreign project.
    None,
}

impl Rank {
    fn of(a: &Assignment, wanted: usize, cs: &[&Seen]) -> Rank {
        let by_name = a.mapped.values().filter(|m| m.by != By::Match).count();
        let theirs: BTreeSet<&str> = cs.iter().map(|c| c.service.as_str()).collect();
        if a.found() == wanted && by_name == wanted {
            Rank::FullByName
        } else if a.found() == wanted && 2 * a.found() >= theirs.len() {
            Rank::FullByRole
        } else if by_name > 0 {
            Rank::SomeByName
        } else {
            Rank::None
        }
    }
}

/// The units of `project`: for each service its container (a running one first, then the first
/// by name), every container of it (by name), and the services with none. `yours` gives the
/// learner's name of a lab service that is named otherwise.
pub fn pick_units(
    all: &[Seen],
    project: &str,
    services: &[String],
    yours: &dyn Fn(&str) -> String,
) -> Units {
    let mut units = Units::default();
    for svc in services {
        let theirs = yours(svc);
        let mut cs: Vec<&Seen> = all
            .iter()
            .filter(|s| s.project == project && s.service == theirs)
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

/// A container only on `internal` networks lists no ports at all (the engine fills the list
/// from its network settings), so a role's port would never hold for a database on a back-end
/// network. Where the roles will be used (a project lacks some lab service by name) and the lab
/// knows a service by its port, each container that lists none has its exposed ports read from
/// its inspect, side by side. A failed inspect leaves the container as listed.
pub(crate) async fn exposed_ports(
    docker: &Docker,
    t: &Timeouts,
    all: &mut [Seen],
    want: &Wanted<'_>,
) {
    if !want.matches.values().any(|m| m.port.is_some()) {
        return;
    }
    let mut named: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in all.iter() {
        named.entry(&s.project).or_default().insert(&s.service);
    }
    let lacking: BTreeSet<String> = named
        .iter()
        .filter(|(_, have)| want.services.iter().any(|w| !have.contains(w.as_str())))
        .map(|(p, _)| p.to_string())
        .collect();
    let asks = all
        .iter()
        .enumerate()
        .filter(|(_, s)| s.looks.ports.is_empty() && lacking.contains(&s.project))
        .map(|(i, s)| async move {
            let inspect = docker.inspect_container(&s.id, None::<InspectContainerOptions>);
            (i, bounded(t.api, "inspecting a container", inspect).await)
        });
    for (i, r) in futures_util::future::join_all(asks).await {
        let exposed = r.ok().and_then(|c| c.config).and_then(|c| c.exposed_ports);
        let mut ports: Vec<u16> = exposed
            .iter()
            .flat_map(|m| m.keys())
            .filter_map(|k| k.split('/').next()?.parse().ok())
            .collect();
        ports.sort_unstable();
        ports.dedup();
        all[i].looks.ports = ports;
    }
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
    pick_units(&all, project, services, &|s| s.to_string()).all
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
            looks: Service {
                name: service.into(),
                running: true,
                ..Default::default()
            },
            config_files: None,
        }
    }
    fn choose(
        all: &[Seen],
        explicit: Option<&str>,
        cwd: &str,
    ) -> Result<Option<String>, Vec<String>> {
        choose_matching(all, &BTreeMap::new(), explicit, cwd)
    }
    fn choose_matching(
        all: &[Seen],
        matches: &BTreeMap<String, Match>,
        explicit: Option<&str>,
        cwd: &str,
    ) -> Result<Option<String>, Vec<String>> {
        let want = Wanted {
            services: &svcs(),
            matches,
            flags: &BTreeMap::new(),
        };
        choose_project(all, &want, explicit, Path::new(cwd))
    }
    fn svcs() -> Vec<String> {
        vec!["web".into(), "db".into()]
    }

    #[test]
    fn explicit_project_wins_and_may_be_absent() {
        let all = vec![s("a", "web", "/x"), s("a", "db", "/x")];
        assert_eq!(choose(&all, Some("a"), "/").unwrap(), Some("a".into()));
        assert_eq!(choose(&all, Some("b"), "/").unwrap(), None);
    }

    #[test]
    fn the_project_of_the_current_folder_is_preferred() {
        let all = vec![
            s("a", "web", "/labs/a"),
            s("a", "db", "/labs/a"),
            s("b", "web", "/labs/b"),
            s("b", "db", "/labs/b"),
        ];
        assert_eq!(choose(&all, None, "/labs/b").unwrap(), Some("b".into()));
    }

    #[test]
    fn several_full_projects_are_ambiguous() {
        let all = vec![
            s("a", "web", "/1"),
            s("a", "db", "/1"),
            s("b", "web", "/2"),
            s("b", "db", "/2"),
        ];
        assert_eq!(choose(&all, None, "/").unwrap_err(), ["a", "b"]);
    }

    #[test]
    fn a_full_project_beats_a_partial_one_and_a_partial_one_is_still_found() {
        let all = vec![s("a", "web", "/1"), s("a", "db", "/1"), s("b", "db", "/2")];
        assert_eq!(choose(&all, None, "/").unwrap(), Some("a".into()));
        let half = vec![s("b", "db", "/2"), s("other", "cache", "/3")];
        assert_eq!(choose(&half, None, "/").unwrap(), Some("b".into()));
        assert_eq!(
            choose(&[s("other", "cache", "/3")], None, "/").unwrap(),
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
        let u = pick_units(&[live, stopped], "a", &svcs(), &|s| s.to_string());
        assert_eq!(u.one["web"].id, "new");
        let every: Vec<&str> = u.all["web"].iter().map(|c| c.id.as_str()).collect();
        assert_eq!(every, ["old", "new"], "every container, by name");
        assert_eq!(u.missing, ["db"]);
        assert!(!u.all.contains_key("db"));
    }

    fn phase3_roles() -> BTreeMap<String, Match> {
        BTreeMap::from([
            (
                "db".to_string(),
                Match {
                    image: Some("postgres".into()),
                    port: Some(5432),
                    ..Default::default()
                },
            ),
            (
                "web".to_string(),
                Match {
                    port: Some(5000),
                    depends_on: vec!["db".into()],
                    ..Default::default()
                },
            ),
        ])
    }

    /// A phase-3 stack with its own names: `database` (a postgres) and `app` (port 5000).
    fn renamed_phase3() -> Vec<Seen> {
        let mut db = s("mine", "database", "/1");
        db.looks.image = "postgres:15-alpine".into();
        db.looks.ports = vec![5432];
        let mut app = s("mine", "app", "/1");
        app.looks.ports = vec![5000];
        app.looks.depends_on = Some(vec!["database".into()]);
        vec![db, app]
    }

    #[test]
    fn a_project_whose_services_map_by_role_is_found_but_a_lone_postgres_is_not() {
        let matches = phase3_roles();
        let mut other = s("other", "pg", "/2");
        other.looks.image = "postgres:16".into();
        other.looks.ports = vec![5432];
        let mut all = renamed_phase3();
        all.push(other.clone());
        assert_eq!(
            choose_matching(&all, &matches, None, "/").unwrap(),
            Some("mine".into())
        );
        // a project with only a postgres is no one's phase-3 stack
        let db = renamed_phase3().remove(0);
        assert_eq!(
            choose_matching(&[db, other], &matches, None, "/").unwrap(),
            None
        );
    }

    /// A phase-5-like stack: a postgres and a port-5000 api that depends on it, among others.
    fn phase5(wd: &str) -> Vec<Seen> {
        let mut pg = s("p5", "postgres", wd);
        pg.looks.image = "postgres:15-alpine".into();
        pg.looks.ports = vec![5432];
        let mut api = s("p5", "api", wd);
        api.looks.ports = vec![5000];
        api.looks.depends_on = Some(vec!["postgres".into(), "redis".into()]);
        vec![
            pg,
            api,
            s("p5", "nginx", wd),
            s("p5", "redis", wd),
            s("p5", "pgadmin", wd),
        ]
    }

    #[test]
    fn another_labs_stack_is_not_taken_for_this_one_by_roles() {
        let roles = phase3_roles();
        assert_eq!(
            choose_matching(&phase5("/5"), &roles, None, "/").unwrap(),
            None
        );
        // not even from its own folder
        assert_eq!(
            choose_matching(&phase5("/5"), &roles, None, "/5").unwrap(),
            None
        );
        // beside the lab's own stack, by name, there is no ambiguity
        let mut all = phase5("/5");
        all.extend([s("mine", "web", "/3"), s("mine", "db", "/3")]);
        assert_eq!(
            choose_matching(&all, &roles, None, "/").unwrap(),
            Some("mine".into())
        );
    }

    #[test]
    fn a_renamed_stack_with_an_extra_service_is_still_found_by_roles() {
        let mut all = renamed_phase3();
        all.push(s("mine", "adminer", "/1"));
        assert_eq!(
            choose_matching(&all, &phase3_roles(), None, "/").unwrap(),
            Some("mine".into())
        );
    }
}

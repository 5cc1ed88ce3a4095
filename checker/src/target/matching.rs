//! The learner's service names: which of a compose project's services plays each lab service,
//! by name first, then by the role the lab declares (`[target.match.<service>]`: an image, a
//! container port, what it depends on), with `--service lab=yours` overriding both. Pure: the
//! services come in as plain data, so every case is unit-tested without an engine.

use std::collections::{BTreeMap, BTreeSet};

/// What a lab service looks like, to recognise it under another name. Every field given must
/// hold; a role with no field is refused by the lab loader.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    /// A substring (case-insensitive) of the image reference or of one of the container's
    /// labels (a container carries its image's labels).
    pub image: Option<String>,
    /// A container port the service exposes or publishes.
    pub port: Option<u16>,
    /// A substring of one of its mounts' source or destination (phase 6's manager is the
    /// service that mounts `docker.sock`, wherever inside it puts it).
    pub mount: Option<String>,
    /// Lab services it depends on (compose `depends_on`), checked once those are mapped.
    pub depends_on: Vec<String>,
}

impl Match {
    /// The role in words, for messages: "image `postgres`, port 5432".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(i) = &self.image {
            parts.push(format!("image `{i}`"));
        }
        if let Some(p) = self.port {
            parts.push(format!("port {p}"));
        }
        if let Some(m) = &self.mount {
            parts.push(format!("a mount of `{m}`"));
        }
        if !self.depends_on.is_empty() {
            parts.push(format!("depends on {}", self.depends_on.join(", ")));
        }
        parts.join(", ")
    }
}

/// One of the learner's compose services, as the mapping sees it (its first container).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    /// The image reference the container was created from.
    pub image: String,
    /// The container's labels as `key=value` (its image's labels among them).
    pub labels: Vec<String>,
    /// Container ports it exposes or publishes.
    pub ports: Vec<u16>,
    /// Its mounts' sources and destinations.
    pub mounts: Vec<String>,
    /// The services it depends on; None when Compose did not record it (v1 without files).
    pub depends_on: Option<Vec<String>>,
    pub running: bool,
}

/// How a lab service was matched to the learner's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The same name.
    Name,
    /// The lab's `[target.match]` description (image, port, depends_on).
    Match,
    /// `--service lab=yours`.
    Flag,
}

/// A lab service and the learner's service that plays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    pub lab: String,
    pub yours: String,
    pub by: By,
}

impl Mapped {
    /// The one line the reports print when the names differ.
    pub fn line(&self) -> String {
        let why = match self.by {
            By::Flag => " (--service)",
            _ => "",
        };
        format!(
            "treating your service `{}` as {}{why}",
            self.yours, self.lab
        )
    }
}

/// A lab service that several of the learner's services could play.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ambiguous {
    pub lab: String,
    pub candidates: Vec<String>,
    /// The role, in words.
    pub role: String,
}

/// What [`assign`] found: lab service -> the learner's (lab services with none are absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    pub mapped: BTreeMap<String, Mapped>,
    pub ambiguous: Vec<Ambiguous>,
}

impl Assignment {
    /// How many lab services this project has in some form (mapped or ambiguous).
    pub fn found(&self) -> usize {
        self.mapped.len() + self.ambiguous.len()
    }
}

fn plays(role: &Match, s: &Service) -> bool {
    let image_ok = role.image.as_ref().map_or(true, |want| {
        let want = want.to_ascii_lowercase();
        s.image.to_ascii_lowercase().contains(&want)
            || s.labels
                .iter()
                .any(|l| l.to_ascii_lowercase().contains(&want))
    });
    image_ok
        && role.port.map_or(true, |p| s.ports.contains(&p))
        && role
            .mount
            .as_ref()
            .map_or(true, |m| s.mounts.iter().any(|x| x.contains(m.as_str())))
}

/// Map `lab` services onto `yours`: `--service` pairs first, then the same names, then the
/// roles. Among the role-consistent one-to-one assignments, those that map the most lab
/// services win, then those with the most running containers; a lab service that is still
/// played by different services in the winners is ambiguous.
pub fn assign(
    lab: &[String],
    roles: &BTreeMap<String, Match>,
    flags: &BTreeMap<String, String>,
    yours: &[Service],
) -> Assignment {
    let by_name: BTreeMap<&str, &Service> = yours.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut fixed: BTreeMap<String, Mapped> = BTreeMap::new();
    for l in lab {
        let pick = match flags.get(l) {
            Some(y) => by_name
                .contains_key(y.as_str())
                .then(|| (y.clone(), By::Flag)),
            None => by_name
                .contains_key(l.as_str())
                .then(|| (l.clone(), By::Name)),
        };
        if let Some((yours, by)) = pick {
            fixed.insert(
                l.clone(),
                Mapped {
                    lab: l.clone(),
                    yours,
                    by,
                },
            );
        }
    }
    // a learner's service named as another lab service (or flagged) is that one, not a candidate
    let taken: BTreeSet<&str> = fixed
        .values()
        .map(|m| m.yours.as_str())
        .chain(lab.iter().map(String::as_str))
        .collect();
    let open: Vec<(&str, &Match, Vec<&Service>)> = lab
        .iter()
        .filter(|l| !fixed.contains_key(*l) && !flags.contains_key(*l))
        .filter_map(|l| {
            let role = roles.get(l)?;
            let fits = yours
                .iter()
                .filter(|s| !taken.contains(s.name.as_str()) && plays(role, s))
                .collect();
            Some((l.as_str(), role, fits))
        })
        .collect();

    let mut best: Vec<Vec<Option<usize>>> = Vec::new();
    let mut best_score = (0usize, 0usize);
    let mut pick: Vec<Option<usize>> = vec![None; open.len()];
    search(&open, 0, &mut pick, &mut |pick: &[Option<usize>]| {
        if !consistent(&open, pick, &fixed, roles) {
            return;
        }
        let chosen = || {
            open.iter()
                .zip(pick)
                .filter_map(|((_, _, f), i)| i.map(|i| f[i]))
        };
        let score = (chosen().count(), chosen().filter(|s| s.running).count());
        if score > best_score {
            best_score = score;
            best.clear();
        }
        if score == best_score {
            best.push(pick.to_vec());
        }
    });

    let mut out = Assignment {
        mapped: fixed,
        ambiguous: Vec::new(),
    };
    for (i, (l, role, fits)) in open.iter().enumerate() {
        let mut choices: Vec<&str> = best
            .iter()
            .filter_map(|p| p[i].map(|k| fits[k].name.as_str()))
            .collect();
        choices.sort_unstable();
        choices.dedup();
        match (choices.as_slice(), best.iter().any(|p| p[i].is_none())) {
            ([], _) => {}
            ([one], false) => {
                out.mapped.insert(
                    l.to_string(),
                    Mapped {
                        lab: l.to_string(),
                        yours: one.to_string(),
                        by: By::Match,
                    },
                );
            }
            _ => out.ambiguous.push(Ambiguous {
                lab: l.to_string(),
                candidates: choices.iter().map(|c| c.to_string()).collect(),
                role: role.describe(),
            }),
        }
    }
    out
}

/// Every one-to-one choice for the open lab services (each: one of its fits, or none).
fn search(
    open: &[(&str, &Match, Vec<&Service>)],
    i: usize,
    pick: &mut Vec<Option<usize>>,
    leaf: &mut dyn FnMut(&[Option<usize>]),
) {
    if i == open.len() {
        return leaf(pick);
    }
    pick[i] = None;
    search(open, i + 1, pick, leaf);
    for k in 0..open[i].2.len() {
        let name = &open[i].2[k].name;
        let used = (0..i).any(|j| pick[j].is_some_and(|m| &open[j].2[m].name == name));
        if !used {
            pick[i] = Some(k);
            search(open, i + 1, pick, leaf);
        }
    }
    pick[i] = None;
}

/// Each chosen service depends on the learner's service of every lab service its role names
/// (when that one is mapped and Compose recorded its depends_on).
fn consistent(
    open: &[(&str, &Match, Vec<&Service>)],
    pick: &[Option<usize>],
    fixed: &BTreeMap<String, Mapped>,
    roles: &BTreeMap<String, Match>,
) -> bool {
    let mut yours: BTreeMap<&str, &str> = fixed
        .iter()
        .map(|(l, m)| (l.as_str(), m.yours.as_str()))
        .collect();
    for ((l, _, fits), i) in open.iter().zip(pick) {
        if let Some(i) = i {
            yours.insert(l, &fits[*i].name);
        }
    }
    open.iter().zip(pick).all(|((l, _, fits), i)| {
        let Some(s) = i.map(|i| fits[i]) else {
            return true;
        };
        let Some(deps) = &s.depends_on else {
            return true;
        };
        roles[*l]
            .depends_on
            .iter()
            .filter_map(|d| yours.get(d.as_str()))
            .all(|y| deps.iter().any(|d| d == y))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str, image: &str, ports: &[u16], deps: &[&str]) -> Service {
        Service {
            name: name.into(),
            image: image.into(),
            labels: vec![],
            ports: ports.to_vec(),
            depends_on: Some(deps.iter().map(|d| d.to_string()).collect()),
            running: true,
            ..Default::default()
        }
    }
    fn lab() -> Vec<String> {
        vec!["web".into(), "db".into()]
    }
    fn roles() -> BTreeMap<String, Match> {
        BTreeMap::from([
            (
                "db".to_string(),
                Match {
                    image: Some("postgres".into()),
                    port: Some(5432),
                    depends_on: vec![],
                    ..Default::default()
                },
            ),
            (
                "web".to_string(),
                Match {
                    image: None,
                    port: Some(5000),
                    depends_on: vec!["db".into()],
                    ..Default::default()
                },
            ),
        ])
    }
    fn yours(a: &Assignment) -> Vec<(&str, &str, By)> {
        a.mapped
            .values()
            .map(|m| (m.lab.as_str(), m.yours.as_str(), m.by))
            .collect()
    }
    const NONE: &[(&str, &str)] = &[];
    fn flags(f: &[(&str, &str)]) -> BTreeMap<String, String> {
        f.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn exact_names_map_to_themselves() {
        let s = [
            svc("web", "phase-3-web", &[5000], &["db"]),
            svc("db", "postgres:15-alpine", &[5432], &[]),
        ];
        let a = assign(&lab(), &roles(), &flags(NONE), &s);
        assert_eq!(
            yours(&a),
            [("db", "db", By::Name), ("web", "web", By::Name)]
        );
        assert!(a.ambiguous.is_empty());
    }

    #[test]
    fn renamed_services_map_by_role() {
        let s = [
            svc("app", "mine-app", &[5000], &["database"]),
            svc("database", "postgres:15", &[5432], &[]),
        ];
        let a = assign(&lab(), &roles(), &flags(NONE), &s);
        assert_eq!(
            yours(&a),
            [("db", "database", By::Match), ("web", "app", By::Match)]
        );
        assert_eq!(
            a.mapped["db"].line(),
            "treating your service `database` as db"
        );
        // one renamed, one not
        let s = [
            svc("web", "x", &[5000], &["pg"]),
            svc("pg", "docker.io/library/postgres:16", &[5432], &[]),
        ];
        let a = assign(&lab(), &roles(), &flags(NONE), &s);
        assert_eq!(
            yours(&a),
            [("db", "pg", By::Match), ("web", "web", By::Name)]
        );
    }

    #[test]
    fn the_image_may_be_named_by_a_label() {
        let mut pg = svc("store", "sha256:0123", &[5432], &[]);
        pg.labels = vec!["org.compose-lab.really=Debian bookworm postgresql 15".into()];
        let a = assign(&lab(), &roles(), &flags(NONE), &[pg]);
        assert_eq!(yours(&a), [("db", "store", By::Match)]);
    }

    #[test]
    fn two_databases_are_ambiguous_and_a_stopped_job_is_not_the_database() {
        let s = [
            svc("app", "a", &[5000], &["pg1"]),
            svc("pg1", "postgres", &[5432], &[]),
            svc("pg2", "postgres", &[5432], &[]),
        ];
        // app depends on pg1: that decides it
        let a = assign(&lab(), &roles(), &flags(NONE), &s);
        assert_eq!(
            yours(&a),
            [("db", "pg1", By::Match), ("web", "app", By::Match)]
        );
        // without depends_on recorded, nothing decides
        let mut s = s.to_vec();
        s[0].depends_on = None;
        let a = assign(&lab(), &roles(), &flags(NONE), &s);
        assert_eq!(yours(&a), [("web", "app", By::Match)]);
        assert_eq!(
            a.ambiguous,
            [Ambiguous {
                lab: "db".into(),
                candidates: vec!["pg1".into(), "pg2".into()],
                role: "image `postgres`, port 5432".into()
            }]
        );
        assert_eq!(a.found(), 2);
        // a finished one-off job with the same image is not the database
        s[2].running = false;
        let a = assign(&lab(), &roles(), &flags(NONE), &s);
        assert_eq!(a.mapped["db"].yours, "pg1");
        assert!(a.ambiguous.is_empty());
    }

    #[test]
    fn depends_on_tells_two_services_of_one_image_apart() {
        let lab: Vec<String> = vec!["gateway".into(), "frontend".into()];
        let nginx = |deps: &[&str]| Match {
            image: Some("nginx".into()),
            port: Some(80),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            ..Default::default()
        };
        let roles = BTreeMap::from([
            ("gateway".to_string(), nginx(&["frontend"])),
            ("frontend".to_string(), nginx(&[])),
        ]);
        let s = [
            svc("static", "nginx:alpine", &[80], &[]),
            svc("proxy", "nginx:alpine", &[80], &["static"]),
        ];
        let a = assign(&lab, &roles, &flags(NONE), &s);
        assert_eq!(
            yours(&a),
            [
                ("frontend", "static", By::Match),
                ("gateway", "proxy", By::Match)
            ]
        );
    }

    #[test]
    fn a_mount_finds_the_service_that_holds_the_engines_socket() {
        let lab: Vec<String> = vec!["manager".into()];
        let roles = BTreeMap::from([(
            "manager".to_string(),
            Match {
                mount: Some("docker.sock".into()),
                ..Default::default()
            },
        )]);
        let mut healer = svc("healer", "p6-healer", &[], &[]);
        healer.mounts = vec!["/var/run/docker.sock".into(), "/engine.sock".into()];
        let s = [svc("api", "p6-api", &[5000], &[]), healer];
        let a = assign(&lab, &roles, &flags(NONE), &s);
        assert_eq!(yours(&a), [("manager", "healer", By::Match)]);
        assert_eq!(roles["manager"].describe(), "a mount of `docker.sock`");
    }

    #[test]
    fn missing_services_stay_unmapped() {
        let s = [svc("cache", "redis:7", &[6379], &[])];
        let a = assign(&lab(), &roles(), &flags(NONE), &s);
        assert!(a.mapped.is_empty() && a.ambiguous.is_empty());
        // a service whose role does not hold is not taken for it
        let s = [svc("app", "a", &[8000], &[])];
        assert_eq!(assign(&lab(), &roles(), &flags(NONE), &s).found(), 0);
        // a lab service without a role is found only by its name
        let s = [svc("app", "a", &[5000], &[])];
        let a = assign(&lab(), &BTreeMap::new(), &flags(NONE), &s);
        assert_eq!(a.found(), 0);
    }

    #[test]
    fn the_flag_overrides_names_and_roles() {
        let s = [
            svc("web", "old", &[5000], &["db"]),
            svc("web2", "new", &[8000], &[]),
            svc("db", "postgres", &[5432], &[]),
            svc("pg", "postgres", &[5432], &[]),
        ];
        let a = assign(&lab(), &roles(), &flags(&[("web", "web2")]), &s);
        assert_eq!(
            yours(&a),
            [("db", "db", By::Name), ("web", "web2", By::Flag)]
        );
        assert_eq!(
            a.mapped["web"].line(),
            "treating your service `web2` as web (--service)"
        );
        let a = assign(&lab(), &roles(), &flags(&[("db", "pg")]), &s);
        assert_eq!(a.mapped["db"].yours, "pg");
        // a flag naming a service the project lacks maps nothing (the caller says so)
        let a = assign(&lab(), &roles(), &flags(&[("db", "nope")]), &s);
        assert!(!a.mapped.contains_key("db"));
    }
}

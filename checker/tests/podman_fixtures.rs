//! Podman's Docker-compatible API, recorded (tests/fixtures/podman/, see its README): a phase-3
//! stack brought up by podman-compose, as Podman answers GET /containers/json, GET
//! /containers/{id}/json and GET /networks/{id}. The answers go through bollard's types and the
//! same code paths as a Docker engine's: discovery, the inspect facts, and the checks on them.

use std::collections::BTreeMap;
use std::path::Path;

use bollard::models::{ContainerInspectResponse, ContainerSummary, Network};
use labcheck::kinds::{self, CheckKind, Verdict};
use labcheck::probe::container::from_inspect;
use labcheck::probe::facts::ContainerFacts;
use labcheck::target::discover::{choose_project, pick_units, seen, Wanted};

fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/podman")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn phase3() -> labcheck::lab::Lab {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../labs/phase-3");
    labcheck::lab::load_lab(&dir).unwrap()
}

fn kind<T: CheckKind>(fields: &str) -> T {
    kinds::decode::<T>(toml::from_str(fields).unwrap()).unwrap()
}

fn web() -> ContainerFacts {
    from_inspect(&fixture::<ContainerInspectResponse>("inspect-web.json"))
}

fn db() -> ContainerFacts {
    from_inspect(&fixture::<ContainerInspectResponse>("inspect-db.json"))
}

#[test]
fn podman_compose_containers_are_discovered_by_their_compose_labels() {
    let list: Vec<ContainerSummary> = fixture("containers.json");
    let all: Vec<_> = list.iter().filter_map(seen).collect();
    assert_eq!(all.len(), 2, "both containers carry the compose labels");
    let lab = phase3();
    let labcheck::lab::Target::Compose { services } = &lab.target else {
        panic!()
    };
    let want = Wanted {
        services,
        matches: &lab.matches,
        flags: &BTreeMap::new(),
    };
    // from the project's own folder, and from anywhere else (the one project with the services)
    let wd = "/home/learner/compose-lab/labs/phase-3/solution";
    for cwd in [wd, "/"] {
        assert_eq!(
            choose_project(&all, &want, None, Path::new(cwd)).unwrap(),
            Some("phase-3".to_string()),
            "from {cwd}"
        );
    }
    let units = pick_units(&all, "phase-3", services, &|s| s.to_string());
    assert!(units.missing.is_empty());
    assert_eq!(units.one["web"].name, "phase-3_web_1");
    assert_eq!(units.one["db"].name, "phase-3_db_1");
    // the roles read Podman's list too: exposed and published ports, the full image name
    let db = all.iter().find(|s| s.service == "db").unwrap();
    assert_eq!(db.looks.ports, [5432]);
    assert_eq!(db.looks.image, "docker.io/library/postgres:15-alpine");
    assert_eq!(
        db.looks.depends_on, None,
        "podman-compose writes no depends_on label"
    );
    assert_eq!(db.config_files.as_deref(), Some("compose.yaml"));
    let web = all.iter().find(|s| s.service == "web").unwrap();
    assert_eq!(web.looks.ports, [5000]);
    assert!(web.running);
}

#[test]
fn podman_compose_under_other_names_maps_by_role() {
    let mut list: Vec<ContainerSummary> = fixture("containers.json");
    for c in &mut list {
        let labels = c.labels.as_mut().unwrap();
        let theirs = match labels["com.docker.compose.service"].as_str() {
            "web" => "app",
            _ => "database",
        };
        labels.insert("com.docker.compose.service".into(), theirs.into());
    }
    let all: Vec<_> = list.iter().filter_map(seen).collect();
    let lab = phase3();
    let labcheck::lab::Target::Compose { services } = &lab.target else {
        panic!()
    };
    let want = Wanted {
        services,
        matches: &lab.matches,
        flags: &BTreeMap::new(),
    };
    assert_eq!(
        choose_project(&all, &want, None, Path::new("/")).unwrap(),
        Some("phase-3".to_string())
    );
    let mine: Vec<_> = all.iter().collect();
    let a = want.assign(&mine);
    // without a depends_on label, web is known by its port alone and db by image and port
    let got: Vec<String> = a.mapped.values().map(|m| m.line()).collect();
    assert_eq!(
        got,
        [
            "treating your service `database` as db",
            "treating your service `app` as web"
        ]
    );
}

#[test]
fn inspect_facts_from_podman_feed_the_checks() {
    let (web, db) = (web(), db());
    assert!(web.running && db.running);
    assert_eq!(db.health.as_ref().unwrap().status, "healthy");
    assert_eq!(
        db.health.as_ref().unwrap().last_output.as_deref(),
        Some("127.0.0.1:5432 - accepting connections\n")
    );
    let judge = |j: kinds::Judgement| (j.verdict, j.message);
    let pass = |j: kinds::Judgement| {
        assert_eq!(j.verdict, Verdict::Pass, "{}", j.message);
    };

    pass(kind::<kinds::running::Running>("service = 'db'").judge(&vec![db.clone()]));
    pass(kind::<kinds::running::Healthy>("service = 'web'").judge(&vec![web.clone()]));
    // published ports: Podman keeps the binding's address
    pass(
        kind::<kinds::ports::Published>(
            "service = 'web'\ncontainer_port = 5000\nhost_port = 8080\nhost_ip = '127.0.0.1'",
        )
        .judge(&web),
    );
    pass(kind::<kinds::ports::NotPublished>("service = 'db'").judge(&db));
    let (v, m) = judge(kind::<kinds::ports::NotPublished>("service = 'web'").judge(&web));
    assert_eq!(v, Verdict::Fail, "{m}");
    // env, and the named volume (Podman's volume mounts carry their name)
    let env: kinds::env::Env = kind("service = 'web'\nvar = 'DB_HOST'\nequals = 'db'");
    pass(env.judge(&kinds::env::EnvSeen {
        container: web.clone(),
        equals: Some("db".into()),
    }));
    pass(
        kind::<kinds::volume::Volume>("service = 'db'\npath = '/var/lib/postgresql/data'")
            .judge(&db),
    );
    let (v, m) = judge(
        kind::<kinds::volume::Volume>("service = 'db'\npath = '/docker-entrypoint-initdb.d'")
            .judge(&db),
    );
    assert_eq!(v, Verdict::Fail, "a bind mount is not a named volume: {m}");
    // networks: both on the project's network, as Podman names it
    assert_eq!(web.networks[0].name, "phase-3_default");
    assert_eq!(web.networks[0].ip.as_deref(), Some("10.89.1.3"));
    pass(
        kind::<kinds::networks::SharedNetwork>("service = 'web'\npeer = 'db'")
            .judge(&(web.clone(), db.clone())),
    );
    pass(
        kind::<kinds::networks::Attached>(
            "service = 'db'\nnetworks = ['phase-3_default']\nonly = true",
        )
        .judge(&db),
    );
}

#[test]
fn podman_network_inspect_is_a_user_defined_bridge() {
    let n: Network = fixture("network.json");
    let facts = labcheck::probe::net::net_facts(n);
    assert_eq!(
        (
            facts.name.as_str(),
            facts.driver.as_str(),
            facts.default_bridge
        ),
        ("phase-3_default", "bridge", false)
    );
    let check: kinds::networks::Network = kind("network = 'phase-3_default'");
    let j = check.judge(&Some(facts));
    assert_eq!(j.verdict, Verdict::Pass, "{}", j.message);
}

//! lab.toml parsing, validation, and errors with line and column.

use std::path::Path;

use super::*;

const GOOD: &str = r#"format_version = 1
id = "demo"
title = "Demo"
book = "demo/index.html"

[target]
kind = "compose"
services = ["web", "db"]

[[checks]]
id = "web-up"
title = "web is running"
kind = "running"
service = "web"
needs = ["db-up"]

[[checks]]
id = "db-up"
title = "db is running"
kind = "running"
service = "db"
points = 2
severity = "warn"

[[checks]]
id = "port"
title = "web published"
kind = "published"
service = "web"
container_port = "5000/tcp"
host_port = 8080

[[checks]]
id = "nopub"
title = "db not published"
kind = "not_published"
service = "db"
container_port = 5432

[[checks]]
id = "env"
title = "DB_HOST"
kind = "env"
service = "web"
var = "DB_HOST"
not = "localhost"

[[faults]]
file = "faults/x.yml"
summary = "x"
first_broken = "web-up"
fails = ["web-up"]
"#;

fn load(src: &str) -> Result<Lab, Vec<SpecError>> {
    load_str(src, Path::new("labs/demo/lab.toml"), Path::new("labs/demo")).map_err(|e| match e {
        LoadError::Spec(v) => v,
        other => panic!("{other}"),
    })
}

fn one_error(src: &str) -> SpecError {
    let errs = load(src).expect_err("should not load");
    assert!(!errs.is_empty());
    errs[0].clone()
}

#[test]
fn a_good_lab_loads_in_ladder_order_with_defaults() {
    let lab = load(GOOD).unwrap();
    assert_eq!(lab.id, "demo");
    let ids: Vec<&str> = lab.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["db-up", "web-up", "port", "nopub", "env"]);
    let db = &lab.checks[0];
    assert_eq!((db.points, db.severity, db.line), (2, Severity::Warn, 17));
    assert_eq!(
        (lab.checks[1].points, lab.checks[1].severity),
        (1, Severity::Fail)
    );
    use crate::kinds::{ports, Port, PortKey};
    assert_eq!(
        lab.checks[2].kind,
        crate::kinds::Kind::Published(ports::Published {
            service: "web".into(),
            container_port: PortKey {
                port: 5000,
                proto: "tcp".into()
            },
            host_port: Some(Port(8080)),
            host_ip: None
        })
    );
    assert_eq!(
        lab.checks[3].kind,
        crate::kinds::Kind::NotPublished(ports::NotPublished {
            service: "db".into(),
            container_port: Some(PortKey {
                port: 5432,
                proto: "tcp".into()
            })
        })
    );
    assert_eq!(
        lab.checks[4].kind,
        crate::kinds::Kind::Env(crate::kinds::env::Env {
            service: "web".into(),
            var: "DB_HOST".into(),
            equals: None,
            not: crate::kinds::OneOrMany(vec!["localhost".into()])
        })
    );
    assert_eq!(lab.faults[0].first_broken.as_deref(), Some("web-up"));
    assert!(lab.faults[0].warns.is_empty() && lab.faults[0].notes.is_empty());
    assert_eq!(
        lab.target,
        Target::Compose {
            services: vec!["web".into(), "db".into()]
        }
    );
}

#[test]
fn toml_syntax_errors_have_line_and_column() {
    let e = one_error("format_version = 1\nid = \"x\"\ntitle = \n");
    assert_eq!((e.line, e.column), (3, 9), "{e}");
    assert!(e.to_string().starts_with("labs/demo/lab.toml:3:9: "), "{e}");
}

#[test]
fn a_missing_field_points_at_the_check() {
    let src = GOOD.replace("service = \"db\"\npoints = 2", "points = 2");
    let e = one_error(&src);
    assert_eq!(e.line, 17, "{e}");
    assert!(
        e.message
            .contains("check `db-up` (kind running): missing field `service`"),
        "{e}"
    );
}

#[test]
fn a_typo_in_a_field_name_is_caught_where_it_is() {
    let src = GOOD.replace("var = \"DB_HOST\"", "varr = \"DB_HOST\"");
    let e = one_error(&src);
    assert!(e.message.contains("unknown field `varr`"), "{e}");
    // the line of the field, at its value
    assert_eq!((e.line, e.column), (45, 8), "{e}");
}

#[test]
fn unknown_kinds_are_named_before_their_fields() {
    let src = GOOD.replace(
        "kind = \"running\"\nservice = \"web\"",
        "kind = \"teleport\"\nnetwork = \"frontend\"",
    );
    let e = one_error(&src);
    assert!(e.message.contains("unknown check kind `teleport`"), "{e}");
    assert_eq!(e.line, 10, "{e}");
}

#[test]
fn needs_must_exist_and_be_acyclic() {
    let e = one_error(&GOOD.replace("needs = [\"db-up\"]", "needs = [\"db-upp\"]"));
    assert!(
        e.message.contains("needs `db-upp`, which is not a check"),
        "{e}"
    );
    assert_eq!((e.line, e.column), (15, 10), "{e}");

    let cyclic = GOOD.replace(
        "severity = \"warn\"",
        "severity = \"warn\"\nneeds = [\"web-up\"]",
    );
    let e = one_error(&cyclic);
    assert!(e.message.contains("cycle"), "{e}");
    assert!(
        e.message.contains("web-up -> db-up -> web-up")
            || e.message.contains("db-up -> web-up -> db-up"),
        "{e}"
    );
}

#[test]
fn ids_are_unique_and_kebab_case() {
    let dup = GOOD.replace("id = \"port\"", "id = \"env\"");
    assert!(load(&dup)
        .unwrap_err()
        .iter()
        .any(|e| e.message.contains("duplicate check id `env`")));
    let bad = GOOD.replace("id = \"port\"", "id = \"Port_1\"");
    assert!(load(&bad)
        .unwrap_err()
        .iter()
        .any(|e| e.message.contains("kebab-case")));
}

#[test]
fn faults_must_name_real_checks() {
    let e = one_error(&GOOD.replace("fails = [\"web-up\"]", "fails = [\"web-up\", \"nope\"]"));
    assert!(e.message.contains("names `nope`"), "{e}");
    let e = one_error(&GOOD.replace("first_broken = \"web-up\"", "first_broken = \"port\""));
    assert!(e.message.contains("not in its `fails`"), "{e}");
    let e = one_error(&GOOD.replace("first_broken = \"web-up\"\n", ""));
    assert!(e.message.contains("names no `first_broken`"), "{e}");
}

#[test]
fn a_fault_that_only_warns_lists_its_warnings_and_notes() {
    let warns = GOOD.replace(
        "first_broken = \"web-up\"\nfails = [\"web-up\"]",
        "fails = []\nwarns = [\"db-up\"]\nnotes = [\"env\"]",
    );
    let lab = load(&warns).unwrap();
    let f = &lab.faults[0];
    assert_eq!(f.first_broken, None);
    assert_eq!(
        (f.warns.as_slice(), f.notes.as_slice()),
        (&["db-up".to_string()][..], &["env".to_string()][..])
    );
    let e = one_error(&warns.replace("warns = [\"db-up\"]", "warns = [\"db-upp\"]"));
    assert!(e.message.contains("names `db-upp`"), "{e}");
    let e = one_error(&warns.replace("warns = [\"db-up\"]\nnotes = [\"env\"]", ""));
    assert!(e.message.contains("changes nothing"), "{e}");
}

#[test]
fn format_version_is_checked_first() {
    let e = one_error(&GOOD.replace("format_version = 1", "format_version = 2"));
    assert!(e.message.contains("newer than this labcheck"), "{e}");
    assert_eq!((e.line, e.column), (1, 18));
    let e = one_error(&GOOD.replace("format_version = 1\n", ""));
    assert!(e.message.contains("missing `format_version`"), "{e}");
}

#[test]
fn bad_values_are_reported() {
    let e = one_error(&GOOD.replace("host_port = 8080", "host_port = 70000"));
    assert!(e.message.contains("not a port"), "{e}");
    let e = one_error(&GOOD.replace(
        "container_port = \"5000/tcp\"",
        "container_port = \"5000/http\"",
    ));
    assert!(e.message.contains("container_port must be"), "{e}");
    let e = one_error(&GOOD.replace("severity = \"warn\"", "severity = \"fatal\""));
    assert!(e.message.contains("severity `fatal`"), "{e}");
    let e = one_error(&GOOD.replace("kind = \"compose\"", "kind = \"swarm\""));
    assert!(e.message.contains("unknown target kind `swarm`"), "{e}");
}

#[test]
fn a_lab_without_checks_has_nothing_to_check() {
    let src = "format_version = 1\nid = \"x\"\ntitle = \"x\"\n[target]\nkind = \"compose\"\nservices = [\"a\"]\n";
    assert!(one_error(src).message.contains("nothing to check"));
}

#[test]
fn the_live_table_is_accepted_and_ignored() {
    let src = GOOD.replace(
        "[target]",
        "[live]\nafter_up = [[\"stop\", \"db\"]]\n\n[target]",
    );
    assert!(load(&src).is_ok());
}

#[test]
fn lint_finds_missing_fault_files_and_book_anchors() {
    let dir = tempfile::tempdir().unwrap();
    let labs = dir.path().join("labs");
    let lab_dir = labs.join("demo");
    std::fs::create_dir_all(&lab_dir).unwrap();
    let src = GOOD.replace(
        "title = \"web is running\"",
        "title = \"web is running\"\nbook = \"demo/troubleshooting.html#web-up\"",
    );
    std::fs::write(lab_dir.join("lab.toml"), &src).unwrap();
    let book = dir.path().join("book/src/demo");
    std::fs::create_dir_all(&book).unwrap();
    std::fs::write(
        book.join("troubleshooting.md"),
        "# T\n\n### web {#web-down}\n",
    )
    .unwrap();
    let r = lint::lint(&labs, Some(&dir.path().join("book/src"))).unwrap();
    let msgs: Vec<String> = r.problems.iter().map(|p| p.to_string()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("fault file `faults/x.yml` does not exist")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("no section with the anchor {#web-up}")),
        "{msgs:?}"
    );
    // (and each check's missing hint levels: hints.toml's own tests cover those)
    let others = msgs.iter().filter(|m| !m.contains("lacks hint levels"));
    assert_eq!(others.count(), 2, "{msgs:?}");

    std::fs::create_dir_all(lab_dir.join("faults")).unwrap();
    std::fs::write(lab_dir.join("faults/x.yml"), "services: {}\n").unwrap();
    let levels = "nudge = \"n\"\nconcept = \"c\"\nsee = \"s\"\nfix = \"f\"\n";
    let hints: String = ["web-up", "db-up", "port", "nopub", "env"]
        .iter()
        .map(|id| format!("[{id}]\n{levels}"))
        .collect();
    std::fs::write(lab_dir.join("hints.toml"), hints).unwrap();
    std::fs::write(
        book.join("troubleshooting.md"),
        "# T\n\n### web {#web-up}\n",
    )
    .unwrap();
    assert!(lint::lint(&labs, Some(&dir.path().join("book/src")))
        .unwrap()
        .problems
        .is_empty());
}

#[test]
fn the_contract_lists_exactly_the_kinds_labcheck_implements() {
    // The book includes this table as the labcheck reference: one source, never stale.
    let doc = include_str!("../../../docs/CONTRACTS.md");
    let table = doc
        .split("<!-- ANCHOR: kinds -->")
        .nth(1)
        .and_then(|t| t.split("<!-- ANCHOR_END: kinds -->").next())
        .expect("docs/CONTRACTS.md has the kinds anchor");
    let mut documented: Vec<&str> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    let mut implemented = super::load::kinds().to_vec();
    documented.sort_unstable();
    implemented.sort_unstable();
    assert_eq!(documented, implemented);
}

#[test]
fn only_the_kinds_meant_to_fill_app_state_make_their_dependents_wait() {
    let lab = load(
        r#"format_version = 1
id = "c"
title = "c"
[target]
kind = "compose"
services = ["api", "redis"]
[[checks]]
id = "plain"
title = "p"
kind = "http"
url = "http://127.0.0.1:1/"
[[checks]]
id = "cached"
title = "c"
kind = "http_cached"
url = "http://127.0.0.1:1/"
header = "X-Cache"
hit = "HIT"
[[checks]]
id = "key"
title = "k"
kind = "redis_key"
service = "redis"
key = "k"
needs = ["cached"]
"#,
    )
    .unwrap();
    let leaves: Vec<bool> = lab.checks.iter().map(|c| c.kind.leaves_state()).collect();
    assert_eq!(leaves, [false, true, false]);
}

const ROLES_HEAD: &str = r#"format_version = 1
id = "r"
title = "r"
[target]
kind = "compose"
services = ["web", "db"]
[[checks]]
id = "up"
title = "up"
kind = "running"
service = "web"
"#;

#[test]
fn roles_load_with_their_defaults() {
    let lab = load(&format!(
        "{ROLES_HEAD}{}",
        r#"[[checks]]
id = "host"
title = "h"
kind = "env"
role = "diagnosis"
explains = ["up"]
service = "web"
var = "DB_HOST"
equals = "db"
[[checks]]
id = "closed"
title = "c"
kind = "not_published"
role = "hardening"
service = "db"
[[variants]]
dir = "variants/renamed"
summary = "other service names"
"#
    ))
    .unwrap();
    let roles: Vec<(Role, Severity)> = lab.checks.iter().map(|c| (c.role, c.severity)).collect();
    assert_eq!(
        roles,
        [
            (Role::Behaviour, Severity::Fail),
            (Role::Diagnosis, Severity::Fail),
            (Role::Hardening, Severity::Warn)
        ]
    );
    assert_eq!(lab.checks[1].explains, ["up"]);
    assert_eq!(lab.variants[0].dir, "variants/renamed");
}

#[test]
fn the_ladder_is_made_of_behaviours() {
    let e = one_error(&format!(
        "{ROLES_HEAD}{}",
        r#"[[checks]]
id = "closed"
title = "c"
kind = "not_published"
role = "hardening"
service = "db"
[[checks]]
id = "after"
title = "a"
kind = "running"
service = "db"
needs = ["closed"]
"#
    ));
    assert!(
        e.message.contains("needs `closed`, a hardening check"),
        "{e}"
    );
}

#[test]
fn a_diagnosis_explains_behaviours_and_only_a_diagnosis_explains() {
    let bad = |fields: &str| {
        one_error(&format!(
            "{ROLES_HEAD}[[checks]]\nid = \"x\"\ntitle = \"x\"\nkind = \"env\"\nservice = \"web\"\nvar = \"A\"\nequals = \"b\"\n{fields}\n"
        ))
        .message
    };
    assert!(bad("role = \"diagnosis\"").contains("names no behaviour in `explains"));
    assert!(bad("explains = [\"up\"]").contains("is not `role = \"diagnosis\"`"));
    assert!(bad("role = \"diagnosis\"\nexplains = [\"nope\"]")
        .contains("explains `nope`, which is not a check"));
    assert!(bad("role = \"diagnosis\"\nexplains = [\"x\"]")
        .contains("a diagnosis check: a diagnosis explains behaviours"));
    assert!(bad("role = \"hardening\"\nseverity = \"fail\"").contains("always warns"));
    assert!(bad("role = \"config\"").contains("role `config` must be"));
}

#[test]
fn a_value_cut_off_at_the_end_says_so() {
    // found by tests/fuzz.rs: the toml crate gives an empty message here
    let e = one_error(&format!("{ROLES_HEAD}[[checks]]\nid = \"x\"\nequals ="));
    assert!(e.message.contains("incomplete"), "{e}");
}
#[test]
fn target_match_tables_give_each_service_a_role() {
    let src = GOOD.replace(
        "services = [\"web\", \"db\"]\n",
        "services = [\"web\", \"db\"]\n[target.match.db]\nimage = \"postgres\"\nport = 5432\n[target.match.web]\nport = 5000\ndepends_on = [\"db\"]\n",
    );
    let lab = load(&src).unwrap();
    let db = &lab.matches["db"];
    assert_eq!(
        (db.image.as_deref(), db.port, db.depends_on.len()),
        (Some("postgres"), Some(5432), 0)
    );
    assert_eq!(lab.matches["web"].depends_on, ["db"]);
    assert_eq!(lab.matches["web"].describe(), "port 5000, depends on db");
    assert!(load(GOOD).unwrap().matches.is_empty());
}

#[test]
fn target_match_errors_say_where_and_what() {
    let with = |m: &str| {
        GOOD.replace(
            "services = [\"web\", \"db\"]\n",
            &format!("services = [\"web\", \"db\"]\n{m}"),
        )
    };
    // line 9 is the first line after `services = [...]`
    let e = one_error(&with("[target.match.cache]\nport = 6379\n"));
    assert_eq!(
        e.to_string(),
        "labs/demo/lab.toml:9:15: [target.match.cache]: `cache` is not one of the lab's services (web, db)"
    );
    let e = one_error(&with("[target.match.db]\nport = 70000\n"));
    assert_eq!((e.line, e.column), (10, 8), "{e}");
    assert!(
        e.message
            .ends_with("port = 70000 is not a port (1 to 65535)"),
        "{e}"
    );
    let e = one_error(&with("[target.match.db]\ndepends_on = [\"db\", \"x\"]\n"));
    assert_eq!((e.line, e.column), (10, 15), "{e}");
    assert!(
        e.message
            .contains("depends_on names `db`, which is not another of the lab's services"),
        "{e}"
    );
    let e = one_error(&with("[target.match.db]\n"));
    assert!(e.message.contains("[target.match.db] says nothing"), "{e}");
    let e = one_error(&with("[target.match.db]\nimage = \"\"\n"));
    assert!(e.message.contains("`image` is empty"), "{e}");
    let e = one_error(&with("[target.match.db]\nimages = \"postgres\"\n"));
    assert!(e.message.contains("unknown field `images`"), "{e}");
    assert_eq!(e.line, 10, "{e}");
    let containers = GOOD.replace(
        "kind = \"compose\"\nservices = [\"web\", \"db\"]\n",
        "kind = \"containers\"\ncontainers = [\"web\", \"db\"]\n[target.match.db]\nport = 5432\n",
    );
    let e = one_error(&containers);
    assert!(
        e.message
            .contains("a \"containers\" lab finds its containers by name"),
        "{e}"
    );
}

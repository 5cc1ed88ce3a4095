//! Every check's verdict on hand-built facts: no Docker involved.

use super::*;
use crate::lab::{Kind, PortKey};

fn c() -> ContainerFacts {
    ContainerFacts {
        id: "abc".into(),
        name: "p-db-1".into(),
        status: "running".into(),
        running: true,
        ..Default::default()
    }
}

fn net(name: &str) -> NetworkFacts {
    NetworkFacts {
        name: name.into(),
        ip: Some("172.20.0.2".into()),
    }
}

fn port(cp: &str, ip: &str, hp: &str) -> PortFacts {
    PortFacts {
        container_port: cp.into(),
        host_ip: ip.into(),
        host_port: hp.into(),
    }
}

fn v(k: &Kind, o: Observed) -> Verdict {
    judge(k, &o).verdict
}

#[test]
fn running_needs_running_and_not_restarting() {
    let k = Kind::Running {
        service: "db".into(),
    };
    assert_eq!(v(&k, Observed::Container(Box::new(c()))), Verdict::Pass);
    let exited = ContainerFacts {
        running: false,
        status: "exited".into(),
        exit_code: Some(1),
        ..c()
    };
    let j = judge(&k, &Observed::Container(Box::new(exited)));
    assert_eq!(j.verdict, Verdict::Fail);
    assert!(j.message.contains("exited with code 1"), "{}", j.message);
    let restarting = ContainerFacts {
        restarting: true,
        ..c()
    };
    assert_eq!(
        v(&k, Observed::Container(Box::new(restarting))),
        Verdict::Fail
    );
    assert_eq!(v(&k, Observed::Missing("db".into())), Verdict::Fail);
}

#[test]
fn healthy_shows_the_last_healthcheck_output_on_failure() {
    let k = Kind::Healthy {
        service: "db".into(),
    };
    let health = |s: &str| HealthFacts {
        status: s.into(),
        failing_streak: 2,
        last_output: Some("  no response\n".into()),
        last_exit_code: Some(2),
    };
    assert_eq!(
        v(
            &k,
            Observed::Container(Box::new(ContainerFacts {
                health: Some(health("healthy")),
                ..c()
            }))
        ),
        Verdict::Pass
    );
    let j = judge(
        &k,
        &Observed::Container(Box::new(ContainerFacts {
            health: Some(health("unhealthy")),
            ..c()
        })),
    );
    assert_eq!(j.verdict, Verdict::Fail);
    assert_eq!(
        j.evidence,
        ["last healthcheck output (exit 2): no response"]
    );
    assert_eq!(
        v(
            &k,
            Observed::Container(Box::new(ContainerFacts {
                health: Some(health("starting")),
                ..c()
            }))
        ),
        Verdict::Fail
    );
    let j = judge(&k, &Observed::Container(Box::new(c())));
    assert!(j.message.contains("no healthcheck"), "{}", j.message);
}

#[test]
fn shared_network_ignores_the_default_bridge() {
    let k = Kind::SharedNetwork {
        service: "web".into(),
        peer: "db".into(),
    };
    let a = ContainerFacts {
        networks: vec![net("p_default")],
        ..c()
    };
    let b = ContainerFacts {
        networks: vec![net("other"), net("p_default")],
        ..c()
    };
    assert_eq!(
        v(&k, Observed::Pair(Box::new(a), Box::new(b))),
        Verdict::Pass
    );
    let a = ContainerFacts {
        networks: vec![net("bridge")],
        ..c()
    };
    let b = ContainerFacts {
        networks: vec![net("bridge")],
        ..c()
    };
    let j = judge(&k, &Observed::Pair(Box::new(a), Box::new(b)));
    assert_eq!(j.verdict, Verdict::Fail);
    assert!(
        j.evidence[0].contains("no user-defined network (on: bridge)"),
        "{:?}",
        j.evidence
    );
    let a = ContainerFacts {
        networks: vec![net("p_front")],
        ..c()
    };
    let b = ContainerFacts {
        networks: vec![net("p_back")],
        ..c()
    };
    assert_eq!(
        v(&k, Observed::Pair(Box::new(a), Box::new(b))),
        Verdict::Fail
    );
}

#[test]
fn depends_on_compares_the_condition_and_unknown_is_its_own_verdict() {
    let k = Kind::DependsOn {
        service: "web".into(),
        on: "db".into(),
        condition: "service_healthy".into(),
    };
    let known = |cond: &str| {
        Observed::DependsOn(DependsFacts::Known {
            source: "label".into(),
            entries: vec![DependsEntry {
                on: "db".into(),
                condition: cond.into(),
            }],
        })
    };
    assert_eq!(v(&k, known("service_healthy")), Verdict::Pass);
    assert_eq!(v(&k, known("service_started")), Verdict::Fail);
    assert_eq!(
        v(
            &k,
            Observed::DependsOn(DependsFacts::Known {
                source: "label".into(),
                entries: vec![]
            })
        ),
        Verdict::Fail
    );
    assert_eq!(
        v(
            &k,
            Observed::DependsOn(DependsFacts::Unknown {
                reason: "v1".into()
            })
        ),
        Verdict::Unknown
    );
}

#[test]
fn published_checks_port_host_port_and_ip() {
    let pk = PortKey {
        port: 5000,
        proto: "tcp".into(),
    };
    let web = ContainerFacts {
        ports: vec![port("5000/tcp", "127.0.0.1", "8080")],
        ..c()
    };
    let k = |hp: Option<u16>, ip: Option<&str>| Kind::Published {
        service: "web".into(),
        container_port: pk.clone(),
        host_port: hp,
        host_ip: ip.map(String::from),
    };
    assert_eq!(
        v(&k(None, None), Observed::Container(Box::new(web.clone()))),
        Verdict::Pass
    );
    assert_eq!(
        v(
            &k(Some(8080), Some("127.0.0.1")),
            Observed::Container(Box::new(web.clone()))
        ),
        Verdict::Pass
    );
    assert_eq!(
        v(
            &k(Some(8000), None),
            Observed::Container(Box::new(web.clone()))
        ),
        Verdict::Fail
    );
    assert_eq!(
        v(
            &k(Some(8080), Some("0.0.0.0")),
            Observed::Container(Box::new(web.clone()))
        ),
        Verdict::Fail
    );
    let all = ContainerFacts {
        ports: vec![port("5000/tcp", "", "8080")],
        ..c()
    };
    assert_eq!(
        v(
            &k(Some(8080), Some("0.0.0.0")),
            Observed::Container(Box::new(all))
        ),
        Verdict::Pass
    );
    assert_eq!(
        v(&k(None, None), Observed::Container(Box::new(c()))),
        Verdict::Fail
    );
}

#[test]
fn not_published_with_and_without_a_port() {
    let db = ContainerFacts {
        ports: vec![port("5432/tcp", "0.0.0.0", "5432")],
        ..c()
    };
    let any = Kind::NotPublished {
        service: "db".into(),
        container_port: None,
    };
    let p5432 = Kind::NotPublished {
        service: "db".into(),
        container_port: Some(PortKey {
            port: 5432,
            proto: "tcp".into(),
        }),
    };
    let p80 = Kind::NotPublished {
        service: "db".into(),
        container_port: Some(PortKey {
            port: 80,
            proto: "tcp".into(),
        }),
    };
    assert_eq!(v(&any, Observed::Container(Box::new(c()))), Verdict::Pass);
    let j = judge(&any, &Observed::Container(Box::new(db.clone())));
    assert_eq!(j.verdict, Verdict::Fail);
    assert!(
        j.message.contains("0.0.0.0:5432 -> 5432/tcp"),
        "{}",
        j.message
    );
    assert_eq!(
        v(&p5432, Observed::Container(Box::new(db.clone()))),
        Verdict::Fail
    );
    assert_eq!(v(&p80, Observed::Container(Box::new(db))), Verdict::Pass);
}

#[test]
fn volume_tells_named_anonymous_and_bind_apart() {
    let k = Kind::Volume {
        service: "db".into(),
        path: "/var/lib/postgresql/data".into(),
        named: true,
    };
    let m = |kind: &str, name: Option<&str>| ContainerFacts {
        mounts: vec![MountFacts {
            kind: kind.into(),
            name: name.map(String::from),
            source: Some("/src".into()),
            destination: "/var/lib/postgresql/data/".into(),
        }],
        ..c()
    };
    assert_eq!(
        v(
            &k,
            Observed::Container(Box::new(m("volume", Some("p_pgdata"))))
        ),
        Verdict::Pass
    );
    let anon = "a".repeat(64);
    let j = judge(&k, &Observed::Container(Box::new(m("volume", Some(&anon)))));
    assert_eq!(j.verdict, Verdict::Fail);
    assert!(j.message.contains("anonymous"), "{}", j.message);
    assert_eq!(
        v(&k, Observed::Container(Box::new(m("bind", None)))),
        Verdict::Fail
    );
    assert_eq!(v(&k, Observed::Container(Box::new(c()))), Verdict::Fail);
    let any = Kind::Volume {
        service: "db".into(),
        path: "/var/lib/postgresql/data".into(),
        named: false,
    };
    assert_eq!(
        v(&any, Observed::Container(Box::new(m("bind", None)))),
        Verdict::Pass
    );
}

#[test]
fn env_set_equals_and_not() {
    let web = ContainerFacts {
        env: vec!["DB_HOST=localhost".into(), "EMPTY=".into()],
        ..c()
    };
    let k = |equals: Option<&str>, not: &[&str]| Kind::Env {
        service: "web".into(),
        var: "DB_HOST".into(),
        equals: equals.map(String::from),
        not: not.iter().map(|s| s.to_string()).collect(),
    };
    assert_eq!(
        v(&k(None, &[]), Observed::Container(Box::new(web.clone()))),
        Verdict::Pass
    );
    assert_eq!(
        v(
            &k(Some("db"), &[]),
            Observed::Container(Box::new(web.clone()))
        ),
        Verdict::Fail
    );
    assert_eq!(
        v(
            &k(None, &["localhost", "127.0.0.1"]),
            Observed::Container(Box::new(web.clone()))
        ),
        Verdict::Fail
    );
    assert_eq!(
        v(
            &k(Some("localhost"), &[]),
            Observed::Container(Box::new(web.clone()))
        ),
        Verdict::Pass
    );
    let unset = Kind::Env {
        service: "web".into(),
        var: "NOPE".into(),
        equals: None,
        not: vec![],
    };
    assert_eq!(
        v(&unset, Observed::Container(Box::new(web.clone()))),
        Verdict::Fail
    );
    let empty = Kind::Env {
        service: "web".into(),
        var: "EMPTY".into(),
        equals: None,
        not: vec![],
    };
    assert_eq!(v(&empty, Observed::Container(Box::new(web))), Verdict::Pass);
}

#[test]
fn env_never_shows_a_secret_value() {
    let app = ContainerFacts {
        env: vec!["APP_SECRET=hunter2-long".into(), "DB_HOST=db".into()],
        ..c()
    };
    let k = |var: &str, equals: Option<&str>| Kind::Env {
        service: "app".into(),
        var: var.into(),
        equals: equals.map(String::from),
        not: vec![],
    };
    let pass = judge(
        &k("APP_SECRET", None),
        &Observed::Container(Box::new(app.clone())),
    );
    assert_eq!(pass.verdict, Verdict::Pass);
    assert!(!pass.message.contains("hunter2"), "{}", pass.message);
    assert!(pass.message.contains("12 characters"), "{}", pass.message);
    let failed = judge(
        &k("APP_SECRET", Some("other")),
        &Observed::Container(Box::new(app.clone())),
    );
    assert_eq!(failed.verdict, Verdict::Fail);
    assert!(
        !failed.message.contains("hunter2") && !failed.message.contains("other"),
        "{}",
        failed.message
    );
    let plain = judge(&k("DB_HOST", None), &Observed::Container(Box::new(app)));
    assert!(plain.message.contains("`db`"), "{}", plain.message);
}

#[test]
fn http_status_body_and_no_response() {
    let k = Kind::Http {
        url: "http://localhost:8080/healthz".into(),
        status: 200,
        body_contains: Some("ok".into()),
    };
    let h = |status: Option<u16>, body: &str| {
        Observed::Http(HttpFacts {
            status,
            body_excerpt: body.into(),
            error: status.is_none().then(|| "connection refused".into()),
        })
    };
    assert_eq!(v(&k, h(Some(200), "{\"status\":\"ok\"}")), Verdict::Pass);
    let j = judge(&k, &h(Some(503), "db down"));
    assert_eq!(j.verdict, Verdict::Fail);
    assert!(j.message.contains("returned 503, expected 200"));
    assert_eq!(j.evidence, ["body: db down"]);
    assert_eq!(v(&k, h(Some(200), "nope")), Verdict::Fail);
    let j = judge(&k, &h(None, ""));
    assert!(j.message.contains("connection refused"), "{}", j.message);
}

#[test]
fn postgres_expect_min_rows_and_errors() {
    let rows = |r: Vec<Vec<Option<&str>>>| {
        Observed::Postgres(PgFacts {
            endpoint: "172.20.0.2:5432".into(),
            rows: Ok(r
                .into_iter()
                .map(|row| row.into_iter().map(|c| c.map(String::from)).collect())
                .collect()),
        })
    };
    let expect = Kind::Postgres {
        service: "db".into(),
        query: "SELECT count(*) FROM users".into(),
        expect: Some("3".into()),
        min_rows: None,
    };
    assert_eq!(v(&expect, rows(vec![vec![Some("3")]])), Verdict::Pass);
    assert_eq!(v(&expect, rows(vec![vec![Some("2")]])), Verdict::Fail);
    assert_eq!(v(&expect, rows(vec![])), Verdict::Fail);
    assert_eq!(v(&expect, rows(vec![vec![None]])), Verdict::Fail);
    let min = Kind::Postgres {
        service: "db".into(),
        query: "SELECT id FROM users".into(),
        expect: None,
        min_rows: Some(3),
    };
    assert_eq!(v(&min, rows(vec![vec![Some("1")]; 3])), Verdict::Pass);
    assert_eq!(v(&min, rows(vec![vec![Some("1")]; 2])), Verdict::Fail);
    let err = Observed::Postgres(PgFacts {
        endpoint: "x".into(),
        rows: Err("FATAL: password authentication failed".into()),
    });
    let j = judge(&min, &err);
    assert_eq!(j.verdict, Verdict::Fail);
    assert!(j.message.contains("password authentication failed"));
}

#[test]
fn a_mismatched_observation_is_an_internal_error_not_a_pass() {
    let k = Kind::Running {
        service: "db".into(),
    };
    let j = judge(
        &k,
        &Observed::Http(HttpFacts {
            status: Some(200),
            body_excerpt: String::new(),
            error: None,
        }),
    );
    assert_eq!(j.verdict, Verdict::Fail);
    assert!(j.message.contains("internal error"));
}

#[test]
fn excerpts_are_cut_on_characters() {
    assert_eq!(excerpt("  héllo  ", 10), "héllo");
    assert_eq!(excerpt("ééééé", 3), "ééé…");
}

#[test]
fn published_with_an_ip_needs_every_binding_to_match() {
    let pk = PortKey {
        port: 80,
        proto: "tcp".into(),
    };
    let k = Kind::Published {
        service: "web".into(),
        container_port: pk,
        host_port: Some(8102),
        host_ip: Some("127.0.0.1".into()),
    };
    let both = ContainerFacts {
        ports: vec![
            port("80/tcp", "127.0.0.1", "8102"),
            port("80/tcp", "0.0.0.0", "8102"),
        ],
        ..c()
    };
    assert_eq!(v(&k, Observed::Container(Box::new(both))), Verdict::Fail);
    let v4v6 = ContainerFacts {
        ports: vec![
            port("80/tcp", "0.0.0.0", "8102"),
            port("80/tcp", "::", "8102"),
        ],
        ..c()
    };
    assert_eq!(v(&k, Observed::Container(Box::new(v4v6))), Verdict::Fail);
}

//! Live: the `postgres` probe both ways. Over the container's IP with tokio-postgres (a local
//! engine), and with `psql` inside the container, which labcheck uses where container IPs are out
//! of reach (remote engines over tcp:// or ssh://, Docker Desktop). Both must give the same rows.
//! With no reachable engine this test FAILS: it never skips.

use std::process::Command;
use std::time::{Duration, Instant};

use bollard::Docker;
use labcheck::probe::facts::{ContainerFacts, NetworkFacts};
use labcheck::probe::postgres;
use labcheck::probe::Timeouts;

mod common;
use common::{docker, Cleanup};

#[tokio::test]
async fn live_postgres_over_the_network_and_through_psql_agree() {
    let name = format!("lc-pg-{}", std::process::id());
    let _cleanup = Cleanup::containers([name.clone()]);
    let env = [
        "POSTGRES_USER=lab",
        "POSTGRES_PASSWORD=s3cret",
        "POSTGRES_DB=labdb",
    ];
    let mut args = vec!["run", "-d", "--name", &name];
    for e in &env {
        args.extend(["-e", e]);
    }
    args.push("postgres:15-alpine");
    docker(&args);
    let started = Instant::now();
    while Command::new("docker")
        .args(["exec", &name, "pg_isready", "-h", "127.0.0.1", "-U", "lab"])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "postgres did not become ready"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let ip = docker(&[
        "inspect",
        "-f",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        &name,
    ]);
    let c = ContainerFacts {
        id: name.clone(),
        name: name.clone(),
        env: env.iter().map(|e| e.to_string()).collect(),
        networks: vec![NetworkFacts {
            name: "bridge".into(),
            ip: Some(ip),
        }],
        ..Default::default()
    };
    let d = Docker::connect_with_local_defaults().unwrap();
    let t = Timeouts::default();
    let sql =
        "SELECT current_user, current_database(), 41 + 1 UNION ALL SELECT 'x', NULL, 2 ORDER BY 3";

    let direct = postgres::query(&c, sql, t.postgres).await;
    let via_psql = postgres::query_in_container(&d, &t, &c, sql).await;
    let direct_rows = direct.rows.expect("query over the network");
    let psql_rows = via_psql.rows.expect("query through psql");
    assert_eq!(
        direct_rows[1],
        vec![Some("lab".into()), Some("labdb".into()), Some("42".into())]
    );
    // psql prints NULL as empty text; everything else must agree.
    assert_eq!(psql_rows[1], direct_rows[1]);
    assert_eq!(psql_rows.len(), direct_rows.len());
    assert!(
        via_psql.endpoint.starts_with("psql in"),
        "{}",
        via_psql.endpoint
    );

    // A remote endpoint goes straight to psql; a SQL error is reported, not retried.
    let remote = postgres::query_anywhere(&d, &t, "tcp://192.0.2.1:2376", &c, "SELECT 7").await;
    assert_eq!(remote.rows.unwrap(), vec![vec![Some("7".to_string())]]);
    let bad = postgres::query_anywhere(
        &d,
        &t,
        "unix:///var/run/docker.sock",
        &c,
        "SELECT * FROM no_such_table",
    )
    .await;
    assert!(bad.rows.unwrap_err().contains("no_such_table"));
}

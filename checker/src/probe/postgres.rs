//! A PostgreSQL query with the container's own POSTGRES_* credentials: over its network IP with
//! tokio-postgres, or, where labcheck can't reach container IPs (a remote engine over tcp:// or
//! ssh://, Docker Desktop), with `psql` run inside the container on its local socket.

use std::time::Duration;

use bollard::Docker;
use tokio_postgres::{NoTls, SimpleQueryMessage};

use super::exec;
use super::facts::{ContainerFacts, PgFacts};
use super::Timeouts;

/// Whether container IPs are reachable from labcheck: not through a remote endpoint.
pub fn ips_reachable(endpoint: &str) -> bool {
    !(endpoint.starts_with("tcp://") || endpoint.starts_with("ssh://"))
}

/// Connection settings the official image would use, read from the container's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
}

/// The official image's defaults: user `postgres`, database named like the user.
pub fn settings(c: &ContainerFacts) -> Result<PgSettings, String> {
    let user = c
        .env_var("POSTGRES_USER")
        .filter(|v| !v.is_empty())
        .unwrap_or("postgres")
        .to_string();
    let dbname = c
        .env_var("POSTGRES_DB")
        .filter(|v| !v.is_empty())
        .unwrap_or(&user)
        .to_string();
    let password = c.env_var("POSTGRES_PASSWORD").map(str::to_string);
    let host = c
        .networks
        .iter()
        .find_map(|n| n.ip.clone())
        .ok_or_else(|| format!("{} has no IP address on any network", c.name))?;
    Ok(PgSettings {
        host,
        port: 5432,
        user,
        password,
        dbname,
    })
}

/// Query over the network where container IPs are reachable; otherwise, or when the connection
/// itself fails (a database error is an answer, not a reason to retry), through `psql`.
pub async fn query_anywhere(
    docker: &Docker,
    t: &Timeouts,
    endpoint: &str,
    c: &ContainerFacts,
    sql: &str,
) -> PgFacts {
    if ips_reachable(endpoint) {
        let direct = query(c, sql, t.postgres).await;
        match &direct.rows {
            Err(e) if e.starts_with(UNREACHABLE) => {}
            _ => return direct,
        }
    }
    query_in_container(docker, t, c, sql).await
}

/// `psql` inside the container, as the image's own user on the local socket (where the official
/// image trusts local connections); argv only, no shell.
pub async fn query_in_container(
    docker: &Docker,
    t: &Timeouts,
    c: &ContainerFacts,
    sql: &str,
) -> PgFacts {
    let s = settings(c).unwrap_or_else(|_| PgSettings {
        host: String::new(),
        port: 5432,
        user: c
            .env_var("POSTGRES_USER")
            .filter(|v| !v.is_empty())
            .unwrap_or("postgres")
            .to_string(),
        password: None,
        dbname: c
            .env_var("POSTGRES_DB")
            .filter(|v| !v.is_empty())
            .unwrap_or("postgres")
            .to_string(),
    });
    let endpoint = format!("psql in {} as {} (database {})", c.name, s.user, s.dbname);
    let cmd = [
        "psql",
        "-X",
        "-q",
        "-A",
        "-t",
        "-F",
        FIELD_SEP,
        "-v",
        "ON_ERROR_STOP=1",
        "-U",
        &s.user,
        "-d",
        &s.dbname,
        "-c",
        sql,
    ];
    let rows = match exec::exec(docker, t, &c.id, &cmd).await {
        Err(e) => Err(e),
        Ok(out) if out.tool_missing() => Err(format!(
            "{} has no psql, and its IP is not reachable from labcheck",
            c.name
        )),
        Ok(out) if out.exit_code != Some(0) => Err(out.diagnostic()),
        Ok(out) => Ok(parse_psql(&out.stdout)),
    };
    PgFacts { endpoint, rows }
}

/// The field separator for `psql -A -F`: a control character no lab value contains.
const FIELD_SEP: &str = "\u{1f}";

/// Rows of `psql -A -t -F <FIELD_SEP>` output (one line a row). psql prints NULL as empty text.
pub fn parse_psql(stdout: &str) -> Vec<Vec<Option<String>>> {
    stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(FIELD_SEP).map(|v| Some(v.to_string())).collect())
        .collect()
}

/// How an error that never reached the server begins: the cue to try `psql` instead.
const UNREACHABLE: &str = "could not connect to ";

pub async fn query(c: &ContainerFacts, sql: &str, limit: Duration) -> PgFacts {
    let s = match settings(c) {
        Ok(s) => s,
        Err(e) => {
            return PgFacts {
                endpoint: c.name.clone(),
                rows: Err(e),
            }
        }
    };
    let endpoint = format!(
        "{}:{} as {} (database {})",
        s.host, s.port, s.user, s.dbname
    );
    let mut cfg = tokio_postgres::Config::new();
    cfg.host(&s.host)
        .port(s.port)
        .user(&s.user)
        .dbname(&s.dbname)
        .connect_timeout(limit);
    if let Some(p) = &s.password {
        cfg.password(p);
    }
    let run = async {
        let (client, conn) = cfg
            .connect(NoTls)
            .await
            .map_err(|e| connect_error(&e, &s.host, limit))?;
        let driver = tokio::spawn(conn);
        let msgs = client.simple_query(sql).await.map_err(|e| db_error(&e));
        drop(client);
        let _ = driver.await;
        let rows = msgs?
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                }
                _ => None,
            })
            .collect();
        Ok(rows)
    };
    let rows = match tokio::time::timeout(limit, run).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "{UNREACHABLE}{}:5432: no answer within {:.1}s",
            s.host,
            limit.as_secs_f64()
        )),
    };
    PgFacts { endpoint, rows }
}

fn db_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}

fn connect_error(e: &tokio_postgres::Error, host: &str, limit: Duration) -> String {
    if e.as_db_error().is_some() {
        return db_error(e);
    }
    let text = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_else(|| e.to_string());
    if text.contains("timed out") || e.to_string().contains("timeout") {
        format!(
            "{UNREACHABLE}{host}:5432 within {:.1}s",
            limit.as_secs_f64()
        )
    } else {
        format!("{UNREACHABLE}{host}:5432: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::facts::NetworkFacts;

    #[test]
    fn psql_output_parses_into_rows() {
        let out = format!("4\n{sep}x\nada{sep}ada@example.org\n", sep = FIELD_SEP);
        assert_eq!(
            parse_psql(&out),
            vec![
                vec![Some("4".to_string())],
                vec![Some(String::new()), Some("x".to_string())],
                vec![Some("ada".to_string()), Some("ada@example.org".to_string())],
            ]
        );
        assert!(parse_psql("").is_empty());
    }

    #[test]
    fn remote_endpoints_use_psql() {
        assert!(ips_reachable("unix:///var/run/docker.sock"));
        assert!(!ips_reachable("tcp://10.0.0.5:2376"));
        assert!(!ips_reachable("ssh://alice@host"));
    }

    #[test]
    fn settings_follow_the_official_image_defaults() {
        let mut c = ContainerFacts {
            name: "db".into(),
            networks: vec![NetworkFacts {
                name: "n".into(),
                ip: Some("172.20.0.2".into()),
            }],
            ..Default::default()
        };
        let s = settings(&c).unwrap();
        assert_eq!(
            (s.user.as_str(), s.dbname.as_str(), s.password),
            ("postgres", "postgres", None)
        );
        c.env = vec!["POSTGRES_USER=app".into(), "POSTGRES_PASSWORD=pw".into()];
        let s = settings(&c).unwrap();
        assert_eq!(
            (
                s.user.as_str(),
                s.dbname.as_str(),
                s.password.as_deref(),
                s.host.as_str()
            ),
            ("app", "app", Some("pw"), "172.20.0.2")
        );
        c.env.push("POSTGRES_DB=shop".into());
        assert_eq!(settings(&c).unwrap().dbname, "shop");
        c.networks.clear();
        assert!(settings(&c).is_err());
    }
}

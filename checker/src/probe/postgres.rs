//! A PostgreSQL query with the container's own POSTGRES_* credentials, over its network IP.

use std::time::Duration;

use tokio_postgres::{NoTls, SimpleQueryMessage};

use super::facts::{ContainerFacts, PgFacts};

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
    let user = c.env_var("POSTGRES_USER").filter(|v| !v.is_empty()).unwrap_or("postgres").to_string();
    let dbname = c.env_var("POSTGRES_DB").filter(|v| !v.is_empty()).unwrap_or(&user).to_string();
    let password = c.env_var("POSTGRES_PASSWORD").map(str::to_string);
    let host = c
        .networks
        .iter()
        .find_map(|n| n.ip.clone())
        .ok_or_else(|| format!("{} has no IP address on any network", c.name))?;
    Ok(PgSettings { host, port: 5432, user, password, dbname })
}

pub async fn query(c: &ContainerFacts, sql: &str, limit: Duration) -> PgFacts {
    let s = match settings(c) {
        Ok(s) => s,
        Err(e) => return PgFacts { endpoint: c.name.clone(), rows: Err(e) },
    };
    let endpoint = format!("{}:{} as {} (database {})", s.host, s.port, s.user, s.dbname);
    let mut cfg = tokio_postgres::Config::new();
    cfg.host(&s.host).port(s.port).user(&s.user).dbname(&s.dbname).connect_timeout(limit);
    if let Some(p) = &s.password {
        cfg.password(p);
    }
    let run = async {
        let (client, conn) = cfg.connect(NoTls).await.map_err(|e| connect_error(&e, &s.host, limit))?;
        let driver = tokio::spawn(conn);
        let msgs = client.simple_query(sql).await.map_err(|e| db_error(&e));
        drop(client);
        let _ = driver.await;
        let rows = msgs?
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect()),
                _ => None,
            })
            .collect();
        Ok(rows)
    };
    let rows = match tokio::time::timeout(limit, run).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no answer from {}:5432 within {:.1}s; container IPs are reachable from the host only on a Linux engine \
             (not Docker Desktop or a remote engine)",
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
    let text = std::error::Error::source(e).map(|s| s.to_string()).unwrap_or_else(|| e.to_string());
    if text.contains("timed out") || e.to_string().contains("timeout") {
        format!(
            "could not connect to {host}:5432 within {:.1}s; container IPs are reachable from the host only on a Linux engine \
             (not Docker Desktop or a remote engine)",
            limit.as_secs_f64()
        )
    } else {
        format!("could not connect to {host}:5432: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::facts::NetworkFacts;

    #[test]
    fn settings_follow_the_official_image_defaults() {
        let mut c = ContainerFacts {
            name: "db".into(),
            networks: vec![NetworkFacts { name: "n".into(), ip: Some("172.20.0.2".into()) }],
            ..Default::default()
        };
        let s = settings(&c).unwrap();
        assert_eq!((s.user.as_str(), s.dbname.as_str(), s.password), ("postgres", "postgres", None));
        c.env = vec!["POSTGRES_USER=app".into(), "POSTGRES_PASSWORD=pw".into()];
        let s = settings(&c).unwrap();
        assert_eq!((s.user.as_str(), s.dbname.as_str(), s.password.as_deref(), s.host.as_str()), ("app", "app", Some("pw"), "172.20.0.2"));
        c.env.push("POSTGRES_DB=shop".into());
        assert_eq!(settings(&c).unwrap().dbname, "shop");
        c.networks.clear();
        assert!(settings(&c).is_err());
    }
}

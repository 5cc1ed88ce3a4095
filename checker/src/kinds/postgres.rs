//! `postgres`: a query on the service's PostgreSQL runs (and returns `expect`, or at least
//! `min_rows` rows). Over the network where container IPs are reachable, else through `psql`
//! in the container.

use serde::Deserialize;

use super::{fail, pass, CheckKind, Invalid, Judgement};
use crate::probe::cx::ProbeCx;
use crate::probe::facts::PgFacts;
use crate::probe::postgres;
use crate::see::SeeCx;

/// `query` on the service's database: its first value is `expect`, or it returns at least
/// `min_rows` rows, or (with neither) it runs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Postgres {
    pub service: String,
    pub query: String,
    pub expect: Option<String>,
    pub min_rows: Option<u64>,
}

impl CheckKind for Postgres {
    const NAME: &'static str = "postgres";
    type Facts = PgFacts;

    fn validate(&self) -> Vec<Invalid> {
        if self.expect.is_some() && self.min_rows.is_some() {
            return vec![Invalid::check(
                "use either `expect` or `min_rows`, not both",
            )];
        }
        vec![]
    }
    fn describe(&self) -> String {
        let returns = match (&self.expect, self.min_rows) {
            (Some(e), _) => format!("returns `{e}`"),
            (None, Some(n)) => format!("returns at least {n} row(s)"),
            _ => "runs".to_string(),
        };
        format!(
            "`{}` on {}'s PostgreSQL {returns}",
            self.query, self.service
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        let c = cx.running(&self.service)?;
        let (docker, t) = (cx.docker(), cx.timeouts());
        Ok(postgres::query_anywhere(docker, t, cx.endpoint(), c, &self.query).await)
    }
    fn judge(&self, p: &Self::Facts) -> Judgement {
        let query = &self.query;
        let rows = match &p.rows {
            Err(e) => {
                return fail(format!("the query could not run on {}: {e}", p.endpoint))
                    .with(format!("query: {query}"))
            }
            Ok(rows) => rows,
        };
        let first = rows.first().and_then(|r| r.first()).cloned().flatten();
        let j = match (&self.expect, self.min_rows) {
            (Some(want), _) => match first.as_deref() {
                Some(v) if v.trim() == want.trim() => pass(format!("the query returned `{v}`")),
                Some(v) => fail(format!("the query returned `{v}`, expected `{want}`")),
                None if rows.is_empty() => {
                    fail(format!("the query returned no rows, expected `{want}`"))
                }
                None => fail(format!("the query returned NULL, expected `{want}`")),
            },
            (None, Some(min)) => {
                let n = rows.len() as u64;
                if n >= min {
                    pass(format!("the query returned {n} row(s) (at least {min})"))
                } else {
                    fail(format!(
                        "the query returned {n} row(s), expected at least {min}"
                    ))
                }
            }
            (None, None) => pass(format!("the query ran ({} row(s))", rows.len())),
        };
        j.with(format!("query: {query}"))
            .with(format!("on {}", p.endpoint))
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        // the official image's own user and database, as the probe's psql fallback uses; the
        // query quoted twice (for the host's shell, then for the container's `sh -c`)
        let psql = format!(
            "psql -U \"$POSTGRES_USER\" -d \"${{POSTGRES_DB:-$POSTGRES_USER}}\" -c {}",
            cx.quote(&self.query)
        );
        cx.exec(&self.service, &format!("sh -c {}", cx.quote(&psql)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{invalid, kind, see_cx};
    use crate::kinds::Verdict;

    fn rows(r: Vec<Vec<Option<&str>>>) -> PgFacts {
        PgFacts {
            endpoint: "172.20.0.2:5432".into(),
            rows: Ok(r
                .into_iter()
                .map(|row| row.into_iter().map(|c| c.map(String::from)).collect())
                .collect()),
        }
    }

    #[test]
    fn expect_compares_the_first_value() {
        let k: Postgres =
            kind("service = 'db'\nquery = 'SELECT count(*) FROM users'\nexpect = '3'");
        let j = k.judge(&rows(vec![vec![Some(" 3 ")]]));
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(
            j.evidence,
            ["query: SELECT count(*) FROM users", "on 172.20.0.2:5432"]
        );
        let j = k.judge(&rows(vec![vec![Some("2")]]));
        assert_eq!(j.message, "the query returned `2`, expected `3`");
        let j = k.judge(&rows(vec![]));
        assert_eq!(j.message, "the query returned no rows, expected `3`");
        let j = k.judge(&rows(vec![vec![None]]));
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (Verdict::Fail, "the query returned NULL, expected `3`")
        );
    }

    #[test]
    fn min_rows_counts_and_errors_say_where() {
        let k: Postgres = kind("service = 'db'\nquery = 'SELECT id FROM users'\nmin_rows = 3");
        assert_eq!(
            k.judge(&rows(vec![vec![Some("1")]; 3])).verdict,
            Verdict::Pass
        );
        let j = k.judge(&rows(vec![vec![Some("1")]; 2]));
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (
                Verdict::Fail,
                "the query returned 2 row(s), expected at least 3"
            )
        );
        let err = PgFacts {
            endpoint: "x".into(),
            rows: Err("FATAL: password authentication failed".into()),
        };
        let j = k.judge(&err);
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(
            j.message,
            "the query could not run on x: FATAL: password authentication failed"
        );
        assert_eq!(j.evidence, ["query: SELECT id FROM users"]);
        let runs: Postgres = kind("service = 'db'\nquery = 'SELECT 1'");
        assert_eq!(
            runs.judge(&rows(vec![])).message,
            "the query ran (0 row(s))"
        );
    }

    #[test]
    fn describe_and_see() {
        let k: Postgres = kind("service = 'db'\nquery = 'SELECT id FROM users'\nmin_rows = 3");
        assert_eq!(
            k.describe(),
            "`SELECT id FROM users` on db's PostgreSQL returns at least 3 row(s)"
        );
        let k: Postgres = kind("service = 'db'\nquery = 'SELECT 1'\nexpect = '1'");
        assert_eq!(k.describe(), "`SELECT 1` on db's PostgreSQL returns `1`");
        assert_eq!(
            k.see(&see_cx(Some("p"))),
            r#"docker compose -p p exec db sh -c 'psql -U "$POSTGRES_USER" -d "${POSTGRES_DB:-$POSTGRES_USER}" -c '"'SELECT 1'""#
        );
    }

    /// The see command, run by a real shell with a `psql` that prints its arguments, hands
    /// psql the query as one argument, quotes and all.
    #[test]
    fn see_passes_the_query_whole_through_both_shells() {
        let query = r#"SELECT 'a b' AS "x", $1"#;
        let k: Postgres = kind(&format!(
            "service = 'db'\nquery = {}",
            toml::Value::from(query)
        ));
        let see = k.see(&see_cx(None));
        let in_container = see
            .strip_prefix("docker exec p-db-1 ")
            .expect("runs in the container");
        // the host's shell splits `sh -c '...'`; the container's runs the script
        let script = format!(
            r#"psql() {{ printf '%s\n' "$@"; }}; set -- {in_container}; shift 2; eval "$1""#
        );
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .env("POSTGRES_USER", "app")
            .env_remove("POSTGRES_DB")
            .output()
            .expect("sh runs");
        let args = String::from_utf8(out.stdout).unwrap();
        assert_eq!(args, format!("-U\napp\n-d\napp\n-c\n{query}\n"), "{see}");
    }

    #[test]
    fn bad_fields_are_refused() {
        let e =
            invalid::<Postgres>("service = 'db'\nquery = 'SELECT 1'\nexpect = '1'\nmin_rows = 1");
        assert_eq!(e[0].field, None, "about the check as a whole");
        assert!(
            e[0].message.contains("either `expect` or `min_rows`"),
            "{e:?}"
        );
        let e = invalid::<Postgres>("service = 'db'\nquery = 'SELECT 1'\nmin_rows = -1");
        assert_eq!(e[0].field.as_deref(), Some("min_rows"));
        let e = invalid::<Postgres>("service = 'db'\nsql = 'SELECT 1'");
        assert_eq!(e[0].field.as_deref(), Some("sql"));
    }
}

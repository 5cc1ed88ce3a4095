//! Check kinds for the data, secrets and scaling labs (phases 4-6): data volumes and backups,
//! secrets as files, isolation seen from inside a container, caches, replicas, and the drills
//! (checks that change state and run only with `--drill`).
//!
//! They hang off [`super::Kind::Ext`], so the core kinds stay as they are.

/// The kinds declared here, as written in lab.toml.
pub const KINDS: &[&str] = &[
    "compose_volume",
    "file_owner",
    "tarball",
    "persistence",
    "restore_drill",
    "no_shared_network",
    "tcp_blocked",
    "secret_file",
    "env_absent",
    "http_body_excludes",
    "http_cached",
    "redis_key",
    "bind_mount",
    "replicas",
    "http_distinct",
    "self_heal",
];

/// What a `self_heal` drill does to one container of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealAction {
    /// SIGKILL through the Engine API, as `docker kill` does.
    Kill,
    /// Create `chaos_file` in the container, which makes its healthcheck fail.
    Unhealthy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtKind {
    /// The mount at `path` is a named volume that belongs to the compose project.
    ComposeVolume { service: String, path: String },
    /// `path` in the container is owned by `user` (by uid, as the container sees it), with `mode`.
    FileOwner {
        service: String,
        path: String,
        user: String,
        mode: Option<String>,
    },
    /// The newest file matching `path` (relative to the compose working directory, on the
    /// Docker host) is a gzip tar with every entry of `contains`.
    Tarball {
        service: String,
        path: String,
        contains: Vec<String>,
    },
    /// Drill: a marker row survives `down`/`up` and is gone after `down -v`/`up`.
    Persistence {
        service: String,
        marker_table: String,
        query: Option<String>,
        expect: Option<String>,
    },
    /// Drill: the newest backup restores into a scratch volume where `query` returns `expect`.
    RestoreDrill {
        service: String,
        path: String,
        query: String,
        expect: String,
    },
    /// The two services' containers have no network in common.
    NoSharedNetwork { service: String, peer: String },
    /// From `from`'s network namespace, `host` does not resolve and none of its addresses
    /// accepts a connection on `port`.
    TcpBlocked {
        from: String,
        host: String,
        port: u16,
        timeout_secs: u64,
    },
    /// A read-only mount at `/run/secrets/<secret>`.
    SecretFile { service: String, secret: String },
    /// None of `vars` is set in the container's environment.
    EnvAbsent { service: String, vars: Vec<String> },
    /// GET from the host returns `status` and a body with none of `excludes`.
    HttpBodyExcludes {
        url: String,
        status: u16,
        excludes: Vec<String>,
    },
    /// Two GETs: both 200, and the second has `header: hit`.
    HttpCached {
        url: String,
        header: String,
        hit: String,
    },
    /// `EXISTS key` is 1 in the service's Redis.
    RedisKey { service: String, key: String },
    /// A bind mount from `source` (on the Docker host) at `target`.
    BindMount {
        service: String,
        source: String,
        target: String,
    },
    /// At least `min` containers of the service run (and, with `healthy`, are healthy).
    Replicas {
        service: String,
        min: u32,
        healthy: bool,
    },
    /// GETs to `url` return at least `min_distinct` distinct values of the JSON `field`.
    HttpDistinct {
        url: String,
        field: String,
        requests: u32,
        min_distinct: u32,
        within_secs: u64,
    },
    /// Drill: break one container of the service; it must be running and healthy again in time.
    SelfHeal {
        service: String,
        action: HealAction,
        chaos_file: Option<String>,
        within_secs: u64,
    },
}

impl ExtKind {
    pub fn name(&self) -> &'static str {
        match self {
            ExtKind::ComposeVolume { .. } => "compose_volume",
            ExtKind::FileOwner { .. } => "file_owner",
            ExtKind::Tarball { .. } => "tarball",
            ExtKind::Persistence { .. } => "persistence",
            ExtKind::RestoreDrill { .. } => "restore_drill",
            ExtKind::NoSharedNetwork { .. } => "no_shared_network",
            ExtKind::TcpBlocked { .. } => "tcp_blocked",
            ExtKind::SecretFile { .. } => "secret_file",
            ExtKind::EnvAbsent { .. } => "env_absent",
            ExtKind::HttpBodyExcludes { .. } => "http_body_excludes",
            ExtKind::HttpCached { .. } => "http_cached",
            ExtKind::RedisKey { .. } => "redis_key",
            ExtKind::BindMount { .. } => "bind_mount",
            ExtKind::Replicas { .. } => "replicas",
            ExtKind::HttpDistinct { .. } => "http_distinct",
            ExtKind::SelfHeal { .. } => "self_heal",
        }
    }

    /// Drills change the stack: they run only when asked (`--drill`), after every other check.
    pub fn is_drill(&self) -> bool {
        matches!(
            self,
            ExtKind::Persistence { .. } | ExtKind::RestoreDrill { .. } | ExtKind::SelfHeal { .. }
        )
    }

    pub fn describe(&self) -> String {
        match self {
            ExtKind::ComposeVolume { service, path } => {
                format!("the volume at {path} in {service} is a named volume that this compose project owns (so `down -v` removes it)")
            }
            ExtKind::FileOwner { service, path, user, mode } => format!(
                "{path} in {service} is owned by {user}{}",
                mode.as_ref().map(|m| format!(" with mode {m}")).unwrap_or_default()
            ),
            ExtKind::Tarball { path, contains, .. } => {
                format!("the newest {path} (next to the compose file) is a gzip tar holding {}", contains.join(", "))
            }
            ExtKind::Persistence { service, marker_table, .. } => format!(
                "DRILL (deletes the project's volumes): a row in {marker_table} on {service} survives `down`/`up` and is gone after `down -v`/`up`"
            ),
            ExtKind::RestoreDrill { path, query, expect, .. } => {
                format!("DRILL: the newest {path} restores into a scratch volume where `{query}` returns `{expect}`")
            }
            ExtKind::NoSharedNetwork { service, peer } => format!("{service} and {peer} share no network"),
            ExtKind::TcpBlocked { from, host, port, .. } => {
                format!("from inside {from}, `{host}` does not resolve and no address of {host} accepts a connection on port {port}")
            }
            ExtKind::SecretFile { service, secret } => format!("/run/secrets/{secret} is mounted read-only in {service}"),
            ExtKind::EnvAbsent { service, vars } => format!("none of {} is set in {service}", vars.join(", ")),
            ExtKind::HttpBodyExcludes { url, status, excludes } => format!(
                "GET {url} from the host returns {status} and the body contains none of {}",
                excludes.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")
            ),
            ExtKind::HttpCached { url, header, hit } => format!("a second GET {url} answers with `{header}: {hit}`"),
            ExtKind::RedisKey { service, key } => format!("the key `{key}` exists in {service}'s Redis"),
            ExtKind::BindMount { service, source, target } => format!("{source} is bind-mounted at {target} in {service}"),
            ExtKind::Replicas { service, min, healthy } => {
                format!("at least {min} containers of {service} are running{}", if *healthy { " and healthy" } else { "" })
            }
            ExtKind::HttpDistinct { url, field, requests, min_distinct, within_secs } => format!(
                "{requests} GETs of {url} see at least {min_distinct} distinct `{field}` values (retried for up to {within_secs} s)"
            ),
            ExtKind::SelfHeal { service, action, within_secs, .. } => format!(
                "DRILL: a {} container of {service} is running and healthy again within {within_secs} s",
                match action {
                    HealAction::Kill => "killed",
                    HealAction::Unhealthy => "failing (unhealthy)",
                }
            ),
        }
    }

    pub fn units(&self) -> Vec<&str> {
        match self {
            ExtKind::ComposeVolume { service, .. }
            | ExtKind::FileOwner { service, .. }
            | ExtKind::Tarball { service, .. }
            | ExtKind::Persistence { service, .. }
            | ExtKind::RestoreDrill { service, .. }
            | ExtKind::SecretFile { service, .. }
            | ExtKind::EnvAbsent { service, .. }
            | ExtKind::RedisKey { service, .. }
            | ExtKind::BindMount { service, .. }
            | ExtKind::Replicas { service, .. }
            | ExtKind::SelfHeal { service, .. } => vec![service],
            ExtKind::NoSharedNetwork { service, peer } => vec![service, peer],
            ExtKind::TcpBlocked { from, host, .. } => vec![from, host],
            ExtKind::HttpBodyExcludes { .. }
            | ExtKind::HttpCached { .. }
            | ExtKind::HttpDistinct { .. } => vec![],
        }
    }
}

/// The lab.toml fields these kinds read (the loader fills it from its raw check).
#[derive(Debug, Default, Clone)]
pub struct Fields {
    pub service: Option<String>,
    pub peer: Option<String>,
    pub from: Option<String>,
    pub host: Option<String>,
    pub port: Option<i64>,
    pub path: Option<String>,
    pub url: Option<String>,
    pub status: Option<i64>,
    pub query: Option<String>,
    pub expect: Option<String>,
    pub timeout: Option<i64>,
    pub user: Option<String>,
    pub mode: Option<String>,
    pub contains: Option<Vec<String>>,
    pub marker_table: Option<String>,
    pub secret: Option<String>,
    pub vars: Option<Vec<String>>,
    pub excludes: Option<Vec<String>>,
    pub header: Option<String>,
    pub hit: Option<String>,
    pub key: Option<String>,
    pub source: Option<String>,
    pub target: Option<String>,
    pub min: Option<i64>,
    pub healthy: Option<bool>,
    pub field: Option<String>,
    pub requests: Option<i64>,
    pub min_distinct: Option<i64>,
    pub within_s: Option<i64>,
    pub action: Option<String>,
    pub chaos_file: Option<String>,
}

/// Build a kind of [`KINDS`]. Missing required fields are pushed to `missing`; other problems
/// go to `err`. Returns None only when the kind cannot be built at all.
pub fn build(
    kind: &str,
    f: &Fields,
    missing: &mut Vec<&'static str>,
    err: &mut dyn FnMut(String),
) -> Option<ExtKind> {
    macro_rules! req {
        ($field:ident) => {
            required!(f, missing, $field)
        };
    }
    let kind = match kind {
        "compose_volume" => ExtKind::ComposeVolume {
            service: req!(service),
            path: req!(path),
        },
        "file_owner" => {
            if let Some(m) = &f.mode {
                if !(3..=4).contains(&m.len()) || !m.chars().all(|c| ('0'..='7').contains(&c)) {
                    err(format!(
                        "mode = \"{m}\" must be an octal mode such as \"0700\""
                    ));
                }
            }
            ExtKind::FileOwner {
                service: req!(service),
                path: req!(path),
                user: req!(user),
                mode: f.mode.clone(),
            }
        }
        "tarball" => {
            let path = req!(path);
            if path.starts_with('/') || path.split('/').any(|p| p == "..") {
                err(format!(
                    "path = \"{path}\" must be relative to the compose file's folder, without `..`"
                ));
            }
            if path.rsplit('/').next().unwrap_or("").is_empty() {
                err(format!(
                    "path = \"{path}\" must name files, e.g. \"backups/pgdata-*.tar.gz\""
                ));
            }
            ExtKind::Tarball {
                service: req!(service),
                path,
                contains: f.contains.clone().unwrap_or_default(),
            }
        }
        "persistence" => {
            let marker_table = req!(marker_table);
            if !marker_table
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                || marker_table.is_empty()
            {
                err(format!("marker_table = \"{marker_table}\" must be a plain lower-case SQL name (a-z, 0-9, _)"));
            }
            if f.query.is_some() != f.expect.is_some() {
                err("persistence: give both `query` and `expect` (checked after `down -v`/`up`), or neither".into());
            }
            ExtKind::Persistence {
                service: req!(service),
                marker_table,
                query: f.query.clone(),
                expect: f.expect.clone(),
            }
        }
        "restore_drill" => ExtKind::RestoreDrill {
            service: req!(service),
            path: req!(path),
            query: req!(query),
            expect: req!(expect),
        },
        "no_shared_network" => ExtKind::NoSharedNetwork {
            service: req!(service),
            peer: req!(peer),
        },
        "tcp_blocked" => {
            let port = ranged(err, "port", f.port, 1, 65535, None, missing, "port") as u16;
            let timeout_secs = ranged(
                err,
                "timeout",
                f.timeout,
                1,
                30,
                Some(2),
                missing,
                "timeout",
            ) as u64;
            ExtKind::TcpBlocked {
                from: req!(from),
                host: req!(host),
                port,
                timeout_secs,
            }
        }
        "secret_file" => {
            let secret = req!(secret);
            if secret.contains('/') {
                err(format!(
                    "secret = \"{secret}\" is a secret's name, not a path"
                ));
            }
            ExtKind::SecretFile {
                service: req!(service),
                secret,
            }
        }
        "env_absent" => {
            let vars: Vec<String> = req!(vars);
            if f.vars.is_some() && vars.is_empty() {
                err("env_absent: `vars` is empty".into());
            }
            ExtKind::EnvAbsent {
                service: req!(service),
                vars,
            }
        }
        "http_body_excludes" => {
            let status = ranged(
                err,
                "status",
                f.status,
                100,
                599,
                Some(200),
                missing,
                "status",
            ) as u16;
            let url = req!(url);
            check_url(&url, err);
            let excludes: Vec<String> = req!(excludes);
            if f.excludes.is_some() && excludes.iter().all(|e| e.is_empty()) {
                err("http_body_excludes: `excludes` has no non-empty string".into());
            }
            ExtKind::HttpBodyExcludes {
                url,
                status,
                excludes,
            }
        }
        "http_cached" => {
            let url = req!(url);
            check_url(&url, err);
            ExtKind::HttpCached {
                url,
                header: req!(header),
                hit: req!(hit),
            }
        }
        "redis_key" => ExtKind::RedisKey {
            service: req!(service),
            key: req!(key),
        },
        "bind_mount" => ExtKind::BindMount {
            service: req!(service),
            source: req!(source),
            target: req!(target),
        },
        "replicas" => {
            let min = ranged(err, "min", f.min, 1, 1000, None, missing, "min") as u32;
            ExtKind::Replicas {
                service: req!(service),
                min,
                healthy: f.healthy.unwrap_or(false),
            }
        }
        "http_distinct" => {
            let url = req!(url);
            check_url(&url, err);
            let requests = ranged(
                err, "requests", f.requests, 1, 1000, None, missing, "requests",
            ) as u32;
            let min_distinct = ranged(
                err,
                "min_distinct",
                f.min_distinct,
                1,
                1000,
                None,
                missing,
                "min_distinct",
            ) as u32;
            let within_secs = ranged(
                err,
                "within_s",
                f.within_s,
                0,
                300,
                Some(0),
                missing,
                "within_s",
            ) as u64;
            if min_distinct > requests {
                err(format!(
                    "min_distinct = {min_distinct} can never be reached with requests = {requests}"
                ));
            }
            ExtKind::HttpDistinct {
                url,
                field: req!(field),
                requests,
                min_distinct,
                within_secs,
            }
        }
        "self_heal" => {
            let action = match f.action.as_deref() {
                Some("kill") => HealAction::Kill,
                Some("unhealthy") => HealAction::Unhealthy,
                Some(other) => {
                    err(format!(
                        "action = \"{other}\" must be \"kill\" or \"unhealthy\""
                    ));
                    HealAction::Kill
                }
                None => {
                    missing.push("action");
                    HealAction::Kill
                }
            };
            if action == HealAction::Unhealthy && f.chaos_file.is_none() {
                missing.push("chaos_file");
            }
            if let Some(c) = &f.chaos_file {
                if !c.starts_with('/') {
                    err(format!(
                        "chaos_file = \"{c}\" must be an absolute path in the container"
                    ));
                }
            }
            let within_secs = ranged(
                err, "within_s", f.within_s, 1, 600, None, missing, "within_s",
            ) as u64;
            ExtKind::SelfHeal {
                service: req!(service),
                action,
                chaos_file: f.chaos_file.clone(),
                within_secs,
            }
        }
        _ => return None,
    };
    Some(kind)
}

/// `v` within lo..=hi; absent: `default`, or a missing field when there is none.
#[allow(clippy::too_many_arguments)]
fn ranged(
    err: &mut dyn FnMut(String),
    name: &str,
    v: Option<i64>,
    lo: i64,
    hi: i64,
    default: Option<i64>,
    missing: &mut Vec<&'static str>,
    field: &'static str,
) -> i64 {
    match (v, default) {
        (Some(n), _) if (lo..=hi).contains(&n) => n,
        (Some(n), d) => {
            err(format!("{name} = {n} must be {lo} to {hi}"));
            d.unwrap_or(lo)
        }
        (None, Some(d)) => d,
        (None, None) => {
            missing.push(field);
            lo
        }
    }
}

fn check_url(url: &str, err: &mut dyn FnMut(String)) {
    if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
        err(format!("url `{url}` must start with http:// or https://"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn try_build(kind: &str, f: Fields) -> (Option<ExtKind>, Vec<&'static str>, Vec<String>) {
        let mut missing = Vec::new();
        let mut errs = Vec::new();
        let k = build(kind, &f, &mut missing, &mut |m| errs.push(m));
        (k, missing, errs)
    }

    #[test]
    fn every_kind_is_buildable_and_named_as_listed() {
        for name in KINDS {
            assert!(
                build(name, &Fields::default(), &mut Vec::new(), &mut |_| {}).is_some(),
                "{name}"
            );
            let k = build(name, &Fields::default(), &mut Vec::new(), &mut |_| {}).unwrap();
            assert_eq!(k.name(), *name);
        }
        assert!(build("nope", &Fields::default(), &mut Vec::new(), &mut |_| {}).is_none());
    }

    #[test]
    fn required_fields_are_named() {
        let (_, missing, _) = try_build(
            "self_heal",
            Fields {
                action: Some("unhealthy".into()),
                ..Default::default()
            },
        );
        assert_eq!(missing, ["chaos_file", "within_s", "service"]);
        let (_, missing, _) = try_build(
            "tcp_blocked",
            Fields {
                from: Some("a".into()),
                host: Some("b".into()),
                ..Default::default()
            },
        );
        assert_eq!(missing, ["port"]);
    }

    #[test]
    fn bad_values_are_errors() {
        let (_, _, errs) = try_build(
            "file_owner",
            Fields {
                mode: Some("rwx".into()),
                ..Default::default()
            },
        );
        assert!(errs[0].contains("octal"), "{errs:?}");
        let (_, _, errs) = try_build(
            "http_distinct",
            Fields {
                requests: Some(2),
                min_distinct: Some(3),
                url: Some("http://x/".into()),
                ..Default::default()
            },
        );
        assert!(
            errs.iter().any(|e| e.contains("never be reached")),
            "{errs:?}"
        );
        let (_, _, errs) = try_build(
            "tarball",
            Fields {
                path: Some("../x/*.tgz".into()),
                ..Default::default()
            },
        );
        assert!(errs[0].contains("relative"), "{errs:?}");
        let (_, _, errs) = try_build(
            "tcp_blocked",
            Fields {
                port: Some(70000),
                ..Default::default()
            },
        );
        assert!(errs[0].contains("port = 70000"), "{errs:?}");
    }

    fn load(checks: &str, faults: &str) -> Result<crate::lab::Lab, String> {
        crate::lab::test_lab(&["db", "backend"], &format!("{checks}\n{faults}"))
    }

    #[test]
    fn lab_toml_fields_reach_the_kinds() {
        let lab = load(
            r#"
[[checks]]
id = "owner"
title = "o"
kind = "file_owner"
service = "db"
path = "/var/lib/postgresql/data"
user = "postgres"
mode = "0700"
[[checks]]
id = "heal"
title = "h"
kind = "self_heal"
service = "backend"
action = "unhealthy"
chaos_file = "/run/chaos/unhealthy"
within_s = 30
"#,
            "",
        )
        .unwrap();
        assert_eq!(
            lab.checks[0].kind,
            crate::kinds::Kind::FileOwner(crate::kinds::file_owner::FileOwner {
                service: "db".into(),
                path: "/var/lib/postgresql/data".into(),
                user: "postgres".into(),
                mode: Some("0700".into())
            })
        );
        assert!(lab.checks[1].kind.is_drill() && !lab.checks[0].kind.is_drill());
        assert_eq!(lab.checks[1].kind.name(), "self_heal");
    }

    #[test]
    fn only_drills_may_need_drills_and_faults_must_say_drill() {
        let drill = "[[checks]]\nid = \"heal\"\ntitle = \"h\"\nkind = \"self_heal\"\nservice = \"backend\"\naction = \"kill\"\nwithin_s = 5\n";
        let after = "[[checks]]\nid = \"after\"\ntitle = \"a\"\nkind = \"running\"\nservice = \"db\"\nneeds = [\"heal\"]\n";
        let e = load(&format!("{drill}{after}"), "").unwrap_err();
        assert!(e.contains("check `after` needs the drill `heal`"), "{e}");
        let fault = "[[faults]]\nfile = \"faults/x.yml\"\nsummary = \"s\"\nfirst_broken = \"heal\"\nfails = [\"heal\"]\n";
        let e = load(drill, fault).unwrap_err();
        assert!(e.contains("add `drill = true`"), "{e}");
        let lab = load(drill, &format!("{fault}drill = true\n")).unwrap();
        assert!(lab.faults[0].drill);
    }

    #[test]
    fn only_the_three_drills_are_drills() {
        let drills: Vec<&str> = KINDS
            .iter()
            .filter(|k| {
                build(k, &Fields::default(), &mut Vec::new(), &mut |_| {})
                    .unwrap()
                    .is_drill()
            })
            .copied()
            .collect();
        assert_eq!(drills, ["persistence", "restore_drill", "self_heal"]);
    }
}

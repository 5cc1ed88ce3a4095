//! Probes shared by the phase 4-6 kinds: every container of a scaled service, the compose
//! file's folder, and scratch containers that read the learner's files. Read-only, each bounded
//! by a timeout.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{Mount, MountTypeEnum};
use bollard::Docker;

use super::compose::LABEL_WORKING_DIR;
use super::exec::ExecOutput;
use super::facts::ContainerFacts;
use super::{container, Timeouts};
use crate::target::ContainerRef;

/// Every container of each unit (as discovery listed them), inspected. Units with one container
/// reuse `facts`; the others are inspected, all at once.
pub async fn replicas(
    docker: &Docker,
    t: &Timeouts,
    all: &BTreeMap<String, Vec<ContainerRef>>,
    facts: &HashMap<String, Result<ContainerFacts, String>>,
) -> HashMap<String, Vec<ContainerFacts>> {
    let mut out = HashMap::new();
    let mut to_inspect = Vec::new();
    for (svc, cs) in all {
        match (cs.len(), facts.get(svc)) {
            (1, Some(Ok(f))) if f.id == cs[0].id => {
                out.insert(svc.clone(), vec![f.clone()]);
            }
            _ => to_inspect.push((svc, cs)),
        }
    }
    let inspected =
        futures_util::future::join_all(to_inspect.into_iter().map(|(svc, cs)| async move {
            let all = futures_util::future::join_all(
                cs.iter().map(|c| container::inspect(docker, t, &c.id)),
            )
            .await;
            (
                svc.clone(),
                all.into_iter().filter_map(Result::ok).collect::<Vec<_>>(),
            )
        }))
        .await;
    out.extend(inspected);
    out
}

/// The compose working directory (on the Docker host) from the container's label.
pub fn working_dir(c: &ContainerFacts) -> Result<String, String> {
    c.labels
        .get(LABEL_WORKING_DIR)
        .filter(|w| !w.is_empty())
        .cloned()
        .ok_or_else(|| {
            format!(
                "{} has no {LABEL_WORKING_DIR} label, so the compose folder is unknown",
                c.name
            )
        })
}

/// `stat -c '%u %a'` output: uid and octal mode.
pub fn parse_stat(out: &str) -> Option<(u32, String)> {
    let mut it = out.split_whitespace();
    let uid = it.next()?.parse().ok()?;
    let mode = it.next()?;
    mode.chars()
        .all(|c| c.is_ascii_digit())
        .then(|| (uid, mode.to_string()))
}

pub(crate) fn exec_err(out: &ExecOutput, what: &str) -> String {
    let d = out.diagnostic();
    format!(
        "{what} exited {}{}",
        out.exit_code.unwrap_or(-1),
        if d.is_empty() {
            String::new()
        } else {
            format!(": {d}")
        }
    )
}

/// A read-only bind mount of `dir` (on the Docker host) at `/b`. `Mounts`, not `Binds`: a
/// missing folder is an error instead of being created.
pub(crate) fn bind_ro(dir: &str) -> Mount {
    Mount {
        target: Some("/b".into()),
        source: Some(dir.to_string()),
        typ: Some(MountTypeEnum::BIND),
        read_only: Some(true),
        ..Default::default()
    }
}

/// Split `backups/pgdata-*.tar.gz` into the folder under `working_dir` and the file pattern.
pub fn glob_parts(working_dir: &str, path: &str) -> (String, String) {
    let (dir, pattern) = path.rsplit_once('/').unwrap_or(("", path));
    let base = working_dir.trim_end_matches('/');
    let dir = if dir.is_empty() {
        base.to_string()
    } else {
        format!("{base}/{dir}")
    };
    (dir, pattern.to_string())
}

/// Lists `/b/<pattern>` (a shell glob) in a helper: one file name a line.
pub(crate) const LIST_SCRIPT: &str =
    r#"for f in /b/$1; do [ -f "$f" ] && echo "${f#/b/}"; done; exit 0"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_output_is_parsed() {
        assert_eq!(parse_stat("70 700\n"), Some((70, "700".into())));
        assert_eq!(parse_stat("stat: can't stat"), None);
    }

    #[test]
    fn globs_are_split_under_the_working_dir() {
        assert_eq!(
            glob_parts("/w/lab/", "backups/pgdata-*.tar.gz"),
            ("/w/lab/backups".into(), "pgdata-*.tar.gz".into())
        );
        assert_eq!(glob_parts("/w", "x.tgz"), ("/w".into(), "x.tgz".into()));
    }
}

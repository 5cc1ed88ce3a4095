//! `tarball` and `restore_drill`: the phase-4 backup, read (the newest file next to the compose
//! file is a gzip tar with the expected entries) and restored (a drill, in drill/).

use bollard::models::HostConfig;
use bollard::Docker;
use serde::Deserialize;

use super::{fail, pass, CheckKind, Invalid, Judgement};
use crate::drill::{self, Drill, RestoreFacts};
use crate::probe::cx::ProbeCx;
use crate::probe::exec::{exec, helper_image};
use crate::probe::ext::{bind_ro, exec_err, glob_parts, working_dir, Scratch, LIST_SCRIPT};
use crate::probe::Timeouts;
use crate::see::SeeCx;

/// The newest file matching `path` (relative to the compose working directory, on the Docker
/// host) is a gzip tar with every entry of `contains`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tarball {
    pub service: String,
    pub path: String,
    #[serde(default)]
    pub contains: Vec<String>,
}

/// Drill: the newest backup restores into a scratch volume where `query` returns `expect`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreDrill {
    pub service: String,
    pub path: String,
    pub query: String,
    pub expect: String,
}

/// The backup folder on the Docker host, the files matching the glob (sorted), and the
/// entries of the newest one.
#[derive(Debug, Clone, PartialEq)]
pub struct TarballFacts {
    pub dir: String,
    pub files: Result<Vec<String>, String>,
    pub entries: Option<Result<Vec<String>, String>>,
}

/// `path` is a glob of files under the compose file's folder.
fn check_path(path: &str) -> Vec<Invalid> {
    let mut problems = Vec::new();
    if path.starts_with('/') || path.split('/').any(|p| p == "..") {
        problems.push(Invalid::field(
            "path",
            format!(
                "path = \"{path}\" must be relative to the compose file's folder, without `..`"
            ),
        ));
    }
    if path.rsplit('/').next().unwrap_or("").is_empty() {
        problems.push(Invalid::field(
            "path",
            format!("path = \"{path}\" must name files, e.g. \"backups/pgdata-*.tar.gz\""),
        ));
    }
    problems
}

impl CheckKind for Tarball {
    const NAME: &'static str = "tarball";
    type Facts = TarballFacts;

    fn validate(&self) -> Vec<Invalid> {
        check_path(&self.path)
    }
    fn describe(&self) -> String {
        format!(
            "the newest {} (next to the compose file) is a gzip tar holding {}",
            self.path,
            self.contains.join(", ")
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<TarballFacts, Judgement> {
        let c = cx.container(&self.service)?;
        let wd = working_dir(c).map_err(fail)?;
        Ok(tarball(cx.docker(), cx.timeouts(), &wd, &self.path).await)
    }
    fn judge(&self, f: &TarballFacts) -> Judgement {
        let (path, dir) = (&self.path, &f.dir);
        let files = match &f.files {
            Ok(files) => files,
            Err(e) => return fail(format!("cannot list {path}: {e}")),
        };
        let Some(newest) = files.last() else {
            return fail(format!(
                "no file matches {path} (in {dir} on the Docker host)"
            ));
        };
        let entries = match &f.entries {
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                return fail(format!("{newest} is not a readable gzip tar: {e}"))
                    .with(format!("in {dir}"))
            }
            None => return fail(format!("{newest} was not read")),
        };
        let norm = |s: &str| s.trim_start_matches("./").trim_end_matches('/').to_string();
        if let Some(missing) = self
            .contains
            .iter()
            .find(|c| !entries.iter().any(|e| norm(e) == norm(c)))
        {
            return fail(format!(
                "{newest} ({} entries) lacks {missing}",
                entries.len()
            ))
            .with(format!("in {dir}; files: {}", files.join(", ")));
        }
        pass(format!(
            "{newest} holds {} entries, including {}",
            entries.len(),
            self.contains.join(", ")
        ))
        .with(format!("in {dir}; {} file(s) match", files.len()))
    }
    fn see(&self, _cx: &SeeCx<'_>) -> String {
        format!(
            "tar -tzf \"$(ls {} | sort | tail -n 1)\" | grep -x './{}'   # in the compose folder",
            self.path,
            self.contains
                .first()
                .map(String::as_str)
                .unwrap_or("PG_VERSION")
        )
    }
}

impl CheckKind for RestoreDrill {
    const NAME: &'static str = "restore_drill";
    type Facts = RestoreFacts;

    fn validate(&self) -> Vec<Invalid> {
        check_path(&self.path)
    }
    fn describe(&self) -> String {
        format!(
            "DRILL: the newest {} restores into a scratch volume where `{}` returns `{}`",
            self.path, self.query, self.expect
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    fn is_drill(&self) -> bool {
        true
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<RestoreFacts, Judgement> {
        let d = Drill::of(cx)?;
        let c = d.container(&self.service).await?;
        Ok(drill::restore(&d, &c, &self.path, &self.query).await)
    }
    fn judge(&self, f: &RestoreFacts) -> Judgement {
        let (query, expect) = (&self.query, &self.expect);
        let mut j = match &f.result {
            Ok(v) if v.trim() == expect.trim() => pass(format!(
                "the backup {} restores: `{query}` returned `{v}`",
                f.file.as_deref().unwrap_or("?")
            )),
            Ok(v) => fail(format!(
                "the restored data answers `{query}` with `{v}`, expected `{expect}`"
            )),
            Err(e) => fail(format!("the restore failed: {e}")),
        };
        for s in &f.steps {
            j = j.with(s.to_string());
        }
        j.with("the scratch volume and server were removed; your stack was not touched")
    }
    fn see(&self, _cx: &SeeCx<'_>) -> String {
        format!(
            "ls {} | sort | tail -n 1   # the newest backup: unpack it into an empty volume and start a {} server on it",
            self.path, self.service
        )
    }
}

/// The files matching `path` under `wd` and the entries of the newest, read in a helper
/// container with the folder mounted read-only.
pub async fn tarball(docker: &Docker, t: &Timeouts, wd: &str, path: &str) -> TarballFacts {
    let (dir, pattern) = glob_parts(wd, path);
    let run = async {
        let image = helper_image(docker, t).await?;
        let host = HostConfig {
            network_mode: Some("none".into()),
            mounts: Some(vec![bind_ro(&dir)]),
            auto_remove: Some(true),
            ..Default::default()
        };
        let helper = Scratch::start(
            docker,
            t,
            image,
            Some(vec!["sleep".into(), "60".into()]),
            vec![],
            host,
        )
        .await?;
        let listed = exec(
            docker,
            t,
            &helper.id,
            &["sh", "-c", LIST_SCRIPT, "sh", &pattern],
        )
        .await;
        let files = listed.map(|o| {
            let mut v: Vec<String> = o
                .stdout
                .lines()
                .map(str::to_string)
                .filter(|l| !l.is_empty())
                .collect();
            v.sort();
            v
        });
        let entries = match &files {
            Ok(v) if !v.is_empty() => {
                let newest = format!("/b/{}", v[v.len() - 1]);
                Some(
                    exec(docker, t, &helper.id, &["tar", "-tzf", &newest])
                        .await
                        .and_then(|o| {
                            if o.exit_code == Some(0) {
                                Ok(o.stdout
                                    .lines()
                                    .map(|l| {
                                        l.trim_start_matches("./").trim_end_matches('/').to_string()
                                    })
                                    .filter(|l| !l.is_empty())
                                    .collect())
                            } else {
                                Err(exec_err(&o, "tar -tzf"))
                            }
                        }),
                )
            }
            _ => None,
        };
        helper.remove().await;
        Ok::<_, String>((files, entries))
    };
    match run.await {
        Ok((files, entries)) => TarballFacts {
            dir,
            files,
            entries,
        },
        Err(e) if e.contains("bind source path does not exist") || e.contains("no such file") => {
            TarballFacts {
                files: Err(format!(
                    "the folder {dir} does not exist on the Docker host"
                )),
                dir,
                entries: None,
            }
        }
        Err(e) => TarballFacts {
            dir,
            files: Err(e),
            entries: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{invalid, kind};
    use crate::kinds::Verdict;
    use crate::probe::ext_facts::Step;

    const TARBALL: &str = "service = 'db'\npath = 'backups/pgdata-*.tar.gz'\ncontains = ['PG_VERSION', './global/pg_control']";
    const RESTORE: &str =
        "service = 'db'\npath = 'backups/pgdata-*.tar.gz'\nquery = 'SELECT 1'\nexpect = '1'";

    #[test]
    fn tarball_takes_the_newest_and_wants_every_entry() {
        let k: Tarball = kind(TARBALL);
        let files = Ok(vec![
            "pgdata-20260101T000000Z.tar.gz".to_string(),
            "pgdata-20260102T000000Z.tar.gz".to_string(),
        ]);
        let f = |files: &Result<Vec<String>, String>,
                 entries: Option<Result<Vec<String>, String>>| TarballFacts {
            dir: "/w/backups".into(),
            files: files.clone(),
            entries,
        };
        let all = Ok(vec![
            ".".to_string(),
            "PG_VERSION".into(),
            "global".into(),
            "global/pg_control".into(),
        ]);
        let j = k.judge(&f(&files, Some(all)));
        assert!(
            j.verdict == Verdict::Pass && j.message.contains("20260102"),
            "{}",
            j.message
        );
        let j = k.judge(&f(&files, Some(Ok(vec!["PG_VERSION".into()]))));
        assert!(
            j.message.contains("lacks ./global/pg_control"),
            "{}",
            j.message
        );
        assert!(k
            .judge(&f(&Ok(vec![]), None))
            .message
            .contains("no file matches"));
        let j = k.judge(&f(&files, Some(Err("gzip: invalid magic".into()))));
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(j.evidence, ["in /w/backups"]);
    }

    #[test]
    fn restore_compares_the_answer_and_lists_its_steps() {
        let k: RestoreDrill = kind(RESTORE);
        assert!(k.is_drill());
        let f = |result| RestoreFacts {
            file: Some("pgdata-1.tar.gz".into()),
            steps: vec![Step {
                what: "unpacked".into(),
                secs: 0.4,
            }],
            result,
        };
        let j = k.judge(&f(Ok(" 1\n".into())));
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(
            j.message,
            "the backup pgdata-1.tar.gz restores: `SELECT 1` returned ` 1\n`"
        );
        assert_eq!(j.evidence[0], "unpacked (0.4 s)");
        let j = k.judge(&f(Ok("0".into())));
        assert!(j.message.contains("expected `1`"), "{}", j.message);
        let j = k.judge(&f(Err("no file matches".into())));
        assert_eq!(j.message, "the restore failed: no file matches");
        assert_eq!(
            j.evidence.last().unwrap(),
            "the scratch volume and server were removed; your stack was not touched"
        );
    }

    #[test]
    fn fields_are_checked() {
        let e = invalid::<Tarball>("service = 'db'\npath = '../x/*.tgz'");
        assert_eq!(e[0].field.as_deref(), Some("path"));
        assert!(e[0].message.contains("relative"), "{e:?}");
        let e = invalid::<Tarball>("service = 'db'\npath = 'backups/'");
        assert!(e[0].message.contains("must name files"), "{e:?}");
        let e = invalid::<Tarball>("service = 'db'\npath = 'b/*.tgz'\ncontain = []");
        assert_eq!(e[0].field.as_deref(), Some("contain"), "{e:?}");
        let e = invalid::<RestoreDrill>(
            "service = 'db'\npath = '/abs/*.tgz'\nquery = 'q'\nexpect = '1'",
        );
        assert_eq!(e[0].field.as_deref(), Some("path"), "{e:?}");
        let e = invalid::<RestoreDrill>("service = 'db'\npath = 'b/*.tgz'\nquery = 'q'");
        assert!(e[0].message.contains("missing field `expect`"), "{e:?}");
    }

    #[test]
    fn see_commands() {
        let name = |u: &str| format!("p-{u}-1");
        let cx = SeeCx::new(Some("p"), &name);
        assert_eq!(
            kind::<Tarball>(TARBALL).see(&cx),
            "tar -tzf \"$(ls backups/pgdata-*.tar.gz | sort | tail -n 1)\" | grep -x './PG_VERSION'   # in the compose folder"
        );
        assert_eq!(
            kind::<RestoreDrill>(RESTORE).see(&cx),
            "ls backups/pgdata-*.tar.gz | sort | tail -n 1   # the newest backup: unpack it into an empty volume and start a db server on it"
        );
    }
}

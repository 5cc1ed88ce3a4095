//! `tarball` and `restore_drill`: the phase-4 backup, read (the newest file next to the compose
//! file is a gzip tar with the expected entries) and restored (a drill, in drill/).

use bollard::Docker;
use serde::Deserialize;

use super::{fail, pass, CheckKind, Invalid, Judgement};
use crate::drill::{self, Drill, RestoreFacts};
use crate::probe::cx::ProbeCx;
use crate::probe::exec::ExecOutput;
use crate::probe::ext::{bind_ro, exec_err, glob_parts, working_dir};
use crate::probe::helper::{run, HelperNet};
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

/// The backup folder on the Docker host, the files matching the glob (sorted), the entries of
/// the newest one, and whether they were read to the archive's end (reading stops once every
/// wanted entry has been seen).
#[derive(Debug, Clone, PartialEq)]
pub struct TarballFacts {
    pub dir: String,
    pub files: Result<Vec<String>, String>,
    pub entries: Option<Result<Vec<String>, String>>,
    pub read_all: bool,
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
        Ok(tarball(cx.docker(), cx.timeouts(), &wd, &self.path, &self.contains).await)
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
        let held = if f.read_all {
            format!("{newest} holds {} entries, including", entries.len())
        } else {
            format!("{newest} holds")
        };
        let j = pass(format!("{held} {}", self.contains.join(", ")))
            .with(format!("in {dir}; {} file(s) match", files.len()));
        if f.read_all {
            j
        } else {
            j.with(format!(
                "all found in its first {} entries; the rest was not read (the restore drill reads it all)",
                entries.len()
            ))
        }
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

/// Lists the files matching `$1` in `/b` (sorted bytewise, one a line), then a `--` line, then
/// the entries of the newest (the last) up to the one where every other argument has been
/// seen. Exits 0 when it read the archive to its end, [`ALL_SEEN`] when it stopped early, or
/// with tar's failure.
const NEWEST_ENTRIES: &str = r#"cd /b || exit 2
for f in $1; do [ -f "$f" ] && echo "$f"; done | LC_ALL=C sort > /tmp/files
cat /tmp/files; echo --
newest=$(tail -n 1 /tmp/files)
[ -n "$newest" ] || exit 0
shift
{ tar -tzf "$newest" 2>/tmp/err; echo $? > /tmp/rc; } | WANT="$(printf '%s\n' "$@")" awk '
  BEGIN { n = split(ENVIRON["WANT"], w, "\n"); for (i = 1; i <= n; i++) if (w[i] != "") { need[w[i]] = 1; left++ } }
  { print; e = $0; sub(/^\.\//, "", e); sub(/\/$/, "", e)
    if (left && (e in need)) { delete need[e]; if (--left == 0) { seen = 1; exit } } }
  END { exit seen ? 10 : 0 }'
[ $? = 10 ] && exit 10
cat /tmp/err >&2; exit "$(cat /tmp/rc)""#;

/// [`NEWEST_ENTRIES`]' exit code when it stopped reading because every wanted entry was seen.
const ALL_SEEN: i64 = 10;

/// The files matching `path` under `wd` and the entries of the newest (until every one of
/// `wanted` was seen), read in one one-shot helper without a network, the folder mounted
/// read-only. Reading stops early because decompressing a whole data directory is most of
/// the check's time (0.3 s for a 7 MB backup).
pub async fn tarball(
    docker: &Docker,
    t: &Timeouts,
    wd: &str,
    path: &str,
    wanted: &[String],
) -> TarballFacts {
    let (dir, pattern) = glob_parts(wd, path);
    let mut cmd = vec!["sh", "-c", NEWEST_ENTRIES, "sh", &pattern];
    let wanted: Vec<String> = wanted.iter().map(|w| norm(w)).collect();
    cmd.extend(wanted.iter().map(String::as_str));
    let out = match run(docker, t, HelperNet::Disabled, vec![bind_ro(&dir)], &cmd).await {
        Ok(r) => r.out,
        Err(e) => {
            let missing =
                e.contains("bind source path does not exist") || e.contains("no such file");
            let files = Err(if missing {
                format!("the folder {dir} does not exist on the Docker host")
            } else {
                e
            });
            return TarballFacts {
                dir,
                files,
                entries: None,
                read_all: false,
            };
        }
    };
    let (files, entries) = newest_entries(&out);
    TarballFacts {
        dir,
        files,
        entries,
        read_all: out.exit_code != Some(ALL_SEEN),
    }
}

/// A tar entry as compared: without `./` in front or `/` behind.
fn norm(entry: &str) -> String {
    entry
        .trim_start_matches("./")
        .trim_end_matches('/')
        .to_string()
}

type Listed = (
    Result<Vec<String>, String>,
    Option<Result<Vec<String>, String>>,
);

/// [`NEWEST_ENTRIES`]' output: the files, and the newest one's entries (none without files).
fn newest_entries(out: &ExecOutput) -> Listed {
    let s = out.stdout.as_str();
    let split = match s.strip_prefix("--\n") {
        Some(rest) => Some(("", rest)),
        None => s.split_once("\n--\n"),
    };
    let Some((listed, entries)) = split else {
        return (Err(exec_err(out, "listing the folder")), None);
    };
    let files: Vec<String> = listed.lines().map(str::to_string).collect();
    if files.is_empty() {
        return (Ok(files), None);
    }
    let entries = if matches!(out.exit_code, Some(0) | Some(ALL_SEEN)) {
        Ok(entries
            .lines()
            .map(norm)
            .filter(|l| !l.is_empty())
            .collect())
    } else {
        Err(exec_err(out, "tar -tzf"))
    };
    (Ok(files), Some(entries))
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
            read_all: true,
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
        // reading stopped once every wanted entry was seen: no count is claimed
        let early = TarballFacts {
            read_all: false,
            ..f(
                &files,
                Some(Ok(vec!["PG_VERSION".into(), "global/pg_control".into()])),
            )
        };
        let j = k.judge(&early);
        assert_eq!(
            j.message,
            "pgdata-20260102T000000Z.tar.gz holds PG_VERSION, ./global/pg_control"
        );
        assert!(
            j.evidence[1].contains("first 2 entries"),
            "{:?}",
            j.evidence
        );
    }

    #[test]
    fn the_helper_output_splits_into_files_and_entries() {
        let out = |stdout: &str, code| ExecOutput {
            stdout: stdout.into(),
            exit_code: Some(code),
            stderr: if code == 1 {
                "tar: invalid magic".into()
            } else {
                String::new()
            },
            ..Default::default()
        };
        let (files, entries) = newest_entries(&out(
            "a--.tgz\nb.tgz\n--\n./\n./PG_VERSION\n./global/\n",
            ALL_SEEN,
        ));
        assert_eq!(files.unwrap(), ["a--.tgz", "b.tgz"]);
        assert_eq!(entries.unwrap().unwrap(), ["PG_VERSION", "global"]);
        let (files, entries) = newest_entries(&out("--\n", 0));
        assert!(files.unwrap().is_empty() && entries.is_none());
        let (_, entries) = newest_entries(&out("b.tgz\n--\n", 1));
        assert_eq!(
            entries.unwrap().unwrap_err(),
            "tar -tzf exited 1: tar: invalid magic"
        );
        let (files, _) = newest_entries(&out("", 2));
        assert!(files
            .unwrap_err()
            .starts_with("listing the folder exited 2"));
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

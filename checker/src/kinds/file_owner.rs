//! `file_owner`: who owns a path (a volume's mount point, typically) as the container sees it,
//! by uid, and with which mode: `stat` and `id -u` run inside the container.

use serde::Deserialize;

use super::{fail, pass, CheckKind, Invalid, Judgement};
use crate::probe::cx::ProbeCx;
use crate::probe::exec::exec;
use crate::probe::ext::{exec_err, parse_stat};
use crate::see::SeeCx;

/// `path` in the container is owned by `user` (by uid, as the container sees it), with `mode`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOwner {
    pub service: String,
    pub path: String,
    pub user: String,
    pub mode: Option<String>,
}

/// `stat` of the path (uid, octal mode) and `id -u` of the user, inside the container.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnerFacts {
    pub stat: Result<(u32, String), String>,
    pub user_uid: Result<u32, String>,
}

impl CheckKind for FileOwner {
    const NAME: &'static str = "file_owner";
    type Facts = OwnerFacts;

    fn validate(&self) -> Vec<Invalid> {
        match &self.mode {
            Some(m)
                if !(3..=4).contains(&m.len()) || !m.chars().all(|c| ('0'..='7').contains(&c)) =>
            {
                vec![Invalid::field(
                    "mode",
                    format!("mode = \"{m}\" must be an octal mode such as \"0700\""),
                )]
            }
            _ => Vec::new(),
        }
    }
    fn describe(&self) -> String {
        format!(
            "{} in {} is owned by {}{}",
            self.path,
            self.service,
            self.user,
            self.mode
                .as_ref()
                .map(|m| format!(" with mode {m}"))
                .unwrap_or_default()
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        let (docker, t) = (cx.docker(), cx.timeouts());
        let id = &cx.running(&self.service)?.id;
        let (path, user) = (self.path.as_str(), self.user.as_str());
        let (stat_cmd, id_cmd) = (["stat", "-c", "%u %a", path], ["id", "-u", user]);
        let (stat, uid) =
            futures_util::join!(exec(docker, t, id, &stat_cmd), exec(docker, t, id, &id_cmd));
        let stat = stat.and_then(|o| match parse_stat(&o.stdout) {
            Some(s) if o.exit_code == Some(0) => Ok(s),
            _ => Err(exec_err(&o, &format!("stat {path}"))),
        });
        let user_uid = uid.and_then(|o| match o.stdout.trim().parse::<u32>() {
            Ok(n) if o.exit_code == Some(0) => Ok(n),
            _ => Err(exec_err(&o, &format!("id -u {user}"))),
        });
        Ok(OwnerFacts { stat, user_uid })
    }
    fn judge(&self, f: &Self::Facts) -> Judgement {
        let (path, user) = (&self.path, &self.user);
        let (uid, got_mode) = match &f.stat {
            Ok(s) => s,
            Err(e) => return fail(format!("cannot stat {path}: {e}")),
        };
        let want = match &f.user_uid {
            Ok(u) => *u,
            Err(e) => {
                return fail(format!(
                    "cannot find the uid of {user} in the container: {e}"
                ))
            }
        };
        let who = if *uid == 0 {
            "uid 0 (root)".to_string()
        } else {
            format!("uid {uid}")
        };
        let digits = |m: &str| m.trim_start_matches('0').to_string();
        if *uid != want {
            fail(format!(
                "{path} is owned by {who}, mode {got_mode}; {user} is uid {want}"
            ))
        } else if let Some(m) = self
            .mode
            .as_deref()
            .filter(|m| digits(m) != digits(got_mode))
        {
            fail(format!("{path} has mode {got_mode}, expected {m}"))
        } else {
            pass(format!(
                "{path} is owned by {user} (uid {uid}), mode {got_mode}"
            ))
        }
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        cx.exec(
            &self.service,
            &format!(
                "sh -c 'stat -c \"%u %a\" {}; id -u {}'",
                self.path, self.user
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{invalid, kind};
    use crate::kinds::Verdict;

    #[test]
    fn owner_compares_uids_and_mode() {
        let k: FileOwner = kind("service = 'db'\npath = '/d'\nuser = 'postgres'\nmode = '0700'");
        let v = |stat: Result<(u32, String), String>, user_uid: Result<u32, String>| {
            k.judge(&OwnerFacts { stat, user_uid })
        };
        let j = v(Ok((70, "700".into())), Ok(70));
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (Verdict::Pass, "/d is owned by postgres (uid 70), mode 700")
        );
        let j = v(Ok((0, "755".into())), Ok(70));
        assert_eq!(
            j.message,
            "/d is owned by uid 0 (root), mode 755; postgres is uid 70"
        );
        let j = v(Ok((70, "755".into())), Ok(70));
        assert_eq!(j.message, "/d has mode 755, expected 0700");
        let j = v(Ok((70, "700".into())), Err("id: unknown user".into()));
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (
                Verdict::Fail,
                "cannot find the uid of postgres in the container: id: unknown user"
            )
        );
        let j = v(Err("stat /d exited 1".into()), Ok(70));
        assert_eq!(j.message, "cannot stat /d: stat /d exited 1");
        // without `mode`, any mode will do
        let k: FileOwner = kind("service = 'db'\npath = '/d'\nuser = 'postgres'");
        assert_eq!(
            k.judge(&OwnerFacts {
                stat: Ok((70, "755".into())),
                user_uid: Ok(70)
            })
            .verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn fields_are_checked() {
        let e =
            invalid::<FileOwner>("service = 'db'\npath = '/d'\nuser = 'postgres'\nmode = 'rwx'");
        assert_eq!(e[0].field.as_deref(), Some("mode"));
        assert!(e[0].message.contains("octal"), "{e:?}");
        let e = invalid::<FileOwner>("service = 'db'\npath = '/d'\nmode = '0700'");
        assert!(e[0].message.contains("missing field `user`"), "{e:?}");
    }

    #[test]
    fn the_loader_points_at_a_bad_mode() {
        let e = crate::lab::test_lab(&["db"], "[[checks]]\nid = \"o\"\ntitle = \"o\"\nkind = \"file_owner\"\nservice = \"db\"\npath = \"/d\"\nuser = \"postgres\"\nmode = \"700x\"\n").unwrap_err();
        assert!(
            e.starts_with(
                "lab.toml:14:8: check `o` (kind file_owner): mode = \"700x\" must be an octal mode"
            ),
            "{e}"
        );
    }

    #[test]
    fn see_runs_stat_inside() {
        let name = |u: &str| format!("p-{u}-1");
        let k: FileOwner = kind("service = 'db'\npath = '/d'\nuser = 'postgres'");
        let cx = SeeCx::new(Some("p"), &name);
        assert_eq!(
            k.see(&cx),
            "docker compose -p p exec db sh -c 'stat -c \"%u %a\" /d; id -u postgres'"
        );
        let cx = SeeCx::new(None, &name);
        assert!(k.see(&cx).starts_with("docker exec p-db-1 sh -c"));
        assert_eq!(k.describe(), "/d in db is owned by postgres");
    }
}

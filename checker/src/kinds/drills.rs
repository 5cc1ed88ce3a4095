//! `persistence` and `self_heal`: drills that change the learner's stack (run only with
//! `--drill`). What they do is in drill/; here are their fields and verdicts.

use serde::Deserialize;

use super::replicas::out_of_range;
use super::{fail, pass, CheckKind, Invalid, Judgement};
use crate::drill::{self, Drill, HealAction, HealFacts, PersistenceFacts};
use crate::probe::cx::ProbeCx;
use crate::see::{sh_quote, SeeCx};

/// Drill: a marker row survives `down`/`up` and is gone after `down -v`/`up`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persistence {
    pub service: String,
    pub marker_table: String,
    /// Asked after `down -v`/`up`, with `expect` its answer.
    pub query: Option<String>,
    pub expect: Option<String>,
}

/// Drill: break one container of the service; it must be running and healthy again in time.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfHeal {
    pub service: String,
    pub action: HealAction,
    pub chaos_file: Option<String>,
    #[serde(rename = "within_s")]
    pub within_secs: u64,
}

/// The compose project for a command the learner types (a placeholder for plain containers).
fn project(cx: &SeeCx<'_>) -> String {
    cx.project
        .map(sh_quote)
        .unwrap_or_else(|| "<project>".into())
}

impl CheckKind for Persistence {
    const NAME: &'static str = "persistence";
    type Facts = PersistenceFacts;

    fn validate(&self) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let t = &self.marker_table;
        if t.is_empty()
            || !t
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            problems.push(Invalid::field(
                "marker_table",
                format!("marker_table = \"{t}\" must be a plain lower-case SQL name (a-z, 0-9, _)"),
            ));
        }
        if self.query.is_some() != self.expect.is_some() {
            let field = if self.query.is_some() {
                "query"
            } else {
                "expect"
            };
            problems.push(Invalid::field(
                field,
                "give both `query` and `expect` (checked after `down -v`/`up`), or neither",
            ));
        }
        problems
    }
    fn describe(&self) -> String {
        format!(
            "DRILL (deletes the project's volumes, puts a saved copy back after): a row in {} on {} survives `down`/`up` and is gone after `down -v`/`up`",
            self.marker_table, self.service
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    fn is_drill(&self) -> bool {
        true
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<PersistenceFacts, Judgement> {
        let d = Drill::of(cx)?;
        let c = d.container(&self.service).await?;
        let (table, query) = (&self.marker_table, self.query.as_deref());
        Ok(drill::persistence(&d, &c, &self.service, table, query).await)
    }
    fn judge(&self, f: &PersistenceFacts) -> Judgement {
        let table = &self.marker_table;
        let mut problems = Vec::new();
        match &f.marker_after_down {
            Some(Ok(n)) if n == "1" => {}
            Some(Ok(n)) => problems.push(format!("after `down`/`up` the marker row is gone ({n} rows): the data is not in a volume that survives `down`")),
            Some(Err(e)) => problems.push(format!("after `down`/`up` the marker could not be read: {e}")),
            None => {}
        }
        match &f.table_gone_after_down_v {
            Some(Ok(t)) if t == "true" => {}
            Some(Ok(_)) => problems.push(format!("after `down -v`/`up` the table {table} is still there: `down -v` did not remove the data volume")),
            Some(Err(e)) => problems.push(format!("after `down -v`/`up` the database could not be read: {e}")),
            None => {}
        }
        if let (Some(q), Some(want), Some(got)) = (&self.query, &self.expect, &f.query_after) {
            match got {
                Ok(v) if v.trim() == want.trim() => {}
                Ok(v) => problems.push(format!(
                    "after `down -v`/`up`, `{q}` returned `{v}`, expected `{want}`"
                )),
                Err(e) => problems.push(format!("after `down -v`/`up`, `{q}` failed: {e}")),
            }
        }
        let mut j = if let Some(e) = &f.error {
            fail(format!("the drill stopped: {e}"))
        } else if let (None, Some(e)) = (problems.first(), &f.restore_error) {
            // the behaviour was right, but the learner must act: say so with a failure
            fail(format!("the drill passed, but labcheck could not put the stack back as it was: {e}. `labcheck reset` starts the lab over"))
        } else if let Some(first) = problems.first() {
            fail(first.clone())
        } else {
            pass(format!("a row in {table} survived `down`/`up`, and `down -v`/`up` started from an empty volume"))
        };
        for p in problems.iter().skip(usize::from(f.error.is_none())) {
            j = j.with(p.clone());
        }
        for s in &f.steps {
            j = j.with(s.to_string());
        }
        match (&f.restore_error, f.volumes_removed.is_empty()) {
            (Some(e), _) if f.error.is_some() || !problems.is_empty() => {
                j = j.with(format!("labcheck could not put the stack back as it was: {e}. `labcheck reset` starts the lab over"))
            }
            (None, false) => {
                j = j.with(format!(
                    "the stack is as it was before the drill: {} holds your data again",
                    f.volumes_removed.join(", ")
                ))
            }
            _ => {}
        }
        j
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        let p = project(cx);
        format!(
            "docker compose -p {p} down && docker compose -p {p} up -d --wait   # is your data still in {}? (`down -v` deletes it)",
            self.service
        )
    }
}

impl CheckKind for SelfHeal {
    const NAME: &'static str = "self_heal";
    type Facts = HealFacts;

    fn validate(&self) -> Vec<Invalid> {
        let mut problems: Vec<Invalid> = out_of_range("within_s", self.within_secs, 1, 600)
            .into_iter()
            .collect();
        match &self.chaos_file {
            None if self.action == HealAction::Unhealthy => problems.push(Invalid::field(
                "chaos_file",
                "missing field `chaos_file`: action = \"unhealthy\" creates it to make the healthcheck fail",
            )),
            Some(c) if !c.starts_with('/') => problems.push(Invalid::field(
                "chaos_file",
                format!("chaos_file = \"{c}\" must be an absolute path in the container"),
            )),
            _ => {}
        }
        problems
    }
    fn describe(&self) -> String {
        format!(
            "DRILL: a {} container of {} is running and healthy again within {} s",
            match self.action {
                HealAction::Kill => "killed",
                HealAction::Unhealthy => "failing (unhealthy)",
            },
            self.service,
            self.within_secs
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    fn is_drill(&self) -> bool {
        true
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<HealFacts, Judgement> {
        let d = Drill::of(cx)?;
        let all = d.containers(&self.service).await;
        let within = std::time::Duration::from_secs(self.within_secs);
        let chaos_file = self.chaos_file.as_deref();
        Ok(drill::self_heal(&d, &self.service, &all, self.action, chaos_file, within).await)
    }
    fn judge(&self, f: &HealFacts) -> Judgement {
        let (service, within, container) = (&self.service, self.within_secs, &f.container);
        let last_state = &f.last_state;
        let what = match self.action {
            HealAction::Kill => "killed",
            HealAction::Unhealthy => "made unhealthy",
        };
        if let Some(e) = &f.error {
            return fail(format!("the drill could not start on {service}: {e}"));
        }
        let j = match (f.down_after, f.healthy_after) {
            (Some(d), Some(h)) => pass(format!("{container} was {what}, went down after {d:.1} s and was healthy again after {h:.1} s")),
            (None, _) => fail(format!("{container} was {what} but never looked down within {within} s (last state: {last_state})")),
            (Some(d), None) => fail(format!(
                "{container} was {what} (down after {d:.1} s) and was not running and healthy again within {within} s: last state {last_state}"
            )),
        };
        match &f.put_back {
            None => j,
            Some(Ok(done)) => j
                .with("whatever should restore it (your manager) did not")
                .with(format!("labcheck put it back after the drill: {done}")),
            Some(Err(e)) => j.with(format!(
                "whatever should restore it (your manager) did not, and labcheck could not put it back: {e}. `labcheck reset` starts the lab over"
            )),
        }
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        let (p, s, name) = (project(cx), &self.service, cx.name(&self.service));
        match self.action {
            HealAction::Kill => {
                format!("docker kill {name}   # then watch: docker compose -p {p} ps {s}")
            }
            HealAction::Unhealthy => format!(
                "docker exec {name} touch {}   # then watch: docker compose -p {p} ps {s}",
                self.chaos_file.as_deref().unwrap_or("<chaos_file>")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{invalid, kind};
    use crate::kinds::Verdict;

    #[test]
    fn persistence_needs_both_halves() {
        let k: Persistence = kind("service = 'db'\nmarker_table = 'm'\nquery = 'q'\nexpect = '1'");
        let plain: Persistence = kind("service = 'db'\nmarker_table = 'm'");
        let f = |a: &str, b: &str, err: Option<&str>| PersistenceFacts {
            steps: vec![],
            marker_after_down: Some(Ok(a.into())),
            table_gone_after_down_v: Some(Ok(b.into())),
            query_after: Some(Ok("1".into())),
            volumes_removed: vec!["p_pgdata".into()],
            error: err.map(String::from),
            restore_error: None,
        };
        let ok = k.judge(&f("1", "true", None));
        assert_eq!(ok.verdict, Verdict::Pass);
        assert!(ok
            .evidence
            .iter()
            .any(|e| e.starts_with("the stack is as it was before the drill: p_pgdata")));
        let stuck = k.judge(&PersistenceFacts {
            restore_error: Some("copying failed".into()),
            ..f("1", "true", None)
        });
        assert_eq!(stuck.verdict, Verdict::Fail);
        assert!(
            stuck
                .message
                .contains("could not put the stack back as it was: copying failed")
                && stuck.message.contains("`labcheck reset`"),
            "{}",
            stuck.message
        );
        assert!(plain
            .judge(&f("0", "true", None))
            .message
            .contains("marker row is gone"));
        assert!(plain
            .judge(&f("1", "false", None))
            .message
            .contains("still there"));
        assert!(plain
            .judge(&f("1", "true", Some("`docker compose down` failed")))
            .message
            .starts_with("the drill stopped"));
        let j = k.judge(&PersistenceFacts {
            query_after: Some(Ok("2".into())),
            ..f("1", "true", None)
        });
        assert_eq!(
            j.message,
            "after `down -v`/`up`, `q` returned `2`, expected `1`"
        );
    }

    #[test]
    fn self_heal_needs_down_then_healthy() {
        let kill: SelfHeal = kind("service = 'backend'\naction = 'kill'\nwithin_s = 20");
        let f = |down, healthy, state: &str| HealFacts {
            container: "b-1".into(),
            down_after: down,
            healthy_after: healthy,
            last_state: state.into(),
            error: None,
            put_back: None,
        };
        assert_eq!(
            kill.judge(&f(Some(0.3), Some(2.7), "running, healthy"))
                .verdict,
            Verdict::Pass
        );
        let j = kill.judge(&HealFacts {
            put_back: Some(Ok("started b-1 again, it is healthy".into())),
            ..f(Some(0.3), None, "exited (137)")
        });
        assert!(
            j.verdict == Verdict::Fail && j.message.contains("exited (137)"),
            "{}",
            j.message
        );
        assert!(j.evidence[0].contains("your manager"), "{:?}", j.evidence);
        assert_eq!(
            j.evidence[1],
            "labcheck put it back after the drill: started b-1 again, it is healthy"
        );
        let sick: SelfHeal = kind(
            "service = 'backend'\naction = 'unhealthy'\nchaos_file = '/run/chaos/unhealthy'\nwithin_s = 30",
        );
        let j = sick.judge(&f(None, None, "running, healthy"));
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.message.contains("never looked down within 30 s"),
            "{}",
            j.message
        );
        let j = sick.judge(&HealFacts {
            error: Some("no running, healthy container of backend to try it on".into()),
            ..f(None, None, "")
        });
        assert!(j
            .message
            .starts_with("the drill could not start on backend"));
    }

    #[test]
    fn both_are_drills_that_say_so() {
        let k: Persistence = kind("service = 'db'\nmarker_table = 'labcheck_marker'");
        assert!(k.is_drill() && !k.leaves_state());
        assert_eq!(k.describe(), "DRILL (deletes the project's volumes, puts a saved copy back after): a row in labcheck_marker on db survives `down`/`up` and is gone after `down -v`/`up`");
        let k: SelfHeal = kind("service = 'backend'\naction = 'kill'\nwithin_s = 20");
        assert!(k.is_drill());
        assert_eq!(
            k.describe(),
            "DRILL: a killed container of backend is running and healthy again within 20 s"
        );
    }

    #[test]
    fn fields_are_checked() {
        let e = invalid::<Persistence>("service = 'db'\nmarker_table = 'Marker;'");
        assert_eq!(e[0].field.as_deref(), Some("marker_table"), "{e:?}");
        let e = invalid::<Persistence>("service = 'db'\nmarker_table = 'm'\nquery = 'q'");
        assert_eq!(e[0].field.as_deref(), Some("query"), "{e:?}");
        assert!(e[0].message.contains("give both"), "{e:?}");
        let e = invalid::<SelfHeal>("service = 'b'\naction = 'stop'\nwithin_s = 5");
        assert_eq!(e[0].field.as_deref(), Some("action"), "{e:?}");
        assert!(e[0].message.contains("`kill`"), "{e:?}");
        let e = invalid::<SelfHeal>("service = 'b'\naction = 'unhealthy'\nwithin_s = 0");
        let fields: Vec<_> = e.iter().map(|p| p.field.as_deref().unwrap()).collect();
        assert_eq!(fields, ["within_s", "chaos_file"], "{e:?}");
        let e = invalid::<SelfHeal>(
            "service = 'b'\naction = 'unhealthy'\nchaos_file = 'x'\nwithin_s = 5",
        );
        assert!(e[0].message.contains("absolute path"), "{e:?}");
        let e = invalid::<SelfHeal>("service = 'b'\naction = 'kill'");
        assert!(e[0].message.contains("missing field `within_s`"), "{e:?}");
    }

    #[test]
    fn the_drills_are_shown_as_what_to_do_by_hand() {
        let name = |u: &str| format!("p-{u}-1");
        let cx = SeeCx::new(Some("p"), &name);
        let k: Persistence = kind("service = 'db'\nmarker_table = 'm'");
        assert_eq!(
            k.see(&cx),
            "docker compose -p p down && docker compose -p p up -d --wait   # is your data still in db? (`down -v` deletes it)"
        );
        let k: SelfHeal = kind("service = 'backend'\naction = 'kill'\nwithin_s = 20");
        assert_eq!(
            k.see(&cx),
            "docker kill p-backend-1   # then watch: docker compose -p p ps backend"
        );
        let k: SelfHeal = kind(
            "service = 'backend'\naction = 'unhealthy'\nchaos_file = '/run/chaos/x'\nwithin_s = 20",
        );
        assert!(k
            .see(&cx)
            .starts_with("docker exec p-backend-1 touch /run/chaos/x"));
    }
}

//! The ladder's scheduler. Every check's probe starts at once (a healthy stack costs one
//! probe's latency, not the ladder's depth); as soon as one of a check's needs is known not to
//! have passed, its probe is dropped and it is skipped. A check that needs one whose probe
//! leaves state in the app waits for it, then probes. Drills run last, one at a time, and
//! only when asked for. What a check observes is behind [`Observer`], so this is unit-tested
//! with canned verdicts and delays.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, Either, FutureExt, Shared};

use crate::lab::{Check, Lab, Role, Severity};
use crate::result::{earned, CheckResult, Scoring, Skip, Status};
use crate::verdict::Judgement;

/// Where verdicts come from: the real probes ([`crate::probe::cx::ProbeCx`]) or, in tests,
/// canned ones.
pub trait Observer: Sync {
    /// Probe and judge one check.
    fn evaluate<'a>(&'a self, check: &'a Check) -> BoxFuture<'a, Judgement>;
    /// The lab's units that have no container.
    fn missing(&self) -> &[String];
    /// The docker command that shows what the check looks at.
    fn see(&self, check: &Check) -> Option<String>;
}

/// How a run judges: which checks run and what a failure costs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rules {
    /// `--drill`: run the checks that change the stack.
    pub drill: bool,
    /// `--strict`: the lab's exact solution contract; every failed check is a failure (no
    /// warnings for hardening, no notes for diagnoses whose behaviours work).
    pub strict: bool,
    pub scoring: Scoring,
}

/// Run the lab's checks against `obs`, in ladder order.
pub async fn schedule(lab: &Lab, obs: &dyn Observer, rules: Rules) -> Vec<CheckResult> {
    let depths = crate::lab::ladder::depths(&lab.checks);
    let one = |check| Step {
        check,
        depth: depths[&check.id],
        obs,
        rules,
    };
    let mut futs: HashMap<&str, Shared<BoxFuture<'_, CheckResult>>> = HashMap::new();
    for check in lab.checks.iter().filter(|c| !c.kind.is_drill()) {
        let needs: Vec<_> = check
            .needs
            .iter()
            .filter_map(|n| futs.get(n.as_str()).cloned())
            .collect();
        let after_needs = check
            .needs
            .iter()
            .filter_map(|n| lab.checks.iter().find(|c| &c.id == n))
            .any(|n| n.kind.leaves_state());
        let step = one(check);
        let fut = async move {
            let blocked = futures_util::future::join_all(needs).map(|done| blocked_by(&done));
            if after_needs {
                let blocked = blocked.await;
                return match blocked.is_empty() {
                    true => step.run().await,
                    false => step.skipped(Skip::Needs(blocked)),
                };
            }
            let probe = step.run();
            futures_util::pin_mut!(blocked, probe);
            let (blocked, result) = match futures_util::future::select(blocked, probe).await {
                Either::Left((blocked, probe)) if blocked.is_empty() => {
                    (blocked, Some(probe.await))
                }
                Either::Left((blocked, _dropped)) => (blocked, None),
                Either::Right((result, blocked)) => (blocked.await, Some(result)),
            };
            match result {
                Some(result) if blocked.is_empty() => result,
                _ => step.skipped(Skip::Needs(blocked)),
            }
        }
        .boxed()
        .shared();
        futs.insert(&check.id, fut);
    }
    let mut done: HashMap<String, CheckResult> =
        futures_util::future::join_all(futs.values().cloned())
            .await
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
    // Drills change the stack: after every other check, one at a time, in ladder order.
    for check in lab.checks.iter().filter(|c| c.kind.is_drill()) {
        let step = one(check);
        let result = if !rules.drill {
            step.skipped(Skip::DrillNotRequested)
        } else {
            let needs: Vec<CheckResult> = check
                .needs
                .iter()
                .filter_map(|n| done.get(n).cloned())
                .collect();
            let blocked = blocked_by(&needs);
            match blocked.is_empty() {
                true => step.run().await,
                false => step.skipped(Skip::Needs(blocked)),
            }
        };
        done.insert(check.id.clone(), result);
    }
    let mut results: Vec<CheckResult> = lab
        .checks
        .iter()
        .filter_map(|c| done.remove(&c.id))
        .collect();
    if !rules.strict {
        explain(lab, &mut results, rules.scoring);
    }
    results
}

/// Diagnoses against their behaviours: a failed diagnosis whose behaviours all pass becomes a
/// pass with a note (the learner's config differs from the solution and works); one whose
/// behaviour fails or is skipped stays a failure and is named as that behaviour's cause.
fn explain(lab: &Lab, results: &mut [CheckResult], scoring: Scoring) {
    let at: HashMap<String, usize> = results
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    for d in lab.checks.iter().filter(|c| c.role == Role::Diagnosis) {
        let Some(&di) = at.get(&d.id) else { continue };
        if results[di].status != Status::Fail {
            continue;
        }
        let broken: Vec<usize> = d
            .explains
            .iter()
            .filter_map(|b| at.get(b).copied())
            .filter(|&bi| results[bi].status != Status::Pass)
            .collect();
        if broken.is_empty() {
            let r = &mut results[di];
            r.note = Some(format!(
                "differs from the lab's solution, but {} work{}",
                d.explains.join(", "),
                if d.explains.len() == 1 { "s" } else { "" }
            ));
            r.status = Status::Pass;
            r.points = earned(r, scoring).0;
        }
        for bi in broken {
            results[bi].causes.push(d.id.clone());
        }
    }
}

/// Every check skipped, when nothing of the lab's stack is there.
pub fn absent(lab: &Lab) -> Vec<CheckResult> {
    let depths = crate::lab::ladder::depths(&lab.checks);
    lab.checks
        .iter()
        .map(|c| skipped(c, depths[&c.id], Skip::StackAbsent, None))
        .collect()
}

/// The ids of the needs that did not pass (a warning lets the ladder through).
fn blocked_by(needs: &[CheckResult]) -> Vec<String> {
    needs
        .iter()
        .filter(|r| !r.status.lets_through())
        .map(|r| r.id.clone())
        .collect()
}

/// One check on its way through the scheduler.
#[derive(Clone, Copy)]
struct Step<'a> {
    check: &'a Check,
    depth: usize,
    obs: &'a dyn Observer,
    rules: Rules,
}

impl Step<'_> {
    fn skipped(&self, why: Skip) -> CheckResult {
        skipped(self.check, self.depth, why, self.obs.see(self.check))
    }

    /// Judge the check; a unit with no container skips every kind that cannot judge that.
    async fn run(&self) -> CheckResult {
        let c = self.check;
        let missing: Vec<String> = c
            .kind
            .units()
            .into_iter()
            .filter(|u| self.obs.missing().iter().any(|m| m == u))
            .map(String::from)
            .collect();
        if !missing.is_empty() && !c.kind.judges_missing_units() {
            return self.skipped(Skip::NoContainer(missing));
        }
        let started = Instant::now();
        // whatever the stack said, shown inert and bounded everywhere from here on
        let j = self.obs.evaluate(c).await.inert();
        let severity = match self.rules.strict {
            true => Severity::Fail,
            false => c.severity,
        };
        let mut r = CheckResult {
            id: c.id.clone(),
            title: c.title.clone(),
            kind: c.kind.name().into(),
            status: Status::of(j.verdict, severity),
            verdict: Some(j.verdict),
            severity,
            role: c.role,
            note: None,
            causes: vec![],
            points: 0,
            max_points: c.points,
            message: j.message,
            evidence: j.evidence,
            skip: None,
            hints: c.hints.clone(),
            book: c.book.clone(),
            see: self.obs.see(c),
            duration: started.elapsed(),
            depth: self.depth,
        };
        r.points = earned(&r, self.rules.scoring).0;
        r
    }
}

fn skipped(c: &Check, depth: usize, why: Skip, see: Option<String>) -> CheckResult {
    CheckResult {
        id: c.id.clone(),
        title: c.title.clone(),
        kind: c.kind.name().into(),
        status: Status::Skip,
        verdict: None,
        severity: c.severity,
        role: c.role,
        note: None,
        causes: vec![],
        points: 0,
        // a drill not run is worth nothing either way: a green stack scores full marks
        max_points: if why == Skip::DrillNotRequested {
            0
        } else {
            c.points
        },
        message: format!("skipped: {}", why.reason()),
        evidence: vec![],
        skip: Some(why),
        hints: c.hints.clone(),
        book: c.book.clone(),
        see,
        duration: Duration::ZERO,
        depth,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::verdict::{fail, pass, Verdict};

    /// Canned verdicts with delays; records which probes started and which finished.
    #[derive(Default)]
    struct Canned {
        answers: HashMap<String, (u64, Verdict)>,
        missing: Vec<String>,
        started: Mutex<Vec<String>>,
        finished: Mutex<Vec<String>>,
    }

    impl Canned {
        fn with(answers: &[(&str, u64, Verdict)]) -> Canned {
            Canned {
                answers: answers
                    .iter()
                    .map(|(id, ms, v)| (id.to_string(), (*ms, *v)))
                    .collect(),
                ..Default::default()
            }
        }
        fn started(&self) -> Vec<String> {
            self.started.lock().unwrap().clone()
        }
        fn finished(&self) -> Vec<String> {
            self.finished.lock().unwrap().clone()
        }
    }

    impl Observer for Canned {
        fn evaluate<'a>(&'a self, check: &'a Check) -> BoxFuture<'a, Judgement> {
            async move {
                self.started.lock().unwrap().push(check.id.clone());
                let (ms, v) = self
                    .answers
                    .get(&check.id)
                    .copied()
                    .unwrap_or((0, Verdict::Pass));
                tokio::time::sleep(Duration::from_millis(ms)).await;
                self.finished.lock().unwrap().push(check.id.clone());
                match v {
                    Verdict::Pass => pass("ok"),
                    Verdict::Fail => fail("broken"),
                    Verdict::Unknown => crate::verdict::unknown("cannot tell"),
                }
            }
            .boxed()
        }
        fn missing(&self) -> &[String] {
            &self.missing
        }
        fn see(&self, _: &Check) -> Option<String> {
            None
        }
    }

    /// A lab whose checks are `running` on `web` and `db`, plus `extra` tables.
    fn lab(checks: &str) -> Lab {
        crate::lab::test_lab(&["web", "db", "cache"], checks).expect("test lab loads")
    }

    fn check(id: &str, kind_fields: &str, needs: &[&str]) -> String {
        let needs: Vec<String> = needs.iter().map(|n| format!("\"{n}\"")).collect();
        format!(
            "[[checks]]\nid = \"{id}\"\ntitle = \"{id}\"\n{kind_fields}\nneeds = [{}]\n",
            needs.join(", ")
        )
    }

    fn status(results: &[CheckResult], id: &str) -> (Status, Option<Skip>) {
        let r = results.iter().find(|r| r.id == id).expect("result");
        (r.status, r.skip.clone())
    }

    const RUNNING_DB: &str = "kind = \"running\"\nservice = \"db\"";
    const HEALTHY_DB: &str = "kind = \"healthy\"\nservice = \"db\"";
    const HEALTHY_WEB: &str = "kind = \"healthy\"\nservice = \"web\"";
    const CACHED: &str =
        "kind = \"http_cached\"\nurl = \"http://localhost:1/\"\nheader = \"X\"\nhit = \"HIT\"";
    const DRILL: &str = "kind = \"self_heal\"\nservice = \"web\"\naction = \"kill\"\nwithin_s = 5";

    #[tokio::test(start_paused = true)]
    async fn every_probe_starts_at_once() {
        let lab = lab(&[
            check("a", RUNNING_DB, &[]),
            check("b", HEALTHY_DB, &["a"]),
            check("c", HEALTHY_WEB, &["b"]),
        ]
        .concat());
        let obs = Canned::with(&[
            ("a", 100, Verdict::Pass),
            ("b", 100, Verdict::Pass),
            ("c", 100, Verdict::Pass),
        ]);
        let t = tokio::time::Instant::now();
        let results = schedule(&lab, &obs, Rules::default()).await;
        assert!(
            t.elapsed() < Duration::from_millis(150),
            "{:?}",
            t.elapsed()
        );
        assert!(results.iter().all(|r| r.status == Status::Pass));
        assert_eq!(results.iter().map(|r| r.points).sum::<u32>(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_need_drops_its_dependents_probes() {
        let lab = lab(&[
            check("a", RUNNING_DB, &[]),
            check("b", HEALTHY_DB, &["a"]),
            check("c", HEALTHY_WEB, &["b"]),
            check("d", HEALTHY_WEB, &[]),
        ]
        .concat());
        let obs = Canned::with(&[
            ("a", 10, Verdict::Fail),
            ("b", 5_000, Verdict::Pass),
            ("c", 5_000, Verdict::Pass),
            ("d", 20, Verdict::Pass),
        ]);
        let t = tokio::time::Instant::now();
        let results = schedule(&lab, &obs, Rules::default()).await;
        assert!(
            t.elapsed() < Duration::from_millis(100),
            "waited for dropped probes: {:?}",
            t.elapsed()
        );
        assert_eq!(status(&results, "a").0, Status::Fail);
        assert_eq!(
            status(&results, "b"),
            (Status::Skip, Some(Skip::Needs(vec!["a".into()])))
        );
        assert_eq!(
            status(&results, "c"),
            (Status::Skip, Some(Skip::Needs(vec!["b".into()])))
        );
        assert_eq!(status(&results, "d").0, Status::Pass);
        let finished = obs.finished();
        assert!(
            !finished.contains(&"b".into()) && !finished.contains(&"c".into()),
            "{finished:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_warning_does_not_block() {
        let lab = lab(&[check("a", RUNNING_DB, &[]), check("b", HEALTHY_DB, &["a"])].concat());
        let obs = Canned::with(&[("a", 1, Verdict::Unknown)]);
        let results = schedule(&lab, &obs, Rules::default()).await;
        assert_eq!(status(&results, "a").0, Status::Warn);
        assert_eq!(status(&results, "b").0, Status::Pass);
        assert_eq!(results[0].points, 0, "an undecided check earns nothing");
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_after_one_that_leaves_state_waits_for_it() {
        let lab = lab(&[
            check("fill", CACHED, &[]),
            check("after", HEALTHY_DB, &["fill"]),
        ]
        .concat());
        let obs = Canned::with(&[("fill", 50, Verdict::Pass), ("after", 10, Verdict::Pass)]);
        let results = schedule(&lab, &obs, Rules::default()).await;
        assert_eq!(obs.started(), ["fill", "after"]);
        assert_eq!(obs.finished(), ["fill", "after"]);
        assert!(results.iter().all(|r| r.status == Status::Pass));
    }

    #[tokio::test(start_paused = true)]
    async fn drills_run_last_and_only_when_asked() {
        let lab = lab(&[
            check("heal", DRILL, &["up"]),
            check("up", RUNNING_DB, &[]),
            check("h", HEALTHY_WEB, &[]),
        ]
        .concat());
        let obs = Canned::with(&[("up", 30, Verdict::Pass), ("h", 10, Verdict::Pass)]);
        let results = schedule(&lab, &obs, Rules::default()).await;
        assert_eq!(
            status(&results, "heal"),
            (Status::Skip, Some(Skip::DrillNotRequested))
        );
        assert_eq!(
            results.iter().find(|r| r.id == "heal").unwrap().max_points,
            0
        );
        assert!(!obs.started().contains(&"heal".into()));

        let obs = Canned::with(&[("up", 30, Verdict::Pass), ("h", 10, Verdict::Pass)]);
        let results = schedule(
            &lab,
            &obs,
            Rules {
                drill: true,
                ..Rules::default()
            },
        )
        .await;
        assert_eq!(status(&results, "heal").0, Status::Pass);
        assert_eq!(obs.started().last().map(String::as_str), Some("heal"));
        assert_eq!(obs.finished().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn units_without_a_container_skip_all_but_running() {
        let lab = lab(&[
            check("up", RUNNING_DB, &[]),
            check("h", HEALTHY_DB, &[]),
            check("w", HEALTHY_WEB, &[]),
        ]
        .concat());
        let mut obs = Canned::with(&[("up", 1, Verdict::Fail)]);
        obs.missing = vec!["db".into()];
        let results = schedule(&lab, &obs, Rules::default()).await;
        assert_eq!(status(&results, "up").0, Status::Fail);
        assert_eq!(
            status(&results, "h"),
            (Status::Skip, Some(Skip::NoContainer(vec!["db".into()])))
        );
        assert_eq!(status(&results, "w").0, Status::Pass);
        let started = obs.started();
        assert!(started.contains(&"up".into()) && started.contains(&"w".into()));
        assert!(!started.contains(&"h".into()), "{started:?}");
    }

    #[test]
    fn an_absent_stack_skips_everything() {
        let lab = lab(&[
            check("up", RUNNING_DB, &[]),
            check("h", HEALTHY_DB, &["up"]),
        ]
        .concat());
        let results = absent(&lab);
        assert!(results.iter().all(|r| r.skip == Some(Skip::StackAbsent)));
        assert_eq!(results[1].message, "skipped: the stack is not up");
    }

    const ENV_DIAG: &str = "kind = \"env\"\nservice = \"web\"\nvar = \"DB_HOST\"\nequals = \"db\"\nrole = \"diagnosis\"\nexplains = [\"b\"]";
    const NOT_PUBLISHED: &str = "kind = \"not_published\"\nservice = \"db\"\nrole = \"hardening\"";

    #[tokio::test(start_paused = true)]
    async fn a_diagnosis_whose_behaviour_works_is_a_pass_with_a_note() {
        let lab = lab(&[
            check("a", RUNNING_DB, &[]),
            check("b", HEALTHY_WEB, &["a"]),
            check("d", ENV_DIAG, &["a"]),
        ]
        .concat());
        let obs = Canned::with(&[("d", 0, Verdict::Fail)]);
        let results = schedule(&lab, &obs, Rules::default()).await;
        let d = results.iter().find(|r| r.id == "d").unwrap();
        assert_eq!(d.status, Status::Pass);
        assert_eq!(d.points, 1);
        assert!(d.note.as_deref().unwrap().contains("but b works"), "{d:?}");
        // --strict: the solution's contract, a failure
        let strict = Rules {
            strict: true,
            ..Rules::default()
        };
        let results = schedule(&lab, &obs, strict).await;
        assert_eq!(status(&results, "d").0, Status::Fail);
    }

    #[tokio::test(start_paused = true)]
    async fn a_diagnosis_of_a_broken_behaviour_is_its_cause() {
        let lab = lab(&[
            check("a", RUNNING_DB, &[]),
            check("b", HEALTHY_WEB, &["a"]),
            check("d", ENV_DIAG, &["a"]),
        ]
        .concat());
        let obs = Canned::with(&[("b", 0, Verdict::Fail), ("d", 0, Verdict::Fail)]);
        let results = schedule(&lab, &obs, Rules::default()).await;
        assert_eq!(status(&results, "d").0, Status::Fail);
        let b = results.iter().find(|r| r.id == "b").unwrap();
        assert_eq!(
            (b.status, b.causes.clone()),
            (Status::Fail, vec!["d".into()])
        );
        // a passing diagnosis is no cause
        let obs = Canned::with(&[("b", 0, Verdict::Fail)]);
        let results = schedule(&lab, &obs, Rules::default()).await;
        assert!(results.iter().all(|r| r.causes.is_empty()));
    }

    #[tokio::test(start_paused = true)]
    async fn hardening_warns_unless_strict() {
        let lab = lab(&[
            check("a", RUNNING_DB, &[]),
            check("h", NOT_PUBLISHED, &["a"]),
        ]
        .concat());
        let obs = Canned::with(&[("h", 0, Verdict::Fail)]);
        let results = schedule(&lab, &obs, Rules::default()).await;
        let h = results.iter().find(|r| r.id == "h").unwrap();
        assert_eq!((h.status, h.points), (Status::Warn, 1));
        let strict = Rules {
            strict: true,
            ..Rules::default()
        };
        let results = schedule(&lab, &obs, strict).await;
        assert_eq!(status(&results, "h").0, Status::Fail);
    }

    /// A healthcheck or an env value that prints escape codes reaches no renderer raw.
    #[tokio::test(start_paused = true)]
    async fn hostile_output_is_inert_in_every_format() {
        struct Hostile;
        impl Observer for Hostile {
            fn evaluate<'a>(&'a self, _: &'a Check) -> BoxFuture<'a, Judgement> {
                async {
                    fail("health: \u{1b}]0;OWNED\u{7}\u{1b}[31mred\u{1b}[2J\r<b>&")
                        .with("env DB_HOST=\u{1b}[2J\u{202e}x\nline two\u{9b}")
                }
                .boxed()
            }
            fn missing(&self) -> &[String] {
                &[]
            }
            fn see(&self, _: &Check) -> Option<String> {
                None
            }
        }
        let lab = lab(&check("a", RUNNING_DB, &[]));
        let results = schedule(&lab, &Hostile, Rules::default()).await;
        let report = crate::report::testing::report(results);
        for format in [
            crate::report::Format::Human,
            crate::report::Format::Json,
            crate::report::Format::Junit,
            crate::report::Format::Tap,
        ] {
            for verbose in [false, true] {
                let o = crate::report::RenderOptions {
                    verbose,
                    color: false,
                    book_url: "http://b/".into(),
                    timings: false,
                };
                let out = crate::report::render(&report, format, &o);
                assert!(
                    !out.chars().any(|c| c.is_control() && c != '\n'),
                    "{format:?}: {out:?}"
                );
                assert!(
                    !out.contains('\u{202e}') && !out.contains('\u{9b}'),
                    "{format:?}"
                );
            }
        }
    }
}

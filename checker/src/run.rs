//! Running a lab: discover the stack, inspect its containers once, start every check's probe at
//! once (one shared client; a probe is dropped, and its check skipped, as soon as one of its
//! needs did not pass), judge, and report. Drills run afterwards, one at a time.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, Either, FutureExt, Shared};
use futures_util::StreamExt;

use crate::check::{judge, Verdict};
use crate::error::ToolError;
use crate::lab::{Check, Kind, Lab, Severity};
use crate::probe::facts::{ContainerFacts, Observed};
use crate::probe::{compose, container, http, net, postgres};
use crate::report::{CheckResult, EngineInfo, Report, StackState, Status};
use crate::target::{api_at_least, discover, Discovery, Engine, Stack};

/// What a run needs besides the lab and the engine.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `--project`
    pub project: Option<String>,
    /// The folder labcheck runs in (for the working_dir match and messages).
    pub cwd: PathBuf,
    /// `$LABCHECK_HTTP_HOST`: replaces localhost in `http` checks.
    pub http_host: Option<String>,
    /// `--drill`: run the checks that change state (otherwise they are skipped, saying so).
    pub drill: bool,
}

impl RunOptions {
    pub fn here() -> Self {
        RunOptions {
            project: None,
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            http_host: std::env::var("LABCHECK_HTTP_HOST").ok(),
            drill: false,
        }
    }
}

fn engine_info(e: &Engine) -> EngineInfo {
    EngineInfo {
        endpoint: e.endpoint.clone(),
        api_version: e.api_version.clone(),
        server_version: e.server_version.clone(),
    }
}

fn notes(engine: &Engine, lab: &Lab) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(need) = &lab.requires_api {
        let have = if engine.server_api_version.is_empty() {
            &engine.api_version
        } else {
            &engine.server_api_version
        };
        if !api_at_least(have, need) {
            notes.push(format!(
                "this lab needs Docker Engine API {need} or newer (e.g. healthcheck start_interval), but the engine speaks {have}; \
                 some checks may fail for that reason alone: upgrade Docker"
            ));
        }
    }
    notes
}

/// Run every check of `lab` once against the stack on `engine`.
pub async fn run_lab(engine: &Engine, lab: &Lab, opts: &RunOptions) -> Result<Report, ToolError> {
    let started = Instant::now();
    let discovery = discover(engine, lab, opts.project.as_deref(), &opts.cwd).await?;
    let depths = crate::ladder::depths(&lab.checks);
    let stack = match discovery {
        Discovery::Absent { message } => {
            let results = lab
                .checks
                .iter()
                .map(|c| {
                    skipped_why(
                        c,
                        depths[&c.id],
                        vec![],
                        None,
                        "skipped: the stack is not up".into(),
                    )
                })
                .collect();
            return Ok(Report {
                lab_id: lab.id.clone(),
                lab_title: lab.title.clone(),
                lab_book: lab.book.clone(),
                engine: engine_info(engine),
                stack: StackState::Absent { message },
                notes: notes(engine, lab),
                results,
                duration: started.elapsed(),
            });
        }
        Discovery::Found(stack) => stack,
    };

    // One inspect per container, all at once.
    let inspects = stack.units.iter().map(|(unit, c)| async move {
        (
            unit.clone(),
            container::inspect(&engine.docker, &engine.timeouts, &c.id).await,
        )
    });
    let facts: HashMap<String, Result<ContainerFacts, String>> =
        futures_util::future::join_all(inspects)
            .await
            .into_iter()
            .collect();
    let http_client = http::client(engine.timeouts.http);

    // One exec per container for all its name lookups and connects (see net::batch).
    let mut wanted: HashMap<&str, net::NetBatch> = HashMap::new();
    for c in &lab.checks {
        match &c.kind {
            Kind::Resolves { from, name } => wanted
                .entry(from.as_str())
                .or_default()
                .names
                .push(name.clone()),
            Kind::Tcp { from, host, port } => wanted
                .entry(from.as_str())
                .or_default()
                .connects
                .push((host.clone(), *port)),
            _ => {}
        }
    }
    let batches: HashMap<String, SharedBatch> = wanted
        .into_iter()
        .filter(|(_, b)| b.names.len() + b.connects.len() > 1)
        .filter_map(|(unit, b)| {
            let c = facts.get(unit)?.as_ref().ok().filter(|c| c.running)?;
            let (id, docker, t) = (c.id.clone(), engine.docker.clone(), engine.timeouts);
            let fut = async move { net::batch(&docker, &t, &id, &b).await.ok().flatten() }
                .boxed()
                .shared();
            Some((unit.to_string(), fut))
        })
        .collect();
    // Every container of each service (for scaled services and the phase 4-6 kinds).
    let replicas =
        crate::probe::ext::replicas(&engine.docker, &engine.timeouts, &stack.replicas, &facts)
            .await;
    let ctx = Ctx {
        engine,
        stack: &stack,
        facts: &facts,
        http: &http_client,
        opts,
        replicas: &replicas,
        batches: &batches,
    };
    let ctx = &ctx;
    // Each check is a shared future. Its probe starts at once, alongside the checks it needs
    // (so a healthy stack costs one probe's latency, not the ladder's depth); as soon as a need
    // is known not to have passed, the probe is dropped and the check is skipped. A check whose
    // need leaves state in the app (Kind::leaves_state) waits for it, then probes.
    let mut futs: HashMap<&str, Shared<BoxFuture<'_, CheckResult>>> = HashMap::new();
    for check in lab.checks.iter().filter(|c| !c.kind.is_drill()) {
        let needs: Vec<Shared<BoxFuture<'_, CheckResult>>> = check
            .needs
            .iter()
            .filter_map(|n| futs.get(n.as_str()).cloned())
            .collect();
        let depth = depths[&check.id];
        let after_needs = check
            .needs
            .iter()
            .filter_map(|n| lab.checks.iter().find(|c| &c.id == n))
            .any(|n| n.kind.leaves_state());
        let fut = async move {
            let blocked =
                futures_util::future::join_all(needs).map(|done| crate::ladder::blocked_by(&done));
            if after_needs {
                let blocked = blocked.await;
                return if blocked.is_empty() {
                    ctx.run_check(check, depth).await
                } else {
                    skipped(check, depth, blocked, ctx.see(check))
                };
            }
            let probe = ctx.run_check(check, depth);
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
                _ => skipped(check, depth, blocked, ctx.see(check)),
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
        let depth = depths[&check.id];
        let result = if !opts.drill {
            // Not run, so worth nothing either way: a green stack scores full marks without it.
            CheckResult {
                max_points: 0,
                ..skipped_why(
                    check,
                    depth,
                    vec![crate::report::DRILL_NOT_REQUESTED.into()],
                    ctx.see(check),
                    "skipped: a drill (it changes the stack); run with --drill to run it".into(),
                )
            }
        } else {
            let needs: Vec<CheckResult> = check
                .needs
                .iter()
                .filter_map(|n| done.get(n).cloned())
                .collect();
            let blocked = crate::ladder::blocked_by(&needs);
            if blocked.is_empty() {
                ctx.run_check(check, depth).await
            } else {
                skipped(check, depth, blocked, ctx.see(check))
            }
        };
        done.insert(check.id.clone(), result);
    }
    let results: Vec<CheckResult> = lab
        .checks
        .iter()
        .filter_map(|c| done.remove(&c.id))
        .collect();

    Ok(Report {
        lab_id: lab.id.clone(),
        lab_title: lab.title.clone(),
        lab_book: lab.book.clone(),
        engine: engine_info(engine),
        stack: StackState::Found {
            project: stack.project.clone(),
            missing: stack.missing.clone(),
        },
        notes: notes(engine, lab),
        results,
        duration: started.elapsed(),
    })
}

/// A skipped check. `because` lists the needs that did not pass, or (with `why`) other causes.
fn skipped(c: &Check, depth: usize, because: Vec<String>, see: Option<String>) -> CheckResult {
    let message = format!("skipped: needs {}", because.join(", "));
    skipped_why(c, depth, because, see, message)
}

fn skipped_why(
    c: &Check,
    depth: usize,
    because: Vec<String>,
    see: Option<String>,
    message: String,
) -> CheckResult {
    CheckResult {
        id: c.id.clone(),
        title: c.title.clone(),
        kind: c.kind.name().into(),
        status: Status::Skip,
        points: 0,
        max_points: c.points,
        message,
        evidence: vec![],
        skipped_because: because,
        hint: c.hint.clone(),
        book: c.book.clone(),
        see,
        duration: Duration::ZERO,
        depth,
    }
}

type SharedBatch = Shared<BoxFuture<'static, Option<net::NetBatchFacts>>>;

struct Ctx<'a> {
    batches: &'a HashMap<String, SharedBatch>,
    engine: &'a Engine,
    stack: &'a Stack,
    facts: &'a HashMap<String, Result<ContainerFacts, String>>,
    http: &'a reqwest::Client,
    opts: &'a RunOptions,
    replicas: &'a HashMap<String, Vec<ContainerFacts>>,
}

impl Ctx<'_> {
    fn container(&self, unit: &str) -> Result<&ContainerFacts, Observed> {
        crate::probe::facts::unit_container(self.facts, unit)
    }

    /// A container in the unit's place that is running (execs need one).
    fn running(&self, unit: &str) -> Result<&ContainerFacts, Observed> {
        crate::probe::facts::unit_running(self.facts, unit)
    }

    async fn observe(&self, kind: &Kind) -> Observed {
        let e = self.engine;
        let t = &e.timeouts;
        let one = |unit: &str| {
            self.container(unit)
                .map(|c| Observed::Container(Box::new(c.clone())))
                .unwrap_or_else(|o| o)
        };
        // A scaled service: `running` and `healthy` judge every container.
        if let Kind::Running { service } | Kind::Healthy { service } = kind {
            if let Some(all) = self.replicas.get(service).filter(|all| all.len() > 1) {
                return Observed::Ext(Box::new(crate::probe::ext_facts::ExtFacts::Replicas {
                    service: service.clone(),
                    containers: all.clone(),
                }));
            }
        }
        match kind {
            Kind::Running { service }
            | Kind::Healthy { service }
            | Kind::Published { service, .. }
            | Kind::NotPublished { service, .. }
            | Kind::Volume { service, .. }
            | Kind::Env { service, .. } => one(service),
            Kind::SharedNetwork { service, peer } => {
                match (self.container(service), self.container(peer)) {
                    (Ok(a), Ok(b)) => Observed::Pair(Box::new(a.clone()), Box::new(b.clone())),
                    (Err(o), _) | (_, Err(o)) => o,
                }
            }
            Kind::Resolves { from, name } => match self.running(from) {
                Ok(c) => match self.batched(from).await.and_then(|b| b.resolve(name)) {
                    Some(r) => Observed::Resolve(r),
                    None => match net::resolve(&e.docker, t, &c.id, name).await {
                        Ok(r) => Observed::Resolve(r),
                        Err(err) => Observed::ProbeError(err),
                    },
                },
                Err(o) => o,
            },
            Kind::Tcp { from, host, port } => match self.running(from) {
                Ok(c) => match self.batched(from).await.and_then(|b| b.tcp(host, *port)) {
                    Some(r) => Observed::Connect(r),
                    None => match net::tcp(&e.docker, t, &c.id, host, *port).await {
                        Ok(r) => Observed::Connect(r),
                        Err(err) => Observed::ProbeError(err),
                    },
                },
                Err(o) => o,
            },
            Kind::DependsOn { service, .. } => match self.container(service) {
                Ok(c) => Observed::DependsOn(compose::depends_on(c)),
                Err(o) => o,
            },
            Kind::Http { url, .. } => {
                let url = http::effective_url(url, self.opts.http_host.as_deref());
                Observed::Http(http::get(self.http, &url).await)
            }
            Kind::Postgres { service, query, .. } => match self.running(service) {
                Ok(c) => Observed::Postgres(
                    postgres::query_anywhere(&e.docker, t, &e.endpoint, c, query).await,
                ),
                Err(o) => o,
            },
            Kind::Attached { service, .. } => one(service),
            Kind::Ext(x) => {
                let env = crate::probe::ext::Env {
                    docker: &e.docker,
                    t,
                    endpoint: &e.endpoint,
                    project: self.stack.project.as_deref(),
                    facts: self.facts,
                    replicas: self.replicas,
                    http: self.http,
                    http_host: self.opts.http_host.as_deref(),
                };
                crate::probe::ext::observe(&env, x).await
            }
            // phase 1: the service's container, its image and its files (lab/image.rs)
            Kind::Image(x) => match self.container(x.units()[0]) {
                Ok(c) => crate::probe::image::observe(&e.docker, t, x, c).await,
                Err(o) => o,
            },
            Kind::Network { network, .. } => match net::network(&e.docker, t, network).await {
                Ok(n) => Observed::Network(n),
                Err(err) => Observed::ProbeError(err),
            },
            Kind::NetworkExcludes { services, .. } => {
                let mut all = Vec::new();
                for s in services {
                    match self.container(s) {
                        Ok(c) => all.push((s.clone(), Some(Box::new(c.clone())))),
                        Err(Observed::Missing(_)) => all.push((s.clone(), None)),
                        Err(o) => return o,
                    }
                }
                Observed::Many(all)
            }
            Kind::Isolated {
                network,
                service,
                via,
                name,
                port,
                timeout_secs,
            } => match self.container(service) {
                Ok(c) => {
                    let addresses: Vec<String> =
                        c.networks.iter().filter_map(|n| n.ip.clone()).collect();
                    let probe = net::Isolation {
                        network,
                        via: *via,
                        name,
                        port: *port,
                        timeout_secs: *timeout_secs,
                    };
                    match net::isolated(&e.docker, t, probe, &addresses).await {
                        Ok(i) => Observed::Isolation(i),
                        Err(err) => Observed::ProbeError(err),
                    }
                }
                Err(o) => o,
            },
        }
    }

    async fn run_check(&self, check: &Check, depth: usize) -> CheckResult {
        let started = Instant::now();
        // A service with no container: its `running` check fails (with the way to start it);
        // every other check on it is skipped, so a half-up stack is not a wall of red.
        let missing: Vec<String> = check
            .kind
            .units()
            .into_iter()
            .filter(|u| self.stack.missing.iter().any(|m| m == u))
            .map(String::from)
            .collect();
        if !missing.is_empty()
            && !matches!(
                check.kind,
                Kind::Running { .. } | Kind::NetworkExcludes { .. }
            )
        {
            let message = format!(
                "skipped: {} no container",
                missing
                    .iter()
                    .map(|m| format!("{m} has"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            );
            return skipped_why(check, depth, missing, self.see(check), message);
        }
        let observed = self.observe(&check.kind).await;
        let j = judge(&check.kind, &observed);
        let status = match (j.verdict, check.severity) {
            (Verdict::Pass, _) => Status::Pass,
            (Verdict::Unknown, _) | (Verdict::Fail, Severity::Warn) => Status::Warn,
            (Verdict::Fail, Severity::Fail) => Status::Fail,
        };
        let mut evidence = j.evidence;
        if let Observed::Missing(unit) = &observed {
            evidence.push(format!("start it: docker compose up -d {unit}"));
        }
        CheckResult {
            id: check.id.clone(),
            title: check.title.clone(),
            kind: check.kind.name().into(),
            status,
            points: if status == Status::Pass {
                check.points
            } else {
                0
            },
            max_points: check.points,
            message: j.message,
            evidence,
            skipped_because: vec![],
            hint: check.hint.clone(),
            book: check.book.clone(),
            see: self.see(check),
            duration: started.elapsed(),
            depth,
        }
    }

    /// The shared batch of `unit`'s name lookups and connects, if it has one that ran.
    async fn batched(&self, unit: &str) -> Option<net::NetBatchFacts> {
        self.batches.get(unit)?.clone().await
    }

    fn see(&self, check: &Check) -> Option<String> {
        let name = |unit: &str| {
            self.stack
                .units
                .get(unit)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| unit.to_string())
        };
        Some(crate::see::command(
            &check.kind,
            self.stack.project.as_deref(),
            &name,
        ))
    }
}

/// Re-run until every check passes or `deadline` passes. Between runs, wait for a Docker event
/// about the lab's containers (start, die, health_status, ...) or, at most, `tick`.
/// `progress` is called after every run that is not the last.
pub async fn run_until(
    engine: &Engine,
    lab: &Lab,
    opts: &RunOptions,
    deadline: Instant,
    tick: Duration,
    progress: impl FnMut(&Report),
) -> Result<Report, ToolError> {
    run_until_with(engine, lab, opts, deadline, tick, Report::ok, progress).await
}

/// [`run_until`] with another notion of done (the live tests wait for a fault's expected state).
pub async fn run_until_with(
    engine: &Engine,
    lab: &Lab,
    opts: &RunOptions,
    deadline: Instant,
    tick: Duration,
    done: impl Fn(&Report) -> bool,
    mut progress: impl FnMut(&Report),
) -> Result<Report, ToolError> {
    let mut filters = HashMap::new();
    filters.insert("type".to_string(), vec!["container".to_string()]);
    match &lab.target {
        crate::lab::Target::Compose { .. } => {
            let label = match &opts.project {
                Some(p) => format!("{}={p}", compose::LABEL_PROJECT),
                None => compose::LABEL_PROJECT.to_string(),
            };
            filters.insert("label".to_string(), vec![label]);
        }
        // plain containers: only theirs, not every container on a busy engine
        crate::lab::Target::Containers { containers, .. } => {
            filters.insert("container".to_string(), containers.clone());
        }
    }
    let options = bollard::query_parameters::EventsOptions {
        filters: Some(filters),
        ..Default::default()
    };
    let mut events = engine.docker.events(Some(options.clone())).boxed();
    loop {
        let report = run_lab(engine, lab, opts).await?;
        let now = Instant::now();
        if done(&report) || now >= deadline {
            return Ok(report);
        }
        progress(&report);
        let wait = tick.min(deadline - now);
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        // Wait for a relevant event (our own execs are events too: ignore them).
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                ev = events.next() => match ev {
                    Some(Ok(ev)) => {
                        let action = ev.action.unwrap_or_default();
                        if action.starts_with("exec_") || action == "attach" || action == "resize" {
                            continue;
                        }
                        // let a burst of events (a whole `up`) settle a little
                        tokio::time::sleep(Duration::from_millis(150)).await;
                        break;
                    }
                    Some(Err(_)) | None => {
                        // the stream broke: fall back to the tick, and reconnect for next time
                        (&mut sleep).await;
                        events = engine.docker.events(Some(options.clone())).boxed();
                        break;
                    }
                }
            }
        }
    }
}

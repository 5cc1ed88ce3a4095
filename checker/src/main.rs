//! The `labcheck` command: arguments in, library call, exit code out.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use labcheck::lab::{lint, Lab, Target};
use labcheck::probe::Timeouts;
use labcheck::report::{self, Format, RenderOptions};
use labcheck::{labs_dir, target, RunOptions, ToolError};

/// Check your Compose Lab stack: the debugging ladder, first broken step first.
///
/// Exit codes: 0 all checks pass (warnings allowed), 1 a check failed or the stack is not up,
/// 2 labcheck could not run (no Docker daemon, unknown lab, malformed lab.toml, ambiguous project).
#[derive(Parser, Debug)]
// Not `args_conflicts_with_subcommands`: clap then stops looking for a subcommand after ANY
// argument, the global --lab-dir included, so `labcheck --lab-dir D watch phase-3` read `watch`
// as the lab (issue #13). [`check_args_before`] keeps the conflict for every other argument.
#[command(
    name = "labcheck",
    version,
    arg_required_else_help = true,
    override_usage = "labcheck [OPTIONS] [LAB]\n       labcheck <COMMAND>"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// The lab to check (e.g. phase-3); see `labcheck list`.
    lab: Option<String>,

    #[command(flatten)]
    run: RunArgs,

    /// The labs folder (default: $LABCHECK_LABS, else the repo's labs/ found from the binary or the current folder).
    #[arg(long, global = true, value_name = "DIR")]
    lab_dir: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The compose project to check (default: the project of this folder, else the one that has the lab's services).
    #[arg(long, short = 'p')]
    project: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,

    /// Re-check until everything passes or this much time has passed (e.g. 30s, 2m, 500ms).
    #[arg(long, value_name = "DURATION", value_parser = labcheck::parse_duration)]
    wait: Option<Duration>,

    /// Show passing details, probe evidence and timings.
    #[arg(short, long)]
    verbose: bool,

    #[command(flatten)]
    engine: EngineArgs,

    /// Also run the drills: checks that CHANGE the stack (kill or break a container, or remove
    /// and recreate one as `docker compose down` and `down -v` would, which DELETES the
    /// project's volumes and data); each puts the stack back afterwards (a saved copy of the
    /// data, a container started again), or says it could not.
    /// Without it they are reported as skipped.
    #[arg(long)]
    drill: bool,

    /// Judge against the lab's exact solution contract: every failed check is a failure
    /// (hardening is not a warning, a config that differs from the solution is not a note).
    #[arg(long)]
    strict: bool,
    /// Your name for one of the lab's services, when you named it otherwise and labcheck cannot
    /// tell which it is (repeatable): `--service web=app` checks your `app` as the lab's web.
    #[arg(long = "service", value_name = "LAB=YOURS", value_parser = parse_service)]
    services: Vec<(String, String)>,
}

/// `web=app` -> ("web", "app").
fn parse_service(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((l, y)) if !l.trim().is_empty() && !y.trim().is_empty() => {
            Ok((l.trim().to_string(), y.trim().to_string()))
        }
        _ => Err(format!(
            "`{s}` is not LAB=YOURS, e.g. `--service db=database` (the lab's service, then yours)"
        )),
    }
}

/// Which engine: the same flags for `labcheck <lab>` and `labcheck doctor`.
#[derive(clap::Args, Debug)]
struct EngineArgs {
    /// The Docker engine to check, as DOCKER_HOST takes it: unix:///path, tcp://host:port, ssh://user@host (default: $DOCKER_HOST, else the docker CLI's context, else the local socket).
    #[arg(long, short = 'H', value_name = "URL", conflicts_with = "context")]
    host: Option<String>,

    /// The docker CLI context to use (default: $DOCKER_CONTEXT, else the current context of `docker context use`).
    #[arg(long, short = 'c', value_name = "NAME")]
    context: Option<String>,
}

impl EngineArgs {
    fn asked(&self) -> target::Asked {
        target::Asked::from_env(self.host.clone(), self.context.clone())
    }
}

#[derive(clap::Args, Debug)]
struct DoctorArgs {
    /// Also check what this lab needs (ports, images, versions, its project); without it, the engine alone.
    lab: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: DoctorFormat,

    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(clap::Args, Debug)]
struct WatchArgs {
    /// The lab to watch (e.g. phase-3).
    lab: String,

    /// The compose project to check (default: the project of this folder, else the one that has the lab's services).
    #[arg(long, short = 'p')]
    project: Option<String>,

    /// The folder whose files to watch (default: the project's folder, else the current one).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,

    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(clap::Args, Debug)]
struct HintArgs {
    /// The lab (e.g. phase-3).
    lab: String,

    /// A check of the lab (see `labcheck explain <lab>`); default: the first broken step.
    check: Option<String>,

    /// Show this level directly: 1 nudge, 2 the idea, 3 the command to see it, 4 the fix.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=4), conflicts_with = "reset")]
    level: Option<u8>,

    /// Forget the levels revealed (for the named check, else for every check of the lab).
    #[arg(long)]
    reset: bool,

    /// The compose project to check (as for `labcheck <lab>`).
    #[arg(long, short = 'p')]
    project: Option<String>,

    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum DoctorFormat {
    Human,
    Json,
}

#[derive(clap::Args, Debug)]
struct ProgressArgs {
    /// Output format (json: the progress file's own document).
    #[arg(long, value_enum, default_value = "human")]
    format: DoctorFormat,

    /// Write a copy of the progress file to FILE, to hand in.
    #[arg(long, value_name = "FILE")]
    export: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the labs.
    List,
    /// Print a lab's ladder without running it.
    Explain { lab: String },
    /// Validate every labs/*/lab.toml (and the book's anchors when the book is there).
    Lint,
    /// Diagnose this machine's Docker setup before the stack: the engine, and with a lab, the ports, images, disk and versions it needs.
    ///
    /// Exit codes: 0 nothing blocks the lab (warnings allowed), 1 something does (no engine
    /// included), 2 doctor could not run (unknown lab, malformed lab.toml).
    Doctor(DoctorArgs),
    /// Grade a class: every learner's engine from a roster, into a gradebook (see examples/README.md).
    Grade(labcheck::grade::GradeArgs),
    /// Your progress over the labs: runs, first green, time to green, drills (recorded by every `labcheck <lab>` run).
    Progress(ProgressArgs),
    /// Start a lab over: take down its stack, back up your folder, lay down the starter (or the solution).
    Reset(labcheck::reset::cli::ResetArgs),
    /// Watch a lab: the ladder, re-checked when Docker reports an event for the stack or a file
    /// of the lab changes, redrawn in place. Ctrl-C quits with the last verdict's exit code.
    Watch(WatchArgs),
    /// A hint, one level more each time: a nudge, the idea, the command to see it, the fix.
    ///
    /// Without a check, for the first broken step (it runs the lab's checks); with one, for that
    /// check (no engine needed). How far you got is kept in hints.json in $XDG_STATE_HOME/labcheck
    /// (default ~/.local/state/labcheck).
    Hint(HintArgs),
    /// Run a lab's checks (the same as `labcheck <lab>`).
    #[command(hide = true)]
    Check {
        lab: String,
        #[command(flatten)]
        run: RunArgs,
    },
}

fn color_on(stream_is_tty: bool) -> bool {
    stream_is_tty
        && std::env::var_os("NO_COLOR").map_or(true, |v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// The top-level arguments of `labcheck <lab>` (the lab, --project, --strict, ...) given with a
/// subcommand, where they would be silently ignored: a usage error, as clap words it. The
/// global ones (--lab-dir) belong to every subcommand and may come before it.
fn check_args_before(cmd: &mut clap::Command, m: &clap::ArgMatches) -> Result<(), clap::Error> {
    let Some((sub, _)) = m.subcommand() else {
        return Ok(());
    };
    let given: Vec<String> = cmd
        .get_arguments()
        .filter(|a| !a.is_global_set())
        .filter(|a| {
            m.value_source(a.get_id().as_str()) == Some(clap::parser::ValueSource::CommandLine)
        })
        .map(|a| format!("'{a}'"))
        .collect();
    if given.is_empty() {
        return Ok(());
    }
    Err(cmd.error(
        clap::error::ErrorKind::ArgumentConflict,
        format!(
            "the subcommand '{sub}' cannot be used with {}",
            given.join(", ")
        ),
    ))
}

fn parse_cli() -> Cli {
    let mut cmd = Cli::command();
    let m = cmd.get_matches_mut();
    check_args_before(&mut cmd, &m)
        .and_then(|()| Cli::from_arg_matches(&m))
        .unwrap_or_else(|e| e.exit())
}

fn main() -> ExitCode {
    let cli = parse_cli();
    match real_main(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("labcheck: {e}");
            ExitCode::from(2)
        }
    }
}

fn real_main(cli: Cli) -> Result<u8, ToolError> {
    let labs = || labs_dir::find(cli.lab_dir.as_deref());
    match (cli.command, cli.lab) {
        (Some(Command::List), _) => list(&labs()?),
        (Some(Command::Explain { lab }), _) => {
            let lab = labs_dir::load(&labs()?, &lab)?;
            print!("{}", explain(&lab, &book_url()));
            Ok(0)
        }
        (Some(Command::Lint), _) => lint_cmd(&labs()?),
        (Some(Command::Check { lab, run }), _) => check(&labs()?, &lab, &run),
        (Some(Command::Watch(args)), _) => watch(&labs()?, &args),
        (Some(Command::Doctor(args)), _) => doctor(cli.lab_dir.as_deref(), &args),
        (Some(Command::Grade(args)), _) => labcheck::grade::cli::run(&labs()?, &args),
        (Some(Command::Progress(args)), _) => progress(cli.lab_dir.as_deref(), &args),
        (Some(Command::Reset(args)), _) => labcheck::reset::cli::run(&labs()?, &args),
        (Some(Command::Hint(args)), _) => hint(&labs()?, &args),
        (None, Some(lab)) => check(&labs()?, &lab, &cli.run),
        (None, None) => unreachable!("clap requires a lab or a command"),
    }
}

fn book_url() -> String {
    std::env::var("LABCHECK_BOOK_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "http://localhost:3000/".into())
}

fn list(dir: &std::path::Path) -> Result<u8, ToolError> {
    for (folder, lab) in labs_dir::list(dir)? {
        match lab {
            Ok(lab) => println!(
                "{:<10} {}  ({} checks)",
                lab.id,
                lab.title,
                lab.checks.len()
            ),
            // listed, not fatal: `labcheck lint` shows every problem
            Err(e) => println!(
                "{folder:<10} (cannot be checked: {})",
                e.to_string().lines().next().unwrap_or_default()
            ),
        }
    }
    Ok(0)
}

fn explain(lab: &Lab, book: &str) -> String {
    let link = |rel: &str| format!("{}/{}", book.trim_end_matches('/'), rel);
    let mut out = format!("{}: {}\n", lab.id, lab.title);
    match &lab.target {
        Target::Compose { services } => out.push_str(&format!(
            "target: a compose project with the services {}\n",
            services.join(", ")
        )),
        Target::Containers {
            containers,
            networks,
        } => {
            out.push_str(&format!("target: the containers {}", containers.join(", ")));
            if !networks.is_empty() {
                out.push_str(&format!(" and the networks {}", networks.join(", ")));
            }
            out.push('\n');
        }
    }
    if let Some(b) = &lab.book {
        out.push_str(&format!("book: {}\n", link(b)));
    }
    if let Some(api) = &lab.requires_api {
        out.push_str(&format!("needs Docker Engine API {api} or newer\n"));
    }
    out.push_str("\nThe ladder (each step runs only when the steps it needs pass; a diagnosis fails only\nwhen a behaviour it explains fails, and hardening only warns):\n");
    let depths = labcheck::lab::ladder::depths(&lab.checks);
    let total: u32 = lab.checks.iter().map(|c| c.points).sum();
    for (i, c) in lab.checks.iter().enumerate() {
        let indent = "  ".repeat(depths[&c.id]);
        let warn = match (c.role, c.severity) {
            (labcheck::lab::Role::Hardening, _) => ", hardening: warns".to_string(),
            (labcheck::lab::Role::Diagnosis, _) => {
                format!(", diagnosis of {}", c.explains.join(", "))
            }
            (_, labcheck::lab::Severity::Warn) => ", warning only".to_string(),
            _ => String::new(),
        };
        out.push_str(&format!(
            "{:>3}. {indent}{}  {} [{}, {} pt{}{warn}]\n",
            i + 1,
            c.id,
            c.title,
            c.kind.name(),
            c.points,
            if c.points == 1 { "" } else { "s" }
        ));
        out.push_str(&format!("     {indent}   checks: {}\n", c.kind.describe()));
        if !c.needs.is_empty() {
            out.push_str(&format!("     {indent}   needs: {}\n", c.needs.join(", ")));
        }
        for level in labcheck::lab::Level::ALL {
            if let Some(text) = c.hints.get(level) {
                out.push_str(&format!("     {indent}   {}: {text}\n", level.key()));
            }
        }
        if let Some(b) = &c.book {
            out.push_str(&format!("     {indent}   read: {}\n", link(b)));
        }
    }
    out.push_str(&format!("\n{} checks, {total} points\n", lab.checks.len()));
    out
}

fn lint_cmd(dir: &std::path::Path) -> Result<u8, ToolError> {
    let book = labs_dir::book_src(dir);
    let report = lint::lint(dir, book.as_deref())
        .map_err(|_| ToolError::NoLabs(dir.display().to_string()))?;
    for p in &report.problems {
        println!("{p}");
    }
    let book_note = match &report.book_checked {
        Some(b) => format!("book anchors checked in {}", b.display()),
        None => "no book found, anchors not checked".to_string(),
    };
    if report.labs.is_empty() && report.problems.is_empty() {
        return Err(ToolError::NoLabs(dir.display().to_string()));
    }
    println!(
        "{} lab(s) ({}), {} problem(s); {book_note}",
        report.labs.len(),
        report.labs.join(", "),
        report.problems.len()
    );
    Ok(if report.problems.is_empty() { 0 } else { 1 })
}

fn check(dir: &std::path::Path, id: &str, args: &RunArgs) -> Result<u8, ToolError> {
    let lab = labs_dir::load(dir, id)?;
    let drills: Vec<&str> = lab
        .checks
        .iter()
        .filter(|c| c.kind.is_drill())
        .map(|c| c.id.as_str())
        .collect();
    if args.drill && !drills.is_empty() {
        // Said before anything changes: what the drills do, and the way back if one cannot undo it.
        eprintln!(
            "labcheck: the drills ({}) change your stack, then put it back as it was; if one cannot, its result says so, and `labcheck reset {}` starts the lab over",
            drills.join(", "),
            lab.id
        );
    }
    let rt = runtime()?;
    let mut opts = RunOptions {
        project: args.project.clone(),
        drill: args.drill,
        strict: args.strict,
        services: args.services.clone(),
        ..RunOptions::here()
    };
    let report = rt.block_on(async {
        let engine = connect(&lab, &args.engine, &mut opts).await?;
        match args.wait {
            None => labcheck::run_lab(&engine, &lab, &opts).await,
            Some(wait) => {
                let started = Instant::now();
                let progress = Progress::new(wait);
                let r = labcheck::run_until(
                    &engine,
                    &lab,
                    &opts,
                    started + wait,
                    Duration::from_secs(2),
                    |r| progress.update(r, started),
                )
                .await;
                progress.finish();
                r
            }
        }
    })?;
    let opts = RenderOptions {
        verbose: args.verbose,
        color: args.format == Format::Human && color_on(std::io::stdout().is_terminal()),
        book_url: book_url(),
        timings: true,
    };
    print!("{}", report::render(&report, args.format, &opts));
    for w in labcheck::progress::record_report(&lab, &report) {
        eprintln!("labcheck: warning: {w}");
    }
    Ok(report.exit_code())
}

fn progress(lab_dir: Option<&std::path::Path>, args: &ProgressArgs) -> Result<u8, ToolError> {
    use labcheck::progress::{store::Store, view};
    let store = Store::default_place().map_err(ToolError::Progress)?;
    let loaded = store.load().map_err(ToolError::Progress)?;
    if let Some(k) = &loaded.kept_aside {
        eprintln!("labcheck: warning: {k}");
    }
    let p = &loaded.progress;
    if let Some(to) = &args.export {
        view::export(p, to, std::time::SystemTime::now()).map_err(ToolError::Progress)?;
        eprintln!(
            "labcheck: wrote your progress on {} lab(s) to {}",
            p.labs.len(),
            to.display()
        );
        return Ok(0);
    }
    match args.format {
        DoctorFormat::Json => print!("{}", view::json(p)),
        DoctorFormat::Human => {
            // Without a labs folder, the table shows the labs the file knows.
            let rows: Vec<view::LabRow> = labs_dir::find(lab_dir)
                .and_then(|d| labs_dir::list(&d))
                .map(|l| {
                    l.into_iter()
                        .filter_map(|(_, lab)| lab.ok())
                        .map(|lab| view::LabRow {
                            drills: lab.checks.iter().filter(|c| c.kind.is_drill()).count(),
                            id: lab.id,
                        })
                        .collect()
                })
                .unwrap_or_default();
            print!("{}", view::table(p, &rows, &store.path()));
        }
    }
    Ok(0)
}

/// The engine for a lab's run; `opts.http_host` becomes where its HTTP ports are.
async fn connect(
    lab: &Lab,
    engine: &EngineArgs,
    opts: &mut RunOptions,
) -> Result<target::Engine, ToolError> {
    // An ssh tunnel forwards the lab's localhost HTTP ports, unless LABCHECK_HTTP_HOST says
    // where they are.
    let ports = match opts.http_host {
        None => lab.host_ports(),
        Some(_) => vec![],
    };
    let conn = target::connect_cli(&engine.asked(), Timeouts::default(), &ports).await?;
    opts.http_host = opts.http_host.take().or(conn.http_host);
    Ok(conn.engine)
}

fn watch(dir: &std::path::Path, args: &WatchArgs) -> Result<u8, ToolError> {
    let lab = labs_dir::load(dir, &args.lab)?;
    let mut run = RunOptions {
        project: args.project.clone(),
        ..RunOptions::here()
    };
    let tty = std::io::stdout().is_terminal();
    runtime()?.block_on(async {
        let engine = connect(&lab, &args.engine, &mut run).await?;
        let opts = labcheck::watch::WatchOptions {
            run,
            tty,
            render: RenderOptions {
                verbose: false,
                color: color_on(tty),
                book_url: book_url(),
                timings: false,
            },
            settle: Default::default(),
            enter: std::io::stdin().is_terminal(),
            dir: args.dir.clone(),
        };
        labcheck::watch::watch(&engine, &lab, &opts).await
    })
}

fn hint(dir: &std::path::Path, args: &HintArgs) -> Result<u8, ToolError> {
    use labcheck::hint::{self, state, Subject};
    let lab = labs_dir::load(dir, &args.lab)?;
    let named = args
        .check
        .as_deref()
        .map(|id| hint::named(&lab, id))
        .transpose()?;
    let state_dir = state::state_dir().ok_or_else(|| {
        ToolError::State("no folder to remember hints in: set XDG_STATE_HOME or HOME".to_string())
    })?;
    if args.reset {
        print!("{}", hint::reset(&state_dir, &lab, named)?);
        return Ok(0);
    }
    let level = args.level.and_then(labcheck::lab::Level::from_number);
    // A named check needs no engine; otherwise the first broken step of a run.
    let report;
    let subject = match named {
        Some(c) => Subject::Named(c),
        None => {
            let mut opts = RunOptions {
                project: args.project.clone(),
                ..RunOptions::here()
            };
            report = runtime()?.block_on(async {
                let engine = connect(&lab, &args.engine, &mut opts).await?;
                labcheck::run_lab(&engine, &lab, &opts).await
            })?;
            match report.first_broken() {
                Some(r) => Subject::FirstBroken(hint::named(&lab, &r.id)?, r),
                None => {
                    let (text, code) = hint::nothing_broken(&lab, &report);
                    print!("{text}");
                    return Ok(code);
                }
            }
        }
    };
    let check = match &subject {
        Subject::Named(c) | Subject::FirstBroken(c, _) => *c,
    };
    let (shown, note) = hint::reveal(&state_dir, &lab, check, level)?;
    if let Some(n) = note {
        eprintln!("labcheck: note: {n}");
    }
    print!("{}", hint::render(&lab, &subject, &shown, &book_url()));
    Ok(0)
}

fn runtime() -> Result<tokio::runtime::Runtime, ToolError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ToolError::Api(e.to_string()))
}

fn doctor(lab_dir: Option<&std::path::Path>, args: &DoctorArgs) -> Result<u8, ToolError> {
    // Without a lab, the labs folder only tells which images the offline kit builds.
    let (lab, labs) = match &args.lab {
        Some(id) => {
            let labs = labs_dir::find(lab_dir)?;
            (Some(labs_dir::load(&labs, id)?), Some(labs))
        }
        None => (None, labs_dir::find(lab_dir).ok()),
    };
    let rt = runtime()?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let d = rt.block_on(labcheck::doctor::examine(
        &args.engine.asked(),
        lab.as_ref(),
        &cwd,
        labs.as_deref(),
        Timeouts::default(),
    ));
    match args.format {
        DoctorFormat::Human => print!(
            "{}",
            labcheck::doctor::human::render(&d, color_on(std::io::stdout().is_terminal()))
        ),
        DoctorFormat::Json => print!("{}", labcheck::doctor::wire::render(&d)),
    }
    Ok(d.exit_code())
}

/// `--wait` progress on stderr: a spinner on a terminal, a line per re-check otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    wait: Duration,
}

impl Progress {
    fn new(wait: Duration) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.enable_steady_tick(Duration::from_millis(120));
            b.set_message("checking…");
            b
        });
        Progress { bar, wait }
    }

    fn update(&self, r: &labcheck::Report, started: Instant) {
        let s = r.summary();
        let left = self.wait.saturating_sub(started.elapsed()).as_secs();
        let waiting = match r.first_broken() {
            Some(b) => format!("waiting for {} ({})", b.id, b.message),
            None if matches!(r.stack, labcheck::report::StackState::Absent { .. }) => {
                "waiting for the stack to come up".into()
            }
            None => "waiting".into(),
        };
        let line = format!("{}/{} passing, {waiting}; {left}s left", s.passed, s.total);
        match &self.bar {
            Some(b) => b.set_message(line),
            None => eprintln!("labcheck: {line}"),
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

//! `labcheck grade <lab> --roster class.toml --out grades/`: arguments, progress on stderr,
//! files, the summary on stdout.
//!
//! Exit codes: 0 every learner was graded (whatever their points), 1 some learners could not
//! be graded (unreachable engine, time limit, ambiguous project), 2 labcheck could not run
//! (unknown lab, bad roster, output folder not writable).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::{output, Event, GradeOptions, RowStatus};
use crate::error::ToolError;
use crate::labs_dir;

/// Grade a class: run a lab against every learner's Docker engine listed in a roster.
#[derive(clap::Args, Debug, Clone)]
pub struct GradeArgs {
    /// The lab to grade (e.g. phase-3).
    pub lab: String,

    /// The roster (TOML): [[learner]] tables with id and endpoint (ssh://, tcp:// with tls, unix://) or context.
    #[arg(long, value_name = "FILE")]
    pub roster: PathBuf,

    /// Where to write gradebook.csv, grade.json and junit/<learner>.xml.
    #[arg(long, value_name = "DIR", default_value = "grades")]
    pub out: PathBuf,

    /// Learners graded at once.
    #[arg(long, short = 'j', default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,

    /// Time limit per learner, connecting included (e.g. 30s, 1m).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_limit)]
    pub timeout: Duration,
    /// Grade against the lab's exact solution contract: every failed check is a failure
    /// (also `strict = true` under the roster's [grading]).
    #[arg(long)]
    pub strict: bool,
}

/// A per-learner limit: a duration above 0 and at most an hour.
fn parse_limit(s: &str) -> Result<Duration, String> {
    let d = crate::parse_duration(s)?;
    if d.is_zero() || d > Duration::from_secs(3600) {
        return Err(format!(
            "`{}`: the limit must be more than 0 and at most an hour",
            s.trim()
        ));
    }
    Ok(d)
}

/// Run the subcommand; returns the exit code.
pub fn run(labs: &Path, args: &GradeArgs) -> Result<u8, ToolError> {
    let lab = labs_dir::load(labs, &args.lab)?;
    let mut roster =
        super::roster::load(&args.roster).map_err(|e| ToolError::Api(format!("roster {e}")))?;
    roster.rules.strict |= args.strict;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| ToolError::Api(format!("cannot create {}: {e}", args.out.display())))?;
    let opts = GradeOptions {
        jobs: usize::from(args.jobs),
        timeout: args.timeout,
    };
    let total = roster.learners.len();

    let tty = std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if tty {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} graded, {msg} [{elapsed}]",
            )
            .expect("a valid progress template")
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let in_flight = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let progress = |ev: Event<'_>| match ev {
        Event::Started(_) => {
            let n = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            bar.set_message(format!("{n} in flight"));
        }
        Event::Finished(row) => {
            let n = in_flight.fetch_sub(1, Ordering::SeqCst) - 1;
            let d = done.fetch_add(1, Ordering::SeqCst) + 1;
            let line = format!(
                "{d}/{total} {} {} {}/{} in {:.1}s{}",
                row.learner.id,
                row.status.as_str(),
                row.points,
                row.max_points,
                row.duration.as_secs_f64(),
                row.error
                    .as_deref()
                    .map(|e| format!(
                        ": {}",
                        e.lines()
                            .next()
                            .unwrap_or_default()
                            .chars()
                            .take(120)
                            .collect::<String>()
                    ))
                    .unwrap_or_default()
            );
            if tty {
                bar.println(line);
                bar.inc(1);
                bar.set_message(format!("{n} in flight"));
            } else {
                eprintln!("labcheck grade: {line} ({n} in flight)");
            }
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ToolError::Api(e.to_string()))?;
    let book = rt.block_on(super::grade(&lab, &roster, &opts, &progress));
    bar.finish_and_clear();
    // Leave the runtime without waiting on anything a timed-out learner left behind.
    rt.shutdown_timeout(Duration::from_millis(500));

    output::write_all(&book, &args.out).map_err(|e| {
        ToolError::Api(format!(
            "cannot write the gradebook into {}: {e}",
            args.out.display()
        ))
    })?;
    print!("{}", output::summary(&book));
    println!(
        "\nwritten: {0}/gradebook.csv, {0}/grade.json, {0}/junit/<learner>.xml",
        args.out.display()
    );
    Ok(if book.rows.iter().any(|r| r.status == RowStatus::Error) {
        1
    } else {
        0
    })
}

//! `labcheck grade <lab> --roster class.toml --out grades/`: arguments, progress on stderr,
//! files, the summary on stdout.
//!
//! Exit codes: 0 every learner was graded (whatever their points), 1 some learners could not
//! be graded (unreachable engine, time limit, ambiguous project), 2 labcheck could not run
//! (unknown lab, bad roster, output folder not writable, `--only` with nothing to keep).
//! With `--only`, the codes speak of the learners regraded.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::live::Display;
use super::{dashboard, only, output, read, Event, GradeOptions, RowStatus};
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

    /// Where to write gradebook.csv, grade.json, junit/<learner>.xml, index.html (the class
    /// dashboard) and history.jsonl (one line per grading).
    #[arg(long, value_name = "DIR", default_value = "grades")]
    pub out: PathBuf,

    /// Regrade only these learners (ids, comma-separated) and keep the other rows of the
    /// previous grading in --out.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub only: Vec<String>,

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
        super::roster::load(&args.roster).map_err(|e| ToolError::Grade(format!("roster {e}")))?;
    roster.rules.strict |= args.strict;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| ToolError::Grade(format!("cannot create {}: {e}", args.out.display())))?;
    let regrade = (!args.only.is_empty()).then_some(args.only.as_slice());
    let previous = match read::load(&args.out) {
        Ok(p) => p,
        // Without --only an unreadable grade.json is replaced; with it, nothing can be kept.
        Err(e) if regrade.is_some() => {
            return Err(ToolError::Grade(format!(
                "--only keeps the rows of the previous grading, and it cannot be read: {e}"
            )))
        }
        Err(e) => {
            eprintln!(
                "labcheck grade: the previous grading is not readable and will be replaced ({e})"
            );
            None
        }
    };
    let (to_grade, dropped) = match regrade {
        None => (roster.clone(), Vec::new()),
        Some(ids) => only::plan(
            &roster,
            ids,
            previous.as_ref().map(|p| &p.0),
            &lab.id,
            &super::lab_sha256(&lab),
            roster.rules.strict,
            &args.out,
        )
        .map_err(ToolError::Grade)?,
    };
    if !dropped.is_empty() {
        eprintln!(
            "labcheck grade: no longer in the roster, left out of the gradebook: {}",
            dropped.join(", ")
        );
    }
    let opts = GradeOptions {
        jobs: usize::from(args.jobs),
        timeout: args.timeout,
    };

    let display = Display::new(to_grade.learners.len(), std::io::stderr().is_terminal());
    let progress = |ev: Event<'_>| display.event(ev);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ToolError::Api(e.to_string()))?;
    let book = rt.block_on(super::grade(&lab, &to_grade, &opts, &progress));
    display.finish();
    // Leave the runtime without waiting on anything a timed-out learner left behind.
    rt.shutdown_timeout(Duration::from_millis(500));
    let unreached = book.rows.iter().any(|r| r.status == RowStatus::Error);
    let book = match (&previous, regrade) {
        (Some((doc, json)), Some(_)) => only::merge(&roster, book, doc, json),
        _ => book,
    };

    let cannot_write = |e: String| {
        ToolError::Grade(format!(
            "cannot write the gradebook into {}: {e}",
            args.out.display()
        ))
    };
    output::write_all(&book, &args.out).map_err(|e| cannot_write(e.to_string()))?;
    dashboard::write(&args.out, previous.as_ref().map(|p| &p.0), regrade).map_err(cannot_write)?;
    print!("{}", output::summary(&book));
    if let Some(ids) = regrade {
        println!(
            "\nregraded: {}; the {} other row(s) kept from the previous grading",
            ids.join(", "),
            book.rows.len() - to_grade.learners.len()
        );
    }
    println!(
        "\nwritten: {0}/gradebook.csv, {0}/grade.json, {0}/junit/<learner>.xml, {0}/index.html, {0}/history.jsonl",
        args.out.display()
    );
    Ok(u8::from(unreached))
}

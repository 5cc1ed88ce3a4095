//! `index.html` in the `--out` folder: the class at a glance, one static file (inline CSS, no
//! script, no request outside the file), made from grade.json as written and history.jsonl.
//!
//! - where the class is stuck: each check's pass rate, lowest first, with who stops there;
//! - learners x checks: a heat map (pass, warn, fail, skipped, unreachable), each cell titled
//!   with its message and hint; per learner the points, the move since the previous grading,
//!   the first broken check and the time to green; filters by status (CSS `:checked`, no JS);
//! - the earlier gradings of the folder, and who moved since the previous one.
//!
//! Every string comes through maud's auto-escaping; [`inert`] also makes control characters
//! (terminal escape codes a learner's container may print) visible instead of raw.

mod page;

use std::path::Path;

use super::history::{self, Entry};
use super::read::{self, Doc, DocLearner};

pub use page::render;

/// After grade.json is written into `dir`: record the grading in history.jsonl and write
/// index.html from the two. `previous` is the grade.json this run replaced, if any.
pub fn write(dir: &Path, previous: Option<&Doc>, only: Option<&[String]>) -> Result<(), String> {
    let (doc, _) = read::load(dir)?.ok_or("grade.json was not written")?;
    history::record(dir, previous, &history::entry(&doc, only))
        .map_err(|e| format!("{}: {e}", history::FILE))?;
    let (runs, unreadable) = history::read(dir);
    if unreadable > 0 {
        eprintln!(
            "labcheck grade: {unreadable} line(s) of {} could not be read and are left out of index.html",
            dir.join(history::FILE).display()
        );
    }
    std::fs::write(dir.join("index.html"), render(&doc, &runs))
        .map_err(|e| format!("index.html: {e}"))
}

/// What a heat-map cell shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Pass,
    Warn,
    Fail,
    Skip,
    Unreachable,
}

impl Cell {
    pub fn of(learner_status: &str, check_status: &str) -> Cell {
        if learner_status == "error" {
            return Cell::Unreachable;
        }
        match check_status {
            "pass" => Cell::Pass,
            "warn" => Cell::Warn,
            "fail" => Cell::Fail,
            "error" => Cell::Unreachable,
            _ => Cell::Skip,
        }
    }

    /// The CSS class (short: a class of 100 x 40 has 4000 cells).
    pub fn class(self) -> &'static str {
        match self {
            Cell::Pass => "p",
            Cell::Warn => "w",
            Cell::Fail => "f",
            Cell::Skip => "s",
            Cell::Unreachable => "u",
        }
    }

    /// A symbol as well as a colour, for colour-blind readers and print.
    pub fn symbol(self) -> &'static str {
        match self {
            Cell::Pass => "✓",
            Cell::Warn => "!",
            Cell::Fail => "✗",
            Cell::Skip => "·",
            Cell::Unreachable => "?",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Cell::Pass => "pass",
            Cell::Warn => "warning",
            Cell::Fail => "fail",
            Cell::Skip => "skipped",
            Cell::Unreachable => "unreachable",
        }
    }
}

/// Text from a learner's stack, made inert for the page: control characters (ESC and the
/// like) are shown as `\u{1b}`, so nothing invisible reaches the reader. HTML escaping is
/// maud's.
pub fn inert(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let shown: Vec<char> = if c.is_control() && c != '\n' && c != '\t' {
                c.escape_unicode().collect()
            } else {
                vec![c]
            };
            shown
        })
        .collect()
}

/// A learner's move since the previous grading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Move {
    /// Not in the previous grading (or there is none).
    New,
    Same,
    /// Points gained (or lost, negative), and the status before.
    Moved {
        delta: i64,
        before: String,
    },
}

pub fn move_of(l: &DocLearner, previous: Option<&Entry>) -> Move {
    let Some(before) = previous.and_then(|p| p.learner(&l.id)) else {
        return Move::New;
    };
    let delta = i64::from(l.points) - i64::from(before.points);
    if delta == 0 && before.status == l.status {
        Move::Same
    } else {
        Move::Moved {
            delta,
            before: format!("{} {}/{}", before.status, before.points, before.max_points),
        }
    }
}

/// One check's line in "where the class is stuck".
#[derive(Debug, Clone, PartialEq)]
pub struct Rate<'a> {
    pub id: &'a str,
    pub points: u32,
    pub earned: usize,
    pub failed: usize,
    pub skipped: usize,
    pub graded: usize,
    /// Learners with a stack whose first broken check this is.
    pub stuck: Vec<&'a str>,
}

impl Rate<'_> {
    /// The pass rate; None when no learner's stack was found.
    pub fn rate(&self) -> Option<f64> {
        (self.graded > 0).then(|| self.earned as f64 / self.graded as f64)
    }
}

/// The checks, lowest pass rate first (then most learners stuck there, then ladder order);
/// checks nobody could be graded on come last.
pub fn rates(doc: &Doc) -> Vec<Rate<'_>> {
    let mut rates: Vec<(usize, Rate<'_>)> = doc
        .summary
        .checks
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let stuck = doc
                .learners
                .iter()
                .filter(|l| l.status == "ok" || l.status == "failing")
                .filter(|l| first_broken(l) == Some(s.id.as_str()))
                .map(|l| l.id.as_str())
                .collect();
            let r = Rate {
                id: &s.id,
                points: s.points,
                earned: s.earned,
                failed: s.failed,
                skipped: s.skipped,
                graded: s.graded,
                stuck,
            };
            (i, r)
        })
        .collect();
    rates.sort_by(|(ia, a), (ib, b)| {
        let key = |r: &Rate<'_>| r.rate().unwrap_or(f64::INFINITY);
        key(a)
            .total_cmp(&key(b))
            .then(b.stuck.len().cmp(&a.stuck.len()))
            .then(ia.cmp(ib))
    });
    rates.into_iter().map(|(_, r)| r).collect()
}

/// The first check of the ladder that broke, as the learner's report says.
pub fn first_broken(l: &DocLearner) -> Option<&str> {
    l.report.as_ref().and_then(|r| r.first_broken.as_deref())
}

#[cfg(test)]
mod tests;

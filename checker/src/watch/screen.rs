//! What watch shows: on a terminal, one frame redrawn in place (the report, then what changed,
//! the run history and what is watched); otherwise a plain report per run.

use std::collections::VecDeque;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

use crossterm::cursor::MoveTo;
use crossterm::terminal::{Clear, ClearType};

use super::changes::{ago, Change, Changes};
use crate::error::ToolError;
use crate::report::{human, RenderOptions, Report};

/// How many run times the history line keeps.
const HISTORY: usize = 8;

/// Everything on screen.
#[derive(Debug)]
pub struct View {
    pub lab_id: String,
    pub endpoint: String,
    /// The last verdict, kept while the engine is away.
    pub report: Option<Report>,
    /// Why the last run could not check (an ambiguous project, ...), if it could not.
    pub error: Option<String>,
    /// The engine stopped answering: why, and since when.
    pub engine_down: Option<(String, Instant)>,
    pub changes: Changes,
    /// Newest last: how long each run took and whether it was green.
    pub runs: VecDeque<(Duration, bool)>,
    /// Runs so far, the ones that could not check included.
    pub total_runs: usize,
    /// What started the last run, and when (UTC).
    pub last_reason: String,
    pub last_at: SystemTime,
    /// "Docker events of project p; files in /lab"
    pub watching: String,
    /// Files cannot be watched: what to do instead.
    pub files_note: Option<String>,
}

impl View {
    pub fn new(lab_id: &str, endpoint: &str) -> Self {
        View {
            lab_id: lab_id.into(),
            endpoint: endpoint.into(),
            report: None,
            error: None,
            engine_down: None,
            changes: Changes::default(),
            runs: VecDeque::new(),
            total_runs: 0,
            last_reason: "start".into(),
            last_at: SystemTime::now(),
            watching: String::new(),
            files_note: None,
        }
    }

    /// A finished run: returns what it changed.
    pub fn ran(&mut self, report: Report, at: Instant) -> Vec<Change> {
        let changed = self.changes.record(&report.results, at);
        self.runs.push_back((report.duration, report.ok()));
        while self.runs.len() > HISTORY {
            self.runs.pop_front();
        }
        self.report = Some(report);
        self.error = None;
        self.engine_down = None;
        changed
    }

    /// The exit code of the last verdict: 0 green, 1 failing, 2 when nothing could be checked.
    pub fn exit_code(&self) -> u8 {
        match &self.report {
            Some(r) => r.exit_code(),
            None => 2,
        }
    }

    /// The engine-gone line, the same words as a single run's error.
    pub fn engine_line(&self, now: Instant) -> Option<String> {
        self.engine_down.as_ref().map(|(cause, since)| {
            let gone = ToolError::EngineGone {
                endpoint: self.endpoint.clone(),
                cause: cause.clone(),
            };
            format!(
                "{gone}\n  ({} ago; the verdict shown is the last one; watch re-checks when the engine answers again)",
                ago(now.saturating_duration_since(*since))
            )
        })
    }
}

/// "12:04:05Z"
pub fn clock(t: SystemTime) -> String {
    let s = humantime::format_rfc3339_seconds(t).to_string();
    s.split('T').nth(1).unwrap_or(&s).to_string()
}

fn history(v: &View) -> String {
    let runs: Vec<String> = v
        .runs
        .iter()
        .map(|(d, ok)| format!("{} {:.2}s", if *ok { "✓" } else { "✗" }, d.as_secs_f64()))
        .collect();
    format!(
        "runs: {} (newest last; the last at {} after {})",
        if runs.is_empty() {
            "none yet".to_string()
        } else {
            runs.join(" · ")
        },
        clock(v.last_at),
        v.last_reason
    )
}

/// The terminal frame at `now`, for a terminal of `size` (columns, rows) when known. A frame
/// taller than the terminal would scroll on every redraw, so then the ladder leaves out its
/// passing checks.
pub fn frame(v: &View, now: Instant, o: &RenderOptions, size: Option<(u16, u16)>) -> String {
    let tail = watch_lines(v, now);
    let report = |short: bool| match &v.report {
        Some(r) if short => human::render_short(r, o),
        Some(r) => human::render(r, o),
        None => format!("labcheck watch {}: checking…\n", v.lab_id),
    };
    let full = report(false) + &tail;
    match size {
        Some((cols, rows)) if rows_of(&full, cols) >= usize::from(rows) => report(true) + &tail,
        _ => full,
    }
}

/// How many terminal rows `text` takes at `cols` columns (long lines wrap; colour codes take
/// no room).
fn rows_of(text: &str, cols: u16) -> usize {
    let cols = usize::from(cols.max(1));
    text.lines()
        .map(|l| {
            let mut width = 0usize;
            let mut in_escape = false;
            for ch in l.chars() {
                match (in_escape, ch) {
                    (false, '\x1b') => in_escape = true,
                    (true, c) if c.is_ascii_alphabetic() => in_escape = false,
                    (true, _) => {}
                    (false, _) => width += 1,
                }
            }
            width.max(1).div_ceil(cols)
        })
        .sum()
}

/// The watch section under the report: what changed, the runs, what is watched.
fn watch_lines(v: &View, now: Instant) -> String {
    let mut out = String::from("\n── watch ──\n");
    if let Some(e) = &v.error {
        out.push_str(&format!("could not check: {}\n", e.replace('\n', "\n  ")));
    }
    if let Some(line) = v.engine_line(now) {
        out.push_str(&format!("✗ {line}\n"));
    }
    let changed: Vec<String> = v.changes.recent().iter().map(|c| c.describe(now)).collect();
    out.push_str(&format!(
        "changed: {}\n",
        if changed.is_empty() {
            "nothing since watch started".to_string()
        } else {
            changed.join(" · ")
        }
    ));
    out.push_str(&history(v));
    out.push('\n');
    if let Some(note) = &v.files_note {
        out.push_str(&format!("note: {note}\n"));
    }
    out.push_str(&format!(
        "watching {} · Enter re-checks · Ctrl-C quits\n",
        v.watching
    ));
    out
}

/// A run's plain report when stdout is not a terminal: a header, the report, what changed.
pub fn plain(v: &View, changed: &[Change], o: &RenderOptions) -> String {
    let mut out = format!(
        "── labcheck watch {}: run {} at {} after {} ──\n",
        v.lab_id,
        v.total_runs,
        clock(v.last_at),
        v.last_reason
    );
    match &v.report {
        Some(r) => out.push_str(&human::render(r, o)),
        None => out.push_str("nothing checked yet\n"),
    }
    if let Some(e) = &v.error {
        out.push_str(&format!("could not check: {e}\n"));
    }
    if !changed.is_empty() {
        let at = changed[0].at;
        let words: Vec<String> = changed
            .iter()
            .map(|c| c.describe(at).trim_end_matches(" 0 s ago").to_string())
            .collect();
        out.push_str(&format!(
            "changed since the last run: {}\n",
            words.join(" · ")
        ));
    }
    out.push_str(&history(v));
    out.push('\n');
    out
}

/// Before the first frame: clears the screen once (tmux and some terminals keep what it showed
/// in their scrollback).
pub fn begin(out: &mut impl Write) -> std::io::Result<()> {
    crossterm::queue!(out, MoveTo(0, 0), Clear(ClearType::All))?;
    out.flush()
}

/// Draws `v`'s frame as it is now, fitted to the terminal's size.
pub fn redraw(out: &mut impl Write, v: &View, o: &RenderOptions) -> std::io::Result<()> {
    let size = crossterm::terminal::size().ok();
    draw(out, &frame(v, Instant::now(), o, size))
}

/// Draws `frame` over the previous one, line by line: each line clears what the previous frame
/// left to its right, and the end clears what it left below. Not a clear of the whole screen on
/// each redraw (once a second): that flickers, and tmux (`scroll-on-clear`, on by default) kept
/// a copy of the frame in the scrollback per redraw, pushing out the learner's own history.
pub fn draw(out: &mut impl Write, frame: &str) -> std::io::Result<()> {
    crossterm::queue!(out, MoveTo(0, 0))?;
    for line in frame.lines() {
        out.write_all(line.as_bytes())?;
        // the terminal is not in raw mode: "\n" returns the carriage too
        crossterm::queue!(out, Clear(ClearType::UntilNewLine))?;
        out.write_all(b"\n")?;
    }
    crossterm::queue!(out, Clear(ClearType::FromCursorDown))?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{report, result};
    use crate::report::Status;

    fn options() -> RenderOptions {
        RenderOptions {
            verbose: false,
            color: true,
            book_url: "http://b/".into(),
            timings: false,
        }
    }

    #[test]
    fn a_frame_taller_than_the_terminal_leaves_out_the_passing_checks() {
        let mut v = View::new("phase-5", "unix:///var/run/docker.sock");
        let mut results: Vec<_> = (0..30)
            .map(|i| result(&format!("check-{i}"), Status::Pass))
            .collect();
        results.push(result("redis-running", Status::Fail));
        v.ran(report(results), Instant::now());
        let now = Instant::now();
        let tall = frame(&v, now, &options(), Some((100, 60)));
        assert!(tall.contains("check-7") && !tall.contains("not shown"));
        let short = frame(&v, now, &options(), Some((100, 24)));
        assert!(!short.contains("check-7"), "{short}");
        assert!(short.contains("30 passing, not shown") && short.contains("redis-running"));
        assert!(rows_of(&short, 100) < 24, "{short}");
        assert!(short.ends_with("Ctrl-C quits\n"));
        // no size known (not a terminal): the whole frame
        assert_eq!(frame(&v, now, &options(), None), tall);
    }

    #[test]
    fn rows_count_wrapped_lines_and_not_colour_codes() {
        assert_eq!(rows_of("\x1b[32mabc\x1b[0m\n\nabcdefghij\n", 4), 1 + 1 + 3);
    }

    #[test]
    fn a_redraw_overwrites_line_by_line_and_never_clears_the_whole_screen() {
        let mut out = Vec::new();
        draw(&mut out, "one\ntwo\n").unwrap();
        let s = String::from_utf8(out).unwrap();
        // home, each line then erase-to-end-of-line, then erase below
        assert_eq!(s, "\x1b[1;1Hone\x1b[K\ntwo\x1b[K\n\x1b[J");
        let mut first = Vec::new();
        begin(&mut first).unwrap();
        assert_eq!(String::from_utf8(first).unwrap(), "\x1b[1;1H\x1b[2J");
    }
}

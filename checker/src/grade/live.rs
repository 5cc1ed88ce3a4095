//! What the instructor sees while a class is graded: on a terminal, one live line (learners
//! done, failing, unreachable, in flight, and the slowest host so far), redrawn in place;
//! elsewhere (a CI log, a pipe), one plain line per learner as it finishes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Event, LearnerGrade, RowStatus};

/// The counts behind the live line.
#[derive(Debug, Default)]
pub struct Tally {
    pub total: usize,
    pub done: usize,
    pub failing: usize,
    pub unreachable: usize,
    /// learner id -> when their grading started
    in_flight: BTreeMap<String, Instant>,
    /// The longest finished learner: id and time.
    slowest_done: Option<(String, Duration)>,
}

impl Tally {
    pub fn new(total: usize) -> Tally {
        Tally {
            total,
            ..Tally::default()
        }
    }

    pub fn started(&mut self, id: &str, at: Instant) {
        self.in_flight.insert(id.to_string(), at);
    }

    pub fn finished(&mut self, row: &LearnerGrade) {
        self.in_flight.remove(&row.learner.id);
        self.done += 1;
        match row.status {
            RowStatus::Failing | RowStatus::Absent => self.failing += 1,
            RowStatus::Error => self.unreachable += 1,
            RowStatus::Ok => {}
        }
        if self
            .slowest_done
            .as_ref()
            .map_or(true, |(_, d)| row.duration > *d)
        {
            self.slowest_done = Some((row.learner.id.clone(), row.duration));
        }
    }

    /// The slowest host: the learner in flight the longest, else the slowest one finished.
    fn slowest(&self, now: Instant) -> Option<(String, Duration, bool)> {
        let running = self
            .in_flight
            .iter()
            .map(|(id, at)| (id, now.saturating_duration_since(*at)))
            .max_by_key(|(_, d)| *d);
        match (running, &self.slowest_done) {
            (Some((id, d)), Some((_, done))) if d >= *done => Some((id.clone(), d, true)),
            (Some(_), Some((id, d))) => Some((id.clone(), *d, false)),
            (Some((id, d)), None) => Some((id.clone(), d, true)),
            (None, Some((id, d))) => Some((id.clone(), *d, false)),
            (None, None) => None,
        }
    }

    /// `12/30 done, 3 failing, 1 unreachable, 8 in flight, slowest: bob 12.3s (running)`
    pub fn line(&self, now: Instant) -> String {
        let mut s = format!(
            "{}/{} done, {} failing, {} unreachable, {} in flight",
            self.done,
            self.total,
            self.failing,
            self.unreachable,
            self.in_flight.len()
        );
        if let Some((id, d, running)) = self.slowest(now) {
            s.push_str(&format!(
                ", slowest: {id} {:.1}s{}",
                d.as_secs_f64(),
                if running { " (running)" } else { "" }
            ));
        }
        s
    }
}

/// One plain line for a finished learner (the display off a terminal).
pub fn finished_line(row: &LearnerGrade, done: usize, total: usize, in_flight: usize) -> String {
    let error = row
        .error
        .as_deref()
        .map(|e| {
            let first: String = e
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(120)
                .collect();
            format!(": {first}")
        })
        .unwrap_or_default();
    format!(
        "{done}/{total} {} {} {}/{} in {:.1}s{error} ({in_flight} in flight)",
        row.learner.id,
        row.status.as_str(),
        row.points,
        row.max_points,
        row.duration.as_secs_f64(),
    )
}

/// The display: a live bar on a terminal, plain lines on stderr otherwise.
pub struct Display {
    tally: Arc<Mutex<Tally>>,
    bar: Option<indicatif::ProgressBar>,
}

impl Display {
    pub fn new(total: usize, terminal: bool) -> Display {
        let tally = Arc::new(Mutex::new(Tally::new(total)));
        let bar = terminal.then(|| {
            let t = Arc::clone(&tally);
            let style = indicatif::ProgressStyle::with_template("{bar:24} {tally} [{elapsed}]")
                .expect("a valid progress template")
                .with_key(
                    "tally",
                    move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let line = t.lock().map(|t| t.line(Instant::now()));
                        let _ = w.write_str(&line.unwrap_or_default());
                    },
                )
                .progress_chars("=> ");
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total as u64),
                indicatif::ProgressDrawTarget::stderr(),
            )
            .with_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Display { tally, bar }
    }

    pub fn event(&self, ev: Event<'_>) {
        let Ok(mut t) = self.tally.lock() else { return };
        match ev {
            Event::Started(l) => t.started(&l.id, Instant::now()),
            Event::Finished(row) => {
                t.finished(row);
                match &self.bar {
                    Some(bar) => bar.set_position(t.done as u64),
                    None => eprintln!(
                        "labcheck grade: {}",
                        finished_line(row, t.done, t.total, t.in_flight.len())
                    ),
                }
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::{Endpoint, Learner};
    use std::time::UNIX_EPOCH;

    fn row(id: &str, status: RowStatus, secs: u64) -> LearnerGrade {
        LearnerGrade {
            learner: Learner {
                id: id.into(),
                endpoint: Endpoint::Unix("/run/docker.sock".into()),
                project: None,
                http_host: None,
                progress: None,
            },
            status,
            checks: vec![],
            points: 3,
            max_points: 5,
            error: (status == RowStatus::Error).then(|| "cannot reach\nthe engine".into()),
            endpoint: "unix:///run/docker.sock".into(),
            report: None,
            started_at: UNIX_EPOCH,
            duration: Duration::from_secs(secs),
            progress: None,
            kept: None,
        }
    }

    #[test]
    fn the_live_line_counts_and_names_the_slowest_host() {
        let t0 = Instant::now();
        let mut t = Tally::new(4);
        assert_eq!(
            t.line(t0),
            "0/4 done, 0 failing, 0 unreachable, 0 in flight"
        );
        for id in ["ada", "bob", "cy"] {
            t.started(id, t0);
        }
        t.started("dee", t0 + Duration::from_secs(1));
        t.finished(&row("ada", RowStatus::Failing, 2));
        t.finished(&row("bob", RowStatus::Error, 3));
        assert_eq!(
            t.line(t0 + Duration::from_secs(5)),
            "2/4 done, 1 failing, 1 unreachable, 2 in flight, slowest: cy 5.0s (running)"
        );
        t.finished(&row("cy", RowStatus::Ok, 9));
        t.finished(&row("dee", RowStatus::Ok, 1));
        assert_eq!(
            t.line(t0 + Duration::from_secs(10)),
            "4/4 done, 1 failing, 1 unreachable, 0 in flight, slowest: cy 9.0s"
        );
    }

    #[test]
    fn a_plain_line_keeps_the_first_line_of_an_error() {
        assert_eq!(
            finished_line(&row("bob", RowStatus::Error, 3), 2, 4, 1),
            "2/4 bob error 3/5 in 3.0s: cannot reach (1 in flight)"
        );
    }
}

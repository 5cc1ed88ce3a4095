//! What changed between two runs of the ladder, and when: "db-healthy turned red 3 s ago".

use std::time::{Duration, Instant};

use crate::report::{CheckResult, Status};

/// One check whose status differs from the run before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: String,
    pub from: Status,
    pub to: Status,
    pub at: Instant,
}

impl Change {
    /// "db-healthy turned red 3 s ago"
    pub fn describe(&self, now: Instant) -> String {
        format!(
            "{} turned {} {} ago",
            self.id,
            colour(self.to),
            ago(now.saturating_duration_since(self.at))
        )
    }
}

/// The colour a status is drawn in, as the learner sees it.
pub fn colour(s: Status) -> &'static str {
    match s {
        Status::Pass => "green",
        Status::Fail => "red",
        Status::Warn => "yellow",
        Status::Skip => "grey (skipped)",
    }
}

/// "3 s", "4 min", "2 h"
pub fn ago(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        _ => format!("{} h", s / 3600),
    }
}

/// The statuses of the last run and the changes seen so far, one entry per check (the newest
/// change of each), newest first.
#[derive(Debug, Default)]
pub struct Changes {
    last: Option<Vec<(String, Status)>>,
    recent: Vec<Change>,
}

/// How many changes the screen keeps.
const KEEP: usize = 6;

impl Changes {
    /// Compares a run with the one before; returns what this run changed (nothing on the first
    /// run: there is nothing to compare with).
    pub fn record(&mut self, results: &[CheckResult], at: Instant) -> Vec<Change> {
        let now: Vec<(String, Status)> = results.iter().map(|r| (r.id.clone(), r.status)).collect();
        let mut changed = Vec::new();
        if let Some(before) = &self.last {
            for (id, to) in &now {
                let from = before.iter().find(|(b, _)| b == id).map(|(_, s)| *s);
                if let Some(from) = from.filter(|f| f != to) {
                    changed.push(Change {
                        id: id.clone(),
                        from,
                        to: *to,
                        at,
                    });
                }
            }
        }
        self.last = Some(now);
        // what turned red first: with more changes than the screen keeps, the cause stays in
        // view and the checks skipped because of it go
        changed.sort_by_key(|c| match c.to {
            Status::Fail => 0,
            Status::Warn => 1,
            Status::Pass => 2,
            Status::Skip => 3,
        });
        for c in changed.iter().rev() {
            self.recent.retain(|r| r.id != c.id);
            self.recent.insert(0, c.clone());
        }
        // newest first; within one run, red first, then in ladder order
        self.recent.truncate(KEEP);
        changed
    }

    /// The newest change of each check, newest first.
    pub fn recent(&self) -> &[Change] {
        &self.recent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::result as r;

    #[test]
    fn the_first_run_changes_nothing_and_a_flip_is_reported_once() {
        let t0 = Instant::now();
        let mut c = Changes::default();
        let green = [r("db-running", Status::Pass), r("db-healthy", Status::Pass)];
        assert!(c.record(&green, t0).is_empty());
        let red = [r("db-running", Status::Fail), r("db-healthy", Status::Skip)];
        let t1 = t0 + Duration::from_secs(10);
        let changed = c.record(&red, t1);
        assert_eq!(
            changed
                .iter()
                .map(|c| c.describe(t1 + Duration::from_secs(3)))
                .collect::<Vec<_>>(),
            [
                "db-running turned red 3 s ago",
                "db-healthy turned grey (skipped) 3 s ago"
            ]
        );
        // the same statuses again: nothing new, the old changes stay on screen
        assert!(c.record(&red, t1 + Duration::from_secs(5)).is_empty());
        assert_eq!(c.recent().len(), 2);
        assert_eq!(c.recent()[0].id, "db-running");
    }

    #[test]
    fn a_check_that_flips_back_keeps_only_its_newest_change() {
        let t0 = Instant::now();
        let mut c = Changes::default();
        c.record(&[r("a", Status::Pass), r("b", Status::Pass)], t0);
        c.record(
            &[r("a", Status::Fail), r("b", Status::Pass)],
            t0 + Duration::from_secs(1),
        );
        c.record(
            &[r("a", Status::Fail), r("b", Status::Warn)],
            t0 + Duration::from_secs(2),
        );
        c.record(
            &[r("a", Status::Pass), r("b", Status::Warn)],
            t0 + Duration::from_secs(3),
        );
        let now = t0 + Duration::from_secs(65);
        let shown: Vec<String> = c.recent().iter().map(|x| x.describe(now)).collect();
        assert_eq!(
            shown,
            ["a turned green 1 min ago", "b turned yellow 1 min ago"]
        );
    }

    #[test]
    fn a_check_that_appears_is_not_a_change() {
        let t0 = Instant::now();
        let mut c = Changes::default();
        c.record(&[], t0);
        assert!(c.record(&[r("a", Status::Fail)], t0).is_empty());
    }

    #[test]
    fn ages_read_in_seconds_minutes_and_hours() {
        assert_eq!(ago(Duration::from_millis(2900)), "2 s");
        assert_eq!(ago(Duration::from_secs(125)), "2 min");
        assert_eq!(ago(Duration::from_secs(7300)), "2 h");
    }

    #[test]
    fn the_check_that_turned_red_stays_in_view_when_many_change() {
        let t0 = Instant::now();
        let mut c = Changes::default();
        let mut before: Vec<_> = (0..8)
            .map(|i| r(&format!("dep-{i}"), Status::Pass))
            .collect();
        before.push(r("root", Status::Pass));
        c.record(&before, t0);
        let mut after: Vec<_> = (0..8)
            .map(|i| r(&format!("dep-{i}"), Status::Skip))
            .collect();
        after.push(r("root", Status::Fail));
        let changed = c.record(&after, t0 + Duration::from_secs(1));
        assert_eq!(changed.len(), 9);
        assert_eq!(c.recent().len(), KEEP);
        assert_eq!(c.recent()[0].id, "root");
        assert_eq!(c.recent()[1].id, "dep-0");
    }
}

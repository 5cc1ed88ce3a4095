//! `labcheck hint`: a check's hint one level at a time (nudge, concept, see, fix), for the first
//! broken step or a named check, remembering in the state folder how far the learner got.

pub mod state;

use std::path::Path;

use crate::error::ToolError;
use crate::lab::{Check, Lab, Level};
use crate::report::{CheckResult, Report, StackState};

/// Which check to give a hint for, and what labcheck saw of it.
pub enum Subject<'a> {
    /// Named on the command line: no run needed.
    Named(&'a Check),
    /// The first broken step of a run, with its result.
    FirstBroken(&'a Check, &'a CheckResult),
}

impl Subject<'_> {
    fn check(&self) -> &Check {
        match self {
            Subject::Named(c) | Subject::FirstBroken(c, _) => c,
        }
    }
}

/// The check `id` of the lab, or an error that lists its checks.
pub fn named<'a>(lab: &'a Lab, id: &str) -> Result<&'a Check, ToolError> {
    lab.checks
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| ToolError::UnknownCheck {
            lab: lab.id.clone(),
            id: id.to_string(),
            known: lab.checks.iter().map(|c| c.id.clone()).collect(),
        })
}

/// What a run says when it has no broken step to give a hint for: the text and the exit code
/// (0 all green, 1 the stack is not up).
pub fn nothing_broken(lab: &Lab, report: &Report) -> (String, u8) {
    if let StackState::Absent { message } = &report.stack {
        return (
            format!(
                "No hint yet: the stack of {} is not up.\n{}\n",
                lab.id,
                message.trim_end()
            ),
            1,
        );
    }
    (
        format!(
            "Nothing is broken in {}: every step passes. For a check's hints anyway: labcheck hint {} <check>\n",
            lab.id, lab.id
        ),
        0,
    )
}

/// The levels to show: `asked` alone, or one more than `seen` (up to the fix) with those before.
pub fn levels_to_show(seen: u8, asked: Option<Level>) -> Vec<Level> {
    match asked {
        Some(l) => vec![l],
        None => {
            let upto = (seen + 1).min(Level::Fix.number());
            Level::ALL
                .into_iter()
                .filter(|l| l.number() <= upto)
                .collect()
        }
    }
}

/// Record that `level` of the check was shown (the highest level counts) and return the
/// levels to show, with a note when the state file had to be set aside.
pub fn reveal(
    state_dir: &Path,
    lab: &Lab,
    check: &Check,
    asked: Option<Level>,
) -> Result<(Vec<Level>, Option<String>), ToolError> {
    let mut shown = Vec::new();
    let (_, note) = state::update(state_dir, |r| {
        let seen = r.entry(lab.id.clone()).or_default();
        let before = seen.get(&check.id).copied().unwrap_or(0);
        shown = levels_to_show(before, asked);
        let top = shown.iter().map(|l| l.number()).max().unwrap_or(0);
        seen.insert(check.id.clone(), before.max(top));
    })
    .map_err(ToolError::State)?;
    Ok((shown, note))
}

/// Forget the levels revealed for a lab, or for one of its checks; the text to print.
pub fn reset(state_dir: &Path, lab: &Lab, check: Option<&Check>) -> Result<String, ToolError> {
    let mut forgot = 0;
    let (_, note) = state::update(state_dir, |r| {
        if let Some(seen) = r.get_mut(&lab.id) {
            match check {
                Some(c) => forgot = usize::from(seen.remove(&c.id).is_some()),
                None => {
                    forgot = seen.len();
                    seen.clear();
                }
            }
        }
    })
    .map_err(ToolError::State)?;
    let what = match check {
        Some(c) => format!("{} {}", lab.id, c.id),
        None => lab.id.clone(),
    };
    let mut out = note.map(|n| format!("note: {n}\n")).unwrap_or_default();
    out.push_str(&match (check, forgot) {
        (_, 0) => format!("No hints were revealed for {what}: nothing to forget.\n"),
        (Some(_), _) => format!("Forgot the hints revealed for {what}.\n"),
        (None, n) => format!(
            "Forgot the hints revealed for {what} ({n} check{}).\n",
            if n == 1 { "" } else { "s" }
        ),
    });
    Ok(out)
}

/// The hint as the learner reads it: the check, what was seen, the levels, and what comes next.
pub fn render(lab: &Lab, subject: &Subject, shown: &[Level], book_url: &str) -> String {
    let check = subject.check();
    let mut out = match subject {
        Subject::Named(c) => format!("{} · {}: {}\n", lab.id, c.id, c.title),
        Subject::FirstBroken(c, r) => format!(
            "{} · first broken step: {} ({})\n  {}\n",
            lab.id, c.title, c.id, r.message
        ),
    };
    out.push('\n');
    for level in shown {
        let text = check
            .hints
            .get(*level)
            .unwrap_or("(this lab has no text for this level yet)");
        out.push_str(&format!("{}/4 {}: {text}\n", level.number(), title(*level)));
        if *level == Level::Concept {
            if let Some(b) = &check.book {
                out.push_str(&format!(
                    "    Read: {}/{}\n",
                    book_url.trim_end_matches('/'),
                    b.trim_start_matches('/')
                ));
            }
        }
    }
    let again = match subject {
        Subject::Named(c) => format!("labcheck hint {} {}", lab.id, c.id),
        Subject::FirstBroken(..) => format!("labcheck hint {}", lab.id),
    };
    let top = shown.iter().copied().max().unwrap_or(Level::Nudge);
    out.push('\n');
    out.push_str(&match top.next() {
        Some(next) => format!(
            "Next: `{again}` shows {} ({}/4).\n",
            next.describe(),
            next.number()
        ),
        None => format!(
            "That is the last level. `labcheck hint {} {} --reset` forgets them.\n",
            lab.id, check.id
        ),
    });
    out
}

fn title(level: Level) -> &'static str {
    match level {
        Level::Nudge => "Nudge",
        Level::Concept => "The idea",
        Level::See => "See it yourself",
        Level::Fix => "The fix",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_run_shows_one_more_level_up_to_the_fix() {
        assert_eq!(levels_to_show(0, None), [Level::Nudge]);
        assert_eq!(
            levels_to_show(2, None),
            [Level::Nudge, Level::Concept, Level::See]
        );
        assert_eq!(levels_to_show(4, None).len(), 4);
        assert_eq!(levels_to_show(9, None).len(), 4);
        assert_eq!(levels_to_show(0, Some(Level::Fix)), [Level::Fix]);
    }

    fn lab() -> Lab {
        let mut lab = crate::lab::test_lab(
            &["db"],
            "[[checks]]\nid = \"db-running\"\ntitle = \"db is running\"\nkind = \"running\"\nservice = \"db\"\nbook = \"phase-3/troubleshooting.html#db-running\"\n",
        )
        .unwrap();
        crate::lab::hints::attach_str(
            &mut lab,
            "[db-running]\nnudge = \"N\"\nconcept = \"C\"\nsee = \"S\"\nfix = \"F\"\n",
            Path::new("hints.toml"),
        )
        .unwrap();
        lab
    }

    #[test]
    fn reveal_records_the_highest_level_and_reset_forgets() {
        let dir = tempfile::tempdir().unwrap();
        let lab = lab();
        let c = &lab.checks[0];
        let (shown, _) = reveal(dir.path(), &lab, c, None).unwrap();
        assert_eq!(shown, [Level::Nudge]);
        let (shown, _) = reveal(dir.path(), &lab, c, Some(Level::Fix)).unwrap();
        assert_eq!(shown, [Level::Fix]);
        // asking for level 1 again does not lower what was seen
        reveal(dir.path(), &lab, c, Some(Level::Nudge)).unwrap();
        assert_eq!(state::revealed(dir.path()).unwrap()["t"]["db-running"], 4);
        let said = reset(dir.path(), &lab, None).unwrap();
        assert!(
            said.contains("Forgot the hints revealed for t (1 check)"),
            "{said}"
        );
        assert!(state::revealed(dir.path()).unwrap().is_empty());
        let said = reset(dir.path(), &lab, Some(c)).unwrap();
        assert!(said.contains("nothing to forget"), "{said}");
    }

    #[test]
    fn the_concept_carries_the_book_link_and_the_last_level_says_so() {
        let lab = lab();
        let c = &lab.checks[0];
        let text = render(&lab, &Subject::Named(c), &Level::ALL, "http://book/");
        assert!(
            text.contains(
                "2/4 The idea: C\n    Read: http://book/phase-3/troubleshooting.html#db-running"
            ),
            "{text}"
        );
        assert!(text.contains("That is the last level"), "{text}");
        let text = render(&lab, &Subject::Named(c), &[Level::Nudge], "http://book/");
        assert!(
            text.contains("Next: `labcheck hint t db-running` shows the idea behind it (2/4)."),
            "{text}"
        );
    }
}

//! A check's hint in four levels, from `labs/<id>/hints.toml` (one table per check id), so a
//! learner can ask for as much help as they need: a nudge (where to look), the concept (the idea
//! behind it, with the check's book link), the command that shows it, and the fix.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::load::line_col;
use super::{Lab, SpecError};

/// The file beside lab.toml that holds the hints.
pub const FILE: &str = "hints.toml";

/// The levels of a hint, in the order they are revealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Nudge = 1,
    Concept = 2,
    See = 3,
    Fix = 4,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Nudge, Level::Concept, Level::See, Level::Fix];

    /// 1..=4 to a level.
    pub fn from_number(n: u8) -> Option<Level> {
        Level::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }

    pub fn number(self) -> u8 {
        self as u8
    }

    /// The key in hints.toml and in the JSON report.
    pub fn key(self) -> &'static str {
        match self {
            Level::Nudge => "nudge",
            Level::Concept => "concept",
            Level::See => "see",
            Level::Fix => "fix",
        }
    }

    /// What the level gives, in words ("the command to see it yourself").
    pub fn describe(self) -> &'static str {
        match self {
            Level::Nudge => "a nudge: where to look",
            Level::Concept => "the idea behind it",
            Level::See => "the command to see it yourself",
            Level::Fix => "the fix",
        }
    }

    pub fn next(self) -> Option<Level> {
        Level::from_number(self.number() + 1)
    }
}

/// One check's hint levels; a level the lab does not write is None (`labcheck lint` says so).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Hints {
    pub nudge: Option<String>,
    pub concept: Option<String>,
    pub see: Option<String>,
    pub fix: Option<String>,
}

impl Hints {
    pub fn get(&self, level: Level) -> Option<&str> {
        match level {
            Level::Nudge => self.nudge.as_deref(),
            Level::Concept => self.concept.as_deref(),
            Level::See => self.see.as_deref(),
            Level::Fix => self.fix.as_deref(),
        }
    }

    /// The levels that are not written.
    pub fn missing(&self) -> Vec<Level> {
        Level::ALL
            .into_iter()
            .filter(|l| self.get(*l).is_none())
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHints {
    nudge: Option<Spanned<String>>,
    concept: Option<Spanned<String>>,
    see: Option<Spanned<String>>,
    fix: Option<Spanned<String>>,
}

/// Read `lab.dir/hints.toml` into the lab's checks. No file is not an error here (lint says
/// every check needs its levels); a malformed file or an id that is not a check is.
pub fn attach(lab: &mut Lab) -> Result<(), Vec<SpecError>> {
    let file = lab.dir.join(FILE);
    match std::fs::read_to_string(&file) {
        Ok(src) => attach_str(lab, &src, &file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(vec![SpecError {
            file,
            line: 1,
            column: 1,
            message: format!("cannot read it: {e}"),
        }]),
    }
}

/// Parse hints.toml text into the lab's checks; `file` is for messages.
pub fn attach_str(lab: &mut Lab, src: &str, file: &Path) -> Result<(), Vec<SpecError>> {
    let at = |offset: usize, message: String| {
        let (line, column) = line_col(src, offset);
        SpecError {
            file: file.to_path_buf(),
            line,
            column,
            message,
        }
    };
    // A whole-file parse: serde's message names the field and toml's span locates it.
    let tables: BTreeMap<Spanned<String>, RawHints> = toml::from_str(src).map_err(|e| {
        vec![at(
            e.span().map_or(0, |s| s.start),
            e.message().trim().to_string(),
        )]
    })?;
    let mut errors = Vec::new();
    for (id, raw) in tables {
        let Some(check) = lab.checks.iter_mut().find(|c| &c.id == id.get_ref()) else {
            errors.push(at(
                id.span().start,
                format!(
                    "`{}` is not a check of lab {}; hints.toml has one table per check id",
                    id.get_ref(),
                    lab.id
                ),
            ));
            continue;
        };
        let mut text = |field: Option<Spanned<String>>, level: Level| {
            let field = field?;
            if field.get_ref().trim().is_empty() {
                errors.push(at(
                    field.span().start,
                    format!("[{}] {} is empty", id.get_ref(), level.key()),
                ));
                return None;
            }
            Some(field.into_inner().trim().to_string())
        };
        check.hints = Hints {
            nudge: text(raw.nudge, Level::Nudge),
            concept: text(raw.concept, Level::Concept),
            see: text(raw.see, Level::See),
            fix: text(raw.fix, Level::Fix),
        };
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab() -> Lab {
        crate::lab::test_lab(
            &["db"],
            "[[checks]]\nid = \"db-running\"\ntitle = \"db runs\"\nkind = \"running\"\nservice = \"db\"\n",
        )
        .unwrap()
    }

    fn attach_text(src: &str) -> Result<Lab, String> {
        let mut lab = lab();
        attach_str(&mut lab, src, Path::new("hints.toml"))
            .map(|()| lab)
            .map_err(|e| {
                e.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
    }

    #[test]
    fn the_four_levels_are_read_and_trimmed() {
        let lab = attach_text(
            "[db-running]\nnudge = \" N \"\nconcept = \"C\"\nsee = \"S\"\nfix = \"\"\"\nF\n\"\"\"\n",
        )
        .unwrap();
        let h = &lab.checks[0].hints;
        assert_eq!(h.get(Level::Nudge), Some("N"));
        assert_eq!(h.get(Level::Fix), Some("F"));
        assert!(h.missing().is_empty());
    }

    #[test]
    fn a_missing_level_is_left_for_lint() {
        let lab = attach_text("[db-running]\nnudge = \"N\"\nfix = \"F\"\n").unwrap();
        assert_eq!(lab.checks[0].hints.missing(), [Level::Concept, Level::See]);
        let mut problems = Vec::new();
        crate::lab::lint::lint_lab(&lab, None, &mut problems);
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(
            text.iter()
                .any(|p| p.contains("check `db-running` lacks hint levels concept, see")),
            "{text:?}"
        );
    }

    #[test]
    fn an_id_that_is_not_a_check_is_located() {
        let e =
            attach_text("[db-running]\nnudge = \"N\"\n\n[db-runing]\nnudge = \"N\"\n").unwrap_err();
        assert_eq!(
            e,
            "hints.toml:4:2: `db-runing` is not a check of lab t; hints.toml has one table per check id"
        );
    }

    #[test]
    fn malformed_files_are_located() {
        let e = attach_text("[db-running]\nnudge = \"N\"\nnudj = \"x\"\n").unwrap_err();
        assert!(e.starts_with("hints.toml:3:1: unknown field `nudj`"), "{e}");
        let e = attach_text("[db-running]\nnudge = 3\n").unwrap_err();
        assert!(
            e.starts_with("hints.toml:2:9: invalid type: integer"),
            "{e}"
        );
        let e = attach_text("[db-running\nnudge = \"N\"\n").unwrap_err();
        assert!(e.starts_with("hints.toml:1:"), "{e}");
        let e = attach_text("db-running = \"N\"\n").unwrap_err();
        assert!(e.starts_with("hints.toml:1:14:"), "{e}");
        let e = attach_text("[db-running]\nnudge = \"  \"\n").unwrap_err();
        assert_eq!(e, "hints.toml:2:9: [db-running] nudge is empty");
    }

    #[test]
    fn levels_count_from_one() {
        assert_eq!(Level::from_number(0), None);
        assert_eq!(Level::from_number(1), Some(Level::Nudge));
        assert_eq!(Level::from_number(4), Some(Level::Fix));
        assert_eq!(Level::from_number(5), None);
        assert_eq!(Level::See.next(), Some(Level::Fix));
        assert_eq!(Level::Fix.next(), None);
    }
}

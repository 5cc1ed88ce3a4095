//! `labcheck doctor [lab]`: the environment before the stack. Which engine labcheck talks to
//! and how, its versions against what the lab needs, the clock, free disk; with a lab, also the
//! host ports it publishes that are taken, the images it needs that are missing, and a project
//! of the lab running from another folder.
//!
//! Each group of findings is judged by a pure function on plain data ([`engine`], [`disk`],
//! [`ports`], [`images`], [`project`]), unit-tested without an engine; [`examine`] gathers the
//! facts (every engine call bounded) and calls them. [`human`] and [`wire`] render the result.

pub mod compose_file;
pub mod disk;
pub mod engine;
mod examine;
pub mod human;
pub mod images;
pub mod ports;
pub mod project;
pub mod wire;

pub use examine::examine;

use serde::Serialize;

/// How much a finding matters. Ordered: the worst level decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// All is well.
    Ok,
    /// doctor could not tell (a remote engine's disk, a Compose version no container carries).
    Unknown,
    /// The lab may work, but something may surprise the learner.
    Warn,
    /// The lab cannot work until this is fixed.
    Blocks,
}

impl Level {
    pub fn symbol(self) -> &'static str {
        match self {
            Level::Ok => "✓",
            Level::Unknown => "?",
            Level::Warn => "!",
            Level::Blocks => "✗",
        }
    }
}

/// One thing doctor found: what it is, why it matters, and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A stable name for the group: `engine`, `api`, `compose`, `clock`, `disk`, `port`,
    /// `image`, `project`.
    pub topic: &'static str,
    pub level: Level,
    /// What is so, in one line.
    pub what: String,
    /// Why it matters (empty when all is well).
    pub why: String,
    /// What to do: a command where one exists.
    pub fix: Option<String>,
}

impl Finding {
    pub fn ok(topic: &'static str, what: impl Into<String>) -> Finding {
        Finding {
            topic,
            level: Level::Ok,
            what: what.into(),
            why: String::new(),
            fix: None,
        }
    }

    pub fn new(
        topic: &'static str,
        level: Level,
        what: impl Into<String>,
        why: impl Into<String>,
        fix: Option<String>,
    ) -> Finding {
        Finding {
            topic,
            level,
            what: what.into(),
            why: why.into(),
            fix,
        }
    }
}

/// What doctor found, in the order it looked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// The lab examined, if one was given.
    pub lab: Option<String>,
    /// The engine as the user would write it, and what chose it.
    pub endpoint: String,
    pub chosen_by: String,
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    /// 1 when something blocks the lab (no engine included: that is doctor's most useful
    /// answer, not a failure to run), else 0. Exit 2 is for doctor's own errors (an unknown
    /// lab, a malformed lab.toml), returned as a [`crate::ToolError`] before any finding.
    pub fn exit_code(&self) -> u8 {
        if self.findings.iter().any(|f| f.level == Level::Blocks) {
            1
        } else {
            0
        }
    }

    pub fn count(&self, level: Level) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }
}

/// Text from the engine or a file, safe to print: control characters (an escape sequence in a
/// container name or a label) shown as `\u{..}` escapes, never sent to the terminal.
pub fn inert(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(inert("web\u{1b}[2J\n"), "web\\u{1b}[2J\\u{a}");
        assert_eq!(inert("phase-3-web-1 ✓"), "phase-3-web-1 ✓");
    }

    #[test]
    fn the_worst_finding_decides_the_exit_code() {
        let mut d = Diagnosis {
            lab: None,
            endpoint: "unix:///var/run/docker.sock".into(),
            chosen_by: "DOCKER_HOST (now: unset)".into(),
            findings: vec![
                Finding::ok("engine", "fine"),
                Finding::new("disk", Level::Unknown, "?", "", None),
                Finding::new("clock", Level::Warn, "off", "TLS", None),
            ],
        };
        assert_eq!(d.exit_code(), 0);
        d.findings
            .push(Finding::new("port", Level::Blocks, "taken", "", None));
        assert_eq!(d.exit_code(), 1);
        assert_eq!(d.count(Level::Warn), 1);
    }
}

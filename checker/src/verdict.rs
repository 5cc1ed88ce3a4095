//! A kind's verdict on what its probe saw.

/// A verdict before severity is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    /// The fact could not be established (e.g. compose v1 without a readable file):
    /// reported as a warning whatever the severity, and worth no points.
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    /// One line saying what was found.
    pub message: String,
    /// Extra lines of evidence (shown with -v, and for the first broken step).
    pub evidence: Vec<String>,
}

pub fn pass(message: impl Into<String>) -> Judgement {
    Judgement {
        verdict: Verdict::Pass,
        message: message.into(),
        evidence: vec![],
    }
}

pub fn fail(message: impl Into<String>) -> Judgement {
    Judgement {
        verdict: Verdict::Fail,
        message: message.into(),
        evidence: vec![],
    }
}

pub fn unknown(message: impl Into<String>) -> Judgement {
    Judgement {
        verdict: Verdict::Unknown,
        message: message.into(),
        evidence: vec![],
    }
}

/// At most this many characters of a message, and of each line of evidence.
const MAX_MESSAGE: usize = 1000;
const MAX_LINE: usize = 500;
/// At most this many lines of evidence.
const MAX_EVIDENCE: usize = 40;

/// Text from a learner's stack (health output, env values, HTTP bodies, exec output, names),
/// made inert for any terminal or page: control characters (escape sequences, a bell, a
/// carriage return that rewrites the line), C1 controls and bidirectional overrides are shown
/// as escapes (`\x1b`, `\u{202e}`) instead of acting; a newline becomes `\n`, a tab a space.
pub fn inert(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push(' '),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            '\u{80}'..='\u{9f}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// [`inert`], then at most `max` characters, saying how many more there were.
fn inert_within(s: &str, max: usize) -> String {
    let t = inert(s);
    let n = t.chars().count();
    if n <= max {
        return t;
    }
    let cut: String = t.chars().take(max).collect();
    format!("{cut}… ({} more characters)", n - max)
}

impl Judgement {
    /// The judgement as it may be shown anywhere: every string inert and bounded (a flood of
    /// output or of DNS answers stays a few lines; evidence keeps one line per entry).
    pub fn inert(self) -> Judgement {
        let lines: Vec<&str> = self.evidence.iter().flat_map(|e| e.lines()).collect();
        let mut evidence: Vec<String> = lines
            .iter()
            .take(MAX_EVIDENCE)
            .map(|l| inert_within(l, MAX_LINE))
            .collect();
        if lines.len() > MAX_EVIDENCE {
            evidence.push(format!("… {} more lines", lines.len() - MAX_EVIDENCE));
        }
        Judgement {
            verdict: self.verdict,
            message: inert_within(&self.message, MAX_MESSAGE),
            evidence,
        }
    }

    /// Add a line of evidence.
    pub fn with(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }
}

/// Trim long outputs to a readable excerpt (first `max` chars).
pub fn excerpt(s: &str, max: usize) -> String {
    let t = s.trim();
    if t.chars().count() <= max {
        t.to_string()
    } else {
        let cut: String = t.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_codes_become_text() {
        let hostile = "ok\u{1b}]0;OWNED\u{7}\u{1b}[31mred\u{1b}[2J\r\u{9b}2J\u{202e}txt\tend";
        let shown = inert(hostile);
        assert_eq!(
            shown,
            "ok\\x1b]0;OWNED\\x07\\x1b[31mred\\x1b[2J\\x0d\\u{9b}2J\\u{202e}txt end"
        );
        assert!(shown.chars().all(|c| !c.is_control()));
        assert_eq!(inert(&shown), shown, "inert twice changes nothing");
        assert_eq!(inert("plain, ünïcode ✓"), "plain, ünïcode ✓");
    }

    #[test]
    fn floods_are_bounded() {
        let j = fail("x".repeat(5000)).with(
            (0..1000)
                .map(|i| format!("10.0.{i}.1"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        let j = j.inert();
        assert!(
            j.message.ends_with("… (4000 more characters)"),
            "{}",
            &j.message[990..]
        );
        assert_eq!(j.evidence.len(), MAX_EVIDENCE + 1);
        assert_eq!(j.evidence.last().unwrap(), "… 960 more lines");
        let long = fail("m").with("y".repeat(900)).inert();
        assert!(long.evidence[0].ends_with("(400 more characters)"));
    }
}

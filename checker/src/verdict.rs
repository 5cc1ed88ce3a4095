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

impl Judgement {
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

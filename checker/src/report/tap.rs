//! `--format tap`: TAP version 13, with YAML diagnostics for failures and warnings.

use super::{RenderOptions, Report, StackState, Status};

fn q(s: &str) -> String {
    // a JSON string is a valid YAML double-quoted scalar
    serde_json::to_string(s).expect("strings serialise")
}

pub fn render(r: &Report, o: &RenderOptions) -> String {
    let absent = matches!(r.stack, StackState::Absent { .. });
    let mut out = String::from("TAP version 13\n");
    out.push_str(&format!("1..{}\n", r.results.len() + usize::from(absent)));
    let mut n = 0;
    if let StackState::Absent { message } = &r.stack {
        n += 1;
        out.push_str(&format!(
            "not ok {n} - stack: the lab's stack is up\n  ---\n  message: {}\n  ...\n",
            q(message)
        ));
    }
    for c in &r.results {
        n += 1;
        let name = format!("{}: {}", c.id, c.title).replace('#', "\\#");
        match c.status {
            Status::Pass => out.push_str(&format!("ok {n} - {name}\n")),
            Status::Skip => {
                let why = c.skip.as_ref().map(|s| s.reason()).unwrap_or_default();
                out.push_str(&format!("ok {n} - {name} # SKIP {why}\n"));
            }
            Status::Fail | Status::Warn => {
                let ok = if c.status == Status::Fail {
                    "not ok"
                } else {
                    "ok"
                };
                out.push_str(&format!("{ok} {n} - {name}\n  ---\n"));
                out.push_str(&format!(
                    "  severity: {}\n",
                    if c.status == Status::Fail {
                        "fail"
                    } else {
                        "warn"
                    }
                ));
                out.push_str(&format!("  message: {}\n", q(&c.message)));
                if !c.evidence.is_empty() {
                    out.push_str("  evidence:\n");
                    for e in &c.evidence {
                        out.push_str(&format!("    - {}\n", q(e)));
                    }
                }
                if let Some(h) = &c.hints.nudge {
                    out.push_str(&format!("  hint: {}\n", q(h)));
                }
                if let Some(s) = &c.see {
                    out.push_str(&format!("  see: {}\n", q(s)));
                }
                if let Some(b) = &c.book {
                    out.push_str(&format!("  book: {}\n", q(&o.book_link(b))));
                }
                out.push_str("  ...\n");
            }
        }
    }
    out
}

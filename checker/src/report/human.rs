//! The report for people: the ladder with symbols, then the first broken step in detail.

use owo_colors::OwoColorize;

use super::{CheckResult, RenderOptions, Report, StackState, Status};
use crate::verdict::inert;

struct Paint(bool);

impl Paint {
    fn status(&self, s: Status, text: &str) -> String {
        if !self.0 {
            return text.to_string();
        }
        match s {
            Status::Pass => text.green().to_string(),
            Status::Fail => text.red().bold().to_string(),
            Status::Warn => text.yellow().to_string(),
            Status::Skip => text.dimmed().to_string(),
        }
    }
    fn bold(&self, text: &str) -> String {
        if self.0 {
            text.bold().to_string()
        } else {
            text.to_string()
        }
    }
    fn dim(&self, text: &str) -> String {
        if self.0 {
            text.dimmed().to_string()
        } else {
            text.to_string()
        }
    }
}

pub fn render(r: &Report, o: &RenderOptions) -> String {
    render_with(r, o, false)
}

/// The report with the passing checks of the ladder left out (one line counts them): what a
/// terminal too short for the whole ladder shows.
pub fn render_short(r: &Report, o: &RenderOptions) -> String {
    render_with(r, o, true)
}

fn render_with(r: &Report, o: &RenderOptions, hide_passing: bool) -> String {
    let p = Paint(o.color);
    let mut out = String::new();
    out.push_str(&p.bold(&format!("labcheck {}: {}", r.lab_id, r.lab_title)));
    out.push('\n');
    let project = match &r.stack {
        StackState::Found {
            project: Some(p), ..
        } => format!("project {p}"),
        StackState::Found { project: None, .. } => "plain containers".to_string(),
        StackState::Absent { .. } => "no stack found".to_string(),
    };
    out.push_str(&p.dim(&format!(
        "{project} on {} (Engine {}, API {})",
        r.engine.endpoint, r.engine.server_version, r.engine.api_version
    )));
    out.push('\n');
    if let StackState::Found { renamed, .. } = &r.stack {
        for m in renamed {
            out.push_str(&p.dim(&m.line()));
            out.push('\n');
        }
    }
    for note in &r.notes {
        out.push_str(&p.status(Status::Warn, &format!("note: {}", inert(note))));
        out.push('\n');
    }
    out.push('\n');

    if let StackState::Absent { message } = &r.stack {
        out.push_str(&p.status(Status::Fail, "✗ "));
        let lines: Vec<String> = message.lines().map(inert).collect();
        out.push_str(&lines.join("\n  "));
        out.push_str("\n\n");
        let s = r.summary();
        out.push_str(&format!(
            "nothing checked: the stack is not up · 0/{} points\n",
            s.max_points
        ));
        return out;
    }
    if let StackState::Found {
        missing, project, ..
    } = &r.stack
    {
        if !missing.is_empty() {
            let runnable = r
                .results
                .iter()
                .filter(|c| c.status != Status::Skip)
                .count();
            let them = if missing.len() == 1 { "it" } else { "them" };
            let names = inert(&missing.join(" "));
            // plain containers (the phases before Compose) are made with `docker run`
            let start = match project {
                Some(_) => format!("Start {them}: docker compose up -d {names}"),
                None => format!(
                    "Create {them} with `docker run --name …` as the lab's chapter shows (`docker ps -a` lists what exists)"
                ),
            };
            out.push_str(&p.status(
                Status::Fail,
                &format!(
                    "The stack is only half up: no container for {}. {start}",
                    inert(&missing.join(", ")),
                ),
            ));
            out.push_str(&format!(
                "\n{runnable} of {} checks could still run:\n\n",
                r.results.len()
            ));
        }
    }

    let width = r
        .results
        .iter()
        .map(|c| c.id.len() + 2 * c.depth)
        .max()
        .unwrap_or(0);
    let mut hidden = 0;
    for c in &r.results {
        if hide_passing && c.status == Status::Pass {
            hidden += 1;
            continue;
        }
        let indent = "  ".repeat(c.depth);
        let pad = " ".repeat(width - c.id.len() - 2 * c.depth);
        // results come inert from the scheduler; a report built elsewhere is made so here
        let detail = match (c.status, &c.note) {
            (Status::Pass, Some(note)) => format!("{} ({note})", c.message),
            (Status::Fail, _) if !c.causes.is_empty() => {
                format!("{} (cause: {})", c.message, c.causes.join(", "))
            }
            (Status::Skip, _) => c.message.clone(),
            (Status::Pass, _) if !o.verbose => c.title.clone(),
            _ => c.message.clone(),
        };
        let detail = inert(&detail);
        let timing = if o.verbose && o.timings {
            p.dim(&format!("  ({} ms)", c.duration.as_millis()))
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{indent}{} {}{pad}  {}{timing}\n",
            p.status(c.status, c.status.symbol()),
            p.status(c.status, &c.id),
            if c.status == Status::Skip {
                p.dim(&detail)
            } else {
                detail
            },
        ));
        if o.verbose && c.status != Status::Skip {
            for e in &c.evidence {
                out.push_str(&format!("{indent}    {}\n", p.dim(&inert(e))));
            }
        }
    }
    if hidden > 0 {
        out.push_str(&p.status(Status::Pass, &format!("✓ {hidden} passing, not shown")));
        out.push_str(&p.dim(" (the terminal is too short for the whole ladder)\n"));
    }

    if let Some(b) = r.first_broken() {
        out.push('\n');
        out.push_str(&first_broken(r, b, o, &p));
    }
    let warns: Vec<&CheckResult> = r
        .results
        .iter()
        .filter(|c| c.status == Status::Warn)
        .collect();
    for w in &warns {
        out.push_str(&format!(
            "\n{} {}: {}\n",
            p.status(Status::Warn, "!"),
            w.id,
            inert(&w.message)
        ));
        if let Some(h) = &w.hints.nudge {
            out.push_str(&format!(
                "  hint: {h} (more: labcheck hint {} {})\n",
                r.lab_id, w.id
            ));
        }
    }

    let s = r.summary();
    out.push('\n');
    let mut line = format!("{}/{} passed", s.passed, s.total);
    if s.failed > 0 {
        line.push_str(&format!(", {} failed", s.failed));
    }
    if s.warned > 0 {
        line.push_str(&format!(
            ", {} warning{}",
            s.warned,
            if s.warned == 1 { "" } else { "s" }
        ));
    }
    if s.skipped > 0 {
        line.push_str(&format!(", {} skipped", s.skipped));
    }
    if s.drills_not_run > 0 {
        line.push_str(&format!(
            ", {} drill{} not run (--drill)",
            s.drills_not_run,
            if s.drills_not_run == 1 { "" } else { "s" }
        ));
    }
    line.push_str(&format!(" · {}/{} points", s.points, s.max_points));
    if o.timings {
        line.push_str(&format!(" · {:.2}s", r.duration.as_secs_f64()));
    }
    out.push_str(&p.status(
        if s.failed == 0 && r.ok() {
            Status::Pass
        } else {
            Status::Fail
        },
        &line,
    ));
    out.push('\n');
    out
}

fn first_broken(r: &Report, b: &CheckResult, o: &RenderOptions, p: &Paint) -> String {
    let mut out = format!(
        "{} {} ({})\n",
        p.status(Status::Fail, "First broken step:"),
        p.bold(&b.title),
        b.id
    );
    out.push_str(&format!("  {}\n", inert(&b.message)));
    for e in &b.evidence {
        out.push_str(&format!("    {}\n", p.dim(&inert(e))));
    }
    // a diagnosis and the behaviours it explains, either way round
    let explained: Vec<&str> = r
        .results
        .iter()
        .filter(|x| x.causes.contains(&b.id))
        .map(|x| x.id.as_str())
        .collect();
    if !explained.is_empty() {
        out.push_str(&format!(
            "  {} {} fail{} because of this.\n",
            p.bold("Why it matters:"),
            explained.join(", "),
            if explained.len() == 1 { "s" } else { "" }
        ));
    }
    for cause in r.results.iter().filter(|x| b.causes.contains(&x.id)) {
        out.push_str(&format!(
            "  {} {}: {}\n",
            p.bold("Cause:"),
            cause.id,
            inert(&cause.message)
        ));
    }
    // The first level only: the learner asks for the next ones, one at a time.
    if let Some(h) = &b.hints.nudge {
        out.push_str(&format!("  {} {h}\n", p.bold("Hint:")));
    }
    if let Some(see) = &b.see {
        out.push_str(&format!("  {} {see}\n", p.bold("See it yourself:")));
    }
    if let Some(book) = &b.book {
        out.push_str(&format!("  {} {}\n", p.bold("Read:"), o.book_link(book)));
    }
    if b.hints.nudge.is_some() {
        out.push_str(&format!(
            "  {} labcheck hint {}  (one more level each run: the idea, the command to see it, the fix)\n",
            p.bold("More help:"),
            r.lab_id
        ));
    }
    out
}

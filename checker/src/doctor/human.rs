//! The diagnosis for people: one line per finding with its symbol, the fix indented below,
//! then a summary. Text from the engine is rendered inert ([`super::inert`]).

use owo_colors::OwoColorize;

use super::{inert, Diagnosis, Level};

fn paint(color: bool, level: Level, text: &str) -> String {
    if !color {
        return text.to_string();
    }
    match level {
        Level::Ok => text.green().to_string(),
        Level::Unknown => text.dimmed().to_string(),
        Level::Warn => text.yellow().to_string(),
        Level::Blocks => text.red().bold().to_string(),
    }
}

pub fn render(d: &Diagnosis, color: bool) -> String {
    let what = match &d.lab {
        Some(lab) => format!("labcheck doctor: the engine, and what lab {lab} needs"),
        None => "labcheck doctor: the engine".to_string(),
    };
    let mut out = format!("{what}\n\n");
    for f in &d.findings {
        let mut line = inert(&f.what);
        if !f.why.is_empty() && f.level != Level::Ok {
            line.push_str(": ");
            line.push_str(&inert(&f.why));
        }
        out.push_str(&format!(
            "{} {line}\n",
            paint(color, f.level, f.level.symbol())
        ));
        if let Some(fix) = &f.fix {
            out.push_str(&format!("    fix: {}\n", inert(fix)));
        }
    }
    let blocks = d.count(Level::Blocks);
    let warns = d.count(Level::Warn);
    let unknown = d.count(Level::Unknown);
    let mut summary = match blocks {
        0 => "nothing blocks the lab".to_string(),
        1 => "1 problem blocks the lab".to_string(),
        n => format!("{n} problems block the lab"),
    };
    if warns > 0 {
        summary.push_str(&format!(
            ", {warns} warning{}",
            if warns == 1 { "" } else { "s" }
        ));
    }
    if unknown > 0 {
        summary.push_str(&format!(", {unknown} not known"));
    }
    let level = if blocks > 0 {
        Level::Blocks
    } else if warns > 0 {
        Level::Warn
    } else {
        Level::Ok
    };
    out.push('\n');
    out.push_str(&paint(color, level, &summary));
    out.push('\n');
    out
}

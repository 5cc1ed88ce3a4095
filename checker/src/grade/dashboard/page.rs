//! The page itself (maud: every splice is HTML-escaped).

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::{first_broken, inert, move_of, rates, Cell, Move, Rate};
use crate::grade::history::Entry;
use crate::grade::progress_file::human;
use crate::grade::read::{Doc, DocLearner};

const STYLE: &str = include_str!("style.css");
/// Names listed per check under "stuck here" before "+N more".
const STUCK_SHOWN: usize = 8;

/// index.html for `doc` (grade.json as written); `history` is history.jsonl, oldest first, this
/// grading last.
pub fn render(doc: &Doc, history: &[Entry]) -> String {
    // The grading before this one: what "since last" compares with.
    let previous = history.len().checked_sub(2).map(|i| &history[i]);
    let moves: Vec<Move> = doc.learners.iter().map(|l| move_of(l, previous)).collect();
    let moved = moves
        .iter()
        .filter(|m| matches!(m, Move::Moved { .. }))
        .count();
    let graded: Vec<&DocLearner> = doc
        .learners
        .iter()
        .filter(|l| l.status == "ok" || l.status == "failing")
        .collect();
    let max: u32 = doc.lab.checks.iter().map(|c| c.points).sum();
    let s = &doc.summary;
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (doc.lab.id) " · class dashboard" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { (doc.lab.id) ": " (inert(&doc.lab.title)) }
                    p.meta {
                        "Graded " time datetime=(doc.finished_at) { (doc.finished_at) }
                        " · lab.toml sha256 " code { (doc.lab.sha256.get(..12).unwrap_or(&doc.lab.sha256)) }
                    }
                    p.counts {
                        span #n-learners { (s.learners) } " learners: "
                        span.k.rok #n-ok { (s.ok) " ok" } " "
                        span.k.rf #n-failing { (s.failing) " failing" } " "
                        span.k.ru #n-absent { (s.absent) " absent" } " "
                        span.k.ru #n-error { (s.error) " unreachable" }
                        @if !graded.is_empty() {
                            " · average "
                            span #average { (format!("{:.1}", graded.iter().map(|l| f64::from(l.points)).sum::<f64>() / graded.len() as f64)) }
                            " / " (max) " points over the " (graded.len()) " with a stack"
                        }
                    }
                }
                (stuck(doc))
                (grid(doc, &moves, moved, previous))
                (earlier(doc, history, &moves, previous))
            }
        }
    };
    page.into_string()
}

fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn stuck(doc: &Doc) -> Markup {
    let rates = rates(doc);
    html! {
        section #stuck {
            h2 { "Where the class is stuck" }
            p.help { "Each check's pass rate over the learners whose stack was found, lowest first; “stuck here”: learners whose first broken step it is." }
            table.rates {
                thead { tr {
                    th { "check" } th { "pts" } th { "passed" } th { "failed" } th { "skipped" } th { "rate" } th { "stuck here" }
                } }
                tbody {
                    @for r in &rates { (rate_row(r)) }
                }
            }
        }
    }
}

fn rate_row(r: &Rate<'_>) -> Markup {
    let width = r.rate().map(|x| (x * 100.0).round() as u32).unwrap_or(0);
    html! {
        tr data-check=(r.id) {
            th scope="row" { a href={ "#c-" (r.id) } { (r.id) } }
            td.num.pts { (r.points) }
            td.num.earned { (r.earned) "/" (r.graded) }
            td.num.failed { (r.failed) }
            td.num.skipped { (r.skipped) }
            td.rate {
                span.bar { span.fill style={ "width:" (width) "%" } {} }
                " " span.pct { (pct(r.rate())) }
            }
            td.who {
                @for id in r.stuck.iter().take(STUCK_SHOWN) { a href={ "#l-" (id) } { (id) } " " }
                @if r.stuck.len() > STUCK_SHOWN { "+" (r.stuck.len() - STUCK_SHOWN) " more" }
            }
        }
    }
}

const FILTERS: [(&str, &str, &str); 6] = [
    ("all", "all", ""),
    ("f", "with a failure", "hf"),
    ("w", "with a warning", "hw"),
    ("u", "absent or unreachable", "ru"),
    ("ok", "all green", "rok"),
    ("mv", "moved since last grading", "mv"),
];

fn grid(doc: &Doc, moves: &[Move], moved: usize, previous: Option<&Entry>) -> Markup {
    let titles: Vec<String> = doc
        .lab
        .checks
        .iter()
        .map(|c| {
            let title = doc
                .learners
                .iter()
                .find_map(|l| l.result(&c.id).map(|r| r.title.clone()))
                .unwrap_or_default();
            let unit = if c.points == 1 { "point" } else { "points" };
            format!("{}: {} ({} {unit})", c.id, inert(&title), c.points)
        })
        .collect();
    html! {
        section #grid {
            h2 { "Learners × checks" }
            @for (id, _, _) in FILTERS {
                input.flt type="radio" name="show" id={ "show-" (id) } checked[id == "all"];
            }
            nav.filters aria-label="filter learners" {
                "Show: "
                @for (id, label, _) in FILTERS {
                    label for={ "show-" (id) } { (label) @if id == "mv" { " (" (moved) ")" } }
                }
                span.legend {
                    @for c in [Cell::Pass, Cell::Warn, Cell::Fail, Cell::Skip, Cell::Unreachable] {
                        span class={ "c " (c.class()) } { (c.symbol()) } " " (c.word()) " "
                    }
                }
            }
            div.scroll {
                table.heat {
                    thead { tr {
                        th.corner scope="col" { "learner" }
                        th scope="col" { "status" }
                        th scope="col" { "points" }
                        th scope="col" title=(since(previous)) { "since last" }
                        th scope="col" { "first broken" }
                        th scope="col" { "time to green" }
                        @for (c, t) in doc.lab.checks.iter().zip(&titles) {
                            th.ck scope="col" id={ "c-" (c.id) } title=(t) { span { (c.id) } }
                        }
                    } }
                    tbody {
                        @for (l, m) in doc.learners.iter().zip(moves) { (learner_row(doc, l, m)) }
                    }
                }
            }
        }
    }
}

fn since(previous: Option<&Entry>) -> String {
    match previous {
        Some(p) => format!("points gained since the grading of {}", p.finished_at),
        None => "no earlier grading in this folder".into(),
    }
}

fn learner_row(doc: &Doc, l: &DocLearner, m: &Move) -> Markup {
    let cells: Vec<(Cell, String)> = doc
        .lab
        .checks
        .iter()
        .map(|c| {
            let grade = l.checks.iter().find(|g| g.id == c.id);
            let cell = Cell::of(&l.status, grade.map_or("error", |g| g.status.as_str()));
            (cell, cell_title(l, &c.id, cell))
        })
        .collect();
    let has = |k: Cell| cells.iter().any(|(c, _)| *c == k);
    let row_class = match l.status.as_str() {
        "ok" => "rok",
        "failing" => "rf",
        _ => "ru",
    };
    let classes = format!(
        "{row_class}{}{}{}",
        if has(Cell::Fail) { " hf" } else { "" },
        if has(Cell::Warn) { " hw" } else { "" },
        if matches!(m, Move::Moved { .. }) {
            " mv"
        } else {
            ""
        }
    );
    let error = l.error.as_deref().map(inert);
    html! {
        tr class=(classes) id={ "l-" (l.id) } data-learner=(l.id) {
            th scope="row" title=[error.as_deref()] { (l.id) }
            td.st { (l.status) }
            td.num.pts { (l.points) "/" (l.max_points) }
            (move_cell(m))
            td.fb { @if let Some(fb) = first_broken(l) { a href={ "#c-" (fb) } { (fb) } } @else { "—" } }
            (green_cell(l))
            @for (cell, title) in &cells {
                td class={ "c " (cell.class()) } title=(title) { (cell.symbol()) }
            }
        }
    }
}

fn cell_title(l: &DocLearner, check: &str, cell: Cell) -> String {
    let grade = l.checks.iter().find(|g| g.id == check);
    let mut t = format!("{} · {check}: {}", l.id, cell.word());
    if let Some(g) = grade {
        t.push_str(&format!(" ({}/{} points)", g.points, g.max_points));
    }
    if cell == Cell::Unreachable {
        if let Some(e) = &l.error {
            t.push_str(&format!("\n{}", inert(e)));
        }
        return t;
    }
    if let Some(r) = l.result(check) {
        if !r.message.is_empty() {
            t.push_str(&format!("\n{}", inert(&r.message)));
        }
        if cell != Cell::Pass {
            if let Some(h) = &r.hint {
                t.push_str(&format!("\nhint: {}", inert(h)));
            }
        }
    }
    if let Some(n) = grade.and_then(|g| g.note.as_deref()) {
        t.push_str(&format!("\nnote: {}", inert(n)));
    }
    t
}

fn move_cell(m: &Move) -> Markup {
    match m {
        Move::New => html! { td.mvc.new title="not in the previous grading" { "new" } },
        Move::Same => html! { td.mvc.same title="no change" { "=" } },
        Move::Moved { delta, before } => {
            let (class, arrow) = match delta.signum() {
                1 => ("up", "▲"),
                -1 => ("down", "▼"),
                _ => ("same", "◆"),
            };
            html! {
                td class={ "mvc " (class) } title={ "was " (before) } {
                    (arrow) " " @if *delta > 0 { "+" } (delta)
                }
            }
        }
    }
}

fn green_cell(l: &DocLearner) -> Markup {
    match &l.progress {
        None => html! { td.ttg title="no progress file in the roster" { "—" } },
        Some(p) => match p.time_to_green_secs {
            Some(t) => html! { td.ttg.num title={ (format!("{t:.0}")) " s" } { (human(t)) } },
            None => {
                html! { td.ttg title=(inert(p.note.as_deref().unwrap_or("not green yet"))) { "—" } }
            }
        },
    }
}

/// Moves listed by name in each direction; the "moved" filter shows them all.
const MOVES_SHOWN: usize = 10;

fn earlier(doc: &Doc, history: &[Entry], moves: &[Move], previous: Option<&Entry>) -> Markup {
    let mut up: Vec<(&DocLearner, i64, &Move)> = Vec::new();
    let mut down = Vec::new();
    for (l, m) in doc.learners.iter().zip(moves) {
        if let Move::Moved { delta, .. } = m {
            if *delta >= 0 {
                up.push((l, *delta, m))
            } else {
                down.push((l, *delta, m))
            }
        }
    }
    up.sort_by_key(|(_, d, _)| -d);
    down.sort_by_key(|(_, d, _)| *d);
    html! {
        section #history {
            h2 { "Earlier gradings in this folder" }
            @if let Some(p) = previous {
                p { "Since the grading of " time { (p.finished_at) } ": "
                    @if up.is_empty() && down.is_empty() { "nobody moved." }
                    @else { (up.len()) " moved up, " (down.len()) " down (the filter “moved since last grading” shows them all)." }
                }
                @for (label, list) in [("Most gained", &up), ("Most lost", &down)] {
                    @if !list.is_empty() {
                        p.moves { (label) ": "
                            @for (l, _, m) in list.iter().take(MOVES_SHOWN) {
                                a href={ "#l-" (l.id) } { (l.id) } " " (move_text(m)) "; "
                            }
                            @if list.len() > MOVES_SHOWN { "+" (list.len() - MOVES_SHOWN) " more" }
                        }
                    }
                }
            } @else {
                p { "This is the first grading recorded in this folder (history.jsonl)." }
            }
            table.runs {
                thead { tr { th { "finished" } th { "graded" } th { "ok" } th { "failing" } th { "absent" } th { "unreachable" } th { "average" } } }
                tbody {
                    @for e in history.iter().rev() {
                        tr {
                            td { time { (e.finished_at) } }
                            td { @match &e.only { Some(ids) => { "only " (ids.join(", ")) }, None => { "the class" } } }
                            td.num { (e.count("ok")) }
                            td.num { (e.count("failing")) }
                            td.num { (e.count("absent")) }
                            td.num { (e.count("error")) }
                            td.num { (average(e)) }
                        }
                    }
                }
            }
        }
    }
}

fn move_text(m: &Move) -> String {
    match m {
        Move::Moved { delta, before } => format!("{delta:+} (was {before})"),
        _ => String::new(),
    }
}

fn average(e: &Entry) -> String {
    let graded: Vec<u32> = e
        .learners
        .iter()
        .filter(|l| l.status == "ok" || l.status == "failing")
        .map(|l| l.points)
        .collect();
    if graded.is_empty() {
        return "—".into();
    }
    format!(
        "{:.1}",
        graded.iter().map(|&p| f64::from(p)).sum::<f64>() / graded.len() as f64
    )
}

use serde_json::json;

use super::*;
use crate::grade::history;

/// A grade.json of three learners on three checks: one green, one stuck at `healthy`, one
/// unreachable; `hostile` goes into the stuck learner's message, hint, note and error-free
/// fields a learner's stack controls.
fn doc(hostile: &str, ada_points: u32) -> Doc {
    let report = |first_broken: Option<&str>, msg: &str| {
        json!({
            "schema": "labcheck-report", "first_broken": first_broken,
            "checks": [
                {"id": "running", "title": "web is running", "message": "running (1 container)", "hint": "start it"},
                {"id": "healthy", "title": "web is healthy", "message": msg, "hint": format!("read the healthcheck: {hostile}")},
                {"id": "serves", "title": "GET / answers 200", "message": "200 OK", "hint": null}
            ]
        })
    };
    let check = |id: &str, status: &str, points: u32, max: u32, note: Option<&str>| json!({"id": id, "status": status, "points": points, "max_points": max, "note": note});
    let ada_green = ada_points == 6;
    let value = json!({
        "schema": "labcheck-grade", "schema_version": 1, "labcheck_version": "0.1.0",
        "lab": {"id": "phase-3", "title": "Networking <and> Compose", "file": "lab.toml",
                "sha256": "0123456789abcdef0123456789abcdef", "checks": [
            {"id": "running", "points": 1}, {"id": "healthy", "points": 2}, {"id": "serves", "points": 3}]},
        "roster": "class.toml", "options": {"jobs": 8, "timeout_ms": 30000, "warnings_cost_points": false},
        "started_at": "2026-12-01T10:00:00.000Z", "finished_at": "2026-12-01T10:00:05.000Z", "duration_ms": 5000,
        "summary": {"learners": 3, "ok": 1 + u32::from(ada_green), "failing": 1 - u32::from(ada_green), "absent": 0, "error": 1, "checks": [
            {"id": "running", "points": 1, "earned": 2, "failed": 0, "skipped": 0, "graded": 2},
            {"id": "healthy", "points": 2, "earned": 1 + u32::from(ada_green), "failed": 1 - u32::from(ada_green), "skipped": 0, "graded": 2},
            {"id": "serves", "points": 3, "earned": 1 + u32::from(ada_green), "failed": 0, "skipped": 1 - u32::from(ada_green), "graded": 2}]},
        "learners": [
            {"id": "ada", "status": if ada_green { "ok" } else { "failing" }, "points": ada_points, "max_points": 6,
             "error": null, "endpoint": "unix:///run/docker.sock", "project": "p",
             "started_at": "2026-12-01T10:00:00.000Z", "duration_ms": 900,
             "progress": {"file": "ada.json", "time_to_green_secs": null, "note": hostile},
             "checks": if ada_green {
                 vec![check("running", "pass", 1, 1, None), check("healthy", "pass", 2, 2, None), check("serves", "pass", 3, 3, None)]
             } else {
                 vec![check("running", "pass", 1, 1, None), check("healthy", "fail", 0, 2, None), check("serves", "skip", 0, 3, Some("skipped: needs healthy"))]
             },
             "report": if ada_green { report(None, "healthy") } else { report(Some("healthy"), &format!("unhealthy: {hostile}")) }},
            {"id": "bo", "status": "ok", "points": 6, "max_points": 6, "error": null,
             "endpoint": "unix:///run/docker.sock", "project": "p", "started_at": "2026-12-01T10:00:00.000Z",
             "duration_ms": 800, "progress": {"file": "bo.json", "time_to_green_secs": 754.0},
             "checks": [check("running", "pass", 1, 1, None), check("healthy", "pass", 2, 2, None), check("serves", "pass", 3, 3, None)],
             "report": report(None, "healthy")},
            {"id": "cy", "status": "error", "points": 0, "max_points": 6,
             "error": format!("cannot reach the engine: {hostile}"), "endpoint": "tcp://10.0.0.9:2376",
             "project": "", "started_at": "2026-12-01T10:00:00.000Z", "duration_ms": 5000,
             "checks": [check("running", "error", 0, 1, None), check("healthy", "error", 0, 2, None), check("serves", "error", 0, 3, None)],
             "report": null}
        ]
    });
    read::parse(&value.to_string())
        .expect("the test document reads")
        .0
}

const HOSTILE: &str = "<script>alert(1)</script>\" onmouseover=\"x\x1b]0;OWNED\x07\x1b[31m&amp;";

#[test]
fn hostile_strings_are_escaped_and_made_inert() {
    let page = render(&doc(HOSTILE, 1), &[]);
    assert!(
        !page.contains("<script"),
        "a tag from a learner's stack is text"
    );
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !page.contains("\" onmouseover"),
        "a quote cannot end an attribute"
    );
    assert!(page.contains("&quot; onmouseover=&quot;x"));
    assert!(
        !page.contains('\x1b') && !page.contains('\x07'),
        "no raw control character"
    );
    assert!(page.contains("\\u{1b}]0;OWNED\\u{7}\\u{1b}[31m"));
    assert!(
        page.contains("&amp;amp;"),
        "an entity in the text stays literal"
    );
    assert!(page.contains("Networking &lt;and&gt; Compose"));
    // Read back as a browser does: the cell's title is the text, the page has no script.
    let html = scraper::Html::parse_document(&page);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    assert_eq!(html.select(&sel("script")).count(), 0);
    let cell = html
        .select(&sel("tr#l-ada td.c"))
        .nth(1)
        .expect("ada's healthy cell");
    let title = cell.value().attr("title").unwrap();
    assert!(
        title.contains("unhealthy: <script>alert(1)</script>\" onmouseover=\"x\\u{1b}]0;OWNED"),
        "{title}"
    );
    assert!(
        title.contains("hint: read the healthcheck: <script>"),
        "{title}"
    );
    let unreachable = html.select(&sel("tr#l-cy th")).next().unwrap();
    assert!(unreachable
        .value()
        .attr("title")
        .unwrap()
        .starts_with("cannot reach the engine: <script>"));
    for el in html.select(&sel("*")) {
        assert!(
            el.value().attrs().all(|(name, _)| !name.starts_with("on")),
            "no event handler attribute: {:?}",
            el.value()
        );
    }
}

#[test]
fn inert_shows_control_characters_and_keeps_text() {
    assert_eq!(inert("a\x1b[2Jb\r\n\tc"), "a\\u{1b}[2Jb\\u{d}\n\tc");
    assert_eq!(inert("é ✓ <b>"), "é ✓ <b>");
}

#[test]
fn cells_map_every_status() {
    assert_eq!(Cell::of("failing", "pass"), Cell::Pass);
    assert_eq!(Cell::of("failing", "warn"), Cell::Warn);
    assert_eq!(Cell::of("failing", "fail"), Cell::Fail);
    assert_eq!(Cell::of("absent", "skip"), Cell::Skip);
    assert_eq!(Cell::of("error", "pass"), Cell::Unreachable);
    assert_eq!(Cell::of("failing", "error"), Cell::Unreachable);
}

#[test]
fn the_stuck_check_comes_first_with_who_is_stuck() {
    let d = doc("x", 1);
    let r = rates(&d);
    let ids: Vec<&str> = r.iter().map(|r| r.id).collect();
    assert_eq!(ids, ["healthy", "serves", "running"]);
    assert_eq!(r[0].stuck, ["ada"]);
    assert_eq!(r[0].rate(), Some(0.5));
}

#[test]
fn moves_compare_with_the_previous_grading() {
    let before = history::entry(&doc("x", 1), None);
    let now = doc("x", 6);
    assert_eq!(
        move_of(&now.learners[0], Some(&before)),
        Move::Moved {
            delta: 5,
            before: "failing 1/6".into()
        }
    );
    assert_eq!(move_of(&now.learners[1], Some(&before)), Move::Same);
    assert_eq!(move_of(&now.learners[1], None), Move::New);
}

/// The page, one element a line, its stylesheet left out (the snapshot is about content).
fn readable(page: &str) -> String {
    let start = page.find("<style>").unwrap() + "<style>".len();
    let end = page.find("</style>").unwrap();
    let mut out = format!("{}[style]{}", &page[..start], &page[end..]);
    for tag in [
        "<tr", "<section", "<h2", "<p", "<table", "<nav", "<input", "<header", "</tbody",
    ] {
        out = out.replace(tag, &format!("\n{tag}"));
    }
    out
}

#[test]
fn a_small_page() {
    let first = history::entry(&doc("x", 1), None);
    let now = doc("x", 6);
    let mut second = history::entry(&now, Some(&["ada".to_string()]));
    second.finished_at = "2026-12-01T11:00:00.000Z".into();
    let page = render(&now, &[first, second]);
    insta::assert_snapshot!(readable(&page));
}

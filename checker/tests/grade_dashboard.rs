//! What `labcheck grade` writes besides the gradebook, with no engine: index.html (its numbers
//! are grade.json's, read back as a browser parses the page), history.jsonl, `--only`.
//!
//! `a_class_of_100_by_40` also leaves its page in `$CARGO_TARGET_TMPDIR/dashboard-100x40/` for
//! scripts/dashboard-browser-test.sh (a real headless browser).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use assert_cmd::Command;
use labcheck::grade::{dashboard, read};
use scraper::{Html, Selector};
use serde_json::{json, Value};

/// A small deterministic generator (no rand crate needed for test data).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// A grade.json of `learners` x `checks` as labcheck writes it: each learner climbs the ladder
/// to some depth (then one failure, the rest skipped), with warnings on the way; a few are
/// unreachable or have no stack. `seed` picks who is where; `boost` moves learners further.
fn synthetic(learners: usize, checks: usize, seed: u64, boost: usize) -> Value {
    let mut rng = Lcg(seed);
    let ids: Vec<String> = (0..checks)
        .map(|i| {
            let kinds = [
                "running",
                "healthy",
                "resolves",
                "port-reachable",
                "published",
                "serves",
                "env",
                "volume",
            ];
            format!(
                "{}-{}",
                ["db", "web", "cache", "proxy", "worker"][i % 5],
                kinds[i % 8]
            ) + &format!("-{i:02}")
        })
        .collect();
    let points: Vec<u32> = (0..checks).map(|i| 1 + (i as u32 % 3)).collect();
    let max: u32 = points.iter().sum();
    let mut rows = Vec::new();
    let mut stats = vec![(0usize, 0usize, 0usize); checks]; // earned, failed, skipped
    let mut graded = 0;
    let mut counts = BTreeMap::<&str, usize>::new();
    for l in 0..learners {
        let id = format!("learner-{l:03}");
        let roll = rng.next(100);
        let status_kind = match roll {
            0..=3 => "error",
            4..=6 => "absent",
            _ => "graded",
        };
        let depth = ((rng.next(checks as u64 + 8) as usize) + boost * (l % 3)).min(checks);
        let mut cgs = Vec::new();
        let mut results = Vec::new();
        let mut first_broken = None;
        for (i, cid) in ids.iter().enumerate() {
            let (status, earned) = match status_kind {
                "error" => ("error", 0),
                "absent" => (if i == 0 { "fail" } else { "skip" }, 0),
                _ if i < depth => {
                    if rng.next(10) == 0 {
                        ("warn", points[i])
                    } else {
                        ("pass", points[i])
                    }
                }
                _ if i == depth => ("fail", 0),
                _ => ("skip", 0),
            };
            if status == "fail" && first_broken.is_none() {
                first_broken = Some(cid.clone());
            }
            let note = (status == "skip")
                .then(|| format!("skipped: needs {}", ids[depth.min(checks - 1)]));
            cgs.push(json!({"id": cid, "status": status, "points": earned, "max_points": points[i], "note": note}));
            results.push(json!({
                "id": cid, "title": format!("{cid} behaves"), "kind": "running", "status": status,
                "message": match status {
                    "pass" => format!("{cid}: running, healthy, answers on 5000 (3 containers)"),
                    "warn" => format!("{cid}: works, but differs from the lab's solution (DB_HOST=db.internal)"),
                    "fail" => format!("{cid}: connection refused on db:5432 after 3 attempts; last health output: pg_isready: no response"),
                    _ => format!("skipped: needs {}", ids[depth.min(checks - 1)]),
                },
                "hint": format!("Read `docker compose logs {}` and the troubleshooting section for {cid}.", &cid[..cid.find('-').unwrap()]),
            }));
        }
        let total: u32 = cgs
            .iter()
            .map(|c| c["points"].as_u64().unwrap() as u32)
            .sum();
        let status = match status_kind {
            "error" => "error",
            "absent" => "absent",
            _ if total == max => "ok",
            _ => "failing",
        };
        *counts.entry(status).or_default() += 1;
        if status == "ok" || status == "failing" {
            graded += 1;
            for (i, c) in cgs.iter().enumerate() {
                match (
                    c["points"] == c["max_points"],
                    c["status"].as_str().unwrap(),
                ) {
                    (true, _) => stats[i].0 += 1,
                    (false, "skip") => stats[i].2 += 1,
                    _ => stats[i].1 += 1,
                }
            }
        }
        let progress = (l % 4 == 0).then(|| json!({"file": format!("progress/{id}.json"), "time_to_green_secs": (status == "ok").then_some(600.0 + l as f64 * 37.0)}));
        rows.push(json!({
            "id": id, "status": status, "points": total, "max_points": max,
            "error": (status == "error").then_some("cannot reach the engine at ssh://10.0.0.9: connection timed out"),
            "endpoint": format!("ssh://{id}@10.0.{}.{}", l / 250, l % 250), "project": "phase-3",
            "started_at": "2026-12-01T10:00:00.000Z", "duration_ms": 1200 + rng.next(9000),
            "checks": cgs, "progress": progress,
            "report": (status != "error").then(|| json!({"schema": "labcheck-report", "first_broken": first_broken, "checks": results})),
        }));
    }
    json!({
        "schema": "labcheck-grade", "schema_version": 1, "labcheck_version": "0.1.0",
        "lab": {"id": "phase-3", "title": "Networking and Compose: Flask and PostgreSQL", "file": "labs/phase-3/lab.toml",
                "sha256": "5f1c0ffee5f1c0ffee5f1c0ffee5f1c0ffee5f1c0ffee5f1c0ffee5f1c0ffee0",
                "checks": ids.iter().zip(&points).map(|(id, p)| json!({"id": id, "points": p})).collect::<Vec<_>>()},
        "roster": "class.toml", "options": {"jobs": 8, "timeout_ms": 30000, "warnings_cost_points": false},
        "started_at": "2026-12-01T10:00:00.000Z",
        "finished_at": format!("2026-12-01T1{}:00:00.000Z", seed % 10), "duration_ms": 42000,
        "summary": {
            "learners": learners,
            "ok": counts.get("ok").copied().unwrap_or(0), "failing": counts.get("failing").copied().unwrap_or(0),
            "absent": counts.get("absent").copied().unwrap_or(0), "error": counts.get("error").copied().unwrap_or(0),
            "checks": ids.iter().enumerate().map(|(i, id)| json!({"id": id, "points": points[i], "earned": stats[i].0, "failed": stats[i].1, "skipped": stats[i].2, "graded": graded})).collect::<Vec<_>>(),
        },
        "learners": rows,
    })
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn text(el: scraper::ElementRef<'_>) -> String {
    el.text().collect::<String>().trim().to_string()
}

/// Every number the page shows, checked against the grade.json it was made from.
fn assert_page_matches(page: &str, json: &Value, previous: Option<&Value>) {
    let html = Html::parse_document(page);
    let one = |s: &str| {
        text(
            html.select(&sel(s))
                .next()
                .unwrap_or_else(|| panic!("no {s}")),
        )
    };
    let s = &json["summary"];
    assert_eq!(one("#n-learners"), s["learners"].to_string());
    assert_eq!(one("#n-ok"), format!("{} ok", s["ok"]));
    assert_eq!(one("#n-failing"), format!("{} failing", s["failing"]));
    assert_eq!(one("#n-absent"), format!("{} absent", s["absent"]));
    assert_eq!(one("#n-error"), format!("{} unreachable", s["error"]));
    assert_eq!(
        html.select(&sel("script, link, img, iframe")).count(),
        0,
        "nothing outside the file"
    );

    // Where the class is stuck: every check once, its counts, lowest rate first.
    let stats: BTreeMap<String, &Value> = s["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c))
        .collect();
    let mut last_rate = -1.0;
    let rate_rows: Vec<_> = html.select(&sel("table.rates tbody tr")).collect();
    assert_eq!(rate_rows.len(), stats.len());
    for tr in rate_rows {
        let id = tr.value().attr("data-check").unwrap();
        let st = stats[id];
        let cell = |c: &str| text(tr.select(&sel(c)).next().unwrap());
        assert_eq!(
            cell("td.earned"),
            format!("{}/{}", st["earned"], st["graded"]),
            "{id}"
        );
        assert_eq!(cell("td.failed"), st["failed"].to_string(), "{id}");
        assert_eq!(cell("td.skipped"), st["skipped"].to_string(), "{id}");
        assert_eq!(cell("td.pts"), st["points"].to_string(), "{id}");
        let rate = st["earned"].as_f64().unwrap() / st["graded"].as_f64().unwrap().max(1.0);
        assert!(rate >= last_rate, "{id} is out of order");
        last_rate = rate;
    }

    // The heat map: a row per learner, in order, a cell per check with its status.
    let checks: Vec<&str> = json["lab"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let heads: Vec<String> = html.select(&sel("table.heat th.ck")).map(text).collect();
    assert_eq!(heads, checks);
    let learners = json["learners"].as_array().unwrap();
    let rows: Vec<_> = html.select(&sel("table.heat tbody tr")).collect();
    assert_eq!(rows.len(), learners.len());
    let mut moved = 0;
    for (tr, l) in rows.iter().zip(learners) {
        let id = l["id"].as_str().unwrap();
        assert_eq!(tr.value().attr("data-learner"), Some(id));
        let cell = |c: &str| text(tr.select(&sel(c)).next().unwrap());
        assert_eq!(
            cell("td.pts"),
            format!("{}/{}", l["points"], l["max_points"]),
            "{id}"
        );
        assert_eq!(cell("td.st"), l["status"].as_str().unwrap(), "{id}");
        let fb = l["report"]["first_broken"].as_str().unwrap_or("—");
        assert_eq!(cell("td.fb"), fb, "{id}");
        let classes: Vec<&str> = tr
            .select(&sel("td.c"))
            .map(|td| td.value().classes().find(|c| *c != "c").unwrap())
            .collect();
        let want: Vec<&str> = l["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(
                |c| match (l["status"].as_str().unwrap(), c["status"].as_str().unwrap()) {
                    ("error", _) | (_, "error") => "u",
                    (_, "pass") => "p",
                    (_, "warn") => "w",
                    (_, "fail") => "f",
                    _ => "s",
                },
            )
            .collect();
        assert_eq!(classes, want, "{id}");
        let ttg = cell("td.ttg");
        match l["progress"]["time_to_green_secs"].as_f64() {
            Some(t) => assert_eq!(ttg, labcheck::grade::progress_file::human(t), "{id}"),
            None => assert_eq!(ttg, "—", "{id}"),
        }
        if let Some(prev) = previous {
            let before = prev["learners"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["id"] == l["id"])
                .unwrap();
            let delta = l["points"].as_i64().unwrap() - before["points"].as_i64().unwrap();
            let moves = delta != 0 || before["status"] != l["status"];
            assert_eq!(tr.value().classes().any(|c| c == "mv"), moves, "{id}");
            moved += usize::from(moves);
            let shown = cell("td.mvc");
            match delta.signum() {
                1 => assert_eq!(shown, format!("▲ +{delta}"), "{id}"),
                -1 => assert_eq!(shown, format!("▼ {delta}"), "{id}"),
                _ if moves => assert_eq!(shown, "◆ 0", "{id}"),
                _ => assert_eq!(shown, "=", "{id}"),
            }
        }
    }
    if previous.is_some() {
        assert_eq!(
            one("label[for=show-mv]"),
            format!("moved since last grading ({moved})")
        );
    }
}

/// Write `json` as grade.json into `dir` and let labcheck add history and index.html.
fn grade_into(dir: &Path, json: &Value, previous: Option<&Value>) -> String {
    std::fs::write(
        dir.join("grade.json"),
        serde_json::to_string_pretty(json).unwrap(),
    )
    .unwrap();
    let prev = previous.map(|p| read::parse(&p.to_string()).unwrap().0);
    dashboard::write(dir, prev.as_ref(), None).unwrap();
    std::fs::read_to_string(dir.join("index.html")).unwrap()
}

#[test]
fn a_class_of_100_by_40() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-100x40");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let first = synthetic(100, 40, 1, 0);
    let page = grade_into(&dir, &first, None);
    assert_page_matches(&page, &first, None);
    // A later grading of the same class, most of them further along.
    let second = synthetic(100, 40, 2, 6);
    let started = Instant::now();
    let page = grade_into(&dir, &second, Some(&first));
    let took = started.elapsed();
    assert_page_matches(&page, &second, Some(&first));
    let history = std::fs::read_to_string(dir.join("history.jsonl")).unwrap();
    assert_eq!(history.lines().count(), 2);
    let grade_json = std::fs::metadata(dir.join("grade.json")).unwrap().len();
    eprintln!(
        "[dashboard] 100 x 40: index.html {} bytes (grade.json {grade_json} bytes), written in {took:.2?}; {}",
        page.len(),
        dir.join("index.html").display()
    );
    assert!(page.len() < 2_000_000, "the page is {} bytes", page.len());
}

/// A roster of unreachable learners (no engine needed); returns (labs dir, roster).
fn class(dir: &Path, learners: &[&str]) -> (PathBuf, PathBuf) {
    let labs = dir.join("labs");
    std::fs::create_dir_all(labs.join("demo")).unwrap();
    if !labs.join("demo/lab.toml").exists() {
        std::fs::write(
            labs.join("demo/lab.toml"),
            include_str!("fixtures/demo-lab.toml"),
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("ada-progress.json"),
        r#"{"schema": "labcheck-progress", "schema_version": 1, "labs": {"demo": {"time_to_green_secs": 754}}}"#,
    )
    .unwrap();
    let roster: String = learners
        .iter()
        .map(|id| {
            let progress = if *id == "ada" { "progress = \"ada-progress.json\"\n" } else { "" };
            format!("[[learner]]\nid = \"{id}\"\nendpoint = \"unix:///nonexistent-{id}.sock\"\n{progress}\n")
        })
        .collect();
    std::fs::write(dir.join("class.toml"), roster).unwrap();
    (labs, dir.join("class.toml"))
}

fn grade(dir: &Path, labs: &Path, roster: &Path, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("labcheck")
        .unwrap()
        .env_remove("DOCKER_HOST")
        .env_remove("LABCHECK_LABS")
        .args(["grade", "demo", "--roster"])
        .arg(roster)
        .arg("--out")
        .arg(dir.join("out"))
        .arg("--lab-dir")
        .arg(labs)
        .args(extra)
        .output()
        .unwrap()
}

fn grade_json(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("out/grade.json")).unwrap()).unwrap()
}

fn row<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["learners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == id)
        .unwrap()
}

#[test]
fn only_regrades_those_named_and_keeps_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (labs, roster) = class(t, &["ada", "bob", "cy"]);
    let o = grade(t, &labs, &roster, &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let before = grade_json(t);
    assert_eq!(row(&before, "ada")["progress"]["time_to_green_secs"], 754.0);
    let junit_cy = std::fs::read_to_string(t.join("out/junit/cy.xml")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));

    let o = grade(t, &labs, &roster, &["--only", "bob,ada"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("regraded: bob, ada; the 1 other row(s) kept"),
        "{stdout}"
    );
    let after = grade_json(t);
    assert_eq!(
        row(&after, "cy"),
        row(&before, "cy"),
        "a kept row is kept as it was"
    );
    for id in ["ada", "bob"] {
        assert_ne!(
            row(&after, id)["started_at"],
            row(&before, id)["started_at"],
            "{id} regraded"
        );
    }
    let order: Vec<&str> = after["learners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["ada", "bob", "cy"], "roster order");
    assert_eq!(after["summary"]["error"], 3);
    assert_eq!(
        std::fs::read_to_string(t.join("out/junit/cy.xml")).unwrap(),
        junit_cy
    );
    let csv = std::fs::read_to_string(t.join("out/gradebook.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");

    let history: Vec<Value> = std::fs::read_to_string(t.join("out/history.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["only"], Value::Null);
    assert_eq!(history[1]["only"], json!(["bob", "ada"]));
    let page = std::fs::read_to_string(t.join("out/index.html")).unwrap();
    assert_page_matches(&page, &after, Some(&before));
    assert!(
        page.contains("only bob, ada") && page.contains("12 min"),
        "{page}"
    );
}

#[test]
fn only_says_what_to_do_when_nothing_can_be_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (labs, roster) = class(t, &["ada", "bob"]);
    let err = |o: std::process::Output| {
        assert_eq!(o.status.code(), Some(2));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let e = err(grade(t, &labs, &roster, &["--only", "bob"]));
    assert!(
        e.contains("grade.json does not exist: grade the whole class first (without --only)"),
        "{e}"
    );
    assert_eq!(grade(t, &labs, &roster, &[]).status.code(), Some(1));
    let e = err(grade(t, &labs, &roster, &["--only", "zed"]));
    assert!(
        e.contains("--only names `zed`, who is not in the roster"),
        "{e}"
    );
    // The other side of --strict: the kept rows were scored by other rules.
    let e = err(grade(t, &labs, &roster, &["--only", "bob", "--strict"]));
    assert!(
        e.contains("was graded without --strict, and this grading is with --strict"),
        "{e}"
    );
    assert_eq!(grade_json(t)["options"]["strict"], false);
    let (_, bigger) = class(t, &["ada", "bob", "dee"]);
    let e = err(grade(t, &labs, &bigger, &["--only", "bob"]));
    assert!(
        e.contains("`dee` is in the roster but not in") && e.contains("add them to --only"),
        "{e}"
    );
    // Another version of the lab: its points would not add up with the kept ones.
    let toml = labs.join("demo/lab.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, text.replace("Demo lab", "Demo lab, revised")).unwrap();
    let (_, same) = class(t, &["ada", "bob"]);
    let e = err(grade(t, &labs, &same, &["--only", "bob"]));
    assert!(e.contains("another version of demo's lab.toml"), "{e}");
}

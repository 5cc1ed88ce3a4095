//! What `labcheck grade` writes: gradebook.csv, grade.json, junit/<learner>.xml, and the summary
//! table for the terminal.

use std::path::Path;
use std::time::SystemTime;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::{Gradebook, LearnerGrade, RowStatus};
use crate::report::{self, junit, RenderOptions};

pub const SCHEMA: &str = "labcheck-grade";
pub const SCHEMA_VERSION: u32 = 1;

/// RFC 3339 UTC time, to the millisecond.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// Defuse a cell that a spreadsheet would read as a formula (learner-controlled text ends up
/// in error messages); the csv writer does the quoting.
fn defuse(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

pub fn csv(g: &Gradebook) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut row = |cells: Vec<String>| {
        w.write_record(cells.iter().map(|c| defuse(c).into_owned()))
            .expect("writing CSV to memory")
    };
    let mut header: Vec<String> = ["learner", "status", "total", "max"]
        .map(String::from)
        .into();
    header.extend(g.check_ids.iter().cloned());
    header.extend(["project", "endpoint", "seconds", "error"].map(String::from));
    row(header);
    for r in &g.rows {
        let mut cells = vec![
            r.learner.id.clone(),
            r.status.as_str().to_string(),
            r.points.to_string(),
            r.max_points.to_string(),
        ];
        cells.extend(r.checks.iter().map(|c| c.points.to_string()));
        cells.push(project_of(r));
        cells.push(r.endpoint.clone());
        cells.push(format!("{:.2}", r.duration.as_secs_f64()));
        cells.push(r.error.clone().unwrap_or_default());
        row(cells);
    }
    let bytes = w.into_inner().expect("flushing CSV to memory");
    String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
}

fn project_of(r: &LearnerGrade) -> String {
    if let Some(p) = r
        .kept
        .as_ref()
        .and_then(|k| k.get("project"))
        .and_then(|p| p.as_str())
    {
        return p.to_string();
    }
    match r.report.as_ref().map(|rep| &rep.stack) {
        Some(crate::report::StackState::Found {
            project: Some(p), ..
        }) => p.clone(),
        _ => r.learner.project.clone().unwrap_or_default(),
    }
}

fn render_opts() -> RenderOptions {
    RenderOptions {
        verbose: true,
        color: false,
        book_url: std::env::var("LABCHECK_BOOK_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "http://localhost:3000/".into()),
        timings: true,
    }
}

/// Pass counts per check over the learners whose stack was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckStats {
    pub id: String,
    pub points: u32,
    /// Learners who earned the check's points.
    pub earned: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Learners whose stack was found (the denominator).
    pub graded: usize,
}

pub fn check_stats(g: &Gradebook) -> Vec<CheckStats> {
    let graded: Vec<&LearnerGrade> = g
        .rows
        .iter()
        .filter(|r| matches!(r.status, RowStatus::Ok | RowStatus::Failing))
        .collect();
    g.check_ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut s = CheckStats {
                id: id.clone(),
                points: g.check_points[i],
                earned: 0,
                failed: 0,
                skipped: 0,
                graded: graded.len(),
            };
            for r in &graded {
                let c = &r.checks[i];
                if c.points == c.max_points {
                    s.earned += 1;
                } else if c.status == "skip" {
                    s.skipped += 1;
                } else {
                    s.failed += 1;
                }
            }
            s
        })
        .collect()
}

/// The gradebook as its versioned wire types (`grade.json`).
pub fn json(g: &Gradebook) -> super::wire::WireGrade<'_> {
    use super::wire::*;
    let opts = render_opts();
    let count = |s: RowStatus| g.rows.iter().filter(|r| r.status == s).count();
    WireGrade {
        schema: SCHEMA,
        schema_version: SCHEMA_VERSION,
        labcheck_version: env!("CARGO_PKG_VERSION"),
        lab: WireGradeLab {
            id: &g.lab_id,
            title: &g.lab_title,
            file: g.lab_file.display().to_string(),
            sha256: &g.lab_sha256,
            checks: g
                .check_ids
                .iter()
                .zip(&g.check_points)
                .map(|(id, &points)| WireLabCheck { id, points })
                .collect(),
        },
        roster: g.roster_file.display().to_string(),
        options: WireOptions {
            jobs: g.options.jobs,
            timeout_ms: g.options.timeout.as_millis() as u64,
            warnings_cost_points: g.rules.warnings_cost_points,
            strict: g.rules.strict,
        },
        started_at: rfc3339(g.started_at),
        finished_at: rfc3339(g.finished_at),
        duration_ms: g.duration.as_millis() as u64,
        summary: WireSummary {
            learners: g.rows.len(),
            ok: count(RowStatus::Ok),
            failing: count(RowStatus::Failing),
            absent: count(RowStatus::Absent),
            error: count(RowStatus::Error),
            checks: check_stats(g)
                .into_iter()
                .map(|s| WireCheckStats {
                    id: s.id,
                    points: s.points,
                    earned: s.earned,
                    failed: s.failed,
                    skipped: s.skipped,
                    graded: s.graded,
                })
                .collect(),
        },
        learners: g
            .rows
            .iter()
            .map(|r| match &r.kept {
                Some(row) => WireRow::Kept(row),
                None => WireRow::Graded(Box::new(WireLearner {
                    id: &r.learner.id,
                    status: r.status,
                    points: r.points,
                    max_points: r.max_points,
                    error: r.error.as_deref(),
                    endpoint: &r.endpoint,
                    project: project_of(r),
                    started_at: rfc3339(r.started_at),
                    duration_ms: r.duration.as_millis() as u64,
                    checks: &r.checks,
                    progress: r.progress.as_ref(),
                    report: r.report.as_ref().map(|rep| report::json::wire(rep, &opts)),
                })),
            })
            .collect(),
    }
}

/// JUnit for one learner: labcheck's own document with the learner named among the suite's
/// properties, or one errored testcase when the learner could not be graded.
pub fn junit(g: &Gradebook, r: &LearnerGrade) -> String {
    let learner = Property::new("learner", r.learner.id.as_str());
    let doc = match &r.report {
        Some(rep) => {
            let mut doc = junit::document(rep, &render_opts());
            for suite in &mut doc.test_suites {
                suite.properties.insert(0, learner.clone());
            }
            doc
        }
        None => {
            let msg = r.error.as_deref().unwrap_or("not graded");
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_message(msg)
                .set_type("unreachable")
                .set_description(msg);
            let mut case = TestCase::new("engine", status);
            case.set_classname(g.lab_id.as_str()).set_time(r.duration);
            let mut suite = TestSuite::new(g.lab_id.as_str());
            suite
                .set_time(r.duration)
                .add_property(learner)
                .add_property(Property::new("engine.endpoint", r.endpoint.as_str()))
                .add_test_case(case);
            let mut doc = quick_junit::Report::new("labcheck");
            doc.set_time(r.duration).add_test_suite(suite);
            doc
        }
    };
    junit::to_xml(&doc)
}

/// Write gradebook.csv, grade.json and junit/<learner>.xml into `dir` (a kept row's JUnit file
/// is left as the run that graded it wrote it).
pub fn write_all(g: &Gradebook, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("junit"))?;
    std::fs::write(dir.join("gradebook.csv"), csv(g))?;
    let mut j = serde_json::to_string_pretty(&json(g)).expect("grade JSON serialises");
    j.push('\n');
    std::fs::write(dir.join("grade.json"), j)?;
    for r in g.rows.iter().filter(|r| r.kept.is_none()) {
        // ids are checked by the roster: letters, digits, '.', '_', '-', never a leading '.'.
        std::fs::write(
            dir.join("junit").join(format!("{}.xml", r.learner.id)),
            junit(g, r),
        )?;
    }
    Ok(())
}

/// The table for the terminal: statuses, then each check's pass rate, hardest first marked.
pub fn summary(g: &Gradebook) -> String {
    let count = |s: RowStatus| g.rows.iter().filter(|r| r.status == s).count();
    let mut out = format!(
        "{}: {} learner(s) graded in {:.1}s (jobs {}, limit {:.0}s per learner)\n",
        g.lab_id,
        g.rows.len(),
        g.duration.as_secs_f64(),
        g.options.jobs,
        g.options.timeout.as_secs_f64()
    );
    out.push_str(&format!(
        "status: {} ok, {} failing, {} absent, {} error\n",
        count(RowStatus::Ok),
        count(RowStatus::Failing),
        count(RowStatus::Absent),
        count(RowStatus::Error)
    ));
    let graded: Vec<&LearnerGrade> = g
        .rows
        .iter()
        .filter(|r| matches!(r.status, RowStatus::Ok | RowStatus::Failing))
        .collect();
    let max: u32 = g.check_points.iter().sum();
    if !graded.is_empty() {
        let avg = graded.iter().map(|r| f64::from(r.points)).sum::<f64>() / graded.len() as f64;
        out.push_str(&format!(
            "average over the {} learner(s) with a stack: {avg:.1} / {max} points\n",
            graded.len()
        ));
    }
    let stats = check_stats(g);
    let width = stats.iter().map(|s| s.id.len()).max().unwrap_or(5).max(5);
    out.push_str(&format!(
        "\n{:<width$}  {:>3}  {:>6}  {:>4}  {:>4}  {:>5}\n",
        "check", "pts", "passed", "fail", "skip", "rate"
    ));
    for s in &stats {
        let rate = if s.graded == 0 {
            0.0
        } else {
            s.earned as f64 / s.graded as f64
        };
        let bar_len = (rate * 10.0).round() as usize;
        out.push_str(&format!(
            "{:<width$}  {:>3}  {:>6}  {:>4}  {:>4}  {:>4.0}%  {}{}\n",
            s.id,
            s.points,
            format!("{}/{}", s.earned, s.graded),
            s.failed,
            s.skipped,
            rate * 100.0,
            "#".repeat(bar_len),
            ".".repeat(10 - bar_len)
        ));
    }
    let mut hardest: Vec<&super::output::CheckStats> = stats
        .iter()
        .filter(|s| s.graded > 0 && s.failed > 0)
        .collect();
    hardest.sort_by(|a, b| b.failed.cmp(&a.failed).then(a.id.cmp(&b.id)));
    if !hardest.is_empty() {
        let list: Vec<String> = hardest
            .iter()
            .take(3)
            .map(|s| format!("{} ({} failing)", s.id, s.failed))
            .collect();
        out.push_str(&format!(
            "\nwhere the class struggles: {}\n",
            list.join(", ")
        ));
    }
    let not_graded: Vec<&LearnerGrade> = g
        .rows
        .iter()
        .filter(|r| matches!(r.status, RowStatus::Error | RowStatus::Absent))
        .collect();
    if !not_graded.is_empty() {
        out.push_str("\nnot graded:\n");
        for r in not_graded {
            let first = r
                .error
                .as_deref()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("");
            let short: String = first.chars().take(160).collect();
            out.push_str(&format!(
                "  {:<16} {:<7} {short}\n",
                r.learner.id,
                r.status.as_str()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::grade::{CheckGrade, Endpoint, GradeOptions, GradingRules, Learner};
    use crate::report::{EngineInfo, StackState};

    fn row(id: &str, status: RowStatus, error: Option<&str>) -> LearnerGrade {
        LearnerGrade {
            learner: Learner {
                id: id.into(),
                endpoint: Endpoint::Unix("/run/docker.sock".into()),
                project: Some(format!("{id}-lab")),
                http_host: None,
                progress: None,
            },
            status,
            checks: vec![CheckGrade {
                id: "db-running".into(),
                status: if error.is_some() { "error" } else { "pass" }.into(),
                points: u32::from(error.is_none()),
                max_points: 1,
                note: None,
            }],
            points: u32::from(error.is_none()),
            max_points: 1,
            error: error.map(String::from),
            endpoint: "unix:///run/docker.sock".into(),
            report: None,
            started_at: UNIX_EPOCH,
            duration: Duration::from_millis(1234),
            progress: None,
            kept: None,
        }
    }

    fn gradebook(rows: Vec<LearnerGrade>) -> Gradebook {
        Gradebook {
            lab_id: "phase-3".into(),
            lab_title: "Networking and Compose".into(),
            lab_file: "labs/phase-3/lab.toml".into(),
            lab_sha256: "0".repeat(64),
            check_ids: vec!["db-running".into()],
            check_points: vec![1],
            roster_file: "class.toml".into(),
            options: GradeOptions {
                jobs: 8,
                timeout: Duration::from_secs(30),
            },
            rules: GradingRules::default(),
            started_at: UNIX_EPOCH,
            finished_at: UNIX_EPOCH,
            duration: Duration::from_secs(2),
            rows,
        }
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_millis(1_795_000_000_123)),
            "2026-11-18T11:06:40.123Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn formulas_are_defused_and_only_formulas() {
        for bad in ["=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(defuse(bad), format!("'{bad}"));
        }
        assert_eq!(defuse("plain, with = inside"), "plain, with = inside");
        assert_eq!(defuse(""), "");
    }

    #[test]
    fn the_gradebook_is_quoted_csv_with_formulas_defused() {
        let hostile = "=HYPERLINK(\"http://x\"), then\na second line";
        let g = gradebook(vec![
            row("ada", RowStatus::Ok, None),
            row("bob", RowStatus::Error, Some(hostile)),
        ]);
        let text = csv(&g);
        assert_eq!(
            text,
            "learner,status,total,max,db-running,project,endpoint,seconds,error\n\
             ada,ok,1,1,1,ada-lab,unix:///run/docker.sock,1.23,\n\
             bob,error,0,1,0,bob-lab,unix:///run/docker.sock,1.23,\"'=HYPERLINK(\"\"http://x\"\"), then\na second line\"\n"
        );
        // A CSV reader gets the cells back, the formula still defused.
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes())
            .records()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[1][8], format!("'{hostile}"));
    }

    #[test]
    fn an_ungraded_learner_is_one_errored_junit_case() {
        let g = gradebook(vec![row(
            "bob",
            RowStatus::Error,
            Some("cannot reach <engine> & co"),
        )]);
        let xml = junit(&g, &g.rows[0]);
        // (the whole file is pinned in tests/cli_snapshots.rs)
        assert!(
            xml.contains(
                r#"<error message="cannot reach &lt;engine&gt; &amp; co" type="unreachable">"#
            ),
            "{xml}"
        );
        let doc = quick_junit::Report::deserialize_from_str(&xml).unwrap();
        assert_eq!((doc.tests, doc.errors, doc.failures), (1, 1, 0));
        let suite = &doc.test_suites[0];
        assert_eq!(suite.properties[0].value.as_str(), "bob");
    }

    #[test]
    fn a_graded_learner_is_named_first_among_the_properties() {
        let mut r = row("ada", RowStatus::Absent, None);
        r.report = Some(crate::report::Report {
            lab_id: "phase-3".into(),
            lab_title: "Networking and Compose".into(),
            lab_book: None,
            engine: EngineInfo {
                endpoint: "unix:///run/docker.sock".into(),
                api_version: "1.45".into(),
                server_version: "26.1.5".into(),
            },
            stack: StackState::Absent {
                message: "no container of phase-3".into(),
            },
            notes: vec![],
            results: vec![],
            duration: Duration::from_millis(20),
        });
        let g = gradebook(vec![r]);
        let doc = quick_junit::Report::deserialize_from_str(&junit(&g, &g.rows[0])).unwrap();
        let props: Vec<(&str, &str)> = doc.test_suites[0]
            .properties
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(props[0], ("learner", "ada"));
        assert_eq!(props[1], ("lab.title", "Networking and Compose"));
        assert_eq!((doc.tests, doc.failures), (1, 1));
    }
}

//! What `labcheck grade` writes: gradebook.csv, grade.json, junit/<learner>.xml, and the summary
//! table for the terminal.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{Gradebook, LearnerGrade, RowStatus};
use crate::report::junit::xml_escape;
use crate::report::{self, Format, RenderOptions};

pub const SCHEMA: &str = "labcheck-grade";
pub const SCHEMA_VERSION: u32 = 1;

/// RFC 3339 UTC time, to the millisecond.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// A CSV cell: quoted when needed, and defused when a spreadsheet would read it as a formula
/// (learner-controlled text ends up in error messages).
pub fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub fn csv(g: &Gradebook) -> String {
    let mut out = String::new();
    let mut header = vec![
        "learner".to_string(),
        "status".into(),
        "total".into(),
        "max".into(),
    ];
    header.extend(g.check_ids.iter().cloned());
    header.extend([
        "project".into(),
        "endpoint".into(),
        "seconds".into(),
        "error".into(),
    ]);
    out.push_str(
        &header
            .iter()
            .map(|h| csv_cell(h))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push('\n');
    for r in &g.rows {
        let mut cells = vec![
            csv_cell(&r.learner.id),
            r.status.as_str().to_string(),
            r.points.to_string(),
            r.max_points.to_string(),
        ];
        cells.extend(r.checks.iter().map(|c| c.points.to_string()));
        cells.push(csv_cell(&project_of(r)));
        cells.push(csv_cell(&r.endpoint));
        cells.push(format!("{:.2}", r.duration.as_secs_f64()));
        cells.push(csv_cell(r.error.as_deref().unwrap_or("")));
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

fn project_of(r: &LearnerGrade) -> String {
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

pub fn json(g: &Gradebook) -> Value {
    let opts = render_opts();
    let learners: Vec<Value> = g
        .rows
        .iter()
        .map(|r| {
            let report = r.report.as_ref().map(|rep| {
                serde_json::to_value(report::json::wire(rep, &opts)).unwrap_or(Value::Null)
            });
            json!({
                "id": r.learner.id,
                "status": r.status,
                "points": r.points,
                "max_points": r.max_points,
                "error": r.error,
                "endpoint": r.endpoint,
                "project": project_of(r),
                "started_at": rfc3339(r.started_at),
                "duration_ms": r.duration.as_millis() as u64,
                "checks": r.checks,
                "report": report,
            })
        })
        .collect();
    let count = |s: RowStatus| g.rows.iter().filter(|r| r.status == s).count();
    let stats: Vec<Value> = check_stats(g)
        .into_iter()
        .map(|s| json!({"id": s.id, "points": s.points, "earned": s.earned, "failed": s.failed, "skipped": s.skipped, "graded": s.graded}))
        .collect();
    json!({
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "labcheck_version": env!("CARGO_PKG_VERSION"),
        "lab": {
            "id": g.lab_id,
            "title": g.lab_title,
            "file": g.lab_file.display().to_string(),
            "sha256": g.lab_sha256,
            "checks": g.check_ids.iter().zip(&g.check_points).map(|(id, p)| json!({"id": id, "points": p})).collect::<Vec<_>>(),
        },
        "roster": g.roster_file.display().to_string(),
        "options": {"jobs": g.options.jobs, "timeout_ms": g.options.timeout.as_millis() as u64, "warnings_cost_points": g.rules.warnings_cost_points},
        "started_at": rfc3339(g.started_at),
        "finished_at": rfc3339(g.finished_at),
        "duration_ms": g.duration.as_millis() as u64,
        "summary": {
            "learners": g.rows.len(),
            "ok": count(RowStatus::Ok),
            "failing": count(RowStatus::Failing),
            "absent": count(RowStatus::Absent),
            "error": count(RowStatus::Error),
            "checks": stats,
        },
        "learners": learners,
    })
}

/// JUnit for one learner: labcheck's own rendering, or one errored testcase when the learner
/// could not be graded.
pub fn junit(g: &Gradebook, r: &LearnerGrade) -> String {
    let e = xml_escape;
    if let Some(rep) = &r.report {
        // labcheck's own JUnit, with the learner named among the suite's properties
        return report::render(rep, Format::Junit, &render_opts()).replacen(
            "    <properties>\n",
            &format!(
                "    <properties>\n      <property name=\"learner\" value=\"{}\"/>\n",
                e(&r.learner.id)
            ),
            1,
        );
    }
    let msg = r.error.as_deref().unwrap_or("not graded");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"labcheck\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"{t:.3}\">\n\
         \x20 <testsuite name=\"{lab}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"{t:.3}\">\n\
         \x20   <properties>\n\
         \x20     <property name=\"learner\" value=\"{id}\"/>\n\
         \x20     <property name=\"engine.endpoint\" value=\"{ep}\"/>\n\
         \x20   </properties>\n\
         \x20   <testcase classname=\"{lab}\" name=\"engine\" time=\"{t:.3}\">\n\
         \x20     <error message=\"{m}\" type=\"unreachable\">{m}</error>\n\
         \x20   </testcase>\n\
         \x20 </testsuite>\n\
         </testsuites>\n",
        t = r.duration.as_secs_f64(),
        lab = e(&g.lab_id),
        id = e(&r.learner.id),
        ep = e(&r.endpoint),
        m = e(msg),
    )
}

/// Write gradebook.csv, grade.json and junit/<learner>.xml into `dir`.
pub fn write_all(g: &Gradebook, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("junit"))?;
    std::fs::write(dir.join("gradebook.csv"), csv(g))?;
    let mut j = serde_json::to_string_pretty(&json(g)).expect("grade JSON serialises");
    j.push('\n');
    std::fs::write(dir.join("grade.json"), j)?;
    for r in &g.rows {
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
    use super::*;

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + std::time::Duration::from_millis(1_795_000_000_123)),
            "2026-11-18T11:06:40.123Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + std::time::Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\"\nthere"), "\"say \"\"hi\"\"\nthere\"");
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(csv_cell("-1+2"), "'-1+2");
    }
}

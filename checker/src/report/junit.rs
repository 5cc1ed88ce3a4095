//! `--format junit`: one testcase per check, `<failure>` and `<skipped>` elements, written by
//! quick-junit (which escapes the text and drops what XML cannot hold).

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::{RenderOptions, Report, StackState, Status};

/// The report as a JUnit document: one suite named for the lab; the counts follow the cases.
pub fn document(r: &Report, o: &RenderOptions) -> quick_junit::Report {
    let s = r.summary();
    let project = match &r.stack {
        StackState::Found { project, .. } => project.clone().unwrap_or_default(),
        StackState::Absent { .. } => String::new(),
    };
    let mut suite = TestSuite::new(r.lab_id.as_str());
    suite.set_time(r.duration);
    for (k, v) in [
        ("lab.title", r.lab_title.as_str()),
        ("project", project.as_str()),
        ("engine.endpoint", r.engine.endpoint.as_str()),
        ("engine.api_version", r.engine.api_version.as_str()),
        ("points", &format!("{}/{}", s.points, s.max_points)),
    ] {
        suite.add_property(Property::new(k, v));
    }
    if let StackState::Absent { message } = &r.stack {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status
            .set_message("the stack is not up")
            .set_description(message.as_str());
        suite.add_test_case(case(&r.lab_id, "stack", status, Default::default()));
    }
    for c in &r.results {
        let name = format!("{}: {}", c.id, c.title);
        let mut body = String::new();
        for ev in &c.evidence {
            body.push_str(&format!("{ev}\n"));
        }
        // For whoever reads a JUnit report (CI, a teacher's gradebook): the nudge and the fix.
        if let Some(h) = &c.hints.nudge {
            body.push_str(&format!("hint: {h}\n"));
        }
        if let Some(f) = &c.hints.fix {
            body.push_str(&format!("fix: {f}\n"));
        }
        if let Some(see) = &c.see {
            body.push_str(&format!("see it yourself: {see}\n"));
        }
        if let Some(b) = &c.book {
            body.push_str(&format!("read: {}\n", o.book_link(b)));
        }
        let mut out = None;
        let status = match c.status {
            Status::Pass => TestCaseStatus::success(),
            // Drills not run are skipped cases too.
            Status::Skip => {
                let mut st = TestCaseStatus::skipped();
                st.set_message(c.skip.as_ref().map(|s| s.reason()).unwrap_or_default());
                st
            }
            Status::Fail => {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                st.set_message(c.message.as_str())
                    .set_type(c.kind.as_str())
                    .set_description(body);
                st
            }
            // A warning passes; what it found goes to the case's output.
            Status::Warn => {
                out = Some(format!("warning: {}\n{body}", c.message));
                TestCaseStatus::success()
            }
        };
        let mut tc = case(&r.lab_id, &name, status, c.duration);
        if let Some(out) = out {
            tc.set_system_out(out);
        }
        suite.add_test_case(tc);
    }
    let mut doc = quick_junit::Report::new("labcheck");
    doc.set_time(r.duration).add_test_suite(suite);
    doc
}

fn case(
    classname: &str,
    name: &str,
    status: TestCaseStatus,
    time: std::time::Duration,
) -> TestCase {
    let mut tc = TestCase::new(name, status);
    tc.set_classname(classname).set_time(time);
    tc
}

/// A JUnit document as text.
pub fn to_xml(doc: &quick_junit::Report) -> String {
    doc.to_string()
        .expect("a JUnit document of plain strings serialises")
}

pub fn render(r: &Report, o: &RenderOptions) -> String {
    to_xml(&document(r, o))
}

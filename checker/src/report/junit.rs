//! `--format junit`: one testcase per check, `<failure>` and `<skipped>` elements.

use super::{RenderOptions, Report, StackState, Status};

pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn secs(d: std::time::Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

pub fn render(r: &Report, o: &RenderOptions) -> String {
    let s = r.summary();
    let absent = matches!(r.stack, StackState::Absent { .. });
    let tests = s.total + usize::from(absent);
    let failures = s.failed + usize::from(absent);
    // Drills not run are <skipped/> test cases too.
    let skipped = s.skipped + s.drills_not_run;
    let e = xml_escape;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"labcheck\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{}\">\n",
        secs(r.duration)
    ));
    out.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{}\">\n",
        e(&r.lab_id),
        secs(r.duration)
    ));
    out.push_str("    <properties>\n");
    let project = match &r.stack {
        StackState::Found { project, .. } => project.clone().unwrap_or_default(),
        StackState::Absent { .. } => String::new(),
    };
    for (k, v) in [
        ("lab.title", r.lab_title.as_str()),
        ("project", project.as_str()),
        ("engine.endpoint", r.engine.endpoint.as_str()),
        ("engine.api_version", r.engine.api_version.as_str()),
        ("points", &format!("{}/{}", s.points, s.max_points)),
    ] {
        out.push_str(&format!(
            "      <property name=\"{k}\" value=\"{}\"/>\n",
            e(v)
        ));
    }
    out.push_str("    </properties>\n");
    if let StackState::Absent { message } = &r.stack {
        out.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"stack\" time=\"0.000\">\n",
            e(&r.lab_id)
        ));
        out.push_str(&format!(
            "      <failure message=\"the stack is not up\">{}</failure>\n",
            e(message)
        ));
        out.push_str("    </testcase>\n");
    }
    for c in &r.results {
        out.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}: {}\" time=\"{}\"",
            e(&r.lab_id),
            e(&c.id),
            e(&c.title),
            secs(c.duration)
        ));
        match c.status {
            Status::Pass => out.push_str("/>\n"),
            Status::Skip => {
                let why = c.message.trim_start_matches("skipped: ");
                out.push_str(&format!(
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                    e(why)
                ));
            }
            Status::Fail | Status::Warn => {
                let mut body = String::new();
                for ev in &c.evidence {
                    body.push_str(&format!("{ev}\n"));
                }
                if let Some(h) = &c.hint {
                    body.push_str(&format!("hint: {h}\n"));
                }
                if let Some(see) = &c.see {
                    body.push_str(&format!("see it yourself: {see}\n"));
                }
                if let Some(b) = &c.book {
                    body.push_str(&format!("read: {}\n", o.book_link(b)));
                }
                if c.status == Status::Fail {
                    out.push_str(&format!(
                        ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
                        e(&c.message),
                        e(&c.kind),
                        e(&body)
                    ));
                } else {
                    out.push_str(&format!(
                        ">\n      <system-out>warning: {}\n{}</system-out>\n    </testcase>\n",
                        e(&c.message),
                        e(&body)
                    ));
                }
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

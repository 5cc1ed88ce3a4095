//! `http` and `http_body_excludes`: a GET from the host (the learner's machine: grading forwards
//! the URL's localhost port) and what status and body come back.

use serde::{Deserialize, Deserializer};

use super::{excerpt, fail, pass, CheckKind, Invalid, Judgement};
use crate::probe::cx::ProbeCx;
use crate::probe::facts::HttpFacts;
use crate::probe::http;
use crate::see::SeeCx;

/// GET `url` returns `status` (default 200), with `body_contains` in the body when given.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    pub url: String,
    #[serde(default)]
    pub status: Status,
    pub body_contains: Option<String>,
}

/// GET `url` returns `status` (default 200) and a body with none of `excludes` (e.g. a UI that
/// must call its API by a relative URL).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpBodyExcludes {
    pub url: String,
    #[serde(default)]
    pub status: Status,
    pub excludes: Vec<String>,
}

/// An HTTP status code: 100-599.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub u16);

impl Default for Status {
    fn default() -> Self {
        Status(200)
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        match u16::try_from(n) {
            Ok(s) if (100..=599).contains(&s) => Ok(Status(s)),
            _ => Err(serde::de::Error::custom(format!(
                "status = {n} is not an HTTP status (100-599)"
            ))),
        }
    }
}

/// A `url` field's rule for every kind that GETs from the host: absolute http(s).
pub(super) fn check_url(url: &str) -> Option<Invalid> {
    (!(url.starts_with("http://") || url.starts_with("https://"))).then(|| {
        Invalid::field(
            "url",
            format!("url `{url}` must start with http:// or https://"),
        )
    })
}

/// ` with `x` in the body`, for `describe`.
pub(super) fn with_body(body_contains: &Option<String>) -> String {
    body_contains
        .as_ref()
        .map(|b| format!(" with `{b}` in the body"))
        .unwrap_or_default()
}

/// The learner's localhost port a URL reaches (what grading forwards over ssh).
pub(super) fn host_ports(url: &str) -> Vec<u16> {
    http::local_port(url).into_iter().collect()
}

async fn get(cx: &ProbeCx<'_>, url: &str) -> HttpFacts {
    http::get(&cx.http, &http::effective_url(url, cx.http_host)).await
}

/// The status that came back, or the verdict on no response at all.
fn response(url: &str, h: &HttpFacts) -> Result<u16, Judgement> {
    h.status.ok_or_else(|| {
        fail(format!(
            "GET {url} got no response: {}",
            h.error.as_deref().unwrap_or("no error text")
        ))
    })
}

impl CheckKind for Http {
    const NAME: &'static str = "http";
    type Facts = HttpFacts;

    fn validate(&self) -> Vec<Invalid> {
        check_url(&self.url).into_iter().collect()
    }
    fn describe(&self) -> String {
        format!(
            "GET {} from the host returns {}{}",
            self.url,
            self.status.0,
            with_body(&self.body_contains)
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![]
    }
    fn host_ports(&self) -> Vec<u16> {
        host_ports(&self.url)
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        Ok(get(cx, &self.url).await)
    }
    fn judge(&self, h: &Self::Facts) -> Judgement {
        let (url, status) = (&self.url, self.status.0);
        let got = match response(url, h) {
            Ok(got) => got,
            Err(j) => return j,
        };
        let body = if h.body_excerpt.is_empty() {
            "(empty body)".to_string()
        } else {
            excerpt(&h.body_excerpt, 200)
        };
        let body = format!("body: {body}");
        if got != status {
            return fail(format!("GET {url} returned {got}, expected {status}")).with(body);
        }
        if let Some(needle) = &self.body_contains {
            if !h.body_excerpt.contains(needle.as_str()) {
                return fail(format!(
                    "GET {url} returned {got} but the body lacks `{needle}`"
                ))
                .with(body);
            }
        }
        pass(format!("GET {url} returned {got}")).with(body)
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        format!("curl -i {}", cx.quote(&self.url))
    }
}

impl CheckKind for HttpBodyExcludes {
    const NAME: &'static str = "http_body_excludes";
    type Facts = HttpFacts;

    fn validate(&self) -> Vec<Invalid> {
        let mut problems: Vec<Invalid> = check_url(&self.url).into_iter().collect();
        if self.excludes.iter().all(|e| e.is_empty()) {
            problems.push(Invalid::field(
                "excludes",
                "`excludes` has no non-empty string",
            ));
        }
        problems
    }
    fn describe(&self) -> String {
        format!(
            "GET {} from the host returns {} and the body contains none of {}",
            self.url,
            self.status.0,
            self.quoted_excludes()
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![]
    }
    fn host_ports(&self) -> Vec<u16> {
        host_ports(&self.url)
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        Ok(get(cx, &self.url).await)
    }
    fn judge(&self, h: &Self::Facts) -> Judgement {
        let (url, status) = (&self.url, self.status.0);
        let got = match response(url, h) {
            Ok(got) => got,
            Err(j) => return j,
        };
        if got != status {
            return fail(format!("GET {url} returned {got}, expected {status}"));
        }
        // each string found, with the first line it is on
        let found: Vec<(&str, String)> = self
            .excludes
            .iter()
            .filter(|e| !e.is_empty())
            .filter_map(|e| {
                let (n, line) = h
                    .body_excerpt
                    .lines()
                    .enumerate()
                    .find(|(_, l)| l.contains(e.as_str()))?;
                Some((
                    e.as_str(),
                    format!("`{e}` on line {}: {}", n + 1, excerpt(line, 120)),
                ))
            })
            .collect();
        if found.is_empty() {
            return pass(format!(
                "GET {url} returned {got} and the body has none of {}",
                self.quoted_excludes()
            ));
        }
        let names: Vec<String> = found.iter().map(|(e, _)| format!("`{e}`")).collect();
        let j = fail(format!("GET {url}: the body contains {}", names.join(", ")));
        found.into_iter().fold(j, |j, (_, line)| j.with(line))
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        let patterns: Vec<String> = self.excludes.iter().map(|e| cx.quote(e)).collect();
        format!(
            "curl -s {} | grep -n -F -e {}",
            cx.quote(&self.url),
            patterns.join(" -e ")
        )
    }
}

impl HttpBodyExcludes {
    fn quoted_excludes(&self) -> String {
        let all: Vec<String> = self.excludes.iter().map(|e| format!("`{e}`")).collect();
        all.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{invalid, kind, see_cx};
    use crate::kinds::Verdict;

    fn h(status: Option<u16>, body: &str) -> HttpFacts {
        HttpFacts {
            status,
            body_excerpt: body.into(),
            error: status.is_none().then(|| "connection refused".into()),
        }
    }

    #[test]
    fn http_status_body_and_no_response() {
        let k: Http = kind("url = 'http://localhost:8080/healthz'\nbody_contains = 'ok'");
        assert_eq!(k.status, Status(200), "200 is the default");
        let j = k.judge(&h(Some(200), "{\"status\":\"ok\"}"));
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(j.evidence, ["body: {\"status\":\"ok\"}"]);
        let j = k.judge(&h(Some(503), "db down"));
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.message.contains("returned 503, expected 200"));
        assert_eq!(j.evidence, ["body: db down"]);
        let j = k.judge(&h(Some(200), "nope"));
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.message.ends_with("but the body lacks `ok`"),
            "{}",
            j.message
        );
        let j = k.judge(&h(None, ""));
        assert_eq!(
            j.message,
            "GET http://localhost:8080/healthz got no response: connection refused"
        );
        let k: Http = kind("url = 'http://localhost:8080/'\nstatus = 404");
        let j = k.judge(&h(Some(404), ""));
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(j.evidence, ["body: (empty body)"]);
    }

    #[test]
    fn body_excludes_names_the_line() {
        let k: HttpBodyExcludes =
            kind("url = 'http://x/app.js'\nexcludes = ['localhost:5000', '//api:5000']");
        let j = k.judge(&h(
            Some(200),
            "const a = 1;\nfetch('http://localhost:5000/api/tasks')\n",
        ));
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(
            j.message,
            "GET http://x/app.js: the body contains `localhost:5000`"
        );
        assert_eq!(
            j.evidence,
            ["`localhost:5000` on line 2: fetch('http://localhost:5000/api/tasks')"]
        );
        let j = k.judge(&h(Some(200), "fetch('/api/tasks')"));
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(
            j.message,
            "GET http://x/app.js returned 200 and the body has none of `localhost:5000`, `//api:5000`"
        );
        let j = k.judge(&h(Some(404), ""));
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (
                Verdict::Fail,
                "GET http://x/app.js returned 404, expected 200"
            )
        );
        assert_eq!(k.judge(&h(None, "")).verdict, Verdict::Fail);
    }

    #[test]
    fn only_localhost_urls_are_host_ports() {
        let k: Http = kind("url = 'http://127.0.0.1:8050/'");
        assert_eq!(k.host_ports(), [8050]);
        let k: HttpBodyExcludes = kind("url = 'http://localhost/app.js'\nexcludes = ['x']");
        assert_eq!(k.host_ports(), [80]);
        let k: Http = kind("url = 'http://example.org:8050/'");
        assert!(k.host_ports().is_empty());
    }

    #[test]
    fn bad_fields_are_refused_with_their_name() {
        let e = invalid::<Http>("url = 'http://x/'\nstatus = 700");
        assert_eq!(e[0].field.as_deref(), Some("status"));
        assert!(e[0].message.contains("700 is not an HTTP status"), "{e:?}");
        let e = invalid::<Http>("url = 'localhost:8080/'");
        assert_eq!(e[0].field.as_deref(), Some("url"));
        assert!(e[0].message.contains("must start with http://"), "{e:?}");
        let e = invalid::<Http>("url = 'http://x/'\nbody_contain = 'ok'");
        assert_eq!(e[0].field.as_deref(), Some("body_contain"));
        let e = invalid::<HttpBodyExcludes>("url = 'http://x/'\nexcludes = ['']");
        assert_eq!(e[0].field.as_deref(), Some("excludes"));
        assert!(e[0].message.contains("no non-empty string"), "{e:?}");
        let e = invalid::<HttpBodyExcludes>("url = 'http://x/'\nstatus = 99\nexcludes = ['a']");
        assert_eq!(e[0].field.as_deref(), Some("status"));
    }

    #[test]
    fn describe_and_see() {
        let k: Http = kind("url = 'http://localhost:8080/a b'\nbody_contains = 'ok'");
        assert_eq!(
            k.describe(),
            "GET http://localhost:8080/a b from the host returns 200 with `ok` in the body"
        );
        let cx = see_cx(None);
        assert_eq!(k.see(&cx), "curl -i 'http://localhost:8080/a b'");
        let k: HttpBodyExcludes =
            kind("url = 'http://127.0.0.1:8050/app.js'\nexcludes = ['localhost:5000', 'a b']");
        assert_eq!(
            k.describe(),
            "GET http://127.0.0.1:8050/app.js from the host returns 200 and the body contains none of `localhost:5000`, `a b`"
        );
        assert_eq!(
            k.see(&cx),
            "curl -s http://127.0.0.1:8050/app.js | grep -n -F -e localhost:5000 -e 'a b'"
        );
    }
}

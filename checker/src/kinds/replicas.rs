//! `replicas` and `http_distinct`: a scaled service, counted (enough containers run) and seen
//! from the host (requests through the proxy reach more than one of them).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::http::{check_url, host_ports};
use super::{excerpt, fail, pass, CheckKind, Invalid, Judgement};
use crate::probe::cx::ProbeCx;
use crate::probe::facts::ContainerFacts;
use crate::probe::{error_chain, http};
use crate::see::SeeCx;

/// At least `min` containers of the service run (and, with `healthy`, are healthy).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replicas {
    pub service: String,
    pub min: u32,
    #[serde(default)]
    pub healthy: bool,
}

/// GETs to `url` return at least `min_distinct` distinct values of the JSON `field`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpDistinct {
    pub url: String,
    pub field: String,
    pub requests: u32,
    pub min_distinct: u32,
    /// Batches of `requests` GETs are retried for up to this long (0: one batch).
    #[serde(default, rename = "within_s")]
    pub within_secs: u64,
}

/// Values of the JSON field per response, over every batch of GETs.
#[derive(Debug, Clone, PartialEq)]
pub struct DistinctFacts {
    pub counts: BTreeMap<String, u32>,
    pub requests: u32,
    pub batches: u32,
    pub failures: Vec<String>,
    pub secs: f64,
}

/// `field = n` outside `lo..=hi`, as a problem.
pub fn out_of_range(field: &str, n: u64, lo: u64, hi: u64) -> Option<Invalid> {
    (!(lo..=hi).contains(&n))
        .then(|| Invalid::field(field, format!("{field} = {n} must be {lo} to {hi}")))
}

impl CheckKind for Replicas {
    const NAME: &'static str = "replicas";
    type Facts = Vec<ContainerFacts>;

    fn validate(&self) -> Vec<Invalid> {
        out_of_range("min", self.min.into(), 1, 1000)
            .into_iter()
            .collect()
    }
    fn describe(&self) -> String {
        format!(
            "at least {} containers of {} are running{}",
            self.min,
            self.service,
            if self.healthy { " and healthy" } else { "" }
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        match cx.replicas.get(&self.service) {
            Some(cs) if !cs.is_empty() => Ok(cs.clone()),
            _ => Err(cx.missing(&self.service)),
        }
    }
    fn judge(&self, cs: &Self::Facts) -> Judgement {
        let (service, min) = (&self.service, self.min);
        let good = |c: &ContainerFacts| {
            c.running
                && !c.restarting
                && (!self.healthy || c.health.as_ref().is_some_and(|h| h.status == "healthy"))
        };
        let n = cs.iter().filter(|c| good(c)).count() as u32;
        let what = if self.healthy {
            "running and healthy"
        } else {
            "running"
        };
        let others: Vec<String> = cs
            .iter()
            .filter(|c| !good(c))
            .map(|c| match (&c.health, c.running) {
                (Some(h), true) => format!("{} {}", c.name, h.status),
                (None, true) => format!("{} has no healthcheck", c.name),
                _ => format!("{} {}", c.name, c.status),
            })
            .collect();
        if n >= min {
            pass(format!(
                "{n} containers of {service} are {what} (at least {min})"
            ))
        } else {
            let mut msg = format!("{n} of {min} wanted containers of {service} are {what}");
            if !others.is_empty() {
                msg.push_str(&format!(": {}", others.join(", ")));
            }
            fail(msg)
        }
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        match cx.project {
            Some(_) => cx.compose(&format!("ps -a {}", cx.service(&self.service))),
            None => format!("docker ps -a --filter name={}", cx.name(&self.service)),
        }
    }
}

impl CheckKind for HttpDistinct {
    const NAME: &'static str = "http_distinct";
    type Facts = DistinctFacts;

    fn validate(&self) -> Vec<Invalid> {
        let mut problems: Vec<Invalid> = [
            check_url(&self.url),
            out_of_range("requests", self.requests.into(), 1, 1000),
            out_of_range("min_distinct", self.min_distinct.into(), 1, 1000),
            out_of_range("within_s", self.within_secs, 0, 300),
        ]
        .into_iter()
        .flatten()
        .collect();
        if self.min_distinct > self.requests {
            problems.push(Invalid::field(
                "min_distinct",
                format!(
                    "min_distinct = {} can never be reached with requests = {}",
                    self.min_distinct, self.requests
                ),
            ));
        }
        problems
    }
    fn describe(&self) -> String {
        format!(
            "{} GETs of {} see at least {} distinct `{}` values (retried for up to {} s)",
            self.requests, self.url, self.min_distinct, self.field, self.within_secs
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![]
    }
    fn leaves_state(&self) -> bool {
        true
    }
    fn host_ports(&self) -> Vec<u16> {
        host_ports(&self.url)
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<DistinctFacts, Judgement> {
        let url = http::effective_url(&self.url, cx.http_host);
        Ok(http_distinct(
            cx.timeouts().http,
            &url,
            &self.field,
            self.requests,
            self.min_distinct,
            Duration::from_secs(self.within_secs),
        )
        .await)
    }
    fn judge(&self, f: &DistinctFacts) -> Judgement {
        let (url, field, min) = (&self.url, &self.field, self.min_distinct);
        let (requests, secs) = (f.requests, f.secs);
        let shown = format!(
            "{{{}}}",
            f.counts
                .iter()
                .map(|(k, v)| format!("\"{k}\": {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut j = if f.counts.len() as u32 >= min {
            pass(format!(
                "{} distinct `{field}` values in {requests} GETs of {url}",
                f.counts.len()
            ))
        } else {
            fail(format!("only {} distinct `{field}` value(s) in {requests} GETs of {url} over {secs:.1} s, expected at least {min}: {shown}", f.counts.len()))
        };
        j = j.with(format!(
            "counts: {shown}; {} batch(es) in {secs:.1} s",
            f.batches
        ));
        for failure in &f.failures {
            j = j.with(format!("failed request: {failure}"));
        }
        j
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        format!(
            "for i in $(seq {}); do curl -s {}; echo; done | grep -o '\"{}\": *\"[^\"]*\"' | sort | uniq -c",
            self.requests,
            cx.quote(&self.url),
            self.field
        )
    }
}

/// The value of a top-level JSON field as text (strings without quotes).
pub fn json_field(body: &str, field: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    match v.get(field)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Batches of `requests` GETs, until `min_distinct` values of `field` were seen or `within`
/// has passed.
pub async fn http_distinct(
    limit: Duration,
    url: &str,
    field: &str,
    requests: u32,
    min_distinct: u32,
    within: Duration,
) -> DistinctFacts {
    // a new connection per request, as independent clients would make
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(limit)
        .connect_timeout(limit)
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client builds");
    let started = Instant::now();
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    let mut failures = Vec::new();
    let (mut sent, mut batches) = (0u32, 0u32);
    loop {
        batches += 1;
        let mut batch: BTreeMap<String, u32> = BTreeMap::new(); // this batch's values
        for _ in 0..requests {
            sent += 1;
            match client.get(url).send().await {
                Ok(resp) if resp.status().as_u16() == 200 => {
                    let body = resp.text().await.unwrap_or_default();
                    match json_field(&body, field) {
                        Some(v) => *batch.entry(v).or_default() += 1,
                        None => failures.push(format!(
                            "200 without a `{field}` field: {}",
                            excerpt(&body, 80)
                        )),
                    }
                }
                Ok(resp) => failures.push(format!("status {}", resp.status().as_u16())),
                Err(e) => failures.push(error_chain(&e)),
            }
        }
        for (k, n) in &batch {
            *counts.entry(k.clone()).or_default() += n;
        }
        if counts.len() as u32 >= min_distinct || started.elapsed() >= within {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    failures.truncate(5);
    DistinctFacts {
        counts,
        requests: sent,
        batches,
        failures,
        secs: started.elapsed().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{container, health, invalid, kind};
    use crate::kinds::Verdict;

    fn c(name: &str, status: &str, h: Option<&str>) -> ContainerFacts {
        ContainerFacts {
            name: name.into(),
            status: status.into(),
            running: status == "running",
            health: h.map(health),
            ..container()
        }
    }

    #[test]
    fn replicas_counts_the_good_ones() {
        let cs = vec![
            c("b-1", "running", Some("healthy")),
            c("b-2", "running", Some("starting")),
            c("b-3", "created", None),
        ];
        let k = |fields: &str| kind::<Replicas>(&format!("service = 'backend'\n{fields}"));
        assert_eq!(
            k("min = 1\nhealthy = true").judge(&cs).verdict,
            Verdict::Pass
        );
        let j = k("min = 3\nhealthy = true").judge(&cs);
        assert!(
            j.verdict == Verdict::Fail && j.message.starts_with("1 of 3"),
            "{}",
            j.message
        );
        assert!(
            j.message.contains("b-2 starting") && j.message.contains("b-3 created"),
            "{}",
            j.message
        );
        assert_eq!(k("min = 2").judge(&cs).verdict, Verdict::Pass);
        let j = k("min = 3").judge(&cs);
        assert_eq!(
            j.message,
            "2 of 3 wanted containers of backend are running: b-3 created"
        );
    }

    #[test]
    fn distinct_needs_enough_values() {
        let k: HttpDistinct = kind(
            "url = 'http://127.0.0.1:8060/api/whoami'\nfield = 'instance'\nrequests = 12\nmin_distinct = 2\nwithin_s = 10",
        );
        let mut counts = BTreeMap::new();
        counts.insert("b4af63c1ecb9".to_string(), 132);
        let f = |counts: &BTreeMap<String, u32>, failures: Vec<String>| DistinctFacts {
            counts: counts.clone(),
            requests: 132,
            batches: 11,
            failures,
            secs: 10.2,
        };
        let j = k.judge(&f(&counts, vec!["status 502".into()]));
        assert!(
            j.verdict == Verdict::Fail && j.message.contains("{\"b4af63c1ecb9\": 132}"),
            "{}",
            j.message
        );
        assert_eq!(
            j.evidence,
            [
                "counts: {\"b4af63c1ecb9\": 132}; 11 batch(es) in 10.2 s",
                "failed request: status 502"
            ]
        );
        counts.insert("c".into(), 1);
        assert_eq!(k.judge(&f(&counts, vec![])).verdict, Verdict::Pass);
        assert!(k.leaves_state());
        assert_eq!(k.host_ports(), [8060]);
    }

    #[test]
    fn json_fields_as_text() {
        assert_eq!(
            json_field(r#"{"instance":"b4af63c1ecb9","n":3}"#, "instance").as_deref(),
            Some("b4af63c1ecb9")
        );
        assert_eq!(
            json_field(r#"{"instance":"b","n":3}"#, "n").as_deref(),
            Some("3")
        );
        assert_eq!(json_field("<html>", "instance"), None);
    }

    #[test]
    fn fields_are_checked() {
        let e = invalid::<Replicas>("service = 'backend'\nmin = 0");
        assert_eq!(e[0].field.as_deref(), Some("min"));
        assert_eq!(e[0].message, "min = 0 must be 1 to 1000");
        let e = invalid::<Replicas>("service = 'backend'");
        assert!(e[0].message.contains("missing field `min`"), "{e:?}");
        let e = invalid::<Replicas>("service = 'backend'\nmin = 2\nwithin = 3");
        assert_eq!(e[0].field.as_deref(), Some("within"), "{e:?}");
        let e = invalid::<HttpDistinct>(
            "url = 'http://x/'\nfield = 'f'\nrequests = 2\nmin_distinct = 3\nwithin_s = 301",
        );
        let fields: Vec<_> = e.iter().map(|p| p.field.as_deref().unwrap()).collect();
        assert_eq!(fields, ["within_s", "min_distinct"], "{e:?}");
        assert!(e[1].message.contains("never be reached"), "{e:?}");
    }

    #[test]
    fn load_errors_point_at_the_field() {
        let check =
            "[[checks]]\nid = \"r\"\ntitle = \"r\"\nkind = \"replicas\"\nservice = \"backend\"\n";
        let e = crate::lab::test_lab(&["backend"], &format!("{check}min = 0\n")).unwrap_err();
        assert_eq!(
            e,
            "lab.toml:12:7: check `r` (kind replicas): min = 0 must be 1 to 1000"
        );
        let e = crate::lab::test_lab(&["backend"], check).unwrap_err();
        assert!(e.contains("missing field `min`"), "{e}");
    }

    #[test]
    fn see_commands() {
        let name = |u: &str| format!("p-{u}-1");
        let k: Replicas = kind("service = 'backend'\nmin = 3");
        let (p, plain) = (SeeCx::new(Some("p"), &name), SeeCx::new(None, &name));
        assert_eq!(k.see(&p), "docker compose -p p ps -a backend");
        assert_eq!(k.see(&plain), "docker ps -a --filter name=p-backend-1");
        let k: HttpDistinct =
            kind("url = 'http://h/w'\nfield = 'instance'\nrequests = 3\nmin_distinct = 2");
        assert_eq!(
            k.see(&p),
            "for i in $(seq 3); do curl -s http://h/w; echo; done | grep -o '\"instance\": *\"[^\"]*\"' | sort | uniq -c"
        );
    }
}

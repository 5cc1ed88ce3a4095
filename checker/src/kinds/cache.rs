//! `http_cached` and `redis_key`: the phase-5 cache, seen from the host (a second GET is a hit)
//! and from inside Redis (the key the app wrote).

use bollard::Docker;
use serde::Deserialize;

use super::http::{check_url, host_ports};
use super::{fail, pass, CheckKind, Invalid, Judgement};
use crate::probe::cx::ProbeCx;
use crate::probe::exec::exec;
use crate::probe::ext::exec_err;
use crate::probe::helper::in_helper;
use crate::probe::{error_chain, http, Timeouts};
use crate::see::SeeCx;

/// Two GETs from the host: both 200, and the second has `header: hit`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpCached {
    pub url: String,
    pub header: String,
    pub hit: String,
}

/// `EXISTS key` is 1 in the service's Redis.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisKey {
    pub service: String,
    pub key: String,
}

/// The responses to consecutive GETs: status and the header's value, or why there was none.
pub type Responses = Vec<Result<(u16, Option<String>), String>>;

/// `EXISTS key` (and `TTL key`) in Redis, and how it was asked.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisFacts {
    pub exists: Result<i64, String>,
    pub ttl: Option<i64>,
    pub via: String,
}

impl CheckKind for HttpCached {
    const NAME: &'static str = "http_cached";
    type Facts = Responses;

    fn validate(&self) -> Vec<Invalid> {
        check_url(&self.url).into_iter().collect()
    }
    fn describe(&self) -> String {
        format!(
            "a second GET {} answers with `{}: {}`",
            self.url, self.header, self.hit
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
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Responses, Judgement> {
        let url = http::effective_url(&self.url, cx.http_host);
        Ok(http_cached(&cx.http, &url, &self.header).await)
    }
    fn judge(&self, responses: &Responses) -> Judgement {
        let (url, header, hit) = (&self.url, &self.header, &self.hit);
        let shown: Vec<String> = responses
            .iter()
            .map(|r| match r {
                Ok((s, v)) => format!("{s} {header}: {}", v.as_deref().unwrap_or("(none)")),
                Err(e) => format!("no response ({e})"),
            })
            .collect();
        let j = match responses.as_slice() {
            [Ok((200, _)), Ok((200, Some(v)))] if v.eq_ignore_ascii_case(hit) => {
                pass(format!("the second GET {url} was a cache {hit}"))
            }
            [Ok((200, a)), Ok((200, b))] => fail(format!(
                "{header}: {}, {}: the second GET was not served from the cache",
                a.as_deref().unwrap_or("(none)"),
                b.as_deref().unwrap_or("(none)")
            )),
            _ => fail(format!(
                "GET {url} did not answer 200 twice: {}",
                shown.join("; ")
            )),
        };
        j.with(format!("responses: {}", shown.join("; ")))
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        format!(
            "for i in 1 2; do curl -si {} | grep -i '^{}:'; done",
            cx.quote(&self.url),
            self.header
        )
    }
}

impl CheckKind for RedisKey {
    const NAME: &'static str = "redis_key";
    type Facts = RedisFacts;

    fn describe(&self) -> String {
        format!("the key `{}` exists in {}'s Redis", self.key, self.service)
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<RedisFacts, Judgement> {
        let c = cx.running(&self.service)?;
        redis_key(cx.docker(), cx.timeouts(), &c.id, &self.key)
            .await
            .map_err(fail)
    }
    fn judge(&self, f: &RedisFacts) -> Judgement {
        let key = &self.key;
        let ttl_s = f
            .ttl
            .map(|t| format!("TTL {t}"))
            .unwrap_or_else(|| "TTL unknown".into());
        let j = match &f.exists {
            Ok(1) => pass(format!("the key `{key}` exists ({ttl_s})")),
            Ok(n) => fail(format!(
                "the key `{key}` does not exist (EXISTS {n}, {ttl_s})"
            )),
            Err(e) => fail(format!("cannot ask Redis about `{key}`: {e}")),
        };
        j.with(format!("checked with {}", f.via))
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        let cmd = format!("redis-cli EXISTS {}", cx.quote(&self.key));
        cx.exec(&self.service, &cmd)
    }
}

/// Two GETs of `url`; the second is not sent when the first failed.
pub async fn http_cached(client: &reqwest::Client, url: &str, header: &str) -> Responses {
    let mut responses = Vec::new();
    for _ in 0..2 {
        let r = match client.get(url).send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let value = resp
                    .headers()
                    .get(header)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
                // read the body so the connection is reused for the second request
                let _ = resp.bytes().await;
                Ok((status, value))
            }
            Err(e) => Err(error_chain(&e)),
        };
        let failed = r.is_err();
        responses.push(r);
        if failed {
            break;
        }
    }
    responses
}

/// `redis-cli` integer replies ("1", "(integer) 1").
pub fn parse_redis_int(out: &str) -> Option<i64> {
    let t = out.trim();
    let t = t.strip_prefix("(integer)").map(str::trim).unwrap_or(t);
    let t = t.strip_prefix(':').unwrap_or(t);
    t.lines().next()?.trim().parse().ok()
}

/// RESP for one command (for images without redis-cli, sent with nc from a helper).
pub fn resp(args: &[&str]) -> String {
    let mut s = format!("*{}\r\n", args.len());
    for a in args {
        s.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    s
}

/// `EXISTS` and `TTL` of `key`: with the container's own `redis-cli`, else over nc from a
/// helper in its network namespace.
pub async fn redis_key(
    docker: &Docker,
    t: &Timeouts,
    id: &str,
    key: &str,
) -> Result<RedisFacts, String> {
    let out = exec(docker, t, id, &["redis-cli", "EXISTS", key]).await?;
    if !out.tool_missing() {
        let exists = match parse_redis_int(&out.stdout) {
            Some(n) if out.exit_code == Some(0) => Ok(n),
            _ => Err(exec_err(&out, "redis-cli EXISTS")),
        };
        let ttl = exec(docker, t, id, &["redis-cli", "TTL", key])
            .await
            .ok()
            .and_then(|o| parse_redis_int(&o.stdout));
        return Ok(RedisFacts {
            exists,
            ttl,
            via: "exec `redis-cli` in the container".into(),
        });
    }
    // EXISTS and TTL pipelined on one connection, then QUIT, so that redis closes it.
    let script = r#"printf '%s' "$1" | nc -w 2 127.0.0.1 6379"#;
    let msg = [resp(&["EXISTS", key]), resp(&["TTL", key]), resp(&["QUIT"])].concat();
    let (out, image) = in_helper(docker, t, id, &["sh", "-c", script, "sh", &msg]).await?;
    let mut replies = out.stdout.lines().filter(|l| l.starts_with(':'));
    let exists = replies
        .next()
        .and_then(parse_redis_int)
        .ok_or_else(|| exec_err(&out, "EXISTS over nc"));
    Ok(RedisFacts {
        exists,
        ttl: replies.next().and_then(parse_redis_int),
        via: format!("RESP over nc from a helper container ({image})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{invalid, kind};
    use crate::kinds::Verdict;

    const CACHED: &str = "url = 'http://127.0.0.1:8050/api/tasks'\nheader = 'X-Cache'\nhit = 'HIT'";

    #[test]
    fn cache_needs_a_hit_on_the_second_request() {
        let k: HttpCached = kind(CACHED);
        let hit = |s: &str| Ok((200u16, Some(s.to_string())));
        assert_eq!(
            k.judge(&vec![hit("MISS"), hit("HIT")]).verdict,
            Verdict::Pass
        );
        assert_eq!(
            k.judge(&vec![hit("HIT"), hit("HIT")]).verdict,
            Verdict::Pass
        );
        let j = k.judge(&vec![hit("MISS"), hit("MISS")]);
        assert!(
            j.verdict == Verdict::Fail && j.message.starts_with("X-Cache: MISS, MISS"),
            "{}",
            j.message
        );
        let j = k.judge(&vec![Err("refused".into())]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(j.evidence, ["responses: no response (refused)"]);
    }

    #[test]
    fn the_cache_check_fills_the_cache_and_names_its_host_port() {
        let k: HttpCached = kind(CACHED);
        assert!(k.leaves_state());
        assert_eq!(k.host_ports(), [8050]);
        assert!(k.units().is_empty());
    }

    #[test]
    fn redis_key_reports_exists_and_ttl() {
        let k: RedisKey = kind("service = 'redis'\nkey = 'k'");
        let f = |exists, ttl| RedisFacts {
            exists,
            ttl,
            via: "exec".into(),
        };
        let j = k.judge(&f(Ok(1), Some(42)));
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(j.message, "the key `k` exists (TTL 42)");
        assert_eq!(j.evidence, ["checked with exec"]);
        assert!(k.judge(&f(Ok(0), Some(-2))).message.contains("TTL -2"));
        let j = k.judge(&f(Err("NOAUTH".into()), None));
        assert!(j.message.contains("cannot ask Redis about `k`: NOAUTH"));
    }

    #[test]
    fn redis_replies_and_requests() {
        assert_eq!(parse_redis_int("1\n"), Some(1));
        assert_eq!(parse_redis_int("(integer) -2"), Some(-2));
        assert_eq!(parse_redis_int(":0\r\n"), Some(0));
        assert_eq!(parse_redis_int("ERR"), None);
        assert_eq!(
            resp(&["EXISTS", "tasks:all"]),
            "*2\r\n$6\r\nEXISTS\r\n$9\r\ntasks:all\r\n"
        );
    }

    #[test]
    fn fields_are_checked() {
        let e = invalid::<HttpCached>("url = 'ftp://x/'\nheader = 'X'\nhit = 'HIT'");
        assert_eq!(e[0].field.as_deref(), Some("url"));
        assert!(e[0].message.contains("must start with http://"), "{e:?}");
        let e = invalid::<HttpCached>("url = 'http://x/'\nheader = 'X'");
        assert_eq!(e[0].field.as_deref(), Some("hit"), "{e:?}");
        let e = invalid::<RedisKey>("service = 'redis'\nkey = 'k'\nttl = 3");
        assert_eq!(e[0].field.as_deref(), Some("ttl"), "{e:?}");
    }

    #[test]
    fn see_commands() {
        let name = |u: &str| format!("p-{u}-1");
        let k: HttpCached = kind(CACHED);
        assert_eq!(
            k.see(&SeeCx::new(Some("p"), &name)),
            "for i in 1 2; do curl -si http://127.0.0.1:8050/api/tasks | grep -i '^X-Cache:'; done"
        );
        let k: RedisKey = kind("service = 'redis'\nkey = 'tasks:all'");
        assert_eq!(
            k.see(&SeeCx::new(Some("p"), &name)),
            "docker compose -p p exec redis redis-cli EXISTS tasks:all"
        );
        assert_eq!(
            k.see(&SeeCx::new(None, &name)),
            "docker exec p-redis-1 redis-cli EXISTS tasks:all"
        );
    }
}

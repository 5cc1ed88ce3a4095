//! HTTP from the host (reqwest, rustls, no proxy).

use super::facts::HttpFacts;

/// Most body bytes kept.
const BODY_CAP: usize = 64 * 1024;

/// One client for the whole run (connection reuse; never a proxy: the targets are local).
pub fn client(timeout: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client with rustls builds")
}

/// Rewrites `localhost`/`127.0.0.1` to `$LABCHECK_HTTP_HOST` when set (labcheck inside a
/// container reaches the host's published ports through e.g. `host.docker.internal`).
pub fn effective_url(url: &str, http_host: Option<&str>) -> String {
    let Some(host) = http_host.filter(|h| !h.is_empty()) else {
        return url.to_string();
    };
    for local in ["://localhost", "://127.0.0.1"] {
        if let Some(i) = url.find(local) {
            let rest = &url[i + local.len()..];
            if rest.is_empty() || rest.starts_with(':') || rest.starts_with('/') {
                return format!("{}://{host}{rest}", &url[..i]);
            }
        }
    }
    url.to_string()
}

pub async fn get(client: &reqwest::Client, url: &str) -> HttpFacts {
    match client.get(url).send().await {
        Err(e) => HttpFacts {
            status: None,
            body_excerpt: String::new(),
            error: Some(describe(&e)),
        },
        Ok(mut resp) => {
            let status = resp.status().as_u16();
            let mut body = Vec::new();
            let mut error = None;
            loop {
                match resp.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = BODY_CAP.saturating_sub(body.len());
                        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        if room <= chunk.len() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(describe(&e));
                        break;
                    }
                }
            }
            HttpFacts {
                status: Some(status),
                body_excerpt: String::from_utf8_lossy(&body).into_owned(),
                error,
            }
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else {
        e.to_string()
    };
    let mut src = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = src {
        last = Some(s.to_string());
        src = s.source();
    }
    if let Some(root) = last {
        msg = format!("{msg} ({root})");
    }
    msg
}

/// The port of a `localhost`/`127.0.0.1` URL (the learner's machine), else None.
pub fn local_port(url: &str) -> Option<u16> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (authority, if scheme == "https" { 443 } else { 80 }),
    };
    matches!(host, "localhost" | "127.0.0.1").then_some(port)
}

#[cfg(test)]
mod tests {
    use super::effective_url;

    #[test]
    fn localhost_is_rewritten_only_when_asked() {
        assert_eq!(
            effective_url("http://localhost:8080/x", None),
            "http://localhost:8080/x"
        );
        assert_eq!(
            effective_url("http://localhost:8080/x", Some("host.docker.internal")),
            "http://host.docker.internal:8080/x"
        );
        assert_eq!(effective_url("http://127.0.0.1/", Some("gw")), "http://gw/");
        assert_eq!(
            effective_url("http://localhostname/", Some("gw")),
            "http://localhostname/"
        );
    }
}

use std::time::Duration;

use bollard::Docker;

use crate::error::ToolError;
use crate::probe::{bounded, error_chain, Timeouts};

/// A connected engine: one client shared by every probe.
#[derive(Debug, Clone)]
pub struct Engine {
    pub docker: Docker,
    /// Where it is, as the user would write it (`unix:///var/run/docker.sock`, `tcp://...`).
    pub endpoint: String,
    /// The API version in use (negotiated: the lower of ours and the engine's).
    pub api_version: String,
    /// The engine's own API version and release.
    pub server_api_version: String,
    pub server_version: String,
    pub timeouts: Timeouts,
}

impl Engine {
    /// An engine whose API version has been negotiated, described by its `GET /version`.
    pub fn negotiated(
        docker: Docker,
        endpoint: String,
        version: bollard::models::SystemVersion,
        timeouts: Timeouts,
    ) -> Engine {
        Engine {
            api_version: docker.client_version().to_string(),
            docker,
            endpoint,
            server_api_version: version.api_version.unwrap_or_default(),
            server_version: version.version.unwrap_or_default(),
            timeouts,
        }
    }
}

/// The endpoint the Docker CLI would use, from DOCKER_HOST or the default socket.
pub fn describe_endpoint() -> String {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => {
            let tls = std::env::var("DOCKER_TLS_VERIFY").is_ok();
            if tls && h.starts_with("tcp://") {
                format!("{h} (TLS)")
            } else {
                h
            }
        }
        _ => "unix:///var/run/docker.sock".to_string(),
    }
}

/// Connect like the docker CLI (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, else the
/// default socket), negotiate the API version (which also proves the daemon answers), and read
/// the engine's version.
pub async fn connect(timeouts: Timeouts) -> Result<Engine, ToolError> {
    let endpoint = describe_endpoint();
    let no_daemon = |detail: String| ToolError::NoDaemon {
        endpoint: endpoint.clone(),
        detail,
        docker_host: std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unset".into()),
    };
    let secs = timeouts.api.as_secs().max(1);
    let docker = match max_api_from_env() {
        // A lower ceiling (LABCHECK_MAX_API=1.41) makes labcheck speak an old engine's API
        // (responses shaped as that version), on the local socket.
        Some((major, minor))
            if !endpoint.starts_with("tcp://") && !endpoint.starts_with("ssh://") =>
        {
            let host = std::env::var("DOCKER_HOST")
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "unix:///var/run/docker.sock".into());
            Docker::connect_with_unix(
                &host,
                secs,
                &bollard::ClientVersion {
                    major_version: major,
                    minor_version: minor,
                },
            )
        }
        _ => Docker::connect_with_defaults().map(|d| d.with_timeout(Duration::from_secs(secs))),
    }
    .map_err(|e| no_daemon(e.to_string()))?;
    // Negotiation is the first request: it doubles as the ping.
    let docker = bounded(timeouts.api, "API version negotiation", async {
        docker
            .negotiate_version()
            .await
            .map_err(|e| error_chain(&e))
    })
    .await
    .map_err(no_daemon)?;
    let version = bounded(timeouts.api, "version", async {
        docker.version().await.map_err(|e| error_chain(&e))
    })
    .await
    .map_err(no_daemon)?;
    Ok(Engine::negotiated(docker, endpoint, version, timeouts))
}

/// `$LABCHECK_MAX_API` ("1.41"): the highest API version labcheck may use.
fn max_api_from_env() -> Option<(usize, usize)> {
    let v = std::env::var("LABCHECK_MAX_API").ok()?;
    let (a, b) = crate::lab::parse_api_version(&v)?;
    Some((a as usize, b as usize))
}

/// Whether `have` ("1.45") is at least `need` ("1.44").
pub fn api_at_least(have: &str, need: &str) -> bool {
    match (
        crate::lab::parse_api_version(have),
        crate::lab::parse_api_version(need),
    ) {
        (Some(h), Some(n)) => h >= n,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn api_versions_compare_numerically() {
        assert!(super::api_at_least("1.45", "1.44"));
        assert!(super::api_at_least("1.100", "1.44"));
        assert!(!super::api_at_least("1.41", "1.44"));
    }
}

//! Time limits: every Docker call, exec, HTTP request and query is bounded by one of these.

use std::future::Future;
use std::time::Duration;

/// Time limits for the different kinds of observation.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// One Engine API call (list, inspect, create, ...).
    pub api: Duration,
    /// One exec (including reading its output).
    pub exec: Duration,
    /// One HTTP request from the host.
    pub http: Duration,
    /// Connecting to PostgreSQL and running the query.
    pub postgres: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            api: Duration::from_secs(5),
            exec: Duration::from_secs(6),
            http: Duration::from_secs(5),
            postgres: Duration::from_secs(4),
        }
    }
}

/// An error with its causes: "client error (Connect): Connection refused (os error 111)".
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        src = s.source();
    }
    text
}

/// Run `fut` with a limit; a timeout becomes an error string naming `what`.
pub async fn bounded<T, E: std::fmt::Display>(
    limit: Duration,
    what: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!(
            "{what}: no answer within {:.1}s",
            limit.as_secs_f64()
        )),
    }
}

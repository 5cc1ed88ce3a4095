//! Connecting to an engine: unix socket, tcp (plain or TLS with client certificates), ssh (a
//! `ssh -L` tunnel to the engine's socket on that host, spawned with an argument list, never a
//! shell), or a docker CLI context. Each connection is checked once (ping, API version, the
//! engine's version), so a dead host is found here, before any check runs. `labcheck <lab>`
//! and `labcheck grade` both connect through [`connect_to`].

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::{ClientVersion, Docker, API_DEFAULT_VERSION};
use tokio::io::AsyncReadExt;

use super::context::{self, Asked};
use super::endpoint::{bracket, Endpoint};
use crate::error::ToolError;
use crate::limits::{bounded, error_chain, Timeouts};

/// Most bytes of ssh's stderr kept for an error message.
const SSH_STDERR_CAP: usize = 4096;
/// How long `labcheck <lab>` gives ssh to log in and open its tunnel.
const CLI_SSH_BUDGET: Duration = Duration::from_secs(15);

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
    /// The ssh tunnel the client talks through, closed when the last clone is dropped.
    _tunnel: Option<Arc<Tunnel>>,
}

/// A connected engine, and where the lab's `http` checks should go.
pub struct Connected {
    pub engine: Engine,
    /// Instead of localhost: the engine's host for tcp://, the loopback address of the tunnel's
    /// forwarded ports for ssh://, nothing for a local socket.
    pub http_host: Option<String>,
}

/// Why an engine could not be used: its settings are wrong (a TLS file missing, a context that
/// does not exist), or it did not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    Setup(String),
    Unreachable(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Setup(m) | ConnectError::Unreachable(m) => f.write_str(m),
        }
    }
}

/// Connect to the engine the command line means (flags, then the environment, as the docker
/// CLI decides: see [`context::choose`]). `http_ports`: the lab's localhost HTTP ports, which
/// an ssh tunnel forwards.
pub async fn connect_cli(
    asked: &Asked,
    timeouts: Timeouts,
    http_ports: &[u16],
) -> Result<Connected, ToolError> {
    let chosen = context::choose(asked).map_err(ToolError::Endpoint)?;
    let budget = match chosen.endpoint {
        Endpoint::Ssh { .. } => CLI_SSH_BUDGET,
        _ => timeouts.api,
    };
    let shown = chosen.endpoint.display();
    let mut c = connect_to(&chosen.endpoint, timeouts, budget, 0, http_ports)
        .await
        .map_err(|e| match e {
            ConnectError::Setup(m) => ToolError::Endpoint(format!(
                "{shown}: {m} (the engine comes from {})",
                chosen.because
            )),
            ConnectError::Unreachable(detail) => ToolError::NoDaemon {
                endpoint: shown.clone(),
                detail,
                chosen: chosen.because.clone(),
            },
        })?;
    if let Some(name) = &chosen.context {
        c.engine.endpoint = format!("{} (context {name})", c.engine.endpoint);
    }
    Ok(c)
}

/// [`connect_cli`] with no flags and no forwarded ports (the live tests' engine).
pub async fn connect(timeouts: Timeouts) -> Result<Engine, ToolError> {
    connect_cli(&Asked::from_env(None, None), timeouts, &[])
        .await
        .map(|c| c.engine)
}

/// Connect to `endpoint` and check it answers. `budget` bounds opening an ssh tunnel; `slot`
/// gives the tunnel its own loopback address (127.77.x.y) for the forwarded `http_ports`.
pub async fn connect_to(
    endpoint: &Endpoint,
    timeouts: Timeouts,
    budget: Duration,
    slot: usize,
    http_ports: &[u16],
) -> Result<Connected, ConnectError> {
    let secs = timeouts.api.as_secs().max(1);
    let version = &client_version();
    let setup = |e: bollard::errors::Error| ConnectError::Setup(error_chain(&e));
    // bollard looks for a unix socket when the client is made: no socket, no daemon.
    let no_socket = |e: bollard::errors::Error| ConnectError::Unreachable(error_chain(&e));
    match endpoint {
        Endpoint::Unix(path) => {
            let docker = Docker::connect_with_unix(&path.to_string_lossy(), secs, version)
                .map_err(no_socket)?;
            let engine = handshake(docker, endpoint.display(), timeouts, None).await?;
            Ok(Connected {
                engine,
                http_host: None,
            })
        }
        Endpoint::Tcp { host, port, tls } => {
            let addr = format!("tcp://{}:{port}", bracket(host));
            let docker = match tls {
                Some(t) => {
                    if let Some(missing) = t.missing() {
                        return Err(ConnectError::Setup(missing));
                    }
                    Docker::connect_with_ssl(&addr, &t.key, &t.cert, &t.ca, secs, version).map_err(
                        |e| ConnectError::Setup(format!("TLS setup: {}", error_chain(&e))),
                    )?
                }
                None => Docker::connect_with_http(&addr, secs, version).map_err(setup)?,
            };
            let engine = handshake(docker, endpoint.display(), timeouts, None).await?;
            // The lab's http checks look at the engine's machine, not this one's localhost.
            Ok(Connected {
                engine,
                http_host: Some(bracket(host)),
            })
        }
        Endpoint::Ssh { .. } => {
            let (tunnel, http_host) = Tunnel::open(endpoint, budget, slot, http_ports).await?;
            let sock = tunnel.socket.to_string_lossy().to_string();
            let docker = Docker::connect_with_unix(&sock, secs, version).map_err(no_socket)?;
            let engine = handshake(docker, endpoint.display(), timeouts, Some(Arc::new(tunnel)))
                .await
                .map_err(|e| {
                    ConnectError::Unreachable(format!("{e} (the ssh tunnel is up: is the engine's socket at that path on the host, and may this user use it?)"))
                })?;
            Ok(Connected { engine, http_host })
        }
        Endpoint::Context(name) => {
            let resolved = context::resolve_context(name, &context::docker_config_dir())
                .map_err(ConnectError::Setup)?;
            let mut c = Box::pin(connect_to(&resolved, timeouts, budget, slot, http_ports)).await?;
            c.engine.endpoint = format!("{} (context {name})", c.engine.endpoint);
            Ok(c)
        }
    }
}

/// The highest API version labcheck may speak: ours, or `$LABCHECK_MAX_API` ("1.41") to speak
/// an old engine's API (responses shaped as that version).
fn client_version() -> ClientVersion {
    std::env::var("LABCHECK_MAX_API")
        .ok()
        .and_then(|v| super::endpoint::parse_api(&v))
        .map(|(major, minor)| ClientVersion {
            major_version: major as usize,
            minor_version: minor as usize,
        })
        .unwrap_or(*API_DEFAULT_VERSION)
}

async fn limited<T>(
    limit: Duration,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, bollard::errors::Error>>,
) -> Result<T, ConnectError> {
    bounded(limit, what, async {
        fut.await.map_err(|e| error_chain(&e))
    })
    .await
    .map_err(ConnectError::Unreachable)
}

/// Ping, negotiate the API version (the lower of ours and the engine's), read the engine's
/// version.
async fn handshake(
    docker: Docker,
    endpoint: String,
    timeouts: Timeouts,
    tunnel: Option<Arc<Tunnel>>,
) -> Result<Engine, ConnectError> {
    // bollard's own limit stays above ours, so a silent engine reads "no answer within 5.0s".
    let docker = docker.with_timeout(Duration::from_secs(timeouts.api.as_secs() + 2));
    limited(timeouts.api, "ping", docker.ping()).await?;
    let docker = limited(
        timeouts.api,
        "API version negotiation",
        docker.negotiate_version(),
    )
    .await?;
    let version = limited(timeouts.api, "version", docker.version()).await?;
    Ok(Engine {
        api_version: docker.client_version().to_string(),
        docker,
        endpoint,
        server_api_version: version.api_version.unwrap_or_default(),
        server_version: version.version.unwrap_or_default(),
        timeouts,
        _tunnel: tunnel,
    })
}

/// The loopback address where slot `n`'s forwarded HTTP ports listen: 127.77.x.y, offset by
/// the process id so that two labcheck runs on one machine do not collide.
pub fn loopback_for(slot: usize) -> String {
    loopback_at(slot + (std::process::id() as usize).wrapping_mul(257))
}

fn loopback_at(n: usize) -> String {
    let n = n % (256 * 250);
    format!("127.77.{}.{}", n / 250, n % 250 + 2)
}

/// An `ssh -N -L` process forwarding a local socket to the engine's socket on the host.
/// Killed when dropped.
pub struct Tunnel {
    child: tokio::process::Child,
    dir: PathBuf,
    pub socket: PathBuf,
}

impl std::fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ssh tunnel at {}", self.socket.display())
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The ssh command line (program arguments; no shell ever sees them).
pub fn ssh_args(
    endpoint: &Endpoint,
    local_socket: &Path,
    connect_timeout: Duration,
    http: Option<(&str, &[u16])>,
) -> Vec<String> {
    let Endpoint::Ssh {
        user,
        host,
        port,
        socket,
        identity,
        known_hosts,
    } = endpoint
    else {
        return vec![];
    };
    let mut a: Vec<String> = vec!["-N".into(), "-T".into()];
    let opt = |a: &mut Vec<String>, o: String| {
        a.push("-o".into());
        a.push(o);
    };
    opt(&mut a, "BatchMode=yes".into());
    opt(&mut a, "ExitOnForwardFailure=yes".into());
    opt(
        &mut a,
        format!("ConnectTimeout={}", connect_timeout.as_secs().max(1)),
    );
    opt(&mut a, "ServerAliveInterval=5".into());
    opt(&mut a, "ServerAliveCountMax=2".into());
    opt(&mut a, "StreamLocalBindUnlink=yes".into());
    opt(&mut a, "ControlMaster=no".into());
    opt(&mut a, "ControlPath=none".into());
    opt(&mut a, "PermitLocalCommand=no".into());
    if let Some(p) = port {
        a.push("-p".into());
        a.push(p.to_string());
    }
    if let Some(i) = identity {
        a.push("-i".into());
        a.push(i.to_string_lossy().into());
        opt(&mut a, "IdentitiesOnly=yes".into());
    }
    if let Some(k) = known_hosts {
        opt(&mut a, format!("UserKnownHostsFile={}", k.display()));
        opt(&mut a, "StrictHostKeyChecking=yes".into());
    }
    a.push("-L".into());
    a.push(format!("{}:{socket}", local_socket.display()));
    if let Some((addr, ports)) = http {
        for p in ports {
            a.push("-L".into());
            a.push(format!("{addr}:{p}:127.0.0.1:{p}"));
        }
    }
    a.push("--".into());
    a.push(match user {
        Some(u) => format!("{u}@{host}"),
        None => host.clone(),
    });
    a
}

impl Tunnel {
    async fn open(
        endpoint: &Endpoint,
        budget: Duration,
        slot: usize,
        http_ports: &[u16],
    ) -> Result<(Tunnel, Option<String>), ConnectError> {
        let setup = ConnectError::Setup;
        let dir = std::env::temp_dir().join(format!("labcheck-ssh-{}-{slot}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| setup(format!("cannot make {}: {e}", dir.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        let socket = dir.join("docker.sock");
        let addr = loopback_for(slot);
        let http = (!http_ports.is_empty()).then_some((addr.as_str(), http_ports));
        let args = ssh_args(endpoint, &socket, budget, http);
        let mut child = tokio::process::Command::new("ssh")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                let _ = std::fs::remove_dir_all(&dir);
                setup(format!("cannot run ssh: {e} (install an OpenSSH client)"))
            })?;
        let mut stderr = child.stderr.take();
        let mut tunnel = Tunnel { child, dir, socket };
        let started = Instant::now();
        loop {
            if tunnel.socket.exists() {
                // ssh keeps writing to stderr for the tunnel's life: drain it (bounded) so it
                // never blocks on a full pipe.
                if let Some(mut s) = stderr.take() {
                    tokio::spawn(async move {
                        let mut buf = [0u8; 4096];
                        while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
                    });
                }
                let forwarded = http.is_some().then(|| addr.clone());
                return Ok((tunnel, forwarded));
            }
            if let Ok(Some(status)) = tunnel.child.try_wait() {
                let mut text = Vec::new();
                if let Some(s) = stderr.take() {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(1),
                        s.take(SSH_STDERR_CAP as u64).read_to_end(&mut text),
                    )
                    .await;
                }
                let text = String::from_utf8_lossy(&text);
                let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
                let msg = lines[lines.len().saturating_sub(3)..].join(" / ");
                return Err(ConnectError::Unreachable(format!(
                    "ssh to {} failed ({status}): {}",
                    endpoint.display(),
                    if msg.is_empty() { "no message" } else { &msg }
                )));
            }
            if started.elapsed() >= budget {
                return Err(ConnectError::Unreachable(format!(
                    "ssh to {}: no tunnel within {:.1}s",
                    endpoint.display(),
                    budget.as_secs_f64()
                )));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_arguments_are_a_plain_list_with_the_destination_last() {
        let ep = Endpoint::Ssh {
            user: Some("alice".into()),
            host: "10.0.0.5".into(),
            port: Some(2222),
            socket: "/run/user/1000/docker.sock".into(),
            identity: Some("/k/id".into()),
            known_hosts: Some("/k/known".into()),
        };
        let a = ssh_args(
            &ep,
            Path::new("/tmp/x/docker.sock"),
            Duration::from_secs(7),
            Some(("127.77.0.3", &[8080])),
        );
        let joined = a.join(" ");
        assert!(joined.contains("-o BatchMode=yes"), "{joined}");
        assert!(joined.contains("-o ConnectTimeout=7"), "{joined}");
        assert!(joined.contains("-p 2222 -i /k/id"), "{joined}");
        assert!(
            joined.contains("-o UserKnownHostsFile=/k/known -o StrictHostKeyChecking=yes"),
            "{joined}"
        );
        assert!(joined.contains("-L /tmp/x/docker.sock:/run/user/1000/docker.sock -L 127.77.0.3:8080:127.0.0.1:8080"), "{joined}");
        assert_eq!(&a[a.len() - 2..], ["--", "alice@10.0.0.5"]);
    }

    #[test]
    fn loopback_slots_are_distinct() {
        let all: std::collections::BTreeSet<String> = (0..1000).map(loopback_for).collect();
        assert_eq!(all.len(), 1000);
        assert_eq!(loopback_at(0), "127.77.0.2");
        assert_eq!(loopback_at(251), "127.77.1.3");
        assert_eq!(loopback_at(256 * 250), "127.77.0.2");
    }

    #[test]
    fn only_local_http_ports_are_forwarded() {
        use crate::probe::http::local_port;
        assert_eq!(local_port("http://127.0.0.1:8080/healthz"), Some(8080));
        assert_eq!(local_port("http://localhost/x"), Some(80));
        assert_eq!(local_port("https://localhost?x"), Some(443));
        assert_eq!(local_port("http://example.org:8080/"), None);
    }
}

//! Connecting to one learner's engine: unix socket, tcp (plain or TLS with client
//! certificates), ssh (a `ssh -L` tunnel to the engine's socket on that host, spawned with an
//! argument list, never a shell), or a docker CLI context. Each connection pings once; a dead
//! host is found here, once, before any check runs.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use bollard::{Docker, API_DEFAULT_VERSION};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::roster::{Endpoint, TlsFiles};
use crate::probe::{bounded, Timeouts};
use crate::target::Engine;

/// Most bytes of ssh's stderr kept for an error message.
const SSH_STDERR_CAP: usize = 4096;

/// A connected engine, and what must live as long as it is used (the ssh tunnel).
pub struct Connected {
    pub engine: Engine,
    /// Where the lab's `http` checks should go instead of localhost: the engine's host for
    /// tcp://, the loopback address of the tunnel's forwarded ports for ssh://.
    pub http_host: Option<String>,
    pub _tunnel: Option<Tunnel>,
}

/// Connect to `endpoint` and ping it. `slot` gives an ssh tunnel its own loopback address
/// (127.77.x.y) for forwarded HTTP ports; `http_ports` are the ports the lab's `http` checks
/// use on the learner's localhost.
pub async fn connect(
    endpoint: &Endpoint,
    timeouts: Timeouts,
    budget: Duration,
    slot: usize,
    http_ports: &[u16],
) -> Result<Connected, String> {
    let secs = timeouts.api.as_secs().max(1);
    match endpoint {
        Endpoint::Unix(path) => {
            let docker =
                Docker::connect_with_unix(&path.to_string_lossy(), secs, API_DEFAULT_VERSION)
                    .map_err(|e| e.to_string())?;
            let engine = handshake(docker, format!("unix://{}", path.display()), timeouts).await?;
            Ok(Connected {
                engine,
                http_host: None,
                _tunnel: None,
            })
        }
        Endpoint::Tcp { host, port, tls } => {
            let addr = if host.contains(':') {
                format!("tcp://[{host}]:{port}")
            } else {
                format!("tcp://{host}:{port}")
            };
            let docker = match tls {
                Some(t) => {
                    for (what, p) in [("ca", &t.ca), ("cert", &t.cert), ("key", &t.key)] {
                        if !p.is_file() {
                            return Err(format!("TLS {what} file {} does not exist", p.display()));
                        }
                    }
                    Docker::connect_with_ssl(
                        &addr,
                        &t.key,
                        &t.cert,
                        &t.ca,
                        secs,
                        API_DEFAULT_VERSION,
                    )
                    .map_err(|e| format!("TLS setup: {e}"))?
                }
                None => Docker::connect_with_http(&addr, secs, API_DEFAULT_VERSION)
                    .map_err(|e| e.to_string())?,
            };
            let shown = if tls.is_some() {
                format!("{addr} (TLS)")
            } else {
                addr
            };
            let engine = handshake(docker, shown, timeouts).await?;
            // The lab's http checks look at the learner's machine, not the grader's localhost.
            let http_host = Some(if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            });
            Ok(Connected {
                engine,
                http_host,
                _tunnel: None,
            })
        }
        Endpoint::Ssh { .. } => {
            let (tunnel, http_host) = Tunnel::open(endpoint, budget, slot, http_ports).await?;
            let sock = tunnel.socket.to_string_lossy().to_string();
            let docker = Docker::connect_with_unix(&sock, secs, API_DEFAULT_VERSION)
                .map_err(|e| e.to_string())?;
            let engine = handshake(docker, endpoint.display(), timeouts).await.map_err(|e| {
                format!("{e} (the ssh tunnel is up: is the engine's socket at that path on the host, and may this user use it?)")
            })?;
            Ok(Connected {
                engine,
                http_host,
                _tunnel: Some(tunnel),
            })
        }
        Endpoint::Context(name) => {
            let resolved = resolve_context(name, &docker_config_dir())?;
            let mut c = Box::pin(connect(&resolved, timeouts, budget, slot, http_ports)).await?;
            c.engine.endpoint = format!("{} (context {name})", c.engine.endpoint);
            Ok(c)
        }
    }
}

/// An error with its causes (a TLS failure's reason is three levels down).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        src = s.source();
    }
    parts.join(": ")
}

async fn limited<T>(
    limit: Duration,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, bollard::errors::Error>>,
) -> Result<T, String> {
    bounded(limit, what, async { fut.await.map_err(|e| chain(&e)) }).await
}

/// Ping, negotiate the API version, read the engine's version: the same as `target::connect`.
async fn handshake(docker: Docker, endpoint: String, timeouts: Timeouts) -> Result<Engine, String> {
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
    Ok(Engine::negotiated(docker, endpoint, version, timeouts))
}

/// `$DOCKER_CONFIG`, else `~/.docker`.
pub fn docker_config_dir() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".docker"),
    }
}

/// Read a docker CLI context: `contexts/meta/<sha256(name)>/meta.json` names the host, and
/// `contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem` hold its TLS files.
pub fn resolve_context(name: &str, config_dir: &Path) -> Result<Endpoint, String> {
    if name == "default" {
        return Ok(Endpoint::Unix(PathBuf::from("/var/run/docker.sock")));
    }
    let digest = hex(&Sha256::digest(name.as_bytes()));
    let meta_path = config_dir
        .join("contexts/meta")
        .join(&digest)
        .join("meta.json");
    let text = std::fs::read_to_string(&meta_path)
        .map_err(|e| format!("context `{name}`: cannot read {}: {e}", meta_path.display()))?;
    let meta: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("context `{name}`: {}: {e}", meta_path.display()))?;
    let docker = &meta["Endpoints"]["docker"];
    let host = docker["Host"].as_str().ok_or_else(|| {
        format!(
            "context `{name}` has no docker endpoint host in {}",
            meta_path.display()
        )
    })?;
    if docker["SkipTLSVerify"].as_bool() == Some(true) {
        return Err(format!(
            "context `{name}` skips TLS verification; labcheck grades only engines it can verify"
        ));
    }
    let tls_dir = config_dir.join("contexts/tls").join(&digest).join("docker");
    let tls = tls_dir.join("ca.pem").is_file().then(|| TlsFiles {
        ca: tls_dir.join("ca.pem"),
        cert: tls_dir.join("cert.pem"),
        key: tls_dir.join("key.pem"),
    });
    let text = format!(
        "[[learner]]\nid = \"context\"\nendpoint = {}\n",
        toml_string(host)
    );
    let mut roster = super::roster::parse(&text, Path::new("/"))
        .map_err(|e| format!("context `{name}`: {e}"))?;
    let mut ep = roster.learners.remove(0).endpoint;
    if let Endpoint::Tcp { tls: t, .. } = &mut ep {
        *t = tls;
    }
    Ok(ep)
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The loopback address where slot `n`'s forwarded HTTP ports listen: 127.77.x.y, offset by
/// the process id so that two grading runs on one machine do not collide.
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
    ) -> Result<(Tunnel, Option<String>), String> {
        let dir =
            std::env::temp_dir().join(format!("labcheck-grade-{}-{slot}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
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
                format!("cannot run ssh: {e} (install an OpenSSH client)")
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
                let last: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
                let msg = last
                    .iter()
                    .rev()
                    .take(3)
                    .rev()
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" / ");
                return Err(format!(
                    "ssh to {} failed ({status}): {}",
                    endpoint.display(),
                    if msg.is_empty() { "no message" } else { &msg }
                ));
            }
            if started.elapsed() >= budget {
                return Err(format!(
                    "ssh to {}: no tunnel within {:.1}s",
                    endpoint.display(),
                    budget.as_secs_f64()
                ));
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
    fn a_context_is_read_from_the_cli_config() {
        let dir = tempfile::tempdir().unwrap();
        let digest = hex(&Sha256::digest(b"vm1"));
        let meta = dir.path().join("contexts/meta").join(&digest);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(meta.join("meta.json"), r#"{"Name":"vm1","Metadata":{},"Endpoints":{"docker":{"Host":"tcp://10.1.2.3:2376","SkipTLSVerify":false}}}"#).unwrap();
        assert_eq!(
            resolve_context("vm1", dir.path()).unwrap(),
            Endpoint::Tcp {
                host: "10.1.2.3".into(),
                port: 2376,
                tls: None
            }
        );
        let tls = dir.path().join("contexts/tls").join(&digest).join("docker");
        std::fs::create_dir_all(&tls).unwrap();
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(tls.join(f), "x").unwrap();
        }
        match resolve_context("vm1", dir.path()).unwrap() {
            Endpoint::Tcp { tls: Some(t), .. } => assert_eq!(t.ca, tls.join("ca.pem")),
            other => panic!("{other:?}"),
        }
        assert!(resolve_context("nope", dir.path())
            .unwrap_err()
            .contains("cannot read"));
        assert_eq!(
            resolve_context("default", dir.path()).unwrap(),
            Endpoint::Unix("/var/run/docker.sock".into())
        );
    }
}

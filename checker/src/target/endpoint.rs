//! Where an engine is, as the docker CLI writes it (`unix://`, `tcp://`, `ssh://`, a context
//! name), parsed into an [`Endpoint`]. Used by `labcheck <lab>` (DOCKER_HOST, --host, contexts)
//! and by `labcheck grade` (the roster).

use std::path::PathBuf;

use serde::Deserialize;

/// The engine's socket on the far side of an ssh:// endpoint, unless told otherwise.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// A client certificate and the CA that signed the engine's: a verified TLS connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// `ca.pem`, `cert.pem` and `key.pem` in `dir` (DOCKER_CERT_PATH, a context's TLS folder).
    pub fn in_dir(dir: &std::path::Path) -> TlsFiles {
        TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }

    /// The first of the three files that is missing, named.
    pub fn missing(&self) -> Option<String> {
        [("ca", &self.ca), ("cert", &self.cert), ("key", &self.key)]
            .into_iter()
            .find(|(_, p)| !p.is_file())
            .map(|(what, p)| format!("the TLS {what} file {} does not exist", p.display()))
    }
}

/// Where an engine is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `unix:///path/to/docker.sock`
    Unix(PathBuf),
    /// `tcp://host:port`, with TLS files (client certificate, verified server) or plain.
    Tcp {
        host: String,
        port: u16,
        tls: Option<TlsFiles>,
    },
    /// `ssh://[user@]host[:port]`: labcheck runs `ssh -L` to the engine's socket on that host.
    Ssh {
        user: Option<String>,
        host: String,
        port: Option<u16>,
        socket: String,
        identity: Option<PathBuf>,
        known_hosts: Option<PathBuf>,
    },
    /// A docker CLI context, resolved when connecting.
    Context(String),
}

impl Endpoint {
    /// As shown to people (no secrets: TLS file paths are not shown).
    pub fn display(&self) -> String {
        match self {
            Endpoint::Unix(p) => format!("unix://{}", p.display()),
            Endpoint::Tcp { host, port, tls } => format!(
                "tcp://{}:{port}{}",
                bracket(host),
                if tls.is_some() { " (TLS)" } else { "" }
            ),
            Endpoint::Ssh {
                user, host, port, ..
            } => format!(
                "ssh://{}{}{}",
                user.as_ref().map(|u| format!("{u}@")).unwrap_or_default(),
                bracket(host),
                port.map(|p| format!(":{p}")).unwrap_or_default()
            ),
            Endpoint::Context(name) => format!("context {name}"),
        }
    }

    /// The engine on this machine's default socket.
    pub fn default_socket() -> Endpoint {
        Endpoint::Unix(PathBuf::from(DEFAULT_SOCKET))
    }
}

/// What an ssh:// endpoint may carry besides its URL.
#[derive(Debug, Clone, Default)]
pub struct SshSettings {
    /// The engine's socket on the host (default [`DEFAULT_SOCKET`]).
    pub socket: Option<String>,
    pub identity: Option<PathBuf>,
    pub known_hosts: Option<PathBuf>,
}

/// Parse `unix:///path`, `tcp://host[:port]` or `ssh://[user@]host[:port]`. A tcp:// port
/// defaults as the docker CLI's does: 2376 with TLS, 2375 without.
pub fn parse(e: &str, tls: Option<TlsFiles>, ssh: SshSettings) -> Result<Endpoint, String> {
    if let Some(path) = e.strip_prefix("unix://") {
        if !path.starts_with('/') {
            return Err(format!(
                "`{e}`: a unix endpoint needs an absolute path (unix:///var/run/docker.sock)"
            ));
        }
        if tls.is_some() {
            return Err("tls files are for tcp:// endpoints only".into());
        }
        return Ok(Endpoint::Unix(PathBuf::from(path)));
    }
    if let Some(rest) = e.strip_prefix("tcp://") {
        let rest = rest.trim_end_matches('/');
        let (host, port) = host_port(rest)?;
        check_host(&host)?;
        let port = port.unwrap_or(if tls.is_some() { 2376 } else { 2375 });
        return Ok(Endpoint::Tcp { host, port, tls });
    }
    if let Some(rest) = e.strip_prefix("ssh://") {
        if tls.is_some() {
            return Err(
                "tls files are for tcp:// endpoints only (ssh brings its own encryption)".into(),
            );
        }
        let rest = rest.trim_end_matches('/');
        let (user, hp) = match rest.rsplit_once('@') {
            Some((u, hp)) => {
                check_name(u, "ssh user")?;
                (Some(u.to_string()), hp)
            }
            None => (None, rest),
        };
        let (host, port) = host_port(hp)?;
        check_host(&host)?;
        let socket = ssh.socket.unwrap_or_else(|| DEFAULT_SOCKET.into());
        if !socket.starts_with('/')
            || socket.contains(':')
            || socket.chars().any(char::is_whitespace)
        {
            return Err(format!(
                "docker_socket `{socket}` must be an absolute path with no ':' or spaces"
            ));
        }
        return Ok(Endpoint::Ssh {
            user,
            host,
            port,
            socket,
            identity: ssh.identity,
            known_hosts: ssh.known_hosts,
        });
    }
    Err(format!("`{e}` is not an endpoint labcheck knows: use ssh://user@host, tcp://host:port (with TLS files) or unix:///path"))
}

/// `[v6]` for an IPv6 address, the host as it is otherwise.
pub fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// A compose project name, a user name or a context name: no option-like or odd characters.
pub fn check_name(v: &str, what: &str) -> Result<(), String> {
    if v.is_empty()
        || v.len() > 128
        || v.starts_with('-')
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(format!("the {what} `{v}` may hold only letters, digits, '.', '_' and '-', and not start with '-'"));
    }
    Ok(())
}

/// A host name or an IP address (IPv6 without brackets).
pub fn check_host(h: &str) -> Result<(), String> {
    let h = h.trim_start_matches('[').trim_end_matches(']');
    if h.is_empty()
        || h.len() > 253
        || h.starts_with('-')
        || !h
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
    {
        return Err(format!("`{h}` is not a host name or an IP address"));
    }
    Ok(())
}

/// Split `host:port`, `[v6]:port`, `host` (port optional).
fn host_port(s: &str) -> Result<(String, Option<u16>), String> {
    if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{s}`: unclosed '['"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| format!("`{p}` is not a port"))?,
            ),
            None if after.is_empty() => None,
            None => return Err(format!("`{s}` is not host:port")),
        };
        return Ok((h.to_string(), port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Ok((
            h.to_string(),
            Some(
                p.parse::<u16>()
                    .map_err(|_| format!("`{p}` is not a port"))?,
            ),
        )),
        _ => Ok((s.to_string(), None)),
    }
}

/// Whether `have` ("1.45") is at least `need` ("1.44").
/// "1.44" -> (1, 44)
pub fn parse_api(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.trim().split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

pub fn api_at_least(have: &str, need: &str) -> bool {
    match (parse_api(have), parse_api(need)) {
        (Some(h), Some(n)) => h >= n,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_compare_numerically() {
        assert!(api_at_least("1.45", "1.44"));
        assert!(api_at_least("1.100", "1.44"));
        assert!(!api_at_least("1.41", "1.44"));
    }

    #[test]
    fn hosts_parse_as_the_docker_cli_writes_them() {
        let none = SshSettings::default;
        assert_eq!(
            parse("unix:///run/docker.sock", None, none()).unwrap(),
            Endpoint::Unix("/run/docker.sock".into())
        );
        assert_eq!(
            parse("tcp://[::1]:2376/", None, none()).unwrap().display(),
            "tcp://[::1]:2376"
        );
        assert_eq!(
            parse("tcp://h", Some(TlsFiles::in_dir("/c".as_ref())), none())
                .unwrap()
                .display(),
            "tcp://h:2376 (TLS)"
        );
        assert_eq!(
            parse("ssh://me@box:2222", None, none()).unwrap(),
            Endpoint::Ssh {
                user: Some("me".into()),
                host: "box".into(),
                port: Some(2222),
                socket: DEFAULT_SOCKET.into(),
                identity: None,
                known_hosts: None
            }
        );
        for bad in [
            "unix://rel.sock",
            "ssh://u@-oProxyCommand=x",
            "npipe:////./pipe/x",
        ] {
            assert!(parse(bad, None, none()).is_err(), "{bad}");
        }
    }
}

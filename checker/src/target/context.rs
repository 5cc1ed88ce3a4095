//! Which engine the command line means, decided as the docker CLI decides it, and docker CLI
//! contexts (`docker context create`), read from the CLI's config folder.
//!
//! The docker CLI's order (cli/command/cli.go, resolveContextName; tried against docker 28):
//! `--context` (with `--host` as well: an error), then `--host`, then `$DOCKER_HOST`, then
//! `$DOCKER_CONTEXT`, then `currentContext` in config.json, then the default socket. The
//! context named `default` is "no context": `$DOCKER_HOST` or the default socket.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::endpoint::{self, Endpoint, SshSettings, TlsFiles};

/// What the command line and the environment say about the engine (read once, so the choice
/// itself is a pure function).
#[derive(Debug, Clone, Default)]
pub struct Asked {
    /// `--host`
    pub host: Option<String>,
    /// `--context`
    pub context: Option<String>,
    /// `$DOCKER_HOST`
    pub docker_host: Option<String>,
    /// `$DOCKER_CONTEXT`
    pub docker_context: Option<String>,
    /// `$DOCKER_TLS_VERIFY` is set (to anything but nothing).
    pub tls_verify: bool,
    /// `$DOCKER_CERT_PATH`
    pub cert_path: Option<PathBuf>,
    /// `$DOCKER_CONFIG`, else `~/.docker`.
    pub config_dir: PathBuf,
}

impl Asked {
    /// The flags given, the rest from the environment.
    pub fn from_env(host: Option<String>, context: Option<String>) -> Asked {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Asked {
            host,
            context,
            docker_host: var("DOCKER_HOST"),
            docker_context: var("DOCKER_CONTEXT"),
            tls_verify: var("DOCKER_TLS_VERIFY").is_some(),
            cert_path: var("DOCKER_CERT_PATH").map(PathBuf::from),
            config_dir: docker_config_dir(),
        }
    }
}

/// The engine chosen, and what chose it (said when it cannot be reached).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub endpoint: Endpoint,
    /// "DOCKER_HOST (now: unset)", "the context `vm` (from --context)", ...
    pub because: String,
    /// The context it came from, if any.
    pub context: Option<String>,
}

/// Decide the engine as the docker CLI would. `Err`: a context that does not exist or cannot be
/// used, a host labcheck cannot parse, both --host and --context.
pub fn choose(a: &Asked) -> Result<Chosen, String> {
    if a.host.is_some() && a.context.is_some() {
        return Err("conflicting options: give either --host or --context, not both".into());
    }
    let context = match (&a.context, &a.host, &a.docker_host) {
        (Some(c), _, _) => Some((c.clone(), "--context".to_string())),
        (None, Some(_), _) | (None, None, Some(_)) => None,
        (None, None, None) => match &a.docker_context {
            Some(c) => Some((c.clone(), "DOCKER_CONTEXT".to_string())),
            None => current_context(&a.config_dir)?.map(|c| {
                let file = a.config_dir.join("config.json");
                (c, format!("currentContext in {}", file.display()))
            }),
        },
    };
    match context {
        Some((name, from)) if name != "default" => {
            let endpoint = resolve_context(&name, &a.config_dir)
                .map_err(|e| format!("{e} (named by {from})"))?;
            Ok(Chosen {
                endpoint,
                because: format!("the context `{name}` (from {from})"),
                context: Some(name),
            })
        }
        _ => host(a),
    }
}

/// `--host`, else `$DOCKER_HOST`, else the default socket.
fn host(a: &Asked) -> Result<Chosen, String> {
    let (text, because) = match (&a.host, &a.docker_host) {
        (Some(h), _) => (h, format!("--host (now: {h})")),
        (None, Some(h)) => (h, format!("DOCKER_HOST (now: {h})")),
        (None, None) => {
            return Ok(Chosen {
                endpoint: Endpoint::default_socket(),
                because: "DOCKER_HOST (now: unset)".into(),
                context: None,
            })
        }
    };
    let tls = (a.tls_verify && text.starts_with("tcp://"))
        .then(|| TlsFiles::in_dir(a.cert_path.as_deref().unwrap_or(a.config_dir.as_path())));
    let endpoint = endpoint::parse(text, tls, SshSettings::default())
        .map_err(|e| format!("{because}: {e}"))?;
    Ok(Chosen {
        endpoint,
        because,
        context: None,
    })
}

/// `$DOCKER_CONFIG`, else `~/.docker`.
pub fn docker_config_dir() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".docker"),
    }
}

/// `currentContext` in `config.json` (set by `docker context use`); no file: none.
pub fn current_context(config_dir: &Path) -> Result<Option<String>, String> {
    let file = config_dir.join("config.json");
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
    };
    let config: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not valid JSON: {e}", file.display()))?;
    Ok(config["currentContext"]
        .as_str()
        .filter(|c| !c.is_empty())
        .map(str::to_string))
}

/// Read a docker CLI context: `contexts/meta/<sha256(name)>/meta.json` names the host, and
/// `contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem` hold its TLS files.
pub fn resolve_context(name: &str, config_dir: &Path) -> Result<Endpoint, String> {
    if name == "default" {
        return Ok(Endpoint::default_socket());
    }
    let digest = hex(&Sha256::digest(name.as_bytes()));
    let meta_path = config_dir
        .join("contexts/meta")
        .join(&digest)
        .join("meta.json");
    let text = match std::fs::read_to_string(&meta_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "context `{name}` does not exist (no {}); `docker context ls` lists the contexts",
                meta_path.display()
            ))
        }
        Err(e) => {
            return Err(format!(
                "context `{name}`: cannot read {}: {e}",
                meta_path.display()
            ))
        }
    };
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
            "context `{name}` skips TLS verification; labcheck connects only to engines it can verify"
        ));
    }
    let tls_dir = config_dir.join("contexts/tls").join(&digest).join("docker");
    let tls = (host.starts_with("tcp://") && tls_dir.join("ca.pem").is_file())
        .then(|| TlsFiles::in_dir(&tls_dir));
    endpoint::parse(host, tls, SshSettings::default()).map_err(|e| format!("context `{name}`: {e}"))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config folder with `contexts` (name -> host) and, if given, a current context.
    fn config(contexts: &[(&str, &str)], current: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, host) in contexts {
            let meta = dir
                .path()
                .join("contexts/meta")
                .join(hex(&Sha256::digest(name.as_bytes())));
            std::fs::create_dir_all(&meta).unwrap();
            let json = serde_json::json!({"Name": name, "Metadata": {},
                "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}}});
            std::fs::write(meta.join("meta.json"), json.to_string()).unwrap();
        }
        if let Some(c) = current {
            let json = serde_json::json!({"auths": {}, "currentContext": c});
            std::fs::write(dir.path().join("config.json"), json.to_string()).unwrap();
        }
        dir
    }

    fn asked(dir: &Path) -> Asked {
        Asked {
            config_dir: dir.to_path_buf(),
            ..Asked::default()
        }
    }

    fn unix(p: &str) -> Endpoint {
        Endpoint::Unix(p.into())
    }

    #[test]
    fn the_docker_clis_order_decides() {
        let d = config(
            &[
                ("flag", "unix:///flag.sock"),
                ("env", "unix:///env.sock"),
                ("current", "unix:///current.sock"),
            ],
            Some("current"),
        );
        let mut a = asked(d.path());
        let chosen = |a: &Asked| choose(a).unwrap().endpoint;
        // currentContext when nothing else is said
        assert_eq!(chosen(&a), unix("/current.sock"));
        assert!(choose(&a)
            .unwrap()
            .because
            .contains("(from currentContext in"));
        // DOCKER_CONTEXT beats it
        a.docker_context = Some("env".into());
        assert_eq!(chosen(&a), unix("/env.sock"));
        // DOCKER_HOST beats both contexts from the environment
        a.docker_host = Some("unix:///host.sock".into());
        assert_eq!(chosen(&a), unix("/host.sock"));
        assert_eq!(
            choose(&a).unwrap().because,
            "DOCKER_HOST (now: unix:///host.sock)"
        );
        // --context beats DOCKER_HOST (the docker CLI does the same)
        a.context = Some("flag".into());
        assert_eq!(chosen(&a), unix("/flag.sock"));
        assert_eq!(
            choose(&a).unwrap().because,
            "the context `flag` (from --context)"
        );
        // --context default is "no context": DOCKER_HOST again
        a.context = Some("default".into());
        assert_eq!(chosen(&a), unix("/host.sock"));
        // --host beats DOCKER_HOST; --host with --context is an error
        a.context = None;
        a.host = Some("tcp://10.0.0.1".into());
        assert_eq!(chosen(&a).display(), "tcp://10.0.0.1:2375");
        a.context = Some("flag".into());
        assert!(choose(&a).unwrap_err().contains("not both"));
    }

    #[test]
    fn nothing_said_is_the_default_socket() {
        let d = config(&[], None);
        let c = choose(&asked(d.path())).unwrap();
        assert_eq!(c.endpoint, Endpoint::default_socket());
        assert_eq!(c.because, "DOCKER_HOST (now: unset)");
        // `docker context use default` writes "default": the same
        let d = config(&[], Some("default"));
        assert_eq!(
            choose(&asked(d.path())).unwrap().endpoint,
            Endpoint::default_socket()
        );
    }

    #[test]
    fn tls_verify_takes_the_files_from_the_cert_path_or_the_config_folder() {
        let d = config(&[], None);
        let mut a = asked(d.path());
        a.docker_host = Some("tcp://10.0.0.1".into());
        a.tls_verify = true;
        match choose(&a).unwrap().endpoint {
            Endpoint::Tcp {
                port: 2376,
                tls: Some(t),
                ..
            } => assert_eq!(t.ca, d.path().join("ca.pem")),
            other => panic!("{other:?}"),
        }
        a.cert_path = Some("/certs".into());
        match choose(&a).unwrap().endpoint {
            Endpoint::Tcp { tls: Some(t), .. } => assert_eq!(t.key, Path::new("/certs/key.pem")),
            other => panic!("{other:?}"),
        }
        // TLS settings do not apply to a socket
        a.docker_host = Some("unix:///x.sock".into());
        assert_eq!(choose(&a).unwrap().endpoint, unix("/x.sock"));
    }

    #[test]
    fn mistakes_are_named() {
        let d = config(&[], Some("gone"));
        let e = choose(&asked(d.path())).unwrap_err();
        assert!(
            e.contains("context `gone` does not exist")
                && e.contains("docker context ls")
                && e.ends_with("config.json)"),
            "{e}"
        );
        let mut a = asked(d.path());
        a.docker_host = Some("http://x".into());
        let e = choose(&a).unwrap_err();
        assert!(e.starts_with("DOCKER_HOST (now: http://x): "), "{e}");
        std::fs::write(d.path().join("config.json"), "{not json").unwrap();
        let e = choose(&asked(d.path())).unwrap_err();
        assert!(e.contains("config.json is not valid JSON"), "{e}");
    }

    #[test]
    fn a_context_is_read_from_the_cli_config() {
        let d = config(
            &[("vm1", "tcp://10.1.2.3:2376"), ("box", "ssh://me@box")],
            None,
        );
        assert_eq!(
            resolve_context("vm1", d.path()).unwrap(),
            Endpoint::Tcp {
                host: "10.1.2.3".into(),
                port: 2376,
                tls: None
            }
        );
        let digest = hex(&Sha256::digest(b"vm1"));
        let tls = d.path().join("contexts/tls").join(&digest).join("docker");
        std::fs::create_dir_all(&tls).unwrap();
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(tls.join(f), "x").unwrap();
        }
        match resolve_context("vm1", d.path()).unwrap() {
            Endpoint::Tcp { tls: Some(t), .. } => assert_eq!(t.ca, tls.join("ca.pem")),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            resolve_context("box", d.path()).unwrap().display(),
            "ssh://me@box"
        );
        assert!(resolve_context("nope", d.path())
            .unwrap_err()
            .contains("does not exist"));
        assert_eq!(
            resolve_context("default", d.path()).unwrap(),
            Endpoint::default_socket()
        );
    }
}

//! The engine: how labcheck reaches it, what it is (Docker Engine, Docker Desktop, rootless,
//! Podman's API), its API and Compose versions against what the lab needs, and its clock.

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::{Finding, Level};
use crate::target::context::Chosen;
use crate::target::{api_at_least, Endpoint};

/// Past this much difference between the engine's clock and this machine's, say so.
pub const CLOCK_SKEW_WARN: Duration = Duration::from_secs(5);

const START_DOCKER: &str =
    "start it: `sudo systemctl start docker` (Linux), or open Docker Desktop";

/// The engine's settings are wrong: a context that does not exist, a TLS file missing, a
/// DOCKER_HOST labcheck cannot read.
pub fn bad_settings(message: &str) -> Finding {
    Finding::new(
        "engine",
        Level::Blocks,
        format!("the engine's settings cannot be used: {message}"),
        "labcheck (like the docker CLI) cannot reach any engine until they are fixed",
        Some(
            "`docker context ls` lists the contexts; `docker context use default` or `unset DOCKER_HOST DOCKER_CONTEXT` goes back to the local engine".into(),
        ),
    )
}

/// No engine answered at the chosen endpoint: why, as far as the error tells.
pub fn unreachable(chosen: &Chosen, detail: &str) -> Finding {
    let at = chosen.endpoint.display();
    let lower = detail.to_lowercase();
    let (what, fix) = if lower.contains("permission denied") {
        (
            format!("labcheck may not use the engine's socket at {at}: {detail}"),
            "add yourself to the `docker` group: `sudo usermod -aG docker $USER`, then log out and in again (or run `newgrp docker`)".to_string(),
        )
    } else if matches!(chosen.endpoint, Endpoint::Unix(_))
        && (lower.contains("not found") || lower.contains("no such file"))
    {
        let unset = if chosen.because.starts_with("DOCKER_HOST (now: unset") {
            String::new()
        } else {
            format!("; or check {}, which chose this socket", chosen.because)
        };
        (
            format!("no engine: nothing listens at {at} ({detail})"),
            format!("{START_DOCKER}{unset}"),
        )
    } else {
        (
            format!("the engine at {at} does not answer: {detail}"),
            format!(
                "{START_DOCKER}; check {} and that the host is up",
                chosen.because
            ),
        )
    };
    Finding::new(
        "engine",
        Level::Blocks,
        what,
        "every lab runs on a Docker engine, and labcheck reads the stack through its API",
        Some(fix),
    )
}

/// How labcheck reaches the engine, and what chose it.
pub fn connection(chosen: &Chosen) -> Finding {
    let how = match &chosen.endpoint {
        Endpoint::Unix(p) => format!("the unix socket {}", p.display()),
        Endpoint::Tcp { tls: Some(_), .. } => {
            "TCP with TLS (a client certificate, the engine's verified)".into()
        }
        Endpoint::Tcp {
            tls: None, host, ..
        } => {
            if is_loopback(host) {
                "plain TCP on this machine's loopback".into()
            } else {
                return Finding::new(
                    "engine",
                    Level::Warn,
                    format!("labcheck talks to {} over plain TCP, chosen by {}", chosen.endpoint.display(), chosen.because),
                    "no encryption and no authentication: whoever reaches that port controls the engine, as root",
                    Some("use ssh://user@host, or TLS: DOCKER_TLS_VERIFY=1 with DOCKER_CERT_PATH holding ca.pem, cert.pem and key.pem".into()),
                );
            }
        }
        Endpoint::Ssh { socket, .. } => format!("an ssh tunnel to {socket} on that host"),
        Endpoint::Context(name) => format!("the context {name}"),
    };
    let context = chosen
        .context
        .as_ref()
        .map(|c| format!(" (context {c})"))
        .unwrap_or_default();
    Finding::ok(
        "engine",
        format!(
            "labcheck talks to {}{context} through {how}, chosen by {}",
            chosen.endpoint.display(),
            chosen.because
        ),
    )
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What `/info` and `/version` say about the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineFacts {
    pub server_version: String,
    pub api_version: String,
    /// `/info` OperatingSystem ("Debian GNU/Linux 12 (bookworm)", "Docker Desktop").
    pub os: String,
    /// `/info` SecurityOptions ("name=seccomp,profile=builtin", "name=rootless").
    pub security_options: Vec<String>,
    /// `/version` Platform.Name and Components[].Name ("Docker Engine - Community",
    /// "Podman Engine").
    pub names: Vec<String>,
    /// The unix socket labcheck talks through, if any.
    pub socket: Option<String>,
}

impl EngineFacts {
    pub fn is_podman(&self) -> bool {
        self.names
            .iter()
            .any(|n| n.to_lowercase().contains("podman"))
    }
    pub fn is_desktop(&self) -> bool {
        self.os == "Docker Desktop" || self.names.iter().any(|n| n.contains("Docker Desktop"))
    }
    /// A rootless engine says so in its security options; its socket is the user's
    /// (`/run/user/<uid>/docker.sock`).
    pub fn is_rootless(&self) -> bool {
        self.security_options
            .iter()
            .any(|o| o.split(',').any(|p| p == "name=rootless"))
            || self
                .socket
                .as_deref()
                .is_some_and(|s| s.starts_with("/run/user/"))
    }
}

/// What the engine is: Podman's Docker API, Docker Desktop, a rootless engine, or a plain one.
pub fn kind(f: &EngineFacts) -> Finding {
    let versions = format!("{} (API {})", f.server_version, f.api_version);
    if f.is_podman() {
        return Finding::new(
            "engine",
            Level::Warn,
            format!("the engine is Podman's Docker API, version {versions}"),
            "Podman speaks an older Docker API (1.41 for Podman 4): Compose refuses healthcheck start_interval against it, and some labels and inspect fields differ from Docker's",
            Some("use Docker Engine 25 or newer for the labs (the book's setup chapter installs one)".into()),
        );
    }
    if f.is_desktop() {
        return Finding::new(
            "engine",
            Level::Ok,
            format!("the engine is Docker Desktop {versions}"),
            "it runs in a VM: published ports reach this machine's localhost through Desktop, and its disk is the VM's",
            None,
        );
    }
    if f.is_rootless() {
        return Finding::new(
            "engine",
            Level::Ok,
            format!("the engine is rootless Docker {versions}"),
            "it cannot publish host ports below 1024 without extra setup (the labs publish 8050 and up), and it keeps its data in your home folder",
            None,
        );
    }
    Finding::ok(
        "engine",
        format!("the engine is Docker Engine {versions} on {}", f.os),
    )
}

/// The engine's API version against the lab's `requires_api`.
pub fn api(lab: &str, have: &str, need: Option<&str>) -> Finding {
    match need {
        Some(need) if !api_at_least(have, need) => Finding::new(
            "api",
            Level::Blocks,
            format!("lab {lab} needs Docker Engine API {need} or newer; the engine speaks {have}"),
            "its compose files use what older engines lack (healthcheck start_interval, DNSNames in inspect): Compose refuses them, or checks fail for that reason alone",
            Some(format!("upgrade Docker: API {need} needs Engine {} or newer", engine_for_api(need))),
        ),
        Some(need) => Finding::ok("api", format!("the engine speaks API {have}; lab {lab} needs {need} or newer")),
        None => Finding::ok("api", format!("the engine speaks API {have}; lab {lab} names no minimum")),
    }
}

/// The Engine release that first spoke an API version (the Engine API's version history).
fn engine_for_api(api: &str) -> String {
    match api {
        "1.41" => "20.10",
        "1.42" => "23.0",
        "1.43" => "24.0",
        "1.44" => "25.0",
        "1.45" => "26.0",
        "1.46" => "27.0",
        "1.47" => "27.3",
        _ => return format!("that speaks API {api}"),
    }
    .into()
}

/// The Compose version that made the lab's containers (label `com.docker.compose.version`),
/// read from `(container, version)` pairs: labcheck cannot run `docker compose version`.
pub fn compose(made_by: &[(String, String)]) -> Finding {
    let Some((container, version)) = made_by.first() else {
        return Finding::new(
            "compose",
            Level::Unknown,
            "the Compose version is unknown: labcheck does not run the docker CLI, and no container of this lab carries Compose's version label yet",
            "the labs are written for Compose v2 (tested with 2.26); Compose v1 names and labels containers differently",
            Some("`docker compose version` shows it".into()),
        );
    };
    if version.starts_with("1.") {
        return Finding::new(
            "compose",
            Level::Warn,
            format!("Compose {version} (v1) made this lab's containers (e.g. {container})"),
            "Compose v1 is end-of-life: it ignores newer keys (healthcheck start_interval) and records no depends_on label, so some checks cannot read the stack as written",
            Some("use Compose v2: `docker compose` (with a space), e.g. Debian's docker-compose package from trixie or Docker's own".into()),
        );
    }
    Finding::ok(
        "compose",
        format!("Compose {version} made this lab's containers"),
    )
}

/// The engine's clock (`/info` SystemTime, RFC 3339) against this machine's.
pub fn clock(engine_time: Option<&str>, now: SystemTime) -> Finding {
    let Some(parsed) = engine_time.and_then(parse_rfc3339) else {
        return Finding::new(
            "clock",
            Level::Unknown,
            format!(
                "the engine's clock could not be read ({})",
                engine_time.unwrap_or("no SystemTime in /info")
            ),
            "",
            None,
        );
    };
    let (skew, direction) = match parsed.duration_since(now) {
        Ok(ahead) => (ahead, "ahead of"),
        Err(e) => (e.duration(), "behind"),
    };
    if skew <= CLOCK_SKEW_WARN {
        return Finding::ok("clock", "the engine's clock agrees with this machine's");
    }
    Finding::new(
        "clock",
        Level::Warn,
        format!("the engine's clock is {} {direction} this machine's", humantime::format_duration(Duration::from_secs(skew.as_secs()))),
        "TLS certificates are judged by the clock, and healthcheck timings and logs' times look wrong",
        Some("sync both clocks: `sudo timedatectl set-ntp true` (on each machine)".into()),
    )
}

/// RFC 3339 with `Z` or a `+hh:mm`/`-hh:mm` offset, fractional seconds allowed.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    if s.ends_with('Z') || s.ends_with('z') {
        return humantime::parse_rfc3339_weak(&s[..s.len() - 1]).ok();
    }
    let (time, offset) = s.split_at(s.len().checked_sub(6)?);
    let sign = match offset.as_bytes()[0] {
        b'+' => 1i64,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = offset[1..].split_once(':')?;
    let secs = (h.parse::<u64>().ok()? * 3600 + m.parse::<u64>().ok()? * 60) as i64 * sign;
    let local = humantime::parse_rfc3339_weak(time).ok()?;
    // local time = UTC + offset
    if secs >= 0 {
        local.checked_sub(Duration::from_secs(secs as u64))
    } else {
        local.checked_add(Duration::from_secs((-secs) as u64))
    }
}

/// The socket path of a unix endpoint.
pub fn socket_of(e: &Endpoint) -> Option<String> {
    match e {
        Endpoint::Unix(p) => Some(Path::new(p).display().to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::TlsFiles;

    fn chosen(endpoint: Endpoint, because: &str) -> Chosen {
        Chosen {
            endpoint,
            because: because.into(),
            context: None,
        }
    }

    #[test]
    fn no_socket_says_start_docker_and_what_chose_the_socket() {
        let c = chosen(
            Endpoint::Unix("/nonexistent".into()),
            "DOCKER_HOST (now: unix:///nonexistent)",
        );
        let f = unreachable(&c, "Socket not found: /nonexistent");
        assert_eq!(f.level, Level::Blocks);
        assert!(
            f.what
                .starts_with("no engine: nothing listens at unix:///nonexistent"),
            "{}",
            f.what
        );
        let fix = f.fix.unwrap();
        assert!(
            fix.contains("sudo systemctl start docker")
                && fix.contains("DOCKER_HOST (now: unix:///nonexistent)"),
            "{fix}"
        );
        let default = chosen(Endpoint::default_socket(), "DOCKER_HOST (now: unset)");
        assert!(!unreachable(&default, "Socket not found")
            .fix
            .unwrap()
            .contains("check"));
    }

    #[test]
    fn permission_denied_names_the_docker_group() {
        let c = chosen(Endpoint::default_socket(), "DOCKER_HOST (now: unset)");
        let f = unreachable(
            &c,
            "error trying to connect: Permission denied (os error 13)",
        );
        assert!(
            f.what.contains("may not use the engine's socket"),
            "{}",
            f.what
        );
        assert!(f.fix.unwrap().contains("usermod -aG docker"));
    }

    #[test]
    fn plain_tcp_to_another_host_warns_but_tls_and_loopback_do_not() {
        let tcp = |host: &str, tls| Endpoint::Tcp {
            host: host.into(),
            port: 2375,
            tls,
        };
        assert_eq!(
            connection(&chosen(tcp("10.0.0.5", None), "--host")).level,
            Level::Warn
        );
        assert_eq!(
            connection(&chosen(tcp("127.0.0.1", None), "--host")).level,
            Level::Ok
        );
        let tls = connection(&chosen(
            tcp("10.0.0.5", Some(TlsFiles::in_dir("/c".as_ref()))),
            "the context `vm` (from --context)",
        ));
        assert_eq!(tls.level, Level::Ok);
        assert!(
            tls.what.contains("TLS") && tls.what.contains("chosen by the context `vm`"),
            "{}",
            tls.what
        );
    }

    #[test]
    fn podman_desktop_and_rootless_are_told_apart() {
        let base = EngineFacts {
            server_version: "26.1.5".into(),
            api_version: "1.45".into(),
            os: "Debian GNU/Linux 12 (bookworm)".into(),
            ..Default::default()
        };
        assert!(kind(&base)
            .what
            .starts_with("the engine is Docker Engine 26.1.5 (API 1.45) on Debian"));
        // recorded from Podman 4.3.1's /version
        let podman = EngineFacts {
            names: vec!["linux/amd64".into(), "Podman Engine".into()],
            api_version: "1.41".into(),
            ..base.clone()
        };
        assert_eq!(kind(&podman).level, Level::Warn);
        let desktop = EngineFacts {
            os: "Docker Desktop".into(),
            ..base.clone()
        };
        assert!(kind(&desktop).what.contains("Docker Desktop"));
        let rootless = EngineFacts {
            security_options: vec![
                "name=seccomp,profile=builtin".into(),
                "name=rootless".into(),
            ],
            ..base.clone()
        };
        assert!(kind(&rootless).what.contains("rootless"));
        let by_socket = EngineFacts {
            socket: Some("/run/user/1000/docker.sock".into()),
            ..base
        };
        assert!(by_socket.is_rootless());
    }

    #[test]
    fn an_api_older_than_the_lab_needs_blocks_with_the_engine_to_get() {
        let f = api("phase-3", "1.41", Some("1.44"));
        assert_eq!(f.level, Level::Blocks);
        assert!(f.fix.unwrap().contains("Engine 25.0"));
        assert_eq!(api("phase-3", "1.45", Some("1.44")).level, Level::Ok);
        assert_eq!(api("phase-1", "1.41", None).level, Level::Ok);
    }

    #[test]
    fn compose_v1_warns_and_no_label_is_unknown() {
        assert_eq!(compose(&[]).level, Level::Unknown);
        assert_eq!(
            compose(&[("p_web_1".into(), "1.29.2".into())]).level,
            Level::Warn
        );
        let v2 = compose(&[("phase-3-web-1".into(), "2.26.1".into())]);
        assert_eq!(
            (v2.level, v2.what.as_str()),
            (Level::Ok, "Compose 2.26.1 made this lab's containers")
        );
    }

    #[test]
    fn the_clock_warns_past_a_few_seconds_either_way() {
        let t = parse_rfc3339("2026-12-01T22:03:38.011807465Z").unwrap();
        assert_eq!(
            parse_rfc3339("2026-12-01T23:03:38.011807465+01:00"),
            Some(t)
        );
        assert_eq!(
            parse_rfc3339("2026-12-01T21:03:38.011807465-01:00"),
            Some(t)
        );
        assert_eq!(
            clock(
                Some("2026-12-01T22:03:38.011807465Z"),
                t + Duration::from_secs(2)
            )
            .level,
            Level::Ok
        );
        let behind = clock(Some("2026-12-01T22:03:38Z"), t + Duration::from_secs(90));
        assert_eq!(behind.level, Level::Warn);
        assert!(behind.what.contains("1m 30s behind"), "{}", behind.what);
        assert!(clock(Some("2026-12-01T22:05:38Z"), t)
            .what
            .contains("ahead of"));
        assert_eq!(clock(Some("yesterday"), t).level, Level::Unknown);
        assert_eq!(clock(None, t).level, Level::Unknown);
    }
}

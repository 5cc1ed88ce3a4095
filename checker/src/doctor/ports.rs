//! The host ports the lab publishes that are already taken: by a container (named, from the
//! engine's list) or by another process (found by trying to bind the port here, which says
//! something only when the engine publishes on this machine).

use super::compose_file::Published;
use super::{Finding, Level};

/// A port a container publishes now (from the engine's container list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub container: String,
    /// Its compose project and service, if Compose made it.
    pub project: Option<String>,
    pub service: Option<String>,
    pub host_ip: String,
    pub port: u16,
    pub proto: String,
}

/// Whether this machine's ports are the engine's: `Ok` when it publishes here, else why not.
pub type Local = Result<(), String>;

/// One finding per port. `own_project`: the lab's compose project name (a holder from it is
/// the lab's own stack, up already). `bind`: try to bind a port here; `Some(error)` when taken.
pub fn findings(
    wanted: &[Published],
    holders: &[Holder],
    own_project: Option<&str>,
    local: &Local,
    bind: &dyn Fn(&Published) -> Option<String>,
) -> Vec<Finding> {
    wanted
        .iter()
        .map(|p| one(p, holders, own_project, local, bind))
        .collect()
}

fn one(
    p: &Published,
    holders: &[Holder],
    own_project: Option<&str>,
    local: &Local,
    bind: &dyn Fn(&Published) -> Option<String>,
) -> Finding {
    let name = label(p);
    let why = format!(
        "`docker compose up` cannot publish {} on it (\"port is already allocated\" or \"address already in use\")",
        if p.service.is_empty() { "the lab's port".to_string() } else { p.service.clone() }
    );
    let other_port = p
        .var
        .as_ref()
        .map(|v| {
            format!("; or publish the lab on another port: `{v}=<free port> docker compose up -d`")
        })
        .unwrap_or_default();
    if let Some(h) = holders.iter().find(|h| overlaps(p, h)) {
        let own = h.service.as_deref() == Some(p.service.as_str())
            && (own_project.is_none() || h.project.as_deref() == own_project);
        if own {
            return Finding::ok(
                "port",
                format!(
                    "{name} is published by {}: this lab's own {}, up already",
                    h.container, p.service
                ),
            );
        }
        let stop = match (&h.project, &h.service) {
            (Some(project), Some(_)) => {
                format!("`docker compose -p {project} down` (the project {project} holds it)")
            }
            _ => format!("`docker stop {}`", h.container),
        };
        return Finding::new(
            "port",
            Level::Blocks,
            format!("{name} is taken by the container {}", h.container),
            why,
            Some(format!("stop it: {stop}{other_port}")),
        );
    }
    match local {
        Err(reason) => Finding::new(
            "port",
            Level::Unknown,
            format!("{name}: no container holds it; whether another program on the engine's machine does, doctor cannot tell from here"),
            reason.clone(),
            None,
        ),
        Ok(()) => match bind(p) {
            None => Finding::ok("port", format!("{name} is free")),
            Some(error) => Finding::new(
                "port",
                Level::Blocks,
                format!("{name} is taken by another program on this machine ({error})"),
                why,
                Some(format!("find it with `sudo ss -ltnup 'sport = :{}'` and stop it{other_port}", p.port)),
            ),
        },
    }
}

/// "host port 127.0.0.1:8080 (web)"
fn label(p: &Published) -> String {
    let ip = match p.host_ip.as_str() {
        "" => String::new(),
        ip if ip.contains(':') => format!("[{ip}]:"),
        ip => format!("{ip}:"),
    };
    let proto = if p.proto == "tcp" {
        String::new()
    } else {
        format!("/{}", p.proto)
    };
    let service = if p.service.is_empty() {
        String::new()
    } else {
        format!(" ({})", p.service)
    };
    format!("host port {ip}{}{proto}{service}", p.port)
}

/// Two bindings of one port collide when either is on every address, or both on the same one.
fn overlaps(p: &Published, h: &Holder) -> bool {
    let any = |ip: &str| matches!(ip, "" | "0.0.0.0" | "::");
    p.port == h.port
        && p.proto == h.proto
        && (any(&p.host_ip) || any(&h.host_ip) || p.host_ip == h.host_ip)
}

/// Try to bind the port on this machine, as the engine would; `Some(error)` when it is taken.
pub fn try_bind(p: &Published) -> Option<String> {
    let ip = match p.host_ip.as_str() {
        "" | "0.0.0.0" => "0.0.0.0",
        ip => ip,
    };
    let addr = (ip, p.port);
    let r = if p.proto == "udp" {
        std::net::UdpSocket::bind(addr).map(drop)
    } else {
        std::net::TcpListener::bind(addr).map(drop)
    };
    r.err().map(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web(port: u16) -> Published {
        Published {
            service: "web".into(),
            host_ip: "127.0.0.1".into(),
            port,
            proto: "tcp".into(),
            var: None,
        }
    }

    fn holder(container: &str, project: Option<&str>, service: Option<&str>, ip: &str) -> Holder {
        Holder {
            container: container.into(),
            project: project.map(Into::into),
            service: service.map(Into::into),
            host_ip: ip.into(),
            port: 8080,
            proto: "tcp".into(),
        }
    }

    const FREE: &dyn Fn(&Published) -> Option<String> = &|_| None;

    #[test]
    fn a_port_held_by_another_container_blocks_and_names_it() {
        let f = findings(
            &[web(8080)],
            &[holder("squatter", None, None, "0.0.0.0")],
            Some("phase-3"),
            &Ok(()),
            FREE,
        );
        assert_eq!(f[0].level, Level::Blocks);
        assert_eq!(
            f[0].what,
            "host port 127.0.0.1:8080 (web) is taken by the container squatter"
        );
        assert_eq!(f[0].fix.as_deref(), Some("stop it: `docker stop squatter`"));
        let other = findings(
            &[web(8080)],
            &[holder(
                "other-web-1",
                Some("other"),
                Some("web"),
                "127.0.0.1",
            )],
            Some("phase-3"),
            &Ok(()),
            FREE,
        );
        assert!(other[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("docker compose -p other down"));
    }

    #[test]
    fn the_labs_own_stack_holding_its_port_is_fine() {
        let f = findings(
            &[web(8080)],
            &[holder(
                "phase-3-web-1",
                Some("phase-3"),
                Some("web"),
                "127.0.0.1",
            )],
            Some("phase-3"),
            &Ok(()),
            FREE,
        );
        assert_eq!(f[0].level, Level::Ok);
    }

    #[test]
    fn different_addresses_or_protocols_do_not_collide() {
        let f = findings(
            &[web(8080)],
            &[holder("x", None, None, "127.0.0.2")],
            None,
            &Ok(()),
            FREE,
        );
        assert_eq!(
            (f[0].level, f[0].what.as_str()),
            (Level::Ok, "host port 127.0.0.1:8080 (web) is free")
        );
        let udp = Holder {
            proto: "udp".into(),
            ..holder("x", None, None, "")
        };
        assert_eq!(
            findings(&[web(8080)], &[udp], None, &Ok(()), FREE)[0].level,
            Level::Ok
        );
    }

    #[test]
    fn another_program_blocks_locally_and_is_unknown_remotely() {
        let taken: &dyn Fn(&Published) -> Option<String> = &|_| Some("Address in use".into());
        let p = Published {
            var: Some("HTTP_PORT".into()),
            ..web(8050)
        };
        let f = findings(std::slice::from_ref(&p), &[], None, &Ok(()), taken);
        assert_eq!(f[0].level, Level::Blocks);
        let fix = f[0].fix.as_deref().unwrap();
        assert!(
            fix.contains("sport = :8050") && fix.contains("HTTP_PORT=<free port>"),
            "{fix}"
        );
        let remote = findings(
            &[p],
            &[],
            None,
            &Err("the engine is at tcp://10.0.0.5:2376".into()),
            taken,
        );
        assert_eq!(remote[0].level, Level::Unknown);
    }

    #[test]
    fn binding_a_port_in_use_here_fails() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(try_bind(&web(port)).is_some());
        drop(l);
        assert_eq!(try_bind(&web(port)), None);
    }
}

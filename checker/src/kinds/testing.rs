//! Hand-built facts for the kinds' unit tests: no Docker involved.

use crate::probe::facts::{ContainerFacts, HealthFacts, NetworkFacts, PortFacts};

/// A running container `p-db-1` with nothing else set.
pub fn container() -> ContainerFacts {
    ContainerFacts {
        id: "abc".into(),
        name: "p-db-1".into(),
        status: "running".into(),
        running: true,
        ..Default::default()
    }
}

#[allow(dead_code)] // used by the network kinds
pub fn net(name: &str) -> NetworkFacts {
    NetworkFacts {
        name: name.into(),
        ip: Some("172.20.0.2".into()),
    }
}

#[allow(dead_code)] // used by the port kinds
pub fn port(container_port: &str, host_ip: &str, host_port: &str) -> PortFacts {
    PortFacts {
        container_port: container_port.into(),
        host_ip: host_ip.into(),
        host_port: host_port.into(),
    }
}

pub fn health(status: &str) -> HealthFacts {
    HealthFacts {
        status: status.into(),
        failing_streak: 2,
        last_output: Some("  no response\n".into()),
        last_exit_code: Some(2),
    }
}

/// A kind from its lab.toml fields (the check's table without id, title, kind, ...).
pub fn kind<T: super::CheckKind>(fields: &str) -> T {
    super::decode(toml::from_str(fields).expect("valid TOML")).expect("valid fields")
}

/// The problems decoding `fields` as `T` reports.
pub fn invalid<T: super::CheckKind>(fields: &str) -> Vec<super::Invalid> {
    match super::decode::<T>(toml::from_str(fields).expect("valid TOML")) {
        Ok(k) => panic!("fields are refused, but decoded as {k:?}"),
        Err(problems) => problems,
    }
}

/// The "see it yourself" context of the compose project `p` (`Some("p")`) or of plain
/// containers (`None`); unit `u`'s container is `p-u-1`.
pub fn see_cx(project: Option<&'static str>) -> crate::see::SeeCx<'static> {
    fn name(unit: &str) -> String {
        format!("p-{unit}-1")
    }
    crate::see::SeeCx::new(project, &name)
}

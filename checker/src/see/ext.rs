//! "See it yourself" commands for the phase 4-6 kinds.

use super::sh_quote;
use crate::lab::ext::{ExtKind, HealAction};

pub fn command(kind: &ExtKind, project: Option<&str>, name: &dyn Fn(&str) -> String) -> String {
    let p = project.map(sh_quote).unwrap_or_else(|| "<project>".into());
    let exec = |unit: &str, cmd: String| match project {
        Some(_) => format!("docker compose -p {p} exec {unit} {cmd}"),
        None => format!("docker exec {} {cmd}", name(unit)),
    };
    let mounts = |unit: &str| {
        format!(
            "docker inspect --format '{{{{json .Mounts}}}}' {}",
            name(unit)
        )
    };
    match kind {
        ExtKind::ComposeVolume { service, path } => format!(
            "docker inspect --format '{{{{range .Mounts}}}}{{{{if eq .Destination \"{path}\"}}}}{{{{.Name}}}}{{{{end}}}}{{{{end}}}}' {}   # then: docker volume inspect -f '{{{{json .Labels}}}}' <name>",
            name(service)
        ),
        ExtKind::FileOwner { service, path, user, .. } => exec(service, format!("sh -c 'stat -c \"%u %a\" {path}; id -u {user}'")),
        ExtKind::Tarball { path, contains, .. } => format!(
            "tar -tzf \"$(ls {path} | sort | tail -n 1)\" | grep -x './{}'   # in the compose folder",
            contains.first().map(String::as_str).unwrap_or("PG_VERSION")
        ),
        // The drills by hand (their steps are in the evidence).
        ExtKind::Persistence { service, .. } => format!(
            "docker compose -p {p} down && docker compose -p {p} up -d --wait   # is your data still in {service}? (`down -v` deletes it)"
        ),
        ExtKind::RestoreDrill { service, path, .. } => format!(
            "ls {path} | sort | tail -n 1   # the newest backup: unpack it into an empty volume and start a {service} server on it"
        ),
        ExtKind::NoSharedNetwork { service, peer } => format!(
            "docker inspect --format '{{{{.Name}}}}: {{{{range $n, $e := .NetworkSettings.Networks}}}}{{{{$n}}}} {{{{end}}}}' {} {}",
            name(service),
            name(peer)
        ),
        ExtKind::TcpBlocked { from, host, port, .. } => format!(
            "docker run --rm --network container:{} busybox sh -c 'nslookup {host}; nc -w 2 <an address of {host}> {port} -e true && echo connected'",
            name(from)
        ),
        ExtKind::SecretFile { service, .. } | ExtKind::BindMount { service, .. } => mounts(service),
        ExtKind::EnvAbsent { service, vars } => exec(service, format!("sh -c 'env | cut -d= -f1 | grep -x -e {}'", vars.join(" -e "))),
        ExtKind::HttpBodyExcludes { url, excludes, .. } => {
            format!("curl -s {} | grep -n -F -e {}", sh_quote(url), excludes.iter().map(|e| sh_quote(e)).collect::<Vec<_>>().join(" -e "))
        }
        ExtKind::HttpCached { url, header, .. } => format!("for i in 1 2; do curl -si {} | grep -i '^{header}:'; done", sh_quote(url)),
        ExtKind::RedisKey { service, key } => exec(service, format!("redis-cli EXISTS {}", sh_quote(key))),
        ExtKind::Replicas { service, .. } => match project {
            Some(_) => format!("docker compose -p {p} ps -a {service}"),
            None => format!("docker ps -a --filter name={}", name(service)),
        },
        ExtKind::HttpDistinct { url, field, requests, .. } => {
            format!("for i in $(seq {requests}); do curl -s {}; echo; done | grep -o '\"{field}\": *\"[^\"]*\"' | sort | uniq -c", sh_quote(url))
        }
        ExtKind::SelfHeal { service, action, chaos_file, .. } => match action {
            HealAction::Kill => format!("docker kill {}   # then watch: docker compose -p {p} ps {service}", name(service)),
            HealAction::Unhealthy => format!(
                "docker exec {} touch {}   # then watch: docker compose -p {p} ps {service}",
                name(service),
                chaos_file.as_deref().unwrap_or("<chaos_file>")
            ),
        },
    }
}

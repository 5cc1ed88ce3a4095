//! "See it yourself": the docker command that shows what a check looked at.

use crate::lab::Kind;

mod ext;
mod image;

/// `s` as one shell word, quoted only when it needs to be (shlex also quotes what bash would
/// brace- or history-expand). A NUL can't be in an argument anyway: allowing it makes this
/// infallible.
pub fn sh_quote(s: &str) -> String {
    shlex::Quoter::new()
        .allow_nul(true)
        .quote(s)
        .map(String::from)
        .unwrap_or_default()
}

/// What a kind's "see it yourself" command is built from: the compose project (None for plain
/// containers) and each unit's container name.
pub struct SeeCx<'a> {
    pub project: Option<&'a str>,
    pub name: &'a dyn Fn(&str) -> String,
}

impl SeeCx<'_> {
    /// The container name of `unit`.
    pub fn name(&self, unit: &str) -> String {
        (self.name)(unit)
    }

    /// `docker compose -p P <rest>`, or `docker <rest>` for plain containers.
    pub fn compose(&self, rest: &str) -> String {
        match self.project {
            Some(p) => format!("docker compose -p {} {rest}", sh_quote(p)),
            None => format!("docker {rest}"),
        }
    }

    /// `cmd` run inside `unit`.
    pub fn exec(&self, unit: &str, cmd: &str) -> String {
        match self.project {
            Some(p) => format!("docker compose -p {} exec {unit} {cmd}", sh_quote(p)),
            None => format!("docker exec {} {cmd}", self.name(unit)),
        }
    }

    /// Quote one shell word.
    pub fn quote(&self, s: &str) -> String {
        sh_quote(s)
    }
}

/// The command for `kind`; `project` is the compose project (None for plain containers),
/// `name(unit)` the container name of a service.
pub fn command(kind: &Kind, project: Option<&str>, name: &dyn Fn(&str) -> String) -> String {
    let compose = |rest: String| match project {
        Some(p) => format!("docker compose -p {} {rest}", sh_quote(p)),
        None => format!("docker {rest}"),
    };
    let exec = |unit: &str, cmd: String| match project {
        Some(p) => format!("docker compose -p {} exec {unit} {cmd}", sh_quote(p)),
        None => format!("docker exec {} {cmd}", name(unit)),
    };
    match kind {
        Kind::Running { service } => match project {
            Some(_) => format!("{}   # then: {}", compose(format!("ps -a {service}")), compose(format!("logs --tail 50 {service}"))),
            None => format!("docker ps -a --filter name={}   # then: docker logs --tail 50 {}", name(service), name(service)),
        },
        Kind::Healthy { service } => format!("docker inspect --format '{{{{json .State.Health}}}}' {}", name(service)),
        Kind::SharedNetwork { service, peer } => format!(
            "docker inspect --format '{{{{.Name}}}}: {{{{range $n, $e := .NetworkSettings.Networks}}}}{{{{$n}}}} {{{{end}}}}' {} {}",
            name(service),
            name(peer)
        ),
        Kind::Resolves { from, name: host } => exec(from, format!("getent hosts {}", sh_quote(host))),
        Kind::Tcp { from, host, port } => exec(
            from,
            format!("python3 -c 'import socket; socket.create_connection((\"{host}\", {port}), timeout=3); print(\"connected\")'"),
        ),
        Kind::DependsOn { .. } => format!("{}   # see depends_on", compose("config".into())),
        Kind::Published { service, container_port, .. } => match project {
            Some(_) => compose(format!("port {service} {}", container_port.port)),
            None => format!("docker port {} {}", name(service), container_port),
        },
        Kind::NotPublished { service, .. } => format!("docker port {}", name(service)),
        Kind::Volume { service, .. } => format!("docker inspect --format '{{{{json .Mounts}}}}' {}", name(service)),
        Kind::Env { service, var, .. } => exec(service, format!("printenv {var}")),
        Kind::Http { url, .. } => format!("curl -i {}", sh_quote(url)),
        Kind::Network { network, .. } => format!("docker network inspect --format '{{{{.Name}}}} {{{{.Driver}}}}' {network}"),
        Kind::Attached { service, .. } => format!("docker inspect --format '{{{{json .NetworkSettings.Networks}}}}' {}", name(service)),
        Kind::NetworkExcludes { network, .. } => format!("docker network inspect --format '{{{{range .Containers}}}}{{{{.Name}}}} {{{{end}}}}' {network}"),
        Kind::Isolated { network, via: crate::lab::IsolationVia::Name, name: host, .. } => {
            format!("docker run --rm --network {network} busybox nslookup {host} 127.0.0.11")
        }
        Kind::Isolated { network, service, port, .. } => format!(
            "docker run --rm --network {network} busybox nc -w 2 <an address of {}> {} -e true",
            name(service),
            port.unwrap_or(0)
        ),
        Kind::Ext(e) => ext::command(e, project, name),
        Kind::Image(i) => image::command(i, project, name),
        Kind::Postgres { service, query, .. } => {
            // The container's shell expands the variables; the query is one word inside it.
            let psql = format!(
                "psql -U \"$POSTGRES_USER\" -d \"${{POSTGRES_DB:-$POSTGRES_USER}}\" -c {}",
                sh_quote(query)
            );
            exec(service, format!("sh -c {}", sh_quote(&psql)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_name_the_project_and_container() {
        let name = |u: &str| format!("p-{u}-1");
        assert_eq!(
            command(
                &Kind::Healthy {
                    service: "db".into()
                },
                Some("p"),
                &name
            ),
            "docker inspect --format '{{json .State.Health}}' p-db-1"
        );
        assert_eq!(
            command(
                &Kind::Resolves {
                    from: "web".into(),
                    name: "db".into()
                },
                Some("p"),
                &name
            ),
            "docker compose -p p exec web getent hosts db"
        );
        assert_eq!(
            command(
                &Kind::Env {
                    service: "api".into(),
                    var: "X".into(),
                    equals: None,
                    not: vec![]
                },
                None,
                &name
            ),
            "docker exec p-api-1 printenv X"
        );
        assert_eq!(
            command(
                &Kind::Http {
                    url: "http://localhost:8080/a b".into(),
                    status: 200,
                    body_contains: None
                },
                None,
                &name
            ),
            "curl -i 'http://localhost:8080/a b'"
        );
    }

    #[test]
    fn words_are_quoted_only_when_a_shell_would_change_them() {
        assert_eq!(sh_quote("p-db_1:/x.y@z"), "p-db_1:/x.y@z");
        assert_eq!(sh_quote(""), "''");
        assert_eq!(sh_quote("a b"), "'a b'");
        // brace and history expansion, which a hand-made allowlist of "safe" characters missed
        assert_eq!(sh_quote("a{b,c}"), "'a{b,c}'");
        assert_eq!(sh_quote("hi!"), "'hi!'");
        for word in ["it's", "$(rm -rf /)", "tab\there", "\"quoted\" 'both'"] {
            assert_eq!(shlex::split(&sh_quote(word)), Some(vec![word.to_string()]));
        }
    }

    #[test]
    fn a_query_reaches_psql_as_one_word_through_both_shells() {
        let query = "SELECT count(*) FROM items WHERE name = 'x' AND note = \"y\"";
        let kind = Kind::Postgres {
            service: "db".into(),
            query: query.into(),
            expect: None,
            min_rows: None,
        };
        let cmd = command(&kind, None, &|u: &str| format!("p-{u}-1"));
        // the host's shell
        let words = shlex::split(&cmd).unwrap();
        assert_eq!(words[..5], ["docker", "exec", "p-db-1", "sh", "-c"]);
        // the container's shell
        let psql = shlex::split(&words[5]).unwrap();
        assert_eq!(psql[0], "psql");
        assert_eq!(psql.last().unwrap(), query);
        assert_eq!(words.len(), 6);
    }
}

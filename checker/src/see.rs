//! "See it yourself": the docker command that shows what a check looked at.

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
/// containers), each unit's container name, and the learner's name for each lab service (a
/// learner who named `db` `database` must type `database` in a compose command).
pub struct SeeCx<'a> {
    pub project: Option<&'a str>,
    pub name: &'a dyn Fn(&str) -> String,
    yours: Option<&'a dyn Fn(&str) -> String>,
}

impl<'a> SeeCx<'a> {
    pub fn new(project: Option<&'a str>, name: &'a dyn Fn(&str) -> String) -> Self {
        SeeCx {
            project,
            name,
            yours: None,
        }
    }

    /// The learner's service names (lab name -> theirs), where they differ.
    pub fn with_yours(self, yours: &'a dyn Fn(&str) -> String) -> Self {
        SeeCx {
            yours: Some(yours),
            ..self
        }
    }

    /// The container name of `unit`.
    pub fn name(&self, unit: &str) -> String {
        (self.name)(unit)
    }

    /// The learner's compose service name for the lab service `unit`.
    pub fn service(&self, unit: &str) -> String {
        self.yours.map_or_else(|| unit.to_string(), |f| f(unit))
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
            Some(p) => format!(
                "docker compose -p {} exec {} {cmd}",
                sh_quote(p),
                self.service(unit)
            ),
            None => format!("docker exec {} {cmd}", self.name(unit)),
        }
    }

    /// Quote one shell word.
    pub fn quote(&self, s: &str) -> String {
        sh_quote(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_commands_name_the_learners_services() {
        let name = |u: &str| format!("p-{u}-1");
        let yours = |u: &str| {
            if u == "db" {
                "database".into()
            } else {
                u.to_string()
            }
        };
        let cx = SeeCx::new(Some("my stack"), &name).with_yours(&yours);
        assert_eq!(
            cx.exec("db", "id"),
            "docker compose -p 'my stack' exec database id"
        );
        assert_eq!(cx.service("web"), "web");
        // without a mapping, the lab's names; plain containers by container name
        let plain = SeeCx::new(None, &name);
        assert_eq!(plain.exec("db", "id"), "docker exec p-db-1 id");
        assert_eq!(plain.service("db"), "db");
    }
}

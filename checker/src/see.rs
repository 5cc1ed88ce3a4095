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

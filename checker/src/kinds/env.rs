//! `env` and `env_absent`: what the service's container environment holds. A value whose
//! variable name says it is a secret is never shown (reports end up in CI logs and gradebooks).

use serde::Deserialize;

use super::{fail, pass, CheckKind, Invalid, Judgement, OneOrMany};
use crate::probe::cx::ProbeCx;
use crate::probe::facts::ContainerFacts;
use crate::see::SeeCx;

/// `var` is set in the service (to `equals`, when given, and to none of `not`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Env {
    pub service: String,
    pub var: String,
    pub equals: Option<String>,
    #[serde(default)]
    pub not: OneOrMany,
}

/// None of `vars` is set in the service (secrets belong in files, not the environment).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvAbsent {
    pub service: String,
    pub vars: Vec<String>,
}

/// The container, and what `equals` means in the learner's stack: a lab service they named
/// otherwise stands for their name (`DB_HOST=database` when their db is `database`).
#[derive(Debug, Clone)]
pub struct EnvSeen {
    pub container: ContainerFacts,
    pub equals: Option<String>,
}

impl CheckKind for Env {
    const NAME: &'static str = "env";
    type Facts = EnvSeen;

    fn describe(&self) -> String {
        let mut s = format!("{} is set in {}", self.var, self.service);
        if let Some(e) = &self.equals {
            s.push_str(&format!(" to `{e}`"));
        }
        if !self.not.0.is_empty() {
            let not: Vec<String> = self.not.0.iter().map(|n| format!("`{n}`")).collect();
            s.push_str(&format!(" and is none of {}", not.join(", ")));
        }
        s
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        Ok(EnvSeen {
            container: cx.container(&self.service)?.clone(),
            equals: self.equals.as_deref().map(|e| cx.yours(e).to_string()),
        })
    }
    fn judge(&self, seen: &Self::Facts) -> Judgement {
        let (service, var) = (&self.service, &self.var);
        let Some(value) = seen.container.env_var(var) else {
            return fail(format!("{var} is not set in {service}"));
        };
        let shown = shown_value(var, value);
        if let Some(want) = seen.equals.as_deref().filter(|want| value != *want) {
            let want = shown_value(var, want);
            return fail(format!("{var} in {service} is {shown}, expected {want}"));
        }
        if self.not.0.iter().any(|n| n == value) {
            return fail(format!(
                "{var} in {service} is {shown}, which cannot work here"
            ));
        }
        pass(format!("{var} in {service} is {shown}"))
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        cx.exec(&self.service, &format!("printenv {}", self.var))
    }
}

impl CheckKind for EnvAbsent {
    const NAME: &'static str = "env_absent";
    type Facts = ContainerFacts;

    fn validate(&self) -> Vec<Invalid> {
        if !self.vars.is_empty() {
            return vec![];
        }
        vec![Invalid::field(
            "vars",
            "`vars` is empty: list the variables that must not be set",
        )]
    }
    fn describe(&self) -> String {
        format!(
            "none of {} is set in {}",
            self.vars.join(", "),
            self.service
        )
    }
    fn units(&self) -> Vec<&str> {
        vec![&self.service]
    }
    async fn observe(&self, cx: &ProbeCx<'_>) -> Result<Self::Facts, Judgement> {
        cx.container(&self.service).cloned()
    }
    fn judge(&self, c: &Self::Facts) -> Judgement {
        let service = &self.service;
        // names only: the values are the secrets this check is about
        let set: Vec<&str> = self
            .vars
            .iter()
            .map(String::as_str)
            .filter(|v| c.env_var(v).is_some())
            .collect();
        if set.is_empty() {
            return pass(format!(
                "none of {} is set in {service}",
                self.vars.join(", ")
            ));
        }
        let verb = if set.len() == 1 { "is" } else { "are" };
        fail(format!("{} {verb} set in {service}'s environment (value not shown); anyone who can run `docker inspect` can read it", set.join(", ")))
    }
    fn see(&self, cx: &SeeCx<'_>) -> String {
        let names = self.vars.join(" -e ");
        cx.exec(
            &self.service,
            &format!("sh -c 'env | cut -d= -f1 | grep -x -e {names}'"),
        )
    }
}

/// How a variable's value appears in a report: quoted, unless its name says it is a secret,
/// then only its length.
fn shown_value(var: &str, value: &str) -> String {
    let upper = var.to_ascii_uppercase();
    let secret = ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL"]
        .iter()
        .any(|w| upper.contains(w));
    if secret {
        format!("set (hidden, {} characters)", value.chars().count())
    } else {
        format!("`{value}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{container, invalid, kind, see_cx};
    use crate::kinds::Verdict;

    fn with_env(env: &[&str]) -> ContainerFacts {
        ContainerFacts {
            env: env.iter().map(|e| e.to_string()).collect(),
            ..container()
        }
    }

    /// The facts as a stack that uses the lab's names gives them.
    fn seen(k: &Env, c: &ContainerFacts) -> EnvSeen {
        EnvSeen {
            container: c.clone(),
            equals: k.equals.clone(),
        }
    }

    #[test]
    fn equals_means_the_learners_name_for_a_renamed_service() {
        let k: Env = kind("service = 'web'\nvar = 'DB_HOST'\nequals = 'db'");
        let web = with_env(&["DB_HOST=database"]);
        let renamed = EnvSeen {
            container: web.clone(),
            equals: Some("database".into()),
        };
        assert_eq!(k.judge(&renamed).verdict, Verdict::Pass);
        let j = k.judge(&seen(&k, &web));
        assert_eq!(j.message, "DB_HOST in web is `database`, expected `db`");
    }

    #[test]
    fn env_set_equals_and_not() {
        let web = with_env(&["DB_HOST=localhost", "EMPTY="]);
        let v = |fields: &str| {
            let k = kind::<Env>(&format!("service = 'web'\n{fields}"));
            k.judge(&seen(&k, &web))
        };
        assert_eq!(v("var = 'DB_HOST'").verdict, Verdict::Pass);
        let j = v("var = 'DB_HOST'\nequals = 'db'");
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(j.message, "DB_HOST in web is `localhost`, expected `db`");
        let j = v("var = 'DB_HOST'\nnot = ['localhost', '127.0.0.1']");
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.message.ends_with("which cannot work here"),
            "{}",
            j.message
        );
        assert_eq!(
            v("var = 'DB_HOST'\nnot = '127.0.0.1'").verdict,
            Verdict::Pass
        );
        assert_eq!(
            v("var = 'DB_HOST'\nequals = 'localhost'").verdict,
            Verdict::Pass
        );
        let j = v("var = 'NOPE'");
        assert_eq!(
            (j.verdict, j.message.as_str()),
            (Verdict::Fail, "NOPE is not set in web")
        );
        assert_eq!(v("var = 'EMPTY'").verdict, Verdict::Pass);
        assert_eq!(v("var = 'EMPTY'\nnot = ['']").verdict, Verdict::Fail);
    }

    #[test]
    fn env_never_shows_a_secret_value() {
        let app = with_env(&["APP_SECRET=hunter2-long", "DB_HOST=db"]);
        let judge = |fields: &str| {
            let k = kind::<Env>(&format!("service = 'app'\n{fields}"));
            k.judge(&seen(&k, &app))
        };
        let j = judge("var = 'APP_SECRET'");
        assert_eq!(j.verdict, Verdict::Pass);
        assert!(!j.message.contains("hunter2"), "{}", j.message);
        assert!(j.message.contains("12 characters"), "{}", j.message);
        let j = judge("var = 'APP_SECRET'\nequals = 'other'");
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            !j.message.contains("hunter2") && !j.message.contains("other"),
            "{}",
            j.message
        );
        let j = judge("var = 'DB_HOST'");
        assert!(j.message.contains("`db`"), "{}", j.message);
    }

    #[test]
    fn env_absent_never_shows_values() {
        let k: EnvAbsent =
            kind("service = 'postgres'\nvars = ['POSTGRES_PASSWORD', 'DB_PASSWORD']");
        let j = k.judge(&with_env(&["POSTGRES_PASSWORD=hunter2", "A=1"]));
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.message.contains("POSTGRES_PASSWORD is set") && !j.message.contains("hunter2"),
            "{}",
            j.message
        );
        let j = k.judge(&with_env(&["POSTGRES_PASSWORD=a", "DB_PASSWORD=b"]));
        assert!(
            j.message
                .starts_with("POSTGRES_PASSWORD, DB_PASSWORD are set"),
            "{}",
            j.message
        );
        let j = k.judge(&with_env(&["POSTGRES_PASSWORD_FILE=/run/secrets/db"]));
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(
            j.message,
            "none of POSTGRES_PASSWORD, DB_PASSWORD is set in postgres"
        );
    }

    #[test]
    fn describe_and_see() {
        let k: Env = kind("service = 'app'\nvar = 'APP_SECRET'\nnot = ['']");
        assert_eq!(k.describe(), "APP_SECRET is set in app and is none of ``");
        let k: Env = kind("service = 'api'\nvar = 'X'\nequals = 'db'");
        assert_eq!(k.describe(), "X is set in api to `db`");
        let plain = see_cx(None);
        assert_eq!(k.see(&plain), "docker exec p-api-1 printenv X");
        let k: EnvAbsent = kind("service = 'api'\nvars = ['A', 'B']");
        assert_eq!(k.describe(), "none of A, B is set in api");
        let compose = see_cx(Some("p"));
        assert_eq!(
            k.see(&compose),
            "docker compose -p p exec api sh -c 'env | cut -d= -f1 | grep -x -e A -e B'"
        );
    }

    #[test]
    fn bad_fields_are_refused_with_their_name() {
        let e = invalid::<Env>("service = 'web'\nvar = 'X'\nequal = 'db'");
        assert_eq!(e[0].field.as_deref(), Some("equal"));
        let e = invalid::<Env>("service = 'web'\nvar = 'X'\nnot = 3");
        assert_eq!(e[0].field.as_deref(), Some("not"));
        let e = invalid::<EnvAbsent>("service = 'web'\nvars = []");
        assert_eq!(e[0].field.as_deref(), Some("vars"));
        assert!(e[0].message.contains("`vars` is empty"), "{e:?}");
        let e = invalid::<EnvAbsent>("service = 'web'\nvars = 'X'");
        assert_eq!(e[0].field.as_deref(), Some("vars"));
    }
}

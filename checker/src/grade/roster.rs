//! The class roster: who to grade, and where each learner's Docker engine is.
//!
//! ```toml
//! [defaults]                      # optional; every learner inherits what it does not set
//! project = "phase-3"
//! ssh_identity = "~/.ssh/grader"
//!
//! [[learner]]
//! id = "alice"                    # letters, digits, '.', '_', '-' (it names junit/<id>.xml)
//! endpoint = "ssh://alice@10.0.0.5"
//!
//! [[learner]]
//! id = "bob"
//! endpoint = "tcp://10.0.0.6:2376"
//! tls = { ca = "certs/ca.pem", cert = "certs/cert.pem", key = "certs/key.pem" }
//!
//! [[learner]]
//! id = "carol"
//! context = "carol-vm"            # a `docker context` of the instructor's docker CLI
//! ```
//! Relative paths are resolved against the roster's folder; `~/` against $HOME.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::target::endpoint::{self, check_host, check_name, SshSettings};
pub use crate::target::{Endpoint, TlsFiles};

/// Largest roster file read (a class of thousands fits in far less).
const MAX_ROSTER_BYTES: u64 = 4 * 1024 * 1024;

/// Fields a learner may set, and `[defaults]` may set for all.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommon {
    endpoint: Option<String>,
    context: Option<String>,
    project: Option<String>,
    tls: Option<TlsFiles>,
    http_host: Option<String>,
    ssh_identity: Option<PathBuf>,
    ssh_known_hosts: Option<PathBuf>,
    docker_socket: Option<String>,
}

/// The same fields as [`RawCommon`] plus the id (written out: serde's `flatten` would lose the
/// place of a mistyped field).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLearner {
    id: String,
    endpoint: Option<String>,
    context: Option<String>,
    project: Option<String>,
    tls: Option<TlsFiles>,
    http_host: Option<String>,
    ssh_identity: Option<PathBuf>,
    ssh_known_hosts: Option<PathBuf>,
    docker_socket: Option<String>,
}

impl RawLearner {
    fn split(self) -> (String, RawCommon) {
        (
            self.id,
            RawCommon {
                endpoint: self.endpoint,
                context: self.context,
                project: self.project,
                tls: self.tls,
                http_host: self.http_host,
                ssh_identity: self.ssh_identity,
                ssh_known_hosts: self.ssh_known_hosts,
                docker_socket: self.docker_socket,
            },
        )
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrading {
    #[serde(default)]
    warnings_cost_points: bool,
    #[serde(default)]
    strict: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoster {
    #[serde(default)]
    defaults: Option<RawCommon>,
    #[serde(default)]
    grading: Option<RawGrading>,
    #[serde(default)]
    learner: Vec<RawLearner>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learner {
    pub id: String,
    pub endpoint: Endpoint,
    /// The compose project to grade (None: discover the single project with the lab's services).
    pub project: Option<String>,
    /// Replaces localhost in the lab's `http` checks. Default: the engine's host for tcp://, a
    /// forwarded loopback address for ssh://, nothing (localhost) for unix://.
    pub http_host: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GradingRules {
    /// A check with severity "warn" that does not pass earns 0 instead of its points.
    pub warnings_cost_points: bool,
    /// Grade against the lab's exact solution contract (`labcheck --strict`).
    pub strict: bool,
}

#[derive(Debug, Clone)]
pub struct Roster {
    /// The roster file (its folder, when parsed from text).
    pub file: PathBuf,
    pub learners: Vec<Learner>,
    pub rules: GradingRules,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct RosterError {
    pub file: String,
    pub message: String,
}

pub fn load(path: &Path) -> Result<Roster, RosterError> {
    let err = |message: String| RosterError {
        file: path.display().to_string(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read the roster: {e}")))?;
    if meta.len() > MAX_ROSTER_BYTES {
        return Err(err(format!(
            "the roster is {} bytes; the limit is {MAX_ROSTER_BYTES}",
            meta.len()
        )));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| err(format!("cannot read the roster: {e}")))?;
    let base = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut roster = parse(&text, &base).map_err(err)?;
    roster.file = path.to_path_buf();
    Ok(roster)
}

/// Parse roster text; relative paths are resolved against `base`.
pub fn parse(text: &str, base: &Path) -> Result<Roster, String> {
    let raw: RawRoster = toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
        let msg = e.message().to_string();
        if line > 0 {
            format!("line {line}, column {col}: {msg}")
        } else {
            msg
        }
    })?;
    if raw.learner.is_empty() {
        return Err(
            "no learners: add [[learner]] tables with an id and an endpoint or a context".into(),
        );
    }
    let defaults = raw.defaults.unwrap_or_default();
    let mut seen = BTreeSet::new();
    let mut learners = Vec::with_capacity(raw.learner.len());
    for (i, l) in raw.learner.into_iter().enumerate() {
        let (id, own) = l.split();
        let at = format!(
            "learner #{} ({})",
            i + 1,
            if id.is_empty() { "no id" } else { &id }
        );
        check_id(&id).map_err(|m| format!("{at}: {m}"))?;
        if !seen.insert(id.to_ascii_lowercase()) {
            return Err(format!(
                "{at}: the id `{id}` appears twice (ids name files, compared without case)"
            ));
        }
        let c = merge(own, &defaults);
        let endpoint = endpoint_of(&c, base).map_err(|m| format!("{at}: {m}"))?;
        if let Some(p) = &c.project {
            check_name(p, "project").map_err(|m| format!("{at}: {m}"))?;
        }
        if let Some(h) = &c.http_host {
            check_host(h).map_err(|m| format!("{at}: http_host: {m}"))?;
        }
        learners.push(Learner {
            id,
            endpoint,
            project: c.project,
            http_host: c.http_host,
        });
    }
    let grading = raw.grading.unwrap_or_default();
    let rules = GradingRules {
        warnings_cost_points: grading.warnings_cost_points,
        strict: grading.strict,
    };
    Ok(Roster {
        file: base.to_path_buf(),
        learners,
        rules,
    })
}

fn merge(l: RawCommon, d: &RawCommon) -> RawCommon {
    // An endpoint or a context given on the learner replaces both of the defaults' (and the
    // TLS files belong with the endpoint they came with).
    let own_target = l.endpoint.is_some() || l.context.is_some();
    RawCommon {
        endpoint: if own_target {
            l.endpoint
        } else {
            d.endpoint.clone()
        },
        context: if own_target {
            l.context
        } else {
            d.context.clone()
        },
        tls: l.tls.or_else(|| d.tls.clone()),
        project: l.project.or_else(|| d.project.clone()),
        http_host: l.http_host.or_else(|| d.http_host.clone()),
        ssh_identity: l.ssh_identity.or_else(|| d.ssh_identity.clone()),
        ssh_known_hosts: l.ssh_known_hosts.or_else(|| d.ssh_known_hosts.clone()),
        docker_socket: l.docker_socket.or_else(|| d.docker_socket.clone()),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 64 {
        return Err("an id must have 1 to 64 characters".into());
    }
    if id.starts_with('.')
        || id.starts_with('-')
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(format!("the id `{id}` may hold only letters, digits, '.', '_' and '-', and not start with '.' or '-' (it names a file)"));
    }
    Ok(())
}

fn resolve(p: &Path, base: &Path) -> PathBuf {
    if let Ok(rest) = p.strip_prefix("~") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn endpoint_of(c: &RawCommon, base: &Path) -> Result<Endpoint, String> {
    match (&c.endpoint, &c.context) {
        (Some(_), Some(_)) => Err("set either endpoint or context, not both".into()),
        (None, None) => Err("no endpoint: set endpoint = \"ssh://…\", \"tcp://…\" or \"unix://…\", or context = \"name\"".into()),
        (None, Some(ctx)) => {
            check_name(ctx, "context")?;
            Ok(Endpoint::Context(ctx.clone()))
        }
        (Some(e), None) => parse_endpoint(e, c, base),
    }
}

fn parse_endpoint(e: &str, c: &RawCommon, base: &Path) -> Result<Endpoint, String> {
    let tls = c.tls.as_ref().map(|t| TlsFiles {
        ca: resolve(&t.ca, base),
        cert: resolve(&t.cert, base),
        key: resolve(&t.key, base),
    });
    let ssh = SshSettings {
        socket: c.docker_socket.clone(),
        identity: c.ssh_identity.as_ref().map(|p| resolve(p, base)),
        known_hosts: c.ssh_known_hosts.as_ref().map(|p| resolve(p, base)),
    };
    endpoint::parse(e, tls, ssh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Roster, String> {
        parse(text, Path::new("/class"))
    }

    #[test]
    fn every_endpoint_kind_parses_and_defaults_apply() {
        let r = p(r#"
[defaults]
project = "phase-3"
ssh_identity = "keys/grader"

[grading]
warnings_cost_points = true

[[learner]]
id = "alice"
endpoint = "ssh://alice@10.0.0.5:2222"

[[learner]]
id = "bob"
endpoint = "tcp://10.0.0.6"
tls = { ca = "certs/ca.pem", cert = "/abs/cert.pem", key = "certs/key.pem" }
project = "mine"

[[learner]]
id = "carol"
context = "carol-vm"
http_host = "carol.lab"

[[learner]]
id = "dan"
endpoint = "unix:///var/run/docker.sock"
"#)
        .unwrap();
        assert!(r.rules.warnings_cost_points);
        let [a, b, c, d] = &r.learners[..] else {
            panic!("4 learners")
        };
        assert_eq!(
            a.endpoint,
            Endpoint::Ssh {
                user: Some("alice".into()),
                host: "10.0.0.5".into(),
                port: Some(2222),
                socket: "/var/run/docker.sock".into(),
                identity: Some("/class/keys/grader".into()),
                known_hosts: None
            }
        );
        assert_eq!(a.project.as_deref(), Some("phase-3"));
        assert_eq!(a.http_host, None);
        assert_eq!(
            b.endpoint,
            Endpoint::Tcp {
                host: "10.0.0.6".into(),
                port: 2376,
                tls: Some(TlsFiles {
                    ca: "/class/certs/ca.pem".into(),
                    cert: "/abs/cert.pem".into(),
                    key: "/class/certs/key.pem".into()
                })
            }
        );
        assert_eq!(b.project.as_deref(), Some("mine"));
        assert_eq!(b.http_host, None);
        assert_eq!(c.endpoint, Endpoint::Context("carol-vm".into()));
        assert_eq!(c.http_host.as_deref(), Some("carol.lab"));
        assert_eq!(d.endpoint, Endpoint::Unix("/var/run/docker.sock".into()));
        assert_eq!(b.endpoint.display(), "tcp://10.0.0.6:2376 (TLS)");
        assert_eq!(a.endpoint.display(), "ssh://alice@10.0.0.5:2222");
    }

    #[test]
    fn mistakes_are_named_with_their_place() {
        let e = p("[[learner]]\nid = \"a\"\nendpont = \"tcp://x:1\"\n").unwrap_err();
        assert!(e.contains("line 3") && e.contains("endpont"), "{e}");
        let e = p("[[learner]]\nid = \"a\"\n").unwrap_err();
        assert!(
            e.contains("learner #1 (a)") && e.contains("no endpoint"),
            "{e}"
        );
        let e = p("[[learner]]\nid = \"../etc\"\nendpoint = \"tcp://x:1\"\n").unwrap_err();
        assert!(e.contains("names a file"), "{e}");
        let e = p("[[learner]]\nid = \"a\"\nendpoint = \"tcp://x:1\"\n[[learner]]\nid = \"A\"\nendpoint = \"tcp://y:1\"\n").unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let e =
            p("[[learner]]\nid = \"a\"\nendpoint = \"ssh://-oProxyCommand=x@h\"\n").unwrap_err();
        assert!(e.contains("ssh user"), "{e}");
        let e =
            p("[[learner]]\nid = \"a\"\nendpoint = \"ssh://u@-oProxyCommand=x\"\n").unwrap_err();
        assert!(e.contains("not a host"), "{e}");
        let e = p("[[learner]]\nid = \"a\"\nendpoint = \"http://x\"\n").unwrap_err();
        assert!(e.contains("not an endpoint"), "{e}");
        let e =
            p("[[learner]]\nid = \"a\"\nendpoint = \"tcp://x:1\"\ncontext = \"c\"\n").unwrap_err();
        assert!(e.contains("not both"), "{e}");
        assert!(p("").unwrap_err().contains("no learners"));
    }

    #[test]
    fn the_example_roster_parses() {
        let r = p(include_str!("../../../examples/class.toml"))
            .expect("examples/class.toml is a valid roster");
        let ids: Vec<&str> = r.learners.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["alice", "bob", "chen", "dana", "demo"]);
        assert!(
            matches!(&r.learners[1].endpoint, Endpoint::Ssh { socket, port: Some(2222), .. } if socket == "/run/user/1001/docker.sock")
        );
        assert!(matches!(
            &r.learners[2].endpoint,
            Endpoint::Tcp {
                tls: Some(_),
                port: 2376,
                ..
            }
        ));
        assert_eq!(r.learners[3].project.as_deref(), Some("dana-phase-3"));
        assert_eq!(r.learners[0].project.as_deref(), Some("phase-3"));
    }

    #[test]
    fn a_learners_own_endpoint_replaces_the_default_context() {
        let r = p("[defaults]\ncontext = \"class\"\n[[learner]]\nid = \"a\"\n[[learner]]\nid = \"b\"\nendpoint = \"tcp://[::1]:2376\"\n").unwrap();
        assert_eq!(r.learners[0].endpoint, Endpoint::Context("class".into()));
        assert_eq!(
            r.learners[1].endpoint,
            Endpoint::Tcp {
                host: "::1".into(),
                port: 2376,
                tls: None
            }
        );
    }
}

//! Check kinds: one home each. A kind's file holds its lab.toml fields (a serde struct that
//! refuses unknown fields), its probe (`observe`), its pure verdict (`judge`), its "see it
//! yourself" command and its unit tests. A new kind is one file plus one line in [`kinds!`]
//! below; the scheduler, the loader, `explain`, `lint` and the reports need no change.

pub mod decode;

pub use crate::verdict::{excerpt, fail, pass, unknown, Judgement, Verdict};
pub use decode::{decode, Invalid, OneOrMany, Port, PortKey};

use std::future::Future;

use serde::de::DeserializeOwned;

use crate::probe::cx::ProbeCx;
use crate::probe::net::NetRequest;
use crate::see::SeeCx;

/// What every check kind provides. `observe` looks (read-only unless the kind is a drill);
/// `judge` decides from what was seen, without Docker, so it is unit-tested on plain facts.
pub trait CheckKind:
    DeserializeOwned + std::fmt::Debug + Clone + PartialEq + Send + Sync + 'static
{
    /// The kind's name in lab.toml (`kind = "running"`).
    const NAME: &'static str;
    /// What the probe observed.
    type Facts: Send;

    /// Rules serde cannot say (ranges, fields that exclude each other), as located problems.
    fn validate(&self) -> Vec<Invalid> {
        Vec::new()
    }
    /// What the check asserts, in words (for `labcheck explain`).
    fn describe(&self) -> String;
    /// The services (or plain containers) the check observes.
    fn units(&self) -> Vec<&str>;
    /// The check still judges when one of its units has no container (`running` fails and
    /// says how to start it); every other kind is skipped then.
    fn judges_missing_units(&self) -> bool {
        false
    }
    /// A drill changes the stack: it runs only with `--drill`, after every other check.
    fn is_drill(&self) -> bool {
        false
    }
    /// Its probe leaves state in the learner's app (a cache filled, requests spread over
    /// replicas): a check that needs it waits for it instead of probing alongside.
    fn leaves_state(&self) -> bool {
        false
    }
    /// Host ports on the learner's machine that the check connects to (grading forwards them
    /// over ssh).
    fn host_ports(&self) -> Vec<u16> {
        Vec::new()
    }
    /// A name lookup or TCP connect from inside a container, which the probe context runs in
    /// one exec together with the others from the same container.
    fn net_request(&self) -> Option<NetRequest> {
        None
    }
    /// Observe. `Err` is the judgement already made (no container, a probe that failed).
    fn observe(
        &self,
        cx: &ProbeCx<'_>,
    ) -> impl Future<Output = Result<Self::Facts, Judgement>> + Send;
    /// The verdict on what was observed.
    fn judge(&self, facts: &Self::Facts) -> Judgement;
    /// The docker command that shows the same thing by hand.
    fn see(&self, cx: &SeeCx<'_>) -> String;
}

/// The registry: `Variant(Type)` for every kind. It generates [`Kind`] and its dispatch.
macro_rules! kinds {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// One check's kind and its fields.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Kind {
            $($variant($ty),)*
        }

        impl Kind {
            /// Every kind's lab.toml name, in registry order.
            pub const NAMES: &'static [&'static str] = &[$(<$ty as CheckKind>::NAME),*];

            /// The kind named `name` from its fields (the check's table without the common
            /// fields); `None` when no kind has that name.
            pub fn decode(name: &str, fields: toml::Table) -> Option<Result<Kind, Vec<Invalid>>> {
                $(if name == <$ty as CheckKind>::NAME {
                    return Some(decode::<$ty>(fields).map(Kind::$variant));
                })*
                None
            }

            pub fn name(&self) -> &'static str {
                match self { $(Kind::$variant(_) => <$ty as CheckKind>::NAME,)* }
            }
            pub fn describe(&self) -> String {
                match self { $(Kind::$variant(k) => k.describe(),)* }
            }
            pub fn units(&self) -> Vec<&str> {
                match self { $(Kind::$variant(k) => k.units(),)* }
            }
            pub fn judges_missing_units(&self) -> bool {
                match self { $(Kind::$variant(k) => k.judges_missing_units(),)* }
            }
            pub fn is_drill(&self) -> bool {
                match self { $(Kind::$variant(k) => k.is_drill(),)* }
            }
            pub fn leaves_state(&self) -> bool {
                match self { $(Kind::$variant(k) => k.leaves_state(),)* }
            }
            pub fn host_ports(&self) -> Vec<u16> {
                match self { $(Kind::$variant(k) => k.host_ports(),)* }
            }
            pub fn net_request(&self) -> Option<NetRequest> {
                match self { $(Kind::$variant(k) => k.net_request(),)* }
            }
            pub fn see(&self, cx: &SeeCx<'_>) -> String {
                match self { $(Kind::$variant(k) => k.see(cx),)* }
            }
            /// Observe, then judge.
            pub async fn evaluate(&self, cx: &ProbeCx<'_>) -> Judgement {
                match self {
                    $(Kind::$variant(k) => match k.observe(cx).await {
                        Ok(facts) => k.judge(&facts),
                        Err(judgement) => judgement,
                    },)*
                }
            }
        }
    };
}

#[cfg(test)]
mod testing;

pub mod absent_paths;
pub mod backup;
pub mod cache;
pub mod depends_on;
pub mod deps_before_code;
pub mod drills;
pub mod env;
pub mod file_owner;
pub mod http;
pub mod image_config;
pub mod isolated;
pub mod mounts;
pub mod networks;
pub mod ports;
pub mod postgres;
pub mod reach;
pub mod replicas;
pub mod running;
pub mod serves;
pub mod volume;

kinds! {
    Running(running::Running),
    Healthy(running::Healthy),
    DependsOn(depends_on::DependsOn),
    Published(ports::Published),
    NotPublished(ports::NotPublished),
    Volume(volume::Volume),
    Env(env::Env),
    EnvAbsent(env::EnvAbsent),
    Http(http::Http),
    HttpBodyExcludes(http::HttpBodyExcludes),
    Postgres(postgres::Postgres),
    Resolves(reach::Resolves),
    Tcp(reach::Tcp),
    TcpBlocked(reach::TcpBlocked),
    Network(networks::Network),
    Attached(networks::Attached),
    NetworkExcludes(networks::NetworkExcludes),
    SharedNetwork(networks::SharedNetwork),
    NoSharedNetwork(networks::NoSharedNetwork),
    Isolated(isolated::Isolated),
    HttpCached(cache::HttpCached),
    RedisKey(cache::RedisKey),
    Replicas(replicas::Replicas),
    HttpDistinct(replicas::HttpDistinct),
    Tarball(backup::Tarball),
    RestoreDrill(backup::RestoreDrill),
    Persistence(drills::Persistence),
    SelfHeal(drills::SelfHeal),
    ImageLabel(image_config::ImageLabel),
    NonRoot(image_config::NonRoot),
    ImageHealthcheck(image_config::ImageHealthcheck),
    AbsentPaths(absent_paths::AbsentPaths),
    DepsBeforeCode(deps_before_code::DepsBeforeCode),
    ComposeVolume(mounts::ComposeVolume),
    FileOwner(file_owner::FileOwner),
    SecretFile(mounts::SecretFile),
    BindMount(mounts::BindMount),
    Serves(serves::Serves),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut seen = std::collections::BTreeSet::new();
        for n in Kind::NAMES {
            assert!(seen.insert(n), "{n} registered twice");
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{n}");
        }
    }

    #[test]
    fn unknown_name_is_none() {
        assert!(Kind::decode("no_such_kind", toml::Table::new()).is_none());
    }
}

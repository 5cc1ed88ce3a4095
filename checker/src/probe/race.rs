//! Negative network probes from a one-shot helper: name lookups and connection attempts that
//! are expected to fail, raced against a local reference so that a blocked attempt costs a
//! short margin instead of its timeout. The `isolated` checks of one network share a helper.

use std::collections::HashMap;

use bollard::Docker;
use futures_util::future::{BoxFuture, FutureExt, Shared};

use super::facts::Attempt;
use super::helper::{run, HelperNet};
use super::net::parse_nslookup;
use super::Timeouts;

/// After the reference connection inside the helper has been answered, how much longer the
/// attempts are given. A reachable address on the engine's own bridges answers in well under a
/// millisecond (the kernel sends the SYN-ACK or the reset), a blocked one never does. Measured
/// on the 2-core CI machine with four busy loops running (load 6), racing a reachable address:
/// its answer came after the cut 3 times in 200 races at a 10 ms margin, once at 20 ms, and
/// never in 500 races at 30 ms nor in 700 at 50 ms. This margin is twice the largest of those.
pub const MARGIN_MS: u64 = 100;

/// `margin secs server name... -- ip:port...`: looks each name up (each line of nslookup's
/// answer prefixed `lookup NAME: `; `server` may be empty for the resolv.conf one) while the
/// connections race: every attempt starts in the background, then a connection to 127.0.0.1
/// (answered at once, refused or accepted) proves the shell and nc are running, then the
/// margin. Each attempt that has finished by then prints `reached T` or `failed T WHY`; the
/// others are cut. The timing happens inside the helper, so neither the engine's distance
/// (tcp://, ssh://) nor a slow container start can stretch it. `bench/race-margin.sh` runs the
/// same script to measure the margin.
const SCRIPT: &str = include_str!("race.sh");

/// What one helper tries: names to look up, and `(ip, port)`s to connect to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tries {
    pub names: Vec<String>,
    pub targets: Vec<(String, u16)>,
    /// Seconds each connection may wait (it is cut long before, unless it is answered).
    pub secs: u64,
    /// The DNS server asked; the helper's resolv.conf when `None`.
    pub server: Option<&'static str>,
}

/// What the helper saw: the addresses each name resolved to, an attempt per target, and the
/// helper's image.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seen {
    pub resolved: HashMap<String, Vec<String>>,
    pub attempts: Vec<Attempt>,
    pub image: String,
}

impl Seen {
    /// The attempts on `port` to any of `addresses`.
    pub fn attempts_to(&self, addresses: &[String], port: u16) -> Vec<Attempt> {
        let wanted: Vec<String> = addresses.iter().map(|a| format!("{a}:{port}")).collect();
        self.attempts
            .iter()
            .filter(|a| wanted.contains(&a.target))
            .cloned()
            .collect()
    }
}

/// Run `tries` in a one-shot helper on `net`.
pub async fn from(
    docker: &Docker,
    t: &Timeouts,
    net: HelperNet<'_>,
    tries: &Tries,
) -> Result<Seen, String> {
    let margin = format!("{:.3}", MARGIN_MS as f64 / 1000.0);
    let mut args = vec![
        margin,
        tries.secs.to_string(),
        tries.server.unwrap_or("").to_string(),
    ];
    args.extend(tries.names.iter().cloned());
    args.push("--".into());
    args.extend(
        tries
            .targets
            .iter()
            .map(|(ip, port)| format!("{ip}:{port}")),
    );
    let mut cmd = vec!["sh", "-c", SCRIPT, "race"];
    cmd.extend(args.iter().map(String::as_str));
    let r = run(docker, t, net, vec![], &cmd).await?;
    Ok(parse(&r.out.stdout, tries, r.image))
}

/// The script's lines: `lookup NAME: LINE` per line of each lookup, and per target
/// `reached IP:PORT`, `failed IP:PORT WHY`, or nothing (cut).
fn parse(stdout: &str, tries: &Tries, image: &str) -> Seen {
    let resolved = tries
        .names
        .iter()
        .map(|n| {
            let prefix = format!("lookup {n}: ");
            let answer: String = stdout
                .lines()
                .filter_map(|l| l.strip_prefix(prefix.as_str()))
                .map(|l| format!("{l}\n"))
                .collect();
            (n.clone(), parse_nslookup(&answer))
        })
        .collect();
    let attempts = tries
        .targets
        .iter()
        .map(|(ip, port)| {
            let target = format!("{ip}:{port}");
            let line = stdout.lines().find_map(|l| {
                let (word, rest) = l.split_once(' ')?;
                let (who, why) = rest.split_once(' ').unwrap_or((rest, ""));
                (who == target && (word == "reached" || word == "failed"))
                    .then_some((word, why.trim()))
            });
            let (reached, detail) = match line {
                Some(("reached", _)) => (true, "connected".to_string()),
                Some((_, why)) => (false, why.to_string()),
                None => (
                    false,
                    format!("no answer within {MARGIN_MS} ms of a local connection's answer"),
                ),
            };
            Attempt {
                target,
                reached,
                detail,
            }
        })
        .collect();
    Seen {
        resolved,
        attempts,
        image: image.to_string(),
    }
}

/// An `isolated` check's wish: from a helper on `network` alone, look `name` up or connect to
/// `addresses` on `port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Isolation {
    pub network: String,
    pub lookup: Option<String>,
    pub connect: Option<(Vec<String>, u16)>,
    pub secs: u64,
}

impl Tries {
    /// What a helper on a network tries for the wishes added: it asks the network's own
    /// DNS server, and each attempt waits as long as the most patient wish.
    fn on_network() -> Tries {
        Tries {
            server: Some("127.0.0.11"),
            ..Default::default()
        }
    }

    fn add(&mut self, w: Isolation) {
        self.secs = self.secs.max(w.secs);
        if let Some(name) = w.lookup.filter(|n| !self.names.contains(n)) {
            self.names.push(name);
        }
        let (ips, port) = w.connect.unwrap_or_default();
        for target in ips.into_iter().map(|ip| (ip, port)) {
            if !self.targets.contains(&target) {
                self.targets.push(target);
            }
        }
    }
}

/// From a one-shot helper on `w`'s network alone: what `w` asks for.
pub async fn isolation(docker: &Docker, t: &Timeouts, w: Isolation) -> Result<Seen, String> {
    let network = w.network.clone();
    let mut tries = Tries::on_network();
    tries.add(w);
    from(docker, t, HelperNet::Network(&network), &tries).await
}

/// The wishes grouped into one helper's tries per network.
fn per_network(wishes: Vec<Isolation>) -> HashMap<String, Tries> {
    let mut per_net: HashMap<String, Tries> = HashMap::new();
    for w in wishes {
        per_net
            .entry(w.network.clone())
            .or_insert_with(Tries::on_network)
            .add(w);
    }
    per_net
}

type SharedSeen = Shared<BoxFuture<'static, Result<Seen, String>>>;

/// One helper per network for all the run's `isolated` checks on it (starting a container
/// on a network is the slow part, and the engine starts them one at a time per network). It
/// starts when the first check asks for it.
#[derive(Default)]
pub struct Isolations(HashMap<String, SharedSeen>);

impl Isolations {
    pub fn plan(docker: &Docker, t: &Timeouts, wishes: Vec<Isolation>) -> Isolations {
        let shared = per_network(wishes)
            .into_iter()
            .map(|(network, tries)| {
                let (docker, t, net) = (docker.clone(), *t, network.clone());
                let fut = async move { from(&docker, &t, HelperNet::Network(&net), &tries).await }
                    .boxed()
                    .shared();
                (network, fut)
            })
            .collect();
        Isolations(shared)
    }

    /// What the helper on `network` saw; `None` when no check asked for it.
    pub async fn get(&self, network: &str) -> Option<Result<Seen, String>> {
        Some(self.0.get(network)?.clone().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_give_lookups_and_one_attempt_per_target_and_silence_is_a_cut() {
        let tries = Tries {
            names: vec!["db".into(), "cache".into()],
            targets: vec![
                ("172.18.0.2".into(), 5432),
                ("172.19.0.3".into(), 5432),
                ("10.0.0.9".into(), 6379),
            ],
            secs: 3,
            server: None,
        };
        let out = "lookup db: Server:\t127.0.0.11\nlookup db: Address:\t127.0.0.11:53\nlookup db: \nlookup db: Name:\tdb\nlookup db: Address: 172.18.0.2\n\
                   lookup cache: ** server can't find cache: NXDOMAIN\n\
                   failed 10.0.0.9:6379 nc: can't connect to remote host (10.0.0.9): Connection refused\nreached 172.18.0.2:5432\ncut\n";
        let s = parse(out, &tries, "busybox");
        assert_eq!(s.resolved["db"], ["172.18.0.2"]);
        assert!(s.resolved["cache"].is_empty());
        let a = &s.attempts;
        assert_eq!(a[0].target, "172.18.0.2:5432");
        assert!(a[0].reached && a[0].detail == "connected");
        assert!(!a[1].reached && a[1].detail.starts_with("no answer within 100 ms"));
        assert!(!a[2].reached && a[2].detail.ends_with("Connection refused"));
        assert_eq!(s.attempts_to(&["172.19.0.3".into()], 5432), [a[1].clone()]);
        // a prefix of another address is not that address
        let one = Tries {
            targets: vec![("172.18.0.2".into(), 5432)],
            ..tries
        };
        assert!(!parse("reached 172.18.0.22:5432\n", &one, "busybox").attempts[0].reached);
    }

    #[test]
    fn isolation_wishes_share_a_helper_per_network() {
        let wish =
            |network: &str, lookup: Option<&str>, connect: Option<(&str, u16)>, secs| Isolation {
                network: network.into(),
                lookup: lookup.map(Into::into),
                connect: connect.map(|(ip, p)| (vec![ip.to_string()], p)),
                secs,
            };
        let g = per_network(vec![
            wish("front", Some("db"), None, 3),
            wish("front", None, Some(("10.0.0.2", 5432)), 5),
            wish("front", Some("db"), Some(("10.0.0.2", 5432)), 2),
            wish("back", Some("db"), None, 3),
        ]);
        assert_eq!(g.len(), 2);
        let front = &g["front"];
        assert_eq!(front.names, ["db"]);
        assert_eq!(front.targets, [("10.0.0.2".to_string(), 5432)]);
        assert_eq!((front.secs, front.server), (5, Some("127.0.0.11")));
        assert!(g["back"].targets.is_empty());
    }
}

//! Name resolution and TCP reachability seen from inside a container's network namespace:
//! an exec in the container first, a helper container when the image lacks the tools.

use std::collections::HashMap;

use bollard::Docker;
use futures_util::future::{BoxFuture, FutureExt, Shared};

use super::bounded;
use super::exec::{exec, ExecOutput};
use super::facts::{ConnectFacts, NetFacts, ResolveFacts, Via};
use super::helper::in_helper;
use super::Timeouts;

/// Exit code of [`TCP_SCRIPT`] when the image has none of its tools.
const NO_TOOL: i64 = 97;

/// Tries bash's /dev/tcp (quickest to start), then python3, then netcat (`-z`, or busybox's
/// `-e true`); prints the tool used on stdout's first line.
const TCP_SCRIPT: &str = r#"h=$1; p=$2
if command -v bash >/dev/null 2>&1; then echo bash; if command -v timeout >/dev/null 2>&1; then exec timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$h" "$p"; fi; exec bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$h" "$p"; fi
if command -v python3 >/dev/null 2>&1; then echo python3; exec python3 -c 'import socket,sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
except Exception as e:
    print(type(e).__name__ + ": " + str(e), file=sys.stderr); sys.exit(1)' "$h" "$p"; fi
if command -v nc >/dev/null 2>&1; then echo nc; if nc -h 2>&1 | grep -q -- '-z'; then exec nc -z -w 3 "$h" "$p"; fi; exec nc -w 3 "$h" "$p" -e true; fi
exit 97"#;

/// Every name lookup and TCP connect that checks need from one container, run in ONE exec
/// (each exec costs a runc process start, the slowest part of a probe). Needs sh, getent and
/// bash in the image; without them the checks fall back to their own probes.
const BATCH_SCRIPT: &str = r#"command -v getent >/dev/null 2>&1 && command -v bash >/dev/null 2>&1 || exit 97
t=; command -v timeout >/dev/null 2>&1 && t="timeout 3"
mode=R
for a in "$@"; do
  if [ "$a" = "--" ]; then mode=T; continue; fi
  if [ $mode = R ]; then
    echo "R $a $(getent hosts "$a" | while read -r ip rest; do printf '%s ' "$ip"; done)"
  else
    ( if err=$($t bash -c 'exec 3<>"/dev/tcp/${0%:*}/${0##*:}"' "$a" 2>&1); then echo "T $a ok"; else echo "T $a fail $(echo "$err" | tail -n 1)"; fi ) &
  fi
done
wait"#;

/// The names and `host:port`s one container's checks need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetBatch {
    pub names: Vec<String>,
    pub connects: Vec<(String, u16)>,
}

/// What the batch saw: addresses per name, and per `host:port` whether it connected (with the
/// error when not).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetBatchFacts {
    pub resolved: std::collections::HashMap<String, Vec<String>>,
    pub connected: std::collections::HashMap<String, (bool, String)>,
}

impl NetBatchFacts {
    pub fn resolve(&self, name: &str) -> Option<ResolveFacts> {
        self.resolved.get(name).map(|a| ResolveFacts {
            addresses: a.clone(),
            via: Via::Exec("getent hosts".into()),
            detail: String::new(),
        })
    }
    pub fn tcp(&self, host: &str, port: u16) -> Option<ConnectFacts> {
        self.connected
            .get(&format!("{host}:{port}"))
            .map(|(ok, detail)| ConnectFacts {
                connected: *ok,
                via: Via::Exec("bash".into()),
                detail: detail.clone(),
            })
    }
}

/// A name lookup or connect from inside `from`'s network namespace, as a check asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetRequest {
    Resolve {
        from: String,
        name: String,
    },
    Connect {
        from: String,
        host: String,
        port: u16,
    },
    Isolated(IsolatedRequest),
}

/// From a helper on `network` alone: look `lookup` up, or connect to `service`'s addresses on
/// `port` (see `race::Isolations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsolatedRequest {
    pub network: String,
    pub service: String,
    pub lookup: Option<String>,
    pub port: Option<u16>,
    pub secs: u64,
}

type SharedBatch = Shared<BoxFuture<'static, Option<NetBatchFacts>>>;

/// The batches of one run: per container, one shared exec for all its checks' lookups and
/// connects. It starts when the first check asks for it; a container with a single request
/// gets none (its check probes on its own, which costs the same).
#[derive(Default)]
pub struct Batches(HashMap<String, SharedBatch>);

impl Batches {
    /// Plan the batches for `requests`; `running` gives the container ID of a unit whose
    /// container runs (execs need one).
    pub fn plan(
        docker: &Docker,
        t: &Timeouts,
        requests: impl IntoIterator<Item = NetRequest>,
        running: impl Fn(&str) -> Option<String>,
    ) -> Batches {
        let mut wanted: HashMap<String, NetBatch> = HashMap::new();
        for r in requests {
            match r {
                NetRequest::Resolve { from, name } => {
                    wanted.entry(from).or_default().names.push(name)
                }
                NetRequest::Connect { from, host, port } => {
                    wanted.entry(from).or_default().connects.push((host, port))
                }
                NetRequest::Isolated(_) => {}
            }
        }
        let batches = wanted
            .into_iter()
            .filter(|(_, b)| b.names.len() + b.connects.len() > 1)
            .filter_map(|(unit, b)| {
                let id = running(&unit)?;
                let (docker, t) = (docker.clone(), *t);
                let fut = async move { batch(&docker, &t, &id, &b).await.ok().flatten() }
                    .boxed()
                    .shared();
                Some((unit, fut))
            })
            .collect();
        Batches(batches)
    }

    /// What `unit`'s batch saw, if it has one that ran.
    pub async fn get(&self, unit: &str) -> Option<NetBatchFacts> {
        self.0.get(unit)?.clone().await
    }
}

/// Parse the batch script's lines: `R name addr addr`, `T host:port ok`, `T host:port fail why`.
pub fn parse_batch(out: &str) -> NetBatchFacts {
    let mut f = NetBatchFacts::default();
    for line in out.lines() {
        let mut parts = line.splitn(3, ' ');
        match (parts.next(), parts.next(), parts.next().unwrap_or("")) {
            (Some("R"), Some(name), rest) => {
                f.resolved.insert(
                    name.to_string(),
                    rest.split_whitespace().map(str::to_string).collect(),
                );
            }
            (Some("T"), Some(target), rest) => {
                let (status, why) = rest.split_once(' ').unwrap_or((rest, ""));
                f.connected
                    .insert(target.to_string(), (status == "ok", why.trim().to_string()));
            }
            _ => {}
        }
    }
    f
}

/// Run a batch in `container`. `Ok(None)`: the image lacks the tools (use the single probes).
pub async fn batch(
    docker: &Docker,
    t: &Timeouts,
    container: &str,
    b: &NetBatch,
) -> Result<Option<NetBatchFacts>, String> {
    let mut args: Vec<String> = vec!["sh".into(), "-c".into(), BATCH_SCRIPT.into(), "sh".into()];
    args.extend(b.names.iter().cloned());
    args.push("--".into());
    args.extend(b.connects.iter().map(|(h, p)| format!("{h}:{p}")));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = exec(docker, t, container, &argv).await?;
    if out.exit_code == Some(NO_TOOL) || out.tool_missing() {
        return Ok(None);
    }
    Ok(Some(parse_batch(&out.stdout)))
}

/// Addresses from `getent hosts` output ("172.18.0.2   db").
pub fn parse_getent(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Addresses from busybox `nslookup` output: the `Address` lines after a `Name:` line.
pub fn parse_nslookup(out: &str) -> Vec<String> {
    let mut seen_name = false;
    let mut addrs = Vec::new();
    for line in out.lines() {
        let l = line.trim();
        if l.starts_with("Name:") {
            seen_name = true;
        } else if seen_name && l.starts_with("Address") {
            // "Address: 172.18.0.2" or "Address 1: 172.18.0.2 db"
            if let Some(rest) = l.split_once(':').map(|(_, r)| r.trim()) {
                let ip = rest.split_whitespace().next().unwrap_or("");
                if !ip.is_empty() && !addrs.iter().any(|a| a == ip) {
                    addrs.push(ip.to_string());
                }
            }
        }
    }
    addrs
}

pub async fn resolve(
    docker: &Docker,
    t: &Timeouts,
    container: &str,
    name: &str,
) -> Result<ResolveFacts, String> {
    let out = exec(docker, t, container, &["getent", "hosts", name]).await?;
    if !out.tool_missing() {
        return Ok(ResolveFacts {
            addresses: parse_getent(&out.stdout),
            via: Via::Exec("getent hosts".into()),
            detail: out.diagnostic(),
        });
    }
    let (out, image) = in_helper(docker, t, container, &["nslookup", name]).await?;
    Ok(ResolveFacts {
        addresses: parse_nslookup(&out.stdout),
        via: Via::Helper(image.into()),
        detail: out.diagnostic(),
    })
}

fn connect_facts(out: &ExecOutput, via: Via) -> ConnectFacts {
    ConnectFacts {
        connected: out.exit_code == Some(0),
        via,
        detail: out.diagnostic(),
    }
}

pub async fn tcp(
    docker: &Docker,
    t: &Timeouts,
    container: &str,
    host: &str,
    port: u16,
) -> Result<ConnectFacts, String> {
    let port_s = port.to_string();
    let out = exec(
        docker,
        t,
        container,
        &["sh", "-c", TCP_SCRIPT, "sh", host, &port_s],
    )
    .await?;
    if out.exit_code != Some(NO_TOOL) && !out.tool_missing() {
        let tool = out.stdout.lines().next().unwrap_or("sh").trim().to_string();
        // the first stdout line is the tool's name, not a diagnostic
        let rest = ExecOutput {
            stdout: out.stdout.lines().skip(1).collect::<Vec<_>>().join("\n"),
            ..out.clone()
        };
        return Ok(connect_facts(&rest, Via::Exec(tool)));
    }
    // busybox nc has no -z: connect, run `true`, and close.
    let (out, image) = in_helper(
        docker,
        t,
        container,
        &["nc", "-w", "3", host, &port_s, "-e", "true"],
    )
    .await?;
    Ok(connect_facts(&out, Via::Helper(image.into())))
}

/// The facts of a network's inspect answer (pure: tested on recorded answers, Podman's too).
pub fn net_facts(n: bollard::models::Network) -> NetFacts {
    NetFacts {
        name: n.name.unwrap_or_default(),
        driver: n.driver.unwrap_or_default(),
        default_bridge: n
            .options
            .unwrap_or_default()
            .get("com.docker.network.bridge.default_bridge")
            .is_some_and(|v| v == "true"),
    }
}

/// A network by name; `None` when there is none.
pub async fn network(
    docker: &Docker,
    t: &Timeouts,
    name: &str,
) -> Result<Option<NetFacts>, String> {
    match bounded(
        t.api,
        &format!("inspecting network {name}"),
        docker.inspect_network(
            name,
            None::<bollard::query_parameters::InspectNetworkOptions>,
        ),
    )
    .await
    {
        Ok(n) => Ok(Some(net_facts(n))),
        Err(e) if e.contains("404") || e.contains("not found") => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_lines_are_parsed() {
        let f = parse_batch("R db 172.18.0.2 \nR nosuch \nT db:5432 ok\nT db:5433 fail bash: connect: Connection refused\n");
        assert_eq!(f.resolve("db").unwrap().addresses, ["172.18.0.2"]);
        assert!(f.resolve("nosuch").unwrap().addresses.is_empty());
        assert!(f.resolve("other").is_none());
        assert!(f.tcp("db", 5432).unwrap().connected);
        let refused = f.tcp("db", 5433).unwrap();
        assert!(!refused.connected);
        assert_eq!(refused.detail, "bash: connect: Connection refused");
    }

    #[test]
    fn getent_lines_give_addresses() {
        assert_eq!(parse_getent("172.18.0.2      db\n"), ["172.18.0.2"]);
        assert!(parse_getent("").is_empty());
    }

    #[test]
    fn nslookup_skips_the_server_address() {
        let out = "Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n\nNon-authoritative answer:\nName:\tdb\nAddress: 172.27.0.2\n\nNon-authoritative answer:\n";
        assert_eq!(parse_nslookup(out), ["172.27.0.2"]);
        let old = "Server: 127.0.0.11\nAddress 1: 127.0.0.11\n\nName: db\nAddress 1: 172.27.0.2 db.p_default\n";
        assert_eq!(parse_nslookup(old), ["172.27.0.2"]);
        assert!(parse_nslookup(
            "Server:\t127.0.0.11\nAddress:\t127.0.0.11:53\n\n** server can't find x: NXDOMAIN\n"
        )
        .is_empty());
    }
}

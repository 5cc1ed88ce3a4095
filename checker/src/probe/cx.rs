//! The probe context of one run: the engine, the stack's containers (inspected once), the HTTP
//! client and the batched network lookups. Every kind's `observe` gets it; nothing here
//! changes the stack.

use std::collections::HashMap;

use bollard::Docker;

use super::facts::{ConnectFacts, ContainerFacts, ResolveFacts, UnitFacts};
use super::net::{Batches, IsolatedRequest, NetRequest};
use super::race::{self, Isolation, Isolations, Seen};
use super::{http, net, Timeouts};
use crate::target::{Engine, Stack};
use crate::verdict::{fail, Judgement};

pub struct ProbeCx<'a> {
    pub engine: &'a Engine,
    pub stack: &'a Stack,
    /// One container per unit (a running one first), inspected once per run.
    pub facts: &'a UnitFacts,
    /// Every container of each compose service (scaled services have several).
    pub replicas: &'a HashMap<String, Vec<ContainerFacts>>,
    pub http: reqwest::Client,
    /// `$LABCHECK_HTTP_HOST`, or the grader's host for the learner's localhost.
    pub http_host: Option<&'a str>,
    batches: Batches,
    isolations: Isolations,
}

impl<'a> ProbeCx<'a> {
    /// `requests`: every lookup and connect the run's checks make from inside containers, to
    /// batch them.
    pub fn new(
        engine: &'a Engine,
        stack: &'a Stack,
        facts: &'a UnitFacts,
        replicas: &'a HashMap<String, Vec<ContainerFacts>>,
        http_host: Option<&'a str>,
        requests: Vec<NetRequest>,
    ) -> ProbeCx<'a> {
        // the names as the learner's stack knows them (lab services they named otherwise)
        let wishes = requests
            .iter()
            .filter_map(|r| match r {
                NetRequest::Isolated(i) => Some(isolation_wish(stack, facts, i)),
                _ => None,
            })
            .collect();
        let requests: Vec<NetRequest> = requests
            .into_iter()
            .map(|r| match r {
                NetRequest::Resolve { from, name } => NetRequest::Resolve {
                    name: stack.yours(&name).to_string(),
                    from,
                },
                NetRequest::Connect { from, host, port } => NetRequest::Connect {
                    host: stack.yours(&host).to_string(),
                    from,
                    port,
                },
                isolated => isolated,
            })
            .collect();
        let isolations = Isolations::plan(&engine.docker, &engine.timeouts, wishes);
        let batches = Batches::plan(
            &engine.docker,
            &engine.timeouts,
            requests,
            |unit| match facts.get(unit) {
                Some(Ok(c)) if c.running => Some(c.id.clone()),
                _ => None,
            },
        );
        ProbeCx {
            engine,
            stack,
            facts,
            replicas,
            http: http::client(engine.timeouts.http),
            http_host,
            batches,
            isolations,
        }
    }

    /// What the run's helper on an `isolated` request's network saw (see [`Isolations`]), or,
    /// when no check asked for one in advance, what a helper of its own sees.
    pub async fn isolation(&self, request: &IsolatedRequest) -> Result<Seen, String> {
        let wish = isolation_wish(self.stack, self.facts, request);
        match self.isolations.get(&wish.network).await {
            Some(seen) => seen,
            None => race::isolation(self.docker(), self.timeouts(), wish).await,
        }
    }

    pub fn docker(&self) -> &Docker {
        &self.engine.docker
    }

    pub fn timeouts(&self) -> &Timeouts {
        &self.engine.timeouts
    }

    /// Where the engine is (container IPs are reachable from here only on a local engine).
    pub fn endpoint(&self) -> &str {
        &self.engine.endpoint
    }

    pub fn project(&self) -> Option<&str> {
        self.stack.project.as_deref()
    }

    /// The learner's name for a lab service (or plain container), as their stack resolves it
    /// and writes it in env values and depends_on; any other name as it is. Every kind that
    /// uses a service name as a host name or a value goes through this.
    pub fn yours<'n>(&'n self, name: &'n str) -> &'n str {
        self.stack.yours(name)
    }

    /// The lab's name for one of the learner's services (the inverse of [`ProbeCx::yours`]).
    pub fn lab_name<'n>(&'n self, name: &'n str) -> &'n str {
        self.stack.lab_name(name)
    }

    /// The unit's container; a unit with none fails, saying how to create it.
    pub fn container(&self, unit: &str) -> Result<&ContainerFacts, Judgement> {
        match self.facts.get(unit) {
            Some(Ok(c)) => Ok(c),
            Some(Err(e)) => Err(fail(e.clone())),
            None => Err(self.missing(unit)),
        }
    }

    /// The unit's container if it is running (execs need one).
    pub fn running(&self, unit: &str) -> Result<&ContainerFacts, Judgement> {
        let c = self.container(unit)?;
        if c.running {
            Ok(c)
        } else {
            Err(fail(format!(
                "{unit} is not running ({}), so nothing can run inside it",
                c.status
            )))
        }
    }

    /// Every container of `service`, when it has several.
    pub fn scaled(&self, service: &str) -> Option<&[ContainerFacts]> {
        self.replicas
            .get(service)
            .filter(|all| all.len() > 1)
            .map(Vec::as_slice)
    }

    /// The verdict on a unit with no container, with the command that creates it.
    pub fn missing(&self, unit: &str) -> Judgement {
        // a compose project's service, or a plain container (the labs before Compose)
        let how = match self.project() {
            Some(_) => format!("start it: docker compose up -d {unit}"),
            None => format!(
                "create it with `docker run --name {unit} ...` as the lab's walk-through shows"
            ),
        };
        fail(format!("`{unit}` has no container")).with(how)
    }

    /// `name` looked up from inside `from` (batched with its other lookups when it can be).
    pub async fn resolve(&self, from: &str, name: &str) -> Result<ResolveFacts, Judgement> {
        let c = self.running(from)?;
        let name = self.yours(name);
        if let Some(r) = self.batches.get(from).await.and_then(|b| b.resolve(name)) {
            return Ok(r);
        }
        net::resolve(self.docker(), self.timeouts(), &c.id, name)
            .await
            .map_err(fail)
    }

    /// A TCP connect to `host:port` from inside `from` (batched when it can be).
    pub async fn connect(
        &self,
        from: &str,
        host: &str,
        port: u16,
    ) -> Result<ConnectFacts, Judgement> {
        let c = self.running(from)?;
        let host = self.yours(host);
        if let Some(r) = self.batches.get(from).await.and_then(|b| b.tcp(host, port)) {
            return Ok(r);
        }
        net::tcp(self.docker(), self.timeouts(), &c.id, host, port)
            .await
            .map_err(fail)
    }
}

/// An `isolated` request as its helper tries it: the lookup under the learner's name for the
/// service, the connections to the service's addresses.
fn isolation_wish(stack: &Stack, facts: &UnitFacts, r: &IsolatedRequest) -> Isolation {
    let c = facts.get(&r.service).and_then(|c| c.as_ref().ok());
    Isolation {
        network: r.network.clone(),
        lookup: r.lookup.as_deref().map(|n| stack.yours(n).to_string()),
        connect: r
            .port
            .map(|p| (c.map(ContainerFacts::addresses).unwrap_or_default(), p)),
        secs: r.secs,
    }
}

//! `[target.match.<service>]`: how to recognise a lab service that the learner named otherwise
//! (an image, a container port, a mount, what it depends on). Read here, used by `target::matching`.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::target::matching::Match;

/// One `[target.match.<service>]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMatch {
    image: Option<Spanned<String>>,
    port: Option<Spanned<i64>>,
    mount: Option<Spanned<String>>,
    #[serde(default)]
    depends_on: Vec<Spanned<String>>,
}

/// The roles, each checked against the lab's services; problems go to `err` with their span.
pub(super) fn matches(
    raw: BTreeMap<Spanned<String>, Spanned<RawMatch>>,
    services: &[String],
    compose: bool,
    err: &mut dyn FnMut(Range<usize>, String),
) -> BTreeMap<String, Match> {
    let mut out = BTreeMap::new();
    for (name, table) in raw {
        let (span, svc) = (name.span(), name.into_inner());
        if !compose {
            err(span, format!("[target.match.{svc}]: a \"containers\" lab finds its containers by name, so it has no roles to match (a learner who names one otherwise says so with --service {svc}=<name>)"));
            continue;
        }
        if !services.contains(&svc) {
            err(
                span,
                format!(
                    "[target.match.{svc}]: `{svc}` is not one of the lab's services ({})",
                    services.join(", ")
                ),
            );
            continue;
        }
        let table_span = table.span();
        let raw = table.into_inner();
        let mut role = Match::default();
        if let Some(image) = raw.image {
            if image.get_ref().trim().is_empty() {
                err(image.span(), format!("[target.match.{svc}]: `image` is empty: give a part of the image's name, e.g. \"postgres\""));
            }
            role.image = Some(image.into_inner());
        }
        if let Some(port) = raw.port {
            match u16::try_from(*port.get_ref()) {
                Ok(p) if p > 0 => role.port = Some(p),
                _ => err(
                    port.span(),
                    format!(
                        "[target.match.{svc}]: port = {} is not a port (1 to 65535)",
                        port.get_ref()
                    ),
                ),
            }
        }
        if let Some(mount) = raw.mount {
            if mount.get_ref().trim().is_empty() {
                err(mount.span(), format!("[target.match.{svc}]: `mount` is empty: give a part of a mount's path, e.g. \"docker.sock\""));
            }
            role.mount = Some(mount.into_inner());
        }
        for d in raw.depends_on {
            let dep = d.get_ref();
            if dep == &svc || !services.contains(dep) {
                err(
                    d.span(),
                    format!(
                        "[target.match.{svc}]: depends_on names `{dep}`, which is not another of the lab's services ({})",
                        services.join(", ")
                    ),
                );
            }
            role.depends_on.push(d.into_inner());
        }
        if role == Match::default() {
            err(table_span, format!("[target.match.{svc}] says nothing: give `image`, `port`, `mount` or `depends_on` (otherwise any service would match)"));
        }
        out.insert(svc, role);
    }
    out
}

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{Check, Fault, Lab, Role, Severity, Target, Variant, FORMAT_VERSION};

pub use crate::error::{LoadError, SpecError};

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

pub(super) struct Ctx<'a> {
    src: &'a str,
    file: &'a Path,
    errors: Vec<SpecError>,
}

impl Ctx<'_> {
    /// The byte offset where a 1-based line starts.
    pub(super) fn line_start(&self, line: usize) -> usize {
        self.src
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum()
    }

    pub(super) fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = line_col(self.src, span.start);
        self.errors.push(SpecError {
            file: self.file.to_path_buf(),
            line,
            column,
            message: message.into(),
        });
    }
}

#[derive(Deserialize)]
struct VersionOnly {
    format_version: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLab {
    #[allow(dead_code)]
    format_version: i64,
    id: Spanned<String>,
    title: String,
    book: Option<String>,
    requires_api: Option<Spanned<String>>,
    #[serde(default)]
    warnings_cost_points: bool,
    target: Spanned<RawTarget>,
    /// How the live tests drive the lab (read by the tests, ignored by labcheck itself).
    #[allow(dead_code)]
    live: Option<toml::Value>,
    #[serde(default)]
    checks: Vec<Spanned<RawCheck>>,
    #[serde(default)]
    faults: Vec<Spanned<RawFault>>,
    #[serde(default)]
    variants: Vec<Spanned<RawVariant>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariant {
    dir: String,
    summary: String,
}

/// Each check as a plain table, to name unsupported kinds before strict parsing.
#[derive(Deserialize)]
struct LenientLab {
    #[serde(default)]
    checks: Vec<Spanned<toml::Table>>,
}

/// Every check kind this labcheck implements.
pub fn kinds() -> &'static [&'static str] {
    crate::kinds::Kind::NAMES
}

/// Each check as a table whose values keep their spans, for the kinds in `kinds/`.
#[derive(Deserialize)]
struct SpannedChecks {
    #[serde(default)]
    checks: Vec<Spanned<std::collections::BTreeMap<String, Spanned<toml::Value>>>>,
}

/// The fields every check has; the rest of its table belongs to its kind.
const COMMON_FIELDS: &[&str] = &[
    "id", "title", "kind", "role", "explains", "points", "severity", "needs", "hint", "book",
];

/// Decode a check of a kind that lives in `kinds/`: None when no such kind is registered.
fn decode_kind(
    cx: &mut Ctx,
    span: &Range<usize>,
    id: &str,
    kind_name: &str,
    table: &std::collections::BTreeMap<String, Spanned<toml::Value>>,
) -> Option<Option<crate::kinds::Kind>> {
    let fields: toml::Table = table
        .iter()
        .filter(|(k, _)| !COMMON_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.get_ref().clone()))
        .collect();
    match crate::kinds::Kind::decode(kind_name, fields)? {
        Ok(kind) => Some(Some(kind)),
        Err(problems) => {
            for p in problems {
                let at = p
                    .field
                    .as_ref()
                    .and_then(|f| table.get(f))
                    .map(|v| v.span())
                    .unwrap_or_else(|| span.clone());
                cx.err(
                    at,
                    format!("check `{id}` (kind {kind_name}): {}", p.message),
                );
            }
            Some(None)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    kind: Spanned<String>,
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    containers: Vec<String>,
    #[serde(default)]
    networks: Vec<String>,
    /// `[target.match.<service>]`: how to recognise the lab services (lab/matching.rs).
    #[serde(default, rename = "match")]
    matches: std::collections::BTreeMap<Spanned<String>, Spanned<super::matching::RawMatch>>,
}

/// A check's common fields. The rest of its table belongs to its kind, which refuses fields it
/// does not know (so unknown fields are not refused here).
#[derive(Deserialize)]
struct RawCheck {
    id: Spanned<String>,
    title: String,
    kind: Spanned<String>,
    role: Option<Spanned<String>>,
    #[serde(default)]
    explains: Vec<Spanned<String>>,
    points: Option<u32>,
    severity: Option<Spanned<String>>,
    #[serde(default)]
    needs: Vec<Spanned<String>>,
    book: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    file: String,
    summary: String,
    first_broken: Option<Spanned<String>>,
    fails: Vec<Spanned<String>>,
    /// A fault whose stack still works: the checks that end as warnings, and the diagnoses
    /// that pass with a note.
    #[serde(default)]
    warns: Vec<Spanned<String>>,
    #[serde(default)]
    notes: Vec<Spanned<String>>,
    /// `fails` was measured with `--drill`.
    drill: Option<bool>,
}

/// Read and validate `dir/lab.toml`, with the hint levels of `dir/hints.toml`.
pub fn load_lab(dir: &Path) -> Result<Lab, LoadError> {
    let file = dir.join("lab.toml");
    let src = std::fs::read_to_string(&file).map_err(|source| LoadError::Io {
        path: file.clone(),
        source,
    })?;
    let mut lab = load_str(&src, &file, dir)?;
    super::hints::attach(&mut lab).map_err(LoadError::Spec)?;
    Ok(lab)
}

/// Parse and validate lab.toml text; `file` is only used for messages, `dir` is the lab folder.
pub fn load_str(src: &str, file: &Path, dir: &Path) -> Result<Lab, LoadError> {
    let mut cx = Ctx {
        src,
        file,
        errors: Vec::new(),
    };
    let toml_err = |cx: &mut Ctx, e: toml::de::Error| {
        let span = e.span().unwrap_or(0..0);
        // the toml crate leaves the message empty for some syntax errors (a value cut off at
        // the end of the file): say what it is rather than nothing (found by tests/fuzz.rs)
        let message = match e.message().trim() {
            "" => "invalid TOML: a key, value or table is incomplete here".to_string(),
            m => m.to_string(),
        };
        cx.err(span, message);
        LoadError::Spec(std::mem::take(&mut cx.errors))
    };

    // The version first, so a newer format gets a clear message rather than field errors.
    let version: VersionOnly = toml::from_str(src).map_err(|e| toml_err(&mut cx, e))?;
    match version.format_version {
        None => {
            cx.err(0..0, format!("missing `format_version` (this labcheck reads format_version = {FORMAT_VERSION})"));
            return Err(LoadError::Spec(cx.errors));
        }
        Some(v) => {
            let span = v.span();
            match v.into_inner() {
                toml::Value::Integer(FORMAT_VERSION) => {}
                toml::Value::Integer(n) if n > FORMAT_VERSION => {
                    cx.err(span, format!("format_version = {n} is newer than this labcheck understands ({FORMAT_VERSION}); update labcheck"));
                    return Err(LoadError::Spec(cx.errors));
                }
                other => {
                    cx.err(
                        span,
                        format!("unsupported format_version {other}; expected {FORMAT_VERSION}"),
                    );
                    return Err(LoadError::Spec(cx.errors));
                }
            }
        }
    }

    // Kinds first: a check of a kind this labcheck lacks has fields the strict parse would call
    // unknown, and "unknown kind" is the useful message.
    if let Ok(lenient) = toml::from_str::<LenientLab>(src) {
        for c in &lenient.checks {
            if let Some(kind) = c.get_ref().get("kind").and_then(|k| k.as_str()) {
                if !kinds().contains(&kind) {
                    let id = c
                        .get_ref()
                        .get("id")
                        .and_then(|i| i.as_str())
                        .unwrap_or("?");
                    cx.err(
                        c.span(),
                        format!(
                            "check `{id}`: unknown check kind `{kind}`; this labcheck supports {}",
                            kinds().join(", ")
                        ),
                    );
                }
            }
        }
        if !cx.errors.is_empty() {
            return Err(LoadError::Spec(cx.errors));
        }
    }

    let raw: RawLab = toml::from_str(src).map_err(|e| toml_err(&mut cx, e))?;
    let tables: SpannedChecks = toml::from_str(src).map_err(|e| toml_err(&mut cx, e))?;

    // Hints live in hints.toml, in levels; a lab.toml `hint` is from the old format.
    for t in &tables.checks {
        if let Some(h) = t.get_ref().get("hint") {
            let id = t
                .get_ref()
                .get("id")
                .and_then(|i| i.get_ref().as_str())
                .unwrap_or("?");
            cx.err(
                h.span(),
                format!(
                    "check `{id}`: `hint` has moved out of lab.toml; write its levels under [{id}] in {} beside it (nudge, concept, see, fix)",
                    super::hints::FILE
                ),
            );
        }
    }

    let target_span = raw.target.span();
    let mut rt = raw.target.into_inner();
    let matches = super::matching::matches(
        std::mem::take(&mut rt.matches),
        &rt.services,
        rt.kind.get_ref() == "compose",
        &mut |span, m| cx.err(span, m),
    );
    let target = match rt.kind.get_ref().as_str() {
        "compose" => {
            if rt.services.is_empty() {
                cx.err(
                    target_span.clone(),
                    "[target] kind = \"compose\" needs `services = [...]`",
                );
            }
            Target::Compose {
                services: rt.services,
            }
        }
        "containers" => {
            if rt.containers.is_empty() {
                cx.err(
                    target_span.clone(),
                    "[target] kind = \"containers\" needs `containers = [...]`",
                );
            }
            Target::Containers {
                containers: rt.containers,
                networks: rt.networks,
            }
        }
        other => {
            cx.err(
                rt.kind.span(),
                format!("unknown target kind `{other}`; expected \"compose\" or \"containers\""),
            );
            Target::Compose {
                services: rt.services,
            }
        }
    };

    if let Some(api) = &raw.requires_api {
        if parse_api(api.get_ref()).is_none() {
            cx.err(
                api.span(),
                format!(
                    "requires_api = \"{}\" is not a version like \"1.44\"",
                    api.get_ref()
                ),
            );
        }
    }

    let mut checks = Vec::new();
    let mut seen: HashMap<String, Range<usize>> = HashMap::new();
    let mut need_spans: Vec<(String, Spanned<String>)> = Vec::new();
    let mut explain_spans: Vec<(String, Spanned<String>)> = Vec::new();
    for (rc, table) in raw.checks.into_iter().zip(tables.checks) {
        let span = rc.span();
        let rc = rc.into_inner();
        let id = rc.id.get_ref().clone();
        if !is_kebab(&id) {
            cx.err(
                rc.id.span(),
                format!(
                    "check id `{id}` must be kebab-case (a-z, 0-9, -): it is also the book anchor"
                ),
            );
        }
        if seen.insert(id.clone(), rc.id.span()).is_some() {
            cx.err(rc.id.span(), format!("duplicate check id `{id}`"));
        }
        for n in &rc.needs {
            need_spans.push((id.clone(), n.clone()));
        }
        for n in &rc.explains {
            explain_spans.push((id.clone(), n.clone()));
        }
        if let Some(check) = build_check(&mut cx, span, rc, table.get_ref()) {
            checks.push(check);
        }
    }

    // needs: exist, and no cycles.
    for (owner, need) in &need_spans {
        if !seen.contains_key(need.get_ref()) {
            cx.err(
                need.span(),
                format!(
                    "check `{owner}` needs `{}`, which is not a check of this lab",
                    need.get_ref()
                ),
            );
        } else if need.get_ref() == owner {
            cx.err(need.span(), format!("check `{owner}` needs itself"));
        }
    }

    super::roles::validate(&mut cx, &checks, &need_spans, &explain_spans);

    let mut faults = Vec::new();
    for rf in raw.faults {
        let span = rf.span();
        let rf = rf.into_inner();
        let (line, _) = line_col(src, span.start);
        let named = rf.first_broken.iter().chain(&rf.fails);
        for name in named.chain(&rf.warns).chain(&rf.notes) {
            if !seen.contains_key(name.get_ref()) {
                cx.err(
                    name.span(),
                    format!(
                        "fault `{}` names `{}`, which is not a check of this lab",
                        rf.file,
                        name.get_ref()
                    ),
                );
            }
        }
        match &rf.first_broken {
            Some(first) if !rf.fails.iter().any(|f| f.get_ref() == first.get_ref()) => cx.err(
                first.span(),
                format!(
                    "fault `{}`: first_broken `{}` is not in its `fails` list",
                    rf.file,
                    first.get_ref()
                ),
            ),
            None if !rf.fails.is_empty() => cx.err(
                span.clone(),
                format!(
                    "fault `{}` fails checks but names no `first_broken`",
                    rf.file
                ),
            ),
            _ => {}
        }
        if rf.fails.is_empty() && rf.warns.is_empty() && rf.notes.is_empty() {
            cx.err(
                span.clone(),
                format!(
                    "fault `{}` changes nothing: list what it `fails`, `warns` or `notes`",
                    rf.file
                ),
            );
        }
        let names = |v: Vec<Spanned<String>>| v.into_iter().map(Spanned::into_inner).collect();
        faults.push(Fault {
            file: rf.file,
            summary: rf.summary,
            first_broken: rf.first_broken.map(Spanned::into_inner),
            fails: names(rf.fails),
            warns: names(rf.warns),
            notes: names(rf.notes),
            line,
            drill: rf.drill.unwrap_or(false),
        });
    }

    // Drills run only with --drill, after every other check: nothing else may need one, and a
    // fault measured without drills cannot list one.
    for c in checks.iter().filter(|c| !c.kind.is_drill()) {
        for n in c
            .needs
            .iter()
            .filter(|n| checks.iter().any(|d| &d.id == *n && d.kind.is_drill()))
        {
            cx.err(seen[&c.id].clone(), format!("check `{}` needs the drill `{n}`, which runs only with --drill; only drills may need drills", c.id));
        }
    }
    for (f, rf_line) in faults.iter().map(|f| (f, f.line)) {
        for n in f
            .fails
            .iter()
            .filter(|n| !f.drill && checks.iter().any(|d| &d.id == *n && d.kind.is_drill()))
        {
            let (line, column) = (rf_line, 1);
            cx.errors.push(SpecError {
                file: file.to_path_buf(),
                line,
                column,
                message: format!("fault `{}` lists the drill `{n}`; add `drill = true` if its fails were measured with --drill", f.file),
            });
        }
    }

    let variants = raw
        .variants
        .into_iter()
        .map(|v| {
            let line = line_col(src, v.span().start).0;
            let v = v.into_inner();
            Variant {
                dir: v.dir,
                summary: v.summary,
                line,
            }
        })
        .collect();

    if checks.is_empty() && cx.errors.is_empty() {
        cx.err(0..0, "the lab declares no [[checks]]: nothing to check");
    }
    if !cx.errors.is_empty() {
        return Err(LoadError::Spec(cx.errors));
    }

    let checks = match super::ladder::order(&checks) {
        Ok(order) => order.into_iter().map(|i| checks[i].clone()).collect(),
        Err(cycle) => {
            let first = &checks
                .iter()
                .find(|c| c.id == cycle[0])
                .expect("cycle ids are checks");
            let span = seen[&first.id].clone();
            cx.err(
                span,
                format!("`needs` form a cycle: {}", cycle.join(" -> ")),
            );
            return Err(LoadError::Spec(cx.errors));
        }
    };

    Ok(Lab {
        id: raw.id.into_inner(),
        title: raw.title,
        book: raw.book,
        target,
        matches,
        checks,
        faults,
        variants,
        requires_api: raw.requires_api.map(Spanned::into_inner),
        warnings_cost_points: raw.warnings_cost_points,
        dir: dir.to_path_buf(),
        file: file.to_path_buf(),
    })
}

/// "1.44" -> (1, 44)
pub use crate::target::endpoint::parse_api;

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn build_check(
    cx: &mut Ctx,
    span: Range<usize>,
    rc: RawCheck,
    table: &std::collections::BTreeMap<String, Spanned<toml::Value>>,
) -> Option<Check> {
    let id = rc.id.get_ref().clone();
    let kind_name = rc.kind.get_ref().clone();
    // an unknown kind was reported before the strict parse
    let kind = decode_kind(cx, &span, &id, &kind_name, table)??;
    let role = match rc.role.as_ref().map(|r| (r.get_ref().as_str(), r.span())) {
        None | Some(("behaviour", _)) => Role::Behaviour,
        Some(("diagnosis", _)) => Role::Diagnosis,
        Some(("hardening", _)) => Role::Hardening,
        Some((other, sp)) => {
            cx.err(
                sp,
                format!("check `{id}`: role `{other}` must be \"behaviour\", \"diagnosis\" or \"hardening\""),
            );
            Role::Behaviour
        }
    };
    let severity = match rc
        .severity
        .as_ref()
        .map(|s| (s.get_ref().as_str(), s.span()))
    {
        // hardening warns; `--strict` is what makes it fail
        Some((_, sp)) if role == Role::Hardening => {
            cx.err(sp, format!("check `{id}`: a hardening check always warns (use --strict to make warnings fail); remove `severity`"));
            Severity::Warn
        }
        None if role == Role::Hardening => Severity::Warn,
        None | Some(("fail", _)) => Severity::Fail,
        Some(("warn", _)) => Severity::Warn,
        Some((other, sp)) => {
            cx.err(
                sp,
                format!("severity `{other}` must be \"fail\" or \"warn\""),
            );
            Severity::Fail
        }
    };
    Some(Check {
        id: id.clone(),
        title: rc.title,
        points: rc.points.unwrap_or(1),
        severity,
        role,
        explains: rc.explains.into_iter().map(Spanned::into_inner).collect(),
        needs: rc.needs.into_iter().map(Spanned::into_inner).collect(),
        hints: Default::default(),
        book: rc.book,
        kind,
        line: line_col(cx.src, span.start).0,
    })
}

//! What a lab's reference compose file (`solution/compose.yaml`) asks of the environment: the
//! project name, each service's image or build (and its Dockerfile's FROM images), and the
//! host ports it publishes.

use std::path::{Path, PathBuf};

use serde_norway::Value;

/// The file names Compose looks for, in its order.
const NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// A host port a service publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The service that publishes it (empty: a port the lab's checks connect to, with no
    /// compose file to name its service).
    pub service: String,
    /// The host address it binds ("" or "0.0.0.0": every address).
    pub host_ip: String,
    pub port: u16,
    /// "tcp" or "udp".
    pub proto: String,
    /// The variable that chooses the port (`${HTTP_PORT:-8050}`), if any.
    pub var: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    /// `image:` (with `build:` too, the tag Compose gives what it builds).
    pub image: Option<String>,
    /// `build:`: the Dockerfile Compose builds from.
    pub dockerfile: Option<PathBuf>,
    pub ports: Vec<Published>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeFile {
    pub path: PathBuf,
    /// Top-level `name:`.
    pub project: Option<String>,
    pub services: Vec<Service>,
}

/// The lab's compose file, if it has one (phase 2 runs plain `docker` commands instead).
pub fn read(lab_dir: &Path) -> Result<Option<ComposeFile>, String> {
    let dir = lab_dir.join("solution");
    let Some(path) = NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file()) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let env = |k: &str| std::env::var(k).ok();
    parse(&text, &dir, &env)
        .map(|(project, services)| {
            Some(ComposeFile {
                path: path.clone(),
                project,
                services,
            })
        })
        .map_err(|e| format!("{}: {e}", path.display()))
}

type Parsed = (Option<String>, Vec<Service>);

/// Parse a compose file; `dir` is its folder (build contexts are relative to it), `env` the
/// variables `${VAR:-default}` reads.
pub fn parse(
    yaml: &str,
    dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Parsed, String> {
    let mut doc: Value = serde_norway::from_str(yaml).map_err(|e| e.to_string())?;
    doc.apply_merge().map_err(|e| e.to_string())?;
    let project = doc.get("name").and_then(Value::as_str).map(str::to_string);
    let mut services = Vec::new();
    if let Some(Value::Mapping(map)) = doc.get("services") {
        for (name, s) in map {
            let name = name.as_str().unwrap_or_default().to_string();
            let image = s
                .get("image")
                .and_then(Value::as_str)
                .map(|i| interpolate(i, env).0);
            let dockerfile = s.get("build").and_then(|b| dockerfile(b, dir));
            let mut ports = Vec::new();
            if let Some(Value::Sequence(items)) = s.get("ports") {
                for item in items {
                    ports.extend(port(&name, item, env)?);
                }
            }
            services.push(Service {
                name,
                image,
                dockerfile,
                ports,
            });
        }
    }
    Ok((project, services))
}

/// `build: ./api` or `build: {context: ./api, dockerfile: Dockerfile.dev}`.
fn dockerfile(build: &Value, dir: &Path) -> Option<PathBuf> {
    let (context, file) = match build {
        Value::String(c) => (c.as_str(), "Dockerfile"),
        Value::Mapping(_) => (
            build.get("context").and_then(Value::as_str).unwrap_or("."),
            build
                .get("dockerfile")
                .and_then(Value::as_str)
                .unwrap_or("Dockerfile"),
        ),
        _ => return None,
    };
    Some(dir.join(context).join(file))
}

/// One `ports:` entry: `"[ip:]host:container[/proto]"`, or the long form with `published`.
/// A container port alone publishes on a random host port: nothing to check.
fn port(
    service: &str,
    item: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Published>, String> {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let (host_ip, host_port, proto, var) = match item {
        Value::Mapping(_) => {
            let Some(raw) = item.get("published").and_then(text) else {
                return Ok(None);
            };
            let (published, var) = interpolate(&raw, env);
            let ip = item
                .get("host_ip")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let proto = item
                .get("protocol")
                .and_then(Value::as_str)
                .unwrap_or("tcp");
            (ip.to_string(), published, proto.to_string(), var)
        }
        _ => {
            let Some(raw) = text(item) else {
                return Ok(None);
            };
            let (s, var) = interpolate(&raw, env);
            let (mapping, proto) = s.split_once('/').unwrap_or((&s, "tcp"));
            // `[::1]:8080:80`: an IPv6 address in brackets
            let (ip, rest) = match mapping.strip_prefix('[') {
                Some(r) => match r.split_once("]:") {
                    Some((ip, rest)) => (ip.to_string(), rest.to_string()),
                    None => {
                        return Err(format!(
                            "service {service}: port `{raw}` has an unclosed '['"
                        ))
                    }
                },
                None => match mapping.matches(':').count() {
                    2 => {
                        let (ip, rest) = mapping.split_once(':').unwrap_or_default();
                        (ip.to_string(), rest.to_string())
                    }
                    _ => (String::new(), mapping.to_string()),
                },
            };
            let Some((host, _container)) = rest.split_once(':') else {
                return Ok(None);
            };
            (ip, host.to_string(), proto.to_string(), var)
        }
    };
    if host_port.is_empty() || host_port.contains('-') {
        // a random port, or a range: Compose picks one that is free
        return Ok(None);
    }
    let port = host_port
        .parse::<u16>()
        .map_err(|_| format!("service {service}: `{host_port}` is not a host port"))?;
    Ok(Some(Published {
        service: service.to_string(),
        host_ip,
        port,
        proto,
        var,
    }))
}

/// `${VAR:-default}`, `${VAR-default}`, `${VAR}` and `$VAR` as Compose reads them, with the
/// first variable's name.
pub fn interpolate(s: &str, env: &dyn Fn(&str) -> Option<String>) -> (String, Option<String>) {
    let mut out = String::new();
    let mut first = None;
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(a) = after.strip_prefix('$') {
            out.push('$');
            rest = a;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                out.push_str(&rest[i..]);
                return (out, first);
            };
            let expr = &body[..end];
            let (name, default, empty_too) = match expr.split_once(":-") {
                Some((n, d)) => (n, d, true),
                None => match expr.split_once('-') {
                    Some((n, d)) => (n, d, false),
                    None => (expr, "", false),
                },
            };
            let value = env(name).filter(|v| !(empty_too && v.is_empty()));
            out.push_str(value.as_deref().unwrap_or(default));
            first.get_or_insert_with(|| name.to_string());
            rest = &body[end + 1..];
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..end];
            out.push_str(&env(name).unwrap_or_default());
            first.get_or_insert_with(|| name.to_string());
            rest = &after[end..];
        }
    }
    out.push_str(rest);
    (out, first)
}

/// The images a Dockerfile builds FROM (not `scratch`, not an earlier stage, not one chosen by
/// a build argument).
pub fn from_images(dockerfile: &str) -> Vec<String> {
    let mut stages: Vec<String> = Vec::new();
    let mut images = Vec::new();
    for line in dockerfile.lines() {
        let mut words = line.split_whitespace();
        if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("FROM")) {
            continue;
        }
        let words: Vec<&str> = words.filter(|w| !w.starts_with("--")).collect();
        let Some(image) = words.first() else { continue };
        let is_stage = stages.contains(&image.to_lowercase());
        if let [_, as_, alias] = words.as_slice() {
            if as_.eq_ignore_ascii_case("AS") {
                stages.push(alias.to_lowercase());
            }
        }
        if *image == "scratch"
            || image.contains('$')
            || is_stage
            || images.iter().any(|i| i == image)
        {
            continue;
        }
        images.push(image.to_string());
    }
    images
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn ports_images_and_builds_are_read_as_compose_reads_them() {
        let yaml = r#"
name: demo
x-web: &web
  build: .
services:
  web:
    <<: *web
    ports: ["127.0.0.1:8080:5000", "9000:9000/udp", "5001", "[::1]:8443:443", "8000-8002:8000"]
  proxy:
    image: nginx:alpine
    ports:
      - "127.0.0.1:${HTTP_PORT:-8050}:80"
      - target: 81
        published: "8051"
        host_ip: 127.0.0.1
  db:
    image: postgres:15-alpine
  api:
    build: {context: ./api, dockerfile: Dockerfile.dev}
    image: mine/api
"#;
        let (project, services) = parse(yaml, Path::new("/lab"), &none).unwrap();
        assert_eq!(project.as_deref(), Some("demo"));
        let web = &services[0];
        assert_eq!(
            web.dockerfile.as_deref(),
            Some(Path::new("/lab/./Dockerfile"))
        );
        let ports: Vec<(&str, u16, &str)> = web
            .ports
            .iter()
            .map(|p| (p.host_ip.as_str(), p.port, p.proto.as_str()))
            .collect();
        assert_eq!(
            ports,
            [
                ("127.0.0.1", 8080, "tcp"),
                ("", 9000, "udp"),
                ("::1", 8443, "tcp")
            ]
        );
        let proxy = &services[1];
        assert_eq!(proxy.ports[0].port, 8050);
        assert_eq!(proxy.ports[0].var.as_deref(), Some("HTTP_PORT"));
        assert_eq!(
            (proxy.ports[1].host_ip.as_str(), proxy.ports[1].port),
            ("127.0.0.1", 8051)
        );
        assert_eq!(services[2].image.as_deref(), Some("postgres:15-alpine"));
        assert_eq!(
            services[3].dockerfile.as_deref(),
            Some(Path::new("/lab/./api/Dockerfile.dev"))
        );
        let set = |k: &str| (k == "HTTP_PORT").then(|| "9090".to_string());
        let (_, s) = parse(yaml, Path::new("/lab"), &set).unwrap();
        assert_eq!(s[1].ports[0].port, 9090);
        assert!(parse(
            "services:\n  w:\n    ports: [\"1.2.3.4:http:80\"]\n",
            Path::new("/"),
            &none
        )
        .unwrap_err()
        .contains("`http` is not a host port"));
    }

    #[test]
    fn variables_take_their_defaults_as_compose_does() {
        let env = |k: &str| match k {
            "EMPTY" => Some(String::new()),
            "SET" => Some("x".into()),
            _ => None,
        };
        assert_eq!(
            interpolate("${UNSET:-8050}", &env),
            ("8050".into(), Some("UNSET".into()))
        );
        assert_eq!(interpolate("${EMPTY:-8050}", &env).0, "8050");
        assert_eq!(interpolate("${EMPTY-8050}", &env).0, "");
        assert_eq!(interpolate("a$SET-$$b", &env).0, "ax-$b");
    }

    #[test]
    fn from_lines_skip_stages_scratch_and_arguments() {
        let df = "# syntax=docker/dockerfile:1\nARG BASE=python:3.11-slim\nFROM --platform=$BUILDPLATFORM rust:1-slim AS build\nRUN make\nFROM ${BASE}\nfrom python:3.11-slim as app\nCOPY --from=build /x /x\nFROM build\nFROM scratch\n";
        assert_eq!(from_images(df), ["rust:1-slim", "python:3.11-slim"]);
    }
}

//! What Compose recorded about a service: the v2 `depends_on` label, or the compose file(s)
//! named by the `config_files` label (Compose v1 writes no depends_on label).

use super::facts::{ContainerFacts, DependsFacts};

pub use crate::target::labels::*;

/// depends_on of `service` in one compose file's YAML (short list form or long map form).
/// `None` when the file does not mention the service's depends_on.
pub fn depends_from_yaml(yaml: &str, service: &str) -> Result<Option<Vec<DependsEntry>>, String> {
    let mut doc: serde_norway::Value = serde_norway::from_str(yaml).map_err(|e| e.to_string())?;
    // `<<: *defaults` (a YAML merge key, common in compose files) as Compose reads it
    doc.apply_merge().map_err(|e| e.to_string())?;
    let Some(dep) = doc
        .get("services")
        .and_then(|s| s.get(service))
        .and_then(|s| s.get("depends_on"))
    else {
        return Ok(None);
    };
    let entries = match dep {
        serde_norway::Value::Sequence(items) => items
            .iter()
            .filter_map(|v| v.as_str())
            .map(|on| DependsEntry {
                on: on.to_string(),
                condition: "service_started".into(),
            })
            .collect(),
        serde_norway::Value::Mapping(map) => map
            .iter()
            .filter_map(|(k, v)| {
                let on = k.as_str()?.to_string();
                let condition = v
                    .get("condition")
                    .and_then(|c| c.as_str())
                    .unwrap_or("service_started")
                    .to_string();
                Some(DependsEntry { on, condition })
            })
            .collect(),
        _ => {
            return Err(format!(
                "depends_on of {service} is neither a list nor a map"
            ))
        }
    };
    Ok(Some(entries))
}

/// What is known about `c`'s depends_on. Reads files only when the label is absent.
pub fn depends_on(c: &ContainerFacts) -> DependsFacts {
    if let Some(label) = c.labels.get(LABEL_DEPENDS_ON) {
        return DependsFacts::Known {
            source: format!("the {LABEL_DEPENDS_ON} label"),
            entries: parse_depends_label(label),
        };
    }
    let service = c.labels.get(LABEL_SERVICE).cloned().unwrap_or_default();
    from_files(
        &service,
        c.labels.get(LABEL_CONFIG_FILES).map(String::as_str),
        c.labels.get(LABEL_WORKING_DIR).map(String::as_str),
    )
}

/// depends_on of `service` read from the compose files of the `config_files` label (what
/// Compose v1 and podman-compose leave instead of the depends_on label; podman-compose writes
/// them relative to the `working_dir` label).
pub fn from_files(service: &str, files: Option<&str>, working_dir: Option<&str>) -> DependsFacts {
    let Some(files) = files.filter(|f| !f.is_empty()) else {
        return DependsFacts::Unknown {
            reason: format!("the container has no {LABEL_DEPENDS_ON} label (Compose v1?) and names no compose file"),
        };
    };
    let mut entries: Option<Vec<DependsEntry>> = None;
    let mut read = Vec::new();
    for file in files.split(',').map(str::trim) {
        let path = match working_dir {
            Some(wd) if std::path::Path::new(file).is_relative() => {
                std::path::Path::new(wd).join(file)
            }
            _ => std::path::PathBuf::from(file),
        };
        let file = path.to_string_lossy();
        let file = file.as_ref();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                return DependsFacts::Unknown {
                    reason: format!(
                        "the container has no {LABEL_DEPENDS_ON} label (Compose v1?) and its compose file {file} is not readable here ({e})"
                    ),
                }
            }
        };
        match depends_from_yaml(&text, service) {
            Ok(Some(e)) => entries = Some(e),
            Ok(None) => {}
            Err(e) => {
                return DependsFacts::Unknown {
                    reason: format!("cannot parse {file}: {e}"),
                }
            }
        }
        read.push(file.to_string());
    }
    DependsFacts::Known {
        source: read.join(", "),
        entries: entries.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_label_is_parsed() {
        let e = parse_depends_label("db:service_healthy:false,redis:service_started:true");
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].on.as_str(), e[0].condition.as_str()),
            ("db", "service_healthy")
        );
        assert_eq!(
            (e[1].on.as_str(), e[1].condition.as_str()),
            ("redis", "service_started")
        );
        assert!(parse_depends_label("").is_empty());
    }

    #[test]
    fn yaml_short_and_long_forms() {
        let short = "services:\n  web:\n    depends_on: [db]\n";
        assert_eq!(
            depends_from_yaml(short, "web").unwrap().unwrap()[0].condition,
            "service_started"
        );
        let long =
            "services:\n  web:\n    depends_on:\n      db:\n        condition: service_healthy\n";
        assert_eq!(
            depends_from_yaml(long, "web").unwrap().unwrap()[0].condition,
            "service_healthy"
        );
        assert_eq!(depends_from_yaml(long, "db").unwrap(), None);
        assert!(depends_from_yaml("services: [", "web").is_err());
    }

    #[test]
    fn yaml_merge_keys_bring_their_depends_on() {
        let merged = "x-app: &app\n  depends_on:\n    db:\n      condition: service_healthy\nservices:\n  web:\n    <<: *app\n    image: web\n";
        let e = depends_from_yaml(merged, "web").unwrap().unwrap();
        assert_eq!(
            (e[0].on.as_str(), e[0].condition.as_str()),
            ("db", "service_healthy")
        );
    }

    #[test]
    fn v1_containers_fall_back_to_the_compose_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("docker-compose.yml");
        std::fs::write(
            &f,
            "services:\n  web:\n    depends_on:\n      db:\n        condition: service_healthy\n",
        )
        .unwrap();
        let mut c = ContainerFacts::default();
        c.labels.insert(LABEL_SERVICE.into(), "web".into());
        c.labels
            .insert(LABEL_CONFIG_FILES.into(), f.display().to_string());
        match depends_on(&c) {
            DependsFacts::Known { entries, .. } => assert_eq!(entries[0].on, "db"),
            other => panic!("{other:?}"),
        }
        c.labels.insert(
            LABEL_CONFIG_FILES.into(),
            "/nonexistent/compose.yaml".into(),
        );
        assert!(matches!(depends_on(&c), DependsFacts::Unknown { .. }));
        // podman-compose names the files relative to the working_dir label
        c.labels
            .insert(LABEL_CONFIG_FILES.into(), "docker-compose.yml".into());
        c.labels
            .insert(LABEL_WORKING_DIR.into(), dir.path().display().to_string());
        match depends_on(&c) {
            DependsFacts::Known { entries, .. } => assert_eq!(entries[0].on, "db"),
            other => panic!("{other:?}"),
        }
    }
}

//! The labels Compose (v2, v1, and Podman's compose) puts on what it creates: discovery goes by
//! these, never by container names.

pub const LABEL_PROJECT: &str = "com.docker.compose.project";
pub const LABEL_SERVICE: &str = "com.docker.compose.service";
pub const LABEL_WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const LABEL_CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const LABEL_DEPENDS_ON: &str = "com.docker.compose.depends_on";
pub const LABEL_ONEOFF: &str = "com.docker.compose.oneoff";

/// One entry of a service's depends_on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DependsEntry {
    pub on: String,
    pub condition: String,
}

/// Parse the v2 label: `db:service_healthy:false,redis:service_started:true`.
pub fn parse_depends_label(label: &str) -> Vec<DependsEntry> {
    label
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|item| {
            let mut parts = item.trim().split(':');
            let on = parts.next().unwrap_or_default().to_string();
            let condition = parts
                .next()
                .filter(|c| !c.is_empty())
                .unwrap_or("service_started")
                .to_string();
            DependsEntry { on, condition }
        })
        .collect()
}

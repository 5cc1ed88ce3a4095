//! A compose project of this lab running from another folder: `docker compose` here would act
//! on the same project name, and labcheck would check that stack as the learner's.

use std::path::Path;

use super::{Finding, Level};

/// A compose project on the engine (from its containers' labels).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub project: String,
    /// `com.docker.compose.project.working_dir`
    pub working_dir: Option<String>,
    pub services: Vec<String>,
}

/// Whether a project is this lab's: it has the lab's compose project name, or every service
/// the lab checks.
pub fn is_labs(r: &Running, name: Option<&str>, services: &[String]) -> bool {
    name == Some(r.project.as_str())
        || (!services.is_empty() && services.iter().all(|s| r.services.contains(s)))
}

/// One finding per project of this lab, judged against the current folder.
pub fn findings(labs: &[&Running], cwd: &Path) -> Vec<Finding> {
    if labs.is_empty() {
        return vec![Finding::ok(
            "project",
            "no compose project of this lab is up yet",
        )];
    }
    labs.iter()
        .map(|r| match &r.working_dir {
            // a folder of another machine (a remote engine), or of the host when doctor runs
            // in a container: nothing to compare with
            Some(dir) if !Path::new(dir).is_dir() => Finding::ok(
                "project",
                format!("the project {} of this lab runs from {dir}, a folder not visible here", r.project),
            ),
            Some(dir) if !same_dir(Path::new(dir), cwd) => Finding::new(
                "project",
                Level::Warn,
                format!("the project {} of this lab runs from {dir}, not from this folder", r.project),
                format!(
                    "`docker compose` here acts on the project name: `up` would replace its containers with this folder's files, and labcheck checks it as yours (`-p {}`)",
                    r.project
                ),
                Some(format!("work in that folder (`cd {dir}`), or stop it there first: `docker compose -p {} down`", r.project)),
            ),
            Some(_) => Finding::ok("project", format!("the project {} of this lab runs from this folder", r.project)),
            None => Finding::ok("project", format!("the project {} of this lab is up (its folder is not recorded)", r.project)),
        })
        .collect()
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(project: &str, dir: Option<&str>) -> Running {
        Running {
            project: project.into(),
            working_dir: dir.map(Into::into),
            services: vec!["web".into(), "db".into()],
        }
    }

    #[test]
    fn a_project_from_another_folder_warns_with_where_it_is() {
        let tmp = tempfile::tempdir().unwrap();
        let (old, here) = (tmp.path().join("old"), tmp.path().join("here"));
        std::fs::create_dir_all(&old).unwrap();
        std::fs::create_dir_all(&here).unwrap();
        let r = running("phase-3", Some(old.to_str().unwrap()));
        let f = findings(&[&r], &here);
        assert_eq!(f[0].level, Level::Warn);
        let fix = f[0].fix.as_deref().unwrap();
        assert!(fix.contains(&format!("cd {}", old.display())), "{fix}");
        assert_eq!(findings(&[&r], &old)[0].level, Level::Ok);
        let remote = running("phase-3", Some("/nonexistent/ann/phase-3"));
        let f = findings(&[&remote], &here);
        assert_eq!(f[0].level, Level::Ok);
        assert!(
            f[0].what.ends_with("a folder not visible here"),
            "{}",
            f[0].what
        );
        assert_eq!(findings(&[], Path::new("/"))[0].level, Level::Ok);
    }

    #[test]
    fn a_project_is_the_labs_by_name_or_by_its_services() {
        let services = ["web".to_string(), "db".to_string()];
        assert!(is_labs(&running("phase-3", None), Some("phase-3"), &[]));
        assert!(is_labs(&running("mine", None), Some("phase-3"), &services));
        let other = Running {
            services: vec!["web".into()],
            ..running("other", None)
        };
        assert!(!is_labs(&other, Some("phase-3"), &services));
    }
}

//! The lab's files in the learner's folder (compose file, .env, Dockerfile, app code), watched
//! with `notify` (inotify on Linux).

use std::path::{Component, Path, PathBuf};

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedSender;

use super::Trigger;

/// The names Compose looks for: a folder with one of them is a lab folder.
const COMPOSE_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// Folders whose files are not the lab's (caches, tools, dependencies).
const SKIP_DIRS: &[&str] = &[
    ".git",
    "__pycache__",
    "node_modules",
    "target",
    ".venv",
    "venv",
    ".mypy_cache",
    ".pytest_cache",
];

/// Whether a change to `path` (inside the watched folder) can change the stack: not an editor's
/// swap or backup file, not a cache, not a hidden file other than `.env*` and `.dockerignore`.
pub fn counts(path: &Path) -> bool {
    if path.components().any(|c| match c {
        Component::Normal(n) => SKIP_DIRS.iter().any(|d| n == *d),
        _ => false,
    }) {
        return false;
    }
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let editor_noise = name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name.ends_with(".pyc")
        || name.starts_with(".#")
        || name == "4913"; // vim's write test
    let hidden_ok = name.starts_with(".env") || name == ".dockerignore";
    !editor_noise && (!name.starts_with('.') || hidden_ok)
}

/// Does `dir` hold a compose file?
pub fn is_lab_folder(dir: &Path) -> bool {
    COMPOSE_FILES.iter().any(|f| dir.join(f).is_file())
}

/// Watches `dir` recursively; each change that [`counts`] becomes [`Trigger::File`] with the
/// path relative to `dir`. Keep the watcher: dropping it stops the watch.
pub fn watch(dir: &Path, tx: UnboundedSender<Trigger>) -> Result<RecommendedWatcher, String> {
    let root = dir.to_path_buf();
    let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(ev) = res else { return };
        // an open or a read is not a change; a close after writing is
        let change = match ev.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) | EventKind::Other | EventKind::Any => false,
            EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        };
        if !change {
            return;
        }
        for p in ev.paths {
            let rel = p.strip_prefix(&root).map(Path::to_path_buf).unwrap_or(p);
            if counts(&rel) {
                let _ = tx.send(Trigger::File(rel));
            }
        }
    })
    .map_err(|e| e.to_string())?;
    w.watch(dir, RecursiveMode::Recursive)
        .map_err(|e| e.to_string())?;
    Ok(w)
}

/// What to do when the folder cannot be watched, for the screen.
pub fn unavailable(dir: &Path, why: &str) -> String {
    let limit = if why.contains("inotify")
        || why.contains("No space left")
        || why.contains("Too many")
    {
        " (raise the limit: `sudo sysctl fs.inotify.max_user_watches=524288`, or close other watchers)"
    } else {
        ""
    };
    format!(
        "not watching files in {}: {why}{limit}; after you edit, press Enter to re-check (Docker events still re-check)",
        dir.display()
    )
}

/// The folder whose files to watch: the project's working directory (from its labels) when it
/// is on this machine, else `cwd`.
pub fn folder(working_dir: Option<&str>, cwd: &Path) -> PathBuf {
    match working_dir.map(PathBuf::from) {
        Some(d) if d.is_dir() => d,
        _ => cwd.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_labs_files_count_and_editor_noise_does_not() {
        for p in [
            "compose.yaml",
            ".env",
            "app/app.py",
            "Dockerfile",
            "db/init.sql",
            ".env.local",
        ] {
            assert!(counts(Path::new(p)), "{p}");
        }
        for p in [
            ".compose.yaml.swp",
            "app.py~",
            ".#app.py",
            "4913",
            ".git/index",
            "app/__pycache__/app.cpython-311.pyc",
            ".idea",
            "node_modules/x/index.js",
        ] {
            assert!(!counts(Path::new(p)), "{p}");
        }
    }

    #[test]
    fn a_missing_inotify_budget_says_how_to_raise_it() {
        let m = unavailable(Path::new("/lab"), "OS file watch limit reached (inotify)");
        assert!(
            m.contains("max_user_watches") && m.contains("press Enter"),
            "{m}"
        );
    }

    #[tokio::test]
    async fn an_edit_to_env_is_seen_and_a_swap_file_is_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), "services: {}\n").unwrap();
        assert!(is_lab_folder(dir.path()));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _w = watch(dir.path(), tx).unwrap();
        std::fs::write(dir.path().join(".env.swp"), "x").unwrap();
        std::fs::write(dir.path().join(".env"), "A=1\n").unwrap();
        let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("an event within 5 s")
            .unwrap();
        assert!(
            matches!(&first, Trigger::File(p) if p == Path::new(".env")),
            "{first:?}"
        );
    }
}

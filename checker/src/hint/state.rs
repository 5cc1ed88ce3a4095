//! How far each learner got in each check's hints: `hints.json` in the user's state folder
//! (`$XDG_STATE_HOME/labcheck`, else `~/.local/state/labcheck`), beside the progress file.
//! Versioned, updated under a lock and replaced atomically (write a temporary file, rename).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file name in the state folder.
pub const FILE: &str = "hints.json";
/// The only version this labcheck writes and reads.
pub const VERSION: u32 = 1;

/// Lab id -> check id -> the highest level revealed (1 nudge .. 4 fix).
pub type Revealed = BTreeMap<String, BTreeMap<String, u8>>;

#[derive(Serialize, Deserialize, Default)]
struct Doc {
    version: u32,
    #[serde(default)]
    labs: Revealed,
}

/// labcheck's state folder: `$XDG_STATE_HOME/labcheck` (an absolute path, as the XDG spec
/// asks), else `$HOME/.local/state/labcheck`; None when neither is known.
pub fn state_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg.or_else(|| {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".local").join("state"))
    })?;
    Some(base.join("labcheck"))
}

/// The hint levels revealed per lab and check, as recorded in `dir` (what `labcheck progress`
/// counts). No file is nothing revealed; a file that is not ours to read is an error.
pub fn revealed(dir: &Path) -> Result<Revealed, String> {
    read(&dir.join(FILE)).map(|d| d.labs)
}

fn read(path: &Path) -> Result<Doc, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Doc {
                version: VERSION,
                ..Default::default()
            })
        }
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let doc: Doc = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not a hints file labcheck can read: {e}",
            path.display()
        )
    })?;
    if doc.version != VERSION {
        return Err(format!(
            "{} has version {}; this labcheck reads version {VERSION}",
            path.display(),
            doc.version
        ));
    }
    Ok(doc)
}

/// Change the record in `dir` under an exclusive lock (two labcheck runs at once lose nothing)
/// and return what it holds afterwards, with a note when an unreadable file was set aside.
pub fn update(
    dir: &Path,
    change: impl FnOnce(&mut Revealed),
) -> Result<(Revealed, Option<String>), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let lock_path = dir.join("hints.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;

    let path = dir.join(FILE);
    let mut note = None;
    let mut doc = match read(&path) {
        Ok(doc) => doc,
        // Never overwrite what we cannot read: keep it aside and start afresh.
        Err(why) => {
            let aside = aside_name(&path);
            std::fs::rename(&path, &aside)
                .map_err(|e| format!("{why}; and cannot move it aside: {e}"))?;
            note = Some(format!("{why}; kept it as {}", aside.display()));
            Doc {
                version: VERSION,
                ..Default::default()
            }
        }
    };
    change(&mut doc.labs);
    doc.labs.retain(|_, checks| !checks.is_empty());
    let mut text = serde_json::to_string_pretty(&doc).expect("hints state serialises");
    text.push('\n');
    let tmp = dir.join(format!("{FILE}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("cannot write {}: {e}", path.display())
        })?;
    Ok((doc.labs, note))
}

/// `hints.json.unreadable-<unix seconds>`, a name that does not exist yet.
fn aside_name(path: &Path) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut n = 0;
    loop {
        let suffix = if n == 0 {
            format!("unreadable-{secs}")
        } else {
            format!("unreadable-{secs}-{n}")
        };
        let p = path.with_extension(format!("json.{suffix}"));
        if !p.exists() {
            return p;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_recorded_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(revealed(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn an_update_is_read_back_and_empty_labs_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        update(dir.path(), |r| {
            r.entry("phase-3".into())
                .or_default()
                .insert("db-healthy".into(), 2);
            r.entry("phase-1".into()).or_default();
        })
        .unwrap();
        let r = revealed(dir.path()).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r["phase-3"]["db-healthy"], 2);
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(text.contains("\"version\": 1"), "{text}");
    }

    #[test]
    fn an_unreadable_file_is_an_error_to_readers_and_kept_aside_by_writers() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "{not json").unwrap();
        let e = revealed(dir.path()).unwrap_err();
        assert!(e.contains("not a hints file"), "{e}");
        let (r, note) = update(dir.path(), |r| {
            r.entry("phase-2".into())
                .or_default()
                .insert("web-running".into(), 1);
        })
        .unwrap();
        assert_eq!(r["phase-2"]["web-running"], 1);
        let note = note.unwrap();
        assert!(note.contains("kept it as"), "{note}");
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("unreadable-"))
            .collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(
            std::fs::read_to_string(aside[0].path()).unwrap(),
            "{not json"
        );
    }

    #[test]
    fn a_future_version_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), r#"{"version": 2, "labs": {}}"#).unwrap();
        let e = revealed(dir.path()).unwrap_err();
        assert!(
            e.contains("version 2") && e.contains("reads version 1"),
            "{e}"
        );
    }

    #[test]
    fn concurrent_updates_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let d = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    update(&d, |r| {
                        r.entry("phase-3".into())
                            .or_default()
                            .insert(format!("check-{i}"), 1);
                    })
                    .unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(revealed(dir.path()).unwrap()["phase-3"].len(), 8);
    }
}

//! Where `progress.json` lives and how it is read and written: under an exclusive lock on
//! `progress.lock` (two labcheck processes at once both land), through a temporary file in the
//! same folder renamed over the old one (a crash leaves the old file or the new, never half of
//! one). A file that cannot be read (damaged, or written by a newer labcheck) is renamed to
//! `progress.json.corrupt-<timestamp>` and reported, never overwritten.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use fs4::fs_std::FileExt;

use super::{Progress, SCHEMA, VERSION};

/// The file's name in the state folder.
pub const FILE: &str = "progress.json";
const LOCK: &str = "progress.lock";
/// Longest a writer waits for another one to finish (a write takes milliseconds).
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The state folder: `$LABCHECK_STATE_DIR`, else `$XDG_STATE_HOME/labcheck`, else
/// `~/.local/state/labcheck`.
pub fn state_dir() -> Result<PathBuf, String> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = var("LABCHECK_STATE_DIR") {
        return Ok(d);
    }
    if let Some(d) = var("XDG_STATE_HOME") {
        return Ok(d.join("labcheck"));
    }
    var("HOME")
        .map(|h| h.join(".local/state/labcheck"))
        .ok_or_else(|| {
            "no state folder: set $LABCHECK_STATE_DIR, $XDG_STATE_HOME or $HOME".to_string()
        })
}

/// A damaged or newer file that was moved aside.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptAside {
    pub file: PathBuf,
    pub aside: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for KeptAside {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} could not be used ({}); it is kept as {} and a new progress file was started",
            self.file.display(),
            self.reason,
            self.aside.display()
        )
    }
}

/// The progress file in one folder.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// The document read, and the damaged file moved aside on the way, if any.
#[derive(Debug)]
pub struct Loaded {
    pub progress: Progress,
    pub kept_aside: Option<KeptAside>,
}

/// Holds the lock while alive.
struct Locked(File);

impl Drop for Locked {
    fn drop(&mut self) {
        let _ = FileExt::unlock(&self.0);
    }
}

impl Store {
    pub fn at(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    /// The store in [`state_dir`].
    pub fn default_place() -> Result<Store, String> {
        state_dir().map(Store::at)
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> Result<Locked, String> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let path = self.dir.join(LOCK);
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            match f.try_lock_exclusive() {
                Ok(true) => return Ok(Locked(f)),
                Ok(false) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Ok(false) => {
                    return Err(format!(
                        "{} stayed locked for {} s (another labcheck is writing it)",
                        path.display(),
                        LOCK_WAIT.as_secs()
                    ))
                }
                Err(e) => return Err(format!("cannot lock {}: {e}", path.display())),
            }
        }
    }

    /// Read the file (under the lock). A missing file is an empty progress.
    pub fn load(&self) -> Result<Loaded, String> {
        let _lock = self.lock()?;
        self.read_locked()
    }

    /// Read, change with `f`, write back: all under the lock.
    pub fn update(&self, f: impl FnOnce(&mut Progress)) -> Result<Loaded, String> {
        let _lock = self.lock()?;
        let mut loaded = self.read_locked()?;
        f(&mut loaded.progress);
        write_atomic(&self.path(), &loaded.progress)?;
        Ok(loaded)
    }

    fn read_locked(&self) -> Result<Loaded, String> {
        let path = self.path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Loaded {
                    progress: Progress::default(),
                    kept_aside: None,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return self.aside(&path, "it is not UTF-8 text".into())
            }
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        match parse(&text) {
            Ok(progress) => Ok(Loaded {
                progress,
                kept_aside: None,
            }),
            Err(reason) => self.aside(&path, reason),
        }
    }

    fn aside(&self, path: &Path, reason: String) -> Result<Loaded, String> {
        let stamp = super::stamp(SystemTime::now()).replace([':', '-'], "");
        let mut aside = self.dir.join(format!("{FILE}.corrupt-{stamp}"));
        let mut n = 2;
        while aside.exists() {
            aside = self.dir.join(format!("{FILE}.corrupt-{stamp}-{n}"));
            n += 1;
        }
        std::fs::rename(path, &aside).map_err(|e| {
            format!(
                "{} could not be used ({reason}), and moving it aside failed: {e}",
                path.display()
            )
        })?;
        Ok(Loaded {
            progress: Progress::default(),
            kept_aside: Some(KeptAside {
                file: path.to_path_buf(),
                aside,
                reason,
            }),
        })
    }
}

/// The document from its text: schema and version first, so a newer file is named as such.
pub fn parse(text: &str) -> Result<Progress, String> {
    #[derive(serde::Deserialize)]
    struct Head {
        schema: Option<String>,
        version: Option<serde_json::Value>,
    }
    let head: Head =
        serde_json::from_str(text).map_err(|e| format!("it is not valid JSON: {e}"))?;
    match head.schema.as_deref() {
        Some(SCHEMA) => {}
        Some(other) => return Err(format!("its schema is `{other}`, not `{SCHEMA}`")),
        None => return Err(format!("it has no `schema: \"{SCHEMA}\"`")),
    }
    match head.version.as_ref().and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(VERSION) => {}
        Some(v) if v > u64::from(VERSION) => {
            return Err(format!(
                "it is version {v}, written by a newer labcheck; this one reads version {VERSION}"
            ))
        }
        _ => {
            return Err(format!(
                "its version is {}, not {VERSION}",
                head.version
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "missing".into())
            ))
        }
    }
    serde_json::from_str(text).map_err(|e| format!("it does not match version {VERSION}: {e}"))
}

/// Write `p` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, p: &Progress) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut text = serde_json::to_string_pretty(p).map_err(|e| e.to_string())?;
    text.push('\n');
    let mut tmp = tempfile::Builder::new()
        .prefix(".progress-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| format!("cannot write {}: {e}", tmp.path().display()))?;
    tmp.persist(path)
        .map_err(|e| format!("cannot replace {}: {}", path.display(), e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::RunOutcome;

    fn run() -> RunOutcome {
        RunOutcome {
            green: false,
            passed: 1,
            total: 2,
            drills_passed: vec![],
        }
    }

    #[test]
    fn a_missing_file_is_empty_progress_and_the_first_update_creates_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::at(dir.path().join("deep/state"));
        assert!(s.load().unwrap().progress.labs.is_empty());
        s.update(|p| p.record("phase-1", SystemTime::now(), &run()))
            .unwrap();
        let text = std::fs::read_to_string(s.path()).unwrap();
        assert!(text.contains("\"schema\": \"labcheck-progress\""), "{text}");
        assert_eq!(s.load().unwrap().progress.labs["phase-1"].runs, 1);
    }

    #[test]
    fn a_damaged_file_is_kept_aside_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::at(dir.path());
        std::fs::write(s.path(), "{\"schema\": \"labcheck-progress\", \"vers").unwrap();
        let loaded = s
            .update(|p| p.record("phase-1", SystemTime::now(), &run()))
            .unwrap();
        let kept = loaded.kept_aside.expect("reported");
        assert!(kept.reason.contains("not valid JSON"), "{}", kept.reason);
        let name = kept
            .aside
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with("progress.json.corrupt-"), "{name}");
        assert_eq!(
            std::fs::read_to_string(&kept.aside).unwrap(),
            "{\"schema\": \"labcheck-progress\", \"vers"
        );
        assert_eq!(s.load().unwrap().progress.labs["phase-1"].runs, 1);
    }

    #[test]
    fn a_newer_version_is_named_and_kept() {
        let e = parse(r#"{"schema":"labcheck-progress","version":2,"labs":{},"learner":"x"}"#)
            .unwrap_err();
        assert_eq!(
            e,
            "it is version 2, written by a newer labcheck; this one reads version 1"
        );
        let dir = tempfile::tempdir().unwrap();
        let s = Store::at(dir.path());
        std::fs::write(s.path(), r#"{"schema":"labcheck-progress","version":2}"#).unwrap();
        let l = s.load().unwrap();
        assert!(l.kept_aside.is_some());
        assert!(!s.path().exists(), "moved aside, not left in place");
    }

    #[test]
    fn other_documents_and_shapes_are_refused_with_the_reason() {
        assert!(parse(r#"{"schema":"labcheck-report","version":1}"#)
            .unwrap_err()
            .contains("`labcheck-report`"));
        assert!(parse(r#"{"version":1}"#)
            .unwrap_err()
            .contains("no `schema"));
        assert!(parse(r#"{"schema":"labcheck-progress","version":"1"}"#)
            .unwrap_err()
            .contains("its version is \"1\""));
        assert!(
            parse(r#"{"schema":"labcheck-progress","version":1,"labs":{"p":{"runs":1}}}"#)
                .unwrap_err()
                .contains("does not match version 1")
        );
    }

    #[test]
    fn writers_on_many_threads_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::at(dir.path());
        std::thread::scope(|scope| {
            for i in 0..8 {
                let s = s.clone();
                scope.spawn(move || {
                    for _ in 0..25 {
                        let lab = format!("phase-{}", i % 3);
                        s.update(|p| p.record(&lab, SystemTime::now(), &run()))
                            .unwrap();
                    }
                });
            }
        });
        let p = s.load().unwrap().progress;
        let runs: u64 = p.labs.values().map(|l| l.runs).sum();
        assert_eq!(runs, 200);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

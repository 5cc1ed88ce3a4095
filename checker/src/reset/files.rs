//! The learner's folder in a reset: copied whole to `<folder>.backup-<timestamp>` first, then
//! emptied and filled with the lab's starter (or solution).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Compose file names (and a plain-containers lab's script) that mark a lab folder: a reset
/// refuses a folder with none of them, so it never empties a home folder by mistake.
const MARKERS: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
    "up.sh",
];

/// Whether `dir` may be reset: missing, empty, or holding a compose file (or `up.sh`).
pub fn looks_like_a_lab_folder(dir: &Path) -> bool {
    match fs::read_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => true,
        Err(_) => false,
        Ok(mut entries) => {
            entries.next().is_none() || MARKERS.iter().any(|m| dir.join(m).is_file())
        }
    }
}

/// Every file (and symlink) under `dir`, relative, sorted; directories are not listed.
pub fn list(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    walk(dir, Path::new(""), &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for e in fs::read_dir(root.join(rel))? {
        let e = e?;
        let r = rel.join(e.file_name());
        if e.file_type()?.is_dir() {
            walk(root, &r, out)?;
        } else {
            out.push(r);
        }
    }
    Ok(())
}

/// Copy `from` to `to` (which must not exist): files with their permissions, symlinks as
/// symlinks.
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let err = |p: &Path, e: io::Error| format!("copying {}: {e}", p.display());
    fs::create_dir(to).map_err(|e| err(to, e))?;
    for e in fs::read_dir(from).map_err(|e| err(from, e))? {
        let e = e.map_err(|e| err(from, e))?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let kind = e.file_type().map_err(|e| err(&src, e))?;
        if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&src).map_err(|e| err(&src, e))?;
            symlink(&target, &dst).map_err(|e| err(&src, e))?;
        } else {
            fs::copy(&src, &dst).map_err(|e| err(&src, e))?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    fs::copy(target, link).map(|_| ())
}

/// `<folder>.backup-<stamp>` (with `-2`, `-3`, ... if that is taken).
pub fn backup_path(folder: &Path, stamp: &str) -> PathBuf {
    let name = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "lab".into());
    let mut p = folder.with_file_name(format!("{name}.backup-{stamp}"));
    let mut n = 2;
    while p.exists() {
        p = folder.with_file_name(format!("{name}.backup-{stamp}-{n}"));
        n += 1;
    }
    p
}

/// Empty `folder` (keeping the folder itself: a shell may be in it) and copy `source` in.
/// Returns the files removed and the files laid down.
pub fn lay_down(source: &Path, folder: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), String> {
    let removed = if folder.exists() {
        let listed = list(folder).map_err(|e| format!("reading {}: {e}", folder.display()))?;
        for e in fs::read_dir(folder).map_err(|e| format!("reading {}: {e}", folder.display()))? {
            let p = e.map_err(|e| e.to_string())?.path();
            let gone = if p.is_dir() && !p.is_symlink() {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
            gone.map_err(|e| {
                format!(
                    "removing {}: {e} (a container may have written it as another user: remove it with sudo, then run the reset again)",
                    p.display()
                )
            })?;
        }
        listed
    } else {
        Vec::new()
    };
    // Copy into a fresh sibling, then move its entries in: the folder is never half old.
    let staging = folder.with_file_name(format!(
        ".{}.reset-tmp",
        folder.file_name().unwrap_or_default().to_string_lossy()
    ));
    let _ = fs::remove_dir_all(&staging);
    copy_tree(source, &staging)?;
    fs::create_dir_all(folder).map_err(|e| format!("creating {}: {e}", folder.display()))?;
    for e in fs::read_dir(&staging).map_err(|e| e.to_string())? {
        let e = e.map_err(|e| e.to_string())?;
        fs::rename(e.path(), folder.join(e.file_name()))
            .map_err(|err| format!("moving {} into place: {err}", e.path().display()))?;
    }
    let _ = fs::remove_dir(&staging);
    let added = list(folder).map_err(|e| e.to_string())?;
    Ok((removed, added))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(root: &Path, files: &[(&str, &str)]) {
        for (p, text) in files {
            let p = root.join(p);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
    }

    #[test]
    fn lays_down_the_source_and_lists_what_it_removed() {
        let d = tempfile::tempdir().unwrap();
        let (src, work) = (d.path().join("starter"), d.path().join("work"));
        tree(
            &src,
            &[("compose.yaml", "starter"), ("app/app.py", "print(1)")],
        );
        tree(
            &work,
            &[
                ("compose.yaml", "mine"),
                ("notes.txt", "n"),
                ("app/app.py", "x"),
            ],
        );
        let (removed, added) = lay_down(&src, &work).unwrap();
        let names = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter().map(|p| p.display().to_string()).collect()
        };
        assert_eq!(names(removed), ["app/app.py", "compose.yaml", "notes.txt"]);
        assert_eq!(names(added), ["app/app.py", "compose.yaml"]);
        assert_eq!(
            fs::read_to_string(work.join("compose.yaml")).unwrap(),
            "starter"
        );
        assert!(!work.join("notes.txt").exists());
        assert!(!d.path().join(".work.reset-tmp").exists());
    }

    #[test]
    fn a_backup_is_a_full_copy_beside_the_folder_and_never_reused() {
        let d = tempfile::tempdir().unwrap();
        let work = d.path().join("work");
        tree(&work, &[("compose.yaml", "mine"), ("a/b/c.txt", "deep")]);
        let b = backup_path(&work, "20261202T010203Z");
        assert_eq!(b, d.path().join("work.backup-20261202T010203Z"));
        copy_tree(&work, &b).unwrap();
        assert_eq!(fs::read_to_string(b.join("a/b/c.txt")).unwrap(), "deep");
        assert_eq!(
            backup_path(&work, "20261202T010203Z"),
            d.path().join("work.backup-20261202T010203Z-2")
        );
    }

    #[test]
    fn only_a_lab_folder_may_be_reset() {
        let d = tempfile::tempdir().unwrap();
        assert!(looks_like_a_lab_folder(&d.path().join("missing")));
        assert!(looks_like_a_lab_folder(d.path()), "empty");
        fs::write(d.path().join(".bashrc"), "x").unwrap();
        assert!(!looks_like_a_lab_folder(d.path()), "a home folder");
        fs::write(d.path().join("compose.yaml"), "x").unwrap();
        assert!(looks_like_a_lab_folder(d.path()));
    }
}

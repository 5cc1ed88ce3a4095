//! Finding the labs folder and a lab in it.

use std::path::{Path, PathBuf};

use crate::error::ToolError;
use crate::lab::{lint::lab_dirs, load_lab, Lab};

/// `--lab-dir`, else `$LABCHECK_LABS`, else a `labs/` folder with labs in it next to the binary
/// or above it (the repo's `target/debug/labcheck`), else above the current folder.
pub fn find(explicit: Option<&Path>) -> Result<PathBuf, ToolError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("LABCHECK_LABS").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let mut starts = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.canonicalize().unwrap_or(exe).parent() {
            starts.push(dir.to_path_buf());
        }
    }
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    for start in starts {
        for dir in start.ancestors() {
            let labs = dir.join("labs");
            if labs.is_dir() && lab_dirs(&labs).map(|d| !d.is_empty()).unwrap_or(false) {
                return Ok(labs);
            }
        }
    }
    Err(ToolError::NoLabDir)
}

/// The book's `src/` folder, when the labs folder sits in a Compose Lab checkout.
pub fn book_src(labs_dir: &Path) -> Option<PathBuf> {
    let src = labs_dir
        .canonicalize()
        .ok()?
        .parent()?
        .join("book")
        .join("src");
    src.is_dir().then_some(src)
}

/// A lab folder's name and its lab, or why it does not load.
pub type Listed = (String, Result<Lab, ToolError>);

/// Every lab folder's name with its loaded lab (or why it does not load).
pub fn list(labs_dir: &Path) -> Result<Vec<Listed>, ToolError> {
    let dirs = lab_dirs(labs_dir).map_err(|_| ToolError::NoLabs(labs_dir.display().to_string()))?;
    if dirs.is_empty() {
        return Err(ToolError::NoLabs(labs_dir.display().to_string()));
    }
    Ok(dirs
        .iter()
        .map(|d| {
            (
                d.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                load_lab(d).map_err(ToolError::from),
            )
        })
        .collect())
}

/// Load the lab `id` (a folder name, or a lab's declared id).
pub fn load(labs_dir: &Path, id: &str) -> Result<Lab, ToolError> {
    let dirs = lab_dirs(labs_dir).map_err(|_| ToolError::NoLabs(labs_dir.display().to_string()))?;
    if dirs.is_empty() {
        return Err(ToolError::NoLabs(labs_dir.display().to_string()));
    }
    if let Some(dir) = dirs
        .iter()
        .find(|d| d.file_name().and_then(|n| n.to_str()) == Some(id))
    {
        return Ok(load_lab(dir)?);
    }
    let known = dirs
        .iter()
        .filter_map(|d| d.file_name().and_then(|n| n.to_str()).map(String::from))
        .collect();
    Err(ToolError::UnknownLab {
        id: id.to_string(),
        known,
    })
}

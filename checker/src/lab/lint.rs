//! `labcheck lint`: every labs/*/lab.toml against its lab folder and the book.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{load_lab, Lab, LoadError, SpecError};

/// The outcome of linting a labs folder.
#[derive(Debug, Default)]
pub struct LintReport {
    /// Labs that loaded (even if they have lint problems).
    pub labs: Vec<String>,
    pub problems: Vec<SpecError>,
    /// Whether book anchors were checked (the book was found).
    pub book_checked: Option<PathBuf>,
}

/// The lab folders (those holding a lab.toml) under `labs_dir`, sorted by name.
pub fn lab_dirs(labs_dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(labs_dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("lab.toml").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Lint every lab under `labs_dir`. `book_src` is the book's `src/` folder, if there is a book.
pub fn lint(labs_dir: &Path, book_src: Option<&Path>) -> std::io::Result<LintReport> {
    let mut report = LintReport {
        book_checked: book_src.map(Path::to_path_buf),
        ..Default::default()
    };
    let mut ids: HashMap<String, PathBuf> = HashMap::new();
    for dir in lab_dirs(labs_dir)? {
        match load_lab(&dir) {
            Err(LoadError::Spec(errs)) => report.problems.extend(errs),
            Err(e @ LoadError::Io { .. }) => {
                report
                    .problems
                    .push(at(&dir.join("lab.toml"), 1, e.to_string()))
            }
            Ok(lab) => {
                if let Some(prev) = ids.insert(lab.id.clone(), lab.file.clone()) {
                    report.problems.push(at(
                        &lab.file,
                        1,
                        format!("lab id `{}` is also used by {}", lab.id, prev.display()),
                    ));
                }
                lint_lab(&lab, book_src, &mut report.problems);
                report.labs.push(lab.id);
            }
        }
    }
    Ok(report)
}

fn at(file: &Path, line: usize, message: String) -> SpecError {
    SpecError {
        file: file.to_path_buf(),
        line,
        column: 1,
        message,
    }
}

/// The checks that need the lab's folder and book (the loader has already checked the rest).
pub fn lint_lab(lab: &Lab, book_src: Option<&Path>, out: &mut Vec<SpecError>) {
    let folder = lab.dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if folder != lab.id {
        out.push(at(
            &lab.file,
            1,
            format!(
                "lab id `{}` differs from its folder name `{folder}`",
                lab.id
            ),
        ));
    }
    let units = lab.target.units();
    for check in &lab.checks {
        for unit in check.kind.units() {
            if !units.iter().any(|u| u == unit) {
                out.push(at(
                    &lab.file,
                    check.line,
                    format!(
                        "check `{}` refers to `{unit}`, which is not in [target] ({})",
                        check.id,
                        units.join(", ")
                    ),
                ));
            }
        }
    }
    // Every check has its four hint levels.
    for check in &lab.checks {
        let missing = check.hints.missing();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|l| l.key()).collect();
            out.push(at(
                &lab.file,
                check.line,
                format!(
                    "check `{}` lacks hint level{} {} in {}: each check needs nudge, concept, see and fix",
                    check.id,
                    if names.len() == 1 { "" } else { "s" },
                    names.join(", "),
                    lab.dir.join(super::hints::FILE).display()
                ),
            ));
        }
    }
    for fault in &lab.faults {
        if !lab.dir.join(&fault.file).is_file() {
            out.push(at(
                &lab.file,
                fault.line,
                format!(
                    "fault file `{}` does not exist in {}",
                    fault.file,
                    lab.dir.display()
                ),
            ));
        }
    }
    let Some(book_src) = book_src else { return };
    let mut pages: HashMap<PathBuf, Option<String>> = HashMap::new();
    for check in &lab.checks {
        let Some(link) = &check.book else { continue };
        let (page, anchor) = link.split_once('#').unwrap_or((link.as_str(), ""));
        let md = book_src.join(page.replace(".html", ".md"));
        let text = pages
            .entry(md.clone())
            .or_insert_with(|| std::fs::read_to_string(&md).ok());
        match text {
            None => out.push(at(
                &lab.file,
                check.line,
                format!(
                    "check `{}`: book page {} does not exist",
                    check.id,
                    md.display()
                ),
            )),
            Some(text) if !anchor.is_empty() && !text.contains(&format!("{{#{anchor}}}")) => out
                .push(at(
                    &lab.file,
                    check.line,
                    format!(
                        "check `{}`: {} has no section with the anchor {{#{anchor}}}",
                        check.id,
                        md.display()
                    ),
                )),
            Some(_) => {}
        }
    }
}

//! `labcheck reset <lab> [--to starter|solution] [--yes] [--dir PATH]`: the steps in a safe
//! order (everything found and asked first, the folder backed up before anything is removed),
//! and a plain account of what was removed.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::files::{backup_path, copy_tree, lay_down, list, looks_like_a_lab_folder};
use super::{find, take_down, Removed, Stack};
use crate::error::ToolError;
use crate::lab::{Lab, Target};
use crate::limits::Timeouts;
use crate::{labs_dir, target};

/// What to lay down.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum To {
    Starter,
    Solution,
}

impl To {
    fn folder(self) -> &'static str {
        match self {
            To::Starter => "starter",
            To::Solution => "solution",
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct ResetArgs {
    /// The lab to start over (e.g. phase-3).
    pub lab: String,

    /// What to lay down in your folder: the lab's starter, or its solution.
    #[arg(long, value_enum, default_value = "starter")]
    pub to: To,

    /// Delete the project's volumes without asking (without a terminal and without --yes they are kept).
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Your lab folder (default: the current folder). A missing folder is created.
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,

    /// The compose project to take down (default: the lab's id, the `name:` in its compose files).
    #[arg(long, short = 'p')]
    pub project: Option<String>,

    /// The Docker engine, as DOCKER_HOST takes it (default: $DOCKER_HOST, else the docker CLI's context, else the local socket).
    #[arg(long, short = 'H', value_name = "URL", conflicts_with = "context")]
    pub host: Option<String>,

    /// The docker CLI context to use.
    #[arg(long, short = 'c', value_name = "NAME")]
    pub context: Option<String>,
}

fn refuse(msg: String) -> ToolError {
    ToolError::Reset(msg)
}

/// The folder as an absolute path (it may not exist yet).
fn absolute(p: &Path) -> PathBuf {
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    p.canonicalize().unwrap_or(p)
}

pub fn run(labs: &Path, a: &ResetArgs) -> Result<u8, ToolError> {
    let lab = labs_dir::load(labs, &a.lab)?;
    let source = lab.dir.join(a.to.folder());
    if !source.is_dir() {
        return Err(refuse(format!(
            "lab {} has no {}/ folder to lay down ({})",
            lab.id,
            a.to.folder(),
            source.display()
        )));
    }
    let folder = absolute(a.dir.as_deref().unwrap_or(Path::new(".")));
    let source = absolute(&source);
    if folder == source || source.starts_with(&folder) {
        return Err(refuse(format!(
            "{} is the lab's own {} ({}) or holds it: labcheck has no other copy of it to lay down. Start a copy elsewhere with `labcheck reset {} --to {} --dir <new folder>`, or get the original back from git (`git checkout -- {}`)",
            folder.display(),
            a.to.folder(),
            source.display(),
            lab.id,
            a.to.folder(),
            folder.display()
        )));
    }
    if !looks_like_a_lab_folder(&folder) {
        return Err(refuse(format!(
            "{} does not look like a lab folder (no compose.yaml or up.sh in it): give the lab folder with --dir",
            folder.display()
        )));
    }
    if a.project.is_some() && matches!(lab.target, Target::Containers { .. }) {
        return Err(ToolError::ProjectNotApplicable {
            lab: lab.id.clone(),
        });
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ToolError::Api(e.to_string()))?;
    let t = Timeouts::default();
    rt.block_on(async {
        let asked = target::Asked::from_env(a.host.clone(), a.context.clone());
        let conn = target::connect_cli(&asked, t, &[]).await?;
        let docker = &conn.engine.docker;
        let stack = find(docker, &t, &lab, a.project.as_deref())
            .await
            .map_err(ToolError::Api)?;
        let (volumes, kept_why) = ask_about_volumes(&stack, a.yes);
        let mut out = header(&lab, a.project.as_deref(), &folder);

        // 1. the backup, before anything is removed
        let had_files = folder.is_dir() && !list(&folder).unwrap_or_default().is_empty();
        if had_files {
            let stamp = crate::progress::stamp(SystemTime::now()).replace([':', '-'], "");
            let to = backup_path(&folder, &stamp);
            copy_tree(&folder, &to).map_err(|e| {
                refuse(format!(
                    "{e}. Nothing was removed: the backup must come first"
                ))
            })?;
            let n = list(&to).map(|l| l.len()).unwrap_or_default();
            out.push_str(&format!("  backup: {} ({n} files)\n", to.display()));
        }
        // 2. the stack
        let removed = match take_down(docker, &t, &stack, volumes).await {
            Ok(r) => r,
            Err((done, e)) => {
                print!("{out}{}", removed_lines(&done, &stack, volumes, kept_why));
                return Err(refuse(format!("{e}; the folder was not changed")));
            }
        };
        out.push_str(&removed_lines(&removed, &stack, volumes, kept_why));
        // 3. the files
        let (gone, added) = lay_down(&source, &folder).map_err(|e| {
            print!("{out}");
            refuse(e)
        })?;
        let shown = |v: &[PathBuf]| {
            v.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !gone.is_empty() {
            out.push_str(&format!(
                "  removed files: {} (all in the backup)\n",
                shown(&gone)
            ));
        }
        out.push_str(&format!(
            "  laid down: the {} of {} ({} files: {})\n",
            a.to.folder(),
            lab.id,
            added.len(),
            shown(&added)
        ));
        out.push_str(&next_step(&lab, &folder));
        print!("{out}");
        Ok(0)
    })
}

fn header(lab: &Lab, project: Option<&str>, folder: &Path) -> String {
    match &lab.target {
        Target::Compose { .. } => format!(
            "Reset of {} (compose project {}) in {}\n",
            lab.id,
            project.unwrap_or(&lab.id),
            folder.display()
        ),
        Target::Containers { .. } => {
            format!(
                "Reset of {} (its named containers and networks) in {}\n",
                lab.id,
                folder.display()
            )
        }
    }
}

/// Whether to delete the volumes, and if not, why (for the account).
fn ask_about_volumes(stack: &Stack, yes: bool) -> (bool, &'static str) {
    if stack.volumes.is_empty() || yes {
        return (true, "");
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return (false, "not deleted: no terminal to ask and no --yes");
    }
    eprint!(
        "Delete the volumes {} too? Their data is lost (the folder backup does not hold it). [y/N] ",
        stack.volumes.join(", ")
    );
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    if matches!(line.trim().to_lowercase().as_str(), "y" | "yes") {
        (true, "")
    } else {
        (false, "not deleted: you answered no")
    }
}

fn removed_lines(r: &Removed, stack: &Stack, volumes: bool, kept_why: &str) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let mut out = format!(
        "  removed containers: {}\n  removed networks: {}\n",
        list(&r.containers),
        list(&r.networks)
    );
    if volumes || stack.volumes.is_empty() {
        out.push_str(&format!("  removed volumes: {}\n", list(&r.volumes)));
    } else {
        out.push_str(&format!(
            "  kept volumes: {} ({kept_why}; `labcheck reset ... --yes` deletes them)\n",
            stack.volumes.join(", ")
        ));
    }
    out
}

fn next_step(lab: &Lab, folder: &Path) -> String {
    match &lab.target {
        Target::Compose { .. } => format!(
            "Next: cd {} && docker compose up -d --build\n",
            folder.display()
        ),
        Target::Containers { .. } => format!(
            "Next: build the containers again from {} as the chapter shows\n",
            folder.display()
        ),
    }
}

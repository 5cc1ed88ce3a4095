//! Exec in a container: capped output, bounded time. Helper containers are in `helper`.

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::Docker;
use futures_util::StreamExt;

use super::{bounded, Timeouts};

/// Most output kept from one exec.
pub const OUTPUT_CAP: usize = 64 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub exit_code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    pub truncated: bool,
}

impl ExecOutput {
    /// The command (or the shell) was not found in the image.
    pub fn tool_missing(&self) -> bool {
        matches!(self.exit_code, Some(126) | Some(127))
            || self.stdout.contains("executable file not found")
            || self.stderr.contains("executable file not found")
    }

    /// stderr, or stdout when stderr is empty, trimmed to its last lines.
    pub fn diagnostic(&self) -> String {
        let text = if self.stderr.trim().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        let lines: Vec<&str> = text.trim().lines().collect();
        lines[lines.len().saturating_sub(3)..].join(" | ")
    }
}

/// Run `cmd` in `container` and collect its output (capped at [`OUTPUT_CAP`]) and exit code.
/// The whole exec, output included, is bounded by `t.exec`: a hung command is an error.
pub async fn exec(
    docker: &Docker,
    t: &Timeouts,
    container: &str,
    cmd: &[&str],
) -> Result<ExecOutput, String> {
    let what = format!("exec `{}` in {}", cmd.join(" "), short(container));
    let run = async {
        let created = docker
            .create_exec(
                container,
                CreateExecOptions {
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(cmd.to_vec()),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        let mut out = match docker
            .start_exec(
                &created.id,
                Some(StartExecOptions {
                    detach: false,
                    tty: false,
                    output_capacity: Some(OUTPUT_CAP),
                }),
            )
            .await
            .map_err(|e| e.to_string())?
        {
            StartExecResults::Attached { output, .. } => collect(output).await?,
            StartExecResults::Detached => ExecOutput::default(),
        };
        let inspect = docker
            .inspect_exec(&created.id)
            .await
            .map_err(|e| e.to_string())?;
        out.exit_code = inspect.exit_code;
        Ok::<_, String>(out)
    };
    bounded(t.exec, &what, run).await
}

/// Read an attached stdout/stderr stream to its end, keeping at most [`OUTPUT_CAP`] bytes.
pub(super) async fn collect(
    mut output: impl futures_util::Stream<Item = Result<LogOutput, bollard::errors::Error>> + Unpin,
) -> Result<ExecOutput, String> {
    let mut out = ExecOutput::default();
    let mut total = 0usize;
    while let Some(chunk) = output.next().await {
        let (is_err, bytes) = match chunk.map_err(|e| e.to_string())? {
            LogOutput::StdErr { message } => (true, message),
            LogOutput::StdOut { message } | LogOutput::Console { message } => (false, message),
            LogOutput::StdIn { .. } => continue,
        };
        let room = OUTPUT_CAP.saturating_sub(total);
        if room == 0 {
            out.truncated = true;
            continue; // drain, so the process can finish
        }
        let take = &bytes[..bytes.len().min(room)];
        out.truncated |= take.len() < bytes.len();
        total += take.len();
        let s = String::from_utf8_lossy(take);
        if is_err {
            out.stderr.push_str(&s)
        } else {
            out.stdout.push_str(&s)
        }
    }
    Ok(out)
}

fn short(id: &str) -> &str {
    if id.len() == 64 {
        &id[..12]
    } else {
        id
    }
}

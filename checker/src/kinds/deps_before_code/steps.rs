//! The steps of an image's history as `deps_before_code` reads them: which COPY/ADD a step
//! records (BuildKit and the classic builder write them differently), and a short line for each.

use crate::kinds::excerpt;

/// A COPY or ADD step of an image's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyStep {
    /// BuildKit records the instruction as written (but without `--from=`): its sources (flags
    /// and destination removed), and whether it copies from another stage or image: `--from=`
    /// when recorded, else sources that are all absolute paths (a build-context source is
    /// relative; measured: BuildKit records `COPY --from=build /venv /venv` as `COPY /venv /venv`).
    Named {
        sources: Vec<String>,
        from_stage: bool,
    },
    /// The classic builder: `COPY file:<hash>` (one file, name not recorded).
    ClassicFile,
    /// The classic builder: `COPY dir:<hash>` (a folder, e.g. `COPY . .`).
    ClassicDir,
    /// The classic builder: `COPY multi:<hash>` (several sources, names not recorded).
    ClassicMulti,
}

/// The COPY/ADD step that a history entry records, if it is one.
pub fn copy_step(created_by: &str) -> Option<CopyStep> {
    let text = created_by.trim();
    if let Some(i) = text.find("#(nop) ") {
        // classic builder: `/bin/sh -c #(nop) COPY file:abc… in /app/ `
        let rest = text[i + 7..].trim_start();
        let (word, args) = rest.split_once(char::is_whitespace)?;
        if !(word == "COPY" || word == "ADD") {
            return None;
        }
        let args: Vec<&str> = args
            .split_whitespace()
            .filter(|a| !a.starts_with("--"))
            .collect();
        let src = args.first().copied().unwrap_or("");
        return Some(if src.starts_with("file:") {
            CopyStep::ClassicFile
        } else if src.starts_with("dir:") {
            CopyStep::ClassicDir
        } else {
            CopyStep::ClassicMulti
        });
    }
    let (word, args) = text.split_once(char::is_whitespace)?;
    if !(word.eq_ignore_ascii_case("COPY") || word.eq_ignore_ascii_case("ADD")) {
        return None;
    }
    let args = args
        .trim()
        .strip_suffix("# buildkit")
        .unwrap_or(args)
        .trim();
    let mut from_stage = false;
    let mut words: Vec<String> = Vec::new();
    let mut rest = args;
    // flags first: --chown=…, --from=…, --link
    while let Some(flag) = rest.strip_prefix("--") {
        let (f, r) = flag.split_once(char::is_whitespace).unwrap_or((flag, ""));
        from_stage |= f.starts_with("from=");
        rest = r.trim_start();
    }
    if rest.starts_with('[') {
        if let Ok(list) = serde_json::from_str::<Vec<String>>(rest) {
            words = list;
        }
    }
    if words.is_empty() {
        words = rest.split_whitespace().map(String::from).collect();
    }
    words.pop(); // the destination
    from_stage |= !words.is_empty() && words.iter().all(|w| w.starts_with('/'));
    Some(CopyStep::Named {
        sources: words,
        from_stage,
    })
}

/// A history entry as a short line for the evidence.
pub fn step_line(created_by: &str) -> String {
    let t = created_by.trim();
    let t = t.strip_prefix("/bin/sh -c ").unwrap_or(t);
    let t = t.strip_prefix("#(nop) ").unwrap_or(t).trim();
    let t = t.strip_suffix("# buildkit").unwrap_or(t).trim();
    let t = match t.strip_prefix("RUN /bin/sh -c ") {
        Some(cmd) => format!("RUN {cmd}"),
        None => t.to_string(),
    };
    excerpt(&t, 90)
}

pub fn is_run(created_by: &str) -> bool {
    let t = created_by.trim();
    t.starts_with("RUN ") || (t.starts_with("/bin/sh -c ") && !t.contains("#(nop)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_steps_are_read_from_both_builders() {
        let named = |s: &[&str]| {
            Some(CopyStep::Named {
                sources: s.iter().map(|x| x.to_string()).collect(),
                from_stage: false,
            })
        };
        assert_eq!(
            copy_step("COPY requirements.txt . # buildkit"),
            named(&["requirements.txt"])
        );
        assert_eq!(copy_step("COPY . . # buildkit"), named(&["."]));
        assert_eq!(
            copy_step("COPY --chown=app:app requirements.txt app.py ./ # buildkit"),
            named(&["requirements.txt", "app.py"])
        );
        assert_eq!(
            copy_step("ADD [\"requirements.txt\", \"/app/\"] # buildkit"),
            named(&["requirements.txt"])
        );
        assert_eq!(
            copy_step("copy requirements.txt ."),
            named(&["requirements.txt"])
        );
        assert_eq!(
            copy_step("COPY --from=build /wheels /wheels # buildkit"),
            Some(CopyStep::Named {
                sources: vec!["/wheels".into()],
                from_stage: true
            })
        );
        // what BuildKit really records for `COPY --from=build /venv /venv`
        assert_eq!(
            copy_step("COPY /venv /venv # buildkit"),
            Some(CopyStep::Named {
                sources: vec!["/venv".into()],
                from_stage: true
            })
        );
        assert_eq!(
            copy_step("/bin/sh -c #(nop) COPY file:5f3c6a in . "),
            Some(CopyStep::ClassicFile)
        );
        assert_eq!(
            copy_step("/bin/sh -c #(nop) COPY dir:9a1b2c in . "),
            Some(CopyStep::ClassicDir)
        );
        assert_eq!(
            copy_step("/bin/sh -c #(nop) COPY multi:77aa in ./ "),
            Some(CopyStep::ClassicMulti)
        );
        assert_eq!(copy_step("/bin/sh -c #(nop)  LABEL a=b"), None);
        assert_eq!(
            copy_step("RUN /bin/sh -c pip install -r requirements.txt # buildkit"),
            None
        );
        assert_eq!(copy_step("/bin/sh -c pip install flask"), None);
        assert_eq!(copy_step(""), None);
    }
}

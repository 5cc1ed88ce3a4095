//! The rules between roles: the ladder (`needs`) is made of behaviours, and a diagnosis names
//! the behaviours it explains, and only a diagnosis does.

use std::collections::HashMap;

use toml::Spanned;

use super::load::Ctx;
use super::{Check, Role};

/// Check `needs` and `explains` against the roles of the checks they name.
pub(super) fn validate(
    cx: &mut Ctx,
    checks: &[Check],
    needs: &[(String, Spanned<String>)],
    explains: &[(String, Spanned<String>)],
) {
    let role: HashMap<&str, Role> = checks.iter().map(|c| (c.id.as_str(), c.role)).collect();
    for (owner, need) in needs {
        match role.get(need.get_ref().as_str()) {
            Some(Role::Behaviour) | None => {}
            Some(r) => cx.err(
                need.span(),
                format!(
                    "check `{owner}` needs `{}`, a {} check: only behaviours form the ladder \
                     (a {} never blocks another check)",
                    need.get_ref(),
                    r.as_str(),
                    r.as_str()
                ),
            ),
        }
    }
    for (owner, target) in explains {
        if role.get(owner.as_str()) != Some(&Role::Diagnosis) {
            cx.err(
                target.span(),
                format!("check `{owner}` has `explains` but is not `role = \"diagnosis\"`"),
            );
            continue;
        }
        match role.get(target.get_ref().as_str()) {
            Some(Role::Behaviour) => {}
            Some(r) => cx.err(
                target.span(),
                format!(
                    "check `{owner}` explains `{}`, a {} check: a diagnosis explains behaviours",
                    target.get_ref(),
                    r.as_str()
                ),
            ),
            None => cx.err(
                target.span(),
                format!(
                    "check `{owner}` explains `{}`, which is not a check of this lab",
                    target.get_ref()
                ),
            ),
        }
    }
    for c in checks.iter().filter(|c| c.role == Role::Diagnosis) {
        if c.explains.is_empty() {
            let at = cx.line_start(c.line);
            cx.err(
                at..at,
                format!(
                    "check `{}` is a diagnosis but names no behaviour in `explains = [...]`",
                    c.id
                ),
            );
        }
    }
}

//! The debugging ladder: the order of the checks by their `needs`, and each one's depth.

use super::Check;
use std::collections::HashMap;

/// A stable topological order of the checks by `needs`: file order, except that a check comes
/// after everything it needs. Unknown needs are ignored here (the loader reports them).
/// On a cycle, returns the ids along it (first id repeated at the end).
pub fn order(checks: &[Check]) -> Result<Vec<usize>, Vec<String>> {
    let index: HashMap<&str, usize> = checks
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    // 0 = unvisited, 1 = on the stack, 2 = done
    let mut state = vec![0u8; checks.len()];
    let mut out = Vec::with_capacity(checks.len());
    let mut stack: Vec<usize> = Vec::new();

    fn visit(
        i: usize,
        checks: &[Check],
        index: &HashMap<&str, usize>,
        state: &mut [u8],
        stack: &mut Vec<usize>,
        out: &mut Vec<usize>,
    ) -> Result<(), Vec<String>> {
        match state[i] {
            2 => return Ok(()),
            1 => {
                let pos = stack.iter().position(|&s| s == i).unwrap_or(0);
                let mut cycle: Vec<String> =
                    stack[pos..].iter().map(|&s| checks[s].id.clone()).collect();
                cycle.push(checks[i].id.clone());
                return Err(cycle);
            }
            _ => {}
        }
        state[i] = 1;
        stack.push(i);
        for n in &checks[i].needs {
            if let Some(&j) = index.get(n.as_str()) {
                visit(j, checks, index, state, stack, out)?;
            }
        }
        stack.pop();
        state[i] = 2;
        out.push(i);
        Ok(())
    }

    for i in 0..checks.len() {
        visit(i, checks, &index, &mut state, &mut stack, &mut out)?;
    }
    Ok(out)
}

/// The depth of each check on the ladder (0 for checks with no needs), for indentation.
pub fn depths(checks: &[Check]) -> HashMap<String, usize> {
    let mut d: HashMap<String, usize> = HashMap::new();
    // checks are in ladder order, so every need is already computed
    for c in checks {
        let depth = c
            .needs
            .iter()
            .filter_map(|n| d.get(n))
            .map(|x| x + 1)
            .max()
            .unwrap_or(0);
        d.insert(c.id.clone(), depth);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Severity;

    fn check(id: &str, needs: &[&str]) -> Check {
        Check {
            id: id.into(),
            title: id.into(),
            points: 1,
            severity: Severity::Fail,
            role: crate::lab::Role::Behaviour,
            explains: vec![],
            needs: needs.iter().map(|s| s.to_string()).collect(),
            hints: Default::default(),
            book: None,
            kind: crate::kinds::Kind::Running(crate::kinds::running::Running {
                service: "db".into(),
            }),
            line: 1,
        }
    }

    fn ids(checks: &[Check], order: &[usize]) -> Vec<String> {
        order.iter().map(|&i| checks[i].id.clone()).collect()
    }

    #[test]
    fn file_order_is_kept_when_needs_point_backwards() {
        let c = vec![check("a", &[]), check("b", &["a"]), check("c", &["a", "b"])];
        assert_eq!(ids(&c, &order(&c).unwrap()), ["a", "b", "c"]);
    }

    #[test]
    fn a_forward_need_moves_the_needed_check_first() {
        let c = vec![check("web", &["db"]), check("x", &[]), check("db", &[])];
        assert_eq!(ids(&c, &order(&c).unwrap()), ["db", "web", "x"]);
    }

    #[test]
    fn cycles_are_reported_with_their_path() {
        let c = vec![check("a", &["c"]), check("b", &["a"]), check("c", &["b"])];
        let cycle = order(&c).unwrap_err();
        assert_eq!(cycle, ["a", "c", "b", "a"]);
    }

    #[test]
    fn depths_follow_the_longest_chain() {
        let c = vec![
            check("a", &[]),
            check("b", &["a"]),
            check("c", &["a", "b"]),
            check("d", &[]),
        ];
        let d = depths(&c);
        assert_eq!((d["a"], d["b"], d["c"], d["d"]), (0, 1, 2, 0));
    }
}

//! Property tests (fuzzing on stable Rust, bounded: a few seconds in all) of everything labcheck
//! parses that a learner, an instructor or a container controls. Seeds: the repo's own lab.toml
//! and compose files, and tests/fuzz/ (see its README). Goal: no panic, and every rejected
//! lab.toml is an error located inside the file.

use std::path::{Path, PathBuf};

use labcheck::lab::{load_str, LoadError};
use proptest::prelude::*;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn seed(name: &str) -> String {
    String::from_utf8_lossy(&std::fs::read(repo().join("checker/tests/fuzz").join(name)).unwrap())
        .into_owned()
}

/// Every file under labs/ whose name ends with `suffix`.
fn lab_files(suffix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![repo().join("labs")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no seeds ending in {suffix}");
    out
}

/// One mutation of a text: truncate, delete, duplicate or replace a line, or insert text.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Delete(usize),
    Duplicate(usize),
    Replace(usize, String),
    Insert(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let junk = prop_oneof![
        // lines that look like TOML or YAML, so the parser gets past the syntax
        "[a-z_]{1,12} = (\"[^\"\\\\]{0,12}\"|-?[0-9]{1,6}|\\[\\]|true|\\{\\}|\\[\"[a-z-]{0,8}\"\\])",
        "  [a-z_]{1,10}: ([a-z0-9:${}_.-]{0,12}|\\[\\]|\\{\\}|\\*a|&a x)",
        "\\[\\[?[a-z_.]{0,12}\\]\\]?",
        any::<String>(),
    ];
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), junk.clone()).prop_map(|(i, s)| Mutation::Replace(i, s)),
        (any::<usize>(), junk).prop_map(|(i, s)| Mutation::Insert(i, s)),
    ]
}

fn apply(text: &str, muts: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for m in muts {
        let n = lines.len().max(1);
        match m {
            Mutation::Truncate(i) => {
                let joined = lines.join("\n");
                let cut = joined
                    .char_indices()
                    .map(|(b, _)| b)
                    .nth(i % joined.chars().count().max(1))
                    .unwrap_or(0);
                lines = joined[..cut].lines().map(str::to_string).collect();
            }
            Mutation::Delete(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Mutation::Duplicate(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Mutation::Replace(i, s) if !lines.is_empty() => lines[i % n] = s.clone(),
            Mutation::Insert(i, s) => lines.insert(i % (lines.len() + 1), s.clone()),
            _ => {}
        }
    }
    lines.join("\n")
}

/// lab.toml: loads or is refused with errors that point inside the file.
fn check_lab(src: &str) {
    let file = Path::new("labs/fuzz/lab.toml");
    match load_str(src, file, Path::new("labs/fuzz")) {
        Ok(lab) => assert!(!lab.checks.is_empty()),
        Err(LoadError::Spec(errors)) => {
            assert!(!errors.is_empty(), "a refusal says why");
            let lines = src.lines().count().max(1) + 1;
            for e in &errors {
                assert!(
                    e.line >= 1 && e.line <= lines && e.column >= 1,
                    "{e} is outside the file ({lines} lines)"
                );
                assert!(
                    !e.message.trim().is_empty(),
                    "an empty message ({e:?}) for:\n{src}"
                );
            }
        }
        Err(other) => panic!("load_str only refuses with spec errors: {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(300),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("regressions"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn lab_toml_mutated(which in any::<usize>(), muts in prop::collection::vec(mutation(), 1..6)) {
        let seeds = lab_files("lab.toml");
        check_lab(&apply(&seeds[which % seeds.len()], &muts));
    }

    #[test]
    fn lab_toml_random(src in any::<String>()) {
        check_lab(&src);
    }

    #[test]
    fn roster_mutated(muts in prop::collection::vec(mutation(), 1..6)) {
        let text = apply(&seed("roster.toml"), &muts);
        if let Err(e) = labcheck::grade::roster::parse(&text, Path::new("/r")) {
            prop_assert!(!e.trim().is_empty());
        }
    }

    #[test]
    fn compose_files_mutated(which in any::<usize>(), muts in prop::collection::vec(mutation(), 1..6)) {
        let seeds = lab_files("compose.yaml");
        let yaml = apply(&seeds[which % seeds.len()], &muts);
        let _ = labcheck::probe::compose::depends_from_yaml(&yaml, "web");
        let _ = labcheck::doctor::compose_file::parse(&yaml, Path::new("/c"), &|_| None);
    }

    #[test]
    fn exec_outputs_random(out in any::<String>()) {
        use labcheck::probe::{compose, ext, net, postgres};
        let _ = net::parse_batch(&out);
        for a in net::parse_getent(&out).iter().chain(net::parse_nslookup(&out).iter()) {
            prop_assert!(!a.is_empty() && !a.contains(char::is_whitespace));
        }
        let _ = postgres::parse_psql(&out);
        let _ = ext::parse_stat(&out);
        let _ = compose::parse_depends_label(&out);
        let _ = labcheck::kinds::cache::parse_redis_int(&out);
    }

    /// What the batch script prints is read back exactly, whatever the names and addresses.
    #[test]
    fn batch_lines_round_trip(
        names in prop::collection::btree_map("[a-z][a-z0-9.-]{0,20}", prop::collection::vec("[0-9a-f.:]{1,39}", 0..5), 0..8),
        connects in prop::collection::btree_map("[a-z][a-z0-9.-]{0,20}:[0-9]{1,5}", prop::option::of("[A-Za-z ]{0,30}"), 0..8),
    ) {
        let mut out = String::new();
        for (n, addrs) in &names {
            out.push_str(&format!("R {n} {}\n", addrs.join(" ")));
        }
        for (t, why) in &connects {
            match why {
                None => out.push_str(&format!("T {t} ok\n")),
                Some(w) => out.push_str(&format!("T {t} fail {w}\n")),
            }
        }
        let f = labcheck::probe::net::parse_batch(&out);
        for (n, addrs) in &names {
            prop_assert_eq!(&f.resolved[n], addrs);
        }
        for (t, why) in &connects {
            let (ok, w) = &f.connected[t];
            prop_assert_eq!(*ok, why.is_none());
            prop_assert_eq!(w.as_str(), why.as_deref().unwrap_or("").trim());
        }
    }
}

/// The hostile seeds: floods and escape codes parse without trouble and in bounded time.
#[test]
fn hostile_seeds() {
    let started = std::time::Instant::now();
    let getent = labcheck::probe::net::parse_getent(&seed("getent-3000.txt"));
    assert_eq!(getent.len(), 3000);
    let ns = labcheck::probe::net::parse_nslookup(&seed("nslookup.txt"));
    assert_eq!(ns, ["172.18.0.2", "fd00::2", "10.0.0.1"]);
    let b = labcheck::probe::net::parse_batch(&seed("batch.txt"));
    assert_eq!(b.resolved["db"], ["172.18.0.2", "fd00::2"]);
    assert!(b.resolved["nope"].is_empty());
    assert_eq!(b.connected["db:6379"], (false, "Connection refused".into()));
    assert!(!b.connected["db:5432"].0, "the last line for a target wins");
    for src in lab_files("lab.toml") {
        check_lab(&src);
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

//! Live: the phase 1 (image) kinds against images built here with BuildKit, as the engine's own
//! answers shape them: the history strings of multi-source, JSON-form and `--chown` COPYs, a user
//! name with uid 0, a numeric user, and an image with no shell at all (the archive API reads its
//! /etc/passwd and looks for paths, no exec). Run at the negotiated API and capped at 1.41.
//! With no reachable engine this test FAILS.

use std::collections::BTreeMap;
use std::path::Path;

use labcheck::report::Status;
use labcheck::RunOptions;

mod common;
use common::{docker, Cleanup};

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

const GOOD: &str = r#"FROM busybox
LABEL org.compose-lab.lab="t"
RUN echo 'app:x:10001:10001::/:/bin/false' >> /etc/passwd && echo 'toor:x:0:0::/:/bin/sh' >> /etc/passwd
WORKDIR /app
COPY --chown=10001 requirements.txt ./
RUN echo "pip install -r requirements.txt" > /installed
COPY . .
USER app
HEALTHCHECK --interval=1s CMD true
CMD ["sleep", "300"]
"#;

/// Code copied with the manifest (JSON form), `pip3 install`, no USER, no HEALTHCHECK, no label,
/// and no .dockerignore: secret.env and tests/ end up in the image.
const BAD: &str = r#"FROM busybox
WORKDIR /app
COPY ["requirements.txt", "app.py", "/app/"]
RUN echo "pip3 install -r requirements.txt" > /installed
COPY . .
CMD ["sleep", "300"]
"#;

/// Dependencies installed in a builder stage: the final history has no install step.
const MULTISTAGE: &str = r#"FROM busybox AS build
COPY requirements.txt /src/
RUN mkdir /venv && echo "pip install -r /src/requirements.txt" > /venv/installed
FROM busybox
COPY --from=build /venv /venv
COPY . /app
CMD ["sleep", "300"]
"#;

/// No shell, no tools: one static binary and a passwd file.
const NOSHELL: &str = r#"FROM busybox AS tools
FROM scratch
COPY --from=tools /bin/busybox /bin/sleep
COPY passwd /etc/passwd
USER app
CMD ["/bin/sleep", "300"]
"#;

#[test]
fn live_image_kinds_on_built_images() {
    let n = format!("lc-img-{}", std::process::id());
    let ctx = tempfile::tempdir().unwrap();
    // Over 100 bytes: the archive API puts the name in an extended (PAX) header first.
    let long = format!("tests/{}.py", "l".repeat(110));
    let app = [
        ("requirements.txt", "flask\n"),
        ("app.py", "print('hi')\n"),
        ("secret.env", "APP_SECRET=x\n"),
        ("tests/test_app.py", "\n"),
        (long.as_str(), "x\n"),
    ];
    let (good, bad, noshell, multi) = (
        ctx.path().join("good"),
        ctx.path().join("bad"),
        ctx.path().join("noshell"),
        ctx.path().join("multi"),
    );
    write(&good, &app);
    write(
        &good,
        &[
            ("Dockerfile", GOOD),
            (
                ".dockerignore",
                "secret.env\ntests\nDockerfile\n.dockerignore\n",
            ),
        ],
    );
    write(&bad, &app);
    write(&bad, &[("Dockerfile", BAD)]);
    write(&multi, &app);
    write(&multi, &[("Dockerfile", MULTISTAGE)]);
    let passwd = "root:x:0:0::/:/bin/false\napp:x:10002:10002::/:/bin/false\n";
    write(&noshell, &[("Dockerfile", NOSHELL), ("passwd", passwd)]);
    let passwd_stat = format!("/etc/passwd (file, {} bytes)", passwd.len());

    let names = ["good", "bad", "toor", "numeric", "noshell", "multi"].map(|s| format!("{n}-{s}"));
    let [c_good, c_bad, c_toor, c_numeric, c_noshell, c_multi] = names.clone();
    // tags first (untagging), then the images by ID
    let mut cleanup = Cleanup::containers(names.clone());
    cleanup.images = ["good", "bad", "noshell", "multi"]
        .iter()
        .map(|s| format!("{n}-{s}:t"))
        .collect();
    for (tag, dir) in [
        ("good", &good),
        ("bad", &bad),
        ("noshell", &noshell),
        ("multi", &multi),
    ] {
        let id = docker(&[
            "build",
            "-q",
            "-t",
            &format!("{n}-{tag}:t"),
            dir.to_str().unwrap(),
        ]);
        cleanup.images.push(id);
    }
    docker(&["run", "-d", "--name", &c_good, &format!("{n}-good:t")]);
    docker(&["run", "-d", "--name", &c_bad, &format!("{n}-bad:t")]);
    docker(&[
        "run",
        "-d",
        "--name",
        &c_toor,
        "--user",
        "toor",
        &format!("{n}-good:t"),
    ]);
    docker(&[
        "run",
        "-d",
        "--name",
        &c_numeric,
        "--user",
        "10001:10001",
        &format!("{n}-bad:t"),
    ]);
    docker(&["run", "-d", "--name", &c_noshell, &format!("{n}-noshell:t")]);
    docker(&["run", "-d", "--name", &c_multi, &format!("{n}-multi:t")]);
    // The tag moves after the start: the checks must still judge the image the container runs.
    docker(&["tag", "busybox", &format!("{n}-good:t")]);

    // (check id, kind fields, expected status, a piece of the message)
    let cases: Vec<(&str, String, Status, &str)> = vec![
        ("good-label", format!("kind = \"image_label\"\nservice = \"{c_good}\"\nlabel = \"org.compose-lab.lab\"\nequals = \"t\""), Status::Pass, "org.compose-lab.lab=t"),
        ("bad-label", format!("kind = \"image_label\"\nservice = \"{c_bad}\"\nlabel = \"org.compose-lab.lab\""), Status::Fail, "label absent"),
        ("good-hc", format!("kind = \"image_healthcheck\"\nservice = \"{c_good}\""), Status::Pass, "has a HEALTHCHECK: true"),
        ("bad-hc", format!("kind = \"image_healthcheck\"\nservice = \"{c_bad}\""), Status::Fail, "no HEALTHCHECK"),
        ("good-user", format!("kind = \"non_root\"\nservice = \"{c_good}\""), Status::Pass, "uid 10001 in the container's /etc/passwd"),
        ("bad-user", format!("kind = \"non_root\"\nservice = \"{c_bad}\""), Status::Fail, "no USER"),
        ("toor-user", format!("kind = \"non_root\"\nservice = \"{c_toor}\""), Status::Fail, "whose uid is 0"),
        ("numeric-user", format!("kind = \"non_root\"\nservice = \"{c_numeric}\""), Status::Pass, "uid 10001"),
        ("noshell-user", format!("kind = \"non_root\"\nservice = \"{c_noshell}\""), Status::Pass, "uid 10002 in the container's /etc/passwd"),
        ("good-paths", format!("kind = \"absent_paths\"\nservice = \"{c_good}\"\npaths = [\"/app/secret.env\", \"/app/tests\"]"), Status::Pass, "none of"),
        (
            "bad-paths",
            format!("kind = \"absent_paths\"\nservice = \"{c_bad}\"\npaths = [\"/app/secret.env\", \"/app/tests\", \"/app/nothing\"]"),
            Status::Fail,
            "present in",
        ),
        ("long-path", format!("kind = \"absent_paths\"\nservice = \"{c_bad}\"\npaths = [\"/app/{long}\"]"), Status::Fail, "(file, 2 bytes)"),
        ("noshell-paths", format!("kind = \"absent_paths\"\nservice = \"{c_noshell}\"\npaths = [\"/app\", \"/etc/passwd\"]"), Status::Fail, passwd_stat.as_str()),
        (
            "good-deps",
            format!("kind = \"deps_before_code\"\nservice = \"{c_good}\"\ninstall = [\"pip install\", \"pip3 install\"]\nmanifest = \"requirements\""),
            Status::Pass,
            "after `COPY --chown=10001 requirements.txt ./`",
        ),
        (
            "bad-deps",
            format!("kind = \"deps_before_code\"\nservice = \"{c_bad}\"\ninstall = [\"pip install\", \"pip3 install\"]\nmanifest = \"requirements\""),
            Status::Fail,
            "app.py is not a dependency manifest",
        ),
        (
            "multi-deps",
            format!("kind = \"deps_before_code\"\nservice = \"{c_multi}\"\ninstall = \"pip install\"\nmanifest = \"requirements\""),
            Status::Pass,
            "from another build stage (`COPY /venv /venv`) before the code (`COPY . /app`)",
        ),
    ];
    let labs = tempfile::tempdir().unwrap();
    let dir = labs.path().join("img");
    std::fs::create_dir_all(&dir).unwrap();
    let mut toml = format!(
        "format_version = 1\nid = \"img\"\ntitle = \"image kinds\"\n[target]\nkind = \"containers\"\ncontainers = [{}]\n",
        names.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
    );
    for (id, fields, _, _) in &cases {
        toml.push_str(&format!(
            "\n[[checks]]\nid = \"{id}\"\ntitle = \"{id}\"\n{fields}\n"
        ));
    }
    std::fs::write(dir.join("lab.toml"), toml).unwrap();
    let lab = labcheck::lab::load_lab(&dir).unwrap();
    let opts = RunOptions {
        project: None,
        cwd: std::env::temp_dir(),
        http_host: None,
        drill: false,
        strict: false,
    };

    for api in [None, Some("1.41")] {
        if let Some(v) = api {
            std::env::set_var("LABCHECK_MAX_API", v);
        }
        let (rt, engine) = common::engine();
        if let Some(v) = api {
            assert_eq!(engine.api_version, v);
        }
        let r = rt
            .block_on(labcheck::run_lab(&engine, &lab, &opts))
            .unwrap();
        let text = labcheck::report::human::render(
            &r,
            &labcheck::report::RenderOptions {
                verbose: true,
                color: false,
                book_url: "http://b/".into(),
                timings: true,
            },
        );
        let got: BTreeMap<&str, (&Status, &str)> = r
            .results
            .iter()
            .map(|c| (c.id.as_str(), (&c.status, c.message.as_str())))
            .collect();
        for (id, _, want, piece) in &cases {
            let (status, message) = got[id];
            assert_eq!(status, want, "{id} at API {}:\n{text}", engine.api_version);
            assert!(
                message.contains(piece),
                "{id}: `{piece}` not in `{message}`\n{text}"
            );
        }
        // what is present is named, what is absent is not
        let bad_paths = got["bad-paths"].1;
        assert!(
            bad_paths.contains("/app/secret.env (file, 13 bytes)")
                && bad_paths.contains("/app/tests (directory)"),
            "{bad_paths}"
        );
        assert!(!bad_paths.contains("/app/nothing"), "{bad_paths}");
        // the retag after the start changed nothing: the container's image is judged by ID
        assert!(text.contains("image: an untagged image"), "{text}");
        eprintln!(
            "[live] image kinds at API {}: {} checks as expected in {:?}",
            engine.api_version,
            cases.len(),
            r.duration
        );
    }
    std::env::remove_var("LABCHECK_MAX_API");
}

//! What the phase 1 (image) probes observe: plain data, so the verdicts in check/image.rs are
//! pure and unit-tested on hand-built facts. Also the pure parsers the probes use (the user
//! field, /etc/passwd, the first entry of a tar stream), tested here.

use std::collections::BTreeMap;

use serde::Serialize;

/// The parts of `GET /images/{id}/json` that the checks read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImageConfigFacts {
    /// The image ID (`sha256:…`).
    pub id: String,
    /// `.RepoTags` (empty for an untagged image).
    pub tags: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// `.Config.Healthcheck.Test`, None when the image sets no health check at all.
    pub healthcheck: Option<Vec<String>>,
}

/// How the uid of a user name was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum UidLookup {
    /// `Config.User` was empty, `root` or a number: nothing to look up.
    NotNeeded,
    /// Found in the container's /etc/passwd (read through the archive API, no exec).
    Passwd(u32),
    /// `id -u` run in the container (as its own user).
    Exec(u32),
    /// Neither worked: why.
    Failed(String),
}

/// One path of `absent_paths`, as `GET /containers/{id}/archive?path=` answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathProbe {
    pub path: String,
    /// Ok(None): absent (404). Ok(Some): present. Err: the probe could not tell.
    pub state: Result<Option<PathStat>, String>,
}

/// A present path, from the first tar header of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathStat {
    /// `file`, `directory`, `symlink`, `other`
    pub kind: String,
    pub size: u64,
}

/// One step of the image's history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    /// `CreatedBy`: `COPY requirements.txt . # buildkit`, `/bin/sh -c #(nop) COPY file:… in . `, …
    pub created_by: String,
}

/// The image's history, oldest first (`deps_before_code`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryFacts {
    /// The image ID.
    pub id: String,
    /// The newest entry's tags: the image's.
    pub tags: Vec<String>,
    pub layers: Vec<Layer>,
}

/// What `Config.User` names: the part before `:` (the group does not matter here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSpec {
    /// Empty (the default), `root`, or uid 0.
    Root,
    Uid(u32),
    Name(String),
}

pub fn user_spec(config_user: &str) -> UserSpec {
    let user = config_user.split(':').next().unwrap_or("").trim();
    match user {
        "" | "root" => UserSpec::Root,
        u => match u.parse::<u32>() {
            Ok(0) => UserSpec::Root,
            Ok(n) => UserSpec::Uid(n),
            Err(_) => UserSpec::Name(u.to_string()),
        },
    }
}

/// The uid of `name` in /etc/passwd text (`name:x:uid:gid:…`).
pub fn passwd_uid(passwd: &str, name: &str) -> Option<u32> {
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        (f.next()? == name).then_some(())?;
        f.next()?;
        f.next()?.trim().parse().ok()
    })
}

/// The first entry of a tar stream (the archive API answers one), or None while the bytes so
/// far don't hold a whole header (extended PAX and GNU long-name headers included).
pub fn tar_first_entry(tar: &[u8]) -> Option<PathStat> {
    let mut archive = tar::Archive::new(tar);
    let entry = archive.entries().ok()?.next()?.ok()?;
    let kind = match entry.header().entry_type() {
        tar::EntryType::Regular | tar::EntryType::Continuous => "file",
        tar::EntryType::Directory => "directory",
        tar::EntryType::Symlink => "symlink",
        tar::EntryType::Link => "hard link",
        _ => "other",
    };
    Some(PathStat {
        kind: kind.into(),
        size: entry.size(),
    })
}

/// The content of the first file in a tar stream (the archive of a single file); None when the
/// stream is cut short.
pub fn tar_first_file(tar: &[u8]) -> Option<String> {
    let mut archive = tar::Archive::new(tar);
    let mut entry = archive.entries().ok()?.next()?.ok()?;
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut entry, &mut body).ok()?;
    (body.len() as u64 == entry.size()).then(|| String::from_utf8_lossy(&body).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_part_decides() {
        assert_eq!(user_spec(""), UserSpec::Root);
        assert_eq!(user_spec("root"), UserSpec::Root);
        assert_eq!(user_spec("0:0"), UserSpec::Root);
        assert_eq!(user_spec("root:app"), UserSpec::Root);
        assert_eq!(user_spec("10001"), UserSpec::Uid(10001));
        assert_eq!(user_spec("10001:10001"), UserSpec::Uid(10001));
        assert_eq!(user_spec("app"), UserSpec::Name("app".into()));
        assert_eq!(user_spec("app:staff"), UserSpec::Name("app".into()));
    }

    #[test]
    fn passwd_lines_give_uids() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\napplication:x:10002:10002::/:/bin/sh\napp:x:10001:999::/home/app:/usr/sbin/nologin\ntoor:x:0:0::/:/bin/sh\n";
        assert_eq!(passwd_uid(passwd, "app"), Some(10001));
        assert_eq!(passwd_uid(passwd, "toor"), Some(0));
        assert_eq!(passwd_uid(passwd, "ap"), None);
        assert_eq!(passwd_uid(passwd, "nobody"), None);
        assert_eq!(passwd_uid("broken", "broken"), None);
    }

    /// A tar stream holding one entry, as the engine writes one.
    fn archive(name: &str, kind: tar::EntryType, body: &[u8]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        if kind == tar::EntryType::Symlink {
            h.set_link_name("target").unwrap();
        }
        b.append_data(&mut h, name, body).unwrap();
        b.into_inner().unwrap()
    }

    #[test]
    fn the_first_entry_gives_kind_and_size() {
        let stat = |kind, body: &[u8]| tar_first_entry(&archive("x", kind, body)).unwrap();
        assert_eq!(
            stat(tar::EntryType::Regular, b"SECRET=1\n"),
            PathStat {
                kind: "file".into(),
                size: 9
            }
        );
        assert_eq!(stat(tar::EntryType::Directory, b"").kind, "directory");
        assert_eq!(stat(tar::EntryType::Symlink, b"").kind, "symlink");
        assert_eq!(stat(tar::EntryType::Fifo, b"").kind, "other");
        // Only the header is needed: the API's stream of a folder is cut after it.
        let big = archive("tests/", tar::EntryType::Regular, &[b'x'; 4096]);
        assert_eq!(tar_first_entry(&big[..512]).unwrap().size, 4096);
        assert_eq!(tar_first_entry(&big[..100]), None);
        assert_eq!(tar_first_entry(&[0u8; 1024]), None);
    }

    #[test]
    fn a_long_name_comes_in_an_extended_header_first() {
        let long = format!("app/{}/.env", "d".repeat(120));
        // The engine (Go's archive/tar) writes a PAX header: records `<len> path=<name>\n`,
        // where len counts the whole record, its own digits included.
        let record = format!(" path={long}\n");
        let len = (1..)
            .map(|d| record.len() + d)
            .find(|n| n.to_string().len() + record.len() == *n)
            .unwrap();
        let mut pax = tar::Header::new_ustar();
        pax.set_entry_type(tar::EntryType::XHeader);
        let record = format!("{len}{record}");
        pax.set_size(record.len() as u64);
        pax.set_path("PaxHeaders/env").unwrap();
        pax.set_cksum();
        let mut tar = pax.as_bytes().to_vec();
        tar.extend(record.as_bytes());
        tar.resize(1024, 0);
        tar.extend(archive(".env", tar::EntryType::Regular, b"A=1\n"));
        assert_eq!(tar_first_entry(&tar).unwrap().size, 4);
        assert_eq!(tar_first_file(&tar).as_deref(), Some("A=1\n"));
        // The tar crate's own builder writes a GNU long-name entry instead.
        let gnu = archive(&long, tar::EntryType::Regular, b"A=1\n");
        assert_eq!(tar_first_file(&gnu).as_deref(), Some("A=1\n"));
    }

    #[test]
    fn the_first_file_of_a_tar_is_read_to_its_size() {
        let body = b"root:x:0:0::/root:/bin/sh\napp:x:10001:10001::/:/bin/false\n";
        let tar = archive("passwd", tar::EntryType::Regular, body);
        let text = tar_first_file(&tar).unwrap();
        assert_eq!(passwd_uid(&text, "app"), Some(10001));
        // cut short: no file
        assert_eq!(tar_first_file(&tar[..520]), None);
    }
}

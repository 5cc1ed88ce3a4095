//! What the phase 1 (image) probes observe: plain data, so the verdicts in check/image.rs are
//! pure and unit-tested on hand-built facts. Also the pure parsers the probes use (the user
//! field, /etc/passwd, a tar header), tested here.

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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ImageFacts {
    /// The container's image config (`image_label`, `image_healthcheck`).
    Config(ImageConfigFacts),
    /// The container's `Config.User` and, for a name, its uid (`non_root`).
    User { config_user: String, uid: UidLookup },
    /// Each path of `absent_paths`.
    Paths(Vec<PathProbe>),
    /// The image's history, oldest first (`deps_before_code`).
    History {
        id: String,
        tags: Vec<String>,
        layers: Vec<Layer>,
    },
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

/// A ustar header block's name, kind and size (the archive API answers a tar stream).
pub fn tar_header(block: &[u8]) -> Option<(String, PathStat)> {
    if block.len() < 512 || block[..512].iter().all(|b| *b == 0) {
        return None;
    }
    let field = |r: std::ops::Range<usize>| {
        let raw = &block[r];
        let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
        String::from_utf8_lossy(&raw[..end]).trim().to_string()
    };
    let name = field(0..100);
    let size = u64::from_str_radix(&field(124..136), 8).ok()?;
    let kind = match block[156] {
        b'0' | 0 | b'7' => "file",
        b'5' => "directory",
        b'2' => "symlink",
        b'1' => "hard link",
        _ => "other",
    };
    Some((
        name,
        PathStat {
            kind: kind.into(),
            size,
        },
    ))
}

/// The content of the first file in a tar stream (the archive of a single file).
pub fn tar_first_file(tar: &[u8]) -> Option<String> {
    let (_, stat) = tar_header(tar.get(..512)?)?;
    let end = 512usize.checked_add(usize::try_from(stat.size).ok()?)?;
    Some(String::from_utf8_lossy(tar.get(512..end)?).into_owned())
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

    /// A minimal ustar header, as the engine writes one.
    fn header(name: &str, size: u64, kind: u8) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let size = format!("{size:011o}\0");
        h[124..136].copy_from_slice(size.as_bytes());
        h[156] = kind;
        h[257..262].copy_from_slice(b"ustar");
        h
    }

    #[test]
    fn tar_headers_give_kind_and_size() {
        assert_eq!(
            tar_header(&header(".env", 24, b'0')),
            Some((
                ".env".into(),
                PathStat {
                    kind: "file".into(),
                    size: 24
                }
            ))
        );
        assert_eq!(
            tar_header(&header("tests/", 0, b'5')).unwrap().1.kind,
            "directory"
        );
        assert_eq!(tar_header(&header("x", 0, b'2')).unwrap().1.kind, "symlink");
        assert_eq!(tar_header(&[0u8; 512]), None);
        assert_eq!(tar_header(&[1u8; 100]), None);
    }

    #[test]
    fn the_first_file_of_a_tar_is_read_to_its_size() {
        let body = b"root:x:0:0::/root:/bin/sh\napp:x:10001:10001::/:/bin/false\n";
        let mut tar = header("passwd", body.len() as u64, b'0');
        tar.extend_from_slice(body);
        tar.resize(512 + 512 + 1024, 0); // padding and the end-of-archive blocks
        let text = tar_first_file(&tar).unwrap();
        assert_eq!(passwd_uid(&text, "app"), Some(10001));
        // cut short: no file
        assert_eq!(tar_first_file(&tar[..520]), None);
    }
}

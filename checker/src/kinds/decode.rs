//! A kind's fields from its lab.toml table: serde does the work (unknown fields refused by each
//! kind's `#[serde(deny_unknown_fields)]`), and the error names the field, so the loader can
//! point at its line and column.

use serde::{Deserialize, Deserializer};

use super::CheckKind;

/// A problem with one field of a check (or with the check as a whole when `field` is None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: Option<String>,
    pub message: String,
}

impl Invalid {
    pub fn field(field: &str, message: impl Into<String>) -> Invalid {
        Invalid {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }
    pub fn check(message: impl Into<String>) -> Invalid {
        Invalid {
            field: None,
            message: message.into(),
        }
    }
}

/// Deserialise kind `T` from `fields`, then apply its own rules.
pub fn decode<T: CheckKind>(fields: toml::Table) -> Result<T, Vec<Invalid>> {
    let kind: T = fields_of(fields).map_err(|e| vec![e])?;
    let problems = kind.validate();
    if problems.is_empty() {
        Ok(kind)
    } else {
        Err(problems)
    }
}

/// Deserialise `T` from a table; the error names the field it is about.
pub fn fields_of<T: serde::de::DeserializeOwned>(fields: toml::Table) -> Result<T, Invalid> {
    serde_path_to_error::deserialize::<_, T>(toml::Value::Table(fields)).map_err(|e| {
        let path = e.path().to_string();
        // toml adds "\nin `field`" to a field type's own message: the field is named apart
        let full = e.into_inner().to_string();
        let message = full.lines().next().unwrap_or_default().trim().to_string();
        // "missing field `x`" and "unknown field `x`" are about the table itself (path "."):
        // the field is the first one the message names.
        let field = match path.as_str() {
            "." | "" => message.split('`').nth(1).map(str::to_string),
            p => p.split(['.', '[']).next().map(str::to_string),
        };
        Invalid { field, message }
    })
}

/// A TCP/UDP port number: 1-65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port(pub u16);

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        match u16::try_from(n) {
            Ok(p) if p > 0 => Ok(Port(p)),
            _ => Err(serde::de::Error::custom(format!(
                "{n} is not a port (1-65535)"
            ))),
        }
    }
}

impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// One string or a list of them (`not = "x"` or `not = ["x", "y"]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::One(s) => OneOrMany(vec![s]),
            Raw::Many(v) => OneOrMany(v),
        })
    }
}

/// A container port as Docker keys it: `5432/tcp`; lab.toml writes `5432` or `"53/udp"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortKey {
    pub port: u16,
    pub proto: String,
}

impl std::fmt::Display for PortKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.port, self.proto)
    }
}

impl<'de> Deserialize<'de> for PortKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        const BAD: &str = "container_port must be a port number or \"<port>/<tcp|udp|sctp>\"";
        let bad = || serde::de::Error::custom(BAD);
        let (num, proto) = match Raw::deserialize(d).map_err(|_| bad())? {
            Raw::Number(n) => (n.to_string(), "tcp".to_string()),
            Raw::Text(s) => match s.split_once('/') {
                Some((n, p)) => (n.to_string(), p.to_string()),
                None => (s, "tcp".to_string()),
            },
        };
        let port = num.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad)?;
        if !["tcp", "udp", "sctp"].contains(&proto.as_str()) {
            return Err(bad());
        }
        Ok(PortKey { port, proto })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Probe {
        service: String,
        #[serde(default)]
        port: Option<Port>,
        #[serde(default)]
        container_port: Option<PortKey>,
        #[serde(default)]
        not: OneOrMany,
    }

    fn fields(src: &str) -> toml::Table {
        toml::from_str(src).unwrap()
    }

    fn first(src: &str) -> Invalid {
        fields_of::<Probe>(fields(src)).unwrap_err()
    }

    #[test]
    fn errors_name_their_field() {
        let e = first("servic = 'db'");
        assert_eq!(e.field.as_deref(), Some("servic"), "{e:?}");
        assert!(e.message.contains("unknown field `servic`"), "{e:?}");
        let e = first("port = 1");
        assert_eq!(e.field.as_deref(), Some("service"), "{e:?}");
        assert!(e.message.contains("missing field `service`"), "{e:?}");
        let e = first("service = 'db'\nport = 70000");
        assert_eq!(e.field.as_deref(), Some("port"), "{e:?}");
        assert!(e.message.contains("70000 is not a port"), "{e:?}");
        assert!(!e.message.contains('\n'), "one line: {e:?}");
        let e = first("service = 'db'\ncontainer_port = '80/http'");
        assert_eq!(e.field.as_deref(), Some("container_port"), "{e:?}");
    }

    #[test]
    fn ports_and_lists_take_both_spellings() {
        let p: Probe = toml::from_str("service='a'\ncontainer_port='53/udp'\nnot='x'").unwrap();
        assert_eq!(p.container_port.unwrap().to_string(), "53/udp");
        assert_eq!(p.not.0, ["x"]);
        let p: Probe = toml::from_str("service='a'\ncontainer_port=5432\nnot=['x','y']").unwrap();
        assert_eq!(p.container_port.unwrap().to_string(), "5432/tcp");
        assert_eq!(p.not.0, ["x", "y"]);
    }
}

//! `/etc/os-release` (os-release(5)): `KEY=value` lines, values optionally quoted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The fields of an os-release file that name the distribution and its release.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID`: `debian`, `ubuntu`, `alpine`.
    pub id: String,
    /// `ID_LIKE`, split on spaces.
    #[serde(default)]
    pub id_like: Vec<String>,
    /// `VERSION_ID`: `12`, `22.04`, `3.19.1`; empty when not given (Debian testing).
    #[serde(default)]
    pub version_id: String,
    #[serde(default)]
    pub version_codename: String,
    #[serde(default)]
    pub pretty_name: String,
}

/// Parses os-release text. Lines that are not `KEY=value` are ignored, as systemd does; a
/// file without `ID` gives `linux`, the default os-release(5) names.
pub fn parse_os_release(text: &str) -> OsRelease {
    let mut fields = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        fields.insert(key.trim().to_string(), unquote(value.trim()));
    }
    let field = |key: &str| fields.get(key).cloned().unwrap_or_default();
    let id = field("ID");
    OsRelease {
        id: if id.is_empty() {
            "linux".to_string()
        } else {
            id
        },
        id_like: field("ID_LIKE")
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        version_id: field("VERSION_ID"),
        version_codename: field("VERSION_CODENAME"),
        pretty_name: field("PRETTY_NAME"),
    }
}

/// Removes shell quotes and backslash escapes, as os-release(5) allows them.
fn unquote(value: &str) -> String {
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'');
    let inner = match quote {
        Some(q) if value.len() >= 2 && value.ends_with(q) => &value[1..value.len() - 1],
        Some(_) => &value[1..],
        None => value,
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' && quote != Some('\'') {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_debian_and_alpine() {
        let debian = parse_os_release(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        );
        assert_eq!(debian.id, "debian");
        assert_eq!(debian.version_id, "12");
        assert_eq!(debian.version_codename, "bookworm");
        assert_eq!(debian.pretty_name, "Debian GNU/Linux 12 (bookworm)");
        let alpine = parse_os_release("ID=alpine\nVERSION_ID=3.19.1\nID_LIKE='x y'\n");
        assert_eq!(alpine.version_id, "3.19.1");
        assert_eq!(alpine.id_like, ["x", "y"]);
        assert_eq!(parse_os_release("garbage\n\"").id, "linux");
    }
}

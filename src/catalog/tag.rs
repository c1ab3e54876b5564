//! Image tags taken apart the way upgrades need them: the leading version numbers, and the
//! variant that must survive an upgrade (`20.18.0-alpine` → `22.11.0-alpine`, never `22.11.0`).
//!
//! Tags are free text chosen by each image's maintainers, so this never fails: a tag with no
//! leading number (`lts-buster`, `latest`) has no version and is all variant.

use std::cmp::Ordering;
use std::fmt;

/// A tag split into its parts. `3.11.4rc1-slim-bookworm` is prefix ``, version `[3, 11, 4]`,
/// qualifier `rc1`, variant `slim-bookworm`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagParts {
    /// `v` when the tag spells its version `v2.10` (traefik and friends), else empty.
    pub prefix: String,
    /// The leading dotted numbers, `None` when the tag does not start with one.
    pub version: Option<Vec<u64>>,
    /// What is glued to the numbers before the first `-`: `rc1` in `3.12.0rc1`, `u312` in
    /// `8u312-jre`, `_9` in `17.0.9_9-jre`. Usually empty.
    pub qualifier: String,
    /// The rest after the first `-` following the version, e.g. `alpine3.18`, `bookworm-slim`,
    /// `jre-focal`; the whole tag when there is no version.
    pub variant: String,
}

impl TagParts {
    /// The variant with its release numbers dropped: what an upgrade keeps (see [`variant_family`]).
    pub fn family(&self) -> String {
        variant_family(&self.variant)
    }
}

/// Splits a tag into prefix, leading version numbers, qualifier and variant.
///
/// `3.11-alpine3.18` → `[3, 11]` + `alpine3.18`; `lts-buster` → no version + `lts-buster`;
/// `17-jre-focal` → `[17]` + `jre-focal`. A number too large for `u64` means the tag is not a
/// version (a date-stamp or a hash), so it is all variant.
pub fn parse_tag(tag: &str) -> TagParts {
    let not_versioned = || TagParts {
        prefix: String::new(),
        version: None,
        qualifier: String::new(),
        variant: tag.to_string(),
    };
    let (prefix, body) = match tag.strip_prefix('v') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => ("v", rest),
        _ => ("", tag),
    };
    let numbers_end = leading_numbers_len(body);
    if numbers_end == 0 {
        return not_versioned();
    }
    let mut numbers = Vec::new();
    for part in body[..numbers_end].split('.') {
        match part.parse::<u64>() {
            Ok(n) => numbers.push(n),
            Err(_) => return not_versioned(),
        }
    }
    let rest = &body[numbers_end..];
    let (qualifier, variant) = match rest.split_once('-') {
        Some((q, v)) => (q, v),
        None => (rest, ""),
    };
    TagParts {
        prefix: prefix.to_string(),
        version: Some(numbers),
        qualifier: qualifier.to_string(),
        variant: variant.to_string(),
    }
}

/// Byte length of the leading `N(.N)*` run; a dot is only taken when a digit follows it.
fn leading_numbers_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut end = 0;
    while end < bytes.len() {
        let digits = bytes[end..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            break;
        }
        end += digits;
        let dot_then_digit =
            bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(|b| b.is_ascii_digit());
        if !dot_then_digit {
            break;
        }
        end += 1;
    }
    end
}

/// The family of a variant: each `-`-separated part without its trailing release numbers, so
/// `alpine3.18` → `alpine`, `bookworm-slim` → `bookworm-slim`, `windowsservercore-ltsc2022` →
/// `windowsservercore-ltsc`. Parts that are only numbers disappear.
pub fn variant_family(variant: &str) -> String {
    variant
        .split('-')
        .map(|part| part.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.'))
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// A tag that has a version, ordered by its numbers. Used as the `docker` ecosystem's
/// [`Version`](super::version::Version).
///
/// Order: numbers (as sequences: `20` < `20.18` < `20.18.1` < `22`), then the qualifier (one
/// starting with a letter, like `rc1`, is a pre-release and sorts before none; one starting with
/// anything else, like `_9`, is a build and sorts after none), then the variant, then the text.
/// Different variants rarely need ordering; the last two keys only make the order total.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagVersion {
    tag: String,
    numbers: Vec<u64>,
    parts: TagParts,
}

impl TagVersion {
    /// `None` when the tag has no leading version (`latest`, `lts-buster`).
    pub fn parse(tag: &str) -> Option<TagVersion> {
        let parts = parse_tag(tag);
        let numbers = parts.version.clone()?;
        Some(TagVersion {
            tag: tag.to_string(),
            numbers,
            parts,
        })
    }

    pub fn numbers(&self) -> &[u64] {
        &self.numbers
    }

    pub fn parts(&self) -> &TagParts {
        &self.parts
    }

    pub fn as_str(&self) -> &str {
        &self.tag
    }

    fn qualifier_rank(&self) -> i8 {
        match self.parts.qualifier.chars().next() {
            None => 0,
            Some(c) if c.is_ascii_alphabetic() => -1,
            Some(_) => 1,
        }
    }
}

impl Ord for TagVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers
            .cmp(&other.numbers)
            .then_with(|| self.qualifier_rank().cmp(&other.qualifier_rank()))
            .then_with(|| self.parts.qualifier.cmp(&other.parts.qualifier))
            .then_with(|| self.parts.variant.cmp(&other.parts.variant))
            .then_with(|| self.tag.cmp(&other.tag))
    }
}

impl PartialOrd for TagVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for TagVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(tag: &str) -> (Option<Vec<u64>>, String, String) {
        let p = parse_tag(tag);
        (p.version, p.qualifier, p.variant)
    }

    #[test]
    fn splits_the_brief_examples() {
        assert_eq!(
            parts("3.11-alpine3.18"),
            (Some(vec![3, 11]), String::new(), "alpine3.18".into())
        );
        assert_eq!(
            parts("lts-buster"),
            (None, String::new(), "lts-buster".into())
        );
        assert_eq!(
            parts("1.13-alpine"),
            (Some(vec![1, 13]), String::new(), "alpine".into())
        );
        assert_eq!(
            parts("17-jre-focal"),
            (Some(vec![17]), String::new(), "jre-focal".into())
        );
    }

    #[test]
    fn keeps_qualifiers_prefixes_and_odd_tags() {
        assert_eq!(
            parts("3.11.4rc1-slim-bookworm"),
            (Some(vec![3, 11, 4]), "rc1".into(), "slim-bookworm".into())
        );
        assert_eq!(
            parts("17.0.9_9-jre-jammy"),
            (Some(vec![17, 0, 9]), "_9".into(), "jre-jammy".into())
        );
        assert_eq!(parts("20"), (Some(vec![20]), String::new(), String::new()));
        assert_eq!(parts("1.2."), (Some(vec![1, 2]), ".".into(), String::new()));
        assert_eq!(parse_tag("v2.10").prefix, "v");
        assert_eq!(parse_tag("v2.10").version, Some(vec![2, 10]));
        assert_eq!(parts("latest"), (None, String::new(), "latest".into()));
        assert_eq!(parts("vnext"), (None, String::new(), "vnext".into()));
        assert_eq!(
            parts("99999999999999999999999-x"),
            (None, String::new(), "99999999999999999999999-x".into())
        );
        assert_eq!(parts(""), (None, String::new(), String::new()));
    }

    #[test]
    fn families_drop_release_numbers() {
        assert_eq!(variant_family("alpine3.18"), "alpine");
        assert_eq!(variant_family("bookworm-slim"), "bookworm-slim");
        assert_eq!(variant_family("jre-focal"), "jre-focal");
        assert_eq!(
            variant_family("windowsservercore-ltsc2022"),
            "windowsservercore-ltsc"
        );
        assert_eq!(variant_family(""), "");
    }

    #[test]
    fn tag_versions_order_by_numbers_then_qualifier() {
        let v = |t: &str| TagVersion::parse(t).expect("versioned tag");
        assert!(v("20.18.0-alpine") < v("22.11.0-alpine"));
        assert!(v("20") < v("20.18"));
        assert!(v("3.12.0rc1") < v("3.12.0"));
        assert!(v("17.0.9") < v("17.0.9_9"));
        assert!(v("9.0") < v("10.0"));
        assert!(TagVersion::parse("latest").is_none());
    }
}

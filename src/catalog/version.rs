//! Versions ordered the way each ecosystem orders them, and a small constraint language for the
//! catalog.
//!
//! - crates.io, npm: semver. npm lockfiles sometimes carry a leading `v` or `=`; those are
//!   accepted for npm only. Build metadata (`+build`) is ignored for ordering, as semver says.
//! - PyPI: PEP 440 (epochs, pre/post/dev releases, local versions), via `pep440_rs`.
//! - Go: semver with an optional `v`; pseudo-versions order as pre-releases; `+incompatible` is
//!   build metadata and ignored for ordering. `stdlib` and toolchain spellings are accepted:
//!   `1.21` → `1.21.0`, `go1.21.3` → `1.21.3`, `go1.21rc2` → `1.21.0-rc.2`.
//! - docker: tags with a leading version number (see [`TagVersion`]).
//! - RubyGems: `Gem::Version` order (see [`GemVersion`]).
//! - Packagist: Composer's normalization, then PHP's `version_compare` (see [`ComposerVersion`]).
//! - Debian, Ubuntu: dpkg's order (see [`DpkgVersion`]); Alpine: apk-tools' (see [`ApkVersion`]).
//!
//! Versions of different ecosystems never compare equal; they order by kind (semver, PEP 440,
//! Go, docker) so that sorting a mixed list is still total and deterministic. Matching code
//! checks the ecosystem before comparing, so that order never decides a match.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

pub use crate::catalog::apk_version::ApkVersion;
pub use crate::catalog::composer_version::ComposerVersion;
pub use crate::catalog::dpkg_version::DpkgVersion;
pub use crate::catalog::gem_version::GemVersion;
use crate::catalog::tag::TagVersion;
use crate::model::Ecosystem;

/// A parsed version. Build the values with [`parse_version`].
#[derive(Debug, Clone)]
pub enum Version {
    /// crates.io and npm.
    Semver(semver::Version),
    /// PyPI.
    Pep440(pep440_rs::Version),
    /// Go modules and the Go toolchain (`stdlib`), held without the `v`.
    Go(semver::Version),
    /// Docker image tags that start with a version number.
    Docker(TagVersion),
    /// RubyGems.
    Gem(GemVersion),
    /// Packagist.
    Composer(ComposerVersion),
    /// Debian and Ubuntu packages.
    Dpkg(DpkgVersion),
    /// Alpine packages.
    Apk(ApkVersion),
}

/// A version text that does not parse in its ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid {ecosystem} version: {reason}")]
pub struct VersionError {
    pub ecosystem: Ecosystem,
    pub text: String,
    pub reason: String,
}

/// Parses `text` as a version of `eco`.
pub fn parse_version(eco: Ecosystem, text: &str) -> Result<Version, VersionError> {
    let error = |reason: String| VersionError {
        ecosystem: eco,
        text: text.to_string(),
        reason,
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(error("the version is empty".to_string()));
    }
    match eco {
        Ecosystem::CratesIo => semver::Version::parse(trimmed)
            .map(Version::Semver)
            .map_err(|e| error(e.to_string())),
        Ecosystem::Npm => {
            // `=1.2.3`, `v1.2.3` and `=v1.2.3` are what npm's own loose parser accepts.
            let bare = trimmed.strip_prefix('=').unwrap_or(trimmed).trim_start();
            let bare = bare.strip_prefix('v').unwrap_or(bare);
            semver::Version::parse(bare)
                .map(Version::Semver)
                .map_err(|e| error(e.to_string()))
        }
        Ecosystem::PyPI => pep440_rs::Version::from_str(trimmed)
            .map(Version::Pep440)
            .map_err(|e| error(e.to_string())),
        Ecosystem::Go => parse_go(trimmed).map(Version::Go).map_err(error),
        Ecosystem::Docker => TagVersion::parse(trimmed)
            .map(Version::Docker)
            .ok_or_else(|| error("the tag does not start with a version number".to_string())),
        Ecosystem::RubyGems => GemVersion::parse(trimmed).map(Version::Gem).map_err(error),
        Ecosystem::Packagist => ComposerVersion::parse(trimmed)
            .map(Version::Composer)
            .map_err(error),
        Ecosystem::Debian | Ecosystem::Ubuntu => DpkgVersion::parse(trimmed)
            .map(Version::Dpkg)
            .map_err(error),
        Ecosystem::Alpine => ApkVersion::parse(trimmed).map(Version::Apk).map_err(error),
    }
}

fn parse_go(text: &str) -> Result<semver::Version, String> {
    let toolchain = text
        .strip_prefix("go")
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    let bare = match toolchain {
        Some(rest) => rest,
        None => text.strip_prefix('v').unwrap_or(text),
    };
    if let Ok(v) = semver::Version::parse(bare) {
        return Ok(v);
    }
    // Go language and toolchain versions drop zero components (`1.21`, `1.21rc2`); module
    // versions never do, so this only widens what `stdlib` entries accept.
    let numbers_end = bare
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(bare.len());
    let (numbers, rest) = bare.split_at(numbers_end);
    let mut parts: Vec<&str> = numbers.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(semver_reason(bare));
    }
    while parts.len() < 3 {
        parts.push("0");
    }
    let pre = match rest {
        "" => String::new(),
        r if r.starts_with('-') || r.starts_with('+') => r.to_string(),
        r => {
            let digits_at = r.find(|c: char| c.is_ascii_digit()).unwrap_or(r.len());
            let (word, n) = r.split_at(digits_at);
            if !matches!(word, "rc" | "beta" | "alpha") || n.is_empty() {
                return Err(semver_reason(bare));
            }
            format!("-{word}.{n}")
        }
    };
    semver::Version::parse(&format!("{}{pre}", parts.join("."))).map_err(|e| e.to_string())
}

fn semver_reason(text: &str) -> String {
    match semver::Version::parse(text) {
        Err(e) => e.to_string(),
        Ok(_) => "not a Go version".to_string(),
    }
}

impl Version {
    /// Whether this version belongs to `eco`'s ordering (crates.io and npm share semver).
    pub fn is_of(&self, eco: Ecosystem) -> bool {
        matches!(
            (self, eco),
            (Version::Semver(_), Ecosystem::CratesIo | Ecosystem::Npm)
                | (Version::Pep440(_), Ecosystem::PyPI)
                | (Version::Go(_), Ecosystem::Go)
                | (Version::Docker(_), Ecosystem::Docker)
                | (Version::Gem(_), Ecosystem::RubyGems)
                | (Version::Composer(_), Ecosystem::Packagist)
                | (Version::Dpkg(_), Ecosystem::Debian | Ecosystem::Ubuntu)
                | (Version::Apk(_), Ecosystem::Alpine)
        )
    }

    /// A pre-release: semver/Go with a pre-release part (Go pseudo-versions included), PEP 440
    /// `a`/`b`/`rc`/`.dev`, a docker tag whose qualifier starts with a letter (`3.12.0rc1`).
    pub fn is_prerelease(&self) -> bool {
        match self {
            Version::Semver(v) | Version::Go(v) => !v.pre.is_empty(),
            Version::Pep440(v) => v.any_prerelease(),
            Version::Docker(t) => t
                .parts()
                .qualifier
                .starts_with(|c: char| c.is_ascii_alphabetic()),
            Version::Gem(v) => v.is_prerelease(),
            Version::Composer(v) => v.is_prerelease(),
            Version::Dpkg(v) => v.is_prerelease(),
            Version::Apk(v) => v.is_prerelease(),
        }
    }

    /// The release numbers: `[major, minor, patch]` for semver and Go, PEP 440's release
    /// segment (without epoch), a tag's leading numbers. For classifying an upgrade as
    /// patch / minor / major.
    pub fn release(&self) -> Vec<u64> {
        match self {
            Version::Semver(v) | Version::Go(v) => vec![v.major, v.minor, v.patch],
            Version::Pep440(v) => v.release().to_vec(),
            Version::Docker(t) => t.numbers().to_vec(),
            Version::Gem(v) => v.release(),
            Version::Composer(v) => v.release(),
            Version::Dpkg(v) => v.release(),
            Version::Apk(v) => v.release(),
        }
    }

    /// The text without Go's `v`: `0.3.8` where [`Display`](fmt::Display) writes `v0.3.8`.
    /// Other ecosystems: same as `to_string()`.
    pub fn bare(&self) -> String {
        match self {
            Version::Go(v) => v.to_string(),
            other => other.to_string(),
        }
    }

    fn kind_rank(&self) -> u8 {
        match self {
            Version::Semver(_) => 0,
            Version::Pep440(_) => 1,
            Version::Go(_) => 2,
            Version::Docker(_) => 3,
            Version::Gem(_) => 4,
            Version::Composer(_) => 5,
            Version::Dpkg(_) => 6,
            Version::Apk(_) => 7,
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Version::Semver(a), Version::Semver(b)) | (Version::Go(a), Version::Go(b)) => {
                a.cmp_precedence(b)
            }
            (Version::Pep440(a), Version::Pep440(b)) => a.cmp(b),
            (Version::Docker(a), Version::Docker(b)) => a.cmp(b),
            (Version::Gem(a), Version::Gem(b)) => a.cmp(b),
            (Version::Composer(a), Version::Composer(b)) => a.cmp(b),
            (Version::Dpkg(a), Version::Dpkg(b)) => a.cmp(b),
            (Version::Apk(a), Version::Apk(b)) => a.cmp(b),
            _ => self.kind_rank().cmp(&other.kind_rank()),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.kind_rank().hash(state);
        match self {
            // Build metadata is left out, as it is from equality.
            Version::Semver(v) | Version::Go(v) => (v.major, v.minor, v.patch, &v.pre).hash(state),
            Version::Pep440(v) => v.hash(state),
            Version::Docker(t) => t.hash(state),
            Version::Gem(v) => v.hash(state),
            Version::Composer(v) => v.hash(state),
            // Equal versions can be spelled differently (`1.09` and `1.9`, `1.0` and
            // `1.0-0`): the kind alone is a hash consistent with that equality.
            Version::Dpkg(_) | Version::Apk(_) => {}
        }
    }
}

/// Semver and PEP 440 print their canonical form; Go prints the module spelling with `v`
/// (`v0.3.8`, `v20.10.24+incompatible`); docker prints the tag as written.
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Semver(v) => write!(f, "{v}"),
            Version::Pep440(v) => write!(f, "{v}"),
            Version::Go(v) => write!(f, "v{v}"),
            Version::Docker(t) => write!(f, "{t}"),
            Version::Gem(v) => write!(f, "{v}"),
            Version::Composer(v) => write!(f, "{v}"),
            Version::Dpkg(v) => write!(f, "{v}"),
            Version::Apk(v) => write!(f, "{v}"),
        }
    }
}

/// A comparison operator of a [`Constraint`] clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Op::Eq => ordering == Ordering::Equal,
            Op::Ne => ordering != Ordering::Equal,
            Op::Lt => ordering == Ordering::Less,
            Op::Le => ordering != Ordering::Greater,
            Op::Gt => ordering == Ordering::Greater,
            Op::Ge => ordering != Ordering::Less,
        }
    }
}

/// One `op version` comparison.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Clause {
    pub op: Op,
    pub version: Version,
}

/// A version range in the catalog's own, ecosystem-neutral syntax, evaluated with the
/// ecosystem's ordering:
///
/// - `1.2.3` or `=1.2.3` (also `==1.2.3`): exactly that version (PEP 440 equality, so `1.0`
///   equals `1.0.0` on PyPI);
/// - `<2.0.0`, `<=2.0.0`, `>1.0`, `>=1.0`, `!=1.4.1`;
/// - clauses joined with `,` must all hold: `>=1.0, <1.2`;
/// - `*`: any version.
///
/// Deliberately no `^`, `~` or wildcards: their meaning differs between ecosystems, and a
/// security catalog should say exactly which versions it means.
#[derive(Debug, Clone)]
pub struct Constraint {
    ecosystem: Ecosystem,
    text: String,
    clauses: Vec<Clause>,
}

/// A constraint text that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid constraint: {reason}")]
pub struct ConstraintError {
    pub text: String,
    pub reason: String,
}

impl Constraint {
    pub fn parse(eco: Ecosystem, text: &str) -> Result<Constraint, ConstraintError> {
        let error = |reason: String| ConstraintError {
            text: text.to_string(),
            reason,
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(error(
                "it is empty; write e.g. `<1.2.0` or `>=1.0, <1.2`".to_string(),
            ));
        }
        let several = trimmed.contains(',');
        let mut clauses = Vec::new();
        if trimmed != "*" {
            for part in trimmed.split(',') {
                let part = part.trim();
                let within = |what: String| {
                    if several {
                        error(format!("in `{part}`: {what}"))
                    } else {
                        error(what)
                    }
                };
                if part.is_empty() {
                    return Err(error(
                        "a `,` must separate two clauses, e.g. `>=1.0, <1.2`".to_string(),
                    ));
                }
                let (op, rest) = split_op(part);
                let rest = rest.trim_start();
                if rest.is_empty() {
                    return Err(within("there is no version after the operator".to_string()));
                }
                if rest.starts_with(['<', '>', '=', '!', '^', '~']) || rest.contains('*') {
                    return Err(within(
                        "use one of `=`, `!=`, `<`, `<=`, `>`, `>=` followed by a full version \
                         (`^`, `~` and wildcards inside a version are not supported; a lone `*` \
                         means every version)"
                            .to_string(),
                    ));
                }
                let version = parse_version(eco, rest).map_err(|e| within(e.to_string()))?;
                clauses.push(Clause { op, version });
            }
        }
        Ok(Constraint {
            ecosystem: eco,
            text: trimmed.to_string(),
            clauses,
        })
    }

    /// Whether `version` satisfies every clause. A version of another ecosystem never does.
    pub fn matches(&self, version: &Version) -> bool {
        version.is_of(self.ecosystem)
            && self
                .clauses
                .iter()
                .all(|c| c.op.holds(version.cmp(&c.version)))
    }

    pub fn ecosystem(&self) -> Ecosystem {
        self.ecosystem
    }

    /// Empty for `*`.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    /// The text as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Two constraints are equal when they say the same thing: `4.17.20` equals `=4.17.20`.
impl PartialEq for Constraint {
    fn eq(&self, other: &Self) -> bool {
        self.ecosystem == other.ecosystem && self.clauses == other.clauses
    }
}

impl Eq for Constraint {}

impl Hash for Constraint {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.ecosystem.hash(state);
        self.clauses.hash(state);
    }
}

fn split_op(part: &str) -> (Op, &str) {
    const OPS: [(&str, Op); 7] = [
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("=", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    OPS.iter()
        .find_map(|(s, op)| part.strip_prefix(s).map(|rest| (*op, rest)))
        .unwrap_or((Op::Eq, part))
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(eco: Ecosystem, s: &str) -> Version {
        parse_version(eco, s).expect("valid version")
    }

    #[test]
    fn go_accepts_toolchain_and_short_forms() {
        assert_eq!(v(Ecosystem::Go, "go1.21.3"), v(Ecosystem::Go, "1.21.3"));
        assert_eq!(v(Ecosystem::Go, "1.21"), v(Ecosystem::Go, "v1.21.0"));
        assert_eq!(v(Ecosystem::Go, "go1.21rc2").to_string(), "v1.21.0-rc.2");
        assert!(v(Ecosystem::Go, "1.21rc2") < v(Ecosystem::Go, "1.21.0"));
        assert!(parse_version(Ecosystem::Go, "1.21x2").is_err());
        assert!(parse_version(Ecosystem::Go, "1..2").is_err());
        assert!(parse_version(Ecosystem::Go, "go").is_err());
    }

    #[test]
    fn errors_name_the_ecosystem_and_text() {
        let err = parse_version(Ecosystem::CratesIo, "1.2").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`1.2` is not a valid crates.io version: unexpected end of input while parsing minor version number"
        );
        assert!(parse_version(Ecosystem::Npm, "").is_err());
        assert!(parse_version(Ecosystem::Docker, "latest").is_err());
    }

    #[test]
    fn mixed_kinds_are_never_equal() {
        let a = v(Ecosystem::Npm, "1.0.0");
        let b = v(Ecosystem::Go, "1.0.0");
        assert_ne!(a, b);
        assert!(a < b);
        assert!(
            !Constraint::parse(Ecosystem::Go, "1.0.0")
                .unwrap()
                .matches(&a)
        );
    }

    #[test]
    fn constraint_syntax_errors_say_what_to_write() {
        let e = Constraint::parse(Ecosystem::Npm, "^1.2.0").unwrap_err();
        assert!(e.reason.contains("not supported"), "{e}");
        let e = Constraint::parse(Ecosystem::Npm, ">=1.0.0,").unwrap_err();
        assert!(e.reason.contains("separate two clauses"), "{e}");
        let e = Constraint::parse(Ecosystem::Npm, "<").unwrap_err();
        assert!(e.reason.contains("no version after"), "{e}");
        let e = Constraint::parse(Ecosystem::Npm, "<=>1").unwrap_err();
        assert!(e.reason.contains("not supported"), "{e}");
    }
}

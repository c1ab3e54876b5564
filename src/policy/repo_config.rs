//! The repository's own configuration, `.github/patchwright.toml`: its tier and its exceptions.
//!
//! Parsed in two stages (cargo-deny's habit): deserialise keeping spans, then validate into types
//! the policy can trust, collecting every error with its line rather than stopping at the first.

use crate::model::{ExceptionOrigin, FileError, Location, Span};
use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

/// Where the repository config lives, relative to the repository root.
pub const REPO_CONFIG_PATH: &str = ".github/patchwright.toml";

/// A validated repository config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepoConfig {
    pub tier: Option<String>,
    pub exceptions: Vec<Exception>,
    /// Globs (gitignore-style) of paths the scan skips.
    pub exclude: Vec<String>,
    /// `pin-digests = false`: image fixes keep tags only (no `@sha256:` pins), whatever the
    /// org's registry config says. `None` follows the org.
    pub pin_digests: Option<bool>,
}

/// A time-bound, owned, explained suppression.
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    /// An advisory id or alias (`CVE-…`, `GHSA-…`, `RUSTSEC-…`) or a rule id (`runs-as-root`).
    pub id: String,
    /// Only findings about this package or image name.
    pub package: Option<String>,
    /// Only findings in files matching this glob.
    pub path: Option<String>,
    pub reason: String,
    pub owner: String,
    /// The last day it suppresses.
    pub expires: NaiveDate,
    /// Written in the repository config, or granted with `accept-risk`.
    pub origin: ExceptionOrigin,
}

impl Exception {
    /// An exception granted with `accept-risk <target> --until <expires> --reason <reason>`:
    /// it covers the target wherever it is found, and the person who granted it owns it.
    /// `granted_by` is a login, with or without its `@`.
    pub fn granted(
        target: &str,
        reason: &str,
        expires: NaiveDate,
        granted_by: &str,
        granted_at: NaiveDate,
        source: &str,
    ) -> Exception {
        let login = granted_by.trim().trim_start_matches('@');
        Exception {
            id: target.trim().to_string(),
            package: None,
            path: None,
            reason: reason.to_string(),
            owner: format!("@{login}"),
            expires,
            origin: ExceptionOrigin::Command {
                granted_by: login.to_string(),
                granted_at,
                source: source.to_string(),
            },
        }
    }

    /// Where it is written in the repository config; `None` for one granted in a comment.
    pub fn location(&self) -> Option<&Location> {
        self.origin.location()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    tier: Option<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default, rename = "exception")]
    exceptions: Vec<Spanned<RawException>>,
    #[serde(rename = "pin-digests")]
    pin_digests: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    id: Option<Spanned<String>>,
    package: Option<String>,
    path: Option<Spanned<String>>,
    reason: Option<String>,
    owner: Option<String>,
    expires: Option<Spanned<toml::Value>>,
}

/// Parses the repository config. `tiers` are the org policy's tier names, to catch a typo in
/// `tier`. Returns every problem found, each with its line.
pub fn parse_repo_config(
    file: &str,
    text: &str,
    tiers: &[&str],
) -> Result<RepoConfig, Vec<FileError>> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| {
            Location::from_span(file, text, Span::new(s.start, s.start)).line
        });
        vec![FileError {
            file: file.to_string(),
            line,
            message: format!("{} (see README: repository config)", e.message().trim()),
            ..Default::default()
        }]
    })?;
    let mut errors = Vec::new();
    let at = |span: std::ops::Range<usize>| {
        Location::from_span(file, text, Span::new(span.start, span.end))
    };
    let mut error = |span: std::ops::Range<usize>, message: String| {
        errors.push(FileError {
            file: file.to_string(),
            line: at(span).line,
            message,
            ..Default::default()
        });
    };

    if let Some(tier) = &raw.tier
        && !tiers.contains(&tier.get_ref().as_str())
    {
        error(
            tier.span(),
            format!(
                "tier `{}` is not defined by the organisation's policy; use one of: {}",
                tier.get_ref(),
                tiers.join(", ")
            ),
        );
    }

    let mut exceptions = Vec::new();
    for entry in &raw.exceptions {
        let span = entry.span();
        let e = entry.get_ref();
        let location = at(span.clone());
        let id = match &e.id {
            Some(id) if !id.get_ref().trim().is_empty() => id.get_ref().trim().to_string(),
            _ => {
                error(
                    span.clone(),
                    "exception needs an `id`: an advisory id or alias, or a rule id".into(),
                );
                continue;
            }
        };
        let reason = e.reason.clone().unwrap_or_default();
        if reason.trim().is_empty() {
            error(
                span.clone(),
                format!("exception `{id}` needs a `reason`: why is this risk acceptable?"),
            );
        }
        let owner = e.owner.clone().unwrap_or_default();
        if owner.trim().is_empty() {
            error(
                span.clone(),
                format!("exception `{id}` needs an `owner`: who answers for it (a user or team)"),
            );
        }
        if let Some(path) = &e.path
            && let Err(err) = globset::Glob::new(path.get_ref())
        {
            error(
                path.span(),
                format!("exception `{id}`: `path` is not a valid glob: {err}"),
            );
        }
        let expires = match &e.expires {
            None => {
                error(
                    span.clone(),
                    format!(
                        "exception `{id}` needs an `expires` date (YYYY-MM-DD): exceptions are time-bound"
                    ),
                );
                continue;
            }
            Some(d) => match toml_date(d.get_ref()) {
                Some(date) => date,
                None => {
                    error(
                        d.span(),
                        format!("exception `{id}`: `expires` must be a date like 2026-12-31"),
                    );
                    continue;
                }
            },
        };
        exceptions.push(Exception {
            id,
            package: e.package.clone(),
            path: e.path.as_ref().map(|p| p.get_ref().clone()),
            reason,
            owner,
            expires,
            origin: ExceptionOrigin::Config { location },
        });
    }

    if errors.is_empty() {
        Ok(RepoConfig {
            tier: raw.tier.map(Spanned::into_inner),
            exceptions,
            exclude: raw.exclude,
            pin_digests: raw.pin_digests,
        })
    } else {
        Err(errors)
    }
}

fn toml_date(value: &toml::Value) -> Option<NaiveDate> {
    let toml::Value::Datetime(value) = value else {
        return None;
    };
    match (value.date, value.time) {
        (Some(d), None) => NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIERS: &[&str] = &["internet-facing", "internal-tool"];

    #[test]
    fn parses_tier_and_exceptions_with_lines() {
        let text = "tier = \"internal-tool\"\n\n[[exception]]\nid = \"CVE-2021-23337\"\npackage = \"lodash\"\nreason = \"template() is never called\"\nowner = \"@acme/web\"\nexpires = 2026-12-31\n";
        let config = parse_repo_config(REPO_CONFIG_PATH, text, TIERS).unwrap();
        assert_eq!(config.tier.as_deref(), Some("internal-tool"));
        let e = &config.exceptions[0];
        assert_eq!(e.id, "CVE-2021-23337");
        assert_eq!(e.package.as_deref(), Some("lodash"));
        assert_eq!(e.expires, NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
        assert_eq!(e.location().map(|l| l.line), Some(3));
    }

    #[test]
    fn collects_every_error_with_its_line() {
        let text = "tier = \"public\"\n[[exception]]\nid = \"runs-as-root\"\nowner = \"me\"\nexpires = 2026-01-01\n[[exception]]\nid = \"CVE-1\"\nreason = \"x\"\nowner = \"y\"\nexpires = \"soon\"\n";
        let errors = parse_repo_config("c.toml", text, TIERS).unwrap_err();
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines,
            [
                "c.toml:1: tier `public` is not defined by the organisation's policy; use one of: internet-facing, internal-tool",
                "c.toml:2: exception `runs-as-root` needs a `reason`: why is this risk acceptable?",
                "c.toml:10: exception `CVE-1`: `expires` must be a date like 2026-12-31",
            ]
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let errors = parse_repo_config("c.toml", "tier = \"x\"\nbogus = 1\n", TIERS).unwrap_err();
        assert_eq!(errors[0].line, 2, "{errors:?}");
        assert!(errors[0].message.contains("bogus"), "{errors:?}");
    }
}

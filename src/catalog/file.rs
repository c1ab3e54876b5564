//! The curated catalog: approved base images, their end-of-life dates and known-bad tags, and
//! package pins. TOML, documented in `fixtures/catalog.example.toml`.
//!
//! Read in two stages (cargo-deny's habit): the TOML is parsed keeping spans, then every value
//! is validated into the types below, collecting every error with its `file:line:column`. What
//! comes out can be trusted: patterns compiled, versions parsed, dates checked.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;

use chrono::NaiveDate;
use toml::de::{DeTable, DeValue};

use crate::catalog::name::normalize_name;
use crate::catalog::pattern::TagPattern;
use crate::catalog::toml_reader::{Reader, Value};
use crate::catalog::version::{Constraint, Version, parse_version};
use crate::model::{Ecosystem, ImageRef, Location, Severity};

pub use crate::catalog::toml_reader::CatalogError;

/// A validated catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// The catalog's own revision, quoted in PR provenance; `none` for [`Catalog::empty`].
    pub revision: String,
    /// When `false`, an image the catalog does not list is unapproved.
    pub allow_unlisted_images: bool,
    pub images: Vec<ImageRule>,
    pub packages: Vec<PackageRule>,
}

/// What the catalog says about one image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRule {
    /// Canonical name ([`ImageRef::canonical_name`]): `node`, `ghcr.io/org/app`.
    pub name: String,
    /// Tag patterns; empty (or absent) approves every tag. To refuse an image outright, give it
    /// an end-of-life rule for `*`.
    pub approved: Vec<TagPattern>,
    /// Known concrete tags, the upgrade candidates; each matches `approved`.
    pub tags: Vec<String>,
    /// The variant family to prefer when a fix changes variant (`alpine`).
    pub preferred_variant: Option<String>,
    /// The user the image runs as when the Dockerfile sets no `USER`.
    pub default_user: Option<String>,
    /// Known digests by tag (`sha256:…`), to keep pinned references pinned.
    pub digests: BTreeMap<String, String>,
    pub end_of_life: Vec<EolRule>,
    pub vulnerable: Vec<VulnerableRule>,
    /// The `[[image]]` header.
    pub location: Location,
}

/// Tags past their end of life.
#[derive(Debug, Clone, PartialEq)]
pub struct EolRule {
    pub tags: Vec<TagPattern>,
    pub date: NaiveDate,
    /// From this date on, use of the tags blocks; before it (and after `date`) it warns. When
    /// absent, blocking starts at `date`.
    pub blocks_after: Option<NaiveDate>,
    /// A tag of the same image (`20-alpine`) or a full reference (`node:20-alpine`).
    pub replacement: Option<String>,
    pub reason: Option<String>,
    pub location: Location,
}

/// Where an end-of-life rule stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EolStatus {
    /// Before the end-of-life date.
    Supported,
    /// Past end of life, inside the grace period.
    Grace,
    /// Past end of life and past the grace period.
    Blocking,
}

/// Tags known to be vulnerable, with the advisories that say so.
#[derive(Debug, Clone, PartialEq)]
pub struct VulnerableRule {
    pub tags: Vec<TagPattern>,
    pub advisories: Vec<String>,
    pub severity: Severity,
    pub reason: Option<String>,
    pub location: Location,
}

/// What the catalog says about one package.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageRule {
    pub ecosystem: Ecosystem,
    pub name: String,
    /// `name` as [`normalize_name`] gives it, computed once at load: every dependency of every
    /// scan is looked up against it.
    pub normalized_name: String,
    /// Versions below this are findings.
    pub minimum: Option<Version>,
    /// Versions matching any of these are findings.
    pub banned: Vec<Constraint>,
    /// An approved replacement package.
    pub replacement: Option<String>,
    pub reason: Option<String>,
    /// The `[[package]]` header.
    pub location: Location,
}

impl Catalog {
    /// No catalog: every image allowed, no rules.
    pub fn empty() -> Catalog {
        Catalog {
            revision: "none".to_string(),
            allow_unlisted_images: true,
            images: Vec::new(),
            packages: Vec::new(),
        }
    }

    /// The rule for an image, by name as written or canonical (`docker.io/library/node`,
    /// `node`). Tags and digests in `name` are ignored.
    pub fn image(&self, name: &str) -> Option<&ImageRule> {
        let canonical = ImageRef::parse(name)?.canonical_name();
        self.images.iter().find(|i| i.name == canonical)
    }

    pub fn image_for(&self, image: &ImageRef) -> Option<&ImageRule> {
        let canonical = image.canonical_name();
        self.images.iter().find(|i| i.name == canonical)
    }

    /// Whether the catalog approves this image and tag: a listed image's tag must match its
    /// `approved` patterns; an unlisted image is approved when `allow-unlisted-images` is true.
    /// A reference without a tag is checked as `latest`, which is what Docker pulls.
    pub fn approves(&self, image: &ImageRef) -> bool {
        match self.image_for(image) {
            Some(rule) => rule.matches_approved(image.tag.as_deref().unwrap_or("latest")),
            None => self.allow_unlisted_images,
        }
    }

    /// The rule for a package (PyPI names compared per PEP 503).
    pub fn package(&self, eco: Ecosystem, name: &str) -> Option<&PackageRule> {
        if self.packages.is_empty() {
            return None;
        }
        let wanted = normalize_name(eco, name);
        self.packages
            .iter()
            .find(|p| p.ecosystem == eco && p.normalized_name == wanted)
    }
}

impl ImageRule {
    /// Whether `tag` is approved (always, when the rule has no `approved` patterns).
    pub fn matches_approved(&self, tag: &str) -> bool {
        self.approved.is_empty() || self.approved.iter().any(|p| p.matches(tag))
    }

    /// The first end-of-life rule that covers `tag`.
    pub fn eol_for(&self, tag: &str) -> Option<&EolRule> {
        self.end_of_life.iter().find(|r| r.matches(tag))
    }

    /// The first vulnerable-tag rule that covers `tag`.
    pub fn vulnerable_for(&self, tag: &str) -> Option<&VulnerableRule> {
        self.vulnerable
            .iter()
            .find(|r| r.tags.iter().any(|p| p.matches(tag)))
    }

    pub fn digest_for(&self, tag: &str) -> Option<&str> {
        self.digests.get(tag).map(String::as_str)
    }

    /// Known tags that are approved, not past end of life on `today`, and not known
    /// vulnerable: what a fix may move to.
    pub fn candidates(&self, today: NaiveDate) -> Vec<&str> {
        self.tags
            .iter()
            .map(String::as_str)
            .filter(|t| self.matches_approved(t))
            .filter(|t| {
                self.eol_for(t)
                    .is_none_or(|r| r.status_on(today) == EolStatus::Supported)
            })
            .filter(|t| self.vulnerable_for(t).is_none())
            .collect()
    }
}

impl EolRule {
    pub fn matches(&self, tag: &str) -> bool {
        self.tags.iter().any(|p| p.matches(tag))
    }

    /// The rule's status on `today` (the caller's clock: this stays pure).
    pub fn status_on(&self, today: NaiveDate) -> EolStatus {
        if today < self.date {
            EolStatus::Supported
        } else if self.blocks_after.is_some_and(|b| today < b) {
            EolStatus::Grace
        } else {
            EolStatus::Blocking
        }
    }
}

impl PackageRule {
    /// Whether `version` is below the rule's `minimum`.
    pub fn below_minimum(&self, version: &Version) -> bool {
        self.minimum
            .as_ref()
            .is_some_and(|m| version.is_of(self.ecosystem) && version < m)
    }

    /// The first `banned` constraint `version` matches.
    pub fn banned_by(&self, version: &Version) -> Option<&Constraint> {
        self.banned.iter().find(|c| c.matches(version))
    }

    /// Whether `version` is acceptable: not below the minimum, not banned.
    pub fn allows(&self, version: &Version) -> bool {
        !self.below_minimum(version) && self.banned_by(version).is_none()
    }
}

/// Reads a catalog file. I/O at the edge; the parsing is [`parse_catalog`].
pub fn load_catalog(path: &Path) -> Result<Catalog, Vec<CatalogError>> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_catalog(&file, &text),
        Err(e) => Err(vec![CatalogError {
            file,
            line: 0,
            column: 0,
            message: format!("cannot read {}: {e}", path.display()),
        }]),
    }
}

const TOP_KEYS: [&str; 4] = ["revision", "allow-unlisted-images", "image", "package"];
const IMAGE_KEYS: [&str; 8] = [
    "name",
    "approved",
    "tags",
    "preferred-variant",
    "default-user",
    "digests",
    "end-of-life",
    "vulnerable",
];
const EOL_KEYS: [&str; 5] = ["tags", "date", "blocks-after", "replacement", "reason"];
const VULNERABLE_KEYS: [&str; 4] = ["tags", "advisories", "severity", "reason"];
const PACKAGE_KEYS: [&str; 6] = [
    "ecosystem",
    "name",
    "minimum",
    "banned",
    "replacement",
    "reason",
];

/// Parses and validates a catalog. Pure. Every error is reported, sorted by position; TOML
/// syntax errors alone are reported when there are any, since validating a half-read file
/// would only add noise.
pub fn parse_catalog(file: &str, text: &str) -> Result<Catalog, Vec<CatalogError>> {
    let mut reader = Reader::new(file, text);
    let (root, syntax_errors) = DeTable::parse_recoverable(text);
    // After the first syntax error the parser is guessing: a file that is not TOML at all
    // gives one error per line. The first is the one worth reading.
    if let Some(e) = syntax_errors
        .iter()
        .min_by_key(|e| e.span().map_or(0, |s| s.start))
    {
        let span = e.span().unwrap_or(0..0);
        let mut message = format!("invalid TOML: {}", e.message().trim().replace('\n', "; "));
        if syntax_errors.len() > 1 {
            message.push_str(&format!(
                " (and {} more syntax error(s) after it, often caused by this one)",
                syntax_errors.len() - 1
            ));
        }
        reader.error(span, message);
        return Err(reader.finish());
    }
    let root = root.get_ref();
    reader.check_keys(root, "the catalog", &TOP_KEYS);

    let revision = match root.get("revision") {
        Some(v) => reader.string(v, "revision").map(|s| s.trim().to_string()),
        None => {
            reader.error(
                0..0,
                "the catalog needs a `revision`, e.g. `revision = \"2026-11-01\"`, so that PRs can say which catalog they applied",
            );
            None
        }
    };
    let allow_unlisted_images = root
        .get("allow-unlisted-images")
        .and_then(|v| reader.boolean(v, "allow-unlisted-images"))
        .unwrap_or(true);

    let mut images: Vec<ImageRule> = Vec::new();
    let mut seen_images: HashMap<String, u32> = HashMap::new();
    for (table, span) in tables(&mut reader, root, "image") {
        if let Some((rule, name_span)) = read_image(&mut reader, table, span) {
            let (line, _) = reader.position(&name_span);
            match seen_images.get(&rule.name) {
                Some(first) => reader.error(
                    name_span,
                    format!(
                        "image `{}` is already listed at line {first}; merge the two entries",
                        rule.name
                    ),
                ),
                None => {
                    seen_images.insert(rule.name.clone(), line);
                    images.push(rule);
                }
            }
        }
    }

    let mut packages: Vec<PackageRule> = Vec::new();
    let mut seen_packages: HashMap<(Ecosystem, String), u32> = HashMap::new();
    for (table, span) in tables(&mut reader, root, "package") {
        if let Some((rule, name_span)) = read_package(&mut reader, table, span) {
            let key = (rule.ecosystem, normalize_name(rule.ecosystem, &rule.name));
            let (line, _) = reader.position(&name_span);
            match seen_packages.get(&key) {
                Some(first) => reader.error(
                    name_span,
                    format!(
                        "package `{}` ({}) is already listed at line {first}; merge the two entries",
                        rule.name, rule.ecosystem
                    ),
                ),
                None => {
                    seen_packages.insert(key, line);
                    packages.push(rule);
                }
            }
        }
    }

    let errors = reader.finish();
    match revision {
        Some(revision) if errors.is_empty() => Ok(Catalog {
            revision,
            allow_unlisted_images,
            images,
            packages,
        }),
        _ => Err(errors),
    }
}

/// The tables of an array-of-tables key (`[[image]]`), with their spans.
fn tables<'t, 'i>(
    reader: &mut Reader<'_>,
    parent: &'t DeTable<'i>,
    key: &str,
) -> Vec<(&'t DeTable<'i>, Range<usize>)> {
    let Some(value) = parent.get(key) else {
        return Vec::new();
    };
    let Some(array) = reader.array(value, key, &format!("an array of tables (`[[{key}]]`)")) else {
        return Vec::new();
    };
    array
        .iter()
        .filter_map(|item| reader.table(item, key).map(|t| (t, item.span())))
        .collect()
}

fn location(reader: &Reader<'_>, span: &Range<usize>) -> Location {
    let (line, column) = reader.position(span);
    Location::new(reader.file, line, column)
}

fn optional_string(reader: &mut Reader<'_>, table: &DeTable<'_>, key: &str) -> Option<String> {
    table
        .get(key)
        .and_then(|v| reader.string(v, key))
        .map(|s| s.trim().to_string())
}

fn patterns(reader: &mut Reader<'_>, value: &Value<'_>, key: &str) -> Vec<TagPattern> {
    reader
        .strings(value, key)
        .into_iter()
        .filter_map(|(text, span)| match TagPattern::new(text) {
            Ok(p) => Some(p),
            Err(e) => {
                reader.error(span, e.to_string());
                None
            }
        })
        .collect()
}

/// Docker's tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn is_valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn is_valid_digest(digest: &str) -> bool {
    let hex_of = |s: &str, len: usize| {
        s.len() == len
            && s.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    };
    match digest.split_once(':') {
        Some(("sha256", hex)) => hex_of(hex, 64),
        Some(("sha512", hex)) => hex_of(hex, 128),
        _ => false,
    }
}

fn read_image(
    reader: &mut Reader<'_>,
    table: &DeTable<'_>,
    span: Range<usize>,
) -> Option<(ImageRule, Range<usize>)> {
    reader.check_keys(table, "[[image]]", &IMAGE_KEYS);
    let name_value = reader.require(table, "name", "[[image]]", span.clone(), "\"node\"");
    let name = name_value.and_then(|v| {
        let text = reader.string(v, "name")?;
        match ImageRef::parse(text) {
            Some(r) if r.tag.is_none() && r.digest.is_none() => Some(r.canonical_name()),
            Some(_) => {
                reader.error(
                    v.span(),
                    format!(
                        "image name `{text}` must not carry a tag or digest; list tags in `approved` and `tags`"
                    ),
                );
                None
            }
            None => {
                reader.error(v.span(), format!("`{text}` is not a valid image name"));
                None
            }
        }
    });

    let approved = table
        .get("approved")
        .map(|v| patterns(reader, v, "approved"))
        .unwrap_or_default();

    let mut tags = Vec::new();
    if let Some(value) = table.get("tags") {
        for (tag, tag_span) in reader.strings(value, "tags") {
            if !is_valid_tag(tag) {
                reader.error(tag_span, format!("`{tag}` is not a valid image tag"));
                continue;
            }
            // Tags are what a fix moves to; an unapproved one would make the bot propose a
            // change that its own check then flags. So this is an error, not a warning.
            if !approved.is_empty() && !approved.iter().any(|p| p.matches(tag)) {
                reader.error(
                    tag_span,
                    format!(
                        "tag `{tag}` matches no `approved` pattern; approve it or remove it from `tags`"
                    ),
                );
                continue;
            }
            tags.push(tag.to_string());
        }
    }

    let mut digests = BTreeMap::new();
    if let Some(value) = table.get("digests") {
        if let Some(map) = reader.table(value, "digests") {
            for (key, digest_value) in map.iter() {
                let tag: &str = key.get_ref();
                if !is_valid_tag(tag) {
                    reader.error(key.span(), format!("`{tag}` is not a valid image tag"));
                    continue;
                }
                let Some(digest) = reader.string(digest_value, "digests") else {
                    continue;
                };
                if !is_valid_digest(digest) {
                    reader.error(
                        digest_value.span(),
                        format!(
                            "digest for `{tag}` must be `sha256:` and 64 lowercase hex digits, not `{digest}`"
                        ),
                    );
                    continue;
                }
                digests.insert(tag.to_string(), digest.to_string());
            }
        }
    }

    let mut end_of_life = Vec::new();
    for (eol_table, eol_span) in tables(reader, table, "end-of-life") {
        if let Some(rule) = read_eol(reader, eol_table, eol_span, &approved) {
            end_of_life.push(rule);
        }
    }
    let mut vulnerable = Vec::new();
    for (v_table, v_span) in tables(reader, table, "vulnerable") {
        if let Some(rule) = read_vulnerable(reader, v_table, v_span) {
            vulnerable.push(rule);
        }
    }

    let rule = ImageRule {
        name: name?,
        approved,
        tags,
        preferred_variant: optional_string(reader, table, "preferred-variant"),
        default_user: optional_string(reader, table, "default-user"),
        digests,
        end_of_life,
        vulnerable,
        location: location(reader, &span),
    };
    Some((rule, name_value.map_or(span, |v| v.span())))
}

fn read_eol(
    reader: &mut Reader<'_>,
    table: &DeTable<'_>,
    span: Range<usize>,
    approved: &[TagPattern],
) -> Option<EolRule> {
    let section = "[[image.end-of-life]]";
    reader.check_keys(table, section, &EOL_KEYS);
    let tags = reader
        .require(table, "tags", section, span.clone(), "[\"16*\"]")
        .map(|v| non_empty_patterns(reader, v, "tags"));
    let date = reader
        .require(table, "date", section, span.clone(), "2023-09-11")
        .and_then(|v| reader.date(v, "date"));
    let blocks_after = match table.get("blocks-after") {
        Some(v) => {
            let blocks = reader.date(v, "blocks-after");
            if let (Some(b), Some(d)) = (blocks, date) {
                if b < d {
                    reader.error(
                        v.span(),
                        format!(
                            "`blocks-after` ({b}) is before the end-of-life `date` ({d}); the grace period must end after it starts"
                        ),
                    );
                }
            }
            blocks
        }
        None => None,
    };
    let replacement = match table.get("replacement") {
        Some(v) => reader
            .string(v, "replacement")
            .and_then(|text| check_replacement(reader, v, text, approved)),
        None => None,
    };
    Some(EolRule {
        tags: tags?,
        date: date?,
        blocks_after,
        replacement,
        reason: optional_string(reader, table, "reason"),
        location: location(reader, &span),
    })
}

/// A replacement is a tag of the same image (which must then be approved) or a full reference.
fn check_replacement(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
    text: &str,
    approved: &[TagPattern],
) -> Option<String> {
    let text = text.trim();
    if text.contains([':', '/', '@']) {
        if ImageRef::parse(text).is_none() {
            reader.error(
                value.span(),
                format!("`{text}` is neither a tag nor an image reference"),
            );
            return None;
        }
    } else if !is_valid_tag(text) {
        reader.error(value.span(), format!("`{text}` is not a valid image tag"));
        return None;
    } else if !approved.is_empty() && !approved.iter().any(|p| p.matches(text)) {
        reader.error(
            value.span(),
            format!("replacement tag `{text}` matches no `approved` pattern of this image"),
        );
        return None;
    }
    Some(text.to_string())
}

fn non_empty_patterns(reader: &mut Reader<'_>, value: &Value<'_>, key: &str) -> Vec<TagPattern> {
    if matches!(value.get_ref(), DeValue::Array(a) if a.is_empty()) {
        reader.error(
            value.span(),
            format!("`{key}` is empty, so the rule covers nothing; list tag patterns like \"16*\""),
        );
    }
    patterns(reader, value, key)
}

fn read_vulnerable(
    reader: &mut Reader<'_>,
    table: &DeTable<'_>,
    span: Range<usize>,
) -> Option<VulnerableRule> {
    let section = "[[image.vulnerable]]";
    reader.check_keys(table, section, &VULNERABLE_KEYS);
    let tags = reader
        .require(table, "tags", section, span.clone(), "[\"18.17.0*\"]")
        .map(|v| non_empty_patterns(reader, v, "tags"));
    let advisories = table
        .get("advisories")
        .map(|v| {
            reader
                .strings(v, "advisories")
                .into_iter()
                .map(|(s, _)| s.trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    let severity = reader
        .require(table, "severity", section, span.clone(), "\"high\"")
        .and_then(|v| {
            let text = reader.string(v, "severity")?;
            let parsed = Severity::parse(text);
            if parsed.is_none() {
                reader.error(
                    v.span(),
                    format!(
                        "unknown severity `{text}`; expected one of: low, medium, high, critical"
                    ),
                );
            }
            parsed
        });
    Some(VulnerableRule {
        tags: tags?,
        advisories,
        severity: severity?,
        reason: optional_string(reader, table, "reason"),
        location: location(reader, &span),
    })
}

fn read_package(
    reader: &mut Reader<'_>,
    table: &DeTable<'_>,
    span: Range<usize>,
) -> Option<(PackageRule, Range<usize>)> {
    let section = "[[package]]";
    let unknown_keys = reader.check_keys(table, section, &PACKAGE_KEYS);
    let ecosystem = reader
        .require(table, "ecosystem", section, span.clone(), "\"npm\"")
        .and_then(|v| {
            let text = reader.string(v, "ecosystem")?;
            match Ecosystem::parse(text) {
                Some(Ecosystem::Docker) => {
                    reader.error(
                        v.span(),
                        "images are listed with `[[image]]`, not `[[package]]`",
                    );
                    None
                }
                Some(eco) => Some(eco),
                None => {
                    reader.error(
                        v.span(),
                        format!(
                            "unknown ecosystem `{text}`; expected one of: crates.io, npm, PyPI, Go"
                        ),
                    );
                    None
                }
            }
        });
    let name_value = reader.require(table, "name", section, span.clone(), "\"lodash\"");
    let name = name_value.and_then(|v| reader.string(v, "name").map(|s| s.trim().to_string()));

    // Versions can only be checked once the ecosystem is known.
    let minimum = match (table.get("minimum"), ecosystem) {
        (Some(v), Some(eco)) => reader.string(v, "minimum").and_then(|text| {
            parse_version(eco, text)
                .map_err(|e| reader.error(v.span(), format!("`minimum`: {e}")))
                .ok()
        }),
        _ => None,
    };
    let mut banned = Vec::new();
    if let (Some(v), Some(eco)) = (table.get("banned"), ecosystem) {
        for (text, item_span) in reader.strings(v, "banned") {
            match Constraint::parse(eco, text) {
                Ok(c) => banned.push(c),
                Err(e) => reader.error(item_span, format!("`banned`: {e}")),
            }
        }
    }
    let replacement = optional_string(reader, table, "replacement");
    let says_something = ["minimum", "banned", "replacement"]
        .iter()
        .any(|k| table.contains_key(*k));
    // A misspelt `minimun` is already reported; saying "nothing given" as well is noise.
    if !says_something && unknown_keys == 0 {
        reader.error(
            span.clone(),
            "[[package]] says nothing about the package; give `minimum`, `banned` or `replacement`",
        );
    }
    let (ecosystem, name) = (ecosystem?, name?);
    let rule = PackageRule {
        normalized_name: normalize_name(ecosystem, &name),
        ecosystem,
        name,
        minimum,
        banned,
        replacement,
        reason: optional_string(reader, table, "reason"),
        location: location(reader, &span),
    };
    Some((rule, name_value.map_or(span, |v| v.span())))
}

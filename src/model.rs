//! The shared vocabulary of the pipeline: what a manifest yields (`Dependency`, `Fact`),
//! what a scan reports (`Finding`), what a fix changes (`Edit`).
//!
//! Every type here is plain data: no I/O, no clock. Paths are repository-relative with `/`
//! separators so the same finding reads the same on every machine and in the service.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Package ecosystems, named as OSV names them (plus `docker` for images).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ecosystem {
    #[serde(rename = "crates.io")]
    CratesIo,
    #[serde(rename = "npm")]
    Npm,
    #[serde(rename = "PyPI")]
    PyPI,
    #[serde(rename = "Go")]
    Go,
    #[serde(rename = "docker")]
    Docker,
    #[serde(rename = "RubyGems")]
    RubyGems,
    #[serde(rename = "Packagist")]
    Packagist,
    /// Debian's packages; OSV names the release too (`Debian:12`), kept in
    /// [`Affected::release`](crate::catalog::Affected::release).
    #[serde(rename = "Debian")]
    Debian,
    /// Ubuntu's packages (`Ubuntu:22.04`, `Ubuntu:Pro:22.04:LTS` in OSV).
    #[serde(rename = "Ubuntu")]
    Ubuntu,
    /// Alpine's packages (`Alpine:v3.19` in OSV).
    #[serde(rename = "Alpine")]
    Alpine,
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 10] = [
        Ecosystem::CratesIo,
        Ecosystem::Npm,
        Ecosystem::PyPI,
        Ecosystem::Go,
        Ecosystem::Docker,
        Ecosystem::RubyGems,
        Ecosystem::Packagist,
        Ecosystem::Debian,
        Ecosystem::Ubuntu,
        Ecosystem::Alpine,
    ];

    /// The operating-system distributions, whose OSV ecosystems carry a release.
    pub fn is_distribution(self) -> bool {
        matches!(
            self,
            Ecosystem::Debian | Ecosystem::Ubuntu | Ecosystem::Alpine
        )
    }

    /// The OSV spelling (`crates.io`, `npm`, `PyPI`, `Go`, `docker`).
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::Docker => "docker",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::Debian => "Debian",
            Ecosystem::Ubuntu => "Ubuntu",
            Ecosystem::Alpine => "Alpine",
        }
    }

    /// Parses the OSV spelling, case-insensitively (`pypi`, `PyPI`, `crates.io`, `cargo`...).
    pub fn parse(s: &str) -> Option<Ecosystem> {
        match s.to_ascii_lowercase().as_str() {
            "crates.io" | "cargo" | "crates" => Some(Ecosystem::CratesIo),
            "npm" => Some(Ecosystem::Npm),
            "pypi" | "pip" | "python" => Some(Ecosystem::PyPI),
            "go" | "golang" => Some(Ecosystem::Go),
            "docker" | "image" | "oci" => Some(Ecosystem::Docker),
            "rubygems" | "gem" | "ruby" => Some(Ecosystem::RubyGems),
            "packagist" | "composer" | "php" => Some(Ecosystem::Packagist),
            "debian" => Some(Ecosystem::Debian),
            "ubuntu" => Some(Ecosystem::Ubuntu),
            "alpine" => Some(Ecosystem::Alpine),
            _ => None,
        }
    }

    /// Short, branch-name-safe slug.
    pub fn slug(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Go => "go",
            Ecosystem::Docker => "docker",
            Ecosystem::RubyGems => "rubygems",
            Ecosystem::Packagist => "packagist",
            Ecosystem::Debian => "debian",
            Ecosystem::Ubuntu => "ubuntu",
            Ecosystem::Alpine => "alpine",
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A half-open byte range `[start, end)` into the original bytes of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        debug_assert!(start <= end);
        Span { start, end }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The text this span covers in `source`, if the span fits it.
    pub fn slice<'a>(&self, source: &'a str) -> Option<&'a str> {
        source.get(self.start..self.end)
    }
}

/// Where something is: a repository-relative file, a 1-based line and column, and when known the
/// exact bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub span: Option<Span>,
}

impl Location {
    pub fn new(file: impl Into<String>, line: u32, column: u32) -> Location {
        Location {
            file: file.into(),
            line,
            column,
            span: None,
        }
    }

    /// Builds a location from a byte span, computing line and column (both 1-based, column in
    /// characters) from `source`.
    pub fn from_span(file: impl Into<String>, source: &str, span: Span) -> Location {
        let (line, column) = line_column(source, span.start);
        Location {
            file: file.into(),
            line,
            column,
            span: Some(span),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// 1-based line and column (in characters) of byte `offset` in `source`. Offsets past the end
/// clamp to the end; offsets inside a multi-byte character count that character.
pub fn line_column(source: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(source.len());
    let before = &source.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line as u32, column as u32)
}

/// One piece of a text as written, after `ARG` substitution: either literal bytes of the file, or
/// the value of a build argument (whose default, when it has one, is where an edit must go).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Segment {
    /// The resolved text of this piece.
    pub text: String,
    pub source: SegmentSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SegmentSource {
    /// Bytes written literally at `span`.
    Literal { span: Span },
    /// The value of `ARG name`. `default_span` covers the default value's text in the `ARG`
    /// instruction (without quotes); `None` when the argument has no default in the file (it
    /// comes from the build command line, or is a BuildKit platform argument), so it cannot be
    /// edited here.
    Arg {
        name: String,
        default_span: Option<Span>,
    },
    /// Text the reference needs that the file does not hold byte for byte: the `:` between a
    /// Helm values block's `repository` and `tag`, or a YAML value written with escapes. A fix
    /// that would change it cannot be made in place.
    Implied,
}

/// An image reference as it resolves, e.g. `registry.example.com:5000/team/app:1.2-alpine@sha256:…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageRef {
    /// Registry host (with port) when written, e.g. `registry.example.com:5000`, `mcr.microsoft.com`.
    pub registry: Option<String>,
    /// Repository path as written, e.g. `node`, `team/app`, `dotnet/sdk`.
    pub repository: String,
    pub tag: Option<String>,
    /// Full digest including the algorithm, e.g. `sha256:ab…`.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses a resolved reference (`[registry/]repo[:tag][@digest]`). Returns `None` for an empty
    /// or obviously malformed reference (whitespace, empty repository).
    pub fn parse(reference: &str) -> Option<ImageRef> {
        let reference = reference.trim();
        if reference.is_empty() || reference.chars().any(char::is_whitespace) {
            return None;
        }
        let (rest, digest) = match reference.split_once('@') {
            Some((r, d)) if !d.is_empty() => (r, Some(d.to_string())),
            Some(_) => return None,
            None => (reference, None),
        };
        // A colon after the last slash separates the tag; a colon before it is a registry port.
        let last_slash = rest.rfind('/');
        let (name, tag) = match rest.rfind(':') {
            Some(colon) if last_slash.is_none_or(|s| colon > s) => {
                (&rest[..colon], Some(rest[colon + 1..].to_string()))
            }
            _ => (rest, None),
        };
        if name.is_empty() || tag.as_deref() == Some("") {
            return None;
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, remainder))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first.to_string()), remainder.to_string())
            }
            _ => (None, name.to_string()),
        };
        if repository.is_empty() {
            return None;
        }
        Some(ImageRef {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The name as written, without tag or digest: `registry.example.com:5000/team/app`, `node`.
    pub fn name(&self) -> String {
        match &self.registry {
            Some(r) => format!("{r}/{}", self.repository),
            None => self.repository.clone(),
        }
    }

    /// A canonical name for catalog matching: Docker Hub's implicit `docker.io/` and `library/`
    /// are dropped, so `docker.io/library/node`, `library/node` and `node` are all `node`.
    pub fn canonical_name(&self) -> String {
        let registry = self
            .registry
            .as_deref()
            .filter(|r| !matches!(*r, "docker.io" | "index.docker.io" | "registry-1.docker.io"));
        let repository = if registry.is_none() {
            self.repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
        } else {
            &self.repository
        };
        match registry {
            Some(r) => format!("{r}/{repository}"),
            None => repository.to_string(),
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// How a version or tag can be changed in place.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum EditMode {
    /// Replacing the text at the dependency's spans gives a valid file.
    InPlace,
    /// The file also records checksums or resolved URLs that only the package manager can
    /// recompute: the fix is reported as needing a re-lock.
    ///
    /// `reason` says why, and what to run, in words that hold for every entry of its kind in
    /// the file (`<package>` stands for the name): parsers build it once per file and share it,
    /// because one copy per entry was megabytes on a large lockfile. The fix's own relock
    /// command names the package and the version. Entries that need their own advice (an alias,
    /// a git source) get their own text.
    NeedsRelock { reason: Arc<str> },
}

/// How a dependency got into the file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DependencyKind {
    /// Declared by the project itself (requirements.txt, go.mod `require` without `// indirect`,
    /// a package-lock entry that package.json names).
    Direct,
    /// Pulled in by another dependency.
    Transitive,
    /// A `FROM` image; `stage` is the stage index, `alias` its `AS` name, `final_stage` whether it
    /// is the last stage (the one that ships).
    BaseImage {
        stage: usize,
        alias: Option<String>,
        final_stage: bool,
    },
    /// An image copied from with `COPY --from=image` (or `RUN --mount=from=image`).
    CopySource { stage: usize },
}

/// Something a manifest depends on: a package at a version, or an image at a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub ecosystem: Ecosystem,
    /// Package name as the ecosystem spells it; for images, [`ImageRef::name`].
    pub name: String,
    /// The version or tag, `None` when not written (an image without tag, an unpinned requirement).
    pub version: Option<String>,
    /// The pinned digest (`sha256:…`) of an image, when written.
    pub digest: Option<String>,
    pub kind: DependencyKind,
    /// The location of the dependency's declaration (the `FROM` line, the lockfile entry).
    pub location: Location,
    /// Every span whose text is the version and must change together when it changes (a
    /// package-lock v2 entry names the version twice; an image tag may come from an `ARG`).
    /// Empty when the version cannot be edited in place (not written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub version_spans: Vec<Span>,
    /// For images: the whole reference as written, piece by piece after `ARG` substitution, so a
    /// fix can edit the literal or the `ARG` default that holds the text it changes. Boxed: only
    /// images have one, and inline it made every lockfile entry 120 bytes larger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Box<ImageSite>>,
    pub edit_mode: EditMode,
}

impl DependencyKind {
    /// `Direct` when the project itself names the package, else `Transitive`.
    pub fn package(direct: bool) -> DependencyKind {
        if direct {
            DependencyKind::Direct
        } else {
            DependencyKind::Transitive
        }
    }
}

impl Dependency {
    /// A package pinned in a lockfile that is fixed by re-locking, not by editing its text:
    /// what every lockfile reader gives for an entry.
    pub fn locked(
        ecosystem: Ecosystem,
        (name, version): (&str, &str),
        kind: DependencyKind,
        location: Location,
        version_spans: Vec<Span>,
        reason: Arc<str>,
    ) -> Dependency {
        Dependency {
            ecosystem,
            name: name.to_string(),
            version: Some(version.to_string()),
            digest: None,
            kind,
            location,
            version_spans,
            image: None,
            edit_mode: EditMode::NeedsRelock { reason },
        }
    }
}

/// Where an image reference lives in a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSite {
    pub reference: ImageRef,
    /// Concatenating the segments' `text` gives `reference.to_string()` exactly.
    pub segments: Vec<Segment>,
}

/// Facts a manifest states that are not dependencies, but that policy cares about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "kebab-case")]
pub enum Fact {
    /// The user the final stage of a Dockerfile runs as. `user` is `None` when no `USER`
    /// instruction applies (so the image's default, usually root); `location` is the `USER`
    /// line, or the final `FROM` line when there is none.
    FinalStageUser {
        user: Option<String>,
        location: Location,
        /// The stage whose image the final stage is built on, following `FROM <stage>` chains
        /// to their root (the image that ships).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image_stage: Option<usize>,
    },
    /// An OS package install without pinned versions (`apt-get install curl`, `apk add git`).
    UnpinnedOsPackages {
        manager: String,
        packages: Vec<String>,
        location: Location,
    },
}

/// A file that could not be read or parsed (in full or in part), or a note about what in it
/// was left out. Never fatal to a scan.
///
/// Built with [`FileError::new`] and the `with_*` methods; the fields after `message` were added
/// later and are optional in JSON, so older readers and stored reports still work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileError {
    pub file: String,
    /// 1-based; 0 when the error concerns the whole file (unreadable, not UTF-8).
    pub line: u32,
    pub message: String,
    /// What went wrong, as a stable id (`None` from readers that do not give one yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<ErrorCode>,
    /// 1-based column, in characters, of `span.start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// The bytes of the file the entry is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// `error` unless said otherwise; omitted from JSON when `error`.
    #[serde(default, skip_serializing_if = "ErrorSeverity::is_error")]
    pub severity: ErrorSeverity,
}

impl FileError {
    pub fn new(file: &str, line: u32, message: impl Into<String>) -> FileError {
        FileError {
            file: file.to_string(),
            line,
            message: message.into(),
            ..FileError::default()
        }
    }

    /// Sets the code, and the severity the code has.
    pub fn with_code(mut self, code: ErrorCode) -> FileError {
        self.code = Some(code);
        self.severity = code.severity();
        self
    }

    /// Sets the span and the line and column of its start in `source`.
    pub fn with_span(mut self, source: &str, span: Span) -> FileError {
        let (line, column) = line_column(source, span.start);
        self.line = line;
        self.column = Some(column);
        self.span = Some(span);
        self
    }

    /// A note: the file was read, but something in it was left out or cannot be known.
    pub fn is_note(&self) -> bool {
        self.severity == ErrorSeverity::Note
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// How much a [`FileError`] weighs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorSeverity {
    /// Part of the file could not be read: what it holds may be missing from the scan.
    #[default]
    Error,
    /// The file was read; something in it was deliberately left out or cannot be known
    /// statically (a template, an image named by a build argument without a default).
    Note,
}

impl ErrorSeverity {
    pub fn is_error(&self) -> bool {
        *self == ErrorSeverity::Error
    }
}

/// Stable ids of what a reader can report about a file, as cargo-deny codes its diagnostics.
/// Users and tools match on them, so an id never changes meaning once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    DockerfileTemplate,
    DockerfileNoFrom,
    DockerfileUnknownInstruction,
    DockerfileInstructionBeforeFrom,
    DockerfileBadFrom,
    DockerfileInvalidReference,
    DockerfileImageUnknown,
    DockerfileUndeclaredArg,
    DockerfileSubstitution,
    DockerfileUnterminatedHeredoc,
    DockerfileBadDirective,
    DockerfileMissingArgument,
    RequirementsUnparsedLine,
    RequirementsSkippedLine,
    RequirementsInclude,
    LockfileSyntax,
    LockfileTruncated,
    LockfileEntry,
    AdvisoryInvalid,
    AdvisoryEntrySkipped,
    YamlSyntax,
    ImageNotResolvable,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 22] = [
        ErrorCode::DockerfileTemplate,
        ErrorCode::DockerfileNoFrom,
        ErrorCode::DockerfileUnknownInstruction,
        ErrorCode::DockerfileInstructionBeforeFrom,
        ErrorCode::DockerfileBadFrom,
        ErrorCode::DockerfileInvalidReference,
        ErrorCode::DockerfileImageUnknown,
        ErrorCode::DockerfileUndeclaredArg,
        ErrorCode::DockerfileSubstitution,
        ErrorCode::DockerfileUnterminatedHeredoc,
        ErrorCode::DockerfileBadDirective,
        ErrorCode::DockerfileMissingArgument,
        ErrorCode::RequirementsUnparsedLine,
        ErrorCode::RequirementsSkippedLine,
        ErrorCode::RequirementsInclude,
        ErrorCode::LockfileSyntax,
        ErrorCode::LockfileTruncated,
        ErrorCode::LockfileEntry,
        ErrorCode::AdvisoryInvalid,
        ErrorCode::AdvisoryEntrySkipped,
        ErrorCode::YamlSyntax,
        ErrorCode::ImageNotResolvable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::DockerfileTemplate => "dockerfile-template",
            ErrorCode::DockerfileNoFrom => "dockerfile-no-from",
            ErrorCode::DockerfileUnknownInstruction => "dockerfile-unknown-instruction",
            ErrorCode::DockerfileInstructionBeforeFrom => "dockerfile-instruction-before-from",
            ErrorCode::DockerfileBadFrom => "dockerfile-bad-from",
            ErrorCode::DockerfileInvalidReference => "dockerfile-invalid-reference",
            ErrorCode::DockerfileImageUnknown => "dockerfile-image-unknown",
            ErrorCode::DockerfileUndeclaredArg => "dockerfile-undeclared-arg",
            ErrorCode::DockerfileSubstitution => "dockerfile-substitution",
            ErrorCode::DockerfileUnterminatedHeredoc => "dockerfile-unterminated-heredoc",
            ErrorCode::DockerfileBadDirective => "dockerfile-bad-directive",
            ErrorCode::DockerfileMissingArgument => "dockerfile-missing-argument",
            ErrorCode::RequirementsUnparsedLine => "requirements-unparsed-line",
            ErrorCode::RequirementsSkippedLine => "requirements-skipped-line",
            ErrorCode::RequirementsInclude => "requirements-include",
            ErrorCode::LockfileSyntax => "lockfile-syntax",
            ErrorCode::LockfileTruncated => "lockfile-truncated",
            ErrorCode::LockfileEntry => "lockfile-entry",
            ErrorCode::AdvisoryInvalid => "advisory-invalid",
            ErrorCode::AdvisoryEntrySkipped => "advisory-entry-skipped",
            ErrorCode::YamlSyntax => "yaml-syntax",
            ErrorCode::ImageNotResolvable => "image-not-resolvable",
        }
    }

    pub fn parse(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Notes say what was left out of a file that was otherwise read; errors say the file could
    /// not be read in full.
    pub fn severity(self) -> ErrorSeverity {
        match self {
            ErrorCode::DockerfileTemplate
            | ErrorCode::DockerfileImageUnknown
            | ErrorCode::RequirementsSkippedLine
            | ErrorCode::RequirementsInclude
            | ErrorCode::AdvisoryEntrySkipped
            | ErrorCode::ImageNotResolvable => ErrorSeverity::Note,
            _ => ErrorSeverity::Error,
        }
    }

    /// One line for README.
    pub fn description(self) -> &'static str {
        match self {
            ErrorCode::DockerfileTemplate => {
                "The file is a template (`.template`, `.tt`, `.tmpl`, `.j2`, `.erb`, or `{{` / `<%` in its text), not a Dockerfile: not scanned."
            }
            ErrorCode::DockerfileNoFrom => "The Dockerfile has no `FROM`.",
            ErrorCode::DockerfileUnknownInstruction => {
                "A line starts with a word that is not a Dockerfile instruction."
            }
            ErrorCode::DockerfileInstructionBeforeFrom => {
                "An instruction other than `ARG` comes before the first `FROM`."
            }
            ErrorCode::DockerfileBadFrom => "A `FROM` has no image, or too many words.",
            ErrorCode::DockerfileInvalidReference => "An image reference is not valid.",
            ErrorCode::DockerfileImageUnknown => {
                "An image is named through a build argument whose value the file does not give (no default, or a platform argument): that image is not checked."
            }
            ErrorCode::DockerfileUndeclaredArg => {
                "An image uses `$NAME` that no `ARG` declares where it is used (Docker substitutes an empty string)."
            }
            ErrorCode::DockerfileSubstitution => "A `${...}` substitution is malformed.",
            ErrorCode::DockerfileUnterminatedHeredoc => "A heredoc is never closed.",
            ErrorCode::DockerfileBadDirective => {
                "A parser directive (`# escape=`, `# syntax=`) is invalid or repeated."
            }
            ErrorCode::DockerfileMissingArgument => "An `ARG` or `USER` has no value.",
            ErrorCode::RequirementsUnparsedLine => {
                "A requirements line is not a requirement pip would accept: it is skipped."
            }
            ErrorCode::RequirementsSkippedLine => {
                "A requirement that is a URL, a VCS reference, a local path or uses `${VARIABLES}`: not from an index, so not checked."
            }
            ErrorCode::RequirementsInclude => {
                "A `-r`/`-c` include names a file that is not scanned as a requirements file, or that is not in the repository."
            }
            ErrorCode::LockfileSyntax => {
                "The lockfile (or go.mod / go.sum) is not valid in its format here."
            }
            ErrorCode::LockfileTruncated => {
                "A value is cut off (the file ends inside it): the entry is not reported rather than reported with a wrong version."
            }
            ErrorCode::LockfileEntry => {
                "A lockfile entry lacks a name or version, or has one of the wrong type: it is skipped."
            }
            ErrorCode::AdvisoryInvalid => {
                "An OSV advisory record could not be read: it is not used."
            }
            ErrorCode::AdvisoryEntrySkipped => {
                "One entry of an OSV record (a `versions[]` item) could not be read: it is skipped, the rest of the record is used."
            }
            ErrorCode::YamlSyntax => {
                "A Compose file, Kubernetes manifest, Helm values file or workflow is not valid YAML here: the images after that point are not read."
            }
            ErrorCode::ImageNotResolvable => {
                "An image in a YAML file is templated (`{{ .Values.x }}`, `${TAG}`, `${{ matrix.image }}`) or its tag is left to the chart: it is not guessed, and not checked."
            }
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one manifest file yields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedManifest {
    pub file: String,
    pub dependencies: Vec<Dependency>,
    pub facts: Vec<Fact>,
    pub errors: Vec<FileError>,
}

/// The three levels of policy, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Info,
    Warning,
    Blocker,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Blocker => "blocker",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "info" | "note" => Some(Level::Info),
            "warning" | "warn" => Some(Level::Warning),
            "blocker" | "block" | "error" => Some(Level::Blocker),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Advisory severity, from the CVSS base score or the database's own label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// CVSS v3 qualitative rating of a base score.
    pub fn from_score(score: f64) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::Unknown,
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Some(Severity::Critical),
            "high" => Some(Severity::High),
            "medium" | "moderate" => Some(Severity::Medium),
            "low" => Some(Severity::Low),
            "unknown" | "none" => Some(Severity::Unknown),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One replacement of bytes in one file: `span` in the original content becomes `replacement`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Edit {
    pub file: String,
    pub span: Span,
    pub replacement: String,
}

/// What an exception granted in a comment (`accept-risk`) or an `explain` refers to: shared by
/// the comment grammar that parses it and the store that keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// An advisory id or alias, normalised: prefix upper case, GHSA body lower case (as OSV
    /// spells them), so `cve-2024-1` and `CVE-2024-1` are the same exception.
    Advisory(String),
    Rule(RuleId),
}

impl Target {
    pub fn as_str(&self) -> &str {
        match self {
            Target::Advisory(id) => id,
            Target::Rule(rule) => rule.as_str(),
        }
    }
}

/// Stable rule ids. Each finding names one; users refer to them in config and commands, so an id
/// never changes meaning once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleId {
    VulnerableDependency,
    VulnerableImage,
    EolBaseImage,
    UnapprovedBaseImage,
    ImageTagNotPinned,
    ImageDigestNotPinned,
    ImageDigestRefresh,
    RunsAsRoot,
    UnpinnedOsPackages,
    DependencyBelowMinimum,
    DependencyBanned,
    ExceptionExpired,
    ExceptionUnused,
}

impl RuleId {
    pub const ALL: [RuleId; 13] = [
        RuleId::VulnerableDependency,
        RuleId::VulnerableImage,
        RuleId::EolBaseImage,
        RuleId::UnapprovedBaseImage,
        RuleId::ImageTagNotPinned,
        RuleId::ImageDigestNotPinned,
        RuleId::ImageDigestRefresh,
        RuleId::RunsAsRoot,
        RuleId::UnpinnedOsPackages,
        RuleId::DependencyBelowMinimum,
        RuleId::DependencyBanned,
        RuleId::ExceptionExpired,
        RuleId::ExceptionUnused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::VulnerableDependency => "vulnerable-dependency",
            RuleId::VulnerableImage => "vulnerable-image",
            RuleId::EolBaseImage => "eol-base-image",
            RuleId::UnapprovedBaseImage => "unapproved-base-image",
            RuleId::ImageTagNotPinned => "image-tag-not-pinned",
            RuleId::ImageDigestNotPinned => "image-digest-not-pinned",
            RuleId::ImageDigestRefresh => "image-digest-refresh",
            RuleId::RunsAsRoot => "runs-as-root",
            RuleId::UnpinnedOsPackages => "unpinned-os-packages",
            RuleId::DependencyBelowMinimum => "dependency-below-minimum",
            RuleId::DependencyBanned => "dependency-banned",
            RuleId::ExceptionExpired => "exception-expired",
            RuleId::ExceptionUnused => "exception-unused",
        }
    }

    pub fn parse(s: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// One line for README, SARIF rule metadata and `explain`.
    pub fn description(self) -> &'static str {
        match self {
            RuleId::VulnerableDependency => {
                "A package version is affected by a published advisory (OSV)."
            }
            RuleId::VulnerableImage => {
                "A base image tag is listed as known-vulnerable in the catalog."
            }
            RuleId::EolBaseImage => "A base image tag is past its end of life.",
            RuleId::UnapprovedBaseImage => {
                "A base image, or its tag, is not on the catalog's approved list."
            }
            RuleId::ImageTagNotPinned => {
                "An image has no tag or uses `latest`, so each build may get a different image."
            }
            RuleId::ImageDigestNotPinned => {
                "An image is referenced by tag only; a digest pin makes builds reproducible."
            }
            RuleId::ImageDigestRefresh => {
                "A pinned tag was rebuilt: the registry's digest for it moved (a refresh, batched into one low-urgency PR)."
            }
            RuleId::RunsAsRoot => "The final stage of a Dockerfile runs as root.",
            RuleId::UnpinnedOsPackages => {
                "OS packages are installed without versions (`apt-get install`, `apk add`)."
            }
            RuleId::DependencyBelowMinimum => {
                "A dependency is below the catalog's minimum safe version."
            }
            RuleId::DependencyBanned => "A dependency version is banned by the catalog.",
            RuleId::ExceptionExpired => {
                "An exception (in the repository config, or granted with `accept-risk`) has expired and no longer suppresses."
            }
            RuleId::ExceptionUnused => {
                "An exception in the repository config matched no finding; remove it or fix its id."
            }
        }
    }

    /// The level a finding of this rule gets when no tier, catalog date or severity says
    /// otherwise.
    pub fn default_level(self) -> Level {
        match self {
            RuleId::VulnerableDependency
            | RuleId::VulnerableImage
            | RuleId::EolBaseImage
            | RuleId::DependencyBanned => Level::Blocker,
            RuleId::UnapprovedBaseImage
            | RuleId::ImageTagNotPinned
            | RuleId::RunsAsRoot
            | RuleId::DependencyBelowMinimum
            | RuleId::ExceptionExpired => Level::Warning,
            RuleId::ImageDigestNotPinned
            | RuleId::ImageDigestRefresh
            | RuleId::UnpinnedOsPackages
            | RuleId::ExceptionUnused => Level::Info,
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An advisory as a finding cites it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvisoryRef {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub summary: String,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_vector: Option<String>,
    /// The versions that fix it, as the advisory states them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What kind of change a fix makes, for the risk statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Patch,
    Minor,
    Major,
    /// A tag change that also changes the image variant (e.g. `alpine3.18` → `alpine3.20`).
    Variant,
    /// A different image or package altogether (the catalog's replacement).
    Replacement,
    /// Only the digest changes.
    Digest,
    /// Versions that cannot be compared (e.g. `lts` → `20.18.0`).
    Unknown,
}

/// A planned fix for one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// The version, tag or reference now.
    pub from: String,
    /// The version, tag or reference after the fix.
    pub to: String,
    pub change: ChangeKind,
    /// Minimal byte edits; empty when the fix needs a re-lock.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<Edit>,
    /// When the file cannot be edited without the package manager: the command to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relock: Option<String>,
    /// Advisory ids (and rule ids) this fix clears.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clears: Vec<String>,
    /// What the change itself risks or needs (variant change, go.sum refresh, digest kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Where an exception comes from. Flattened into the JSON of whatever carries it, so an
/// exception from the repository config keeps its `location` key exactly as before, and one
/// granted with `accept-risk` carries `granted_by`, `granted_at` and `source` instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ExceptionOrigin {
    /// Written in the repository config, at this place.
    Config { location: Location },
    /// Granted with an `accept-risk` comment.
    Command {
        /// The login of who granted it, without `@`.
        granted_by: String,
        granted_at: chrono::NaiveDate,
        /// Where it was granted: `acme/shop#12 comment 345`, or a URL.
        source: String,
    },
}

impl ExceptionOrigin {
    /// Where the exception is written, when it is written in a file.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ExceptionOrigin::Config { location } => Some(location),
            ExceptionOrigin::Command { .. } => None,
        }
    }

    /// Who granted it and where, or where it is written, in words:
    /// `.github/patchwright.toml:4`, `granted by @alice on 2026-11-02 in acme/shop#12 comment 345`.
    pub fn describe(&self) -> String {
        match self {
            ExceptionOrigin::Config { location } => location.to_string(),
            ExceptionOrigin::Command {
                granted_by,
                granted_at,
                source,
            } => format!("granted by @{granted_by} on {granted_at} in {source}"),
        }
    }
}

/// An exception that suppresses a finding, as the finding reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedException {
    pub id: String,
    pub reason: String,
    pub owner: String,
    pub expires: chrono::NaiveDate,
    /// Where the exception is written, or who granted it and where.
    #[serde(flatten)]
    pub origin: ExceptionOrigin,
}

/// One thing that violates, or is worth noting under, the policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: RuleId,
    /// The level the policy gives it (the rule's default until `policy` has run).
    pub level: Level,
    pub file: String,
    pub line: u32,
    #[serde(skip)]
    pub location: Location,
    /// What the finding is about, as a person would name it: `node:16-alpine`, `lodash@4.17.20`.
    pub subject: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<Ecosystem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Advisory ids (preferred id first, aliases in `advisory_details`).
    pub advisories: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advisory_details: Vec<AdvisoryRef>,
    /// The highest severity among the cited advisories, or the catalog's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// A date from which the catalog says this finding blocks whatever the tier (end of life).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks_after: Option<chrono::NaiveDate>,
    pub fix: Option<Fix>,
    /// Why there is no fix, when there is none and one would be expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_fix_reason: Option<String>,
    /// Why the finding has its level (tier, severity threshold, catalog date, exception).
    #[serde(default)]
    pub level_reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<AppliedException>,
    /// Other rules that report the same problem (the same dependency, with the same fix or the
    /// same reason there is none), folded into this finding so one problem is one finding:
    /// a package both vulnerable and banned is one finding led by the more urgent rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Reason>,
    /// The dependency the finding is about, for planning edits. Not part of the JSON contract.
    #[serde(skip)]
    pub dependency: Option<Box<Dependency>>,
}

/// One more reason a finding is reported: a rule that found the same problem, with its own
/// level, message and exception (see [`Finding::also`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub rule: RuleId,
    pub level: Level,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advisories: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advisory_details: Vec<AdvisoryRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub level_reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<AppliedException>,
}

impl Reason {
    /// Whether this reason counts at its level (an exception suppresses it).
    pub fn is_active(&self) -> bool {
        self.exception.is_none()
    }
}

impl From<Finding> for Reason {
    fn from(f: Finding) -> Reason {
        Reason {
            rule: f.rule,
            level: f.level,
            message: f.message,
            advisories: f.advisories,
            advisory_details: f.advisory_details,
            severity: f.severity,
            level_reason: f.level_reason,
            exception: f.exception,
        }
    }
}

impl Finding {
    /// A finding at `location` with the rule's default level and nothing else filled in.
    pub fn new(
        rule: RuleId,
        location: Location,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            rule,
            level: rule.default_level(),
            file: location.file.clone(),
            line: location.line,
            location,
            subject: subject.into(),
            message: message.into(),
            ecosystem: None,
            package: None,
            version: None,
            advisories: Vec::new(),
            advisory_details: Vec::new(),
            severity: None,
            blocks_after: None,
            fix: None,
            no_fix_reason: None,
            level_reason: String::new(),
            exception: None,
            also: Vec::new(),
            dependency: None,
        }
    }

    /// Whether the finding counts at its level (an exception suppresses it).
    pub fn is_active(&self) -> bool {
        self.exception.is_none()
    }

    /// Every id this finding answers to: its rules, the advisories and their aliases (those of
    /// the reasons folded into it included).
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        let own = std::iter::once(self.rule.as_str())
            .chain(self.advisories.iter().map(String::as_str))
            .chain(
                self.advisory_details
                    .iter()
                    .flat_map(|a| a.aliases.iter().map(String::as_str)),
            );
        let also = self.also.iter().flat_map(|r| {
            std::iter::once(r.rule.as_str())
                .chain(r.advisories.iter().map(String::as_str))
                .chain(
                    r.advisory_details
                        .iter()
                        .flat_map(|a| a.aliases.iter().map(String::as_str)),
                )
        });
        own.chain(also)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A monorepo holds one `Dependency` per lockfile entry, a hundred thousand of them, and a
    /// copy in every finding: what only images have (their `ImageSite`, 120 bytes) stays behind a
    /// pointer. 224 bytes on 64-bit targets; 336 with the site inline.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_dependency_stays_small() {
        let size = std::mem::size_of::<Dependency>();
        assert!(size <= 224, "Dependency is {size} bytes");
    }

    #[test]
    fn error_codes_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let id = code.as_str();
            assert!(seen.insert(id), "duplicate error code {id}");
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
            assert_eq!(ErrorCode::parse(id), Some(code));
            assert_eq!(serde_json::to_value(code).unwrap(), id);
            assert!(!code.description().is_empty());
        }
    }

    #[test]
    fn readme_documents_every_error_code() {
        let readme = include_str!("../README.md");
        for code in ErrorCode::ALL {
            let severity = match code.severity() {
                ErrorSeverity::Error => "error",
                ErrorSeverity::Note => "note",
            };
            let row = format!("| `{code}` | {severity} | {} |", code.description());
            assert!(readme.contains(&row), "README lacks: {row}");
        }
    }

    #[test]
    fn file_errors_without_the_new_fields_still_read_and_write_the_same() {
        let old = r#"{"file":"Dockerfile","line":3,"message":"m"}"#;
        let error: FileError = serde_json::from_str(old).unwrap();
        assert_eq!(error, FileError::new("Dockerfile", 3, "m"));
        assert_eq!(serde_json::to_string(&error).unwrap(), old);
        let coded = FileError::new("Dockerfile", 0, "m")
            .with_code(ErrorCode::DockerfileTemplate)
            .with_span("a\nbc", Span::new(3, 4));
        let json = serde_json::to_value(&coded).unwrap();
        assert_eq!(json["code"], "dockerfile-template");
        assert_eq!(json["severity"], "note");
        assert_eq!(
            (json["line"].as_u64(), json["column"].as_u64()),
            (Some(2), Some(2))
        );
        assert_eq!(json["span"]["start"], 3);
        assert!(coded.is_note());
    }

    #[test]
    fn rule_ids_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for rule in RuleId::ALL {
            let id = rule.as_str();
            assert!(seen.insert(id), "duplicate rule id {id}");
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
            assert_eq!(RuleId::parse(id), Some(rule));
            assert_eq!(serde_json::to_value(rule).unwrap(), serde_json::json!(id));
            assert!(!rule.description().is_empty());
        }
    }

    #[test]
    fn image_refs_parse_registry_port_tag_and_digest() {
        let r =
            ImageRef::parse("registry.example.com:5000/team/app:1.2-alpine@sha256:abc").unwrap();
        assert_eq!(r.registry.as_deref(), Some("registry.example.com:5000"));
        assert_eq!(r.repository, "team/app");
        assert_eq!(r.tag.as_deref(), Some("1.2-alpine"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        assert_eq!(r.name(), "registry.example.com:5000/team/app");
        assert_eq!(
            r.to_string(),
            "registry.example.com:5000/team/app:1.2-alpine@sha256:abc"
        );

        let r = ImageRef::parse("localhost:5000/app").unwrap();
        assert_eq!(r.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(r.tag, None);

        let r = ImageRef::parse("docker.io/library/node:20").unwrap();
        assert_eq!(r.canonical_name(), "node");
        assert_eq!(
            ImageRef::parse("gloursdocker/docker")
                .unwrap()
                .canonical_name(),
            "gloursdocker/docker"
        );
        assert_eq!(
            ImageRef::parse("mcr.microsoft.com/dotnet/sdk:6.0")
                .unwrap()
                .canonical_name(),
            "mcr.microsoft.com/dotnet/sdk"
        );

        for bad in ["", "node:", "a b", "node@", ":tag"] {
            assert_eq!(ImageRef::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn line_column_counts_characters() {
        let src = "ab\ncé d\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 3), (2, 1));
        assert_eq!(line_column(src, 6), (2, 3));
        assert_eq!(line_column(src, 999), (3, 1));
    }
}

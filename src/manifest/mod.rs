//! File name → parser. Every parser is a pure function `(file, source) -> ParsedManifest` that
//! never panics and turns malformed input into `FileError`s with a line.

pub mod cargo_lock;
pub mod compose;
pub mod composer_lock;
pub mod dockerfile;
pub mod gemfile_lock;
pub mod go_mod;
pub mod helm_values;
mod json_doc;
mod json_tree;
pub mod kubernetes;
pub mod npm_lock;
pub mod pipfile_lock;
pub mod pnpm_lock;
pub mod poetry_lock;
pub mod requirements;
pub mod uv_lock;
pub mod workflow;
pub(crate) mod yaml;
mod yaml_images;
pub mod yarn_lock;

use crate::model::{FileError, ParsedManifest, Span};

/// The kinds of file patchwright reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestKind {
    Dockerfile,
    CargoLock,
    PackageLock,
    YarnLock,
    Requirements,
    PoetryLock,
    GoMod,
    GoSum,
    PnpmLock,
    UvLock,
    PipfileLock,
    GemfileLock,
    ComposerLock,
    Compose,
    Kubernetes,
    HelmValues,
    Workflow,
}

impl ManifestKind {
    pub const ALL: [ManifestKind; 17] = [
        ManifestKind::Dockerfile,
        ManifestKind::CargoLock,
        ManifestKind::PackageLock,
        ManifestKind::YarnLock,
        ManifestKind::Requirements,
        ManifestKind::PoetryLock,
        ManifestKind::GoMod,
        ManifestKind::GoSum,
        ManifestKind::PnpmLock,
        ManifestKind::UvLock,
        ManifestKind::PipfileLock,
        ManifestKind::GemfileLock,
        ManifestKind::ComposerLock,
        ManifestKind::Compose,
        ManifestKind::Kubernetes,
        ManifestKind::HelmValues,
        ManifestKind::Workflow,
    ];

    /// Files that name images (and no packages): Dockerfiles and the YAML that deploys images.
    pub fn names_images(self) -> bool {
        matches!(
            self,
            ManifestKind::Dockerfile
                | ManifestKind::Compose
                | ManifestKind::Kubernetes
                | ManifestKind::HelmValues
                | ManifestKind::Workflow
        )
    }
}

/// Which parser reads the file at `path` (repository-relative, `/`-separated), judged by its
/// file name alone.
pub fn detect(path: &str) -> Option<ManifestKind> {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    let kind = match name {
        "Cargo.lock" => ManifestKind::CargoLock,
        "package-lock.json" | "npm-shrinkwrap.json" => ManifestKind::PackageLock,
        "yarn.lock" => ManifestKind::YarnLock,
        "poetry.lock" => ManifestKind::PoetryLock,
        "go.mod" => ManifestKind::GoMod,
        "go.sum" => ManifestKind::GoSum,
        "pnpm-lock.yaml" => ManifestKind::PnpmLock,
        "uv.lock" => ManifestKind::UvLock,
        "Pipfile.lock" => ManifestKind::PipfileLock,
        "Gemfile.lock" | "gems.locked" => ManifestKind::GemfileLock,
        "composer.lock" => ManifestKind::ComposerLock,
        _ if is_dockerfile_name(name) => ManifestKind::Dockerfile,
        _ if lower.starts_with("requirements") && lower.ends_with(".txt") => {
            ManifestKind::Requirements
        }
        _ if !(lower.ends_with(".yaml") || lower.ends_with(".yml")) => return None,
        _ if path.contains(".github/workflows/") => ManifestKind::Workflow,
        _ if lower.starts_with("docker-compose") || lower.starts_with("compose.") => {
            ManifestKind::Compose
        }
        _ if lower.starts_with("values.") || lower.starts_with("values-") => {
            ManifestKind::HelmValues
        }
        // Any other YAML may be a Kubernetes manifest: its content says (`kind`, containers).
        _ => ManifestKind::Kubernetes,
    };
    Some(kind)
}

/// `Dockerfile`, `Containerfile`, `Dockerfile.<suffix>`, `<prefix>.Dockerfile` (and the
/// lower-case spellings people use).
fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(lower.as_str(), "dockerfile" | "containerfile")
        || lower.starts_with("dockerfile.")
        || lower.starts_with("containerfile.")
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
}

/// Parses `source`, the content of `file`, as `kind`.
pub fn parse(kind: ManifestKind, file: &str, source: &str) -> ParsedManifest {
    let mut parsed = match kind {
        ManifestKind::Dockerfile => dockerfile::parse(file, source),
        ManifestKind::CargoLock => cargo_lock::parse(file, source),
        ManifestKind::PackageLock => npm_lock::parse(file, source),
        ManifestKind::YarnLock => yarn_lock::parse(file, source),
        ManifestKind::Requirements => requirements::parse(file, source),
        ManifestKind::PoetryLock => poetry_lock::parse(file, source),
        ManifestKind::GoMod => go_mod::parse_go_mod(file, source),
        ManifestKind::GoSum => go_mod::parse_go_sum(file, source),
        ManifestKind::PnpmLock => pnpm_lock::parse(file, source),
        ManifestKind::UvLock => uv_lock::parse(file, source),
        ManifestKind::PipfileLock => pipfile_lock::parse(file, source),
        ManifestKind::GemfileLock => gemfile_lock::parse(file, source),
        ManifestKind::ComposerLock => composer_lock::parse(file, source),
        ManifestKind::Compose => compose::parse(file, source),
        ManifestKind::Kubernetes => kubernetes::parse(file, source),
        ManifestKind::HelmValues => helm_values::parse(file, source),
        ManifestKind::Workflow => workflow::parse(file, source),
    };
    locate_errors(source, &mut parsed.errors);
    // A lockfile's list grew by doubling: up to half of a 5,000-entry buffer is empty, and the
    // manifests are kept for the whole scan.
    parsed.dependencies.shrink_to_fit();
    parsed
}

/// Errors that name only a line get its text (without indentation) as their span and column,
/// so every parser error can be underlined where it is, as a diagnostic with a span.
fn locate_errors(source: &str, errors: &mut [FileError]) {
    if errors.iter().all(|e| e.span.is_some() || e.line == 0) {
        return;
    }
    let starts: Vec<usize> = std::iter::once(0)
        .chain(source.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    for error in errors.iter_mut().filter(|e| e.span.is_none() && e.line > 0) {
        let Some(&start) = starts.get(error.line as usize - 1) else {
            continue;
        };
        let line = source[start..].split('\n').next().unwrap_or_default();
        let content = line.trim_end_matches('\r');
        let text = content.trim_start();
        let indent = &content[..content.len() - text.len()];
        let begin = start + indent.len();
        error.span = Some(Span::new(begin, begin + text.trim_end().len()));
        error.column = Some(u32::try_from(indent.chars().count() + 1).unwrap_or(u32::MAX));
    }
}

/// Each dependency's name, the text at its first version span and whether it is direct: what
/// the lockfile parsers' tests compare with a person's reading of a small file.
#[cfg(test)]
pub(crate) fn names_versions_direct<'a>(
    parsed: &'a ParsedManifest,
    source: &'a str,
) -> Vec<(&'a str, &'a str, bool)> {
    parsed
        .dependencies
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.version_spans[0].slice(source).unwrap(),
                d.kind == crate::model::DependencyKind::Direct,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parser_error_has_a_column_and_a_span() {
        let source = "FROM alpine:3\n  FORM x\r\nRUN y\n";
        let parsed = parse(ManifestKind::Dockerfile, "Dockerfile", source);
        let [error] = parsed.errors.as_slice() else {
            panic!("{:?}", parsed.errors);
        };
        assert_eq!((error.line, error.column), (2, Some(3)));
        assert_eq!(error.span.and_then(|s| s.slice(source)), Some("FORM x"));
        let parsed = parse(
            ManifestKind::Requirements,
            "requirements.txt",
            "ok==1\n\tlodash@1\n",
        );
        assert_eq!(parsed.errors[0].column, Some(2));
        assert_eq!(
            parsed.errors[0]
                .span
                .and_then(|s| s.slice("ok==1\n\tlodash@1\n")),
            Some("lodash@1")
        );
    }

    #[test]
    fn detects_by_file_name() {
        let cases = [
            ("Dockerfile", Some(ManifestKind::Dockerfile)),
            (
                "src/cartservice/src/Dockerfile.debug",
                Some(ManifestKind::Dockerfile),
            ),
            ("deploy/api.Dockerfile", Some(ManifestKind::Dockerfile)),
            ("Containerfile", Some(ManifestKind::Dockerfile)),
            ("a/Cargo.lock", Some(ManifestKind::CargoLock)),
            ("web/package-lock.json", Some(ManifestKind::PackageLock)),
            ("yarn.lock", Some(ManifestKind::YarnLock)),
            ("requirements.txt", Some(ManifestKind::Requirements)),
            ("requirements-dev.txt", Some(ManifestKind::Requirements)),
            ("poetry.lock", Some(ManifestKind::PoetryLock)),
            ("go.mod", Some(ManifestKind::GoMod)),
            ("go.sum", Some(ManifestKind::GoSum)),
            ("web/pnpm-lock.yaml", Some(ManifestKind::PnpmLock)),
            ("uv.lock", Some(ManifestKind::UvLock)),
            ("Pipfile.lock", Some(ManifestKind::PipfileLock)),
            ("Gemfile.lock", Some(ManifestKind::GemfileLock)),
            ("composer.lock", Some(ManifestKind::ComposerLock)),
            ("Pipfile", None),
            ("compose.yaml", Some(ManifestKind::Compose)),
            ("app/docker-compose.prod.yml", Some(ManifestKind::Compose)),
            ("k8s/deploy.yaml", Some(ManifestKind::Kubernetes)),
            ("chart/values.yaml", Some(ManifestKind::HelmValues)),
            ("chart/values-prod.yml", Some(ManifestKind::HelmValues)),
            (".github/workflows/ci.yml", Some(ManifestKind::Workflow)),
            ("pnpm-lock.yaml", Some(ManifestKind::PnpmLock)),
            ("notes.txt", None),
            ("composer.json", None),
            ("package.json", None),
            ("Cargo.toml", None),
            ("README.md", None),
            ("dockerfiles/readme.txt", None),
        ];
        for (path, want) in cases {
            assert_eq!(detect(path), want, "{path}");
        }
    }
}

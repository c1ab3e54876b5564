//! Image references named in YAML (Compose, Kubernetes, Helm values, GitHub Actions): what the
//! four readers share. Each image becomes a Docker dependency whose segments point at the exact
//! bytes of the value (inside its quotes), so the same image rules and minimal edits apply as
//! for a `FROM`: a fix changes only those bytes, and quotes, comments and anchors stay.
//!
//! A templated value (`{{ .Values.x }}`, `${TAG}`, `${{ matrix.image }}`) is a note, never a
//! guess: what it becomes is decided outside the file.

use std::fmt::Display;

use super::cargo_lock::LineIndex;
use super::dockerfile::reference::parse_reference;
use super::yaml::{Node, Scalar, YamlError};
use crate::model::{
    Dependency, DependencyKind, Ecosystem, EditMode, ErrorCode, FileError, ImageSite,
    ParsedManifest, Segment, SegmentSource, Span,
};

pub(crate) struct Images<'a> {
    pub(crate) file: &'a str,
    pub(crate) source: &'a str,
    lines: LineIndex<'a>,
    pub(crate) out: ParsedManifest,
    /// Values already reported (an alias repeats its anchor's scalar): one dependency per place.
    seen: Vec<usize>,
}

/// Whether a value is decided outside the file: Helm/Go templates, Compose and shell variables,
/// GitHub Actions expressions.
pub(crate) fn is_templated(value: &str) -> bool {
    if value.contains("{{") || value.contains("${") {
        return true;
    }
    let bytes = value.as_bytes();
    bytes
        .windows(2)
        .any(|w| w[0] == b'$' && (w[1].is_ascii_alphabetic() || w[1] == b'_'))
}

impl<'a> Images<'a> {
    pub(crate) fn new(file: &'a str, source: &'a str) -> Images<'a> {
        Images {
            file,
            source,
            lines: LineIndex::new(source),
            out: ParsedManifest {
                file: file.to_string(),
                ..Default::default()
            },
            seen: Vec::new(),
        }
    }

    pub(crate) fn finish(self) -> ParsedManifest {
        self.out
    }

    /// A YAML syntax error: the images before it were read.
    pub(crate) fn syntax(&mut self, what: &str, error: &YamlError) {
        let message = format!(
            "{what} is not valid YAML here ({}); images after this point are not read",
            error.message
        );
        self.out.errors.push(
            FileError::new(self.file, error.line.max(1), message).with_code(ErrorCode::YamlSyntax),
        );
    }

    fn span_of(&self, scalar: &Scalar) -> Span {
        scalar
            .span
            .unwrap_or_else(|| Span::new(scalar.start, scalar.start))
    }

    pub(crate) fn not_resolvable(&mut self, at: Span, message: String) {
        let error = FileError::new(self.file, 0, message)
            .with_code(ErrorCode::ImageNotResolvable)
            .with_span(self.source, at);
        self.out.errors.push(error);
    }

    /// A whole reference in one value (`image: nginx:1.25`). `context` says where, for notes:
    /// it is rendered only when a note is written (most images need none).
    pub(crate) fn scalar(&mut self, node: &Node, context: &dyn Display) {
        let Some(scalar) = node.as_scalar() else {
            return;
        };
        self.reference(scalar, 0, &scalar.value.clone(), context);
    }

    /// The reference `text`, written at `skip` bytes into `scalar`'s value (`docker://` is
    /// skipped in a workflow step).
    pub(crate) fn reference(
        &mut self,
        scalar: &Scalar,
        skip: usize,
        text: &str,
        context: &dyn Display,
    ) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let at = self.span_of(scalar);
        if self.seen.contains(&at.start) && scalar.span.is_some() {
            return;
        }
        self.seen.push(at.start);
        if is_templated(text) {
            self.not_resolvable(
                at,
                format!("{context}: `{text}` is templated; the image it names is decided outside this file, so it is not checked"),
            );
            return;
        }
        let segment_source = match scalar.span {
            Some(span) if span.len() == scalar.value.len() && skip + text.len() <= span.len() => {
                let start = span.start + skip;
                SegmentSource::Literal {
                    span: Span::new(start, start + text.len()),
                }
            }
            _ => SegmentSource::Implied,
        };
        let segments = vec![Segment {
            text: text.to_string(),
            source: segment_source,
        }];
        self.push(segments, at, context);
    }

    /// An image split across keys, as Helm charts write it: `registry`, `repository`, `tag`,
    /// `digest`. `block` is the mapping.
    pub(crate) fn split(&mut self, block: &Node, context: &dyn Display) {
        let field = |key: &str| block.get(key).and_then(Node::as_scalar);
        let Some(repository) = field("repository") else {
            return;
        };
        let at = self.span_of(repository);
        let parts: Vec<(&str, Option<&Scalar>)> = vec![
            ("registry", field("registry")),
            ("repository", Some(repository)),
            ("tag", field("tag")),
            ("digest", field("digest")),
        ];
        for (key, part) in &parts {
            if let Some(part) = part
                && is_templated(&part.value)
            {
                let span = self.span_of(part);
                self.not_resolvable(
                    span,
                    format!("{context}: `{key}: {}` is templated; the image it names is decided outside this file, so it is not checked", part.value),
                );
                return;
            }
        }
        let (registry, tag, digest) = (
            present(parts[0].1),
            present(parts[2].1),
            present(parts[3].1),
        );
        if tag.is_none() && digest.is_none() {
            self.not_resolvable(
                at,
                format!(
                    "{context}: `{}` has no `tag` or `digest` here; the chart's templates decide it (often the chart's appVersion), so it is not guessed",
                    repository.value
                ),
            );
            return;
        }
        let mut segments = Vec::new();
        let mut piece = |text: &str, scalar: Option<&Scalar>| {
            let source = match scalar.and_then(|s| s.span) {
                Some(span) if span.len() == text.len() => SegmentSource::Literal { span },
                _ => SegmentSource::Implied,
            };
            segments.push(Segment {
                text: text.to_string(),
                source,
            });
        };
        if let Some(registry) = registry {
            piece(&registry.value, Some(registry));
            piece("/", None);
        }
        piece(&repository.value, Some(repository));
        if let Some(tag) = tag {
            piece(":", None);
            piece(&tag.value, Some(tag));
        }
        if let Some(digest) = digest {
            piece("@", None);
            piece(&digest.value, Some(digest));
        }
        self.push(segments, at, context);
    }

    fn push(&mut self, segments: Vec<Segment>, at: Span, context: &dyn Display) {
        let text: String = segments.iter().map(|s| s.text.as_str()).collect();
        let reference = match parse_reference(&text) {
            Ok(r) if r.to_string() == text => r,
            Ok(_) => {
                self.invalid(
                    at,
                    context,
                    &text,
                    "patchwright cannot represent it exactly as `name[:tag][@digest]`",
                );
                return;
            }
            Err(reason) => {
                self.invalid(at, context, &text, &reason);
                return;
            }
        };
        let version_spans = tag_span(&reference, &segments).into_iter().collect();
        let location = self.lines.location(self.file, at);
        self.out.dependencies.push(Dependency {
            ecosystem: Ecosystem::Docker,
            name: reference.name(),
            version: reference.tag.clone(),
            digest: reference.digest.clone(),
            kind: DependencyKind::Direct,
            location,
            version_spans,
            image: Some(Box::new(ImageSite {
                reference,
                segments,
            })),
            edit_mode: EditMode::InPlace,
        });
    }

    fn invalid(&mut self, at: Span, context: &dyn Display, text: &str, reason: &str) {
        let error = FileError::new(
            self.file,
            0,
            format!("{context}: `{text}` is not a valid image reference: {reason}"),
        )
        .with_code(ErrorCode::DockerfileInvalidReference)
        .with_span(self.source, at);
        self.out.errors.push(error);
    }
}

fn present<'s, 'a>(scalar: Option<&'s Scalar<'a>>) -> Option<&'s Scalar<'a>> {
    scalar.filter(|s| !s.value.trim().is_empty())
}

/// The bytes of the tag, when one literal segment holds all of it.
fn tag_span(reference: &crate::model::ImageRef, segments: &[Segment]) -> Option<Span> {
    let tag = reference.tag.as_ref()?;
    let start = reference.name().len() + 1;
    let end = start + tag.len();
    let mut at = 0;
    for segment in segments {
        let segment_end = at + segment.text.len();
        if at <= start && end <= segment_end {
            let SegmentSource::Literal { span } = segment.source else {
                return None;
            };
            let tag_start = span.start + (start - at);
            return Some(Span::new(tag_start, tag_start + tag.len()));
        }
        at = segment_end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templated_values_are_recognised() {
        for yes in [
            "{{ .Values.image }}",
            "app:${TAG}",
            "app:$TAG",
            "${{ matrix.image }}",
        ] {
            assert!(is_templated(yes), "{yes}");
        }
        for no in ["nginx:1.25", "registry:5000/app@sha256:ab", "a$1"] {
            assert!(!is_templated(no), "{no}");
        }
    }
}

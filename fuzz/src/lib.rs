//! What every fuzz target checks: the parser returns, and every span it reports lies within the
//! input, on character boundaries, and (for lockfiles) holds exactly the version it belongs to.
//! A violated check panics, which libFuzzer records as a crash.

use patchwright::manifest::{self, ManifestKind};
use patchwright::model::{Location, SegmentSource, Span};

/// Parses `data` (lossily decoded: parsers take text) as `kind` and checks the output.
pub fn check(kind: ManifestKind, data: &[u8]) {
    let source = String::from_utf8_lossy(data);
    let parsed = manifest::parse(kind, "input", &source);
    let lines = u32::try_from(source.split('\n').count()).unwrap_or(u32::MAX);
    for error in &parsed.errors {
        assert!(error.line <= lines, "error line {} of {lines}", error.line);
        assert!(error.code.is_some(), "an error without a code: {error}");
        if let Some(s) = error.span {
            span(&source, s);
        }
    }
    for dep in &parsed.dependencies {
        location(&source, lines, &dep.location);
        for &version in &dep.version_spans {
            span(&source, version);
            if kind != ManifestKind::Dockerfile {
                assert_eq!(
                    version.slice(&source),
                    dep.version.as_deref(),
                    "{}",
                    dep.name
                );
            }
        }
        for segment in dep.image.iter().flat_map(|site| &site.segments) {
            match &segment.source {
                SegmentSource::Literal { span: s } => span(&source, *s),
                SegmentSource::Arg {
                    default_span: Some(s),
                    ..
                } => span(&source, *s),
                SegmentSource::Arg { .. } | SegmentSource::Implied => {}
            }
        }
    }
}

/// The kind named by the first byte, for the target that fuzzes every parser at once.
pub fn kind_from_byte(byte: u8) -> ManifestKind {
    ManifestKind::ALL[usize::from(byte) % ManifestKind::ALL.len()]
}

fn location(source: &str, lines: u32, location: &Location) {
    if let Some(s) = location.span {
        span(source, s);
    }
    assert!(
        (1..=lines).contains(&location.line),
        "line {} of {lines}",
        location.line
    );
}

fn span(source: &str, span: Span) {
    assert!(
        span.start <= span.end && span.end <= source.len(),
        "{span:?} of {}",
        source.len()
    );
    assert!(
        source.is_char_boundary(span.start) && source.is_char_boundary(span.end),
        "{span:?} splits a character"
    );
}

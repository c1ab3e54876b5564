use super::edits::reference_edit;
use super::*;
use crate::model::{Segment, SegmentSource};

fn literal(text: &str, start: usize) -> Segment {
    Segment {
        text: text.to_string(),
        source: SegmentSource::Literal {
            span: Span::new(start, start + text.len()),
        },
    }
}

fn arg(name: &str, value: &str, default_at: Option<usize>) -> Segment {
    Segment {
        text: value.to_string(),
        source: SegmentSource::Arg {
            name: name.to_string(),
            default_span: default_at.map(|s| Span::new(s, s + value.len())),
        },
    }
}

#[test]
fn literal_tag_edit_touches_only_the_changed_bytes() {
    let source = "FROM node:18.17.0-alpine AS build\n";
    let segments = [literal("node:18.17.0-alpine", 5)];
    let edit = reference_edit("Dockerfile", &segments, "node:18.20.4-alpine").unwrap();
    assert_eq!(edit.span, Span::new(13, 17));
    assert_eq!(&source[edit.span.start..edit.span.end], "17.0");
    assert_eq!(edit.replacement, "20.4");
    let fixed = apply_edits(source, &[edit]).unwrap();
    assert_eq!(fixed, "FROM node:18.20.4-alpine AS build\n");
}

#[test]
fn tag_from_arg_edits_the_arg_default() {
    let source = "ARG NODE_VERSION=18.17.0\nFROM node:${NODE_VERSION}-alpine\n";
    let default_at = source.find("18.17.0").unwrap();
    let from_at = source.find("node:").unwrap();
    let segments = [
        literal("node:", from_at),
        arg("NODE_VERSION", "18.17.0", Some(default_at)),
        literal("-alpine", source.find("-alpine").unwrap()),
    ];
    let edit = reference_edit("Dockerfile", &segments, "node:18.20.4-alpine").unwrap();
    assert_eq!(edit.span, Span::new(default_at, default_at + 7));
    assert_eq!(edit.replacement, "18.20.4");
    assert_eq!(
        apply_edits(source, &[edit]).unwrap(),
        "ARG NODE_VERSION=18.20.4\nFROM node:${NODE_VERSION}-alpine\n"
    );
}

#[test]
fn growing_a_tag_at_an_arg_boundary_edits_the_arg() {
    let source = "ARG V=18\nFROM node:$V-alpine\n";
    let segments = [
        literal("node:", 14),
        arg("V", "18", Some(6)),
        literal("-alpine", 21),
    ];
    let edit = reference_edit("Dockerfile", &segments, "node:18.20-alpine").unwrap();
    assert_eq!(edit.replacement, "18.20");
    assert_eq!(
        apply_edits(source, &[edit]).unwrap(),
        "ARG V=18.20\nFROM node:$V-alpine\n"
    );
}

#[test]
fn arg_without_default_cannot_be_edited_and_says_where_to_look() {
    let segments = [literal("node:", 5), arg("V", "18", None)];
    let err = reference_edit("Dockerfile", &segments, "node:20").unwrap_err();
    assert!(err.contains("ARG V"), "{err}");
    assert!(err.contains("build"), "{err}");
}

#[test]
fn change_across_segments_is_refused() {
    let segments = [
        literal("node:", 5),
        arg("A", "18", Some(30)),
        literal("-alpine", 12),
    ];
    let err = reference_edit("Dockerfile", &segments, "node:20-slim").unwrap_err();
    assert!(err.contains("several"), "{err}");
}

#[test]
fn apply_keeps_crlf_comments_and_refuses_overlaps_and_bad_spans() {
    let source = "# base\r\nFROM python:3.9.2-alpine # pinned\r\n";
    let at = source.find("3.9.2").unwrap();
    let edit = Edit {
        file: "Dockerfile".into(),
        span: Span::new(at, at + 5),
        replacement: "3.9.19".into(),
    };
    assert_eq!(
        apply_edits(source, std::slice::from_ref(&edit)).unwrap(),
        "# base\r\nFROM python:3.9.19-alpine # pinned\r\n"
    );
    let overlapping = Edit {
        span: Span::new(at + 2, at + 6),
        ..edit.clone()
    };
    assert!(matches!(
        apply_edits(source, &[edit.clone(), overlapping]),
        Err(ApplyError::Overlap { .. })
    ));
    let outside = Edit {
        span: Span::new(source.len(), source.len() + 3),
        ..edit
    };
    assert!(matches!(
        apply_edits(source, &[outside]),
        Err(ApplyError::OutOfBounds { .. })
    ));
}

#[test]
fn identical_edits_of_one_dependency_are_applied_once() {
    let edit = Edit {
        file: "f".into(),
        span: Span::new(1, 2),
        replacement: "x".into(),
    };
    let fix = Fix {
        from: "a".into(),
        to: "b".into(),
        change: crate::model::ChangeKind::Patch,
        edits: vec![edit.clone()],
        relock: None,
        clears: vec![],
        notes: vec![],
    };
    let mut a = Finding::new(
        RuleId::EolBaseImage,
        crate::model::Location::new("f", 1, 1),
        "s",
        "m",
    );
    a.fix = Some(fix);
    let b = Finding {
        rule: RuleId::UnapprovedBaseImage,
        ..a.clone()
    };
    let edits = collect_edits(&[a, b]);
    assert_eq!(edits["f"], vec![edit]);
}

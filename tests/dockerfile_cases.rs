//! The Dockerfile parser on small files written for one behaviour each (fixtures/dockerfiles/)
//! and on inline sources.

use patchwright::manifest::dockerfile;
use patchwright::model::{
    Dependency, DependencyKind, ErrorCode, Fact, FileError, ParsedManifest, Segment, SegmentSource,
    Span,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/dockerfiles");

fn fixture(name: &str) -> (String, ParsedManifest) {
    let path = format!("{FIXTURES}/{name}");
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let parsed = dockerfile::parse(name, &source);
    (source, parsed)
}

fn parse(source: &str) -> ParsedManifest {
    dockerfile::parse("Dockerfile", source)
}

/// `name[:tag][@digest]` of each dependency.
fn images(parsed: &ParsedManifest) -> Vec<String> {
    parsed
        .dependencies
        .iter()
        .map(|d| d.image.as_ref().expect("image site").reference.to_string())
        .collect()
}

fn kinds(parsed: &ParsedManifest) -> Vec<DependencyKind> {
    parsed.dependencies.iter().map(|d| d.kind.clone()).collect()
}

fn base(stage: usize, alias: Option<&str>, final_stage: bool) -> DependencyKind {
    DependencyKind::BaseImage {
        stage,
        alias: alias.map(str::to_string),
        final_stage,
    }
}

/// (user, line, text under the location's span).
fn final_user(source: &str, parsed: &ParsedManifest) -> (Option<String>, u32, String) {
    parsed
        .facts
        .iter()
        .find_map(|f| match f {
            Fact::FinalStageUser { user, location, .. } => Some((
                user.clone(),
                location.line,
                location
                    .span
                    .and_then(|s| s.slice(source))
                    .unwrap_or("?")
                    .to_string(),
            )),
            _ => None,
        })
        .expect("final-stage user fact")
}

fn installs(parsed: &ParsedManifest) -> Vec<(String, Vec<String>, u32)> {
    parsed
        .facts
        .iter()
        .filter_map(|f| match f {
            Fact::UnpinnedOsPackages {
                manager,
                packages,
                location,
            } => Some((manager.clone(), packages.clone(), location.line)),
            _ => None,
        })
        .collect()
}

fn errors(parsed: &ParsedManifest) -> Vec<(u32, String)> {
    parsed
        .errors
        .iter()
        .map(|e| (e.line, e.message.clone()))
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Every span a dependency carries covers exactly the text it claims.
fn assert_exact(source: &str, dependency: &Dependency) {
    let site = dependency.image.as_ref().expect("image site");
    let joined: String = site.segments.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(joined, site.reference.to_string());
    for Segment { text, source: from } in &site.segments {
        match from {
            SegmentSource::Literal { span } => assert_eq!(span.slice(source), Some(text.as_str())),
            SegmentSource::Arg {
                default_span: Some(span),
                ..
            } => assert_eq!(span.slice(source), Some(text.as_str())),
            SegmentSource::Arg { .. } => {}
            SegmentSource::Implied => panic!("a Dockerfile writes every byte of its references"),
        }
    }
    for span in &dependency.version_spans {
        assert_eq!(span.slice(source), dependency.version.as_deref());
    }
}

#[test]
fn escape_directive_makes_backtick_the_continuation() {
    let (source, parsed) = fixture("escape-backtick.Dockerfile");
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(
        images(&parsed),
        vec!["mcr.microsoft.com/windows/servercore:ltsc2022"]
    );
    // `AS base` sits on the continued line: the stage has its name and is the last one.
    assert_eq!(kinds(&parsed), vec![base(0, Some("base"), true)]);
    // `C:\app\` ends with a backslash, which no longer continues the line: USER is read.
    assert_eq!(
        final_user(&source, &parsed),
        (Some("ContainerUser".into()), 9, "ContainerUser".into())
    );
    // Without the directive the backtick is text and the backslash continues the COPY.
    let without = source.replacen("# escape=`", "# plain comment", 1);
    let parsed = parse(&without);
    let lines: Vec<u32> = parsed.errors.iter().map(|e| e.line).collect();
    // Line 3 gains a stray word, and lines 4 and 7 are no longer continuations.
    assert_eq!(lines, vec![3, 4, 7]);
    assert!(
        parsed.errors[1]
            .message
            .starts_with("unknown instruction `AS`")
    );
    assert_eq!(final_user(&without, &parsed).0, None);
}

#[test]
fn heredoc_bodies_are_never_instructions() {
    let (source, parsed) = fixture("heredoc-evil.Dockerfile");
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(images(&parsed), vec!["alpine:3.19"]);
    // `USER root` inside the body does not count; `<<<EOF` is a here-string, not a heredoc, so
    // the `USER app` after it is an instruction.
    assert_eq!(
        final_user(&source, &parsed),
        (Some("app".into()), 12, "app".into())
    );
}

#[test]
fn several_heredocs_and_tab_stripped_bodies() {
    let (source, parsed) = fixture("heredoc-multiple.Dockerfile");
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(images(&parsed), vec!["debian:12-slim"]);
    // The `<<-` body is a shell script: the pinned ca-certificates is left out; the python
    // heredoc is not a shell script, so the apt-get in its comment is not read.
    assert_eq!(
        installs(&parsed),
        vec![("apt-get".into(), strings(&["curl"]), 10)]
    );
    assert_eq!(
        final_user(&source, &parsed),
        (Some("65532".into()), 17, "65532".into())
    );
}

#[test]
fn registries_ports_and_digests() {
    let (source, parsed) = fixture("registries.Dockerfile");
    assert_eq!(parsed.errors, vec![]);
    let summary: Vec<_> = parsed
        .dependencies
        .iter()
        .map(|d| {
            let reference = &d.image.as_ref().unwrap().reference;
            (
                reference.registry.as_deref(),
                reference.repository.as_str(),
                d.name.as_str(),
                d.version.as_deref(),
                d.digest.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                Some("registry.example.com:5000"),
                "team/app",
                "registry.example.com:5000/team/app",
                Some("1.2"),
                Some("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
            ),
            (Some("localhost"), "x", "localhost/x", None, None),
            (
                Some("localhost:5000"),
                "tools/builder",
                "localhost:5000/tools/builder",
                Some("2024.01"),
                None,
            ),
            (
                Some("docker.io"),
                "library/node",
                "docker.io/library/node",
                Some("20-alpine"),
                None,
            ),
            (
                Some("ghcr.io"),
                "org/image",
                "ghcr.io/org/image",
                None,
                Some("sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"),
            ),
        ]
    );
    let pinned = &parsed.dependencies[0];
    assert_eq!(pinned.version_spans, vec![Span::new(40, 43)]);
    assert_eq!(pinned.version_spans[0].slice(&source), Some("1.2"));
    assert_eq!(
        parsed.dependencies[3]
            .image
            .as_ref()
            .unwrap()
            .reference
            .canonical_name(),
        "node"
    );
    for dependency in &parsed.dependencies {
        assert_exact(&source, dependency);
    }
}

#[test]
fn arg_substitution_in_from() {
    let (source, parsed) = fixture("args.Dockerfile");
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(
        images(&parsed),
        vec![
            // Quoted defaults, and `${VARIANT:-…}` falling back because VARIANT has no default.
            "registry.example.com:5000/node:20.11.1-alpine3.19",
            // STAGE_ONLY is declared in a stage, so FROM does not see it: the fallback applies.
            "python:3.12-slim",
            // `ARG REGISTRY=…` inside a stage does not change the global default.
            "registry.example.com:5000/runtime:1.0",
            "node:20.11.1",
            // Two ARGs declared in one instruction.
            "python:3.12-alpine",
        ]
    );
    for dependency in &parsed.dependencies {
        assert_exact(&source, dependency);
    }
    // A tag written entirely in an ARG default is edited there.
    let plain = &parsed.dependencies[3];
    assert_eq!(plain.version_spans.len(), 1);
    assert_eq!(plain.version_spans[0].slice(&source), Some("20.11.1"));
    assert_eq!(
        &source[..plain.version_spans[0].end],
        "ARG REGISTRY=\"registry.example.com:5000\"\nARG NODE_VERSION='20.11.1"
    );
    // A tag assembled from several pieces has no single place to edit.
    assert!(parsed.dependencies[0].version_spans.is_empty());
    // Locations: the image word on its FROM line.
    let first = &parsed.dependencies[0];
    assert_eq!((first.location.line, first.location.column), (5, 6));
    insta::assert_json_snapshot!("args", parsed);
}

#[test]
fn arg_without_default_in_from_is_an_error_and_no_image() {
    let source = "ARG BASE\nARG TAG=1\nFROM ${BASE}:${TAG}\nFROM alpine:${TAG}\n";
    let parsed = parse(source);
    assert_eq!(images(&parsed), vec!["alpine:1"]);
    assert_eq!(
        errors(&parsed),
        vec![(
            3,
            "FROM uses ARG BASE, which has no default; patchwright cannot tell which image this is: give the ARG a default (ARG BASE=...)".to_string()
        )]
    );
    // The second FROM is stage 1 all the same.
    assert_eq!(kinds(&parsed), vec![base(1, None, true)]);
}

#[test]
fn undeclared_and_platform_args_in_an_image_are_errors() {
    let parsed = parse("FROM $REGISTRY/app:1\nFROM alpine-${TARGETARCH}:3\n");
    assert_eq!(parsed.dependencies, vec![]);
    let lines: Vec<u32> = parsed.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![1, 2]);
    assert!(parsed.errors[0].message.starts_with(
        "FROM uses $REGISTRY, which no ARG declares where it is used (Docker substitutes an empty string)"
    ));
    assert!(
        parsed.errors[1]
            .message
            .starts_with("FROM uses $TARGETARCH, which BuildKit sets from the target platform")
    );
    // In a --platform flag they are fine: it names no image.
    let parsed = parse(
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS b\nFROM --platform=${TARGETPLATFORM} alpine:3\n",
    );
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(images(&parsed), vec!["golang:1.22", "alpine:3"]);
}

/// The stage a `FROM` builds on, by the alias of the stage at `image_stage`.
fn final_image_stage(parsed: &ParsedManifest) -> Option<usize> {
    parsed.facts.iter().find_map(|f| match f {
        Fact::FinalStageUser { image_stage, .. } => *image_stage,
        _ => None,
    })
}

#[test]
fn stages_picked_by_platform_are_stage_references_not_images() {
    let (source, parsed) = fixture("buildkit-platform-stages.Dockerfile");
    // `alpine-$TARGETARCH`, `binaries-$TARGETOS` and `buildkit-$TARGETOS${BUILDKIT_DEBUG:+-debug}`
    // each name stages defined above them for every platform the file builds for.
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(
        images(&parsed),
        vec![
            "alpine:3.18",
            "alpine:3.18",
            "alpine:3.18",
            "alpine:edge@sha256:2d01a16bab53a8405876cec4c27235d47455a7b72b75334c614f2fb0968b3f90",
            "golang:1.21-alpine3.18",
        ]
    );
    // The final stage follows buildkit-linux (the usual linux/amd64 build) → buildkit-export →
    // alpinebase → alpine-amd64: it sets no USER, and ships stage 0's image. The rootless
    // stage's `USER 1000:1000` is not on that chain.
    let (user, line, _) = final_user(&source, &parsed);
    assert_eq!(user, None);
    assert_eq!(line, 54);
    assert_eq!(final_image_stage(&parsed), Some(0));
}

#[test]
fn buildkit_trims_platform_values_in_arg_defaults() {
    let (_, parsed) = fixture("buildkit-archutil.Dockerfile");
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(
        images(&parsed),
        vec!["debian:trixie-slim", "golang:1.21-alpine3.19"]
    );
    // `FROM exit-${TARGETARCH}` and `COPY --from=exit-${TARGETARCH}` name the exit-* stages.
    assert_eq!(
        kinds(&parsed),
        vec![
            base(0, Some("base"), false),
            base(5, Some("generate"), true)
        ]
    );
}

#[test]
fn an_image_that_cannot_be_known_is_said_once_as_a_note() {
    let source = "ARG BASE\nFROM ${BASE}:1 AS a\nFROM ${BASE}:2 AS b\nFROM img-$TARGETARCH\nFROM img-$TARGETARCH AS c\n";
    let parsed = parse(source);
    assert_eq!(parsed.dependencies, vec![]);
    let found: Vec<_> = parsed
        .errors
        .iter()
        .map(|e| (e.line, e.code, e.is_note()))
        .collect();
    assert_eq!(
        found,
        vec![
            (2, Some(ErrorCode::DockerfileImageUnknown), true),
            (4, Some(ErrorCode::DockerfileImageUnknown), true),
        ]
    );
    // No stage fits `img-*`, so it is an image: one the file does not name.
    assert!(parsed.errors[1].message.contains("$TARGETARCH"));
    // A bare `$BASE` fits every stage name: it is an image given at build time.
    let parsed = parse("ARG BASE\nFROM alpine:3 AS build\nFROM $BASE\n");
    assert_eq!(images(&parsed), vec!["alpine:3"]);
    assert_eq!(
        parsed
            .errors
            .iter()
            .map(|e| (e.line, e.code))
            .collect::<Vec<_>>(),
        vec![(3, Some(ErrorCode::DockerfileImageUnknown))]
    );
    // An undeclared argument is empty in Docker: a mistake, not a stage pattern.
    let parsed = parse("FROM alpine:3 AS x-a\nFROM x-$NOPE\n");
    assert_eq!(
        parsed.errors.iter().map(|e| e.code).collect::<Vec<_>>(),
        vec![Some(ErrorCode::DockerfileUndeclaredArg)]
    );
}

#[test]
fn stage_references_by_name_and_index() {
    let (source, parsed) = fixture("stage-refs.Dockerfile");
    assert_eq!(parsed.errors, vec![]);
    // `FROM 0`, `--from=0`, `--from=Build`, `from=BUILD`, `FROM Build` and the forward
    // `--from=later` all name stages; only real images remain.
    assert_eq!(
        images(&parsed),
        vec![
            "golang:1.22",
            "busybox:1.36",
            "gcr.io/distroless/static:nonroot",
            "alpine:3.19"
        ]
    );
    assert_eq!(
        kinds(&parsed),
        vec![
            base(0, Some("build"), false),
            DependencyKind::CopySource { stage: 1 },
            DependencyKind::CopySource { stage: 2 },
            base(3, Some("later"), true),
        ]
    );
    let busybox = &parsed.dependencies[1];
    assert_eq!((busybox.location.line, busybox.location.column), (8, 43));
    for dependency in &parsed.dependencies {
        assert_exact(&source, dependency);
    }
    // A number that is not yet a stage index is an image name, as Docker reads it.
    let parsed = parse("FROM alpine:3 AS a\nFROM 1\n");
    assert_eq!(images(&parsed), vec!["alpine:3", "1"]);
}

#[test]
fn final_user_is_inherited_through_stage_links_only() {
    let (source, parsed) = fixture("user-inherited.Dockerfile");
    assert_eq!(parsed.errors, vec![]);
    // The last USER of `base` (line 3, not the `USER root` before it) reaches `FROM app`.
    assert_eq!(
        final_user(&source, &parsed),
        (Some("10001:10001".into()), 3, "10001:10001".into())
    );

    let (source, parsed) = fixture("user-not-inherited.Dockerfile");
    // The final stage starts from an image: the build stage's USER does not apply.
    assert_eq!(
        final_user(&source, &parsed),
        (None, 3, "FROM nginx:1.25".into())
    );
    assert_eq!(
        installs(&parsed),
        vec![("apt-get".into(), strings(&["jq"]), 4)]
    );

    let source = "FROM alpine:3 AS base\nUSER app\nFROM base\nUSER 0:0\n";
    assert_eq!(
        final_user(source, &parse(source)),
        (Some("0:0".into()), 4, "0:0".into())
    );
    let source = "FROM alpine:3\nARG UID=10001\nUSER $UID\n";
    assert_eq!(
        final_user(source, &parse(source)).0.as_deref(),
        Some("$UID")
    );
}

#[test]
fn errors_carry_their_line_and_parsing_goes_on() {
    let (_, parsed) = fixture("errors.Dockerfile");
    assert_eq!(
        errors(&parsed),
        vec![
            (3, "unknown instruction `FORM`; did you mean `FROM`?".to_string()),
            (
                4,
                "`FROM` needs an image name, e.g. `FROM node:20-alpine`".to_string()
            ),
            (
                5,
                "`Node:20` is not a valid image reference: repository names must be lowercase (`node`)"
                    .to_string()
            ),
            (
                6,
                "FROM uses ARG NO_DEFAULT, which has no default; patchwright cannot tell which image this is: give the ARG a default (ARG NO_DEFAULT=...)"
                    .to_string()
            ),
            (
                7,
                "unknown instruction `workdri`; did you mean `WORKDIR`?".to_string()
            ),
            (
                9,
                "heredoc `<<EOF` is never closed: add a line that is exactly `EOF`".to_string()
            ),
        ]
    );
    assert!(parsed.errors.iter().all(|e| e.file == "errors.Dockerfile"));
    // Bad lines do not hide good ones; the unclosed heredoc swallows the rest, as in BuildKit.
    assert_eq!(images(&parsed), vec!["alpine:3.19", "python:3.12-slim"]);
    assert_eq!(
        kinds(&parsed),
        vec![base(0, None, false), base(4, Some("still-read"), true)]
    );
}

#[test]
fn no_from_at_all() {
    let no_from = |line| {
        FileError::new(
            "Dockerfile",
            line,
            "no FROM instruction: a Dockerfile needs at least one stage, e.g. `FROM node:20-alpine`",
        )
        .with_code(ErrorCode::DockerfileNoFrom)
    };
    for (source, line) in [
        ("", 1),
        ("\n\n", 1),
        ("# only a comment\n", 1),
        ("ARG A=1\n", 1),
        // One entry at the first instruction that needed a stage, not one per line.
        ("ARG A=1\n\nCMD [\"x\"]\nRUN y\nEXPOSE 80\nWORKDIR /a\n", 3),
        ("# c\nFORM alpine\nRUN y\n", 2),
    ] {
        let parsed = parse(source);
        assert_eq!(parsed.errors, vec![no_from(line)], "{source:?}");
        assert_eq!(parsed.facts, vec![]);
    }
    let parsed = parse("RUN echo hi\nFROM alpine:3\n");
    assert_eq!(
        errors(&parsed),
        vec![(
            1,
            "`RUN` comes before the first `FROM`; only `ARG`, parser directives and comments may come first"
                .to_string()
        )]
    );
    assert_eq!(images(&parsed), vec!["alpine:3"]);
}

#[test]
fn from_with_too_many_words() {
    let parsed = parse("FROM alpine:3 builder\n");
    assert_eq!(
        errors(&parsed),
        vec![(
            1,
            "`FROM alpine:3 builder` has too many words: write `FROM image` or `FROM image AS name`, e.g. `FROM node:20-alpine AS build`"
                .to_string()
        )]
    );
    // The image is still reported: a malformed line should not hide what it pulls.
    assert_eq!(images(&parsed), vec!["alpine:3"]);
}

#[test]
fn buildkit_trim_substitution_is_evaluated_and_editable() {
    let source = "ARG V=1.2.3\nFROM node:${V%.*}\n";
    let parsed = parse(source);
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(images(&parsed), vec!["node:1.2"]);
    // The tag is the first bytes of the ARG default: editing them there keeps the `%.*`.
    let spans = &parsed.dependencies[0].version_spans;
    assert_eq!(spans.len(), 1);
    assert_eq!(&source[..spans[0].end], "ARG V=1.2");
    assert_exact(source, &parsed.dependencies[0]);
}

#[test]
fn unsupported_substitution_is_reported() {
    let parsed = parse("ARG V=1.2.3\nFROM node:${V^^}\n");
    assert_eq!(parsed.dependencies, vec![]);
    assert_eq!(
        errors(&parsed),
        vec![(
            2,
            "FROM `node:${V^^}`: `${V^…}` is a substitution patchwright does not evaluate; use `${NAME}`, `${NAME:-default}`, `${NAME:+alternative}`, `${NAME#pattern}`, `${NAME%pattern}` or `${NAME/pattern/replacement}`"
                .to_string()
        )]
    );
}

#[test]
fn crlf_files_keep_exact_spans_and_no_carriage_returns() {
    for name in [
        "args.Dockerfile",
        "heredoc-multiple.Dockerfile",
        "escape-backtick.Dockerfile",
    ] {
        let (lf_source, lf) = fixture(name);
        let source = lf_source.replace('\n', "\r\n");
        let parsed = dockerfile::parse(name, &source);
        assert_eq!(parsed.errors, vec![], "{name}");
        assert_eq!(images(&parsed), images(&lf), "{name}");
        for (crlf, lf) in parsed.dependencies.iter().zip(&lf.dependencies) {
            assert_exact(&source, crlf);
            assert_eq!(crlf.location.line, lf.location.line);
            assert!(!crlf.version.as_deref().unwrap_or("").contains('\r'));
        }
        assert_eq!(installs(&parsed), installs(&lf), "{name}");
        let (user, line, at) = final_user(&source, &parsed);
        assert!(!user.as_deref().unwrap_or("").contains('\r'), "{name}");
        assert!(!at.contains('\r'), "{name}");
        assert_eq!(line, final_user(&lf_source, &lf).1);
    }
}

#[test]
fn byte_order_mark_and_directives() {
    let source = "\u{feff}# syntax=docker/dockerfile:1\nFROM alpine:3.19\n";
    let parsed = parse(source);
    assert_eq!(parsed.errors, vec![]);
    let alpine = &parsed.dependencies[0];
    assert_eq!(
        alpine.location.span.unwrap().slice(source),
        Some("alpine:3.19")
    );
    assert_eq!((alpine.location.line, alpine.location.column), (2, 6));
    let parsed = parse("# escape=x\nFROM alpine:3\n");
    assert_eq!(
        errors(&parsed),
        vec![(
            1,
            "invalid escape directive `x`: the escape character must be a backslash (\\) or a backtick (`)"
                .to_string()
        )]
    );
}

#[test]
fn keywords_are_case_insensitive_and_json_forms_parse() {
    let source = r#"from --platform=linux/amd64 python:3.12 As Build
run ["apt-get", "install", "-y", "curl"]
Copy ["a b.txt", "./"]
CMD ["python", "app.py"]
FROM build
user nobody
"#;
    let parsed = parse(source);
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(images(&parsed), vec!["python:3.12"]);
    assert_eq!(kinds(&parsed), vec![base(0, Some("Build"), false)]);
    assert_eq!(
        installs(&parsed),
        vec![("apt-get".into(), strings(&["curl"]), 2)]
    );
    assert_eq!(
        final_user(source, &parsed),
        (Some("nobody".into()), 6, "nobody".into())
    );
}

#[test]
fn continuations_with_comments_and_trailing_spaces() {
    let source = "FROM debian:12\nRUN apt-get update \\  \n# a comment inside\n\n    && apt-get install -y \\\n       curl=7.88.1-10 \\\n       git \\\n    && rm -rf /var/lib/apt/lists/*\nUSER app\n";
    let parsed = parse(source);
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(
        installs(&parsed),
        vec![("apt-get".into(), strings(&["git"]), 5)]
    );
    assert_eq!(final_user(source, &parsed).1, 9);
}

#[test]
fn apk_pins_and_options() {
    let source = "FROM alpine:3.19\nRUN apk add --no-cache --virtual .build-deps git=2.40.1-r0 curl~8.5 bash $EXTRA \\\n    && apk add tini || true\n";
    let parsed = parse(source);
    assert_eq!(
        installs(&parsed),
        vec![
            ("apk".into(), strings(&["bash"]), 2),
            ("apk".into(), strings(&["tini"]), 3),
        ]
    );
}

mod random_input {
    use super::*;
    use proptest::prelude::*;

    /// Pieces real Dockerfiles are made of, so random files reach deep into the parser.
    const PIECES: &[&str] = &[
        "FROM ",
        "from ",
        "RUN ",
        "ARG ",
        "COPY ",
        "USER ",
        "AS ",
        "--from=",
        "--platform=",
        "--mount=type=bind,from=",
        "node:20",
        "a",
        "b",
        "0",
        "1",
        "localhost:5000/x",
        "@sha256:",
        "0123456789abcdef0123456789abcdef",
        "$A",
        "${A}",
        "${A:-x}",
        "${B-",
        "${A:+",
        "}",
        "A=1",
        "B=\"q\"",
        "'",
        "\"",
        "\\",
        "`",
        "# escape=`\n",
        "# syntax=x\n",
        "#",
        "<<EOF",
        "<<-EOF",
        "EOF",
        "\tEOF",
        "<<<",
        "apk add ",
        "apt-get install -y ",
        "git=1",
        "&&",
        ";",
        "|",
        "(",
        " ",
        "\t",
        "\n",
        "\r\n",
        "\u{feff}",
        "é",
        "[\"x\", ",
        "]",
    ];

    fn dockerfile() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), 0..80)
            .prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics_and_every_span_is_exact(source in dockerfile()) {
            let parsed = parse(&source);
            let lines = u32::try_from(source.lines().count()).unwrap() + 1;
            for dependency in &parsed.dependencies {
                assert_exact(&source, dependency);
                let span = dependency.location.span.expect("span");
                prop_assert!(span.slice(&source).is_some());
            }
            for fact in &parsed.facts {
                let location = match fact {
                    Fact::FinalStageUser { location, .. }
                    | Fact::UnpinnedOsPackages { location, .. } => location,
                };
                prop_assert!(location.span.and_then(|s| s.slice(&source)).is_some());
                prop_assert!(location.line >= 1 && location.line <= lines);
            }
            for error in &parsed.errors {
                prop_assert!(error.line <= lines, "{error}");
            }
        }
    }
}

#[test]
fn an_arg_can_name_a_stage_or_scratch() {
    let source = "ARG PARENT=build\nARG EMPTY=scratch\nFROM golang:1.22 AS build\nUSER builder\nFROM ${PARENT}\nFROM $EMPTY AS out\n";
    let parsed = parse(source);
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(images(&parsed), vec!["golang:1.22"]);
    assert_eq!(kinds(&parsed), vec![base(0, Some("build"), false)]);
    assert_eq!(
        final_user(source, &parsed),
        (None, 6, "FROM $EMPTY AS out".into())
    );
    let linked = source.replace("FROM $EMPTY AS out\n", "");
    assert_eq!(
        final_user(&linked, &parse(&linked)),
        (Some("builder".into()), 4, "builder".into())
    );
}

#[test]
fn templates_are_one_note_and_not_scanned() {
    let go_template = "FROM {{ .Base }}\n{{ range .Packages }}\nRUN apk add {{ . }}\n{{ end }}\nUSER {{ .User }}\n";
    let erb = "# generated\nFROM <%= base %>\n<% if dev %>\nRUN bundle install\n<% end %>\n";
    let cases = [
        ("Dockerfile.template", go_template, 1, "`.template`"),
        ("docker/Dockerfile.tt", erb, 2, "`.tt`"),
        ("Dockerfile.j2", "FROM python:3.12\n", 1, "`.j2`"),
        // By content, when the placeholders break the file.
        ("Dockerfile", go_template, 1, "`{{`"),
        ("Dockerfile", erb, 2, "`<%`"),
    ];
    for (file, source, line, sign) in cases {
        let parsed = dockerfile::parse(file, source);
        assert_eq!(parsed.dependencies, vec![], "{file}");
        assert_eq!(parsed.facts, vec![], "{file}");
        let [error] = parsed.errors.as_slice() else {
            panic!("{file}: one entry expected, got {:?}", parsed.errors);
        };
        assert_eq!(error.line, line, "{file}");
        assert_eq!(error.code, Some(ErrorCode::DockerfileTemplate), "{file}");
        assert!(error.is_note(), "{file}");
        assert!(
            error.message.starts_with("not scanned: this is a template"),
            "{file}"
        );
        assert!(error.message.contains(sign), "{file}: {}", error.message);
    }
    // `{{` in a valid Dockerfile is a Go template for a command, not a template file.
    let parsed = parse("FROM alpine:3.19\nRUN docker inspect --format '{{.Id}}' x\n");
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(images(&parsed), vec!["alpine:3.19"]);
}

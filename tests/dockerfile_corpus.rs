//! Every real Dockerfile in ../shared/corpus parses cleanly, with spans that point at exactly the
//! text they claim; and specific files yield exactly the images, stages and facts they hold.

use std::path::{Path, PathBuf};

use patchwright::manifest::dockerfile;
use patchwright::model::{
    Dependency, DependencyKind, Fact, ParsedManifest, Segment, SegmentSource,
};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");

fn is_dockerfile(name: &str) -> bool {
    name == "Dockerfile" || name.starts_with("Dockerfile.") || name.ends_with(".Dockerfile")
}

fn dockerfiles(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            dockerfiles(&path, found);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(is_dockerfile)
        {
            found.push(path);
        }
    }
}

fn corpus_file(relative: &str) -> (String, ParsedManifest) {
    let path = Path::new(CORPUS).join(relative);
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}"));
    let parsed = dockerfile::parse(relative, &source);
    (source, parsed)
}

/// (name, tag, digest, kind) of each dependency, for exact comparison.
fn summary(parsed: &ParsedManifest) -> Vec<(String, Option<String>, bool, DependencyKind)> {
    parsed
        .dependencies
        .iter()
        .map(|d| {
            (
                d.name.clone(),
                d.version.clone(),
                d.digest.is_some(),
                d.kind.clone(),
            )
        })
        .collect()
}

fn base(stage: usize, alias: Option<&str>, final_stage: bool) -> DependencyKind {
    DependencyKind::BaseImage {
        stage,
        alias: alias.map(str::to_string),
        final_stage,
    }
}

fn check_spans(file: &str, source: &str, dependency: &Dependency) {
    let site = dependency.image.as_ref().expect("images carry their site");
    let joined: String = site.segments.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(joined, site.reference.to_string(), "{file}: segments");
    assert_eq!(dependency.name, site.reference.name(), "{file}");
    for Segment { text, source: from } in &site.segments {
        let span = match from {
            SegmentSource::Literal { span } => Some(*span),
            SegmentSource::Arg { default_span, .. } => *default_span,
            SegmentSource::Implied => {
                panic!("{file}: a Dockerfile writes every byte of its references")
            }
        };
        if let Some(span) = span {
            assert_eq!(span.slice(source), Some(text.as_str()), "{file}: {from:?}");
        }
    }
    for span in &dependency.version_spans {
        assert_eq!(
            span.slice(source),
            dependency.version.as_deref(),
            "{file}: version span"
        );
    }
    let at = dependency
        .location
        .span
        .expect("image locations carry a span");
    let written = at.slice(source).expect("location inside the file");
    assert!(
        written.starts_with(site.segments[0].text.as_str()) || written.contains('$'),
        "{file}: location `{written}`"
    );
}

#[test]
fn every_corpus_dockerfile_parses_with_exact_spans() {
    let mut files = Vec::new();
    dockerfiles(Path::new(CORPUS), &mut files);
    assert_eq!(files.len(), 48, "the corpus holds 48 Dockerfiles");
    let mut images = 0;
    for path in files {
        let source = std::fs::read_to_string(&path).expect("readable");
        let file = path
            .strip_prefix(CORPUS)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let parsed = dockerfile::parse(&file, &source);
        assert_eq!(parsed.errors, vec![], "{file}");
        assert!(!parsed.dependencies.is_empty(), "{file}: no image found");
        for dependency in &parsed.dependencies {
            check_spans(&file, &source, dependency);
            images += 1;
        }
        let users = parsed
            .facts
            .iter()
            .filter(|f| matches!(f, Fact::FinalStageUser { .. }))
            .count();
        assert_eq!(users, 1, "{file}: one final-stage user fact");
    }
    assert!(images >= 80, "{images} images in the corpus");
}

/// The user fact of the final stage: (user, line, the text its location span covers).
fn final_user<'a>(source: &'a str, parsed: &ParsedManifest) -> (Option<String>, u32, &'a str) {
    let (user, location) = parsed
        .facts
        .iter()
        .find_map(|f| match f {
            Fact::FinalStageUser { user, location, .. } => Some((user.clone(), location.clone())),
            _ => None,
        })
        .expect("a final-stage user fact");
    let text = location.span.and_then(|s| s.slice(source)).expect("span");
    (user, location.line, text)
}

/// (manager, packages, line) of each unpinned-install fact.
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

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn react_java_mysql_backend_images_and_stage_kinds() {
    let (source, parsed) = corpus_file("awesome-compose/react-java-mysql/backend/Dockerfile");
    assert_eq!(
        summary(&parsed),
        vec![
            (
                "maven".into(),
                Some("3.8.5-eclipse-temurin-17".into()),
                false,
                base(0, Some("builder"), false)
            ),
            (
                "gloursdocker/docker".into(),
                None,
                false,
                DependencyKind::CopySource { stage: 1 }
            ),
            (
                "eclipse-temurin".into(),
                Some("17-jre-focal".into()),
                false,
                base(3, None, true)
            ),
        ]
    );
    let lines: Vec<u32> = parsed
        .dependencies
        .iter()
        .map(|d| d.location.line)
        .collect();
    assert_eq!(lines, vec![3, 24, 32]);
    // No USER anywhere: the image default, pointed at the final FROM.
    assert_eq!(
        final_user(&source, &parsed),
        (None, 32, "FROM eclipse-temurin:17-jre-focal")
    );
    assert_eq!(
        installs(&parsed),
        vec![("apt-get".into(), strings(&["git"]), 15)]
    );
}

#[test]
fn platform_flag_is_not_an_image_and_the_reference_is_exact() {
    let (source, parsed) = corpus_file("awesome-compose/flask/app/Dockerfile");
    let python = &parsed.dependencies[0];
    assert_eq!(python.name, "python");
    assert_eq!(python.version.as_deref(), Some("3.10-alpine"));
    assert_eq!(python.kind, base(0, Some("builder"), false));
    assert_eq!((python.location.line, python.location.column), (2, 32));
    let span = python.location.span.unwrap();
    assert_eq!(span.slice(&source), Some("python:3.10-alpine"));
    assert_eq!(
        python
            .version_spans
            .iter()
            .map(|s| s.slice(&source))
            .collect::<Vec<_>>(),
        vec![Some("3.10-alpine")]
    );
    let site = python.image.as_ref().unwrap();
    assert_eq!(
        site.segments,
        vec![Segment {
            text: "python:3.10-alpine".into(),
            source: SegmentSource::Literal { span },
        }]
    );
}

#[test]
fn copy_from_an_image_is_a_copy_source() {
    let (source, parsed) = corpus_file("awesome-compose/flask/app/Dockerfile");
    let docker = &parsed.dependencies[1];
    assert_eq!(docker.name, "gloursdocker/docker");
    assert_eq!(docker.version, None);
    assert_eq!(docker.kind, DependencyKind::CopySource { stage: 1 });
    assert_eq!(docker.location.line, 27);
    assert_eq!(
        docker.location.span.unwrap().slice(&source),
        Some("gloursdocker/docker")
    );
    assert!(docker.version_spans.is_empty());
    assert_eq!(parsed.dependencies.len(), 2);
}

#[test]
fn unpinned_apk_add_inside_a_heredoc() {
    let (source, parsed) = corpus_file("awesome-compose/flask/app/Dockerfile");
    assert_eq!(
        installs(&parsed),
        vec![("apk".into(), strings(&["git"]), 19)]
    );
    let Some(Fact::UnpinnedOsPackages { location, .. }) = parsed.facts.first() else {
        panic!("install fact first");
    };
    assert_eq!(location.span.unwrap().slice(&source), Some("apk"));
}

#[test]
fn heredoc_fed_to_bash_is_scanned_across_shell_continuations() {
    let (_, parsed) = corpus_file("awesome-compose/wasmedge-kafka-mysql/etl/Dockerfile");
    assert_eq!(
        installs(&parsed),
        vec![("apt-get".into(), strings(&["git", "clang"]), 6)]
    );
}

#[test]
fn final_user_nonroot() {
    let (source, parsed) = corpus_file("awesome-compose/nginx-wsgi-flask/flask/Dockerfile");
    assert_eq!(
        final_user(&source, &parsed),
        (Some("nonroot".into()), 15, "nonroot")
    );
    assert_eq!(
        installs(&parsed),
        vec![("apk".into(), strings(&["curl"]), 7)]
    );
    assert_eq!(
        summary(&parsed),
        vec![(
            "python".into(),
            Some("3.9.2-alpine".into()),
            false,
            base(0, None, true)
        )]
    );
}

#[test]
fn final_scratch_stage_is_not_an_image() {
    let (source, parsed) = corpus_file("awesome-compose/nginx-golang/backend/Dockerfile");
    let names: Vec<&str> = parsed
        .dependencies
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names, vec!["golang", "gloursdocker/docker"]);
    assert!(parsed.dependencies.iter().all(|d| !matches!(
        d.kind,
        DependencyKind::BaseImage {
            final_stage: true,
            ..
        }
    )));
    assert_eq!(final_user(&source, &parsed), (None, 39, "FROM scratch"));
}

#[test]
fn digests_and_numeric_user() {
    let (source, parsed) = corpus_file("microservices-demo/src/cartservice/src/Dockerfile");
    let runtime = &parsed.dependencies[1];
    assert_eq!(runtime.name, "mcr.microsoft.com/dotnet/runtime-deps");
    assert_eq!(runtime.version.as_deref(), Some("10.0.0-noble-chiseled"));
    assert_eq!(
        runtime.digest.as_deref(),
        Some("sha256:b857c8cb8d929183cfe4c6dd9994abba92a2639dd2dbaf06005379f815991604")
    );
    assert_eq!(runtime.kind, base(1, None, true));
    let reference = &runtime.image.as_ref().unwrap().reference;
    assert_eq!(reference.registry.as_deref(), Some("mcr.microsoft.com"));
    assert_eq!(reference.repository, "dotnet/runtime-deps");
    assert_eq!(
        final_user(&source, &parsed),
        (Some("1000".into()), 43, "1000")
    );
}

#[test]
fn final_stage_built_from_an_earlier_stage() {
    // `FROM base` ships the python image of stage 0; the dependency itself is stage 0's.
    let (source, parsed) = corpus_file("microservices-demo/src/emailservice/Dockerfile");
    assert_eq!(
        summary(&parsed),
        vec![(
            "python".into(),
            Some("3.14.6-alpine".into()),
            true,
            base(0, Some("base"), false)
        )]
    );
    assert_eq!(final_user(&source, &parsed), (None, 33, "FROM base"));
    assert_eq!(
        installs(&parsed),
        vec![
            ("apk".into(), strings(&["g++", "linux-headers"]), 26),
            ("apk".into(), strings(&["libstdc++"]), 42),
        ]
    );
}

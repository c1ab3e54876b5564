//! Images named outside Dockerfiles in the real-world corpus (../shared/corpus): Compose files,
//! Kubernetes manifests, a Helm chart (values and templates) and CI workflows. Every file reads
//! without errors; every image a person reading the file would list comes out, with segments that
//! point at exactly its bytes; templated ones come out as notes. The expected list is an
//! independent line-based reading of the same files (`image:` lines).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use patchwright::manifest::{self, ManifestKind};
use patchwright::model::{ErrorCode, ParsedManifest, SegmentSource};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");

fn yaml_files() -> Vec<(String, ManifestKind)> {
    let mut found = Vec::new();
    let mut stack = vec![PathBuf::from(CORPUS)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("corpus folder is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(CORPUS)
                .expect("under the corpus")
                .to_string_lossy()
                .replace('\\', "/");
            if let Some(kind) = manifest::detect(&relative)
                && kind.names_images()
                && kind != ManifestKind::Dockerfile
            {
                found.push((relative, kind));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn parse(relative: &str) -> (String, ParsedManifest) {
    let source = std::fs::read_to_string(Path::new(CORPUS).join(relative)).expect("readable");
    let kind = manifest::detect(relative).expect("detected");
    let parsed = manifest::parse(kind, relative, &source);
    (source, parsed)
}

/// The values of `image:` lines, as a person skimming the file would read them.
fn image_lines(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| {
            let t = line.trim_start();
            let t = t.strip_prefix("- ").unwrap_or(t).trim_start();
            let v = t.strip_prefix("image:")?.trim();
            let v = v.split(" #").next().unwrap_or(v).trim();
            let v = v.trim_matches(|c| c == '"' || c == '\'');
            (!v.is_empty()).then(|| v.to_string())
        })
        .collect()
}

#[test]
fn the_corpus_holds_the_expected_yaml() {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (_, kind) in yaml_files() {
        *counts.entry(format!("{kind:?}")).or_default() += 1;
    }
    let counts: Vec<(&str, usize)> = counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        counts,
        [
            ("Compose", 39),
            ("HelmValues", 1),
            ("Kubernetes", 27),
            ("Workflow", 9)
        ]
    );
}

#[test]
fn every_yaml_file_reads_and_lists_the_images_its_lines_name() {
    let mut total = 0;
    for (relative, kind) in yaml_files() {
        let (source, parsed) = parse(&relative);
        let errors: Vec<_> = parsed.errors.iter().filter(|e| !e.is_note()).collect();
        assert!(errors.is_empty(), "{relative}: {errors:?}");
        for dep in &parsed.dependencies {
            let site = dep.image.as_ref().expect("an image site");
            let text: String = site.segments.iter().map(|s| s.text.as_str()).collect();
            assert_eq!(text, site.reference.to_string(), "{relative}");
            for segment in &site.segments {
                if let SegmentSource::Literal { span } = &segment.source {
                    assert_eq!(
                        span.slice(&source),
                        Some(segment.text.as_str()),
                        "{relative}"
                    );
                }
            }
            for span in &dep.version_spans {
                assert_eq!(span.slice(&source), dep.version.as_deref(), "{relative}");
            }
        }
        if kind == ManifestKind::HelmValues {
            continue;
        }
        let mut want = image_lines(&source);
        let templated = want
            .iter()
            .filter(|v| v.contains("{{") || v.contains('$'))
            .count();
        want.retain(|v| !(v.contains("{{") || v.contains('$')));
        let mut got: Vec<String> = parsed
            .dependencies
            .iter()
            .map(|d| d.image.as_ref().expect("site").reference.to_string())
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{relative}");
        let notes = parsed
            .errors
            .iter()
            .filter(|e| e.code == Some(ErrorCode::ImageNotResolvable))
            .count();
        assert_eq!(notes, templated, "{relative}: {:?}", parsed.errors);
        total += got.len();
    }
    assert_eq!(total, 77);
}

#[test]
fn named_images_in_named_files() {
    let (_, parsed) = parse("microservices-demo/release/kubernetes-manifests.yaml");
    let frontend = parsed
        .dependencies
        .iter()
        .find(|d| d.name.ends_with("/frontend"))
        .expect("the frontend image");
    assert_eq!(frontend.version.as_deref(), Some("v0.10.6"));
    assert_eq!(frontend.location.line, 53);

    let (_, parsed) = parse("microservices-demo/helm-chart/templates/cartservice.yaml");
    let redis: Vec<_> = parsed
        .dependencies
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(redis, ["redis"]);
    assert!(parsed.dependencies[0].digest.is_some());

    // The chart's values leave the tag to the chart's appVersion: a note, not a guess.
    let (_, parsed) = parse("microservices-demo/helm-chart/values.yaml");
    assert!(parsed.dependencies.is_empty(), "{:?}", parsed.dependencies);
    assert!(
        parsed
            .errors
            .iter()
            .any(|e| e.code == Some(ErrorCode::ImageNotResolvable)
                && e.message.contains("appVersion")),
        "{:?}",
        parsed.errors
    );
}

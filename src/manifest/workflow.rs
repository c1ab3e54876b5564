//! GitHub Actions workflows (`.github/workflows/*.yml`): each job's `container` (a reference, or
//! a mapping with `image`), its `services`, and `uses: docker://image` steps.

use super::yaml::{self, Node};
use super::yaml_images::Images;
use crate::model::ParsedManifest;

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    let mut images = Images::new(file, source);
    let (docs, error) = yaml::parse(source);
    for doc in &docs {
        for (id, job) in doc.get("jobs").map_or(&[][..], Node::entries) {
            let id = id.as_str().unwrap_or("?");
            if let Some(container) = job.get("container") {
                image_of(&mut images, container, &format!("job `{id}` container"));
            }
            for (name, service) in job.get("services").map_or(&[][..], Node::entries) {
                let name = name.as_str().unwrap_or("?");
                image_of(
                    &mut images,
                    service,
                    &format!("job `{id}` service `{name}`"),
                );
            }
            for step in job.get("steps").map_or(&[][..], Node::items) {
                let Some(uses) = step.get("uses").and_then(Node::as_scalar) else {
                    continue;
                };
                if let Some(reference) = uses.value.strip_prefix("docker://") {
                    let reference = reference.to_string();
                    images.reference(
                        uses,
                        "docker://".len(),
                        &reference,
                        &format!("job `{id}` step"),
                    );
                }
            }
        }
    }
    if let Some(error) = error {
        images.syntax("the workflow", &error);
    }
    images.finish()
}

/// `container: node:20` or `container: {image: node:20}`.
fn image_of(images: &mut Images<'_>, node: &Node, context: &dyn std::fmt::Display) {
    match node.get("image") {
        Some(image) => images.scalar(image, context),
        None => images.scalar(node, context),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorCode;

    #[test]
    fn containers_services_and_docker_steps() {
        let source = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container: node:20.11-bookworm\n    services:\n      db:\n        image: postgres:16\n      cache: redis:7\n    steps:\n      - uses: actions/checkout@v4\n      - uses: docker://alpine:3.19\n  matrix:\n    runs-on: ubuntu-latest\n    container:\n      image: ${{ matrix.image }}\n";
        let parsed = parse(".github/workflows/ci.yml", source);
        let got: Vec<(String, &str)> = parsed
            .dependencies
            .iter()
            .map(|d| {
                (
                    d.image.as_ref().unwrap().reference.to_string(),
                    d.version_spans[0].slice(source).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("node:20.11-bookworm".to_string(), "20.11-bookworm"),
                ("postgres:16".to_string(), "16"),
                ("redis:7".to_string(), "7"),
                ("alpine:3.19".to_string(), "3.19"),
            ]
        );
        let [note] = parsed.errors.as_slice() else {
            panic!("{:?}", parsed.errors)
        };
        assert_eq!(note.code, Some(ErrorCode::ImageNotResolvable));
        assert_eq!(note.line, 16);
    }
}

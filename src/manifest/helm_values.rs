//! Helm values files (`values.yaml`, `values-*.yaml`): image blocks split across keys
//! (`registry`, `repository`, `tag`, `digest`, as most charts write them), and `image:` keys
//! holding a whole reference. A block whose `tag` is empty leaves the tag to the chart (usually
//! its appVersion): noted, not guessed.

use super::yaml::{self, Node};
use super::yaml_images::Images;
use crate::model::ParsedManifest;

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    let mut images = Images::new(file, source);
    let (docs, error) = yaml::parse(source);
    for doc in &docs {
        walk(doc, &mut images, "");
    }
    if let Some(error) = error {
        images.syntax("the Helm values file", &error);
    }
    images.finish()
}

fn walk(node: &Node, images: &mut Images<'_>, path: &str) {
    for (key, value) in node.entries() {
        let Some(key) = key.as_str() else {
            continue;
        };
        let here = if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        };
        let imageish = key.to_ascii_lowercase().contains("image");
        match value {
            Node::Scalar(_) if imageish && key != "imagePullPolicy" => {
                images.scalar(value, &format!("`{here}`"));
            }
            Node::Map(_) if is_image_block(value, imageish) => {
                images.split(value, &format!("`{here}`"));
            }
            Node::Map(_) => walk(value, images, &here),
            _ => {}
        }
    }
}

/// A mapping with a `repository` and a `tag` or `digest` key, or a `repository` under a key
/// that names an image.
fn is_image_block(node: &Node, imageish: bool) -> bool {
    node.get("repository").and_then(Node::as_str).is_some()
        && (imageish || node.get("tag").is_some() || node.get("digest").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ErrorCode, SegmentSource};

    #[test]
    fn split_blocks_whole_references_and_chart_decided_tags() {
        let source = "image:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: \"1.25.3\"  # keep quoted\n  pullPolicy: IfNotPresent\nsidecar:\n  image: busybox:1.36\n  imagePullPolicy: Always\nimages:\n  repository: us-docker.pkg.dev/demo\n  tag: \"\"\nworker:\n  image:\n    repository: acme/worker\n    tag: '{{ .Chart.AppVersion }}'\n";
        let parsed = parse("chart/values.yaml", source);
        let got: Vec<String> = parsed
            .dependencies
            .iter()
            .map(|d| d.image.as_ref().unwrap().reference.to_string())
            .collect();
        assert_eq!(got, ["docker.io/bitnami/nginx:1.25.3", "busybox:1.36"]);
        let nginx = &parsed.dependencies[0];
        assert_eq!(nginx.version_spans[0].slice(source), Some("1.25.3"));
        assert_eq!(nginx.location.line, 3);
        let implied = nginx
            .image
            .as_ref()
            .unwrap()
            .segments
            .iter()
            .filter(|s| s.source == SegmentSource::Implied)
            .count();
        assert_eq!(implied, 2, "`/` and `:` are not in the file");
        let notes: Vec<u32> = parsed
            .errors
            .iter()
            .map(|e| {
                assert_eq!(e.code, Some(ErrorCode::ImageNotResolvable));
                e.line
            })
            .collect();
        assert_eq!(notes, [10, 15]);
    }
}

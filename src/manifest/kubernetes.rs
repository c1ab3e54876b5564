//! Kubernetes manifests: any YAML document with a `kind`, multi-document files included. Every
//! `containers`, `initContainers` and `ephemeralContainers` list, at any depth (a Pod, a
//! Deployment's template, a CronJob's job template, a `List`), gives its items' `image`.
//!
//! A file that is not a manifest (no `kind`) yields nothing. Helm chart templates are not YAML
//! until rendered: when the file does not parse and holds `{{`, its `image:` lines are read one
//! by one, literal images reported and templated ones noted.

use super::yaml::{self, Node, Scalar};
use super::yaml_images::Images;
use crate::model::{ParsedManifest, Span};

const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    let mut images = Images::new(file, source);
    let (docs, error) = yaml::parse(source);
    let templated = source.contains("{{");
    match error {
        Some(_) if templated => {
            image_lines(&mut images, source);
            return images.finish();
        }
        // Other YAML files share the extension; only a manifest's errors are worth a word.
        Some(error) if source.contains("apiVersion:") && source.contains("kind:") => {
            images.syntax("the Kubernetes manifest", &error);
        }
        Some(_) | None => {}
    }
    for doc in docs.iter().filter(|d| d.get("kind").is_some()) {
        let kind = doc.get("kind").and_then(Node::as_str).unwrap_or("?");
        let name = doc
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Node::as_str)
            .unwrap_or("?");
        walk(doc, &mut images, Object { kind, name });
    }
    images.finish()
}

/// The object a container belongs to, named in notes as "Deployment `web`".
#[derive(Clone, Copy)]
struct Object<'n> {
    kind: &'n str,
    name: &'n str,
}

/// Where an image is, written only when a note needs it: most images need none, and a string
/// per container was a measurable part of reading a manifest.
struct Container<'n> {
    object: Object<'n>,
    name: &'n str,
}

impl std::fmt::Display for Container<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Object { kind, name } = self.object;
        write!(f, "{kind} `{name}`, container `{}`", self.name)
    }
}

fn walk(node: &Node, images: &mut Images<'_>, object: Object<'_>) {
    match node {
        Node::Map(entries) => {
            for (key, value) in entries {
                if key.as_str().is_some_and(|k| CONTAINER_LISTS.contains(&k)) {
                    for container in value.items() {
                        let name = container.get("name").and_then(Node::as_str).unwrap_or("?");
                        if let Some(image) = container.get("image") {
                            images.scalar(image, &Container { object, name });
                        }
                    }
                } else {
                    walk(value, images, object);
                }
            }
        }
        Node::Seq(items) => items.iter().for_each(|i| walk(i, images, object)),
        Node::Scalar(_) | Node::Alias => {}
    }
}

/// `image: value` lines of a template, with the value's exact bytes.
fn image_lines(images: &mut Images<'_>, source: &str) {
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start();
        let trimmed = trimmed.strip_prefix("- ").map_or(trimmed, str::trim_start);
        let Some(rest) = trimmed.strip_prefix("image:") else {
            continue;
        };
        let value_start =
            start + (body.len() - rest.len()) + (rest.len() - rest.trim_start().len());
        let mut value = rest.trim();
        if let Some(comment) = value.find(" #") {
            value = value[..comment].trim_end();
        }
        let (value, quote) = match value.chars().next() {
            Some(q @ ('"' | '\'')) if value.len() >= 2 && value.ends_with(q) => {
                (&value[1..value.len() - 1], 1)
            }
            _ => (value, 0),
        };
        if value.is_empty() {
            continue;
        }
        let begin = value_start + quote;
        let scalar = Scalar {
            value: std::borrow::Cow::Borrowed(value),
            start: begin,
            span: Some(Span::new(begin, begin + value.len())),
        };
        images.reference(&scalar, 0, value, &"template line");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorCode;

    #[test]
    fn every_container_list_of_every_document() {
        let source = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  image: not-an-image\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          initContainers:\n          - name: init\n            image: busybox:1.36\n          containers:\n          - name: main\n            image: \"ghcr.io/acme/job:2.1.0\" # pinned by CI\n";
        let parsed = parse("deploy/cron.yaml", source);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let got: Vec<String> = parsed
            .dependencies
            .iter()
            .map(|d| d.image.as_ref().unwrap().reference.to_string())
            .collect();
        assert_eq!(got, ["busybox:1.36", "ghcr.io/acme/job:2.1.0"]);
        let tag = parsed.dependencies[1].version_spans[0];
        assert_eq!(tag.slice(source), Some("2.1.0"));
    }

    #[test]
    fn a_helm_template_gives_its_literal_images_and_notes_the_templated_ones() {
        let source = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: {{ .Values.images.repository }}/app:{{ .Values.images.tag }}\n      - name: redis\n        image: redis:alpine@sha256:8096655e437712b07503796fb64d81359256cfcff0ab29d95a7da72863786efb\n";
        let parsed = parse("chart/templates/app.yaml", source);
        assert_eq!(parsed.dependencies.len(), 1);
        assert_eq!(parsed.dependencies[0].name, "redis");
        assert_eq!(parsed.dependencies[0].location.line, 10);
        let [note] = parsed.errors.as_slice() else {
            panic!("{:?}", parsed.errors)
        };
        assert_eq!(note.code, Some(ErrorCode::ImageNotResolvable));
        assert_eq!(note.line, 8);
    }

    #[test]
    fn a_note_names_the_object_and_the_container() {
        let source = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ghcr.io/acme/app:${TAG}\n      - image: Not/Valid:1\n";
        let parsed = parse("deploy/web.yaml", source);
        let messages: Vec<&str> = parsed.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].starts_with(
                "Deployment `web`, container `app`: `ghcr.io/acme/app:${TAG}` is templated"
            ),
            "{messages:?}"
        );
        assert!(
            messages[1].starts_with(
                "Deployment `web`, container `?`: `Not/Valid:1` is not a valid image reference"
            ),
            "{messages:?}"
        );
    }

    #[test]
    fn other_yaml_is_silent() {
        assert_eq!(
            parse("mkdocs.yml", "site_name: x\nnav: [\n"),
            ParsedManifest {
                file: "mkdocs.yml".into(),
                ..Default::default()
            }
        );
    }
}

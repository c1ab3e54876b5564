//! Compose files (`compose.yaml`, `docker-compose*.yml`): each service's `image:`. A service
//! with only `build:` builds its image from a Dockerfile, which is scanned as such.

use super::yaml::{self, Node};
use super::yaml_images::Images;
use crate::model::ParsedManifest;

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    let mut images = Images::new(file, source);
    let (docs, error) = yaml::parse(source);
    for doc in &docs {
        for (name, service) in doc.get("services").map_or(&[][..], Node::entries) {
            if let Some(image) = service.get("image") {
                let name = name.as_str().unwrap_or("?");
                images.scalar(image, &format!("service `{name}`"));
            }
        }
    }
    if let Some(error) = error {
        images.syntax("the Compose file", &error);
    }
    images.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorCode;

    #[test]
    fn service_images_with_exact_spans_and_variables_as_notes() {
        let source = "x-base: &py \"python:3.12-slim\" # pinned\nservices:\n  web:\n    build: .\n  db:\n    image: 'postgres:16.2@sha256:8096655e437712b07503796fb64d81359256cfcff0ab29d95a7da72863786efb'\n  api:\n    image: *py\n  cache:\n    image: redis:${REDIS_TAG:-7}\n";
        let parsed = parse("compose.yaml", source);
        let got: Vec<(String, Option<String>, &str)> = parsed
            .dependencies
            .iter()
            .map(|d| {
                let span = d.version_spans[0];
                (
                    d.name.clone(),
                    d.version.clone(),
                    span.slice(source).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("postgres".into(), Some("16.2".into()), "16.2"),
                ("python".into(), Some("3.12-slim".into()), "3.12-slim"),
            ]
        );
        // The alias's image is edited at its anchor, inside the quotes.
        assert_eq!(parsed.dependencies[1].location.line, 1);
        let [note] = parsed.errors.as_slice() else {
            panic!("{:?}", parsed.errors)
        };
        assert_eq!(note.code, Some(ErrorCode::ImageNotResolvable));
        assert_eq!(note.line, 10);
    }

    #[test]
    fn broken_yaml_keeps_what_came_before() {
        let parsed = parse(
            "compose.yaml",
            "services:\n  a:\n    image: nginx:1\n  b: [\n",
        );
        assert_eq!(parsed.dependencies.len(), 1);
        assert_eq!(parsed.errors[0].code, Some(ErrorCode::YamlSyntax));
    }
}

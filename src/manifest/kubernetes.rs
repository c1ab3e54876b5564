//! Kubernetes manifests: any YAML document with a `kind`, multi-document files included. Every
//! `containers`, `initContainers` and `ephemeralContainers` list, at any depth (a Pod, a
//! Deployment's template, a CronJob's job template, a `List`), gives its items' `image`.
//!
//! A file that is not a manifest (no `kind`) yields nothing. Helm chart templates are not YAML
//! until rendered: when the file does not parse and holds `{{`, its `image:` lines are read one
//! by one, literal images reported and templated ones noted.

use super::yaml::{self, Keep, Node, Role, Scalar, YamlError};
use super::yaml_images::Images;
use crate::model::{ParsedManifest, Span};

const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// What `read` looks at, so the fast YAML reader builds only that: each document's `kind` and
/// `metadata` (for `name`), and the collections on the way to a container list, whose items
/// keep their `name` and `image`. Everything else (labels, env, probes, a ConfigMap's data) is
/// read but not built. The walk below must find the same things in this tree as in the whole
/// one: a value is dropped only when the walk would find no container list in it, and what the
/// walk reads with `get` (the first key of a name) is kept whenever such a key is.
const SHAPE: yaml::Shape<'static> = yaml::Shape::new(&[
    // 0, a document: `kind` and `metadata` are read (the first of each) and walked like the rest.
    Role {
        keys: &[
            ("kind", Keep::In(WALK)),
            ("metadata", Keep::In(METADATA)),
            ("containers", Keep::IfAny(CONTAINERS)),
            ("initContainers", Keep::IfAny(CONTAINERS)),
            ("ephemeralContainers", Keep::IfAny(CONTAINERS)),
        ],
        other: Keep::IfAny(WALK),
        // A document that is a sequence has no `kind`: it is not read.
        items: Keep::Never,
    },
    // 1, the document's `metadata`.
    Role {
        keys: &[
            ("name", Keep::In(WALK)),
            ("containers", Keep::IfAny(CONTAINERS)),
            ("initContainers", Keep::IfAny(CONTAINERS)),
            ("ephemeralContainers", Keep::IfAny(CONTAINERS)),
        ],
        other: Keep::IfAny(WALK),
        items: Keep::IfAny(WALK),
    },
    // 2, anywhere else: only what leads to a container list.
    Role {
        keys: &[
            ("containers", Keep::IfAny(CONTAINERS)),
            ("initContainers", Keep::IfAny(CONTAINERS)),
            ("ephemeralContainers", Keep::IfAny(CONTAINERS)),
        ],
        other: Keep::IfAny(WALK),
        items: Keep::IfAny(WALK),
    },
    // 3, a container list: its items (a mapping here holds no containers).
    Role {
        keys: &[],
        other: Keep::Never,
        items: Keep::IfAny(CONTAINER),
    },
    // 4, a container: its `name` and `image` (the walk does not look deeper).
    Role {
        keys: &[("name", Keep::Hollow), ("image", Keep::Hollow)],
        other: Keep::Never,
        items: Keep::Never,
    },
]);
const METADATA: u8 = 1;
const WALK: u8 = 2;
const CONTAINERS: u8 = 3;
const CONTAINER: u8 = 4;

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    read(file, source, yaml::parse_shaped(source, SHAPE))
}

fn read<'a>(
    file: &str,
    source: &'a str,
    (docs, error): (Vec<Node<'a>>, Option<YamlError>),
) -> ParsedManifest {
    let mut images = Images::new(file, source);
    match error {
        Some(_) if source.contains("{{") => {
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

    /// Read through the shaped tree, a file gives what the whole tree gives.
    fn same_as_whole_tree(file: &str, source: &str) {
        let whole = read(file, source, yaml::parse(source));
        assert_eq!(parse(file, source), whole, "{file}: {source}");
    }

    #[test]
    fn the_shaped_tree_reads_every_corpus_yaml_file_as_the_whole_tree() {
        let (corpus, files) = crate::manifest::yaml::corpus_yaml_files();
        assert!(files.len() >= 70, "{} YAML files", files.len());
        let mut images = 0;
        for path in &files {
            let source = std::fs::read_to_string(path).unwrap();
            let file = path.strip_prefix(&corpus).unwrap().display().to_string();
            same_as_whole_tree(&file, &source);
            images += parse(&file, &source).dependencies.len();
        }
        assert!(images >= 13, "{images} images");
    }

    #[test]
    fn the_shaped_tree_reads_odd_manifests_as_the_whole_tree() {
        let mut images = 0;
        for source in [
            // A List, a CronJob, `kind` and `metadata` after the containers, `name` after `image`.
            "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  spec:\n    containers:\n    - image: a:1\n      name: one\n- spec:\n    initContainers: [{name: i, image: 'b:2'}]\n  kind: Job\nmetadata:\n  labels: {x: y}\n  name: l\n",
            "kind: CronJob\nmetadata:\n  name: c\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          ephemeralContainers:\n          - name: e\n            image: \"c:3\"\n          containers:\n          - {name: f, image: d:4}\n",
            // Templated images, a container without an image, one that is not a mapping.
            "kind: Pod\nmetadata:\n  name: t\nspec:\n  containers:\n  - name: a\n    image: 'app:${TAG}'\n  - name: b\n  - plain\n  - [x, y]\n  - name: c\n    image: Not/Valid:1\n",
            // Documents without `kind`, an empty one, one that is a sequence, a scalar one.
            "spec:\n  containers:\n  - image: nokind:1\n---\n- kind: Pod\n- containers: [{image: seq:1}]\n---\nkind: Pod\nspec: {containers: [{image: ok:1}]}\n",
            "---\n---\nkind: Pod\nspec:\n  containers:\n  - image: after-empty:1\n",
            "just text\n---\nkind: Pod\nspec:\n  containers:\n  - image: after-scalar:1\n",
            // Aliases and anchors (the full parser reads them).
            "kind: Pod\nmetadata:\n  name: &n web\nspec:\n  containers:\n  - name: *n\n    image: &i nginx:1.25\n  initContainers:\n  - name: init\n    image: *i\n",
            // Duplicate keys: the first `kind`, `metadata`, `name` and `image` count.
            "kind: A\nkind: B\nmetadata: x\nmetadata:\n  name: second\nspec:\n  containers:\n  - name: [n]\n    name: m\n    image: {i: 1}\n    image: i:1\n  - name: n2\n    image: 't:${T}'\n",
            "kind:\n  containers:\n  - image: in-kind:1\nmetadata:\n  name:\n    initContainers:\n    - name: deep\n      image: in-name:1\n  containers:\n  - image: in-metadata:1\n",
            // Container lists that are not sequences, nested in a container, quoted keys.
            "kind: Pod\nspec:\n  containers:\n    main:\n      image: map:1\n  initContainers: none\n  'ephemeralContainers':\n  - \"name\": q\n    'image': 'quoted:1'\n    containers:\n    - image: inner:1\n",
            // A block scalar name, `''` in a name, comments everywhere.
            "kind: Pod # c\nmetadata:\n  name: |\n    multi\n# c\nspec:\n  containers: # c\n  - name: 'it''s' # c\n    image: x:1 # c\n",
            // Unquoted `${…}`: not in the fast reader's subset.
            "kind: Pod\nspec:\n  containers:\n  - image: app:${TAG}\n  - image: b:1\n",
            // Not YAML: a Helm template, and a manifest cut short.
            "kind: Deployment\nspec:\n  containers:\n  - image: {{ .Values.image }}\n  - image: redis:7\n",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: a:1\n  - image: [b\n",
        ] {
            same_as_whole_tree("odd.yaml", source);
            images += parse("odd.yaml", source).dependencies.len();
        }
        assert!(images >= 15, "{images} images");
    }

    #[test]
    fn the_shaped_tree_holds_only_what_the_walk_reads() {
        let source = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  replicas: 2\n  template:\n    spec:\n      volumes:\n      - name: v\n      containers:\n      - name: app\n        image: nginx:1.25\n        env:\n        - name: A\n          value: b\n        ports: [{containerPort: 80}]\n";
        let (docs, error) = yaml::parse_shaped(source, SHAPE);
        assert_eq!(error, None);
        fn keys(node: &Node, path: &str, out: &mut Vec<String>) {
            for (key, value) in node.entries() {
                let path = format!("{path}/{}", key.as_str().unwrap_or("?"));
                out.push(path.clone());
                keys(value, &path, out);
            }
            for item in node.items() {
                keys(item, &format!("{path}/-"), out);
            }
        }
        let mut kept = Vec::new();
        keys(&docs[0], "", &mut kept);
        assert_eq!(
            kept,
            [
                "/kind",
                "/metadata",
                "/metadata/name",
                "/spec",
                "/spec/template",
                "/spec/template/spec",
                "/spec/template/spec/containers",
                "/spec/template/spec/containers/-/name",
                "/spec/template/spec/containers/-/image",
            ]
        );
    }

    /// Keys a manifest walk cares about (the most, the likelier), and some it does not.
    const KEYS: [&str; 16] = [
        "kind",
        "kind",
        "metadata",
        "metadata",
        "name",
        "name",
        "name",
        "image",
        "image",
        "image",
        "containers",
        "containers",
        "containers",
        "initContainers",
        "spec",
        "'image'",
    ];

    #[derive(Debug, Clone)]
    enum Gen {
        Scalar(u8),
        Seq(Vec<Gen>),
        Map(Vec<(usize, Gen)>),
    }

    fn tree() -> impl proptest::strategy::Strategy<Value = Gen> {
        use proptest::prelude::*;
        (0..6u8)
            .prop_map(Gen::Scalar)
            .prop_recursive(6, 64, 5, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..4).prop_map(Gen::Seq),
                    proptest::collection::vec((0..KEYS.len(), inner), 0..5).prop_map(Gen::Map),
                ]
            })
    }

    /// `node` as block YAML at `indent` (empty collections written `[]` and `{}`).
    fn block(node: &Gen, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        let scalar = |n: u8| {
            [
                "nginx:1.25",
                "x",
                "'q:1'",
                "'app:${TAG}'",
                "Bad/Image:1",
                "\"d:2\"",
            ][usize::from(n) % 6]
                .to_string()
        };
        let inline = |node: &Gen| match node {
            Gen::Scalar(n) => Some(scalar(*n)),
            Gen::Seq(items) if items.is_empty() => Some("[]".into()),
            Gen::Map(entries) if entries.is_empty() => Some("{}".into()),
            _ => None,
        };
        match node {
            Gen::Scalar(_) => {}
            Gen::Seq(items) => {
                for item in items {
                    match inline(item) {
                        Some(text) => out.push_str(&format!("{pad}- {text}\n")),
                        None => {
                            out.push_str(&format!("{pad}-\n"));
                            block(item, indent + 2, out);
                        }
                    }
                }
            }
            Gen::Map(entries) => {
                for (key, value) in entries {
                    match inline(value) {
                        Some(text) => out.push_str(&format!("{pad}{}: {text}\n", KEYS[*key])),
                        None => {
                            out.push_str(&format!("{pad}{}:\n", KEYS[*key]));
                            block(value, indent + 2, out);
                        }
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        #[test]
        fn generated_manifests_read_the_same_shaped_or_whole(
            docs in proptest::collection::vec(
                proptest::collection::vec((0..KEYS.len(), tree()), 1..5),
                1..4,
            ),
        ) {
            let mut source = String::new();
            for doc in docs {
                source.push_str("---\n");
                block(&Gen::Map(doc), 0, &mut source);
            }
            same_as_whole_tree("gen.yaml", &source);
        }
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

//! Every parser, on any input, returns instead of panicking, and every span it reports lies
//! within the input and on character boundaries (an edit at a span must not split a character).
//!
//! Inputs: arbitrary strings, strings over each format's punctuation, and mutations of the real
//! corpus files and of the fixtures (truncation, splices, character flips, line shuffles, two files
//! spliced together). Crashers found by fuzzing (fuzz/) are kept under fixtures/crashers/<kind>/
//! and replayed here.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use patchwright::manifest::{self, ManifestKind};
use patchwright::model::{Fact, Location, ParsedManifest, SegmentSource, Span};
use proptest::prelude::*;
use proptest::test_runner::Config;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/lockfiles");
const CRASHERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/crashers");

/// The folder name under fixtures/crashers/ for each kind (also the fuzz targets' names).
fn crasher_folder(kind: ManifestKind) -> &'static str {
    match kind {
        ManifestKind::Dockerfile => "dockerfile",
        ManifestKind::CargoLock => "cargo_lock",
        ManifestKind::PackageLock => "package_lock",
        ManifestKind::YarnLock => "yarn_lock",
        ManifestKind::Requirements => "requirements",
        ManifestKind::PoetryLock => "poetry_lock",
        ManifestKind::GoMod => "go_mod",
        ManifestKind::GoSum => "go_sum",
        ManifestKind::PnpmLock => "pnpm_lock",
        ManifestKind::UvLock => "uv_lock",
        ManifestKind::PipfileLock => "pipfile_lock",
        ManifestKind::GemfileLock => "gemfile_lock",
        ManifestKind::ComposerLock => "composer_lock",
        ManifestKind::Compose => "compose",
        ManifestKind::Kubernetes => "kubernetes",
        ManifestKind::HelmValues => "helm_values",
        ManifestKind::Workflow => "workflow",
    }
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Every corpus file and fixture a parser reads, with its kind.
fn seeds() -> &'static [(ManifestKind, String)] {
    static SEEDS: OnceLock<Vec<(ManifestKind, String)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = Vec::new();
        for root in [CORPUS, FIXTURES] {
            for path in files_under(Path::new(root)) {
                let name = path.to_string_lossy().replace('\\', "/");
                if let Some(kind) = manifest::detect(&name)
                    && let Ok(source) = std::fs::read_to_string(&path)
                {
                    seeds.push((kind, source));
                }
            }
        }
        assert!(
            seeds.len() > 80,
            "corpus and fixtures: {} files",
            seeds.len()
        );
        for kind in ManifestKind::ALL {
            assert!(
                seeds.iter().any(|(k, _)| *k == kind),
                "no seed for {kind:?}"
            );
        }
        seeds
    })
}

fn check_span(source: &str, span: Span, what: &str) {
    assert!(
        span.start <= span.end && span.end <= source.len(),
        "{what}: span {span:?} outside 0..{}",
        source.len()
    );
    assert!(
        source.is_char_boundary(span.start) && source.is_char_boundary(span.end),
        "{what}: span {span:?} splits a character"
    );
}

fn check_location(source: &str, lines: u32, location: &Location, what: &str) {
    if let Some(span) = location.span {
        check_span(source, span, what);
    }
    assert!(
        location.line >= 1 && location.line <= lines,
        "{what}: line {} of {lines}",
        location.line
    );
}

/// Parses `source` as `kind` and checks what comes back. A panic fails the test (and proptest
/// shrinks the input).
fn check(kind: ManifestKind, source: &str) -> ParsedManifest {
    let parsed = manifest::parse(kind, "input", source);
    let lines = u32::try_from(source.split('\n').count()).unwrap_or(u32::MAX);
    for (index, error) in parsed.errors.iter().enumerate() {
        assert!(
            error.line <= lines,
            "{kind:?}: error line {} of {lines}",
            error.line
        );
        assert!(!error.message.is_empty(), "{kind:?}: empty error message");
        assert!(
            error.code.is_some(),
            "{kind:?}: an error without a code: {error}"
        );
        if let Some(span) = error.span {
            check_span(source, span, &format!("{kind:?} error"));
        }
        // Rescanning the source for each of many errors would make the run quadratic.
        if let (Some(span), true) = (error.span, index < 16) {
            let (line, column) = patchwright::model::line_column(source, span.start);
            assert_eq!(
                (error.line, error.column),
                (line, Some(column)),
                "{kind:?}: error span and line disagree"
            );
        }
    }
    for dep in &parsed.dependencies {
        let what = format!("{kind:?} {}", dep.name);
        check_location(source, lines, &dep.location, &what);
        for span in &dep.version_spans {
            check_span(source, *span, &what);
            // The lockfile parsers promise more: a span holds exactly the version.
            if kind != ManifestKind::Dockerfile {
                assert_eq!(span.slice(source), dep.version.as_deref(), "{what}");
            }
        }
        for segment in dep.image.iter().flat_map(|site| &site.segments) {
            match &segment.source {
                SegmentSource::Literal { span } => check_span(source, *span, &what),
                SegmentSource::Arg { default_span, .. } => {
                    if let Some(span) = default_span {
                        check_span(source, *span, &what);
                    }
                }
                SegmentSource::Implied => {}
            }
            // A literal segment holds exactly its text: an edit there changes only the value.
            if let SegmentSource::Literal { span } = &segment.source
                && kind != ManifestKind::Dockerfile
            {
                assert_eq!(span.slice(source), Some(segment.text.as_str()), "{what}");
            }
        }
    }
    for fact in &parsed.facts {
        let location = match fact {
            Fact::FinalStageUser { location, .. } | Fact::UnpinnedOsPackages { location, .. } => {
                location
            }
            #[allow(unreachable_patterns)]
            _ => continue,
        };
        check_location(source, lines, location, &format!("{kind:?} fact"));
    }
    parsed
}

fn kind_strategy() -> impl Strategy<Value = ManifestKind> {
    prop::sample::select(ManifestKind::ALL.to_vec())
}

/// Characters that mean something in at least one of the formats.
const PUNCTUATION: &str =
    "[[package]]\n{}[]\":=,@ \t#\\/'`()=>;~^*.-+_v0123456789abcnpmgit:\r\u{e9}\u{1F600}";

fn format_soup() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = PUNCTUATION.chars().collect();
    prop::collection::vec(prop::sample::select(alphabet), 0..300)
        .prop_map(|chars| chars.into_iter().collect())
}

/// Snippets that are valid pieces of some format, to splice into another place.
const SNIPPETS: [&str; 24] = [
    "\n[[package]]\nname = \"x\"\nversion = \"1.0.0\"\n",
    "\"version\": \"1.0.0\",",
    "\"node_modules/a/node_modules/@s/b\": {\"version\": \"npm:real@1.0.0\"}",
    "\n\"@a/b@^1\", c@npm:d@2:\n  version \"1\"\n",
    "\n__metadata:\n  version: 6\n",
    "name[extra]==1.0 ; python_version < \"3\" --hash=sha256:00 \\\n",
    "\nrequire (\n\tx v1\n",
    "\nreplace a => b v1\n",
    "\ntoolchain go\n",
    "\nFROM --platform=$X ${A:-b}@sha256:\n",
    "\nARG A=\"\n",
    "<<EOF\n",
    "\u{feff}",
    "\"\\u00e9\\\"",
    "\r\n",
    "\n)\n",
    "\nservices:\n  a:\n    image: &i 'x:1' # c\n  b:\n    image: *i\n",
    "\n      containers:\n      - image: \"${{ matrix.i }}\"\n",
    "\n  '/@s/a@1.0.0(b@2.0.0)':\n    resolution: {integrity: x}\n",
    "\n    nokogiri (1.16.0-x86_64-linux)\n      racc (~> 1.4)\n",
    "\n  repository: a/b\n  tag: \"1\"\n  digest: sha256:0\n",
    "\n---\nkind: Pod\n",
    "\n- uses: docker://alpine:3\n",
    "{\"packages\": [{\"name\": \"a/b\", \"version\": \"v1.0.0-RC1\"}]}",
];

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(prop::sample::Index),
    Splice(prop::sample::Index, String),
    Snippet(prop::sample::Index, prop::sample::Index),
    Flip(prop::sample::Index, char),
    SwapLines(prop::sample::Index, prop::sample::Index),
    DropLine(prop::sample::Index),
    DuplicateLine(prop::sample::Index),
    Join(
        prop::sample::Index,
        prop::sample::Index,
        prop::sample::Index,
    ),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        (any::<prop::sample::Index>(), format_soup()).prop_map(|(i, s)| Mutation::Splice(i, s)),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(i, s)| Mutation::Snippet(i, s)),
        (any::<prop::sample::Index>(), any::<char>()).prop_map(|(i, c)| Mutation::Flip(i, c)),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        any::<prop::sample::Index>().prop_map(Mutation::DropLine),
        any::<prop::sample::Index>().prop_map(Mutation::DuplicateLine),
        (
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>()
        )
            .prop_map(|(f, a, b)| Mutation::Join(f, a, b)),
    ]
}

/// A character boundary of `text` chosen by `index`.
fn boundary(text: &str, index: &prop::sample::Index) -> usize {
    let mut at = index.index(text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(source: &str, mutation: &Mutation) -> String {
    let mut text = source.to_string();
    match mutation {
        Mutation::Truncate(at) => text.truncate(boundary(source, at)),
        Mutation::Splice(at, insert) => text.insert_str(boundary(source, at), insert),
        Mutation::Snippet(at, which) => {
            text.insert_str(boundary(source, at), SNIPPETS[which.index(SNIPPETS.len())])
        }
        Mutation::Flip(at, c) => {
            let start = boundary(source, at);
            let end = source[start..]
                .chars()
                .next()
                .map_or(start, |old| start + old.len_utf8());
            text.replace_range(start..end, c.encode_utf8(&mut [0; 4]));
        }
        Mutation::SwapLines(a, b) => {
            let mut lines: Vec<&str> = source.split('\n').collect();
            let (a, b) = (a.index(lines.len()), b.index(lines.len()));
            lines.swap(a, b);
            text = lines.join("\n");
        }
        Mutation::DropLine(at) => {
            let mut lines: Vec<&str> = source.split('\n').collect();
            lines.remove(at.index(lines.len()));
            text = lines.join("\n");
        }
        Mutation::DuplicateLine(at) => {
            let mut lines: Vec<&str> = source.split('\n').collect();
            let at = at.index(lines.len());
            lines.insert(at, lines[at]);
            text = lines.join("\n");
        }
        Mutation::Join(other, a, b) => {
            let seeds = seeds();
            let other = &seeds[other.index(seeds.len())].1;
            text = format!(
                "{}{}",
                &source[..boundary(source, a)],
                &other[boundary(other, b)..]
            );
        }
    }
    text
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        // Failures are kept as crashers in fixtures/crashers/, not in proptest's own files.
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_strings(kind in kind_strategy(), source in any::<String>()) {
        check(kind, &source);
    }

    #[test]
    fn format_punctuation(kind in kind_strategy(), source in format_soup()) {
        check(kind, &source);
    }
}

proptest! {
    #![proptest_config(config(192))]

    /// Each seed is parsed as its own kind after a mutation, so the parser gets deep into a
    /// real file before meeting the damage.
    #[test]
    fn mutated_real_files(seed in any::<prop::sample::Index>(), mutations in prop::collection::vec(mutation(), 1..4)) {
        let seeds = seeds();
        let (kind, source) = &seeds[seed.index(seeds.len())];
        let mut text = source.clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        check(*kind, &text);
    }

    /// A real file of one format read as another.
    #[test]
    fn real_files_as_the_wrong_kind(seed in any::<prop::sample::Index>(), kind in kind_strategy()) {
        let seeds = seeds();
        check(kind, &seeds[seed.index(seeds.len())].1);
    }
}

#[test]
fn unmutated_seeds_keep_every_invariant() {
    for (kind, source) in seeds() {
        check(*kind, source);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let inputs = [
        (ManifestKind::PackageLock, "[".repeat(depth)),
        (
            ManifestKind::PackageLock,
            format!(
                "{{\"dependencies\":{}",
                "{\"a\":{\"dependencies\":".repeat(depth)
            ),
        ),
        (
            ManifestKind::CargoLock,
            format!("a = {}", "[".repeat(depth)),
        ),
        (
            ManifestKind::PoetryLock,
            format!("a = {}", "{b=".repeat(depth)),
        ),
        (ManifestKind::UvLock, format!("a = {}", "[".repeat(depth))),
        (ManifestKind::PipfileLock, "[".repeat(depth)),
        (ManifestKind::ComposerLock, "{\"a\":".repeat(depth)),
        (ManifestKind::PnpmLock, "[".repeat(depth)),
        (ManifestKind::Compose, "{a: ".repeat(depth)),
        (
            ManifestKind::Kubernetes,
            format!("apiVersion: v1\nkind: Pod\nspec: {}", "- ".repeat(depth)),
        ),
        (ManifestKind::HelmValues, "[".repeat(depth)),
        (ManifestKind::Workflow, "[".repeat(depth)),
    ];
    for (kind, source) in inputs {
        let parsed = check(kind, &source);
        assert!(!parsed.errors.is_empty(), "{kind:?}");
    }
}

/// Inputs that once crashed a parser (found by `cargo fuzz`), replayed for every kind they name.
#[test]
fn crashers_stay_fixed() {
    let mut replayed = 0;
    for kind in ManifestKind::ALL {
        let folder = Path::new(CRASHERS).join(crasher_folder(kind));
        for path in files_under(&folder) {
            if path.extension().is_some_and(|e| e == "md") {
                continue;
            }
            let bytes = std::fs::read(&path).expect("crasher is readable");
            check(kind, &String::from_utf8_lossy(&bytes));
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} crashers");
}

//! The catalog file: the annotated example loads clean and means what its comments say; broken
//! catalogs report every problem as `file:line:column: message`.

use std::path::Path;

use chrono::NaiveDate;
use patchwright::catalog::{
    Catalog, EolStatus, ImageRule, load_catalog, parse_catalog, parse_tag, parse_version,
    variant_family,
};
use patchwright::model::Ecosystem::{CratesIo, Go, Npm, PyPI};
use patchwright::model::{ImageRef, Severity};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/catalog.example.toml");

fn example() -> Catalog {
    load_catalog(Path::new(EXAMPLE)).unwrap_or_else(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("the example catalog has errors:\n{}", lines.join("\n"))
    })
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

fn image<'a>(catalog: &'a Catalog, name: &str) -> &'a ImageRule {
    catalog
        .image(name)
        .unwrap_or_else(|| panic!("{name} not in catalog"))
}

/// Parses `fixtures/catalogs/<name>` and returns its errors as printed.
fn errors_of(name: &str) -> Vec<String> {
    let path = format!("fixtures/catalogs/{name}");
    let text =
        std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).expect("fixture");
    match parse_catalog(&path, &text) {
        Ok(_) => panic!("{path} should not load"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn the_example_loads_with_everything_it_documents() {
    let catalog = example();
    assert_eq!(catalog.revision, "2026-11-01");
    assert!(catalog.allow_unlisted_images);
    let names: Vec<&str> = catalog.images.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "node",
            "python",
            "golang",
            "alpine",
            "eclipse-temurin",
            "debian",
            "mcr.microsoft.com/dotnet/aspnet",
            "mcr.microsoft.com/dotnet/sdk"
        ]
    );
    assert_eq!(catalog.packages.len(), 8);

    let node = image(&catalog, "node");
    let approved: Vec<&str> = node.approved.iter().map(|p| p.as_str()).collect();
    assert_eq!(approved, ["20*", "22*", "24*"]);
    assert_eq!(node.preferred_variant.as_deref(), Some("alpine"));
    assert_eq!(node.default_user.as_deref(), Some("root"));
    assert_eq!(
        node.digest_for("20.20.2-alpine"),
        Some("sha256:fb4cd12c85ee03686f6af5362a0b0d56d50c58a04632e6c0fb8363f609372293")
    );
    assert_eq!(node.digest_for("22.11.0-alpine"), None);
    assert_eq!(node.end_of_life.len(), 4);
    assert_eq!(node.location.line, 32);
    // Any spelling of the name finds the rule.
    for spelling in ["node", "library/node", "docker.io/library/node:20-alpine"] {
        assert_eq!(
            catalog.image(spelling).map(|i| i.name.as_str()),
            Some("node")
        );
    }
    assert!(catalog.image("ghcr.io/acme/node").is_none());
}

#[test]
fn approval_follows_the_patterns() {
    let catalog = example();
    let node = image(&catalog, "node");
    assert!(node.matches_approved("22.11.0-alpine"));
    assert!(node.matches_approved("20-slim"));
    assert!(!node.matches_approved("lts-buster"));
    assert!(!node.matches_approved("18.20.4-alpine"));
    let approves = |reference: &str| catalog.approves(&ImageRef::parse(reference).expect("ref"));
    assert!(approves("node:22-alpine"));
    assert!(!approves("node:lts"));
    // No tag means `latest`, which no pattern approves.
    assert!(!approves("node"));
    // Debian lists no patterns: every tag is approved (end of life is another matter).
    assert!(approves("debian:buster-slim"));
    // Unlisted images are allowed by this catalog.
    assert!(approves("redis:7"));
    assert!(Catalog::empty().approves(&ImageRef::parse("anything:1").expect("ref")));
    assert_eq!(Catalog::empty().revision, "none");
}

#[test]
fn end_of_life_rules_cover_their_tags_with_a_grace_period() {
    let catalog = example();
    let node = image(&catalog, "node");
    let rule = node.eol_for("16.20.2-alpine").expect("node 16 is EOL");
    assert_eq!(rule.date, date("2023-09-11"));
    assert_eq!(rule.blocks_after, Some(date("2024-03-11")));
    assert_eq!(rule.replacement.as_deref(), Some("22-alpine"));
    assert_eq!(rule.location.line, 67);
    assert_eq!(node.eol_for("16"), Some(rule));
    assert_eq!(node.eol_for("16-bullseye"), Some(rule));
    // `16*` would have caught these; the example's patterns do not.
    assert_eq!(node.eol_for("160"), None);
    assert_eq!(node.eol_for("22.11.0-alpine"), None);

    assert_eq!(rule.status_on(date("2023-09-10")), EolStatus::Supported);
    assert_eq!(rule.status_on(date("2023-09-11")), EolStatus::Grace);
    assert_eq!(rule.status_on(date("2024-03-10")), EolStatus::Grace);
    assert_eq!(rule.status_on(date("2024-03-11")), EolStatus::Blocking);
    // Without `blocks-after`, blocking starts on the date itself.
    let py37 = image(&catalog, "python")
        .eol_for("3.7-alpine")
        .expect("3.7");
    assert_eq!(py37.blocks_after, None);
    assert_eq!(py37.status_on(date("2023-06-27")), EolStatus::Blocking);

    // A variant rule, and full-reference replacements.
    let temurin = image(&catalog, "eclipse-temurin");
    let focal = temurin.eol_for("17-jre-focal").expect("focal");
    assert_eq!(focal.replacement.as_deref(), Some("17-jre-jammy"));
    assert_eq!(temurin.eol_for("25.0.3_9-jre-alpine"), None);
    let aspnet = image(&catalog, "mcr.microsoft.com/dotnet/aspnet");
    assert_eq!(
        aspnet.eol_for("5.0").and_then(|r| r.replacement.as_deref()),
        Some("mcr.microsoft.com/dotnet/aspnet:8.0")
    );
}

#[test]
fn vulnerable_tags_and_upgrade_candidates() {
    let catalog = example();
    let node = image(&catalog, "node");
    let rule = node.vulnerable_for("20.7.0-alpine").expect("listed");
    assert_eq!(rule.advisories, ["CVE-2023-38552"]);
    assert_eq!(rule.severity, Severity::High);
    assert!(node.vulnerable_for("18.17.1-bookworm").is_some());
    assert!(node.vulnerable_for("20.8.0-alpine").is_none());
    assert!(node.vulnerable_for("20.17.0").is_none());

    // Candidates are the known tags that are approved, not past end of life, not vulnerable.
    assert_eq!(
        node.candidates(date("2026-01-01")),
        [
            "20.20.2-alpine",
            "22.11.0-alpine",
            "22.11.0-bookworm-slim",
            "22.12.0-alpine"
        ]
    );
    // Node 20 reached end of life on 2026-04-30.
    assert_eq!(
        node.candidates(date("2026-11-01")),
        ["22.11.0-alpine", "22.11.0-bookworm-slim", "22.12.0-alpine"]
    );
}

#[test]
fn package_rules_use_each_ecosystem_order() {
    let catalog = example();
    let lodash = catalog.package(Npm, "lodash").expect("lodash");
    let npm = |t: &str| parse_version(Npm, t).expect("version");
    assert!(lodash.below_minimum(&npm("4.17.20")));
    assert!(!lodash.below_minimum(&npm("4.17.21")));
    assert!(
        lodash
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("CVE-2021-23337"))
    );

    let urllib3 = catalog.package(PyPI, "urllib3").expect("urllib3");
    let py = |t: &str| parse_version(PyPI, t).expect("version");
    assert_eq!(
        urllib3.banned_by(&py("2.0.6")).map(|c| c.as_str()),
        Some(">=2.0.0, <2.0.7")
    );
    assert_eq!(
        urllib3.banned_by(&py("1.26.17")).map(|c| c.as_str()),
        Some("<1.26.18")
    );
    assert!(urllib3.allows(&py("1.26.18")));
    assert!(urllib3.allows(&py("2.0.7")));

    // PEP 503: `Django` in the catalog, `django` in requirements.txt.
    let django = catalog.package(PyPI, "django").expect("django");
    assert_eq!(django.name, "Django");
    assert!(django.below_minimum(&py("3.2.13")));
    assert!(!django.below_minimum(&py("4.2")));

    let pycrypto = catalog.package(PyPI, "PyCrypto").expect("pycrypto");
    assert!(pycrypto.banned_by(&py("2.6.1")).is_some());
    assert_eq!(pycrypto.replacement.as_deref(), Some("pycryptodome"));

    let tokio = catalog.package(CratesIo, "tokio").expect("tokio");
    let cargo = |t: &str| parse_version(CratesIo, t).expect("version");
    assert!(tokio.banned_by(&cargo("1.13.1")).is_some());
    assert!(tokio.allows(&cargo("1.18.4")));
    assert!(tokio.banned_by(&cargo("1.20.2")).is_some());
    assert!(tokio.allows(&cargo("1.23.1")));

    let text = catalog.package(Go, "golang.org/x/text").expect("x/text");
    let go = |t: &str| parse_version(Go, t).expect("version");
    assert!(text.below_minimum(&go("v0.3.7")));
    assert!(!text.below_minimum(&go("0.3.8")));
    // A version from another ecosystem is never "below" anything.
    assert!(!text.below_minimum(&npm("0.0.1")));
    assert!(catalog.package(Npm, "Lodash").is_none());
}

#[test]
fn unknown_keys_are_reported_with_a_suggestion() {
    assert_eq!(
        errors_of("unknown-keys.toml"),
        [
            "fixtures/catalogs/unknown-keys.toml:3:1: unknown key `allow_unlisted_images` in the catalog; did you mean `allow-unlisted-images`?",
            "fixtures/catalogs/unknown-keys.toml:7:1: unknown key `aproved` in [[image]]; did you mean `approved`?",
            "fixtures/catalogs/unknown-keys.toml:8:1: unknown key `preferred_variant` in [[image]]; did you mean `preferred-variant`?",
            "fixtures/catalogs/unknown-keys.toml:9:1: unknown key `colour` in [[image]]; expected one of: name, approved, tags, preferred-variant, default-user, digests, end-of-life, vulnerable",
            "fixtures/catalogs/unknown-keys.toml:14:1: unknown key `blocks_afer` in [[image.end-of-life]]; did you mean `blocks-after`?",
            "fixtures/catalogs/unknown-keys.toml:19:1: unknown key `minimun` in [[package]]; did you mean `minimum`?",
        ]
    );
}

#[test]
fn every_bad_value_is_reported_at_its_position() {
    assert_eq!(
        errors_of("bad-values.toml"),
        [
            "fixtures/catalogs/bad-values.toml:1:1: the catalog needs a `revision`, e.g. `revision = \"2026-11-01\"`, so that PRs can say which catalog they applied",
            "fixtures/catalogs/bad-values.toml:2:25: `allow-unlisted-images` must be `true` or `false`, found a string",
            "fixtures/catalogs/bad-values.toml:5:8: image name `node:20` must not carry a tag or digest; list tags in `approved` and `tags`",
            "fixtures/catalogs/bad-values.toml:9:22: `3.[13` is not a valid tag pattern: unclosed character class; missing ']'",
            "fixtures/catalogs/bad-values.toml:10:24: tag `3.11.9-slim` matches no `approved` pattern; approve it or remove it from `tags`",
            "fixtures/catalogs/bad-values.toml:10:39: `bad tag` is not a valid image tag",
            "fixtures/catalogs/bad-values.toml:11:29: digest for `3.12.4-slim` must be `sha256:` and 64 lowercase hex digits, not `sha256:1234`",
            "fixtures/catalogs/bad-values.toml:14:8: `tags` is empty, so the rule covers nothing; list tag patterns like \"16*\"",
            "fixtures/catalogs/bad-values.toml:15:8: `date` must be a date like `2024-03-11`, not `2023-13-01`",
            "fixtures/catalogs/bad-values.toml:20:16: `blocks-after` (2024-04-07) is before the end-of-life `date` (2024-10-07); the grace period must end after it starts",
            "fixtures/catalogs/bad-values.toml:21:15: replacement tag `3.11-slim` matches no `approved` pattern of this image",
            "fixtures/catalogs/bad-values.toml:25:12: unknown severity `severe`; expected one of: low, medium, high, critical",
            "fixtures/catalogs/bad-values.toml:27:1: [[image.end-of-life]] needs `date`, e.g. `date = 2023-09-11`",
            "fixtures/catalogs/bad-values.toml:31:13: unknown ecosystem `maven`; expected one of: crates.io, npm, PyPI, Go",
            "fixtures/catalogs/bad-values.toml:38:11: `minimum`: `4.17` is not a valid npm version: unexpected end of input while parsing minor version number",
            "fixtures/catalogs/bad-values.toml:39:11: `banned`: `^4.17.0` is not a valid constraint: use one of `=`, `!=`, `<`, `<=`, `>`, `>=` followed by a full version (`^`, `~` and wildcards inside a version are not supported; a lone `*` means every version)",
            "fixtures/catalogs/bad-values.toml:39:43: `banned` entries must be strings, found an integer",
            "fixtures/catalogs/bad-values.toml:41:1: [[package]] says nothing about the package; give `minimum`, `banned` or `replacement`",
        ]
    );
}

#[test]
fn duplicates_point_at_the_first_entry() {
    assert_eq!(
        errors_of("duplicates.toml"),
        [
            "fixtures/catalogs/duplicates.toml:7:8: image `node` is already listed at line 4; merge the two entries",
            "fixtures/catalogs/duplicates.toml:16:8: package `django` (PyPI) is already listed at line 11; merge the two entries",
        ]
    );
}

#[test]
fn the_first_toml_syntax_error_is_reported_and_the_rest_counted() {
    // After one syntax error the parser guesses; a file that is not TOML gives one error per
    // line. The first in the file is the one to fix.
    assert_eq!(
        errors_of("syntax-error.toml"),
        [
            "fixtures/catalogs/syntax-error.toml:8:8: invalid TOML: invalid date, expected day between 01 and 28 (and 1 more syntax error(s) after it, often caused by this one)",
        ]
    );
}

#[test]
fn a_missing_file_is_one_error() {
    let errors = load_catalog(Path::new("/nonexistent/catalog.toml")).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        errors[0].message,
        "no made-up position"
    );
    assert!(
        errors[0]
            .message
            .starts_with("cannot read /nonexistent/catalog.toml: "),
        "{}",
        errors[0].message
    );
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        "[[image]]",
        "image = 3",
        "[[image]]\nname = 3\n[[image.end-of-life]]\n",
        "package = [1]",
        "\u{feff}revision = \"x\"",
    ] {
        let _ = parse_catalog("garbage.toml", text);
    }
    assert!(parse_catalog("ok.toml", "revision = \"r1\"").is_ok());
}

#[test]
fn tags_from_the_corpus_split_into_version_and_variant() {
    // Tags as they appear in ../shared/corpus Dockerfiles.
    let cases: [(&str, Option<Vec<u64>>, &str, &str); 8] = [
        (
            "14.17.3-alpine3.14",
            Some(vec![14, 17, 3]),
            "alpine3.14",
            "alpine",
        ),
        ("1.13-alpine", Some(vec![1, 13]), "alpine", "alpine"),
        ("17-jre-focal", Some(vec![17]), "jre-focal", "jre-focal"),
        (
            "lts-buster-slim",
            None,
            "lts-buster-slim",
            "lts-buster-slim",
        ),
        (
            "25.0.3_9-jre-alpine",
            Some(vec![25, 0, 3]),
            "jre-alpine",
            "jre-alpine",
        ),
        (
            "10.0.0-noble-chiseled",
            Some(vec![10, 0, 0]),
            "noble-chiseled",
            "noble-chiseled",
        ),
        (
            "3.8.5-eclipse-temurin-17",
            Some(vec![3, 8, 5]),
            "eclipse-temurin-17",
            "eclipse-temurin",
        ),
        ("python3.9-slim", None, "python3.9-slim", "python-slim"),
    ];
    for (tag, version, variant, family) in cases {
        let parts = parse_tag(tag);
        assert_eq!(parts.version, version, "{tag}");
        assert_eq!(parts.variant, variant, "{tag}");
        assert_eq!(variant_family(&parts.variant), family, "{tag}");
    }
    assert_eq!(parse_tag("25.0.3_9-jre-alpine").qualifier, "_9");
}

proptest::proptest! {
    /// Arbitrary text never panics the catalog parser or the tag helpers.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,60}") {
        let _ = parse_catalog("fuzz.toml", &text);
        let parts = parse_tag(&text);
        let _ = variant_family(&parts.variant);
    }

    /// A tag is its parts put back together: prefix, numbers, qualifier, `-`, variant.
    #[test]
    fn tags_reassemble(numbers in proptest::collection::vec(0u64..1000, 1..4), variant in "[a-z]{1,8}(-[a-z0-9.]{1,6})?") {
        let dotted: Vec<String> = numbers.iter().map(u64::to_string).collect();
        let tag = format!("{}-{variant}", dotted.join("."));
        let parts = parse_tag(&tag);
        proptest::prop_assert_eq!(parts.version, Some(numbers));
        proptest::prop_assert_eq!(parts.qualifier, "");
        proptest::prop_assert_eq!(parts.variant, variant);
    }
}

//! RubyGems and Packagist version order, checked against each ecosystem's own test suite, and
//! OSV matching for both through the AdvisoryDb.
//!
//! - RubyGems: rubygems/rubygems test/rubygems/test_gem_version.rb (commit 69ec4a3a5f1c),
//!   `test_spaceship`, `test_semver`, `test_eql_eh`, `test_canonical_segments` restated.
//! - Composer: composer/semver tests/VersionParserTest.php (`successfulNormalizedVersions`,
//!   `failingNormalizedVersions`) and tests/ComparatorTest.php (`compareProvider`), commit
//!   a5e1d2d4a0db.

use std::cmp::Ordering;
use std::path::Path;

use patchwright::catalog::version::{ComposerVersion, GemVersion};
use patchwright::catalog::{AdvisoryDb, Version, parse_version};
use patchwright::model::Ecosystem::{self, Packagist, RubyGems};
use proptest::prelude::*;

fn v(eco: Ecosystem, text: &str) -> Version {
    parse_version(eco, text).unwrap_or_else(|e| panic!("{e}"))
}

fn gem_cmp(a: &str, b: &str) -> Ordering {
    v(RubyGems, a).cmp(&v(RubyGems, b))
}

#[test]
fn rubygems_spaceship_as_test_gem_version_states_it() {
    use Ordering::{Equal, Greater, Less};
    let cases = [
        ("1.0", "1.0.0", Equal),
        ("1.0", "1.0.a", Greater),
        ("1.8.2", "0.0.0", Greater),
        ("1.8.2", "1.8.2.a", Greater),
        ("1.8.2.b", "1.8.2.a", Greater),
        ("1.8.2.a", "1.8.2", Less),
        ("1.8.2.a10", "1.8.2.a9", Greater),
        ("0.beta.1", "0.0.beta.1", Equal),
        ("0.0.beta", "0.0.beta.1", Less),
        ("0.0.beta", "0.beta.1", Less),
        ("5.a", "5.0.0.rc2", Less),
        ("5.x", "5.0.0.rc2", Greater),
        ("1.9.3", "1.9.3", Equal),
        ("1.9.3", "1.9.2.99", Greater),
        ("1.9.3", "1.9.3.1", Less),
    ];
    for (a, b, want) in cases {
        assert_eq!(gem_cmp(a, b), want, "{a} <=> {b}");
        assert_eq!(gem_cmp(b, a), want.reverse(), "{b} <=> {a}");
    }
    // `v("") <=> v("0")` is 0: RubyGems reads an empty version as 0 (a lockfile never has one,
    // so `parse_version` still refuses it; the type itself follows Gem::Version).
    assert_eq!(
        GemVersion::parse("").unwrap(),
        GemVersion::parse("0").unwrap()
    );
}

#[test]
fn rubygems_semver_style_prereleases_and_canonical_forms() {
    // test_semver: each is less than the next.
    for (a, b) in [
        ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "1.0.0-beta.2"),
        ("1.0.0-beta.2", "1.0.0-beta.11"),
        ("1.0.0-beta.11", "1.0.0-rc.1"),
        ("1.0.0-rc1", "1.0.0"),
        ("1.0.0-1", "1"),
    ] {
        assert_eq!(gem_cmp(a, b), Ordering::Less, "{a} < {b}");
    }
    // test_canonical_segments: [1] for 1.0.0, [1, "a", 1] for 1.0.0.a.1.0, [1, 2, 3, "pre", 1]
    // for 1.2.3-1: equal to versions spelled with exactly those segments.
    assert_eq!(v(RubyGems, "1.0.0"), v(RubyGems, "1"));
    assert_eq!(v(RubyGems, "1.0.0.a.1.0"), v(RubyGems, "1.a.1"));
    assert_eq!(v(RubyGems, "1.2.3-1"), v(RubyGems, "1.2.3.pre.1"));
    // test_eql_eh compares the text; <=> calls 1.2.b1 and 1.2.b.1 equal (same segments).
    assert_eq!(gem_cmp("1.2.b1", "1.2.b.1"), Ordering::Equal);
    assert!(v(RubyGems, "1.2.3.rc1").is_prerelease());
    assert!(!v(RubyGems, "1.2.3").is_prerelease());
    assert_eq!(v(RubyGems, "4.28.0.rc.1").release(), vec![4, 28, 0]);
    // Platform suffixes are not part of a version (Gemfile.lock splits them off first).
    for bad in ["1.0 beta", "junk", "1..2", "-1", "1.0+build"] {
        assert!(parse_version(RubyGems, bad).is_err(), "{bad}");
    }
}

#[test]
fn composer_normalizes_as_version_parser_test_states_it() {
    let cases = [
        ("1.0.0", "1.0.0.0"),
        ("1.2.3.4", "1.2.3.4"),
        ("1.0.0RC1dev", "1.0.0.0-RC1-dev"),
        ("1.0.0-rC15-dev", "1.0.0.0-RC15-dev"),
        ("1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"),
        ("1.0.0-rc1", "1.0.0.0-RC1"),
        ("1.0.0.pl3-dev", "1.0.0.0-patch3-dev"),
        ("1.0-dev", "1.0.0.0-dev"),
        ("0", "0.0.0.0"),
        ("99999", "99999.0.0.0"),
        ("10.4.13-beta", "10.4.13.0-beta"),
        ("10.4.13beta2", "10.4.13.0-beta2"),
        ("10.4.13beta.2", "10.4.13.0-beta2"),
        ("v1.13.11-beta.0", "1.13.11.0-beta0"),
        ("1.13.11.0-beta0", "1.13.11.0-beta0"),
        ("10.4.13-b", "10.4.13.0-beta"),
        ("10.4.13-b5", "10.4.13.0-beta5"),
        ("v1.0.0", "1.0.0.0"),
        ("2010.01", "2010.01.0.0"),
        ("2010.01.02", "2010.01.02.0"),
        ("2010.1.555", "2010.1.555.0"),
        ("20230131.0.0", "20230131.0.0"),
        ("v20100102", "20100102"),
        ("20100102", "20100102"),
        ("20100102.1.0", "20100102.1.0"),
        ("100000", "100000"),
        ("2010-01-02-10-20-30.0.3", "2010.01.02.10.20.30.0.3"),
        ("2010-01-02", "2010.01.02"),
        ("20100102-203040", "20100102.203040"),
        ("20100102203040-10", "20100102203040.10"),
        ("20100102-203040-p1", "20100102.203040-patch1"),
        ("201903.0-p2", "201903.0-patch2"),
        ("1.0.0+foo@dev", "1.0.0.0"),
        ("1.0.0-beta.5+foo", "1.0.0.0-beta5"),
        ("1.0.0+foo", "1.0.0.0"),
        ("1.0.0-alpha.3.1+foo", "1.0.0.0-alpha3.1"),
        ("1.0.0-alpha2.1+foo", "1.0.0.0-alpha2.1"),
        ("1.0.0-alpha-2.1-3+foo", "1.0.0.0-alpha2.1-3"),
        ("1.0.0+foo as 2.0", "1.0.0.0"),
        ("00.01.03.04", "00.01.03.04"),
        ("0700", "0700.0.0.0"),
        (" 1.0.0", "1.0.0.0"),
        ("1.0.0 ", "1.0.0.0"),
    ];
    for (text, want) in cases {
        let version = ComposerVersion::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(version.normalized(), want, "{text}");
    }
    // failingNormalizedVersions, and branches, which are not releases.
    for bad in [
        "",
        "a",
        "1.0.0-meh",
        "1.0.0.0.0",
        "feature-foo",
        "1.0.0+foo bar",
        "1.0.1-SNAPSHOT",
        "1.0.0<1.0.5-dev",
        "foo bar-dev",
        "1.0 .2",
        "^",
        "~1",
        "^1",
        "1.*",
        "20100102.0.3.4",
        "dev-master",
        "master",
        "1.x-dev",
    ] {
        assert!(
            parse_version(Packagist, bad).is_err(),
            "{bad:?} should not parse"
        );
    }
}

#[test]
fn composer_compares_as_comparator_test_states_it() {
    use Ordering::{Equal, Greater, Less};
    let cases = [
        ("1.25.0", "1.24.0", Greater),
        ("1.25.0", "1.25.0", Equal),
        ("1.25.0", "1.26.0", Less),
        ("1.25.0-beta2.1", "1.25.0-b.3", Less),
        ("1.25.0-b2.1", "1.25.0beta.3", Less),
        ("1.25.0-b-2.1", "1.25.0-rc", Less),
        ("1.25.0-beta2.1", "1.25.0-b.2.1", Equal),
        ("1.25.0beta2.1", "1.25.0-b2.1", Equal),
        // `1.0.0` < `1.2-dev` (the `<` cases of ComparatorTest::lessThanProvider).
        ("1.0.0", "1.2-dev", Less),
        // Stability order: dev < alpha < beta < RC < stable < patch.
        ("1.0.0-dev", "1.0.0-alpha1", Less),
        ("1.0.0-alpha1", "1.0.0-beta1", Less),
        ("1.0.0-beta1", "1.0.0-RC1", Less),
        ("1.0.0-RC1", "1.0.0", Less),
        ("1.0.0", "1.0.0-p1", Less),
        ("v6.4.1", "6.4.1", Equal),
        ("6.4.10", "6.4.9", Greater),
    ];
    for (a, b, want) in cases {
        let (va, vb) = (v(Packagist, a), v(Packagist, b));
        assert_eq!(va.cmp(&vb), want, "{a} vs {b}");
        assert_eq!(vb.cmp(&va), want.reverse(), "{b} vs {a}");
    }
    assert!(v(Packagist, "2.0.0-RC1").is_prerelease());
    assert!(!v(Packagist, "2.0.0-p1").is_prerelease());
}

proptest! {
    /// Both orders are total and agree with equality and hashing on generated versions.
    #[test]
    fn orders_are_consistent(
        a in "[0-9]{1,2}(\\.[0-9a-c]{1,2}){0,3}",
        b in "[0-9]{1,2}(\\.[0-9a-c]{1,2}){0,3}",
        c in "[0-9]{1,2}(\\.[0-9a-c]{1,2}){0,3}",
    ) {
        use std::collections::hash_map::DefaultHasher;
        use std::hash::{Hash, Hasher};
        let hash = |v: &Version| { let mut h = DefaultHasher::new(); v.hash(&mut h); h.finish() };
        for eco in [RubyGems, Packagist] {
            let (Ok(x), Ok(y), Ok(z)) = (parse_version(eco, &a), parse_version(eco, &b), parse_version(eco, &c)) else {
                continue;
            };
            prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
            if x == y {
                prop_assert_eq!(hash(&x), hash(&y));
            }
            if x <= y && y <= z {
                prop_assert!(x <= z, "{} {} {}", a, b, c);
            }
        }
    }
}

#[test]
fn osv_ranges_match_with_rubygems_and_composer_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (db, errors) = AdvisoryDb::load_dir(&root.join("fixtures/reach/advisories"));
    assert!(errors.is_empty(), "{errors:#?}");
    let affected = |version: &str| -> bool {
        !db.affecting(RubyGems, "google-protobuf", &v(RubyGems, version))
            .is_empty()
    };
    // GHSA-735f-pc8j-v9w8: < 3.25.5, [4.0.0.rc.1, 4.27.5), [4.28.0.rc.1, 4.28.2).
    for yes in ["3.25.4", "4.0.0.rc.2", "4.27.4", "4.28.0.rc.1", "4.28.1"] {
        assert!(affected(yes), "{yes}");
    }
    for no in ["3.25.5", "3.25.5.1", "4.27.5", "4.28.2", "4.29.3"] {
        assert!(!affected(no), "{no}");
    }

    // A Packagist record written for this test: the lockfile's `v` prefix and four-part
    // versions must land on the right side of `fixed`.
    let record = r#"{
      "id": "GHSA-test-symfony",
      "modified": "2024-01-01T00:00:00Z",
      "affected": [{
        "package": {"ecosystem": "Packagist", "name": "symfony/http-kernel"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "6.0.0"}, {"fixed": "6.4.2"}]}]
      }]
    }"#;
    let (db, errors) = AdvisoryDb::from_json_records(&[("x.json".into(), record.into())]);
    assert!(errors.is_empty(), "{errors:#?}");
    let hit = |version: &str| {
        !db.affecting(Packagist, "Symfony/HTTP-Kernel", &v(Packagist, version))
            .is_empty()
    };
    assert!(hit("v6.4.1"));
    assert!(hit("6.4.2-RC1"));
    assert!(!hit("v6.4.2"));
    assert!(!hit("6.4.2.0"));
    assert!(!hit("5.4.30"));
}

//! Version ordering per ecosystem, and the catalog's constraint language.

use patchwright::catalog::{Constraint, Version, parse_version};
use patchwright::model::Ecosystem::{self, CratesIo, Docker, Go, Npm, PyPI};
use proptest::prelude::*;

fn v(eco: Ecosystem, text: &str) -> Version {
    parse_version(eco, text).unwrap_or_else(|e| panic!("{e}"))
}

/// Asserts that `texts` are in strictly increasing order, pair by pair.
fn assert_ascending(eco: Ecosystem, texts: &[&str]) {
    for pair in texts.windows(2) {
        let (a, b) = (v(eco, pair[0]), v(eco, pair[1]));
        assert!(a < b, "{eco}: expected {} < {}", pair[0], pair[1]);
        assert!(b > a);
        assert_ne!(a, b);
    }
}

fn c(eco: Ecosystem, text: &str) -> Constraint {
    Constraint::parse(eco, text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn semver_orders_pre_releases_before_releases() {
    assert_ascending(
        CratesIo,
        &[
            "0.0.0-0",
            "0.1.0",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.2.0",
            "1.10.0",
        ],
    );
}

#[test]
fn semver_ignores_build_metadata() {
    assert_eq!(v(CratesIo, "1.0.0+build.1"), v(CratesIo, "1.0.0+build.2"));
    assert_eq!(v(CratesIo, "1.0.0+build.1"), v(CratesIo, "1.0.0"));
    // Kept for display, though.
    assert_eq!(v(CratesIo, "1.0.0+build.1").to_string(), "1.0.0+build.1");
}

#[test]
fn npm_is_lenient_where_npm_is_and_strict_elsewhere() {
    for loose in ["v1.2.3", "=1.2.3", "=v1.2.3", " 1.2.3 "] {
        assert_eq!(v(Npm, loose), v(Npm, "1.2.3"), "{loose}");
        assert_eq!(v(Npm, loose).to_string(), "1.2.3");
    }
    for bad in ["1.2", "1.2.x", "latest", "^1.2.3", "1.2.3 || 2.0.0", ""] {
        assert!(parse_version(Npm, bad).is_err(), "{bad} should not parse");
    }
    // crates.io gets no such leniency: Cargo.lock always holds exact versions.
    assert!(parse_version(CratesIo, "v1.2.3").is_err());
    assert!(parse_version(CratesIo, "=1.2.3").is_err());
}

#[test]
fn pep440_orders_dev_pre_post_releases() {
    assert_ascending(
        PyPI,
        &[
            "1.0.dev1",
            "1.0a1",
            "1.0b2",
            "1.0rc1",
            "1.0",
            "1.0.post1",
            "1.0.1",
        ],
    );
    // The finer grain from PEP 440's own example list.
    assert_ascending(
        PyPI,
        &[
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.1.dev1",
        ],
    );
}

#[test]
fn pep440_epochs_local_versions_and_normalisation() {
    // An epoch outranks any release number.
    assert_ascending(PyPI, &["2024.10", "1!0.1", "1!1.0", "2!0.0.1"]);
    // A local version sorts after its public version, before the next release.
    assert!(v(PyPI, "1.0+ubuntu.1") > v(PyPI, "1.0"));
    assert!(v(PyPI, "1.0+ubuntu.1") < v(PyPI, "1.0.post1"));
    // Zero padding and spelling variants are the same version.
    assert_eq!(v(PyPI, "1.0"), v(PyPI, "1.0.0"));
    assert_eq!(v(PyPI, "1.0-RC1"), v(PyPI, "1.0rc1"));
    assert_eq!(v(PyPI, "v1.0"), v(PyPI, "1.0"));
    assert_eq!(v(PyPI, "1.0.0alpha1").to_string(), "1.0.0a1");
    assert!(parse_version(PyPI, "1.0-beta-2-final-x").is_err());
}

#[test]
fn go_pseudo_versions_order_as_pre_releases() {
    // From golang.org/x/crypto: GO-2020-0012 is fixed at this pseudo-version.
    let fix = v(Go, "v0.0.0-20200220183623-bac4c82f6975");
    assert!(v(Go, "v0.0.0-20200219234226-1ad67e1f94ef") < fix);
    assert!(v(Go, "v0.0.0-20201216223049-8b5274cf687f") > fix);
    assert!(fix < v(Go, "v0.0.1"));
    // A pseudo-version built on top of v0.1.0 sorts before v0.1.1 and after v0.1.0.
    let pseudo = v(Go, "v0.1.1-0.20221104162952-702349b0e862");
    assert!(v(Go, "v0.1.0") < pseudo && pseudo < v(Go, "v0.1.1"));
    // With or without `v`, the same version; printed the way go.mod writes it.
    assert_eq!(v(Go, "0.3.8"), v(Go, "v0.3.8"));
    assert_eq!(v(Go, "0.3.8").to_string(), "v0.3.8");
    assert_eq!(v(Go, "v0.3.8").bare(), "0.3.8");
}

#[test]
fn go_incompatible_is_build_metadata() {
    let inc = v(Go, "v20.10.24+incompatible");
    assert_eq!(inc, v(Go, "20.10.24"));
    assert_eq!(inc.to_string(), "v20.10.24+incompatible");
    assert_ascending(
        Go,
        &[
            "v20.10.23+incompatible",
            "v20.10.24+incompatible",
            "v23.0.0-rc.1+incompatible",
            "v23.0.0+incompatible",
        ],
    );
}

#[test]
fn go_stdlib_and_toolchain_spellings() {
    assert_ascending(
        Go,
        &[
            "1.18.9", "1.19.0-0", "1.19.0", "1.19.4", "1.21rc2", "1.21.0",
        ],
    );
    assert_eq!(v(Go, "go1.21.3"), v(Go, "1.21.3"));
    assert_eq!(v(Go, "1.21"), v(Go, "1.21.0"));
    assert!(parse_version(Go, "master").is_err());
}

#[test]
fn docker_tags_order_by_their_numbers() {
    assert_ascending(
        Docker,
        &[
            "3.9",
            "3.9.18-slim",
            "3.10.0rc1",
            "3.10.0",
            "3.11",
            "3.11.4",
        ],
    );
    assert!(parse_version(Docker, "lts-buster").is_err());
}

#[test]
fn different_ecosystems_never_compare_equal() {
    let npm = v(Npm, "1.0.0");
    let go = v(Go, "1.0.0");
    let py = v(PyPI, "1.0.0");
    assert_ne!(npm, go);
    assert_ne!(npm, py);
    // Still a total order: semver, then PEP 440, then Go.
    let mut mixed = vec![go.clone(), py.clone(), npm.clone()];
    mixed.sort();
    assert_eq!(mixed, vec![npm, py, go]);
}

#[test]
fn constraints_evaluate_with_the_ecosystem_order() {
    let range = c(Npm, ">=1.0.0, <1.2.0");
    assert!(!range.matches(&v(Npm, "0.9.9")));
    assert!(range.matches(&v(Npm, "1.0.0")));
    assert!(range.matches(&v(Npm, "1.1.9")));
    assert!(!range.matches(&v(Npm, "1.2.0")));
    // A pre-release of the upper bound is below it, as semver orders it.
    assert!(range.matches(&v(Npm, "1.2.0-rc.1")));

    let exact = c(Npm, "4.17.20");
    assert_eq!(exact, c(Npm, "=4.17.20"));
    assert!(exact.matches(&v(Npm, "4.17.20")));
    assert!(!exact.matches(&v(Npm, "4.17.21")));

    assert!(c(PyPI, "==1.0").matches(&v(PyPI, "1.0.0")));
    assert!(c(PyPI, "<2.0").matches(&v(PyPI, "2.0rc1")));
    assert!(!c(PyPI, "<2.0").matches(&v(PyPI, "2.0.post1")));
    assert!(c(PyPI, "!=1.4.1").matches(&v(PyPI, "1.4.2")));
    assert!(!c(PyPI, "!=1.4.1").matches(&v(PyPI, "1.4.1")));
    assert!(c(PyPI, "<=1.4.1").matches(&v(PyPI, "1.4.1")));
    assert!(c(PyPI, ">1.4.1").matches(&v(PyPI, "1.4.1.post1")));

    assert!(c(Go, "<v0.3.8").matches(&v(Go, "v0.3.7")));
    assert!(!c(Go, "<v0.3.8").matches(&v(Go, "v0.3.8+incompatible")));

    let any = c(CratesIo, "*");
    assert!(any.clauses().is_empty());
    assert!(any.matches(&v(CratesIo, "0.0.1")));
    // Never across ecosystems, even for `*`.
    assert!(!any.matches(&v(PyPI, "1.0")));
    assert_eq!(range.to_string(), ">=1.0.0, <1.2.0");
}

#[test]
fn constraint_errors_name_the_clause() {
    let err = Constraint::parse(Npm, ">=1.0.0, <1.2").unwrap_err();
    assert_eq!(
        err.to_string(),
        "`>=1.0.0, <1.2` is not a valid constraint: in `<1.2`: `1.2` is not a valid npm version: \
         unexpected end of input while parsing minor version number"
    );
    let err = Constraint::parse(CratesIo, "~1.2.3").unwrap_err();
    assert_eq!(
        err.to_string(),
        "`~1.2.3` is not a valid constraint: use one of `=`, `!=`, `<`, `<=`, `>`, `>=` \
         followed by a full version (`^`, `~` and wildcards inside a version are not \
         supported; a lone `*` means every version)"
    );
    assert!(Constraint::parse(PyPI, "").is_err());
    assert!(Constraint::parse(PyPI, "1.0,,2.0").is_err());
}

proptest! {
    /// Semver ordering is the numeric ordering of (major, minor, patch).
    #[test]
    fn semver_orders_numerically(a in (0u64..50, 0u64..50, 0u64..50), b in (0u64..50, 0u64..50, 0u64..50)) {
        let va = v(CratesIo, &format!("{}.{}.{}", a.0, a.1, a.2));
        let vb = v(CratesIo, &format!("{}.{}.{}", b.0, b.1, b.2));
        prop_assert_eq!(va.cmp(&vb), a.cmp(&b));
    }

    /// A PEP 440 release equals itself with a `.0` appended, and orders like its numbers.
    #[test]
    fn pep440_pads_with_zeros(a in (0u64..30, 0u64..30), b in (0u64..30, 0u64..30)) {
        let va = v(PyPI, &format!("{}.{}", a.0, a.1));
        prop_assert_eq!(&va, &v(PyPI, &format!("{}.{}.0", a.0, a.1)));
        let vb = v(PyPI, &format!("{}.{}", b.0, b.1));
        prop_assert_eq!(va.cmp(&vb), a.cmp(&b));
    }

    /// Parsing any text never panics, in any ecosystem.
    #[test]
    fn parsing_never_panics(text in "\\PC{0,20}") {
        for eco in Ecosystem::ALL {
            let _ = parse_version(eco, &text);
            let _ = Constraint::parse(eco, &text);
        }
    }
}

//! Advisory loading and matching on real OSV records: the 79 in ../shared/advisories, and the
//! project's own fixtures (real advisories restated) in fixtures/advisories.

use std::path::Path;
use std::sync::OnceLock;

use patchwright::catalog::{
    Advisory, AdvisoryDb, Version, cvss_base_score, parse_version, read_json_records,
};
use patchwright::model::Ecosystem::{self, CratesIo, Go, Npm, PyPI};
use patchwright::model::Severity;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/advisories");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/advisories");

fn shared() -> &'static AdvisoryDb {
    static DB: OnceLock<AdvisoryDb> = OnceLock::new();
    DB.get_or_init(|| {
        let (db, errors) = AdvisoryDb::load_dir(Path::new(SHARED));
        assert!(errors.is_empty(), "{errors:#?}");
        db
    })
}

fn fixtures() -> &'static AdvisoryDb {
    static DB: OnceLock<AdvisoryDb> = OnceLock::new();
    DB.get_or_init(|| {
        let (db, errors) = AdvisoryDb::load_dir(Path::new(FIXTURES));
        assert!(errors.is_empty(), "{errors:#?}");
        db
    })
}

fn v(eco: Ecosystem, text: &str) -> Version {
    parse_version(eco, text).unwrap_or_else(|e| panic!("{e}"))
}

/// The ids of the advisories affecting the package at each version.
fn ids_at(db: &AdvisoryDb, eco: Ecosystem, name: &str, version: &str) -> Vec<String> {
    db.affecting(eco, name, &v(eco, version))
        .iter()
        .map(|a| a.id.clone())
        .collect()
}

/// Asserts, for one advisory, which versions it affects and which it does not.
fn check(db: &AdvisoryDb, id: &str, eco: Ecosystem, name: &str, yes: &[&str], no: &[&str]) {
    let advisory = db.get(id).unwrap_or_else(|| panic!("{id} not loaded"));
    for text in yes {
        assert!(
            advisory.affects(eco, name, &v(eco, text)),
            "{id} should affect {name} {text}"
        );
        assert!(
            ids_at(db, eco, name, text).contains(&advisory.id),
            "{id}: affecting() misses {name} {text}"
        );
    }
    for text in no {
        assert!(
            !advisory.affects(eco, name, &v(eco, text)),
            "{id} should not affect {name} {text}"
        );
    }
}

fn get<'a>(db: &'a AdvisoryDb, id: &str) -> &'a Advisory {
    db.get(id).unwrap_or_else(|| panic!("{id} not loaded"))
}

#[test]
fn all_79_real_records_load_without_errors() {
    let (records, read_errors) = read_json_records(Path::new(SHARED));
    assert!(read_errors.is_empty());
    assert_eq!(records.len(), 79);
    let (db, errors) = AdvisoryDb::from_json_records(&records);
    assert_eq!(errors, vec![]);
    // 79 records: 8 withdrawn, and three GHSA records merge into the PYSEC/RUSTSEC records
    // that list them as aliases.
    assert_eq!(db.withdrawn().count(), 8);
    assert_eq!(db.len(), 79 - 8 - 3);
    assert_eq!(
        db.revision(),
        "68 advisories, newest modified 2026-07-17T15:52:38Z"
    );
    assert_eq!(shared().len(), db.len());
}

#[test]
fn semver_ranges_with_several_intervals() {
    // RUSTSEC-2021-0124: tokio >=0.1.14 <1.8.4, >=1.9.0 <1.13.1.
    check(
        shared(),
        "RUSTSEC-2021-0124",
        CratesIo,
        "tokio",
        &["0.1.14", "1.0.0", "1.8.3", "1.9.0", "1.13.0"],
        &["0.1.13", "1.8.4", "1.8.99", "1.13.1", "1.14.0"],
    );
    // RUSTSEC-2018-0003: smallvec, introduced at pre-release lower bounds (0.4.0-0).
    check(
        shared(),
        "RUSTSEC-2018-0003",
        CratesIo,
        "smallvec",
        &["0.3.2", "0.3.3", "0.4.0-alpha", "0.4.4", "0.6.2"],
        &["0.3.1", "0.3.4", "0.4.5", "0.5.1", "0.6.3", "1.0.0"],
    );
}

#[test]
fn introduced_and_fixed_at_the_same_version_is_empty() {
    // RUSTSEC-2024-0399 opens with `introduced: 0.23.0, fixed: 0.23.0`, then 0.23.13..0.23.18.
    check(
        shared(),
        "RUSTSEC-2024-0399",
        CratesIo,
        "rustls",
        &["0.23.13", "0.23.17"],
        &["0.22.4", "0.23.0", "0.23.12", "0.23.18"],
    );
}

#[test]
fn ecosystem_ranges_are_sorted_before_evaluation() {
    // PYSEC-2023-100 lists its events newest interval first: 4.2..4.2.3, 4.0..4.1.10, 3.2..3.2.20.
    check(
        shared(),
        "PYSEC-2023-100",
        PyPI,
        "django",
        &["3.2", "3.2.13", "3.2.19", "4.0", "4.1.9", "4.2", "4.2.2"],
        &["3.1.14", "3.2.20", "4.1.10", "4.1.99", "4.2.3", "5.0"],
    );
    // PYSEC-2016-2: pre-release bounds, 1.10a0 <= v < 1.10rc1.
    check(
        shared(),
        "PYSEC-2016-2",
        PyPI,
        "Django",
        &["1.8.13", "1.9", "1.9.7", "1.10a1", "1.10b1"],
        &["1.8.14", "1.8.99", "1.9.8", "1.10rc1", "1.10"],
    );
}

#[test]
fn last_affected_is_inclusive() {
    // PYSEC-2022-42969: py, introduced 0, last_affected 1.11.0 (no fix).
    check(
        shared(),
        "PYSEC-2022-42969",
        PyPI,
        "py",
        &["0.9.0", "1.10.0", "1.11.0"],
        &["1.11.0.post1", "1.11.1", "2.0"],
    );
    // GHSA-p8p7-x288-28g6: request <= 2.88.2, @cypress/request <= 2.88.11.
    check(
        shared(),
        "GHSA-p8p7-x288-28g6",
        Npm,
        "request",
        &["2.88.2"],
        &["2.88.3", "3.0.0"],
    );
    check(
        shared(),
        "GHSA-p8p7-x288-28g6",
        Npm,
        "@cypress/request",
        &["2.88.11"],
        &["2.88.12", "3.0.0"],
    );
}

#[test]
fn versions_lists_match_by_parsed_equality() {
    // PYSEC-2024-1 has no ranges, only `versions: ["0.5"]`.
    check(
        shared(),
        "PYSEC-2024-1",
        PyPI,
        "gratient",
        &["0.5", "0.5.0"],
        &["0.4", "0.5.1", "0.6"],
    );
}

#[test]
fn go_ranges_with_pseudo_versions_incompatible_and_stdlib() {
    check(
        shared(),
        "GO-2020-0012",
        Go,
        "golang.org/x/crypto",
        &[
            "v0.0.0-20190308221718-c2843e01d9a2",
            "0.0.0-20200219234226-1ad67e1f94ef",
        ],
        &["v0.0.0-20200220183623-bac4c82f6975", "v0.1.0"],
    );
    check(
        shared(),
        "GO-2023-1699",
        Go,
        "github.com/docker/docker",
        &[
            "v1.12.0",
            "v20.10.23+incompatible",
            "v23.0.0+incompatible",
            "v23.0.2+incompatible",
        ],
        &[
            "v1.11.2",
            "v20.10.24+incompatible",
            "v22.0.0+incompatible",
            "v23.0.3+incompatible",
        ],
    );
    check(
        shared(),
        "GO-2022-1144",
        Go,
        "stdlib",
        &["1.18.8", "go1.18", "1.19.0-0", "1.19", "go1.19.3"],
        &["1.18.9", "go1.19.4", "1.20.0"],
    );
    // The same advisory, its other package.
    check(
        shared(),
        "GO-2022-1144",
        Go,
        "golang.org/x/net",
        &["v0.3.0"],
        &["v0.4.0"],
    );
    // GO-2020-0017: introduced at a pseudo-version, never fixed.
    check(
        shared(),
        "GO-2020-0017",
        Go,
        "github.com/dgrijalva/jwt-go",
        &["v0.0.0-20150717181359-44718f8a89b0", "v3.2.0+incompatible"],
        &["v0.0.0-20150101000000-000000000000"],
    );
}

#[test]
fn names_normalise_per_ecosystem() {
    // GHSA-462w-v97r-4m45 writes `Jinja2`, PYSEC-2019-217 writes `jinja2`: PEP 503 makes them one.
    for name in ["jinja2", "Jinja2", "JINJA2"] {
        assert_eq!(
            ids_at(shared(), PyPI, name, "2.10"),
            ["GHSA-h5c8-rqwp-cp95", "PYSEC-2019-217", "PYSEC-2021-66"],
            "{name}"
        );
    }
    // npm and crates.io compare exactly.
    assert!(ids_at(shared(), Npm, "Lodash", "4.17.0").is_empty());
    assert!(ids_at(shared(), CratesIo, "Tokio", "1.0.0").is_empty());
    assert_eq!(
        ids_at(shared(), Npm, "lodash", "4.17.0"),
        ["GHSA-35jh-r3h4-6jhm", "GHSA-p6mc-m468-83gw"]
    );
}

#[test]
fn records_sharing_an_id_merge_into_one_advisory() {
    let db = shared();
    // PYSEC-2023-192 lists GHSA-v845-jxx5-vc9f as an alias; both are loaded.
    let merged = get(db, "GHSA-v845-jxx5-vc9f");
    assert_eq!(merged.id, "PYSEC-2023-192");
    assert_eq!(merged.aliases, ["CVE-2023-43804", "GHSA-v845-jxx5-vc9f"]);
    assert!(std::ptr::eq(merged, get(db, "cve-2023-43804")));
    assert_eq!(merged.sources.len(), 2);
    assert!(
        merged
            .sources
            .iter()
            .any(|s| s.ends_with("PyPI/GHSA-v845-jxx5-vc9f.json"))
    );
    assert!(
        merged
            .sources
            .iter()
            .any(|s| s.ends_with("PyPI/PYSEC-2023-192.json"))
    );
    // Listed once, not twice, for an affected version.
    assert_eq!(
        ids_at(db, PyPI, "urllib3", "1.26.16"),
        ["PYSEC-2023-192", "PYSEC-2023-212"]
    );
    // crates.io prefers the RustSec id over the GHSA one.
    let regex = get(db, "GHSA-m5pq-gvj9-9vr8");
    assert_eq!(regex.id, "RUSTSEC-2022-0013");
    assert_eq!(regex.aliases, ["CVE-2022-24713", "GHSA-m5pq-gvj9-9vr8"]);
    check(
        db,
        "RUSTSEC-2022-0013",
        CratesIo,
        "regex",
        &["1.5.4"],
        &["1.5.5"],
    );
    // PyPI prefers PYSEC.
    assert_eq!(get(db, "GHSA-462w-v97r-4m45").id, "PYSEC-2019-217");
    // A GHSA record with no PYSEC twin keeps its id.
    assert_eq!(get(db, "CVE-2024-22195").id, "GHSA-h5c8-rqwp-cp95");
    assert_eq!(db.iter().filter(|a| a.id.starts_with("GHSA-")).count(), 9);
}

#[test]
fn aliases_merge_transitively() {
    // Three records: A and B share only a CVE, C names B. One advisory, named by the npm
    // preference (GHSA), with every other id as an alias.
    let record = |id: &str, aliases: &str, fixed: &str| {
        format!(
            r#"{{"id": "{id}", "aliases": [{aliases}], "affected": [{{"package": {{"ecosystem": "npm", "name": "pkg"}}, "ranges": [{{"type": "SEMVER", "events": [{{"introduced": "0"}}, {{"fixed": "{fixed}"}}]}}]}}]}}"#
        )
    };
    let records = vec![
        (
            "a.json".to_string(),
            record("SNYK-JS-PKG-1", r#""CVE-2099-0001""#, "1.0.0"),
        ),
        (
            "b.json".to_string(),
            record("GHSA-aaaa-bbbb-cccc", r#""CVE-2099-0001""#, "1.0.0"),
        ),
        (
            "c.json".to_string(),
            record("OSV-2099-7", r#""GHSA-aaaa-bbbb-cccc""#, "2.0.0"),
        ),
        (
            "d.json".to_string(),
            record("GHSA-zzzz-zzzz-zzzz", "", "3.0.0"),
        ),
    ];
    let (db, errors) = AdvisoryDb::from_json_records(&records);
    assert!(errors.is_empty());
    assert_eq!(db.len(), 2);
    let merged = db.get("OSV-2099-7").expect("merged");
    assert_eq!(merged.id, "GHSA-aaaa-bbbb-cccc");
    assert_eq!(
        merged.aliases,
        ["CVE-2099-0001", "OSV-2099-7", "SNYK-JS-PKG-1"]
    );
    // Ranges union: 1.5.0 is only in C's range.
    assert!(merged.affects(Npm, "pkg", &v(Npm, "1.5.0")));
    assert_eq!(
        merged.fixed_versions(Npm, "pkg"),
        [v(Npm, "1.0.0"), v(Npm, "2.0.0")]
    );
    assert_eq!(
        ids_at(&db, Npm, "pkg", "1.5.0"),
        ["GHSA-aaaa-bbbb-cccc", "GHSA-zzzz-zzzz-zzzz"]
    );
}

#[test]
fn severity_comes_from_the_cvss_vector() {
    let db = shared();
    // Scores as FIRST's CVSS 3.x calculator gives them for each record's vector.
    let cases = [
        // PR:H lowers the score of an otherwise critical vector.
        ("GHSA-35jh-r3h4-6jhm", 7.2, Severity::High),
        ("GHSA-xvch-5gv4-984h", 9.8, Severity::Critical),
        ("GHSA-vh95-rmgr-6w4m", 5.6, Severity::Medium),
        // Scope changed: CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:N.
        ("PYSEC-2019-217", 8.6, Severity::High),
        // Adjacent network, high complexity, high privileges.
        ("PYSEC-2023-212", 4.2, Severity::Medium),
        ("RUSTSEC-2020-0071", 6.2, Severity::Medium),
        ("RUSTSEC-2021-0078", 5.3, Severity::Medium),
    ];
    for (id, score, severity) in cases {
        let a = get(db, id);
        assert_eq!(a.cvss_score, Some(score), "{id}");
        assert_eq!(a.severity, severity, "{id}");
        let vector = a.cvss_vector.as_deref().expect("vector kept");
        assert_eq!(cvss_base_score(vector), Some(score));
    }
    assert_eq!(
        get(db, "PYSEC-2019-217").cvss_vector.as_deref(),
        Some("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:N")
    );
    // Without a vector, the database's label decides.
    let axios = get(db, "GHSA-wf5p-g6vw-rhxx");
    assert_eq!((axios.severity, axios.cvss_score), (Severity::Medium, None));
    // Go and most PYSEC records carry neither.
    assert_eq!(get(db, "GO-2022-1059").severity, Severity::Unknown);
    assert_eq!(get(db, "PYSEC-2023-74").severity, Severity::Unknown);
    // Merged records keep the worst reading: PYSEC-2023-192 says PR:L (8.1), its GHSA twin
    // says AC:H/PR:H (5.9, MODERATE).
    let urllib3 = get(db, "PYSEC-2023-192");
    assert_eq!(urllib3.cvss_score, Some(8.1));
    assert_eq!(urllib3.severity, Severity::High);
    assert_eq!(
        cvss_base_score("CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:N"),
        Some(5.9)
    );
}

#[test]
fn withdrawn_records_never_match() {
    let db = shared();
    // RUSTSEC-2023-0002 (git2) was withdrawn the day after it was published.
    let git2 = get(db, "RUSTSEC-2023-0002");
    assert!(git2.withdrawn.is_some());
    assert!(!git2.affects(CratesIo, "git2", &v(CratesIo, "0.15.0")));
    assert!(
        db.affecting(CratesIo, "git2", &v(CratesIo, "0.15.0"))
            .is_empty()
    );
    assert!(db.for_package(CratesIo, "git2").is_empty());
    // PYSEC-2023-73 (redis, withdrawn) is gone; the live redis advisories still match.
    assert_eq!(
        ids_at(db, PyPI, "redis", "4.5.2"),
        ["PYSEC-2023-45", "PYSEC-2023-46"]
    );
    assert!(get(db, "CVE-2023-31655").withdrawn.is_some());
    // Fixture: GHSA-27h2-hvpr-p74q (jsonwebtoken), withdrawn 2023-01-27.
    let jwt = get(fixtures(), "GHSA-27h2-hvpr-p74q");
    assert_eq!(
        jwt.withdrawn.map(|t| t.to_rfc3339()),
        Some("2023-01-27T21:51:55+00:00".to_string())
    );
    assert!(ids_at(fixtures(), Npm, "jsonwebtoken", "8.5.1").is_empty());
}

#[test]
fn a_withdrawn_record_does_not_erase_a_live_twin() {
    let record = |id: &str, withdrawn: &str, fixed: &str| {
        format!(
            r#"{{"id": "{id}", "aliases": ["CVE-2099-0002"], {withdrawn} "affected": [{{"package": {{"ecosystem": "PyPI", "name": "pkg"}}, "ranges": [{{"type": "ECOSYSTEM", "events": [{{"introduced": "0"}}, {{"fixed": "{fixed}"}}]}}]}}]}}"#
        )
    };
    let records = vec![
        ("live.json".to_string(), record("PYSEC-2099-1", "", "1.0")),
        (
            "gone.json".to_string(),
            record(
                "GHSA-dead-dead-dead",
                r#""withdrawn": "2099-01-01T00:00:00Z","#,
                "2.0",
            ),
        ),
    ];
    let (db, errors) = AdvisoryDb::from_json_records(&records);
    assert!(errors.is_empty());
    assert_eq!(ids_at(&db, PyPI, "pkg", "0.9"), ["PYSEC-2099-1"]);
    // 1.5 is only in the withdrawn record's range.
    assert!(ids_at(&db, PyPI, "pkg", "1.5").is_empty());
    assert_eq!(
        db.get("CVE-2099-0002").map(|a| a.id.as_str()),
        Some("PYSEC-2099-1")
    );
    assert!(
        db.get("GHSA-dead-dead-dead")
            .is_some_and(|a| a.withdrawn.is_some())
    );
}

#[test]
fn fixed_versions_list_every_fix_in_order() {
    let db = shared();
    assert_eq!(
        get(db, "GHSA-c2qf-rxjj-qqgw").fixed_versions(Npm, "semver"),
        [v(Npm, "5.7.2"), v(Npm, "6.3.1"), v(Npm, "7.5.2")]
    );
    assert_eq!(
        get(db, "RUSTSEC-2021-0124").fixed_versions(CratesIo, "tokio"),
        [v(CratesIo, "1.8.4"), v(CratesIo, "1.13.1")]
    );
    assert_eq!(
        get(db, "GO-2023-1699")
            .fixed_versions(Go, "github.com/docker/docker")
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["v20.10.24+incompatible", "v23.0.3+incompatible"]
    );
    assert!(
        get(db, "PYSEC-2022-42969")
            .fixed_versions(PyPI, "py")
            .is_empty()
    );
    assert!(
        get(db, "RUSTSEC-2021-0124")
            .fixed_versions(CratesIo, "hyper")
            .is_empty()
    );
    let ids: Vec<&str> = get(db, "PYSEC-2023-192").ids().collect();
    assert_eq!(
        ids,
        ["PYSEC-2023-192", "CVE-2023-43804", "GHSA-v845-jxx5-vc9f"]
    );
}

/// The smallest `fixed` version, among all the package's advisories, that no advisory affects:
/// what remedy looks for.
fn smallest_clear_fix(db: &AdvisoryDb, eco: Ecosystem, name: &str, from: &str) -> Option<String> {
    let from = v(eco, from);
    let mut candidates: Vec<Version> = db
        .for_package(eco, name)
        .iter()
        .flat_map(|a| a.fixed_versions(eco, name))
        .filter(|f| *f > from)
        .collect();
    candidates.sort();
    candidates
        .into_iter()
        .find(|c| db.affecting(eco, name, c).is_empty())
        .map(|c| c.to_string())
}

#[test]
fn fixture_pairs_where_one_fix_is_still_affected_by_another() {
    let db = fixtures();
    // lodash: GHSA-p6mc fixes at 4.17.20, which GHSA-35jh still affects (< 4.17.21).
    assert_eq!(
        ids_at(db, Npm, "lodash", "4.17.20"),
        ["GHSA-35jh-r3h4-6jhm"]
    );
    assert_eq!(
        smallest_clear_fix(db, Npm, "lodash", "4.17.15").as_deref(),
        Some("4.17.21")
    );
    // minimist 1.2.3 fixes GHSA-vh95 and is still affected by GHSA-xvch (< 1.2.6).
    assert_eq!(
        ids_at(db, Npm, "minimist", "1.2.3"),
        ["GHSA-xvch-5gv4-984h"]
    );
    assert_eq!(
        smallest_clear_fix(db, Npm, "minimist", "1.2.0").as_deref(),
        Some("1.2.6")
    );
    // The 0.x line has its own fixes.
    assert_eq!(
        smallest_clear_fix(db, Npm, "minimist", "0.0.8").as_deref(),
        Some("0.2.4")
    );
    // urllib3 1.26.17 fixes PYSEC-2023-192 and is still affected by PYSEC-2023-212.
    assert_eq!(ids_at(db, PyPI, "urllib3", "1.26.17"), ["PYSEC-2023-212"]);
    assert_eq!(
        smallest_clear_fix(db, PyPI, "urllib3", "1.26.5").as_deref(),
        Some("1.26.18")
    );
    assert_eq!(
        smallest_clear_fix(db, PyPI, "urllib3", "2.0.4").as_deref(),
        Some("2.0.7")
    );
    // tokio 1.13.1 (RUSTSEC-2021-0124's fix) is inside RUSTSEC-2023-0001's 1.7.0..1.18.4.
    assert_eq!(
        ids_at(db, CratesIo, "tokio", "1.13.1"),
        ["RUSTSEC-2023-0001"]
    );
    assert_eq!(
        smallest_clear_fix(db, CratesIo, "tokio", "1.8.0").as_deref(),
        Some("1.18.4")
    );
    // golang.org/x/text v0.3.7 fixes GO-2021-0113 and is still affected by GO-2022-1059.
    assert_eq!(
        ids_at(db, Go, "golang.org/x/text", "v0.3.7"),
        ["GO-2022-1059"]
    );
    assert_eq!(
        smallest_clear_fix(db, Go, "golang.org/x/text", "v0.3.6").as_deref(),
        Some("v0.3.8")
    );
    // requests and django, for the example project.
    assert_eq!(ids_at(db, PyPI, "requests", "2.30.0"), ["PYSEC-2023-74"]);
    assert_eq!(ids_at(db, PyPI, "Django", "3.2.13"), ["PYSEC-2023-100"]);
}

#[test]
fn fixture_pair_sharing_a_cve_merges_with_the_native_id() {
    let db = fixtures();
    // GO-2022-1059 (no severity) and GHSA-69ch-w2m2-3vjp (CVSS 7.5) name CVE-2022-32149.
    let merged = get(db, "CVE-2022-32149");
    assert_eq!(merged.id, "GO-2022-1059");
    assert_eq!(merged.aliases, ["CVE-2022-32149", "GHSA-69ch-w2m2-3vjp"]);
    assert_eq!(merged.cvss_score, Some(7.5));
    assert_eq!(merged.severity, Severity::High);
    assert_eq!(
        merged.url.as_deref(),
        Some("https://pkg.go.dev/vuln/GO-2022-1059")
    );
    // And the urllib3 pair (PYSEC + GHSA).
    assert_eq!(get(db, "GHSA-v845-jxx5-vc9f").id, "PYSEC-2023-192");
    assert_eq!(db.len(), 12);
    assert_eq!(db.withdrawn().count(), 1);
}

#[test]
fn a_bad_record_is_reported_with_its_line_and_the_rest_load() {
    let bad_version = r#"{
  "id": "GHSA-test-test-test",
  "affected": [
    {
      "package": {"ecosystem": "npm", "name": "left-pad"},
      "ranges": [
        {"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3"}]}
      ]
    }
  ]
}"#;
    let not_json = "{\n  \"id\": \"X\",\n  \"affected\": [\n    {\"package\": }\n  ]\n}";
    let not_osv = r#"{"name": "something else"}"#;
    // Maven is not an ecosystem this tool reads (Debian records are, since the image analysis).
    let maven = r#"{"id": "GHSA-mvn0-0000-0000", "affected": [{"package": {"ecosystem": "Maven", "name": "org.example:lib"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.3"}]}]}]}"#;
    let git_only = r#"{"id": "PYSEC-2099-9", "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": [{"type": "GIT", "repo": "https://example.com/x", "events": [{"introduced": "0"}, {"fixed": "abc123"}]}], "versions": ["1.0"]}]}"#;
    let good = std::fs::read_to_string(format!("{FIXTURES}/npm/GHSA-35jh-r3h4-6jhm.json"))
        .expect("fixture");
    let records: Vec<(String, String)> = [
        ("bad-version.json", bad_version),
        ("not-json.json", not_json),
        ("not-osv.json", not_osv),
        ("maven.json", maven),
        ("git-only.json", git_only),
        ("good.json", good.as_str()),
    ]
    .iter()
    .map(|(f, j)| (f.to_string(), j.to_string()))
    .collect();
    let (db, errors) = AdvisoryDb::from_json_records(&records);
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "bad-version.json:7: GHSA-test-test-test: npm left-pad: `fixed`: `1.3` is not a valid \
             npm version: unexpected end of input while parsing minor version number",
            "not-json.json:4: not a valid OSV record: expected value at line 4 column 17",
            "not-osv.json:1: not a valid OSV record: missing field `id` at line 1 column 26",
        ]
    );
    // The Maven record is skipped silently; the GIT range is ignored, the versions list kept.
    assert_eq!(db.len(), 2);
    assert_eq!(ids_at(&db, PyPI, "x", "1.0"), ["PYSEC-2099-9"]);
    assert!(ids_at(&db, PyPI, "x", "1.1").is_empty());
    assert_eq!(
        ids_at(&db, Npm, "lodash", "4.17.20"),
        ["GHSA-35jh-r3h4-6jhm"]
    );
}

#[test]
fn unreadable_paths_are_errors_not_panics() {
    let (db, errors) = AdvisoryDb::load_dir(Path::new("/nonexistent/advisories"));
    assert!(db.is_empty());
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 0);
    assert!(
        errors[0]
            .message
            .starts_with("cannot read the advisory directory")
    );
}

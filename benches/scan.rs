//! The scanner's speed, on the real corpus and on a generated monorepo (see BENCHMARKS.md for
//! the figures and how to reproduce them).
//!
//! - `corpus/*`: ../shared/corpus with the 79 real advisories and the example catalog; with
//!   and without the directory walk, so parse + scan is visible on its own.
//! - `monorepo/*`: 1,000 Dockerfiles, 22 lockfiles of 5,000 packages (two of each of eleven
//!   formats), 100 Compose files, 100 Kubernetes manifests, 20,000 advisories, all generated in
//!   memory (seeded). Loading the advisories is measured apart from scanning.
//! - `lockfile/package-lock-v2-minified`: one 5,000-package package-lock.json (v2, with its
//!   `dependencies` mirror) on a single line, the shape a quadratic scanner suffers most from.
//! - `format/*`: one real corpus file per format (the largest package-lock.json, and the
//!   pnpm-lock.yaml, uv.lock, Pipfile.lock, Gemfile.lock, composer.lock and the Kubernetes release
//!   manifest), throughput in bytes, so a format slower per byte than package-lock.json shows.
//!
//! `PATCHWRIGHT_WRITE_MONOREPO=DIR cargo bench --bench scan` writes the generated monorepo to
//! `DIR/repo` and `DIR/advisories` instead of benchmarking, so the release binary can be timed
//! on it (peak memory is not something criterion measures).

mod support;

use chrono::NaiveDate;
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use patchwright::catalog::{AdvisoryDb, Catalog, parse_catalog, read_json_records};
use patchwright::forge::local::read_snapshot;
use patchwright::manifest;
use patchwright::model::{ParsedManifest, RuleId};
use patchwright::pipeline::{Knowledge, Outcome, RunOptions, run};
use patchwright::policy::OrgPolicy;
use patchwright::snapshot::RepoSnapshot;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;
use support::monorepo::{self, Monorepo};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");
const ADVISORIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/advisories");
const CATALOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/catalog.example.toml");

/// A fixed day, so end-of-life findings do not change with the calendar.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 15).unwrap_or_default()
}

fn catalog() -> Catalog {
    let text = std::fs::read_to_string(CATALOG).expect("fixtures/catalog.example.toml");
    parse_catalog("fixtures/catalog.example.toml", &text)
        .unwrap_or_else(|errors| panic!("the example catalog does not load: {errors:?}"))
}

fn knowledge(advisories: AdvisoryDb) -> Knowledge {
    Knowledge {
        catalog: catalog(),
        advisories,
        policy: OrgPolicy::default(),
    }
}

fn parse_all(snapshot: &RepoSnapshot) -> Vec<ParsedManifest> {
    snapshot
        .files
        .iter()
        .filter_map(|(path, content)| {
            manifest::detect(path).map(|kind| manifest::parse(kind, path, content))
        })
        .collect()
}

fn input_bytes(snapshot: &RepoSnapshot) -> u64 {
    snapshot.files.values().map(|c| c.len() as u64).sum()
}

/// Says once what was scanned, and refuses to time a run that only exercised error paths.
fn describe(label: &str, snapshot: &RepoSnapshot, outcome: &Outcome) {
    let s = &outcome.report.summary;
    let vulnerable = outcome
        .report
        .findings
        .iter()
        .filter(|f| f.rule == RuleId::VulnerableDependency)
        .count();
    eprintln!(
        "{label}: {} files, {} bytes, {} dependencies, {} findings ({} blockers, {} warnings, \
         {} info, {} fixable; {} vulnerable packages), {} errors",
        s.files,
        input_bytes(snapshot),
        s.dependencies,
        outcome.report.findings.len(),
        s.blockers,
        s.warnings,
        s.info,
        s.fixable,
        vulnerable,
        s.errors
    );
    for e in outcome.report.errors.iter().take(5) {
        eprintln!("  error: {}:{}: {}", e.file, e.line, e.message);
    }
}

fn corpus(c: &mut Criterion) {
    let (records, errors) = read_json_records(Path::new(ADVISORIES));
    assert!(errors.is_empty(), "advisories: {errors:?}");
    let (db, errors) = AdvisoryDb::from_json_records(&records);
    assert!(errors.is_empty(), "advisories: {errors:?}");
    assert_eq!(records.len(), 79, "the 79 real advisories");
    let knowledge = knowledge(db);
    let options = RunOptions::default();
    let snapshot = read_snapshot(Path::new(CORPUS), &[]).expect("../shared/corpus");
    let outcome = run(&snapshot, &knowledge, today(), &options);
    describe("corpus", &snapshot, &outcome);
    // The Helm chart's templated images are notes: nothing failed to read.
    assert!(outcome.report.errors.iter().all(|e| e.is_note()));

    let mut group = c.benchmark_group("corpus");
    group.throughput(Throughput::Bytes(input_bytes(&snapshot)));
    group.bench_function("read+scan", |b| {
        b.iter(|| {
            let snapshot = read_snapshot(Path::new(CORPUS), &[]).expect("../shared/corpus");
            run(&snapshot, &knowledge, today(), &options)
        })
    });
    group.bench_function("read", |b| {
        b.iter(|| read_snapshot(Path::new(CORPUS), &[]).expect("../shared/corpus"))
    });
    group.bench_function("parse", |b| b.iter(|| parse_all(black_box(&snapshot))));
    group.bench_function("scan", |b| {
        b.iter(|| run(black_box(&snapshot), &knowledge, today(), &options))
    });
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("advisories/load", |b| {
        b.iter(|| AdvisoryDb::from_json_records(black_box(&records)))
    });
    group.finish();
}

fn generated(c: &mut Criterion) {
    let repo = Monorepo::generate();
    eprintln!(
        "monorepo: {}; {} advisories, {} bytes of JSON",
        monorepo::describe(&repo.files),
        repo.advisories.len(),
        repo.advisory_bytes()
    );
    let (db, errors) = AdvisoryDb::from_json_records(&repo.advisories);
    assert!(
        errors.is_empty(),
        "generated advisories: {:?}",
        &errors[..errors.len().min(5)]
    );
    eprintln!(
        "monorepo: {} live advisories after merging aliases, {} withdrawn",
        db.len(),
        db.withdrawn().count()
    );
    let knowledge = knowledge(db);
    let options = RunOptions::default();
    let snapshot = RepoSnapshot::from_files(repo.files.iter().cloned());
    let outcome = run(&snapshot, &knowledge, today(), &options);
    describe("monorepo", &snapshot, &outcome);
    assert_eq!(
        outcome.report.summary.errors, 0,
        "the generated files must be valid, or the benchmark times error paths"
    );
    assert_eq!(
        outcome.report.summary.files,
        monorepo::DOCKERFILES
            + monorepo::LOCKFILES
            + monorepo::COMPOSE_FILES
            + monorepo::KUBERNETES_MANIFESTS
    );
    let per_lockfile: Vec<usize> = outcome
        .manifests
        .iter()
        .filter(|m| monorepo::is_lockfile(&m.file))
        .map(|m| m.dependencies.len())
        .collect();
    eprintln!(
        "monorepo: dependencies per lockfile {}..{}",
        per_lockfile.iter().min().unwrap_or(&0),
        per_lockfile.iter().max().unwrap_or(&0)
    );

    let mut group = c.benchmark_group("monorepo");
    // Each iteration is long: a flat schedule runs sample_size iterations, not 1+2+…+n.
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(repo.advisories.len() as u64));
    group.bench_function(
        BenchmarkId::new("advisories/load", repo.advisories.len()),
        |b| b.iter(|| AdvisoryDb::from_json_records(black_box(&repo.advisories))),
    );
    group.throughput(Throughput::Bytes(repo.manifest_bytes()));
    group.bench_function("parse", |b| b.iter(|| parse_all(black_box(&snapshot))));
    group.bench_function("scan", |b| {
        b.iter(|| run(black_box(&snapshot), &knowledge, today(), &options))
    });
    group.finish();
}

/// A 5,000-package lockfileVersion 2 package-lock.json, minified onto one line.
fn minified_package_lock() -> String {
    const N: usize = 5_000;
    let packages: Vec<String> = (0..N)
        .map(|i| {
            format!(
                "\"node_modules/pkg{i}\":{{\"version\":\"6.0.{i}\",\"resolved\":\"https://registry.npmjs.org/pkg{i}/-/pkg{i}-6.0.{i}.tgz\"}}"
            )
        })
        .collect();
    let mirror: Vec<String> = (0..N)
        .map(|i| format!("\"pkg{i}\":{{\"version\":\"6.0.{i}\"}}"))
        .collect();
    format!(
        "{{\"lockfileVersion\":2,\"packages\":{{\"\":{{}},{}}},\"dependencies\":{{{}}}}}",
        packages.join(","),
        mirror.join(",")
    )
}

fn lockfiles(c: &mut Criterion) {
    let text = minified_package_lock();
    let parsed = manifest::parse(
        manifest::ManifestKind::PackageLock,
        "package-lock.json",
        &text,
    );
    assert_eq!(
        parsed.dependencies.len(),
        5_000,
        "{:?}",
        parsed.errors.first()
    );
    let mut group = c.benchmark_group("lockfile");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("package-lock-v2-minified", |b| {
        b.iter(|| {
            manifest::parse(
                manifest::ManifestKind::PackageLock,
                "package-lock.json",
                black_box(&text),
            )
        })
    });
    group.finish();

    let mut group = c.benchmark_group("format");
    for relative in [
        "awesome-compose/react-rust-postgres/frontend/package-lock.json",
        "vuejs_core/pnpm-lock.yaml",
        "fastapi_fastapi/uv.lock",
        "pypa_pipenv/Pipfile.lock",
        "rails_rails/Gemfile.lock",
        "composer_composer/composer.lock",
        "microservices-demo/release/kubernetes-manifests.yaml",
    ] {
        let path = Path::new(CORPUS).join(relative);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}"));
        let kind = manifest::detect(relative).expect("a file the scanner reads");
        let parsed = manifest::parse(kind, relative, &text);
        assert!(
            parsed.errors.iter().all(|e| e.is_note()),
            "{relative}: {:?}",
            parsed.errors
        );
        group.throughput(Throughput::Bytes(text.len() as u64));
        let name = relative.rsplit('/').next().unwrap_or(relative);
        group.bench_function(name, |b| {
            b.iter(|| manifest::parse(kind, relative, black_box(&text)))
        });
    }
    group.finish();
}

fn main() {
    if let Some(dir) = std::env::var_os("PATCHWRIGHT_WRITE_MONOREPO") {
        let dir = Path::new(&dir);
        Monorepo::generate()
            .write_to(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        eprintln!(
            "wrote {0}/repo and {0}/advisories; time the scanner with\n  /usr/bin/time -v \
             target/release/patchwright scan {0}/repo --advisories {0}/advisories --catalog \
             fixtures/catalog.example.toml --format json > /dev/null",
            dir.display()
        );
        return;
    }
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    corpus(&mut c);
    generated(&mut c);
    lockfiles(&mut c);
    c.final_summary();
}

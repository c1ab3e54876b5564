//! The real corpus (../shared/corpus, with ../shared/advisories): every package-lock.json and
//! yarn.lock finding that has a fixed version gets a re-lock plan from the planner, or a refusal
//! that names the parent whose range keeps it out. No package manager runs here (BENCHMARKS.md
//! has the run against the public registry): this keeps the planned count from regressing
//! without the network.

use patchwright::catalog::{AdvisoryDb, load_catalog, read_json_records};
use patchwright::forge::local::read_snapshot;
use patchwright::pipeline::{Knowledge, RunOptions, run};
use patchwright::policy::OrgPolicy;
use patchwright::relock::{Manager, plan};
use std::collections::BTreeMap;
use std::path::Path;

#[test]
fn every_fixable_npm_and_yarn_finding_of_the_corpus_gets_a_relock_plan() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = load_catalog(&root.join("fixtures/catalog.example.toml")).unwrap();
    let (records, _) = read_json_records(&root.join("../shared/advisories"));
    let knowledge = Knowledge {
        catalog,
        advisories: AdvisoryDb::from_json_records(&records).0,
        policy: OrgPolicy::default(),
    };
    let snapshot = read_snapshot(&root.join("../shared/corpus"), &[]).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let report = run(&snapshot, &knowledge, today, &RunOptions::default()).report;

    // (manager, lockfile, package, from → to) → planned, or the planner's reason.
    let mut plans: BTreeMap<(Manager, String, String), Result<(), String>> = BTreeMap::new();
    let mut without_fix = Vec::new();
    for finding in report.findings.iter().filter(|f| f.is_active()) {
        let Some(dependency) = finding.dependency.as_deref() else {
            continue;
        };
        let file = &dependency.location.file;
        let Some(manager @ (Manager::Npm | Manager::Yarn)) = Manager::for_lockfile(file) else {
            continue;
        };
        let Some(fix) = &finding.fix else {
            without_fix.push(finding.subject.clone());
            continue;
        };
        let what = format!("{} {} → {}", dependency.name, fix.from, fix.to);
        let outcome = match plan::request(finding, &snapshot) {
            Some(Ok(request)) => {
                assert_eq!(
                    (
                        request.manager,
                        request.package.as_str(),
                        request.to.as_str()
                    ),
                    (manager, dependency.name.as_str(), fix.to.as_str())
                );
                Ok(())
            }
            Some(Err(reason)) => Err(reason),
            None => panic!("{file}: {what} has a fix but no re-lock plan"),
        };
        plans.insert((manager, file.clone(), what), outcome);
    }
    assert!(without_fix.is_empty(), "no fixed version: {without_fix:?}");

    let count = |manager: Manager, planned: bool| {
        plans
            .iter()
            .filter(|((m, _, _), o)| *m == manager && o.is_ok() == planned)
            .count()
    };
    // 34 vulnerable entries in 11 package-lock.json and 5 in the one yarn.lock (the issue's
    // figures); 7 + 1 are refused because a parent pins the vulnerable version exactly
    // (core-js-compat asks for semver `7.0.0` in seven of them, Angular's build for `7.3.5`).
    assert_eq!(
        (count(Manager::Npm, true), count(Manager::Npm, false)),
        (27, 7),
        "{plans:#?}"
    );
    assert_eq!(
        (count(Manager::Yarn, true), count(Manager::Yarn, false)),
        (4, 1),
        "{plans:#?}"
    );
    let refused: Vec<(String, &str)> = plans
        .iter()
        .filter_map(|((_, file, what), o)| {
            let reason = o.as_ref().err()?;
            let parent = ["core-js-compat", "@angular-devkit/build-angular"]
                .into_iter()
                .find(|p| {
                    reason.contains(&format!("({p}@")) && reason.contains("requires semver `7.")
                })
                .unwrap_or_else(|| panic!("{file}: {what}: {reason}"));
            Some((what.clone(), parent))
        })
        .collect();
    for (what, _) in &refused {
        assert!(
            what.starts_with("semver 7.") && what.ends_with("→ 7.5.2"),
            "{what}"
        );
    }
    assert_eq!(
        refused
            .iter()
            .filter(|(_, p)| *p == "core-js-compat")
            .count(),
        7,
        "{refused:?}"
    );
}

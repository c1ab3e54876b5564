//! The service's fix PRs re-lock: a repository with a vulnerable transitive npm dependency
//! (package-lock.json), a Cargo.lock and a go.mod/go.sum, scanned through signed webhooks, the
//! real job runner and the real GitHub client against the stateful fake GitHub, with the real
//! npm, cargo and go against registries the test starts on loopback (Verdaccio, a sparse crates
//! index, a `GOPROXY=file://` proxy). Each lockfile gets one fix PR whose files are exactly what
//! the package manager produces when the test runs it itself, and the PR's head scans clean.

#[path = "fake_github/mod.rs"]
mod fake_github;
mod relock_support;
mod support;
mod world;

use patchwright::forge::github::GitHubForge;
use patchwright::forge::hosted::Forge;
use patchwright::infra::clock::Clock;
use patchwright::pipeline::{Knowledge, RunOptions, run_parsed};
use patchwright::relock::{Registries, Relocker};
use patchwright::service::handler::read::{ParseCache, read_repository};
use relock_support::{CratesRegistry, GoProxy, Verdaccio, copy_dir, files_below, knowledge_with};
use std::collections::BTreeMap;
use std::path::Path;
use world::{INSTALLATION, REPO, changed_files, push_payload, world_with};

fn ok(what: &str, out: std::process::Output) {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The registries' packages, the repository's three projects (locked while only the
/// vulnerable 1.0.0 releases exist), then the fixed 1.0.1 releases.
struct Fixture {
    npm: Verdaccio,
    crates: CratesRegistry,
    go: GoProxy,
    repo: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let npm = Verdaccio::start();
    let crates = CratesRegistry::start();
    let go = GoProxy::new();
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();

    // npm: web → mid@^1.0.0 → leaf@^1.0.0 (leaf is transitive).
    npm.publish("leaf", "1.0.0", &[]);
    npm.publish("mid", "1.0.0", &[("leaf", "^1.0.0")]);
    let web = root.join("web");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(
        web.join("package.json"),
        "{\n  \"name\": \"web\",\n  \"version\": \"1.0.0\",\n  \"dependencies\": {\n    \"mid\": \"^1.0.0\"\n  }\n}\n",
    )
    .unwrap();
    ok(
        "npm install",
        npm.npm(
            &web,
            &["install", "--package-lock-only", "--ignore-scripts"],
        ),
    );
    npm.publish("leaf", "1.0.1", &[]);

    // Cargo: api → cmid 1 → cleaf ^1.0 (cleaf is transitive too).
    crates.publish("cleaf", "1.0.0", &[]);
    crates.publish("cmid", "1.0.0", &[("cleaf", "^1.0")]);
    let api = root.join("api");
    std::fs::create_dir_all(api.join("src")).unwrap();
    std::fs::write(
        api.join("Cargo.toml"),
        "[package]\nname = \"api\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ncmid = \"1\"\n",
    )
    .unwrap();
    std::fs::write(api.join("src/main.rs"), "fn main() {}\n").unwrap();
    ok(
        "cargo generate-lockfile",
        crates.cargo(&api, &["generate-lockfile"]),
    );
    crates.publish("cleaf", "1.0.1", &[]);

    // Go: example.com/svc requires example.com/gmid, which requires example.com/gleaf.
    go.publish("example.com/gleaf", "v1.0.0", &[]);
    go.publish("example.com/gmid", "v1.0.0", &["example.com/gleaf v1.0.0"]);
    let svc = root.join("svc");
    std::fs::create_dir_all(&svc).unwrap();
    std::fs::write(
        svc.join("go.mod"),
        "module example.com/svc\n\ngo 1.21\n\nrequire example.com/gmid v1.0.0\n\nrequire example.com/gleaf v1.0.0 // indirect\n",
    )
    .unwrap();
    ok("go mod download", go.go(&svc, &["mod", "download", "all"]));
    go.publish("example.com/gleaf", "v1.0.1", &[]);

    Fixture {
        npm,
        crates,
        go,
        repo,
    }
}

/// The test's own advisories: each leaf is vulnerable before 1.0.1.
fn knowledge(dir: &Path) -> Knowledge {
    knowledge_with(
        dir,
        &[
            ("GHSA-test-npm-leaf", "npm", "leaf", "1.0.1"),
            ("RUSTSEC-2099-0001", "crates.io", "cleaf", "1.0.1"),
            ("GO-2099-0001", "Go", "example.com/gleaf", "1.0.1"),
        ],
    )
}

fn relocker(f: &Fixture) -> Relocker {
    relock_support::relocker(Registries {
        npm: Some(f.npm.url.clone()),
        crates: Some(f.crates.index()),
        goproxy: Some(f.go.url()),
        gosumdb: Some("off".into()),
        ..Default::default()
    })
}

/// What each package manager makes of the project when the test runs it by hand, in a copy:
/// repository path → new content, for the files it changed.
fn by_hand(f: &Fixture) -> BTreeMap<&'static str, BTreeMap<String, String>> {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(f.repo.path(), copy.path());
    let before: BTreeMap<String, String> = files_below(copy.path()).into_iter().collect();
    ok(
        "npm update",
        f.npm.npm(
            &copy.path().join("web"),
            &["update", "leaf", "--package-lock-only", "--ignore-scripts"],
        ),
    );
    ok(
        "cargo update",
        f.crates.cargo(
            &copy.path().join("api"),
            &["update", "-p", "cleaf@1.0.0", "--precise", "1.0.1"],
        ),
    );
    ok(
        "go get",
        f.go.go(
            &copy.path().join("svc"),
            &["get", "example.com/gleaf@v1.0.1"],
        ),
    );
    let mut changed: BTreeMap<&'static str, BTreeMap<String, String>> = BTreeMap::new();
    for (path, content) in files_below(copy.path()) {
        if before.get(&path) == Some(&content) {
            continue;
        }
        let group = match path.split('/').next() {
            Some("web") => "patchwright/npm/leaf",
            Some("api") => "patchwright/cargo/cleaf",
            _ => "patchwright/go/example.com-gleaf",
        };
        changed.entry(group).or_default().insert(path, content);
    }
    changed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_lockfile_gets_one_fix_pr_with_exactly_the_package_managers_files() {
    let f = fixture();
    let advisories = tempfile::tempdir().unwrap();
    let knowledge = knowledge(advisories.path());
    let expected = by_hand(&f);
    assert_eq!(expected.len(), 3, "{expected:#?}");

    let w = world_with(
        10,
        files_below(f.repo.path()),
        self::knowledge(advisories.path()),
        Some(relocker(&f)),
    )
    .await;
    let main = w.github.branch(REPO, "main").unwrap();
    w.github.clear_requests();
    assert_eq!(w.deliver("push", "d-1", push_payload(&main)).await, 202);
    w.work().await;
    let requests = w.github.requests();

    let pulls = w.open_pulls();
    let mut heads: Vec<&str> = pulls.iter().map(|p| p.head.as_str()).collect();
    heads.sort();
    assert_eq!(
        heads,
        [
            "patchwright/cargo/cleaf",
            "patchwright/go/example.com-gleaf",
            "patchwright/npm/leaf"
        ]
    );
    let forge = GitHubForge::new(w.app.clone(), INSTALLATION);
    for pull in &pulls {
        let head = w.github.branch(REPO, &pull.head).unwrap();
        assert_eq!(w.github.commit_parents(&head), std::slice::from_ref(&main));
        let changed = changed_files(&forge, &head).await;
        assert_eq!(
            &changed,
            &expected[pull.head.as_str()],
            "{}: the PR's files are the package manager's own",
            pull.head
        );
        // The risk statement names every lock entry that moved.
        let entry = match pull.head.as_str() {
            "patchwright/npm/leaf" => "leaf 1.0.0 → 1.0.1",
            "patchwright/cargo/cleaf" => "cleaf 1.0.0 → 1.0.1",
            _ => "example.com/gleaf v1.0.0 → v1.0.1",
        };
        assert!(
            pull.body
                .contains(&format!("lock entries changed: {entry}")),
            "{}",
            pull.body
        );
        assert!(!pull.body.contains("re-lock failed"), "{}", pull.body);
    }

    // The PRs' heads scan clean of what they fix.
    for pull in &pulls {
        let head = w.github.branch(REPO, &pull.head).unwrap();
        let (snapshot, manifests, _) = read_repository(&forge, REPO, &head, &ParseCache::new(100))
            .await
            .unwrap();
        let today = w.clock.now().date_naive();
        let report = run_parsed(
            &snapshot,
            manifests,
            &knowledge,
            today,
            &RunOptions::default(),
        )
        .report;
        let fixed = pull.head.rsplit('/').next().unwrap();
        let left: Vec<&str> = report
            .findings
            .iter()
            .filter(|x| !x.advisories.is_empty())
            .filter_map(|x| x.package.as_deref())
            .filter(|p| p.replace('/', "-") == fixed)
            .collect();
        assert!(left.is_empty(), "{}: still {left:?}", pull.head);
    }

    // What a fix PR costs: the pass's requests that build and open PRs, and the files the
    // re-locks read beyond the scan, per PR.
    let scanned = files_below(f.repo.path())
        .iter()
        .filter(|(path, _)| patchwright::snapshot::wants(path))
        .count();
    let per_pr = pr_calls(&requests, scanned) as f64 / pulls.len() as f64;
    println!(
        "GitHub API calls per fix PR: {per_pr:.1} ({} requests in the whole pass for {} PRs)",
        requests.len(),
        pulls.len()
    );
    assert!(per_pr <= 8.0, "{per_pr} calls per fix PR: {requests:#?}");

    assert!(
        last_outcome(&w)
            .await
            .ends_with("tracking issue: none; re-locks: 3 run (0 failed), 0 carried by open PRs"),
        "{}",
        last_outcome(&w).await
    );

    // A push that changes no re-lock input runs no package manager and touches no PR.
    w.github.clear_requests();
    let again = w
        .github
        .push(REPO, "main", &[("README.md", Some("hello\n"))], "octocat");
    assert_eq!(w.deliver("push", "d-2", push_payload(&again)).await, 202);
    w.work().await;
    assert!(
        last_outcome(&w)
            .await
            .ends_with("tracking issue: none; re-locks: 0 run (0 failed), 3 carried by open PRs"),
        "{}",
        last_outcome(&w).await
    );
    assert_eq!(w.github.count("POST", "/repos/acme/shop/git/"), 0);
    assert_eq!(w.github.count("PATCH", "/repos/acme/shop/pulls"), 0);
    assert_eq!(w.open_pulls().len(), 3);
    // Keeping them cost each PR its commit, and their shared base's tree once.
    assert_eq!(w.github.count("GET", "/repos/acme/shop/commits/"), 3);
    assert_eq!(w.github.count("GET", "/repos/acme/shop/git/trees/"), 2);

    // A push that changes web's manifest: only npm runs again, and its PR is rebuilt on the
    // new head although it fixes the same thing; the other two stay as they are.
    let manifest = w.github.file_at(&again, "web/package.json").unwrap();
    let bumped = manifest.replace("\"version\": \"1.0.0\"", "\"version\": \"1.0.2\"");
    assert_ne!(manifest, bumped);
    let third = w.github.push(
        REPO,
        "main",
        &[("web/package.json", Some(&bumped))],
        "octocat",
    );
    w.github.clear_requests();
    assert_eq!(w.deliver("push", "d-3", push_payload(&third)).await, 202);
    w.work().await;
    assert!(
        last_outcome(&w)
            .await
            .ends_with("re-locks: 1 run (0 failed), 2 carried by open PRs"),
        "{}",
        last_outcome(&w).await
    );
    assert_eq!(w.github.count("PATCH", "/repos/acme/shop/pulls"), 1);
    let npm_head = w.github.branch(REPO, "patchwright/npm/leaf").unwrap();
    assert_eq!(
        w.github.commit_parents(&npm_head),
        std::slice::from_ref(&third)
    );
    let lock = w
        .github
        .file_at(&npm_head, "web/package-lock.json")
        .unwrap();
    assert!(
        lock.contains("\"version\": \"1.0.2\"") && lock.contains("leaf/-/leaf-1.0.1.tgz"),
        "{lock}"
    );
    let cargo_head = w.github.branch(REPO, "patchwright/cargo/cleaf").unwrap();
    assert_eq!(
        w.github.commit_parents(&cargo_head),
        std::slice::from_ref(&main)
    );

    // svc's go.mod changes while the proxy has lost the fixed release: the re-lock fails, and
    // the open Go PR keeps its go.mod and go.sum rather than being rebuilt without go.sum.
    let go_head = w
        .github
        .branch(REPO, "patchwright/go/example.com-gleaf")
        .unwrap();
    let gone = f.go.dir.path().join("proxy/example.com/gleaf/@v");
    for ext in ["info", "mod", "zip"] {
        std::fs::remove_file(gone.join(format!("v1.0.1.{ext}"))).unwrap();
    }
    std::fs::write(gone.join("list"), "v1.0.0\n").unwrap();
    let go_mod = w.github.file_at(&third, "svc/go.mod").unwrap();
    let fourth = w.github.push(
        REPO,
        "main",
        &[("svc/go.mod", Some(&format!("// the service\n{go_mod}")))],
        "octocat",
    );
    w.github.clear_requests();
    assert_eq!(w.deliver("push", "d-4", push_payload(&fourth)).await, 202);
    w.work().await;
    assert!(
        last_outcome(&w)
            .await
            .ends_with("re-locks: 1 run (1 failed), 3 carried by open PRs"),
        "{}",
        last_outcome(&w).await
    );
    assert_eq!(w.github.count("PATCH", "/repos/acme/shop/pulls"), 0);
    assert_eq!(
        w.github.branch(REPO, "patchwright/go/example.com-gleaf"),
        Some(go_head)
    );
    assert_eq!(w.open_pulls().len(), 3);

    // A person closes the npm PR: that fix is declined, so web's next change re-locks nothing.
    let npm_pr = w
        .open_pulls()
        .into_iter()
        .find(|p| p.head == "patchwright/npm/leaf")
        .unwrap();
    forge.close_pull(REPO, npm_pr.number).await.unwrap();
    let closed = world::pull_closed_payload(npm_pr.number, &npm_pr.head, false, "octocat");
    assert_eq!(w.deliver("pull_request", "d-5", closed).await, 200);
    let web = w.github.file_at(&fourth, "web/package.json").unwrap();
    let fifth = w.github.push(
        REPO,
        "main",
        &[("web/package.json", Some(&web.replace("1.0.2", "1.0.3")))],
        "octocat",
    );
    assert_eq!(w.deliver("push", "d-6", push_payload(&fifth)).await, 202);
    w.work().await;
    let outcome = last_outcome(&w).await;
    // go's inputs still differ from its PR's base and its release is still gone: tried, failed.
    assert!(
        outcome.ends_with("re-locks: 1 run (1 failed), 2 carried by open PRs, 1 declined"),
        "{outcome}"
    );
    assert_eq!(w.open_pulls().len(), 2);
    let entries = support::audit::all(w.db.store.pool()).await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "fix-skipped" && e.reason.contains("npm/leaf@1.0.1")),
        "{entries:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_package_manager_is_a_note_and_never_blocks_the_other_fixes() {
    let f = fixture();
    let advisories = tempfile::tempdir().unwrap();
    let mut nothing = relocker(&f);
    let empty = tempfile::tempdir().unwrap();
    nothing.path = empty.path().as_os_str().to_owned();
    let w = world_with(
        10,
        files_below(f.repo.path()),
        knowledge(advisories.path()),
        Some(nothing),
    )
    .await;
    let main = w.github.branch(REPO, "main").unwrap();
    assert_eq!(w.deliver("push", "d-1", push_payload(&main)).await, 202);
    w.work().await;
    assert!(
        last_outcome(&w)
            .await
            .ends_with("re-locks: 3 run (3 failed), 0 carried by open PRs"),
        "{}",
        last_outcome(&w).await
    );
    // go.mod is still edited in place; npm and cargo have nothing to commit without their tool.
    let pulls = w.open_pulls();
    let heads: Vec<&str> = pulls.iter().map(|p| p.head.as_str()).collect();
    assert_eq!(heads, ["patchwright/go/example.com-gleaf"]);
    assert!(
        pulls[0].body.contains(
            "re-lock failed: `go` is not installed (not found on PATH), so go.sum cannot be re-locked here"
        ),
        "{}",
        pulls[0].body
    );
}

/// The summary of the last job that ran.
async fn last_outcome(w: &world::World) -> String {
    sqlx::query_scalar::<_, Option<String>>("SELECT outcome FROM jobs ORDER BY id DESC LIMIT 1")
        .fetch_one(w.db.store.pool())
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Requests that are about fix PRs: building their commits and branches, opening them, and the
/// blobs the re-locks read (the scan reads every manifest in one pass before any PR exists).
/// `scanned`: how many files the scan itself reads.
fn pr_calls(requests: &[fake_github::Recorded], scanned: usize) -> usize {
    let about_prs = |r: &&fake_github::Recorded| {
        let p = r.path.as_str();
        match r.method.as_str() {
            "POST" | "PATCH" => {
                p.contains("/git/")
                    || p.ends_with("/pulls")
                    || p.contains("/labels")
                    || p.contains("/requested_reviewers")
            }
            // The fix commit's base, and whether the fix branch exists (not the default
            // branch's ref, which the scan reads).
            "GET" => p.contains("/git/commits/") || p.contains("/git/ref/heads%2Fpatchwright"),
            _ => false,
        }
    };
    let pr_work = requests.iter().filter(about_prs).count();
    // Blobs fetched beyond the scan's own reads: the re-locks' (go.sum).
    let blobs = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/git/blobs/"))
        .count();
    pr_work + blobs.saturating_sub(scanned)
}

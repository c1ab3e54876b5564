//! Change-set review on real scans: two snapshots of a repository (the base branch and a pull
//! request's head) scanned with the example knowledge, compared, planned as a review and a
//! check run. The proof that a suggestion works is re-scanning the file with it accepted.

use patchwright::catalog::{AdvisoryDb, load_catalog, read_json_records};
use patchwright::forge::hosted::CheckConclusion;
use patchwright::model::{Level, RuleId};
use patchwright::pipeline::{Knowledge, RunOptions, run};
use patchwright::policy::OrgPolicy;
use patchwright::render::check::pr_check_run;
use patchwright::render::markers::is_finding_comment;
use patchwright::render::templates;
use patchwright::report::Report;
use patchwright::review::comments::ExistingComment;
use patchwright::review::{
    ChangeSet, ReviewPlan, Suggestion, apply_suggestion, compare, plan_review, reconcile,
};
use patchwright::snapshot::RepoSnapshot;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

const SLUG: &str = "patchwright";
const HEAD_SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn knowledge() -> &'static Knowledge {
    static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
    KNOWLEDGE.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let catalog = load_catalog(&root.join("fixtures/catalog.example.toml")).unwrap();
        let (records, errors) = read_json_records(&root.join("fixtures/advisories"));
        assert!(errors.is_empty(), "{errors:?}");
        let (advisories, errors) = AdvisoryDb::from_json_records(&records);
        assert!(errors.is_empty(), "{errors:?}");
        Knowledge {
            catalog,
            advisories,
            policy: OrgPolicy::default(),
        }
    })
}

fn scan(files: &BTreeMap<String, String>) -> Report {
    let snapshot = RepoSnapshot {
        files: files.clone(),
        ..Default::default()
    };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    run(&snapshot, knowledge(), today, &RunOptions::default()).report
}

fn files(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect()
}

/// A pull request: both sides scanned and compared, the review planned, the check built.
struct Pull {
    base: BTreeMap<String, String>,
    head: BTreeMap<String, String>,
    changes: ChangeSet,
    plan: ReviewPlan,
}

fn pull(base: &[(&str, &str)], head: &[(&str, &str)]) -> Pull {
    let (base, head) = (files(base), files(head));
    let changes = compare(&scan(&base).findings, &scan(&head).findings);
    let plan = templates::review(&plan_review(&changes, &base, &head), SLUG);
    Pull {
        base,
        head,
        changes,
        plan,
    }
}

const WEB: &str = "web/Dockerfile";
const BASE_DOCKERFILE: &str = "# The web front end.
FROM node:22.12.0-alpine
WORKDIR /app
COPY package.json ./
RUN npm ci
COPY . .
USER node
CMD [\"node\", \"server.js\"]
";
const README: &str = "# shop\n";

/// The suggestion's lines, read back out of the comment body (what GitHub will apply).
fn suggestion_in(body: &str, line: u32, start_line: Option<u32>) -> Suggestion {
    let open = "```suggestion\n";
    let start = body.find(open).expect("a suggestion block") + open.len();
    let end = start + body[start..].find("\n```").expect("a closed block");
    Suggestion {
        start_line: start_line.unwrap_or(line),
        end_line: line,
        lines: body[start..end].to_string(),
    }
}

#[test]
fn a_pull_request_that_adds_node_16_fails_and_gets_a_working_suggestion() {
    let head_dockerfile = BASE_DOCKERFILE.replace("node:22.12.0-alpine", "node:16");
    let p = pull(
        &[(WEB, BASE_DOCKERFILE), ("README.md", README)],
        &[(WEB, &head_dockerfile), ("README.md", README)],
    );

    // One blocker introduced; the base's digest-not-pinned note on the same line is old news.
    assert_eq!(p.changes.introduced.len(), 1, "{:#?}", p.changes.introduced);
    let change = &p.changes.introduced[0];
    assert_eq!(change.finding.rule, RuleId::EolBaseImage);
    assert_eq!(change.finding.level, Level::Blocker);
    assert_eq!(change.finding.subject, "node:16");
    assert!(p.changes.fixed.is_empty());
    assert_eq!(p.changes.unchanged, 1);

    let check = pr_check_run(&p.changes, HEAD_SHA, SLUG);
    assert_eq!(check.conclusion, CheckConclusion::Failure);
    assert_eq!(check.title, "1 new blocker");
    assert_eq!(check.annotations.len(), 1);
    assert_eq!(
        (
            check.annotations[0].path.as_str(),
            check.annotations[0].start_line
        ),
        (WEB, 2)
    );

    // One comment, on the FROM line, with a suggestion; nothing left for the review body.
    assert_eq!(p.plan.body, "");
    assert_eq!(p.plan.comments.len(), 1);
    let comment = &p.plan.comments[0];
    assert_eq!(
        (comment.path.as_str(), comment.line, comment.start_line),
        (WEB, 2, None)
    );
    assert!(is_finding_comment(&comment.body));

    // The working-suggestion proof: accept it as GitHub would, re-scan, the blocker is gone
    // and nothing new takes its place.
    let s = suggestion_in(&comment.body, comment.line, comment.start_line);
    let accepted = apply_suggestion(&p.head[WEB], &s).unwrap();
    assert_ne!(accepted, p.head[WEB]);
    let mut fixed_head = p.head.clone();
    fixed_head.insert(WEB.to_string(), accepted);
    let after = compare(&scan(&p.head).findings, &scan(&fixed_head).findings);
    assert!(after.introduced.is_empty(), "{:#?}", after.introduced);
    assert!(
        after
            .fixed
            .iter()
            .any(|f| f.rule == RuleId::EolBaseImage && f.subject == "node:16"),
        "{:#?}",
        after.fixed
    );
    let from_base = compare(&scan(&p.base).findings, &scan(&fixed_head).findings);
    assert!(
        from_base.introduced.is_empty(),
        "{:#?}",
        from_base.introduced
    );

    insta::assert_snapshot!("node_16_comment", comment.body);
}

#[test]
fn a_readme_only_change_succeeds_without_a_review() {
    let p = pull(
        &[(WEB, BASE_DOCKERFILE), ("README.md", README)],
        &[
            (WEB, BASE_DOCKERFILE),
            ("README.md", "# shop\n\nNow with docs.\n"),
        ],
    );
    assert!(p.changes.introduced.is_empty());
    assert!(p.changes.fixed.is_empty());
    assert!(p.changes.unchanged > 0);
    assert!(p.plan.is_empty());
    let check = pr_check_run(&p.changes, HEAD_SHA, SLUG);
    assert_eq!(check.conclusion, CheckConclusion::Success);
    assert_eq!(check.title, "no new findings");
    assert!(check.annotations.is_empty());
    assert!(
        check
            .summary
            .contains("already on the base branch is not repeated here"),
        "{}",
        check.summary
    );
}

#[test]
fn a_lockfile_pin_change_to_a_vulnerable_version_is_new_and_fixable_in_place() {
    let base = "# API dependencies\nDjango==4.2.11\nrequests==2.31.0\n";
    let head = base.replace("requests==2.31.0", "requests==2.30.0");
    let p = pull(
        &[("api/requirements.txt", base)],
        &[("api/requirements.txt", &head)],
    );
    let new: Vec<(RuleId, &str)> = p
        .changes
        .introduced
        .iter()
        .map(|c| (c.finding.rule, c.finding.subject.as_str()))
        .collect();
    assert_eq!(new, [(RuleId::VulnerableDependency, "requests@2.30.0")]);
    let finding = &p.changes.introduced[0].finding;
    assert!(finding.advisories.iter().any(|a| a == "PYSEC-2023-74"));

    let comment = &p.plan.comments[0];
    assert_eq!((comment.line, comment.start_line), (3, None));
    assert!(
        comment
            .body
            .contains("[PYSEC-2023-74](https://osv.dev/vulnerability/PYSEC-2023-74)"),
        "{}",
        comment.body
    );
    assert!(
        comment.body.contains("accept-risk PYSEC-2023-74 --until"),
        "{}",
        comment.body
    );
    let s = suggestion_in(&comment.body, comment.line, comment.start_line);
    assert_eq!(s.lines, "requests==2.31.0");
    let mut fixed_head = p.head.clone();
    fixed_head.insert(
        "api/requirements.txt".to_string(),
        apply_suggestion(&p.head["api/requirements.txt"], &s).unwrap(),
    );
    assert_eq!(fixed_head, p.base);
}

#[test]
fn a_fix_on_the_pull_request_is_listed_as_fixed() {
    let base_dockerfile = BASE_DOCKERFILE.replace("node:22.12.0-alpine", "node:16");
    let p = pull(&[(WEB, &base_dockerfile)], &[(WEB, BASE_DOCKERFILE)]);
    assert!(
        p.changes.introduced.is_empty(),
        "{:#?}",
        p.changes.introduced
    );
    let fixed: Vec<(RuleId, &str)> = p
        .changes
        .fixed
        .iter()
        .map(|f| (f.rule, f.subject.as_str()))
        .collect();
    assert_eq!(fixed, [(RuleId::EolBaseImage, "node:16")]);
    assert!(p.plan.is_empty());
    let check = pr_check_run(&p.changes, HEAD_SHA, SLUG);
    assert_eq!(check.conclusion, CheckConclusion::Success);
    assert_eq!(check.title, "no new findings; fixes 1");
    assert!(
        check.summary.contains("Fixed by this change: 1"),
        "{}",
        check.summary
    );
}

/// Turns planned comments into what the forge lists after posting them.
fn posted(plan: &ReviewPlan, first_id: u64) -> Vec<ExistingComment> {
    plan.comments
        .iter()
        .enumerate()
        .map(|(i, c)| ExistingComment {
            id: first_id + i as u64,
            path: c.path.clone(),
            line: Some(c.line),
            body: c.body.clone(),
            ours: true,
            is_reply: false,
        })
        .collect()
}

#[test]
fn pushes_replace_the_bots_comments_instead_of_piling_them_up() {
    let base = [(WEB, BASE_DOCKERFILE)];
    let node16 = BASE_DOCKERFILE.replace("node:22.12.0-alpine", "node:16");
    let first = pull(&base, &[(WEB, &node16)]);
    let on_pr = posted(&first.plan, 100);
    assert_eq!(on_pr.len(), 1);

    // A push that changes something unrelated below: the same comment stands, nothing is posted.
    let unrelated = node16.replace(
        "CMD [\"node\", \"server.js\"]",
        "CMD [\"node\", \"app.js\"]",
    );
    let second = pull(&base, &[(WEB, &unrelated)]);
    let r = reconcile(&on_pr, second.plan.comments.clone());
    assert!(r.to_post.is_empty(), "{:#?}", r.to_post);
    assert!(r.to_delete.is_empty());

    // A push that moves the FROM line down: the old comment is replaced by one on the new line.
    let moved = node16.replace(
        "# The web front end.\n",
        "# The web front end.\n# Served by node.\n",
    );
    let third = pull(&base, &[(WEB, &moved)]);
    let r = reconcile(&on_pr, third.plan.comments.clone());
    assert_eq!(r.to_delete, [100]);
    assert_eq!(r.to_post.len(), 1);
    assert_eq!(r.to_post[0].line, 3);

    // A person's reply in the thread is never touched; the fixing push removes the bot's comment.
    let mut with_reply = on_pr.clone();
    with_reply.push(ExistingComment {
        id: 200,
        path: WEB.to_string(),
        line: Some(2),
        body: "We need node 16 for a legacy addon".to_string(),
        ours: false,
        is_reply: true,
    });
    let fixed = pull(&base, &[(WEB, BASE_DOCKERFILE)]);
    let r = reconcile(&with_reply, fixed.plan.comments.clone());
    assert_eq!(r.to_delete, [100]);
    assert!(r.to_post.is_empty());
}

#[test]
fn check_summary_of_a_pull_request_with_several_changes() {
    let base_api = "FROM python:3.8-slim\nUSER app\n";
    let head_api = "FROM python:3.14.6-slim\nUSER app\n";
    let node16 = BASE_DOCKERFILE.replace("node:22.12.0-alpine", "node:16");
    let worker = "FROM golang:1.22\nRUN apt-get install -y git\n";
    let p = pull(
        &[
            (WEB, BASE_DOCKERFILE),
            ("api/Dockerfile", base_api),
            (
                "api/requirements.txt",
                "requests==2.31.0\nurllib3==1.26.18\n",
            ),
        ],
        &[
            (WEB, &node16),
            ("api/Dockerfile", head_api),
            (
                "api/requirements.txt",
                "requests==2.30.0\nurllib3==1.26.5\n",
            ),
            ("worker/Dockerfile", worker),
        ],
    );
    assert!(
        p.changes.introduced.len() > 5,
        "{:#?}",
        p.changes.introduced
    );
    assert!(!p.changes.fixed.is_empty());
    let check = pr_check_run(&p.changes, HEAD_SHA, SLUG);
    assert_eq!(check.conclusion, CheckConclusion::Failure);
    assert_eq!(check.annotations.len(), p.changes.introduced.len());
    // Every new blocker or warning is a line comment, shares one with a finding the same
    // suggestion clears, or is in the review body: never lost. Info stays in the check run.
    let in_body = p.plan.body.matches("\n- **").count();
    let merged: usize = p
        .plan
        .comments
        .iter()
        .map(|c| c.body.matches("Also cleared by this suggestion").count())
        .sum();
    let worth_a_comment = p
        .changes
        .introduced
        .iter()
        .filter(|c| c.finding.level != patchwright::model::Level::Info)
        .count();
    // urllib3 is vulnerable and banned: one finding, one comment naming both rules.
    let urllib3 = p
        .plan
        .comments
        .iter()
        .find(|c| c.body.contains("urllib3@1.26.5"))
        .expect("a comment on urllib3");
    assert!(
        urllib3.body.contains("also dependency-banned (blocker)"),
        "{}",
        urllib3.body
    );
    assert_eq!(
        p.plan.comments.len() + merged + in_body,
        worth_a_comment,
        "{:#?}\n{}",
        p.plan.comments,
        p.plan.body
    );
    insta::assert_snapshot!("several_changes_title", check.title);
    insta::assert_snapshot!("several_changes_check_summary", check.summary);
}

#[test]
fn dropping_an_exception_puts_the_finding_in_the_review_body() {
    // The change is in the config only: the Dockerfile's lines are not in the diff, so the
    // finding the exception held back can't take a line comment.
    let node16 = BASE_DOCKERFILE.replace("node:22.12.0-alpine", "node:16");
    let config = "tier = \"internet-facing\"\n\n[[exception]]\nid = \"eol-base-image\"\nreason = \"the legacy addon needs node 16\"\nowner = \"@acme/web\"\nexpires = 2027-01-31\n";
    let p = pull(
        &[(WEB, &node16), (".github/patchwright.toml", config)],
        &[
            (WEB, &node16),
            (".github/patchwright.toml", "tier = \"internet-facing\"\n"),
        ],
    );
    let new: Vec<RuleId> = p
        .changes
        .introduced
        .iter()
        .map(|c| c.finding.rule)
        .collect();
    assert_eq!(new, [RuleId::EolBaseImage]);
    assert!(p.plan.comments.is_empty(), "{:#?}", p.plan.comments);
    assert!(!p.plan.is_empty());
    assert_eq!(
        pr_check_run(&p.changes, HEAD_SHA, SLUG).conclusion,
        CheckConclusion::Failure
    );
    insta::assert_snapshot!("dropped_exception_review_body", p.plan.body);
}

#[test]
fn an_arg_defaulted_from_is_fixed_by_a_suggestion_on_the_arg_line() {
    let base = "# syntax=docker/dockerfile:1.7\r\nARG NODE_VERSION=22.12.0\r\n\r\nFROM node:${NODE_VERSION}-alpine AS build\r\nRUN npm ci\r\n\r\nFROM nginx:1.27-alpine\r\nUSER nginx\r\n";
    let head = base.replace("NODE_VERSION=22.12.0", "NODE_VERSION=16.20.2");
    let p = pull(&[(WEB, base)], &[(WEB, &head)]);
    let eol = p
        .changes
        .introduced
        .iter()
        .position(|c| c.finding.rule == RuleId::EolBaseImage)
        .expect("the end-of-life image is new");
    assert_eq!(p.changes.introduced[eol].finding.line, 4);
    // The comment sits where the edit is (the ARG line), not on the FROM line.
    let comment = p
        .plan
        .comments
        .iter()
        .find(|c| c.body.contains("eol-base-image|"))
        .expect("a comment on the end-of-life image");
    assert_eq!((comment.line, comment.start_line), (2, None));
    let s = suggestion_in(&comment.body, comment.line, comment.start_line);
    assert!(s.lines.starts_with("ARG NODE_VERSION="), "{s:?}");
    let accepted = apply_suggestion(&p.head[WEB], &s).unwrap();
    // The CRLF line endings survive.
    assert_eq!(
        accepted.matches("\r\n").count(),
        head.matches("\r\n").count()
    );
    let mut fixed_head = p.head.clone();
    fixed_head.insert(WEB.to_string(), accepted);
    let after = scan(&fixed_head);
    assert!(
        !after
            .findings
            .iter()
            .any(|f| f.rule == RuleId::EolBaseImage),
        "{:#?}",
        after.findings
    );
}

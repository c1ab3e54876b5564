//! `POST /webhook` end to end through the real router, on real databases, with GitHub's own
//! example payloads (`@octokit/webhooks-examples`, installed by `scripts/test-deps.sh`).

mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use patchwright::service::jobs::{JobKind, ScanReason};
use patchwright::service::router;
use patchwright::service::webhook::body::BodyLimits;
use patchwright::service::webhook::event::{self, Event, InstallationAction, PullRequestAction};
use patchwright::store::fix_prs::{self, FixPrState, OpenedFixPr};
use patchwright::store::installations::{self, RepositoryUpsert};
use patchwright::store::{Store, deliveries};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::audit;
use support::jobs::{self, JobState};
use support::{BOT, ManualClock, TestDbRef, each_backend, example, examples, signed_request};
use tokio::sync::watch;
use tower::ServiceExt;

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn app(db: &TestDbRef) -> Router {
    router(support::app_state(
        db.store.clone(),
        ManualClock::at("2026-02-01T10:00:00Z"),
    ))
}

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// Counts of what intake can write.
async fn written(store: &Store) -> (usize, i64, usize) {
    let jobs = jobs::all(store.pool()).await.unwrap().len();
    let deliveries = deliveries::count(store.pool()).await.unwrap();
    let audit = audit::all(store.pool()).await.unwrap().len();
    (jobs, deliveries, audit)
}

/// GitHub's example of a push to the default branch through an app installation.
fn default_branch_push() -> Value {
    example("push", |e| {
        e["ref"] == "refs/heads/master" && e["installation"].is_object()
    })
}

#[tokio::test]
async fn pushes_while_a_scan_waits_join_it() {
    each_backend(|db| async move {
        let app = app(&db);
        let push = default_branch_push();
        let (status, _) = send(&app, signed_request("push", "m-1", body(&push))).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let mut later = push.clone();
        later["after"] = json!("1111111111111111111111111111111111111111");
        let (status, text) = send(&app, signed_request("push", "m-2", body(&later))).await;
        // The waiting scan reads the branch when it runs, so it covers this push too.
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(jobs::all(db.store.pool()).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_signed_push_to_the_default_branch_stores_one_scan_job_then_answers_202() {
    each_backend(|db| async move {
        let app = app(&db);
        let push = default_branch_push();
        let (status, text) = send(&app, signed_request("push", "d-1", body(&push))).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{text}");

        let all = jobs::all(db.store.pool()).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(text, format!("queued job {}", all[0].id));
        let row = &all[0];
        assert_eq!(row.state, JobState::Queued);
        assert_eq!(row.delivery_id.as_deref(), Some("d-1"));
        assert_eq!(row.repository_id, push["repository"]["id"].as_i64());
        assert_eq!(
            row.concurrency_key,
            Some(format!("repo:{}", push["repository"]["id"]))
        );
        let JobKind::Scan(scan) = JobKind::from_stored(&row.kind, &row.payload).unwrap() else {
            panic!("not a scan: {}", row.kind)
        };
        assert_eq!(scan.head_sha.as_deref(), push["after"].as_str());
        assert_eq!(
            scan.repository.full_name,
            push["repository"]["full_name"].as_str().unwrap()
        );
        assert_eq!(
            scan.installation_id,
            push["installation"]["id"].as_i64().unwrap()
        );
        assert_eq!(
            scan.reason,
            ScanReason::Push {
                git_ref: "refs/heads/master".into()
            }
        );

        let repo = installations::repository(db.store.pool(), row.repository_id.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(repo.default_branch.as_deref(), Some("master"));
        let d = deliveries::get(db.store.pool(), "d-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((d.event.as_str(), d.outcome.as_str()), ("push", "queued"));
    })
    .await;
}

#[tokio::test]
async fn a_bad_or_missing_signature_is_401_and_writes_nothing() {
    each_backend(|db| async move {
        let app = app(&db);
        let payload = body(&default_branch_push());

        let mut forged = signed_request("push", "d-1", payload.clone());
        forged.headers_mut().insert(
            "x-hub-signature-256",
            patchwright::service::webhook::signature::sign(b"not the secret", &payload)
                .parse()
                .unwrap(),
        );
        let (status, text) = send(&app, forged).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(text, "X-Hub-Signature-256 does not match the body");

        let mut unsigned = signed_request("push", "d-2", payload.clone());
        unsigned.headers_mut().remove("x-hub-signature-256");
        let (status, text) = send(&app, unsigned).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(text, "missing X-Hub-Signature-256 header");

        // A body changed after signing.
        let mut tampered = payload.clone();
        tampered.extend_from_slice(b" ");
        let mut req = signed_request("push", "d-3", payload);
        *req.body_mut() = Body::from(tampered);
        assert_eq!(send(&app, req).await.0, StatusCode::UNAUTHORIZED);

        assert_eq!(written(&db.store).await, (0, 0, 0));
    })
    .await;
}

#[tokio::test]
async fn a_redelivery_answers_duplicate_and_stores_nothing_new() {
    each_backend(|db| async move {
        let app = app(&db);
        let payload = body(&default_branch_push());
        let (status, _) = send(&app, signed_request("push", "same-id", payload.clone())).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let (status, text) = send(&app, signed_request("push", "same-id", payload)).await;
        assert_eq!((status, text.as_str()), (StatusCode::OK, "duplicate"));
        assert_eq!(written(&db.store).await, (1, 1, 0));
    })
    .await;
}

#[tokio::test]
async fn a_body_over_25_mib_is_413_and_writes_nothing() {
    each_backend(|db| async move {
        let app = app(&db);
        let mut big = body(&default_branch_push());
        big.resize(patchwright::service::webhook::MAX_BODY_BYTES + 1, b' ');
        let (status, _) = send(&app, signed_request("push", "big", big)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(written(&db.store).await, (0, 0, 0));
        let text = metrics_text(&app).await;
        assert!(
            text.contains(
                "patchwright_webhooks_total{event=\"unverified\",outcome=\"too_large\"} 1"
            ),
            "413s are counted: {text}"
        );

        // Exactly at the cap is accepted (JSON allows trailing whitespace).
        let mut at_cap = body(&default_branch_push());
        at_cap.resize(patchwright::service::webhook::MAX_BODY_BYTES, b' ');
        let (status, text) = send(&app, signed_request("push", "at-cap", at_cap)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    })
    .await;
}

#[tokio::test]
async fn pushes_elsewhere_are_ignored_with_a_reason_and_no_job() {
    each_backend(|db| async move {
        let app = app(&db);
        let tag = example("push", |e| {
            e["ref"] == "refs/tags/simple-tag" && e["deleted"] == false
        });
        let mut tag = tag;
        tag["installation"] = json!({ "id": 1 });
        let (status, text) = send(&app, signed_request("push", "tag", body(&tag))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            text,
            "ignored: push to refs/tags/simple-tag is not to the default branch `master`"
        );

        let mut branch = default_branch_push();
        branch["ref"] = json!("refs/heads/feature");
        let (_, text) = send(&app, signed_request("push", "branch", body(&branch))).await;
        assert_eq!(
            text,
            "ignored: push to refs/heads/feature is not to the default branch `master`"
        );

        let no_app = example("push", |e| e["installation"].is_null());
        let (_, text) = send(&app, signed_request("push", "repo-hook", body(&no_app))).await;
        assert_eq!(
            text,
            "ignored: push not delivered through an app installation"
        );

        let (jobs, deliveries, _) = written(&db.store).await;
        assert_eq!((jobs, deliveries), (0, 3));
        let d = deliveries::get(db.store.pool(), "branch")
            .await
            .unwrap()
            .unwrap();
        assert!(
            d.outcome.starts_with("ignored: push to refs/heads/feature"),
            "{}",
            d.outcome
        );
    })
    .await;
}

#[tokio::test]
async fn installing_tracks_repositories_and_scans_each_uninstalling_cancels() {
    each_backend(|db| async move {
        let app = app(&db);
        let created = example("installation", |e| e["action"] == "created");
        let installation_id = created["installation"]["id"].as_i64().unwrap();
        let repos = created["repositories"].as_array().unwrap().clone();
        let (status, _) = send(&app, signed_request("installation", "i-1", body(&created))).await;
        assert_eq!(status, StatusCode::ACCEPTED);

        let pool = db.store.pool();
        let tracked = installations::active_repositories(pool, installation_id)
            .await
            .unwrap();
        let mut expected: Vec<&str> = repos
            .iter()
            .map(|r| r["full_name"].as_str().unwrap())
            .collect();
        expected.sort();
        assert_eq!(
            tracked
                .iter()
                .map(|r| r.full_name.as_str())
                .collect::<Vec<_>>(),
            expected
        );
        let queued = jobs::all(pool).await.unwrap();
        assert_eq!(queued.len(), repos.len());
        for row in &queued {
            let JobKind::Scan(scan) = JobKind::from_stored(&row.kind, &row.payload).unwrap() else {
                panic!("{}", row.kind)
            };
            assert_eq!(scan.reason, ScanReason::Installed);
            assert_eq!(scan.head_sha, None);
        }
        let trail = audit::all(pool).await.unwrap();
        assert_eq!(trail.len(), 1);
        assert_eq!(trail[0].action, "installation.created");
        assert_eq!(trail[0].delivery_id.as_deref(), Some("i-1"));

        // Uninstalling: repositories removed, the scans nobody can run any more cancelled.
        let mut deleted = example("installation", |e| e["action"] == "deleted");
        deleted["installation"]["id"] = json!(installation_id);
        let (status, text) =
            send(&app, signed_request("installation", "i-2", body(&deleted))).await;
        assert_eq!((status, text.as_str()), (StatusCode::OK, "recorded"));
        assert!(
            installations::active_repositories(pool, installation_id)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            jobs::all(pool)
                .await
                .unwrap()
                .iter()
                .all(|j| j.state == JobState::Cancelled)
        );
        let i = installations::installation(pool, installation_id)
            .await
            .unwrap()
            .unwrap();
        assert!(i.deleted_at.is_some());
    })
    .await;
}

#[tokio::test]
async fn repositories_added_are_scanned_and_removed_ones_untracked() {
    each_backend(|db| async move {
        let app = app(&db);
        let added = example("installation_repositories", |e| e["action"] == "added");
        let (status, _) = send(
            &app,
            signed_request("installation_repositories", "r-1", body(&added)),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let pool = db.store.pool();
        let id = added["repositories_added"][0]["id"].as_i64().unwrap();
        assert!(installations::repository(pool, id).await.unwrap().is_some());
        assert_eq!(jobs::all(pool).await.unwrap().len(), 1);

        let mut removed = example("installation_repositories", |e| e["action"] == "removed");
        removed["installation"] = added["installation"].clone();
        removed["repositories_removed"] = added["repositories_added"].clone();
        let (status, text) = send(
            &app,
            signed_request("installation_repositories", "r-2", body(&removed)),
        )
        .await;
        assert_eq!((status, text.as_str()), (StatusCode::OK, "recorded"));
        let repo = installations::repository(pool, id).await.unwrap().unwrap();
        assert!(repo.removed_at.is_some());
        let actions: Vec<String> = audit::all(pool)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.action)
            .collect();
        assert_eq!(actions, vec!["repositories.added", "repositories.removed"]);
    })
    .await;
}

/// GitHub's example of a closed pull request, turned into one the app opened.
fn closed_bot_pr(merged: bool, sender: (&str, &str)) -> Value {
    let mut pr = example("pull_request", |e| {
        e["action"] == "closed" && e["installation"].is_object()
    });
    pr["pull_request"]["user"]["login"] = json!(BOT);
    pr["pull_request"]["user"]["type"] = json!("Bot");
    pr["pull_request"]["merged"] = json!(merged);
    pr["sender"]["login"] = json!(sender.0);
    pr["sender"]["type"] = json!(sender.1);
    pr
}

async fn seed_fix_pr(store: &Store, pr: &Value) -> (i64, i64) {
    let pool = store.pool();
    let repo_id = pr["repository"]["id"].as_i64().unwrap();
    let number = pr["number"].as_i64().unwrap();
    let now = "2026-01-31T09:00:00Z".parse().unwrap();
    installations::upsert_installation(pool, 1, "Codertocat", now)
        .await
        .unwrap();
    installations::upsert_repository(
        pool,
        &RepositoryUpsert {
            id: repo_id,
            installation_id: 1,
            full_name: pr["repository"]["full_name"].as_str().unwrap(),
            default_branch: Some("master"),
            private: Some(false),
        },
        now,
    )
    .await
    .unwrap();
    fix_prs::insert(
        pool,
        &OpenedFixPr {
            repository_id: repo_id,
            number,
            branch: pr["pull_request"]["head"]["ref"].as_str().unwrap(),
            fix_key: "npm:jsonwebtoken@9.0.0",
            head_sha: pr["pull_request"]["head"]["sha"].as_str().unwrap(),
        },
        now,
    )
    .await
    .unwrap();
    (repo_id, number)
}

#[tokio::test]
async fn a_fix_pr_closed_by_a_person_is_remembered_as_declined() {
    each_backend(|db| async move {
        let app = app(&db);
        let pr = closed_bot_pr(false, ("Codertocat", "User"));
        let (repo, number) = seed_fix_pr(&db.store, &pr).await;
        let (status, text) = send(&app, signed_request("pull_request", "p-1", body(&pr))).await;
        assert_eq!((status, text.as_str()), (StatusCode::OK, "recorded"));
        let pool = db.store.pool();
        let row = fix_prs::get(pool, repo, number).await.unwrap().unwrap();
        assert_eq!((row.state, row.closed_by_human), (FixPrState::Closed, true));
        assert!(
            fix_prs::declined(pool, repo, "npm:jsonwebtoken@9.0.0")
                .await
                .unwrap()
        );
        let trail = audit::all(pool).await.unwrap();
        assert_eq!(trail.len(), 1);
        assert_eq!(trail[0].action, "fix_pr.closed_by_human");
        assert!(
            trail[0].reason.contains("closed unmerged by Codertocat"),
            "{}",
            trail[0].reason
        );
        assert_eq!(written(&db.store).await.0, 0, "closing a PR queues no job");
    })
    .await;
}

#[tokio::test]
async fn a_merged_fix_pr_records_the_remediation_and_a_bot_close_is_not_a_no() {
    each_backend(|db| async move {
        let app = app(&db);
        let merged = closed_bot_pr(true, ("Codertocat", "User"));
        let (repo, number) = seed_fix_pr(&db.store, &merged).await;
        let (_, text) = send(&app, signed_request("pull_request", "p-1", body(&merged))).await;
        assert_eq!(text, "recorded");
        let pool = db.store.pool();
        let row = fix_prs::get(pool, repo, number).await.unwrap().unwrap();
        assert_eq!(
            (row.state, row.closed_by_human),
            (FixPrState::Merged, false)
        );
        assert_eq!(audit::all(pool).await.unwrap()[0].action, "fix_pr.merged");

        // The bot closing its own (superseded) PR does not block the fix.
        let by_bot = closed_bot_pr(false, (BOT, "Bot"));
        let (_, text) = send(&app, signed_request("pull_request", "p-2", body(&by_bot))).await;
        assert_eq!(text, "recorded");
        let row = fix_prs::get(pool, repo, number).await.unwrap().unwrap();
        assert_eq!(
            (row.state, row.closed_by_human),
            (FixPrState::Closed, false)
        );
        assert!(
            !fix_prs::declined(pool, repo, "npm:jsonwebtoken@9.0.0")
                .await
                .unwrap()
        );
    })
    .await;
}

#[tokio::test]
async fn pull_requests_the_bot_did_not_open_or_does_not_know_are_ignored() {
    each_backend(|db| async move {
        let app = app(&db);
        let human = example("pull_request", |e| {
            e["action"] == "closed" && e["installation"].is_object()
        });
        let (status, text) = send(&app, signed_request("pull_request", "p-1", body(&human))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            text,
            "ignored: pull request #2 was opened by Codertocat, not patchwright[bot]"
        );

        let unknown = closed_bot_pr(false, ("Codertocat", "User"));
        let (_, text) = send(&app, signed_request("pull_request", "p-2", body(&unknown))).await;
        assert_eq!(
            text,
            "ignored: pull request #2 in Codertocat/Hello-World is not a fix PR this app recorded"
        );
        let d = deliveries::get(db.store.pool(), "p-2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            d.outcome, text,
            "the stored outcome follows what the store showed"
        );

        let labeled = example("pull_request", |e| e["action"] == "labeled");
        let (_, text) = send(&app, signed_request("pull_request", "p-3", body(&labeled))).await;
        assert_eq!(text, "ignored: pull_request action `labeled`");
    })
    .await;
}

#[tokio::test]
async fn opened_synchronized_and_reopened_pull_requests_become_reviews() {
    each_backend(|db| async move {
        let app = app(&db);
        let mut delivered = 0;
        for action in ["opened", "synchronize", "reopened"] {
            let mut payload = example("pull_request", |e| e["action"] == "opened");
            payload["action"] = json!(action);
            payload["installation"] = json!({ "id": 77 });
            payload["pull_request"]["head"]["sha"] = json!(format!("{:0>40}", delivered + 1));
            let delivery = format!("r-{action}");
            let (status, _) = send(
                &app,
                signed_request("pull_request", &delivery, body(&payload)),
            )
            .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{action}");
            delivered += 1;
            let all = jobs::all(db.store.pool()).await.unwrap();
            assert_eq!(all.len(), delivered);
            let last = all.iter().max_by_key(|j| j.id).unwrap();
            let JobKind::Review(r) = JobKind::from_stored(&last.kind, &last.payload).unwrap()
            else {
                panic!("{action} stored a {} job", last.kind)
            };
            assert_eq!(r.number, payload["number"].as_i64().unwrap());
            assert_eq!(r.head_sha, format!("{:0>40}", delivered));
            assert_eq!(
                r.base_ref,
                payload["pull_request"]["base"]["ref"].as_str().unwrap()
            );
            assert_eq!(
                r.author,
                payload["pull_request"]["user"]["login"].as_str().unwrap()
            );
        }

        let mut outside = example("pull_request", |e| e["action"] == "opened");
        outside.as_object_mut().unwrap().remove("installation");
        let (status, text) =
            send(&app, signed_request("pull_request", "r-x", body(&outside))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            text,
            "ignored: pull request not delivered through an app installation"
        );
    })
    .await;
}

#[tokio::test]
async fn comments_become_jobs_unless_a_bot_wrote_them() {
    each_backend(|db| async move {
        let app = app(&db);
        let mut comment = example("issue_comment", |e| {
            e["action"] == "created" && e["installation"].is_object()
        });
        // Talk between people is not a job: only a comment with a command is stored.
        comment["comment"]["body"] = json!("Looks good to me, thanks @patchwright!");
        let (status, text) =
            send(&app, signed_request("issue_comment", "c-0", body(&comment))).await;
        assert_eq!(
            (status, text.as_str()),
            (
                StatusCode::OK,
                "ignored: comment without a command for @patchwright"
            )
        );
        assert!(jobs::all(db.store.pool()).await.unwrap().is_empty());

        comment["comment"]["body"] = json!("Thanks!\n\n@patchwright rescan");
        let (status, _) = send(&app, signed_request("issue_comment", "c-1", body(&comment))).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let all = jobs::all(db.store.pool()).await.unwrap();
        assert_eq!(all.len(), 1);
        let JobKind::Comment(c) = JobKind::from_stored(&all[0].kind, &all[0].payload).unwrap()
        else {
            panic!("{}", all[0].kind)
        };
        assert_eq!(c.body, comment["comment"]["body"].as_str().unwrap());
        assert_eq!(
            c.author,
            comment["comment"]["user"]["login"].as_str().unwrap()
        );
        assert_eq!(c.issue_number, comment["issue"]["number"].as_i64().unwrap());

        let mut by_bot = comment.clone();
        by_bot["comment"]["user"]["login"] = json!(BOT);
        by_bot["comment"]["user"]["type"] = json!("Bot");
        let (status, text) =
            send(&app, signed_request("issue_comment", "c-2", body(&by_bot))).await;
        assert_eq!(
            (status, text.as_str()),
            (
                StatusCode::OK,
                "ignored: comment by the bot patchwright[bot]"
            )
        );

        let mut edited = comment.clone();
        edited["action"] = json!("edited");
        let (_, text) = send(&app, signed_request("issue_comment", "c-3", body(&edited))).await;
        assert_eq!(text, "ignored: issue_comment action `edited`");
        assert_eq!(jobs::all(db.store.pool()).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn ping_other_events_and_unparseable_bodies() {
    each_backend(|db| async move {
        let app = app(&db);
        let ping = &examples("ping")[0];
        let (status, text) = send(&app, signed_request("ping", "x-1", body(ping))).await;
        assert_eq!((status, text.as_str()), (StatusCode::OK, "pong"));

        let star = &examples("star")[0];
        let (status, text) = send(&app, signed_request("star", "x-2", body(star))).await;
        assert_eq!(
            (status, text.as_str()),
            (StatusCode::OK, "ignored: event `star` is not handled")
        );

        // Signed but not the shape GitHub sends: 400, nothing stored.
        let (status, text) = send(
            &app,
            signed_request("push", "x-3", b"{\"ref\": 1}".to_vec()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(text.starts_with("`push` payload does not parse"), "{text}");

        let mut no_delivery = signed_request("push", "x-4", body(ping));
        no_delivery.headers_mut().remove("x-github-delivery");
        assert_eq!(send(&app, no_delivery).await.0, StatusCode::BAD_REQUEST);

        assert_eq!(written(&db.store).await, (0, 2, 0));
    })
    .await;
}

#[tokio::test]
async fn every_example_payload_of_the_handled_events_parses_to_its_facts() {
    let mut seen = 0;
    for e in examples("ping") {
        let Event::Ping { zen, hook_id } = event::parse("ping", &body(&e)).unwrap() else {
            panic!()
        };
        assert_eq!(zen, e["zen"].as_str().unwrap());
        assert_eq!(hook_id, e["hook_id"].as_i64());
        seen += 1;
    }
    for e in examples("installation") {
        let Event::Installation {
            action,
            installation,
            repositories,
        } = event::parse("installation", &body(&e)).unwrap()
        else {
            panic!()
        };
        assert_eq!(installation.id, e["installation"]["id"].as_i64().unwrap());
        assert_eq!(
            installation.account_login,
            e["installation"]["account"]["login"].as_str().unwrap()
        );
        assert_eq!(
            repositories.len(),
            e["repositories"].as_array().map_or(0, Vec::len)
        );
        if e["action"] == "created" {
            assert_eq!(action, InstallationAction::Created);
        }
        seen += 1;
    }
    for e in examples("installation_repositories") {
        let Event::InstallationRepositories { added, removed, .. } =
            event::parse("installation_repositories", &body(&e)).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            added.len(),
            e["repositories_added"].as_array().unwrap().len()
        );
        assert_eq!(
            removed.len(),
            e["repositories_removed"].as_array().unwrap().len()
        );
        seen += 1;
    }
    for e in examples("push") {
        let Event::Push(p) = event::parse("push", &body(&e)).unwrap() else {
            panic!()
        };
        assert_eq!(p.git_ref, e["ref"].as_str().unwrap());
        assert_eq!(p.after, e["after"].as_str().unwrap());
        assert_eq!(p.deleted, e["deleted"].as_bool().unwrap());
        assert_eq!(
            p.default_branch,
            e["repository"]["default_branch"].as_str().unwrap()
        );
        assert_eq!(p.installation_id, e["installation"]["id"].as_i64());
        assert_eq!(
            p.is_to_default_branch(),
            e["ref"] == "refs/heads/master" && e["deleted"] == false
        );
        seen += 1;
    }
    for e in examples("pull_request") {
        let Event::PullRequest(p) = event::parse("pull_request", &body(&e)).unwrap() else {
            panic!()
        };
        assert_eq!(p.number, e["number"].as_i64().unwrap());
        assert_eq!(
            p.merged,
            e["pull_request"]["merged"].as_bool().unwrap_or(false)
        );
        assert_eq!(
            p.head_ref,
            e["pull_request"]["head"]["ref"].as_str().unwrap()
        );
        assert_eq!(
            p.author.login,
            e["pull_request"]["user"]["login"].as_str().unwrap()
        );
        assert_eq!(
            p.action == PullRequestAction::Closed,
            e["action"] == "closed"
        );
        seen += 1;
    }
    for e in examples("issue_comment") {
        let Event::IssueComment(c) = event::parse("issue_comment", &body(&e)).unwrap() else {
            panic!()
        };
        assert_eq!(c.comment_id, e["comment"]["id"].as_i64().unwrap());
        assert_eq!(c.is_pull_request, e["issue"]["pull_request"].is_object());
        assert_eq!(c.author.is_bot, e["comment"]["user"]["type"] == "Bot");
        seen += 1;
    }
    // 4 ping + 7 installation + 3 installation_repositories + 7 push + 29 pull_request + 9 issue_comment
    assert_eq!(seen, 59);
}

#[tokio::test]
async fn every_example_of_the_handled_events_goes_through_the_router() {
    each_backend(|db| async move {
        let app = app(&db);
        let mut n = 0;
        for name in [
            "ping",
            "installation",
            "installation_repositories",
            "push",
            "pull_request",
            "issue_comment",
        ] {
            for e in examples(name) {
                n += 1;
                let (status, text) =
                    send(&app, signed_request(name, &format!("ex-{n}"), body(&e))).await;
                assert!(
                    status == StatusCode::OK || status == StatusCode::ACCEPTED,
                    "{name} example {n}: {status} {text}"
                );
            }
        }
        assert_eq!(deliveries::count(db.store.pool()).await.unwrap(), n);
    })
    .await;
}

#[tokio::test]
async fn healthz_and_metrics() {
    each_backend(|db| async move {
        let app = app(&db);
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        assert_eq!(
            send(&app, get("/healthz")).await,
            (StatusCode::OK, "ok".to_string())
        );

        send(
            &app,
            signed_request("push", "m-1", body(&default_branch_push())),
        )
        .await;
        send(
            &app,
            signed_request("push", "m-1", body(&default_branch_push())),
        )
        .await;
        let mut forged = signed_request("push", "m-2", b"{}".to_vec());
        forged.headers_mut().remove("x-hub-signature-256");
        send(&app, forged).await;
        // Signed events the service does not handle share one label, whatever their name.
        let star = body(&examples("star")[0]);
        send(&app, signed_request("star", "m-3", star.clone())).await;
        send(&app, signed_request("made-up-event-1", "m-4", star.clone())).await;
        send(&app, signed_request("made-up-event-2", "m-5", star)).await;

        let res = app.clone().oneshot(get("/metrics")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/openmetrics-text")
        );
        let text = String::from_utf8(
            axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap()
                .to_vec(),
        )
        .unwrap();
        assert!(!text.contains("made-up-event"), "{text}");
        for line in [
            "patchwright_webhooks_total{event=\"push\",outcome=\"queued\"} 1",
            "patchwright_webhooks_total{event=\"push\",outcome=\"duplicate\"} 1",
            "patchwright_webhooks_total{event=\"unverified\",outcome=\"unauthorized\"} 1",
            "patchwright_webhooks_total{event=\"other\",outcome=\"ignored\"} 3",
            "patchwright_job_queue{state=\"queued\"} 1",
            "patchwright_job_queue{state=\"running\"} 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    })
    .await;
}

/// Reads until the server closes the connection; what it sent, and how long that took.
async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> (String, Duration) {
    use tokio::io::AsyncReadExt;
    let started = std::time::Instant::now();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut got))
        .await
        .expect("the server never closed the connection")
        .ok();
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn slow_clients_are_disconnected_after_the_read_timeout() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let mut config = support::serve_config(dir.path());
    config.read_timeout = Duration::from_secs(1);
    let s = support::serve(config).await;

    // Half a header, then nothing.
    let mut half = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    half.write_all(b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Ev")
        .await
        .unwrap();
    // Connected, never a byte.
    let mut silent = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    // Whole headers, part of the body, then nothing.
    let mut trickle = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let sig = patchwright::service::webhook::signature::sign(b"x", b"");
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nX-Hub-Signature-256: {sig}\r\n\r\n{{\"zen\""
    );
    trickle.write_all(head.as_bytes()).await.unwrap();

    for stream in [&mut half, &mut silent] {
        let (_, took) = read_until_closed(stream).await;
        assert!(took < Duration::from_secs(5), "held for {took:?}");
    }
    let (answer, took) = read_until_closed(&mut trickle).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took < Duration::from_secs(5), "held for {took:?}");

    s.stop.send(()).unwrap();
    s.server.await.unwrap().unwrap();
}

#[tokio::test]
async fn shutdown_ends_within_the_grace_period_whatever_a_slow_client_does() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let mut config = support::serve_config(dir.path());
    config.read_timeout = Duration::from_secs(120);
    config.shutdown_grace = Duration::from_secs(1);
    let s = support::serve(config).await;

    // A request in progress whose body never finishes, and a connection mid-header.
    let mut trickle = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let sig = patchwright::service::webhook::signature::sign(b"x", b"");
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nX-Hub-Signature-256: {sig}\r\n\r\n{{"
    );
    trickle.write_all(head.as_bytes()).await.unwrap();
    let mut half = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    half.write_all(b"GET /livez HTTP/1.1\r\nHo").await.unwrap();
    // Both are being read by the server before the stop.
    assert_eq!(
        support::http(s.addr, "GET", "/livez", &[], b"").await,
        (200, "alive".to_string())
    );

    let asked = std::time::Instant::now();
    s.stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), s.server)
        .await
        .expect("serve kept running after the grace period")
        .unwrap()
        .unwrap();
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(3), "stopping took {took:?}");
    for stream in [&mut trickle, &mut half] {
        let (_, after) = read_until_closed(stream).await;
        assert!(after < Duration::from_secs(1), "left open");
    }
}

#[tokio::test]
async fn connections_past_the_limit_wait_for_a_free_slot() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let mut config = support::serve_config(dir.path());
    config.max_connections = 2;
    config.read_timeout = Duration::from_secs(120);
    let s = support::serve(config).await;

    let first = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let _second = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    third
        .write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let early = tokio::time::timeout(Duration::from_millis(500), async {
        use tokio::io::AsyncReadExt;
        let mut byte = [0u8; 1];
        third.read(&mut byte).await
    })
    .await;
    assert!(
        early.is_err(),
        "a third connection was served past the limit of 2"
    );
    drop(first);
    let (answer, _) = read_until_closed(&mut third).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    s.stop.send(()).unwrap();
    s.server.await.unwrap().unwrap();
}

#[tokio::test]
async fn serve_on_a_real_socket_runs_the_job_and_shuts_down_cleanly() {
    use support::{SECRET, http};

    let dir = tempfile::tempdir().unwrap();
    let db_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("serve.db").display()
    );
    let support::Served {
        addr,
        handler,
        stop,
        server,
    } = support::serve(support::serve_config(dir.path())).await;

    let payload = body(&default_branch_push());
    let headers = [
        ("X-GitHub-Event", "push".to_string()),
        ("X-GitHub-Delivery", "live-1".to_string()),
        (
            "X-Hub-Signature-256",
            patchwright::service::webhook::signature::sign(SECRET.as_bytes(), &payload),
        ),
    ];
    let (status, text) = http(addr, "POST", "/webhook", &headers, &payload).await;
    assert_eq!(status, 202, "{text}");
    assert_eq!(
        http(addr, "GET", "/healthz", &[], b"").await,
        (200, "ok".to_string())
    );

    // The intake's wake starts the job; no poll interval passes in this test.
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while handler.calls.lock().unwrap().is_empty() {
            handler.started.notified().await;
        }
    })
    .await
    .expect("the job never ran");

    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(20), server)
        .await
        .expect("serve did not stop")
        .unwrap()
        .unwrap();
    let store = Store::connect(&db_url).await.unwrap();
    let all = jobs::all(store.pool()).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].state, JobState::Succeeded);
    store.close().await;
}

/// Backends connected to the database `store` is on, other than the asking one.
async fn backends(store: &Store) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_one(store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn on_postgresql_the_intake_pool_is_open_before_the_first_request_is_served() {
    use support::{SECRET, http};

    let Some(db) = support::TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    std::fs::write(&key, "not a real key; serve only checks that it exists").unwrap();
    let workers = 2;
    let toml = format!(
        "app-id = 1\napp-slug = \"patchwright\"\nprivate-key-path = {key:?}\nworkers = {workers}\n"
    );
    let env = |var: &str| match var {
        "PATCHWRIGHT_WEBHOOK_SECRET" => Some(SECRET.to_string()),
        "DATABASE_URL" => Some(db.url.clone()),
        _ => None,
    };
    let config =
        patchwright::service::config::ServiceConfig::from_sources("config.toml", Some(&toml), env)
            .unwrap();
    let before = backends(&db.store).await;
    let served = support::serve(config).await;

    // The listener is bound before `serve_on` runs: this request waits in its backlog until
    // the server loop accepts it, so its answer comes after whatever preceded that loop.
    assert_eq!(http(served.addr, "GET", "/livez", &[], b"").await.0, 200);
    let opened = backends(&db.store).await - before;
    // `serve` sizes both pools at workers + 4; the tested one opens one connection at least.
    let intake = workers + 4;
    assert!(
        opened > intake,
        "{opened} connections open when the first request is served: the intake pool's \
         {intake} are opened on demand, by the first deliveries"
    );

    served.stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), served.server)
        .await
        .expect("serve did not stop")
        .unwrap()
        .unwrap();
    db.cleanup().await;
}

// ---------------------------------------------------------------- hostile bodies

/// A body of `len` spaces made only as the server reads it, counting what it read into
/// `pulled`. With a `gate`, it stops after its first chunk until the gate opens.
fn lazy_body(len: usize, pulled: Arc<AtomicUsize>, gate: Option<watch::Receiver<bool>>) -> Body {
    static CHUNK: [u8; 64 * 1024] = [b' '; 64 * 1024];
    let stream = futures_util::stream::unfold((0usize, gate), move |(sent, mut gate)| {
        let pulled = Arc::clone(&pulled);
        async move {
            if sent >= len {
                return None;
            }
            if sent > 0 {
                if let Some(g) = gate.as_mut() {
                    let _ = g.wait_for(|open| *open).await;
                }
            }
            let n = CHUNK.len().min(len - sent);
            pulled.fetch_add(n, Ordering::SeqCst);
            let chunk = axum::body::Bytes::from_static(&CHUNK[..n]);
            Some((Ok::<_, std::io::Error>(chunk), (sent + n, gate)))
        }
    });
    Body::from_stream(stream)
}

fn streamed_request(len: usize, signature: Option<&str>, body: Body) -> Request<Body> {
    let mut req = Request::post("/webhook")
        .header("x-github-event", "push")
        .header("x-github-delivery", uuid::Uuid::new_v4().to_string())
        .header("content-length", len.to_string());
    if let Some(sig) = signature {
        req = req.header("x-hub-signature-256", sig);
    }
    req.body(body).unwrap()
}

async fn metrics_text(app: &Router) -> String {
    let get = Request::get("/metrics").body(Body::empty()).unwrap();
    send(app, get).await.1
}

#[tokio::test]
async fn many_large_unsigned_bodies_are_refused_without_reading_them() {
    let db = support::TestDb::sqlite().await;
    let state = support::app_state_with_limits(
        db.store.clone(),
        ManualClock::at("2026-02-01T10:00:00Z"),
        BodyLimits::new(4 * 1024 * 1024, Duration::from_secs(10)),
    );
    let limits = Arc::clone(&state.body_limits);
    let app = router(state);
    let pulled = Arc::new(AtomicUsize::new(0));
    let len = 24 * 1024 * 1024 + 900 * 1024; // 24.9 MiB, under GitHub's cap
    let requests = (0..40).map(|_| {
        let req = streamed_request(len, None, lazy_body(len, Arc::clone(&pulled), None));
        let app = app.clone();
        tokio::spawn(async move { send(&app, req).await })
    });
    for answer in futures_util::future::join_all(requests).await {
        let (status, text) = answer.unwrap();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(text, "missing X-Hub-Signature-256 header");
    }
    assert_eq!(pulled.load(Ordering::SeqCst), 0, "no body byte was read");
    assert_eq!(limits.budget.peak(), 0, "nothing was held");
    assert!(
        metrics_text(&app).await.contains(
            "patchwright_webhooks_total{event=\"unverified\",outcome=\"unauthorized\"} 40"
        )
    );
    assert_eq!(written(&db.store).await, (0, 0, 0));
    db.cleanup().await;
}

#[tokio::test]
async fn forged_bodies_are_held_only_within_the_budget_and_the_rest_get_503() {
    let db = support::TestDb::sqlite().await;
    let mib = 1024 * 1024;
    let state = support::app_state_with_limits(
        db.store.clone(),
        ManualClock::at("2026-02-01T10:00:00Z"),
        BodyLimits::new(4 * mib, Duration::from_secs(10)),
    );
    let limits = Arc::clone(&state.body_limits);
    let app = router(state);
    let pulled = Arc::new(AtomicUsize::new(0));
    let (open, gate) = watch::channel(false);
    // Well-formed signatures that match nothing: only the whole body can tell.
    let forged = patchwright::service::webhook::signature::sign(b"not the secret", b"");
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let body = lazy_body(mib, Arc::clone(&pulled), Some(gate.clone()));
            let req = streamed_request(mib, Some(&forged), body);
            let app = app.clone();
            tokio::spawn(async move { send(&app, req).await })
        })
        .collect();
    // Six find the budget spent and are answered while the first four are still arriving.
    tokio::time::timeout(Duration::from_secs(10), async {
        while tasks.iter().filter(|t| t.is_finished()).count() < 6 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("six requests answered");
    assert_eq!(limits.budget.in_flight(), 4 * mib);
    open.send(true).unwrap();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().0);
    }
    statuses.sort();
    let mut expected = vec![StatusCode::UNAUTHORIZED; 4];
    expected.extend([StatusCode::SERVICE_UNAVAILABLE; 6]);
    assert_eq!(statuses, expected);
    assert_eq!(limits.budget.peak(), 4 * mib, "never more than the budget");
    assert_eq!(limits.budget.in_flight(), 0, "all released");
    assert!(pulled.load(Ordering::SeqCst) <= 4 * mib + 6 * 64 * 1024);

    let res = app
        .clone()
        .oneshot(streamed_request(
            5 * mib,
            Some(&forged),
            lazy_body(5 * mib, Arc::new(AtomicUsize::new(0)), None),
        ))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "5");
    let text = metrics_text(&app).await;
    assert!(
        text.contains("patchwright_webhooks_total{event=\"unverified\",outcome=\"busy\"} 7"),
        "{text}"
    );
    assert_eq!(written(&db.store).await, (0, 0, 0));
    db.cleanup().await;
}

// ---------------------------------------------------------------- readiness and liveness

async fn get(app: &Router, path: &str) -> (StatusCode, String) {
    send(app, Request::get(path).body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn readiness_needs_the_database_to_take_a_write_and_liveness_does_not() {
    each_backend(|db| async move {
        // One connection, so the session setting below holds for every query.
        let store = Store::connect_with(&db.url, 1).await.unwrap();
        let app = router(support::app_state(
            store.clone(),
            ManualClock::at("2026-02-01T10:00:00Z"),
        ));
        assert_eq!(get(&app, "/healthz").await, (StatusCode::OK, "ok".into()));
        let read_only = match db.backend {
            patchwright::store::Backend::Sqlite => "PRAGMA query_only = ON",
            patchwright::store::Backend::Postgres => {
                "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"
            }
        };
        sqlx::query(read_only).execute(store.pool()).await.unwrap();
        store.ping().await.expect("reads still work");
        assert_eq!(
            get(&app, "/healthz").await,
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database does not take writes".into()
            )
        );
        assert_eq!(get(&app, "/livez").await, (StatusCode::OK, "alive".into()));
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn readiness_is_bounded_when_sqlite_is_locked_by_another_writer() {
    let db = support::TestDb::sqlite().await;
    let app = router(support::app_state(
        db.store.clone(),
        ManualClock::at("2026-02-01T10:00:00Z"),
    ));
    // Another process holding the write lock: reads go on, writes wait.
    let mut other = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let (status, text) = get(&app, "/healthz").await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    assert_eq!(get(&app, "/healthz").await.0, StatusCode::OK);
    db.cleanup().await;
}

#[tokio::test]
async fn readiness_says_503_within_two_seconds_when_postgresql_is_gone() {
    let Some(db) = support::TestDb::postgres().await else {
        eprintln!("DATABASE_URL names no PostgreSQL server: skipped");
        return;
    };
    let relay = support::Relay::start(support::postgres_addr(&db.url)).await;
    let store = Store::connect(&relay.url_through(&db.url)).await.unwrap();
    let app = router(support::app_state(
        store,
        ManualClock::at("2026-02-01T10:00:00Z"),
    ));
    assert_eq!(get(&app, "/healthz").await, (StatusCode::OK, "ok".into()));

    relay.cut();
    let started = std::time::Instant::now();
    let (status, text) = get(&app, "/healthz").await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(get(&app, "/livez").await, (StatusCode::OK, "alive".into()));
    // The relayed pool hangs by design; only the test database is dropped.
    db.cleanup().await;
}

#[tokio::test]
async fn over_a_real_socket_an_unsigned_body_is_refused_before_it_is_sent() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let s = support::serve(support::serve_config(dir.path())).await;
    let mut client = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    // Headers announcing 24.9 MiB, no signature, and not one byte of the body.
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: big\r\nContent-Length: {}\r\n\r\n",
        24 * 1024 * 1024 + 900 * 1024
    );
    client.write_all(head.as_bytes()).await.unwrap();
    let (answer, took) = read_until_closed(&mut client).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer.ends_with("missing X-Hub-Signature-256 header"),
        "{answer}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
    s.stop.send(()).unwrap();
    s.server.await.unwrap().unwrap();
}

/// Deliveries for one repository do not queue behind each other's commit on PostgreSQL. A
/// push names its repository as it is already recorded; recording it again must not lock the
/// row, or every delivery for a busy repository would wait for the one before it to commit
/// (an fsync each), which was most of the acknowledgement's p99 under load.
#[tokio::test]
async fn a_push_does_not_wait_for_another_delivery_of_its_repository_to_commit() {
    let Some(db) = support::TestDb::postgres().await else {
        // tests/store.rs fails in CI when PostgreSQL is missing; locally, say so and stop.
        eprintln!("skipped: no PostgreSQL (set DATABASE_URL)");
        return;
    };
    let clock = ManualClock::at("2026-02-01T10:00:00Z");
    let app = router(support::app_state(db.store.clone(), clock));
    let push = default_branch_push();
    let (status, text) = send(&app, signed_request("push", "first", body(&push))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    let id = push["repository"]["id"].as_i64().unwrap();
    let known = installations::repository(db.store.pool(), id)
        .await
        .unwrap()
        .unwrap();

    // Another delivery of a push to it, in flight: its transaction has recorded the
    // repository, as it already was, and not committed yet.
    let mut in_flight = db.store.begin().await.unwrap();
    let same = RepositoryUpsert {
        id,
        installation_id: known.installation_id,
        full_name: &known.full_name,
        default_branch: known.default_branch.as_deref(),
        private: Some(known.private),
    };
    installations::upsert_repository(&mut *in_flight, &same, known.updated_at)
        .await
        .unwrap();
    let second = tokio::time::timeout(
        Duration::from_secs(5),
        send(&app, signed_request("push", "second", body(&push))),
    )
    .await;
    in_flight.rollback().await.unwrap();
    let (status, text) = second.expect("the second delivery waited for the first one to commit");
    assert_eq!(status, StatusCode::OK, "it joins the waiting scan: {text}");
    db.cleanup().await;
}

/// Intake takes its connections without sqlx's ping before use (a round trip per delivery).
/// A connection the server dropped while it sat idle must then cost a retry, not the
/// delivery: GitHub does not redeliver a 500 by itself.
#[tokio::test]
async fn a_delivery_on_a_connection_the_server_dropped_is_retried_and_stored() {
    let Some(db) = support::TestDb::postgres().await else {
        eprintln!("skipped: no PostgreSQL (set DATABASE_URL)");
        return;
    };
    let app = app(&TestDbRef {
        backend: db.backend,
        store: db.store.clone(),
        url: db.url.clone(),
    });
    let push = default_branch_push();
    let (status, text) = send(&app, signed_request("push", "before", body(&push))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    // Let the connection go back to its pool, then end every server process of the
    // database but this one, as a restart or an idle timeout on the server would.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!ended.is_empty(), "the intake pool held no connection");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut later = push.clone();
    later["after"] = json!("2222222222222222222222222222222222222222");
    let (status, text) = send(&app, signed_request("push", "after", body(&later))).await;
    assert!(status.is_success(), "{status}: {text}");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE id = 'after'")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(stored, 1);
    drop(admin);
    db.cleanup().await;
}

//! Feedback where developers work, end to end on the stateful fake GitHub: change-set reviews
//! with one-click suggestions, comment commands from people with and without write access,
//! accepted risks that expire, ignored updates, the tracking issue and CODEOWNERS.

#[path = "fake_github/mod.rs"]
mod fake_github;
mod support;
mod world;

use support::audit;
use world::{REPO, World, pull_payload, world};

const WORKER_DOCKERFILE: &str =
    "FROM node:16\nWORKDIR /app\nCOPY . .\nUSER node\nCMD [\"node\", \"index.js\"]\n";

/// A person pushes `files` to `branch` and opens a pull request from it; the webhook is
/// delivered and the jobs run. Returns the PR number.
async fn open_pull(w: &World, branch: &str, files: &[(&str, Option<&str>)]) -> u64 {
    w.github.push(REPO, branch, files, "octocat");
    let number = w
        .github
        .open_pull_by(REPO, branch, "main", "A change", "octocat");
    let status = w
        .deliver(
            "pull_request",
            &format!("pr-{number}-opened"),
            pull_payload("opened", &w.pull(number)),
        )
        .await;
    assert_eq!(status, 202);
    w.work().await;
    number
}

/// The check run patchwright left on `sha`, the latest if several.
fn check_on(w: &World, sha: &str) -> fake_github::CheckRunState {
    w.github
        .check_runs(REPO)
        .into_iter()
        .rfind(|c| c.head_sha == sha)
        .unwrap_or_else(|| panic!("no check run on {sha}"))
}

/// The lines inside the first ```suggestion block of a comment body.
fn suggested_lines(body: &str) -> String {
    let start = body.find("```suggestion\n").expect("a suggestion block") + "```suggestion\n".len();
    let end = body[start..]
        .find("```")
        .expect("a closed suggestion block")
        + start;
    body[start..end].to_string()
}

/// What GitHub's "Commit suggestion" button does: lines start..=end replaced.
fn apply(text: &str, start: u32, end: u32, replacement: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let n = i as u32 + 1;
        if n == start {
            out.push_str(replacement);
        }
        if n < start || n > end {
            out.push_str(line);
        }
    }
    out
}

#[tokio::test]
async fn a_pr_adding_node_16_fails_its_check_and_the_suggestion_fixes_it() {
    let w = world(4).await;
    let number = open_pull(
        &w,
        "worker",
        &[("worker/Dockerfile", Some(WORKER_DOCKERFILE))],
    )
    .await;
    let head = w.pull(number).head_sha;

    let check = check_on(&w, &head);
    assert_eq!(check.conclusion, "failure", "{}", check.summary);
    assert!(check.summary.contains("node:16"), "{}", check.summary);
    // What was on main before is not repeated here.
    assert!(!check.summary.contains("urllib3"), "{}", check.summary);

    let comments = w.github.review_comments(REPO, number);
    assert_eq!(
        comments.len(),
        1,
        "one comment per new blocker or warning: {comments:#?}"
    );
    let comment = &comments[0];
    assert_eq!(
        (comment.path.as_str(), comment.line),
        ("worker/Dockerfile", 1)
    );
    assert_eq!(comment.user, fake_github::BOT_LOGIN);
    assert!(comment.body.contains("eol-base-image"), "{}", comment.body);
    let suggestion = suggested_lines(&comment.body);
    assert!(suggestion.starts_with("FROM node:"), "{suggestion}");
    assert_eq!(w.github.reviews(REPO, number).len(), 1);

    // The author commits the suggestion; the synchronize event reviews the new head.
    let fixed = apply(
        WORKER_DOCKERFILE,
        comment.start_line.unwrap_or(comment.line),
        comment.line,
        &suggestion,
    );
    let new_head = w.github.push(
        REPO,
        "worker",
        &[("worker/Dockerfile", Some(&fixed))],
        "octocat",
    );
    let status = w
        .deliver(
            "pull_request",
            "pr-sync",
            pull_payload("synchronize", &w.pull(number)),
        )
        .await;
    assert_eq!(status, 202);
    w.work().await;
    let check = check_on(&w, &new_head);
    assert_eq!(check.conclusion, "success", "{}", check.summary);
    // The bot's comment on the fixed line went with the finding; no second review.
    let bots: Vec<_> = w
        .github
        .review_comments(REPO, number)
        .into_iter()
        .filter(|c| c.user == fake_github::BOT_LOGIN)
        .collect();
    assert!(bots.is_empty(), "{bots:#?}");
    assert_eq!(w.github.reviews(REPO, number).len(), 1);
}

#[tokio::test]
async fn a_readme_only_pr_succeeds_without_a_review() {
    let w = world(4).await;
    let number = open_pull(&w, "docs", &[("README.md", Some("# Shop\n"))]).await;
    let head = w.pull(number).head_sha;
    let check = check_on(&w, &head);
    assert_eq!(check.conclusion, "success", "{}", check.summary);
    assert!(w.github.reviews(REPO, number).is_empty());
    assert!(w.github.review_comments(REPO, number).is_empty());
}

#[tokio::test]
async fn a_repeated_push_with_the_same_problem_posts_nothing_new() {
    let w = world(4).await;
    let number = open_pull(
        &w,
        "worker",
        &[("worker/Dockerfile", Some(WORKER_DOCKERFILE))],
    )
    .await;
    let first = w.github.review_comments(REPO, number);
    w.github.push(
        REPO,
        "worker",
        &[("worker/README.md", Some("worker\n"))],
        "octocat",
    );
    w.deliver(
        "pull_request",
        "pr-sync-2",
        pull_payload("synchronize", &w.pull(number)),
    )
    .await;
    w.work().await;
    let again = w.github.review_comments(REPO, number);
    assert_eq!(
        again.iter().map(|c| c.id).collect::<Vec<_>>(),
        first.iter().map(|c| c.id).collect::<Vec<_>>(),
        "the same finding keeps its one comment"
    );
    assert_eq!(w.github.reviews(REPO, number).len(), 1);
}

/// The urllib3 fix PR the first scan of the example opens.
fn urllib3_pr(w: &World) -> fake_github::Pull {
    w.open_pulls()
        .into_iter()
        .find(|p| p.head == "patchwright/pypi/urllib3")
        .expect("a fix PR for urllib3")
}

#[tokio::test]
async fn state_changing_commands_need_write_access_and_are_refused_politely() {
    let w = world(10).await;
    w.scan_main("d-1").await;
    let pr = urllib3_pr(&w);
    w.github.set_permission(REPO, "mallory", "read");

    let id = w
        .say(pr.number, "mallory", "@patchwright ignore urllib3")
        .await;
    let reply = w.reply_to(pr.number, id);
    assert!(reply.starts_with("@mallory sorry, `ignore`"), "{reply}");
    assert!(reply.contains("your access is `read`"), "{reply}");
    assert_eq!(w.pull(pr.number).state, "open", "nothing changed");
    assert_eq!(w.github.reactions(REPO, id), ["eyes", "confused"]);
    let refused = audit::all(w.db.store.pool()).await.unwrap();
    assert!(refused.iter().any(|e| e.action == "command-refused"));

    // Anyone may ask for help or an explanation.
    let id = w.say(pr.number, "mallory", "@patchwright help").await;
    assert!(
        w.reply_to(pr.number, id)
            .contains("@patchwright accept-risk")
    );
    assert_eq!(w.github.reactions(REPO, id), ["eyes", "+1"]);
    let id = w
        .say(pr.number, "mallory", "@patchwright explain PYSEC-2023-192")
        .await;
    let reply = w.reply_to(pr.number, id);
    assert!(reply.contains("fixed in **"), "{reply}");
    assert!(reply.contains("api/requirements.txt"), "{reply}");
}

#[tokio::test]
async fn ignore_closes_the_fix_pr_and_unignore_brings_it_back() {
    let w = world(10).await;
    w.scan_main("d-1").await;
    let pr = urllib3_pr(&w);
    w.github.set_permission(REPO, "alice", "write");

    let id = w
        .say(pr.number, "alice", "@patchwright ignore urllib3")
        .await;
    let reply = w.reply_to(pr.number, id);
    assert_eq!(w.github.reactions(REPO, id), ["eyes", "+1"], "{reply}");
    assert_eq!(w.pull(pr.number).state, "closed", "{reply}");
    assert!(reply.contains("urllib3"), "{reply}");
    let closing = w
        .bot_comments(pr.number)
        .into_iter()
        .find(|c| c.body.starts_with("Closing:"))
        .expect("the PR says why it closed");
    assert!(
        closing
            .body
            .contains("updates to urllib3 (all) are ignored by @alice"),
        "{}",
        closing.body
    );
    let entries = audit::all(w.db.store.pool()).await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action.contains("ignore") && e.reason.contains("alice")),
        "{entries:#?}"
    );
    // The finding stays visible: ignoring an update never hides a vulnerability.
    let main = w.github.branch(REPO, "main").unwrap();
    let check = check_on(&w, &main);
    assert!(check.summary.contains("urllib3"), "{}", check.summary);

    let id = w
        .say(pr.number, "alice", "@patchwright unignore urllib3")
        .await;
    let reply = w.reply_to(pr.number, id);
    assert_eq!(w.github.reactions(REPO, id), ["eyes", "+1"], "{reply}");
    assert!(
        w.open_pulls()
            .iter()
            .any(|p| p.head == "patchwright/pypi/urllib3"),
        "the fix is proposed again: {reply}"
    );
}

#[tokio::test]
async fn malformed_and_unknown_commands_get_the_usage_line() {
    let w = world(10).await;
    w.scan_main("d-1").await;
    let pr = urllib3_pr(&w);
    w.github.set_permission(REPO, "alice", "write");
    let id = w
        .say(
            pr.number,
            "alice",
            "@patchwright accept-risk PYSEC-2023-192 --until 2026-12-01",
        )
        .await;
    let reply = w.reply_to(pr.number, id);
    assert!(reply.contains("needs --reason"), "{reply}");
    assert!(
        reply.contains("Usage: `@patchwright accept-risk"),
        "{reply}"
    );
    assert_eq!(w.github.reactions(REPO, id), ["eyes", "confused"]);

    let id = w.say(pr.number, "alice", "@patchwright rescna").await;
    let reply = w.reply_to(pr.number, id);
    assert!(reply.contains("did you mean `rescan`?"), "{reply}");

    // Beyond the policy's maximum length of an exception.
    let id = w
        .say(
            pr.number,
            "alice",
            "@patchwright accept-risk PYSEC-2023-192 --until 2028-01-01 --reason \"later\"",
        )
        .await;
    let reply = w.reply_to(pr.number, id);
    assert!(reply.contains("the policy allows at most"), "{reply}");
}

#[tokio::test]
async fn rescan_and_recreate_answer_with_what_they_did() {
    let w = world(10).await;
    w.scan_main("d-1").await;
    let pr = urllib3_pr(&w);
    w.github.set_permission(REPO, "alice", "admin");
    // A person pushes to the fix branch; recreate rebuilds it from main anyway.
    w.github.push(
        REPO,
        &pr.head,
        &[("api/notes.txt", Some("mine\n"))],
        "alice",
    );
    let id = w.say(pr.number, "alice", "@patchwright recreate").await;
    let reply = w.reply_to(pr.number, id);
    assert!(reply.contains("rebuilt from the default branch"), "{reply}");
    let head = w.github.branch(REPO, &pr.head).unwrap();
    assert!(
        w.github.file_at(&head, "api/notes.txt").is_none(),
        "{reply}"
    );
    let main = w.github.branch(REPO, "main").unwrap();
    assert_eq!(w.github.commit_parents(&head), std::slice::from_ref(&main));

    let id = w.say(pr.number, "alice", "@patchwright rescan").await;
    let reply = w.reply_to(pr.number, id);
    assert!(reply.contains("scanned again"), "{reply}");

    // recreate on a person's pull request is declined with the reason.
    let number = open_pull(&w, "docs", &[("README.md", Some("# Shop\n"))]).await;
    let id = w.say(number, "alice", "@patchwright recreate").await;
    let reply = w.reply_to(number, id);
    assert!(
        reply.contains("not an open fix pull request of mine"),
        "{reply}"
    );
}

#[tokio::test]
async fn an_accepted_risk_holds_until_its_date_then_blocks_again() {
    let w = world(10).await;
    w.scan_main("d-1").await;
    w.github.set_permission(REPO, "alice", "write");
    let issue = w
        .github
        .open_issue_by(REPO, "Accepting golang.org/x/text", "alice");
    let id = w
        .say(
            issue,
            "alice",
            "@patchwright accept-risk GO-2022-1059 --until 2026-11-30 --reason \"the worker never parses Accept-Language\"",
        )
        .await;
    let reply = w.reply_to(issue, id);
    assert_eq!(w.github.reactions(REPO, id), ["eyes", "+1"], "{reply}");
    assert!(reply.contains("2026-11-30"), "{reply}");
    let main = w.github.branch(REPO, "main").unwrap();
    let check = check_on(&w, &main);
    assert!(
        check.summary.contains("GO-2022-1059"),
        "listed as an exception in force: {}",
        check.summary
    );
    assert!(check.summary.contains("alice"), "{}", check.summary);

    // A week later the exception has expired: the finding blocks again, and says so.
    w.clock.advance(chrono::TimeDelta::days(8));
    let after = w
        .github
        .push(REPO, "main", &[("README.md", Some("later\n"))], "octocat");
    w.deliver("push", "d-2", world::push_payload(&after)).await;
    w.work().await;
    let check = check_on(&w, &after);
    assert_eq!(check.conclusion, "failure");
    assert!(check.summary.contains("expired"), "{}", check.summary);
}

#[tokio::test]
async fn codeowners_are_asked_to_review_fix_prs_and_own_the_tracking_issue() {
    let w = world(10).await;
    w.github.push(
        REPO,
        "main",
        &[(
            ".github/CODEOWNERS",
            Some("* @acme/platform\n/api/ @alice\n/web/ @bob @acme/frontend\n"),
        )],
        "octocat",
    );
    w.scan_main("d-1").await;
    let pr = urllib3_pr(&w);
    let (users, teams) = w.github.requested_reviewers(REPO, pr.number);
    assert_eq!(users, ["alice"]);
    assert!(teams.is_empty(), "{teams:?}");

    // lodash and minimist need a re-lock, so no fix PR clears them: the tracking issue lists
    // them, assigned to the owners of web/.
    let issues = w.github.issues(REPO);
    let tracking: Vec<_> = issues
        .iter()
        .filter(|i| i.user == fake_github::BOT_LOGIN)
        .collect();
    assert_eq!(tracking.len(), 1, "{issues:#?}");
    let issue = tracking[0];
    assert_eq!(issue.state, "open");
    assert!(issue.body.contains("lodash"), "{}", issue.body);
    assert!(issue.body.contains("Due:"), "{}", issue.body);
    assert_eq!(issue.assignees, ["bob"]);
    assert!(issue.body.contains("@acme/frontend"), "{}", issue.body);

    // The web service goes away: nothing is left to track, the issue closes.
    w.github.push(
        REPO,
        "main",
        &[("web/package-lock.json", None), ("web/Dockerfile", None)],
        "bob",
    );
    w.scan_main("d-2").await;
    let issue = w
        .github
        .issues(REPO)
        .into_iter()
        .find(|i| i.number == issue.number)
        .unwrap();
    assert_eq!(issue.state, "closed", "{}", issue.body);
    // And the node image's fix PR, whose Dockerfile went with it, closes saying so.
    let node = w
        .github
        .pulls(REPO)
        .into_iter()
        .find(|p| p.head == "patchwright/docker/node")
        .expect("a fix PR for the node image");
    assert_eq!(node.state, "closed");
    let said = w.bot_comments(node.number);
    assert!(
        said.len() == 1
            && said[0]
                .body
                .starts_with("Closing: the findings this PR fixed are gone"),
        "{said:#?}"
    );
}

#[tokio::test]
async fn a_command_that_fails_on_our_side_still_gets_an_answer() {
    let w = world(10).await;
    w.scan_main("d-1").await;
    let pr = urllib3_pr(&w);
    // The App lost a permission: GitHub answers the permission lookup (after the 👀 reaction)
    // with 403, which no retry mends.
    w.github.fail_after(
        1,
        403,
        &[],
        r#"{"message":"Resource not accessible by integration"}"#,
    );
    let id = w
        .github
        .comment_by(REPO, pr.number, "alice", "@patchwright rescan");
    let status = w
        .deliver(
            "issue_comment",
            "c-403",
            world::comment_payload(pr.number, true, id, "alice", "@patchwright rescan"),
        )
        .await;
    assert_eq!(status, 202);
    let settled = w.run_jobs().await;
    assert!(
        settled
            .iter()
            .any(|(_, s)| matches!(s, patchwright::service::jobs::Settled::Failed { .. })),
        "{settled:?}"
    );
    let reply = w.reply_to(pr.number, id);
    assert!(
        reply.starts_with("@alice I could not finish your command: GitHub refused a request"),
        "{reply}"
    );
    // What GitHub said, and which route, is for the logs: the reply names the job instead.
    let job = settled[0].0;
    assert!(
        !reply.contains("Resource not accessible") && !reply.contains("/repos/"),
        "{reply}"
    );
    assert!(reply.contains(&format!("(job {job})")), "{reply}");
    assert_eq!(w.github.reactions(REPO, id), ["eyes", "confused"]);
}

#[tokio::test]
async fn a_command_whose_retries_run_out_still_gets_an_answer() {
    let w = world(10).await;
    w.scan_main("d-1").await;
    let pr = urllib3_pr(&w);
    let id = w
        .github
        .comment_by(REPO, pr.number, "alice", "@patchwright rescan");
    let status = w
        .deliver(
            "issue_comment",
            "c-502",
            world::comment_payload(pr.number, true, id, "alice", "@patchwright rescan"),
        )
        .await;
    assert_eq!(status, 202);
    // GitHub answers the permission lookup with 502 on every start: after 👀 on the first, after
    // the "did I answer already" read and 👀 on the others.
    let attempts = patchwright::service::jobs::RetryPolicy::default().max_attempts;
    for attempt in 1..=attempts {
        let after = if attempt == 1 { 1 } else { 2 };
        w.github
            .fail_after(after, 502, &[], r#"{"message":"Server Error"}"#);
        let settled = w.run_jobs().await;
        assert_eq!(settled.len(), 1, "attempt {attempt}: {settled:?}");
        let last = attempt == attempts;
        assert_eq!(
            matches!(
                settled[0].1,
                patchwright::service::jobs::Settled::Failed { .. }
            ),
            last,
            "attempt {attempt}: {settled:?}"
        );
        let replies = w
            .bot_comments(pr.number)
            .into_iter()
            .filter(|c| c.id > id)
            .count();
        assert_eq!(replies, usize::from(last), "attempt {attempt}");
        w.clock.advance(chrono::TimeDelta::hours(2));
    }
    let reply = w.reply_to(pr.number, id);
    assert!(
        reply.starts_with(&format!(
            "@alice I could not finish your command: GitHub or my storage kept failing ({attempts} attempts)"
        )),
        "{reply}"
    );
    assert!(!reply.contains("Server Error"), "{reply}");
    assert_eq!(w.github.reactions(REPO, id), ["eyes", "confused"]);
}

#[tokio::test]
async fn a_base_branch_that_moved_on_is_neither_blamed_on_nor_credited_to_the_pr() {
    let w = world(10).await;
    // The branch is cut while urllib3 is vulnerable on main…
    let number = open_pull(&w, "docs", &[("README.md", Some("# Shop\n"))]).await;
    // …then main fixes urllib3 and adds a new problem, and the author pushes again.
    w.edit_requirements_on_main("urllib3==1.26.5", "urllib3==1.26.18");
    w.github.push(
        REPO,
        "main",
        &[("tools/Dockerfile", Some(WORKER_DOCKERFILE))],
        "octocat",
    );
    let head = w
        .github
        .push(REPO, "docs", &[("README.md", Some("# Shop!\n"))], "octocat");
    w.deliver(
        "pull_request",
        "pr-sync-moved",
        pull_payload("synchronize", &w.pull(number)),
    )
    .await;
    w.work().await;
    let check = check_on(&w, &head);
    // Against main's head this PR would "fix" urllib3 and "add" node:16; against the merge
    // base it changes nothing.
    assert_eq!(check.conclusion, "success", "{}", check.summary);
    assert!(!check.summary.contains("urllib3"), "{}", check.summary);
    assert!(!check.summary.contains("node:16"), "{}", check.summary);
}

/// GitHub API calls for reviewing a pull request, kept near the minimum (figures in README).
#[tokio::test]
async fn api_calls_per_review() {
    let w = world(10).await;
    w.scan_main("d-1").await;
    w.github
        .push(REPO, "docs", &[("README.md", Some("# Shop\n"))], "octocat");
    let number = w
        .github
        .open_pull_by(REPO, "docs", "main", "Docs", "octocat");
    w.github.clear_requests();
    w.deliver(
        "pull_request",
        "pr-calls",
        pull_payload("opened", &w.pull(number)),
    )
    .await;
    w.work().await;
    let calls: Vec<String> = w
        .github
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    eprintln!(
        "review of a README-only PR: {} calls: {calls:#?}",
        calls.len()
    );
    // pull, merge base, base tree, head tree (blobs cached from the scan), review comments,
    // check run.
    assert_eq!(calls.len(), 6, "{calls:#?}");
}

#[tokio::test]
async fn a_retried_command_job_never_answers_twice() {
    let w = world(10).await;
    w.scan_main("d-1").await;
    let pr = urllib3_pr(&w);
    // 👀, the pull request, the reply; then the closing reaction fails once.
    w.github
        .fail_after(3, 502, &[], "{\"message\":\"Server Error\"}");
    let id = w
        .github
        .comment_by(REPO, pr.number, "mallory", "@patchwright help");
    w.deliver(
        "issue_comment",
        "c-retry",
        world::comment_payload(pr.number, true, id, "mallory", "@patchwright help"),
    )
    .await;
    let settled = w.run_jobs().await;
    assert!(
        matches!(
            settled.as_slice(),
            [(_, patchwright::service::jobs::Settled::Retrying { .. })]
        ),
        "{settled:?}"
    );
    w.clock.advance(chrono::TimeDelta::hours(1));
    w.work().await;
    let replies = w
        .bot_comments(pr.number)
        .into_iter()
        .filter(|c| c.id > id)
        .count();
    assert_eq!(replies, 1);
}

/// A worker image that runs as `node`, on main.
const WORKER_AS_NODE: &str = "FROM node:22.12.0-alpine\nWORKDIR /app\nCOPY package.json .\nRUN npm ci\nCOPY . .\nRUN npm run build\nRUN npm prune --production\nENV NODE_ENV=production\nUSER node\nCMD [\"node\", \"index.js\"]\n";

#[tokio::test]
async fn a_new_finding_on_no_diff_line_reaches_the_pr_in_the_review_body_once() {
    let w = world(10).await;
    w.github.push(
        REPO,
        "main",
        &[("worker/Dockerfile", Some(WORKER_AS_NODE))],
        "octocat",
    );
    // The PR drops `USER node` at line 9: the container now runs as root, a finding at the
    // final stage's `FROM` (line 1), far from the diff, with no fix to suggest.
    let as_root = WORKER_AS_NODE.replace("USER node\n", "");
    let number = open_pull(&w, "root", &[("worker/Dockerfile", Some(&as_root))]).await;
    let check = check_on(&w, &w.pull(number).head_sha);
    assert_eq!(check.conclusion, "neutral", "{}", check.summary);
    assert!(w.github.review_comments(REPO, number).is_empty());
    let reviews = w.github.reviews(REPO, number);
    assert_eq!(reviews.len(), 1, "the finding must reach the pull request");
    assert!(
        reviews[0].body.starts_with("<!-- patchwright:review -->")
            && reviews[0].body.contains("runs-as-root")
            && reviews[0].body.contains("`worker/Dockerfile:1`"),
        "{}",
        reviews[0].body
    );

    // A push that changes nothing about it says nothing again.
    w.github.push(
        REPO,
        "root",
        &[("worker/README.md", Some("worker\n"))],
        "octocat",
    );
    w.deliver(
        "pull_request",
        "pr-root-sync",
        pull_payload("synchronize", &w.pull(number)),
    )
    .await;
    w.work().await;
    assert_eq!(w.github.reviews(REPO, number).len(), 1);
}

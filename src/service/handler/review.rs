//! Change-set review of a pull request: scan its base and head, report only what the change
//! introduces or worsens, as a check run on the head and one review comment per new finding
//! (with a one-click suggestion when the fix is an edit), replacing the bot's earlier comments.

use super::{ScanHandler, decisions, job_error, short};
use crate::forge::hosted::CheckConclusion;
use crate::forge::hosted::{Forge, NewReviewComment, PullRequest};
use crate::render::check::pr_check_run;
use crate::render::{markers, templates};
use crate::review::{self, ExistingComment};
use crate::service::jobs::{JobError, JobOutcome, ReviewJob};

/// What one review pass did, for the job summary and the `rescan` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewSummary {
    pub number: u64,
    pub head: String,
    pub introduced: usize,
    pub fixed: usize,
    pub posted: usize,
    pub deleted: usize,
    pub conclusion: CheckConclusion,
}

impl std::fmt::Display for ReviewSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "#{} at {}: {} new or worse finding(s), {} fixed; check {}; {} comment(s) posted, {} earlier one(s) removed",
            self.number,
            short(&self.head),
            self.introduced,
            self.fixed,
            self.conclusion.as_str(),
            self.posted,
            self.deleted
        )
    }
}

impl ScanHandler {
    pub(super) async fn review(
        &self,
        job_id: i64,
        job: &ReviewJob,
    ) -> Result<JobOutcome, JobError> {
        let forge = self.forge(job.installation_id).await?;
        let repo = job.repository.full_name.as_str();
        let pull = forge
            .pull(repo, job.number as u64)
            .await
            .map_err(job_error)?;
        if pull.state != "open" {
            return Ok(JobOutcome::new(format!(
                "{repo}#{}: {} since the event; nothing to review",
                job.number, pull.state
            )));
        }
        let summary = self
            .review_pull(
                forge.as_ref(),
                job.installation_id,
                &job.repository,
                job_id,
                &pull,
            )
            .await?;
        Ok(JobOutcome::new(format!("{repo}{summary}")))
    }

    /// Reviews `pull` at its current head. Shared by review jobs and the `rescan` command.
    pub(super) async fn review_pull(
        &self,
        forge: &dyn Forge,
        installation_id: i64,
        repository: &crate::service::jobs::RepoRef,
        job_id: i64,
        pull: &PullRequest,
    ) -> Result<ReviewSummary, JobError> {
        let repo = repository.full_name.as_str();
        let now = self.clock.now();
        let today = now.date_naive();
        // The merge base, as GitHub's three-dot diff: findings that reached the base branch
        // after the branch was cut are neither blamed on this change nor credited to it.
        let base = match forge.merge_base(repo, &pull.base_ref, &pull.head_sha).await {
            Ok(sha) => sha,
            Err(crate::forge::hosted::ForgeError::NotFound(why)) => {
                return Err(JobError::Permanent(format!(
                    "{repo}#{}: no common history between `{}` and {}: {why}",
                    pull.number,
                    pull.base_ref,
                    short(&pull.head_sha)
                )));
            }
            Err(e) => return Err(job_error(e)),
        };
        let options = decisions::run_options(&self.store, repository.id).await?;
        let before = self.analyse(forge, repo, &base, &options, today).await?;
        let after = self
            .analyse(forge, repo, &pull.head_sha, &options, today)
            .await?;
        let changes = review::compare(
            &before.outcome.report.findings,
            &after.outcome.report.findings,
        );
        let placements =
            review::plan_review(&changes, &before.snapshot.files, &after.snapshot.files);
        let plan = templates::review(&placements, &self.app_slug);

        let ctx = self.ctx(
            forge,
            repository,
            installation_id,
            job_id,
            &pull.head_sha,
            now,
        );
        let existing: Vec<ExistingComment> = forge
            .review_comments(repo, pull.number)
            .await
            .map_err(job_error)?
            .into_iter()
            .map(|c| ExistingComment {
                ours: c.user_login == self.bot_login && markers::is_finding_comment(&c.body),
                is_reply: c.in_reply_to.is_some(),
                id: c.id,
                path: c.path,
                line: c.line,
                body: c.body,
            })
            .collect();
        let reconciled = review::reconcile(&existing, plan.comments);
        for id in &reconciled.to_delete {
            match forge.delete_review_comment(repo, *id).await {
                // Already gone (a person deleted it): that is what was wanted.
                Ok(()) | Err(crate::forge::hosted::ForgeError::NotFound(_)) => {}
                Err(e) => return Err(job_error(e)),
            }
        }
        let posted = reconciled.to_post.len();
        // The body carries the new findings no diff line could take: it must reach the pull
        // request even when no line comment goes with it, but a review cannot be deleted, so
        // the same body is not said twice.
        let body = if plan.body.is_empty()
            || self
                .already_said(forge, repo, pull.number, &plan.body)
                .await?
        {
            String::new()
        } else {
            plan.body
        };
        let submitted = posted > 0 || !body.is_empty();
        if submitted {
            let comments: Vec<NewReviewComment> = reconciled
                .to_post
                .into_iter()
                .map(|c| NewReviewComment {
                    path: c.path,
                    line: c.line,
                    start_line: c.start_line,
                    body: c.body,
                })
                .collect();
            forge
                .create_review(repo, pull.number, &pull.head_sha, &body, &comments)
                .await
                .map_err(job_error)?;
        }
        let check = pr_check_run(&changes, &pull.head_sha, &self.app_slug);
        let conclusion = check.conclusion;
        forge
            .create_check_run(repo, &check)
            .await
            .map_err(job_error)?;
        let summary = ReviewSummary {
            number: pull.number,
            head: pull.head_sha.clone(),
            introduced: changes.introduced.len(),
            fixed: changes.fixed.len(),
            posted,
            deleted: reconciled.to_delete.len(),
            conclusion,
        };
        if submitted || !reconciled.to_delete.is_empty() {
            ctx.audit("pr-reviewed", summary.to_string()).await?;
        }
        Ok(summary)
    }
}

impl ScanHandler {
    /// Whether the bot's latest review body on the pull request is already `body`.
    async fn already_said(
        &self,
        forge: &dyn Forge,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<bool, JobError> {
        let reviews = forge.reviews(repo, number).await.map_err(job_error)?;
        Ok(reviews
            .iter()
            .rev()
            .find(|r| r.user_login == self.bot_login && markers::is_review_body(&r.body))
            .is_some_and(|r| r.body == body))
    }
}

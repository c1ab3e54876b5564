//! The work a job does: scan a repository through the forge, record what was found, keep the
//! fix pull requests in step, and leave a check run on the commit.

pub mod check;
pub mod pulls;
pub mod read;

use crate::forge::hosted::{ForgeError, Forges};
use crate::pipeline::{Knowledge, RunOptions, run_parsed};
use crate::remedy::groups::plan_groups;
use crate::service::clock::Clock;
use crate::service::jobs::{Job, JobError, JobHandler, JobKind, JobOutcome, ScanJob};
use crate::store::Store;
use crate::store::findings::{self, SeenFinding};
use read::{ParseCache, read_repository};
use std::sync::Arc;

pub struct ScanHandler {
    pub forges: Arc<dyn Forges>,
    pub store: Store,
    pub knowledge: Arc<Knowledge>,
    pub clock: Arc<dyn Clock>,
    pub cache: Arc<ParseCache>,
    /// `<slug>[bot]`: the login the App's PRs and commits carry.
    pub bot_login: String,
    pub app_slug: String,
    pub max_open_fix_prs: usize,
}

/// Forge failures in the job runner's terms.
pub fn job_error(e: ForgeError) -> JobError {
    match e {
        ForgeError::Retryable(m) => JobError::Retryable(m),
        ForgeError::RateLimited { until, reason } => JobError::RateLimited { until, reason },
        ForgeError::NotFound(m) => JobError::Permanent(format!("not found: {m}")),
        ForgeError::Conflict(m) => JobError::Retryable(format!("conflict: {m}")),
        ForgeError::Permanent(m) => JobError::Permanent(m),
    }
}

#[async_trait::async_trait]
impl JobHandler for ScanHandler {
    async fn run(&self, job: &Job) -> Result<JobOutcome, JobError> {
        match &job.kind {
            JobKind::Scan(scan) => self.scan(job.id, scan).await,
            // Comment commands are parsed and answered by the command handler (a later part of
            // the service); until then a comment job is recorded and ends here.
            JobKind::Comment(c) => Ok(JobOutcome::new(format!(
                "comment {} on #{}: commands are not handled by this version",
                c.comment_id, c.issue_number
            ))),
            JobKind::Review(r) => Err(JobError::Permanent(format!(
                "review of #{}: not wired yet",
                r.number
            ))),
        }
    }
}

impl ScanHandler {
    async fn scan(&self, job_id: i64, job: &ScanJob) -> Result<JobOutcome, JobError> {
        let repo = job.repository.full_name.as_str();
        let forge = self
            .forges
            .installation(job.installation_id)
            .await
            .map_err(job_error)?;
        // Scan the default branch as it is now: a queued push may be older than the branch, and
        // fix PRs must be based on what is there.
        let (default_branch, head) = forge.default_branch(repo).await.map_err(job_error)?;
        let (snapshot, manifests) = read_repository(forge.as_ref(), repo, &head, &self.cache)
            .await
            .map_err(job_error)?;
        let now = self.clock.now();
        let today = now.date_naive();
        let outcome = run_parsed(
            &snapshot,
            manifests,
            &self.knowledge,
            today,
            &RunOptions::default(),
        );
        let report = &outcome.report;

        let seen: Vec<SeenFinding> = report.findings.iter().map(SeenFinding::from).collect();
        let mut conn = self
            .store
            .pool()
            .acquire()
            .await
            .map_err(crate::store::StoreError::from)?;
        let delta = findings::record_scan(&mut conn, job.repository.id, &seen, now).await?;
        drop(conn);

        let groups = plan_groups(report, &snapshot);
        let sync = pulls::Sync {
            forge: forge.as_ref(),
            store: &self.store,
            repo,
            repository_id: job.repository.id,
            installation_id: job.installation_id,
            job_id,
            bot_login: &self.bot_login,
            app_slug: &self.app_slug,
            default_branch: &default_branch,
            head: &head,
            max_open: self.max_open_fix_prs,
            now,
            today,
        };
        let synced = sync
            .run(&groups, &snapshot, report, &self.knowledge)
            .await?;
        let check = check::check_run(report, &head, &synced.pulls, &synced.held_back);
        forge
            .create_check_run(repo, &check)
            .await
            .map_err(job_error)?;
        Ok(JobOutcome::new(format!(
            "{repo}@{}: {} blocker(s), {} warning(s); {} new, {} fixed finding(s); {} PR action(s), {} held back",
            &head[..head.len().min(7)],
            report.summary.blockers,
            report.summary.warnings,
            delta.new,
            delta.fixed,
            synced.pulls.len(),
            synced.held_back.len()
        )))
    }
}

//! The work a job does: scan a repository through the forge, record what was found, keep the
//! fix pull requests and the tracking issue in step, review pull requests, and answer
//! commands in comments.

pub mod commands;
pub mod decisions;
pub mod pulls;
pub mod read;
pub mod relock;
pub mod review;
pub mod tracking;

use crate::forge::hosted::{Forge, ForgeError, Forges, Retry};
use crate::knowledge::handle::Pinned;
use crate::pipeline::{self, RunOptions, run_parsed};
use crate::relock::Relocker;
use crate::remedy::groups::plan_groups_carrying;
use crate::render::check::{PullNote, check_run};
use crate::service::clock::Clock;
use crate::service::jobs::{Job, JobError, JobHandler, JobKind, JobOutcome, RepoRef, ScanJob};
use crate::snapshot::RepoSnapshot;
use crate::store::Store;
use crate::store::audit::{self, AuditEntry};
use crate::store::findings::{self, SeenFinding};
use chrono::{DateTime, NaiveDate, Utc};
use read::{ParseCache, read_repository};
use std::sync::Arc;

#[derive(Clone)]
pub struct ScanHandler {
    pub forges: Arc<dyn Forges>,
    pub store: Store,
    /// The live knowledge; [`JobHandler::run`] pins the value in force when a job starts, and
    /// the whole job reads that one (a sync or reload meanwhile does not reach it).
    pub knowledge: Pinned,
    pub clock: Arc<dyn Clock>,
    pub cache: Arc<ParseCache>,
    /// `<slug>[bot]`: the login the App's PRs and commits carry.
    pub bot_login: String,
    pub app_slug: String,
    pub max_open_fix_prs: usize,
    /// Re-locks lockfiles for fix PRs through the package managers on PATH; `None` turns
    /// re-locking off (the findings keep their "needs a re-lock" command).
    pub relocker: Option<Arc<Relocker>>,
}

/// Forge failures in the job runner's terms, as the forge classifies them
/// ([`ForgeError::retry`]): a validation error (409, 422) is never retried.
pub fn job_error(e: ForgeError) -> JobError {
    match (e.retry(), e) {
        (_, ForgeError::RateLimited { until, reason }) => JobError::RateLimited { until, reason },
        (Retry::Later, e) => JobError::Retryable(e.to_string()),
        (_, e) => JobError::Permanent(e.to_string()),
    }
}

/// What every part of a job on one repository needs: where to act, as whom, and when.
pub struct Ctx<'a> {
    pub forge: &'a dyn Forge,
    pub store: &'a Store,
    pub repo: &'a str,
    pub repository_id: i64,
    pub installation_id: i64,
    pub job_id: i64,
    pub bot_login: &'a str,
    pub app_slug: &'a str,
    /// The commit the job works on (the default branch's head for scans, the PR's head for
    /// reviews).
    pub head: &'a str,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
}

impl Ctx<'_> {
    /// Writes one audit entry for this job and repository.
    pub async fn audit(&self, action: &str, reason: String) -> Result<(), JobError> {
        record_audit(
            self.store,
            self.now,
            (self.installation_id, self.repository_id, self.job_id),
            action,
            reason,
        )
        .await
    }
}

/// One audit entry by a job, as (installation, repository, job) it acted for.
pub(crate) async fn record_audit(
    store: &Store,
    at: DateTime<Utc>,
    (installation_id, repository_id, job_id): (i64, i64, i64),
    action: &str,
    reason: String,
) -> Result<(), JobError> {
    let mut entry = AuditEntry::new(at, action, reason);
    entry.installation_id = Some(installation_id);
    entry.repository_id = Some(repository_id);
    entry.job_id = Some(job_id);
    audit::record(store.pool(), &entry).await?;
    Ok(())
}

/// What a default-branch pass did.
pub struct Scanned {
    /// One line: counts, PR actions, the tracking issue.
    pub summary: String,
    pub pulls: Vec<PullNote>,
    pub head: String,
    pub default_branch: String,
}

/// A repository read and judged at one commit.
pub struct Analysis {
    pub snapshot: RepoSnapshot,
    pub outcome: pipeline::Outcome,
    /// Every file of the commit with its blob id (what a re-lock reads beyond the snapshot).
    pub tree: Vec<crate::forge::hosted::TreeEntry>,
}

#[async_trait::async_trait]
impl JobHandler for ScanHandler {
    async fn run(&self, job: &Job) -> Result<JobOutcome, JobError> {
        let this = ScanHandler {
            knowledge: self.knowledge.pin(),
            ..self.clone()
        };
        match &job.kind {
            JobKind::Scan(scan) => this.scan(job.id, scan).await,
            JobKind::Comment(comment) => this.comment(job, comment).await,
            JobKind::Review(review) => this.review(job.id, review).await,
        }
    }
}

impl ScanHandler {
    /// The context of a job on `repository` acting at `head`.
    fn ctx<'a>(
        &'a self,
        forge: &'a dyn Forge,
        repository: &'a RepoRef,
        installation_id: i64,
        job_id: i64,
        head: &'a str,
        now: DateTime<Utc>,
    ) -> Ctx<'a> {
        Ctx {
            forge,
            store: &self.store,
            repo: &repository.full_name,
            repository_id: repository.id,
            installation_id,
            job_id,
            bot_login: &self.bot_login,
            app_slug: &self.app_slug,
            head,
            now,
            today: now.date_naive(),
        }
    }

    async fn forge(&self, installation_id: i64) -> Result<Arc<dyn Forge>, JobError> {
        self.forges
            .installation(installation_id)
            .await
            .map_err(job_error)
    }

    /// Reads `commit` of `repo` (through the blob and parse caches) and runs the pipeline on it
    /// with the repository's stored decisions.
    async fn analyse(
        &self,
        forge: &dyn Forge,
        repo: &str,
        commit: &str,
        options: &RunOptions,
        today: NaiveDate,
    ) -> Result<Analysis, JobError> {
        let (snapshot, manifests, tree) = read_repository(forge, repo, commit, &self.cache)
            .await
            .map_err(job_error)?;
        let outcome = run_parsed(&snapshot, manifests, &self.knowledge, today, options);
        Ok(Analysis {
            snapshot,
            outcome,
            tree,
        })
    }

    async fn scan(&self, job_id: i64, job: &ScanJob) -> Result<JobOutcome, JobError> {
        let forge = self.forge(job.installation_id).await?;
        let scanned = self
            .scan_default_branch(
                forge.as_ref(),
                job.installation_id,
                &job.repository,
                job_id,
                None,
            )
            .await?;
        Ok(JobOutcome::new(scanned.summary))
    }

    /// The whole default-branch pass: scan, record, fix PRs, tracking issue, check run. Also
    /// what `rescan`, `accept-risk` and `ignore` run, so their effect shows at once.
    pub(crate) async fn scan_default_branch(
        &self,
        forge: &dyn Forge,
        installation_id: i64,
        repository: &RepoRef,
        job_id: i64,
        rebuild: Option<u64>,
    ) -> Result<Scanned, JobError> {
        let repo = repository.full_name.as_str();
        // Scan the default branch as it is now: a queued push may be older than the branch, and
        // fix PRs must be based on what is there.
        let (default_branch, head) = forge.default_branch(repo).await.map_err(job_error)?;
        let now = self.clock.now();
        let today = now.date_naive();
        let options = decisions::run_options(&self.store, repository.id).await?;
        let mut analysis = self.analyse(forge, repo, &head, &options, today).await?;

        // Owners and tier go with the findings into the remediation history (per-team views).
        let file_owners = tracking::codeowners(&analysis.snapshot);
        let seen: Vec<SeenFinding> = analysis
            .outcome
            .report
            .findings
            .iter()
            .map(|f| {
                let mut seen = SeenFinding::from(f);
                if let Some(owners) = file_owners.as_ref().and_then(|c| c.owners_of(&f.file)) {
                    seen.owners = owners.to_vec();
                }
                seen
            })
            .collect();
        let tier = repository_tier(&analysis.snapshot, &self.knowledge.policy, &options);
        let mut conn = self
            .store
            .pool()
            .acquire()
            .await
            .map_err(crate::store::StoreError::from)?;
        let delta = findings::record_scan(&mut conn, repository.id, &seen, now).await?;
        // What an advisory sync looks up to rescan this repository when one of these changes.
        let packages =
            crate::knowledge::rescan::inventory_packages(&analysis.outcome.report.inventory);
        crate::store::packages::record_inventory(&mut conn, repository.id, &packages).await?;
        crate::store::history::set_tier(&mut *conn, repository.id, &tier, now).await?;
        drop(conn);

        let ctx = self.ctx(forge, repository, installation_id, job_id, &head, now);
        let open = pulls::open_fix_prs(&ctx).await?;
        let relocks = match &self.relocker {
            Some(relocker) => {
                relock::relock_report(&ctx, relocker, &self.cache, &open, rebuild, &mut analysis)
                    .await?
            }
            None => relock::Relocks::default(),
        };
        let report = &analysis.outcome.report;
        let codeowners = file_owners;
        let kept = relocks.kept();
        let groups = plan_groups_carrying(report, &analysis.snapshot, &kept);
        let sync = pulls::FixPrSync {
            ctx: &ctx,
            default_branch: &default_branch,
            max_open: self.max_open_fix_prs,
            options: &options,
            codeowners: codeowners.as_ref(),
            rebuild,
            refresh: &relocks.refresh,
        };
        let synced = sync
            .run(&open, &groups, &analysis.snapshot, report, &self.knowledge)
            .await?;
        let carried_view;
        let tracked_report = if kept.is_empty() {
            report
        } else {
            carried_view = relock::without_carried(report, &kept);
            &carried_view
        };
        let tracked = tracking::sync(
            &ctx,
            tracked_report,
            &analysis.snapshot,
            &self.knowledge,
            &delta.first_seen,
        )
        .await?;
        let check = check_run(
            report,
            &head,
            &synced.pulls,
            &synced.held_back,
            &self.app_slug,
        );
        forge
            .create_check_run(repo, &check)
            .await
            .map_err(job_error)?;
        let mut summary = format!(
            "{repo}@{}: {} blocker(s), {} warning(s); {} new, {} fixed finding(s); {} PR action(s), {} held back; tracking issue: {tracked}",
            short(&head),
            report.summary.blockers,
            report.summary.warnings,
            delta.new,
            delta.fixed,
            synced.pulls.len(),
            synced.held_back.len(),
        );
        if !relocks.attempts.is_empty() || !kept.is_empty() {
            let failed = relocks
                .attempts
                .iter()
                .filter(|a| a.outcome.is_err())
                .count();
            summary.push_str(&format!(
                "; re-locks: {} run ({failed} failed), {} carried by open PRs",
                relocks.attempts.len(),
                relocks.carried.len()
            ));
            if !relocks.declined.is_empty() {
                summary.push_str(&format!(", {} declined", relocks.declined.len()));
            }
        }
        Ok(Scanned {
            summary,
            pulls: synced.pulls,
            head,
            default_branch,
        })
    }
}

pub(crate) fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// The tier a scan judged the repository under: the CLI-style override, the repository
/// config's, or the organisation's default.
fn repository_tier(
    snapshot: &RepoSnapshot,
    policy: &crate::policy::OrgPolicy,
    options: &RunOptions,
) -> String {
    if let Some(tier) = &options.tier {
        return tier.clone();
    }
    let tiers = policy.tier_names();
    snapshot
        .files
        .get(crate::policy::REPO_CONFIG_PATH)
        .and_then(|text| {
            crate::policy::parse_repo_config(crate::policy::REPO_CONFIG_PATH, text, &tiers).ok()
        })
        .and_then(|config| config.tier)
        .unwrap_or_else(|| policy.default_tier.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_are_not_retried() {
        let refused = job_error(ForgeError::Conflict("422 Validation Failed".into()));
        assert!(matches!(refused, JobError::Permanent(_)), "{refused:?}");
        let flaky = job_error(ForgeError::Retryable("502".into()));
        assert!(matches!(flaky, JobError::Retryable(_)), "{flaky:?}");
    }
}

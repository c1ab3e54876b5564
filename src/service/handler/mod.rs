//! The work a job does: scan a repository through the forge, record what was found, keep the
//! fix pull requests and the tracking issue in step, review pull requests, and answer
//! commands in comments.

pub mod commands;
pub mod decisions;
pub mod pulls;
pub mod read;
pub mod relock;
pub mod reuse;
pub mod review;
pub mod tracking;

use crate::forge::hosted::{Forge, ForgeError, Forges, HeadCheck, Retry};
use crate::knowledge::handle::Pinned;
use crate::pipeline::{self, RunOptions, run_parsed};
use crate::relock::Relocker;
use crate::remedy::groups::plan_groups_carrying;
use crate::render::check::{PullNote, check_run};
use crate::service::clock::Clock;
use crate::service::jobs::{
    Job, JobError, JobHandler, JobKind, JobOutcome, RepoRef, ScanJob, ScanReason,
};
use crate::snapshot::RepoSnapshot;
use crate::store::Store;
use crate::store::audit::{self, AuditEntry};
use crate::store::findings::{self, SeenFinding, finding_key};
use crate::store::scan_marks::{self, ScanMark};
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
    /// Container registry lookups (the `[registry]` table); `None` keeps image fixes to the
    /// catalog alone.
    pub registry: Option<Arc<crate::registry::Lookup>>,
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
        // Only a sweep may end early: every other reason says something changed.
        let mut moved_to = None;
        if job.reason == ScanReason::Sweep {
            match self
                .unchanged_since_marked(forge.as_ref(), &job.repository)
                .await?
            {
                Probe::Unchanged(summary) => return Ok(JobOutcome::new(summary)),
                Probe::Moved { head, etag } => moved_to = etag.map(|etag| (head, etag)),
                Probe::Unknown => {}
            }
        }
        let scanned = self
            .scan_default_branch(
                forge.as_ref(),
                job.installation_id,
                &job.repository,
                job_id,
                None,
            )
            .await?;
        // The validator GitHub gave for the head just scanned is what the next sweep sends.
        if let Some((head, etag)) = moved_to.filter(|(head, _)| *head == scanned.head) {
            scan_marks::set_etag(self.store.pool(), job.repository.id, &head, &etag).await?;
        }
        Ok(JobOutcome::new(scanned.summary))
    }

    /// What the scan's result depends on besides the commit and the day ([`reuse::scan_key`]),
    /// for a repository holding `packages`.
    fn scan_key(
        &self,
        options: &RunOptions,
        packages: &std::collections::BTreeSet<crate::store::packages::PackageKey>,
    ) -> String {
        let registry = self.registry.as_ref().map(|lookup| {
            let config = lookup.config();
            (config.pin_digests, config.refresh_every_days)
        });
        let settings = format!(
            "slug={} max-open={} relock={} registry={registry:?}",
            self.app_slug,
            self.max_open_fix_prs,
            self.relocker.is_some()
        );
        // The registry's answers bound how long a mark holds (where marks are written), not
        // its key: a key over them would never match at the next sweep, which has not asked
        // the registry yet.
        let decisions = RunOptions {
            registry: None,
            no_digest_pins: false,
            ..options.clone()
        };
        let advisories =
            crate::knowledge::digest::advisories_digest(&self.knowledge.advisories, packages);
        reuse::scan_key(&self.knowledge.digest(), &advisories, &settings, &decisions)
    }

    /// [`Probe::Unchanged`] when the last scan's result still holds: same knowledge,
    /// decisions and settings, no date that matters passed since, and GitHub says the default
    /// branch has not moved (one conditional request, not counted against the rate limit when
    /// it answers 304).
    async fn unchanged_since_marked(
        &self,
        forge: &dyn Forge,
        repository: &RepoRef,
    ) -> Result<Probe, JobError> {
        let Some(mark) = scan_marks::get(self.store.pool(), repository.id).await? else {
            return Ok(Probe::Unknown);
        };
        let options = decisions::run_options(&self.store, repository.id).await?;
        let packages =
            crate::store::packages::of_repository(self.store.pool(), repository.id).await?;
        let key = self.scan_key(&options, &packages);
        if !reuse::still_valid(&mark, &key, self.clock.now()) {
            return Ok(Probe::Unknown);
        }
        let repo = repository.full_name.as_str();
        let check = forge
            .head_since(
                repo,
                &mark.default_branch,
                &mark.head_sha,
                mark.etag.as_deref(),
            )
            .await
            .map_err(job_error)?;
        Ok(match check {
            HeadCheck::Unchanged => Probe::Unchanged(format!(
                "{repo}@{}: unchanged since the scan of {}; nothing to do",
                short(&mark.head_sha),
                mark.scanned_at.format("%Y-%m-%d %H:%M UTC")
            )),
            HeadCheck::Moved { head, etag } => Probe::Moved { head, etag },
            HeadCheck::Missing => Probe::Unknown,
        })
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
        let mut options = decisions::run_options(&self.store, repository.id).await?;
        let mut analysis = self.analyse(forge, repo, &head, &options, today).await?;
        if let Some(lookup) = &self.registry {
            with_registry(
                lookup,
                &mut analysis,
                &mut options,
                &self.knowledge,
                today,
                now,
            )
            .await;
        }

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
        // The image lineage: what each Dockerfile stage is built from at this commit.
        let base_images = crate::remediation::lineage::base_images(
            &analysis.outcome.manifests,
            options.registry.as_deref(),
        );
        crate::store::lineage::record(&mut conn, repository.id, &head, &base_images, now).await?;
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
        let mut groups = plan_groups_carrying(report, &analysis.snapshot, &kept);
        if let Some(lookup) = &self.registry
            && let Some(refresh) = crate::remedy::groups::refresh_group(report, &analysis.snapshot)
        {
            // Last, so it never takes the place of a security fix; opened at most once per
            // window, and kept up to date while it is open.
            let is_open = open.iter().any(|pr| pr.pull.head_ref == refresh.branch);
            let last = crate::store::fix_prs::last_opened_on_branch(
                self.store.pool(),
                repository.id,
                &refresh.branch,
            )
            .await?;
            let every = lookup.config().refresh_every_days;
            if is_open
                || crate::remedy::groups::refresh_due(last.map(|t| t.date_naive()), today, every)
            {
                groups.push(refresh);
            }
        }
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
        // A failed re-lock is worth another try at the next sweep: no mark, so it rescans.
        if relocks.attempts.iter().all(|a| a.outcome.is_ok()) {
            let exceptions: Vec<&crate::policy::Exception> = analysis
                .outcome
                .repo_config
                .exceptions
                .iter()
                .chain(&options.accepted_risks)
                .collect();
            let blockers: Vec<(&crate::model::Finding, NaiveDate)> = report
                .findings
                .iter()
                .map(|f| {
                    let seen = delta.first_seen.get(&finding_key(f));
                    (f, seen.map_or(today, DateTime::date_naive))
                })
                .collect();
            let until = reuse::next_change(
                &self.knowledge.catalog,
                &exceptions,
                &blockers,
                &self.knowledge.policy,
                today,
            );
            // Tags are pushed and rebuilt without the repository changing: with registries on,
            // an unchanged repository is scanned in full (registry asked) once per refresh
            // window, the pace at which digest refreshes are offered anyway.
            let until = match &self.registry {
                Some(lookup) => {
                    reuse::at_most_days(until, today, lookup.config().refresh_every_days)
                }
                None => until,
            };
            let mark = ScanMark {
                repository_id: repository.id,
                default_branch: default_branch.clone(),
                head_sha: head.clone(),
                etag: None,
                knowledge_key: self.scan_key(&options, &packages),
                reusable_until: until.map(reuse::start_of),
                scanned_at: now,
            };
            scan_marks::put(self.store.pool(), &mark).await?;
        }
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

/// What a sweep's look at a repository's mark and branch found.
enum Probe {
    /// Nothing to do: the job's summary.
    Unchanged(String),
    /// The branch moved to `head`; `etag` is GitHub's validator for it.
    Moved { head: String, etag: Option<String> },
    /// No usable mark, or the branch is gone: scan in full.
    Unknown,
}

/// Runs the pipeline again with what the registries say about the snapshot's images, then once
/// more when fixes move to tags whose digests were not asked for yet. Registry failures are
/// facts (the report's findings keep their catalog-only fixes), never a failed job.
async fn with_registry(
    lookup: &crate::registry::Lookup,
    analysis: &mut Analysis,
    options: &mut RunOptions,
    knowledge: &pipeline::Knowledge,
    today: NaiveDate,
    now: DateTime<Utc>,
) {
    options.no_digest_pins = !lookup.config().pin_digests;
    let mut facts = lookup.gather(&analysis.snapshot, now).await;
    for problem in facts.problems() {
        tracing::warn!(problem = %problem, "registry not checked; image fixes come from the catalog");
    }
    for problem in facts.content_problems() {
        tracing::warn!(problem = %problem, "image OS packages not checked; not known to be clean");
    }
    for round in 0..2 {
        options.registry = Some(Arc::new(facts.clone()));
        let manifests = std::mem::take(&mut analysis.outcome.manifests);
        analysis.outcome = run_parsed(&analysis.snapshot, manifests, knowledge, today, options);
        let missing = facts.missing_digests(&analysis.outcome.report);
        if round == 1 || missing.is_empty() || !lookup.complete(&mut facts, &missing, now).await {
            break;
        }
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

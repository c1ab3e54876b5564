//! Keeping fix pull requests in step with the findings: open one per fix group (most urgent
//! first, up to the repository's limit), update it when its fix changes, close it when it is no
//! longer needed, and never reopen a fix a person closed.
//!
//! What a PR carries is known from the store (`fix_prs`), not read back out of its text.

use super::{Ctx, job_error};
use crate::forge::hosted::{FileChange, ForgeError, PullRequest};
use crate::model::Finding;
use crate::owners::CodeOwners;
use crate::pipeline::{self, Knowledge, RunOptions};
use crate::remedy::groups::{FixGroup, branch_for};
use crate::remedy::verify;
use crate::render::check::{PullAction, PullNote};
use crate::render::messages::{self, Closing as ClosingReason};
use crate::render::templates;
use crate::report::Report;
use crate::snapshot::RepoSnapshot;
use crate::store::fix_prs;
use crate::tracking;
use std::collections::BTreeSet;

type Failure = crate::service::jobs::JobError;

/// Whether `pr` is one of the bot's fix PRs (its branch and its author).
pub fn is_fix_pr(pr: &PullRequest, bot_login: &str) -> bool {
    pr.head_ref.starts_with("patchwright/") && pr.user_login == bot_login
}

/// Why the fix PR on `branch` is no longer wanted, from the scan that dropped it: an ignored
/// update or an accepted risk says who decided it; otherwise its findings are gone. The
/// findings about the PR are those whose package or image has that very branch, so `node`
/// is never confused with `node-fetch`.
pub fn closing_reason<'a>(branch: &str, report: &'a Report) -> ClosingReason<'a> {
    let about = |f: &&Finding| match (f.ecosystem, f.package.as_deref()) {
        (Some(eco), Some(name)) => branch_for(eco, name) == branch,
        _ => false,
    };
    let ignored = report
        .findings
        .iter()
        .filter(about)
        .filter(|f| f.fix.is_none())
        .find_map(|f| {
            let (eco, name) = (f.ecosystem?, f.package.as_deref()?);
            report
                .ignored_updates
                .iter()
                .find(|i| i.withheld > 0 && i.names(eco, name))
        });
    if let Some(ignore) = ignored {
        return ClosingReason::Ignored(ignore);
    }
    match report
        .findings
        .iter()
        .filter(about)
        .find_map(|f| f.exception.as_ref())
    {
        Some(exception) => ClosingReason::Accepted(exception),
        None => ClosingReason::Gone,
    }
}

/// One of the bot's open fix PRs, with the fix the store says it carries (`None` for a PR the
/// store has no row for: it is rebuilt, and recorded then).
pub struct OpenFixPr {
    pub pull: PullRequest,
    pub fix_key: Option<String>,
}

/// The bot's open fix PRs and the fix each carries.
pub async fn open_fix_prs(ctx: &Ctx<'_>) -> Result<Vec<OpenFixPr>, Failure> {
    let pulls = ctx.forge.open_pulls(ctx.repo).await.map_err(job_error)?;
    let mut open = Vec::new();
    for pull in pulls.into_iter().filter(|pr| is_fix_pr(pr, ctx.bot_login)) {
        let stored = fix_prs::get(ctx.store.pool(), ctx.repository_id, pull.number as i64).await?;
        open.push(OpenFixPr {
            pull,
            fix_key: stored.map(|row| row.fix_key),
        });
    }
    Ok(open)
}

/// What to do about one fix group.
enum Step<'p> {
    /// A person closed a PR for this very fix.
    Declined,
    Unchanged(&'p OpenFixPr),
    /// Not opened: the repository is at its limit.
    HeldBack,
    Update(&'p OpenFixPr),
    Open,
}

/// Whether `branch` is the digest-refresh PR's, which `max-open-fix-prs` does not count.
fn is_refresh(branch: &str) -> bool {
    branch == crate::remedy::groups::DIGEST_REFRESH_BRANCH
}

/// One pass over the fix PRs of a repository after a scan of its default branch.
pub struct FixPrSync<'a> {
    pub ctx: &'a Ctx<'a>,
    pub default_branch: &'a str,
    pub max_open: usize,
    /// The repository's accepted risks and ignores, so a fix's verification scan judges as
    /// the scan did.
    pub options: &'a RunOptions,
    pub codeowners: Option<&'a CodeOwners>,
    /// A fix PR to rebuild from the default branch even when its fix is unchanged or a person
    /// pushed to it (the `recreate` command: someone asked for exactly that).
    pub rebuild: Option<u64>,
    /// Branches whose PR is rebuilt although its fix key is unchanged: their re-lock ran
    /// again because its inputs changed on the default branch.
    pub refresh: &'a BTreeSet<String>,
}

#[derive(Debug, Default)]
pub struct SyncResult {
    pub pulls: Vec<PullNote>,
    /// Groups not opened because the repository is at its limit.
    pub held_back: Vec<String>,
    /// Groups a person declined earlier.
    pub declined: Vec<String>,
}

impl FixPrSync<'_> {
    async fn audit(&self, action: &str, reason: String) -> Result<(), Failure> {
        self.ctx.audit(action, reason).await
    }

    /// Opens, updates and closes the bot's fix PRs so that there is one per group in
    /// `groups` (within the limit) and none for anything else.
    /// `open` is what [`open_fix_prs`] read at the start of the pass.
    pub async fn run(
        &self,
        open: &[OpenFixPr],
        groups: &[FixGroup],
        snapshot: &RepoSnapshot,
        before: &Report,
        knowledge: &Knowledge,
    ) -> Result<SyncResult, Failure> {
        // The digest-refresh PR is counted apart from `max_open`: it is one per repository at
        // most, and a low-urgency rebuild must never hold back a security fix's slot.
        let mut open_count = open
            .iter()
            .filter(|pr| !is_refresh(&pr.pull.head_ref))
            .count();
        let mut result = SyncResult::default();
        for group in groups {
            let existing = open.iter().find(|pr| pr.pull.head_ref == group.branch);
            let note = match self.step(group, existing, open_count).await? {
                Step::Declined => {
                    self.audit(
                        "fix-skipped",
                        format!(
                            "{}: a person closed the PR for this fix; not reopening it",
                            group.fix_key
                        ),
                    )
                    .await?;
                    result.declined.push(group.title.clone());
                    continue;
                }
                Step::HeldBack => {
                    result.held_back.push(group.title.clone());
                    continue;
                }
                Step::Unchanged(pr) => note(&pr.pull, &pr.pull.title, PullAction::Unchanged),
                Step::Update(pr) => {
                    let body = self.body(group, snapshot, before, knowledge);
                    self.update(group, &pr.pull, &body).await?
                }
                Step::Open => {
                    let body = self.body(group, snapshot, before, knowledge);
                    let opened = self.open(group, &body, knowledge).await?;
                    if !is_refresh(&group.branch) {
                        open_count += 1;
                    }
                    opened
                }
            };
            result.pulls.push(note);
        }
        // The bot's PRs whose fix is no longer needed (fixed elsewhere, or the finding went).
        for pr in open
            .iter()
            .filter(|pr| !groups.iter().any(|g| g.branch == pr.pull.head_ref))
        {
            result.pulls.push(self.close(&pr.pull, before).await?);
        }
        Ok(result)
    }

    async fn step<'p>(
        &self,
        group: &FixGroup,
        existing: Option<&'p OpenFixPr>,
        open_count: usize,
    ) -> Result<Step<'p>, Failure> {
        if fix_prs::declined(
            self.ctx.store.pool(),
            self.ctx.repository_id,
            &group.fix_key,
        )
        .await?
        {
            return Ok(Step::Declined);
        }
        Ok(match existing {
            Some(pr) if self.rebuild == Some(pr.pull.number) => Step::Update(pr),
            Some(pr) if self.refresh.contains(&group.branch) => Step::Update(pr),
            Some(pr) if pr.fix_key.as_deref() == Some(group.fix_key.as_str()) => {
                Step::Unchanged(pr)
            }
            Some(pr) => Step::Update(pr),
            // 0 opens none at all; otherwise the refresh PR has a place of its own.
            None if self.max_open == 0
                || (open_count >= self.max_open && !is_refresh(&group.branch)) =>
            {
                Step::HeldBack
            }
            None => Step::Open,
        })
    }

    /// The files of the group as a commit on the scanned head.
    async fn commit(&self, group: &FixGroup) -> Result<String, Failure> {
        let changes: Vec<FileChange> = group
            .files
            .iter()
            .map(|(path, content)| FileChange {
                path: path.clone(),
                content: content.clone(),
                mode: "100644".into(),
            })
            .collect();
        let message = messages::fix_commit_message(&group.title);
        self.ctx
            .forge
            .create_commit(self.ctx.repo, self.ctx.head, &changes, &message)
            .await
            .map_err(job_error)
    }

    /// Puts the group's fix on an existing PR, unless a person pushed to its branch (then it
    /// says so on the PR and leaves their work alone, except on `recreate`).
    async fn update(
        &self,
        group: &FixGroup,
        pr: &PullRequest,
        body: &str,
    ) -> Result<PullNote, Failure> {
        let forge = self.ctx.forge;
        let repo = self.ctx.repo;
        let rebuild = self.rebuild == Some(pr.number);
        let head = forge.commit(repo, &pr.head_sha).await.map_err(job_error)?;
        if head.author_login.as_deref() != Some(self.ctx.bot_login) && !rebuild {
            let text = messages::fix_pr_not_updated(
                &group.fix_key,
                self.ctx.app_slug,
                self.default_branch,
            );
            forge
                .create_comment(repo, pr.number, &text)
                .await
                .map_err(job_error)?;
            self.audit(
                "fix-pr-not-updated",
                format!("#{}: branch has commits by others", pr.number),
            )
            .await?;
            return Ok(note(pr, &pr.title, PullAction::NeedsRecreate));
        }
        let commit = self.commit(group).await?;
        forge
            .update_branch(repo, &group.branch, &commit, true)
            .await
            .map_err(job_error)?;
        forge
            .update_pull(repo, pr.number, &group.title, body)
            .await
            .map_err(job_error)?;
        let pool = self.ctx.store.pool();
        let number = pr.number as i64;
        let recorded = fix_prs::set_fix(
            pool,
            self.ctx.repository_id,
            number,
            &group.fix_key,
            &commit,
            self.ctx.now,
        )
        .await?;
        if !recorded {
            // A PR the store did not know: from now on it does.
            self.record_opened(group, number, &commit).await?;
        }
        let action = if rebuild {
            PullAction::Rebuilt
        } else {
            PullAction::Updated
        };
        let audited = if rebuild {
            "fix-pr-recreated"
        } else {
            "fix-pr-updated"
        };
        self.audit(
            audited,
            format!("#{} {action}: {}", pr.number, group.fix_key),
        )
        .await?;
        Ok(note(pr, &group.title, action))
    }

    /// Opens a PR for the group: commit, branch, PR, labels, reviewers, and the stored row.
    async fn open(
        &self,
        group: &FixGroup,
        body: &str,
        knowledge: &Knowledge,
    ) -> Result<PullNote, Failure> {
        let forge = self.ctx.forge;
        let repo = self.ctx.repo;
        let commit = self.commit(group).await?;
        // A branch left over from an earlier, closed PR of the bot is reused.
        match forge
            .branch_head(repo, &group.branch)
            .await
            .map_err(job_error)?
        {
            Some(_) => {
                forge
                    .update_branch(repo, &group.branch, &commit, true)
                    .await
            }
            None => forge.create_branch(repo, &group.branch, &commit).await,
        }
        .map_err(job_error)?;
        let pr = forge
            .create_pull(repo, &group.branch, self.default_branch, &group.title, body)
            .await
            .map_err(job_error)?;
        let mut labels = vec![group.level.as_str().to_string()];
        if group.findings.iter().any(|f| !f.advisories.is_empty()) {
            labels.insert(0, "security".to_string());
        }
        forge
            .add_labels(repo, pr.number, &labels)
            .await
            .map_err(job_error)?;
        self.request_reviews(pr.number, group, &knowledge.policy.fallback_owners)
            .await?;
        self.record_opened(group, pr.number as i64, &commit).await?;
        self.audit(
            "fix-pr-opened",
            format!("#{} for {} ({})", pr.number, group.fix_key, group.level),
        )
        .await?;
        Ok(note(&pr, &group.title, PullAction::Opened))
    }

    async fn record_opened(
        &self,
        group: &FixGroup,
        number: i64,
        head: &str,
    ) -> Result<(), Failure> {
        fix_prs::insert(
            self.ctx.store.pool(),
            &fix_prs::OpenedFixPr {
                repository_id: self.ctx.repository_id,
                number,
                branch: &group.branch,
                fix_key: &group.fix_key,
                head_sha: head,
            },
            self.ctx.now,
        )
        .await?;
        Ok(())
    }

    /// Closes a fix PR no scan wants any more, saying why, and deletes its branch.
    async fn close(&self, pr: &PullRequest, report: &Report) -> Result<PullNote, Failure> {
        let forge = self.ctx.forge;
        let repo = self.ctx.repo;
        let text = messages::fix_pr_closed(
            closing_reason(&pr.head_ref, report),
            self.default_branch,
            self.ctx.head,
        );
        forge
            .create_comment(repo, pr.number, &text)
            .await
            .map_err(job_error)?;
        forge.close_pull(repo, pr.number).await.map_err(job_error)?;
        forge
            .delete_branch(repo, &pr.head_ref)
            .await
            .map_err(job_error)?;
        fix_prs::record_closed(
            self.ctx.store.pool(),
            self.ctx.repository_id,
            pr.number as i64,
            false,
            false,
            self.ctx.now,
        )
        .await?;
        self.audit("fix-pr-closed", format!("#{}: no longer needed", pr.number))
            .await?;
        Ok(note(pr, &pr.title, PullAction::Closed))
    }

    /// Asks the owners of the files a fix touches (CODEOWNERS, else the org's fallback owners)
    /// to review it. GitHub refuses some (not collaborators, the author): the PR stands
    /// anyway, and the audit trail says who was refused and why.
    async fn request_reviews(
        &self,
        number: u64,
        group: &FixGroup,
        fallback: &[String],
    ) -> Result<(), Failure> {
        let files: Vec<&str> = group.files.iter().map(|(path, _)| path.as_str()).collect();
        let who =
            tracking::reviewers_for_files(self.codeowners, &files, fallback, self.ctx.bot_login);
        if who.users.is_empty() && who.teams.is_empty() {
            return Ok(());
        }
        let named = who
            .users
            .iter()
            .map(|u| format!("@{u}"))
            .chain(who.teams.iter().map(|t| format!("team {t}")))
            .collect::<Vec<_>>()
            .join(", ");
        match self
            .ctx
            .forge
            .request_reviewers(self.ctx.repo, number, &who.users, &who.teams)
            .await
        {
            Ok(()) => {
                self.audit("review-requested", format!("#{number}: {named}"))
                    .await
            }
            Err(ForgeError::Conflict(why)) => {
                self.audit(
                    "review-request-refused",
                    format!("#{number}: GitHub refused {named}: {why}"),
                )
                .await
            }
            Err(e) => Err(job_error(e)),
        }
    }

    /// The PR body: the risk statement for this group alone, verified by re-scanning with only
    /// its files changed.
    fn body(
        &self,
        group: &FixGroup,
        snapshot: &RepoSnapshot,
        before: &Report,
        knowledge: &Knowledge,
    ) -> String {
        let mut after_snapshot = snapshot.clone();
        for (path, content) in &group.files {
            after_snapshot.files.insert(path.clone(), content.clone());
        }
        let after = pipeline::run(&after_snapshot, knowledge, self.ctx.today, self.options).report;
        let verification = verify(before, &after);
        let fixed: Vec<&Finding> = group.findings.iter().collect();
        let slug = self.ctx.app_slug;
        let commands = [
            format!("@{slug} rescan"),
            format!("@{slug} recreate"),
            format!("@{slug} explain <id>"),
            format!("@{slug} ignore {}", group.subject),
        ];
        templates::fix_body(
            &group.title,
            &fixed,
            before,
            &after,
            &verification,
            &commands,
        )
    }
}

fn note(pr: &PullRequest, title: &str, action: PullAction) -> PullNote {
    PullNote {
        number: pr.number,
        title: title.to_string(),
        action,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AppliedException, Ecosystem, ExceptionOrigin, Location, RuleId};
    use crate::policy::{IgnoreScope, IgnoreStatus};
    use chrono::NaiveDate;

    fn finding(eco: Ecosystem, package: &str, subject: &str) -> Finding {
        let mut f = Finding::new(
            RuleId::VulnerableDependency,
            Location::new("web/package-lock.json", 3, 1),
            subject,
            "affected",
        );
        f.ecosystem = Some(eco);
        f.package = Some(package.to_string());
        f
    }

    fn accepted(mut f: Finding) -> Finding {
        let day = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        f.exception = Some(AppliedException {
            id: "GHSA-x".into(),
            reason: "not reachable".into(),
            owner: "@alice".into(),
            expires: day,
            origin: ExceptionOrigin::Command {
                granted_by: "alice".into(),
                granted_at: day,
                source: "acme/shop#3 comment 9".into(),
            },
        });
        f
    }

    fn report(findings: Vec<Finding>) -> Report {
        Report {
            inventory: Vec::new(),
            findings,
            errors: Vec::new(),
            summary: crate::report::Summary::default(),
            provenance: crate::report::Provenance::default(),
            exceptions: Vec::new(),
            ignored_updates: Vec::new(),
        }
    }

    #[test]
    fn a_closing_reason_is_about_the_prs_own_package_not_one_that_starts_like_it() {
        // The node image's PR: node-fetch's accepted risk has nothing to do with it.
        let r = report(vec![accepted(finding(
            Ecosystem::Npm,
            "node-fetch",
            "node-fetch@2.6.0",
        ))]);
        assert_eq!(
            closing_reason("patchwright/docker/node", &r),
            ClosingReason::Gone
        );
        assert_eq!(
            closing_reason("patchwright/npm/node", &r),
            ClosingReason::Gone
        );
        assert!(matches!(
            closing_reason("patchwright/npm/node-fetch", &r),
            ClosingReason::Accepted(e) if e.id == "GHSA-x"
        ));
    }

    #[test]
    fn an_ignore_that_withheld_the_fix_is_the_reason() {
        let mut r = report(vec![finding(Ecosystem::PyPI, "Django", "Django@4.2.1")]);
        let ignore = IgnoreStatus {
            name: "django".into(),
            scope: IgnoreScope::All,
            created_by: "bob".into(),
            created_at: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            source: "acme/shop#4 comment 10".into(),
            withheld: 1,
        };
        r.ignored_updates = vec![ignore.clone()];
        assert_eq!(
            closing_reason("patchwright/pypi/django", &r),
            ClosingReason::Ignored(&ignore)
        );
        // An ignore that withheld nothing is not why.
        r.ignored_updates[0].withheld = 0;
        assert_eq!(
            closing_reason("patchwright/pypi/django", &r),
            ClosingReason::Gone
        );
    }
}

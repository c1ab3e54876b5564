//! Keeping fix pull requests in step with the findings: open one per fix group (most urgent
//! first, up to the repository's limit), update it when its fix changes, close it when it is no
//! longer needed, and never reopen a fix a person closed.

use super::check::PullNote;
use super::{Ctx, job_error, short};
use crate::forge::hosted::{FileChange, ForgeError, PullRequest};
use crate::owners::CodeOwners;
use crate::pipeline::{self, Knowledge, RunOptions};
use crate::remedy::groups::FixGroup;
use crate::remedy::verify;
use crate::render::templates;
use crate::report::Report;
use crate::snapshot::RepoSnapshot;
use crate::store::fix_prs;
use crate::tracking;

/// Whether `pr` is one of the bot's fix PRs (its branch and its author).
pub fn is_fix_pr(pr: &PullRequest, bot_login: &str) -> bool {
    pr.head_ref.starts_with("patchwright/") && pr.user_login == bot_login
}

/// Why a fix PR is no longer wanted, from the scan that dropped it: an ignored update or an
/// accepted risk says who decided it; otherwise the findings it fixed are gone.
pub fn closing_reason(pr_body: &str, report: &Report) -> String {
    let subject = fix_key_in(pr_body)
        .and_then(|key| key.split_once('/'))
        .map(|(_, rest)| rest.rsplit_once('@').map_or(rest, |(name, _)| name));
    let about = |f: &&crate::model::Finding| {
        subject.is_some_and(|s| f.package.as_deref() == Some(s) || f.subject.starts_with(s))
    };
    if let Some(f) = report.findings.iter().filter(about).find(|f| {
        f.fix.is_none()
            && f.no_fix_reason
                .as_deref()
                .is_some_and(|r| r.contains("ignored"))
    }) {
        return f.no_fix_reason.clone().unwrap_or_default();
    }
    if let Some(e) = report
        .findings
        .iter()
        .filter(about)
        .find_map(|f| f.exception.as_ref())
    {
        return format!(
            "its findings are covered by an accepted risk until {} ({}): {}",
            e.expires,
            e.origin.describe(),
            e.reason
        );
    }
    "the findings this PR fixed are gone from the default branch, so it is no longer needed"
        .to_string()
}

/// A hidden tag in every fix PR body, so the bot can tell what fix a PR carries.
pub fn fix_key_tag(fix_key: &str) -> String {
    format!("<!-- patchwright:fix-key={fix_key} -->")
}

/// Reads the fix key back out of a PR body.
pub fn fix_key_in(body: &str) -> Option<&str> {
    let start = body.find("<!-- patchwright:fix-key=")? + "<!-- patchwright:fix-key=".len();
    let end = body[start..].find(" -->")? + start;
    Some(&body[start..end])
}

pub struct Sync<'a> {
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
}

#[derive(Debug, Default)]
pub struct SyncResult {
    pub pulls: Vec<PullNote>,
    /// Groups not opened because the repository is at its limit.
    pub held_back: Vec<String>,
    /// Groups a person declined earlier.
    pub declined: Vec<String>,
}

type Failure = crate::service::jobs::JobError;

impl Sync<'_> {
    async fn audit(&self, action: &str, reason: String) -> Result<(), Failure> {
        self.ctx.audit(action, reason).await
    }

    fn is_bots(&self, pr: &PullRequest) -> bool {
        is_fix_pr(pr, self.ctx.bot_login)
    }

    pub async fn run(
        &self,
        groups: &[FixGroup],
        snapshot: &RepoSnapshot,
        before: &Report,
        knowledge: &Knowledge,
    ) -> Result<SyncResult, Failure> {
        let mut result = SyncResult::default();
        let open: Vec<PullRequest> = self
            .ctx
            .forge
            .open_pulls(self.ctx.repo)
            .await
            .map_err(job_error)?
            .into_iter()
            .filter(|pr| self.is_bots(pr))
            .collect();
        let mut open_count = open.len();

        for group in groups {
            if fix_prs::declined(
                self.ctx.store.pool(),
                self.ctx.repository_id,
                &group.fix_key,
            )
            .await?
            {
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
            let existing = open.iter().find(|pr| pr.head_ref == group.branch);
            let rebuild = existing.is_some_and(|pr| self.rebuild == Some(pr.number));
            if let Some(pr) = existing
                && fix_key_in(&pr.body) == Some(group.fix_key.as_str())
                && !rebuild
            {
                result.pulls.push(PullNote {
                    number: pr.number,
                    title: pr.title.clone(),
                    action: "unchanged".into(),
                });
                continue;
            }
            if existing.is_none() && open_count >= self.max_open {
                result.held_back.push(group.title.clone());
                continue;
            }
            let body = self.body(group, snapshot, before, knowledge);
            let changes: Vec<FileChange> = group
                .files
                .iter()
                .map(|(path, content)| FileChange {
                    path: path.clone(),
                    content: content.clone(),
                    mode: "100644".into(),
                })
                .collect();
            let message = format!(
                "{}\n\n{}",
                group.title, "Opened by patchwright; see the pull request for the risk statement."
            );
            match existing {
                Some(pr) => {
                    // Only ever replace the bot's own work: a person may have pushed to the branch.
                    let head = self
                        .ctx
                        .forge
                        .commit(self.ctx.repo, &pr.head_sha)
                        .await
                        .map_err(job_error)?;
                    if head.author_login.as_deref() != Some(self.ctx.bot_login) && !rebuild {
                        self.ctx.forge
                            .create_comment(
                                self.ctx.repo,
                                pr.number,
                                &format!(
                                    "The fix for this PR changed (now `{}`), but the branch has commits that are not mine, so I did not force-push over them. Comment `@{} recreate` to rebuild it from `{}`.",
                                    group.fix_key, self.ctx.app_slug, self.default_branch
                                ),
                            )
                            .await
                            .map_err(job_error)?;
                        self.audit(
                            "fix-pr-not-updated",
                            format!("#{}: branch has commits by others", pr.number),
                        )
                        .await?;
                        result.pulls.push(PullNote {
                            number: pr.number,
                            title: pr.title.clone(),
                            action: "needs recreate".into(),
                        });
                        continue;
                    }
                    let commit = self
                        .ctx
                        .forge
                        .create_commit(self.ctx.repo, self.ctx.head, &changes, &message)
                        .await
                        .map_err(job_error)?;
                    self.ctx
                        .forge
                        .update_branch(self.ctx.repo, &group.branch, &commit, true)
                        .await
                        .map_err(job_error)?;
                    self.ctx
                        .forge
                        .update_pull(self.ctx.repo, pr.number, &group.title, &body)
                        .await
                        .map_err(job_error)?;
                    fix_prs::set_head(
                        self.ctx.store.pool(),
                        self.ctx.repository_id,
                        pr.number as i64,
                        &commit,
                        self.ctx.now,
                    )
                    .await?;
                    let (action, what) = if rebuild {
                        ("fix-pr-recreated", "rebuilt from the default branch")
                    } else {
                        ("fix-pr-updated", "updated")
                    };
                    self.audit(action, format!("#{} {what}: {}", pr.number, group.fix_key))
                        .await?;
                    result.pulls.push(PullNote {
                        number: pr.number,
                        title: group.title.clone(),
                        action: what.into(),
                    });
                }
                None => {
                    let commit = self
                        .ctx
                        .forge
                        .create_commit(self.ctx.repo, self.ctx.head, &changes, &message)
                        .await
                        .map_err(job_error)?;
                    // A branch left over from an earlier, closed PR of the bot is reused.
                    match self
                        .ctx
                        .forge
                        .branch_head(self.ctx.repo, &group.branch)
                        .await
                        .map_err(job_error)?
                    {
                        Some(_) => {
                            self.ctx
                                .forge
                                .update_branch(self.ctx.repo, &group.branch, &commit, true)
                                .await
                        }
                        None => {
                            self.ctx
                                .forge
                                .create_branch(self.ctx.repo, &group.branch, &commit)
                                .await
                        }
                    }
                    .map_err(job_error)?;
                    let pr = self
                        .ctx
                        .forge
                        .create_pull(
                            self.ctx.repo,
                            &group.branch,
                            self.default_branch,
                            &group.title,
                            &body,
                        )
                        .await
                        .map_err(job_error)?;
                    let mut labels = vec![group.level.as_str().to_string()];
                    if group.findings.iter().any(|f| !f.advisories.is_empty()) {
                        labels.insert(0, "security".to_string());
                    }
                    self.ctx
                        .forge
                        .add_labels(self.ctx.repo, pr.number, &labels)
                        .await
                        .map_err(job_error)?;
                    self.request_reviews(pr.number, group, &knowledge.policy.fallback_owners)
                        .await?;
                    fix_prs::insert(
                        self.ctx.store.pool(),
                        &fix_prs::OpenedFixPr {
                            repository_id: self.ctx.repository_id,
                            number: pr.number as i64,
                            branch: &group.branch,
                            fix_key: &group.fix_key,
                            head_sha: &commit,
                        },
                        self.ctx.now,
                    )
                    .await?;
                    open_count += 1;
                    self.audit(
                        "fix-pr-opened",
                        format!("#{} for {} ({})", pr.number, group.fix_key, group.level),
                    )
                    .await?;
                    result.pulls.push(PullNote {
                        number: pr.number,
                        title: group.title.clone(),
                        action: "opened".into(),
                    });
                }
            }
        }

        // Close the bot's PRs whose fix is no longer needed (fixed elsewhere, or the finding went).
        for pr in open
            .iter()
            .filter(|pr| !groups.iter().any(|g| g.branch == pr.head_ref))
        {
            self.ctx
                .forge
                .create_comment(
                    self.ctx.repo,
                    pr.number,
                    &format!(
                        "Closing: {}. Checked on `{}` at {}.",
                        closing_reason(&pr.body, before),
                        self.default_branch,
                        short(self.ctx.head)
                    ),
                )
                .await
                .map_err(job_error)?;
            self.ctx
                .forge
                .close_pull(self.ctx.repo, pr.number)
                .await
                .map_err(job_error)?;
            self.ctx
                .forge
                .delete_branch(self.ctx.repo, &pr.head_ref)
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
            result.pulls.push(PullNote {
                number: pr.number,
                title: pr.title.clone(),
                action: "closed: no longer needed".into(),
            });
        }
        Ok(result)
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
        let fixed: Vec<&crate::model::Finding> = group.findings.iter().collect();
        let commands = [
            format!("@{} rescan", self.ctx.app_slug),
            format!("@{} recreate", self.ctx.app_slug),
            format!("@{} explain <id>", self.ctx.app_slug),
            format!("@{} ignore {}", self.ctx.app_slug, group.subject),
        ];
        let mut body = templates::fix_body(
            &group.title,
            &fixed,
            before,
            &after,
            &verification,
            &commands,
        );
        body.push_str("\n\n");
        body.push_str(&fix_key_tag(&group.fix_key));
        body
    }
}

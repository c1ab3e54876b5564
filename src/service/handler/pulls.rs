//! Keeping fix pull requests in step with the findings: open one per fix group (most urgent
//! first, up to the repository's limit), update it when its fix changes, close it when it is no
//! longer needed, and never reopen a fix a person closed.

use super::check::PullNote;
use crate::forge::hosted::{FileChange, Forge, PullRequest};
use crate::pipeline::{self, Knowledge, RunOptions};
use crate::remedy::groups::FixGroup;
use crate::remedy::verify;
use crate::render::templates;
use crate::report::Report;
use crate::snapshot::RepoSnapshot;
use crate::store::audit::{self, AuditEntry};
use crate::store::{Store, fix_prs};
use chrono::{DateTime, NaiveDate, Utc};

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
    pub forge: &'a dyn Forge,
    pub store: &'a Store,
    pub repo: &'a str,
    pub repository_id: i64,
    pub installation_id: i64,
    pub job_id: i64,
    pub bot_login: &'a str,
    pub app_slug: &'a str,
    pub default_branch: &'a str,
    pub head: &'a str,
    pub max_open: usize,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
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

fn forge_failure(e: crate::forge::hosted::ForgeError) -> Failure {
    super::job_error(e)
}

impl Sync<'_> {
    async fn audit(&self, action: &str, reason: String) -> Result<(), Failure> {
        let mut entry = AuditEntry::new(self.now, action, reason);
        entry.installation_id = Some(self.installation_id);
        entry.repository_id = Some(self.repository_id);
        entry.job_id = Some(self.job_id);
        audit::record(self.store.pool(), &entry).await?;
        Ok(())
    }

    fn is_bots(&self, pr: &PullRequest) -> bool {
        pr.head_ref.starts_with("patchwright/") && pr.user_login == self.bot_login
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
            .forge
            .open_pulls(self.repo)
            .await
            .map_err(forge_failure)?
            .into_iter()
            .filter(|pr| self.is_bots(pr))
            .collect();
        let mut open_count = open.len();

        for group in groups {
            if fix_prs::declined(self.store.pool(), self.repository_id, &group.fix_key).await? {
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
            if let Some(pr) = existing
                && fix_key_in(&pr.body) == Some(group.fix_key.as_str())
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
                        .forge
                        .commit(self.repo, &pr.head_sha)
                        .await
                        .map_err(forge_failure)?;
                    if head.author_login.as_deref() != Some(self.bot_login) {
                        self.forge
                            .create_comment(
                                self.repo,
                                pr.number,
                                &format!(
                                    "The fix for this PR changed (now `{}`), but the branch has commits that are not mine, so I did not force-push over them. Comment `@{} recreate` to rebuild it from `{}`.",
                                    group.fix_key, self.app_slug, self.default_branch
                                ),
                            )
                            .await
                            .map_err(forge_failure)?;
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
                        .forge
                        .create_commit(self.repo, self.head, &changes, &message)
                        .await
                        .map_err(forge_failure)?;
                    self.forge
                        .update_branch(self.repo, &group.branch, &commit, true)
                        .await
                        .map_err(forge_failure)?;
                    self.forge
                        .update_pull(self.repo, pr.number, &group.title, &body)
                        .await
                        .map_err(forge_failure)?;
                    fix_prs::set_head(
                        self.store.pool(),
                        self.repository_id,
                        pr.number as i64,
                        &commit,
                        self.now,
                    )
                    .await?;
                    self.audit(
                        "fix-pr-updated",
                        format!("#{} now carries {}", pr.number, group.fix_key),
                    )
                    .await?;
                    result.pulls.push(PullNote {
                        number: pr.number,
                        title: group.title.clone(),
                        action: "updated".into(),
                    });
                }
                None => {
                    let commit = self
                        .forge
                        .create_commit(self.repo, self.head, &changes, &message)
                        .await
                        .map_err(forge_failure)?;
                    // A branch left over from an earlier, closed PR of the bot is reused.
                    match self
                        .forge
                        .branch_head(self.repo, &group.branch)
                        .await
                        .map_err(forge_failure)?
                    {
                        Some(_) => {
                            self.forge
                                .update_branch(self.repo, &group.branch, &commit, true)
                                .await
                        }
                        None => {
                            self.forge
                                .create_branch(self.repo, &group.branch, &commit)
                                .await
                        }
                    }
                    .map_err(forge_failure)?;
                    let pr = self
                        .forge
                        .create_pull(
                            self.repo,
                            &group.branch,
                            self.default_branch,
                            &group.title,
                            &body,
                        )
                        .await
                        .map_err(forge_failure)?;
                    let mut labels = vec![group.level.as_str().to_string()];
                    if group.findings.iter().any(|f| !f.advisories.is_empty()) {
                        labels.insert(0, "security".to_string());
                    }
                    self.forge
                        .add_labels(self.repo, pr.number, &labels)
                        .await
                        .map_err(forge_failure)?;
                    fix_prs::insert(
                        self.store.pool(),
                        &fix_prs::OpenedFixPr {
                            repository_id: self.repository_id,
                            number: pr.number as i64,
                            branch: &group.branch,
                            fix_key: &group.fix_key,
                            head_sha: &commit,
                        },
                        self.now,
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
            self.forge
                .create_comment(
                    self.repo,
                    pr.number,
                    &format!(
                        "Closing: `{}` no longer needs this fix on `{}` at {}.",
                        pr.head_ref,
                        self.default_branch,
                        short(self.head)
                    ),
                )
                .await
                .map_err(forge_failure)?;
            self.forge
                .close_pull(self.repo, pr.number)
                .await
                .map_err(forge_failure)?;
            self.forge
                .delete_branch(self.repo, &pr.head_ref)
                .await
                .map_err(forge_failure)?;
            fix_prs::record_closed(
                self.store.pool(),
                self.repository_id,
                pr.number as i64,
                false,
                false,
                self.now,
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
        let after = pipeline::run(
            &after_snapshot,
            knowledge,
            self.today,
            &RunOptions::default(),
        )
        .report;
        let verification = verify(before, &after);
        let fixed: Vec<&crate::model::Finding> = group.findings.iter().collect();
        let commands = [
            format!("@{} rescan", self.app_slug),
            format!("@{} recreate", self.app_slug),
            format!("@{} explain <id>", self.app_slug),
            format!("@{} ignore {}", self.app_slug, group.subject),
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

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

//! Commands in PR and issue comments: parse, check who may, act, and always answer: a reaction
//! at once, then one reply with every command's result, and an audit entry for each change.

use super::{ScanHandler, decisions, job_error, pulls, record_audit, short};
use crate::commands::{
    self, Answer, Command, CommandName, Target, explain, parse_comment, validate_accept_risk,
};
use crate::forge::hosted::{Forge, ForgeError, PullRequest, Reaction};
use crate::render::markers;
use crate::render::messages::{self, Outcome};
use crate::service::jobs::{CommentJob, Job, JobError, JobOutcome};

/// Whether `error` ends the job for good, so that nobody would otherwise answer the person. A
/// rate limit never does: the job waits and runs again.
fn is_final(error: &JobError, last_attempt: bool) -> bool {
    match error {
        JobError::Permanent(_) => true,
        JobError::Retryable(_) => last_attempt,
        JobError::RateLimited { .. } => false,
    }
}

/// Permissions GitHub reports that allow changing what the bot does.
fn may_change(permission: &str) -> bool {
    matches!(permission, "admin" | "maintain" | "write")
}

/// What a command left to do after the commands of a comment are recorded: one scan serves
/// them all, so three commands in one comment do not scan three times.
enum Pending {
    Rescan,
    Recreate(u64),
    /// accept-risk / revoke / ignore / unignore: say what the scan made of it.
    Decision,
}

/// What every command of one comment needs: where it was asked, by whom, and when.
struct Asked<'a> {
    forge: &'a dyn Forge,
    job: &'a CommentJob,
    job_id: i64,
    pull: Option<&'a PullRequest>,
    now: chrono::DateTime<chrono::Utc>,
    /// `acme/shop#12 (comment 345)`, as audit entries and decisions cite it.
    source: String,
}

impl ScanHandler {
    pub(super) async fn comment(
        &self,
        run: &Job,
        job: &CommentJob,
    ) -> Result<JobOutcome, JobError> {
        let job_id = run.id;
        let repo = job.repository.full_name.as_str();
        let place = format!("{repo}#{} comment {}", job.issue_number, job.comment_id);
        // Intake drops bot comments already; a comment queued before that rule, or an app whose
        // login does not end in [bot], must still never start a conversation between bots.
        if job.author == self.bot_login || job.author.ends_with("[bot]") {
            return Ok(JobOutcome::new(format!("{place}: by a bot; ignored")));
        }
        let parsed = parse_comment(&job.body, &self.app_slug);
        if parsed.is_empty() {
            return Ok(JobOutcome::new(format!(
                "{place}: no command for @{}",
                self.app_slug
            )));
        }
        let forge = self.forge(job.installation_id).await?;
        let forge = forge.as_ref();
        let number = job.issue_number as u64;
        let comment_id = job.comment_id as u64;
        // A retry after the reply went out (the last reaction failed) must not answer twice.
        let tag = markers::reply_to(comment_id);
        if run.attempts > 1
            && forge
                .comments(repo, number)
                .await
                .map_err(job_error)?
                .iter()
                .any(|c| c.user_login == self.bot_login && c.body.contains(&tag))
        {
            return Ok(JobOutcome::new(format!("{place}: already answered")));
        }
        match forge.react(repo, comment_id, Reaction::Eyes).await {
            Ok(()) => {}
            Err(ForgeError::NotFound(_)) => {
                return Ok(JobOutcome::new(format!(
                    "{place}: the comment was deleted before it was read"
                )));
            }
            Err(e) => return Err(job_error(e)),
        }

        let answers = match self.answer(forge, job, job_id, parsed, number).await {
            Ok(answers) => answers,
            // Never leave a command with only 👀: when no retry follows, say it failed (the
            // detail is for the logs, not for the comment), then let the runner record it.
            Err(error) if is_final(&error, run.last_attempt) => {
                self.answer_failure(forge, run, job, &place, &error).await;
                return Err(error);
            }
            Err(other) => return Err(other),
        };

        let mut body = messages::command_reply(&job.author, &self.app_slug, repo, &answers);
        body.push_str(&tag);
        body.push('\n');
        forge
            .create_comment(repo, number, &body)
            .await
            .map_err(job_error)?;
        let all_ok = answers.iter().all(Answer::succeeded);
        let reaction = if all_ok {
            Reaction::PlusOne
        } else {
            Reaction::Confused
        };
        forge
            .react(repo, comment_id, reaction)
            .await
            .map_err(job_error)?;
        let done = answers.iter().filter(|a| a.succeeded()).count();
        Ok(JobOutcome::new(format!(
            "{place}: {done} of {} command(s) run for @{}",
            answers.len(),
            job.author
        )))
    }

    /// Checks permission once, runs each command and completes the answers with the one scan
    /// they need.
    async fn answer(
        &self,
        forge: &dyn Forge,
        job: &CommentJob,
        job_id: i64,
        parsed: Vec<Result<Command, commands::CommandError>>,
        number: u64,
    ) -> Result<Vec<Answer>, JobError> {
        let repo = job.repository.full_name.as_str();
        let needs_write = parsed
            .iter()
            .any(|r| r.as_ref().is_ok_and(Command::changes_state));
        let permission = if needs_write {
            Some(
                forge
                    .permission(repo, &job.author)
                    .await
                    .map_err(job_error)?,
            )
        } else {
            None
        };
        let pull = if job.is_pull_request {
            Some(forge.pull(repo, number).await.map_err(job_error)?)
        } else {
            None
        };
        let now = self.clock.now();
        let asked = Asked {
            forge,
            job,
            job_id,
            pull: pull.as_ref(),
            now,
            source: format!("{repo}#{} (comment {})", job.issue_number, job.comment_id),
        };
        let mut answers: Vec<Answer> = Vec::new();
        let mut pending: Vec<(usize, Pending)> = Vec::new();
        for result in parsed {
            let answer = match result {
                Err(error) => Answer::Invalid(error),
                Ok(command) => match &permission {
                    Some(permission) if command.changes_state() && !may_change(permission) => {
                        self.refuse(&asked, command.name(), permission).await?
                    }
                    _ => {
                        let (answer, later) = self.run_command(&asked, command).await?;
                        if let Some(later) = later {
                            pending.push((answers.len(), later));
                        }
                        answer
                    }
                },
            };
            answers.push(answer);
        }
        if !pending.is_empty() {
            self.finish_pending(forge, job, job_id, pull.as_ref(), &pending, &mut answers)
                .await?;
        }
        Ok(answers)
    }

    /// A state-changing command from someone without write access: audited and refused.
    async fn refuse(
        &self,
        asked: &Asked<'_>,
        name: CommandName,
        permission: &str,
    ) -> Result<Answer, JobError> {
        self.audit(
            asked.job,
            asked.job_id,
            "command-refused",
            format!(
                "@{} ({permission}) may not run `{}` in {}",
                asked.job.author,
                name.as_str(),
                asked.source
            ),
        )
        .await?;
        Ok(Answer::Refused {
            command: name,
            permission: permission.to_string(),
        })
    }

    /// Runs one command the author may run; returns its answer and what is left for the one
    /// scan of the comment to complete.
    async fn run_command(
        &self,
        asked: &Asked<'_>,
        command: Command,
    ) -> Result<(Answer, Option<Pending>), JobError> {
        let name = command.name();
        let done = |text: String| Answer::Done {
            command: name,
            text,
        };
        match command {
            Command::Help => Ok((done(commands::help(&self.app_slug)), None)),
            Command::Explain { target } => {
                let text = self
                    .explain(
                        asked.forge,
                        asked.job,
                        asked.pull,
                        &target,
                        asked.now.date_naive(),
                    )
                    .await?;
                Ok((done(text), None))
            }
            Command::Rescan => {
                self.audit_ran(asked, name).await?;
                Ok((done(String::new()), Some(Pending::Rescan)))
            }
            Command::Recreate => self.recreate(asked).await,
            decision @ (Command::AcceptRisk { .. }
            | Command::Revoke { .. }
            | Command::Ignore { .. }
            | Command::Unignore { .. }) => self.decide(asked, decision).await,
        }
    }

    /// `recreate`: only on an open fix PR of the bot's, rebuilt by the comment's scan.
    async fn recreate(&self, asked: &Asked<'_>) -> Result<(Answer, Option<Pending>), JobError> {
        let command = CommandName::Recreate;
        match asked.pull {
            Some(pr) if pulls::is_fix_pr(pr, &self.bot_login) && pr.state == "open" => {
                self.audit_ran(asked, command).await?;
                let answer = Answer::Done {
                    command,
                    text: String::new(),
                };
                Ok((answer, Some(Pending::Recreate(pr.number))))
            }
            Some(_) => Ok((
                Answer::Declined {
                    command,
                    why: messages::command_outcome(Outcome::RecreateElsewhere {
                        slug: &self.app_slug,
                    }),
                },
                None,
            )),
            None => Ok((
                Answer::Declined {
                    command,
                    why: messages::command_outcome(Outcome::RecreateOnIssue),
                },
                None,
            )),
        }
    }

    /// accept-risk / revoke / ignore / unignore: checked against the policy, recorded with an
    /// audit entry, and shown by the comment's scan.
    async fn decide(
        &self,
        asked: &Asked<'_>,
        decision: Command,
    ) -> Result<(Answer, Option<Pending>), JobError> {
        let command = decision.name();
        let today = asked.now.date_naive();
        if let Err(error) =
            validate_accept_risk(&decision, today, self.knowledge.policy.max_exception_days)
        {
            return Ok((Answer::Invalid(error), None));
        }
        let recorded = decisions::record(
            &self.store,
            &self.knowledge,
            asked.job.repository.id,
            &decision,
            &asked.job.author,
            &asked.source,
            asked.now,
        )
        .await?;
        match recorded {
            decisions::Recorded::Done { audit_action, text } => {
                self.audit(
                    asked.job,
                    asked.job_id,
                    audit_action,
                    format!("{text} ({})", asked.source),
                )
                .await?;
                Ok((Answer::Done { command, text }, Some(Pending::Decision)))
            }
            decisions::Recorded::Declined(why) => Ok((Answer::Declined { command, why }, None)),
        }
    }

    /// The audit entry of a `rescan` or `recreate` (decisions write their own, more telling one).
    async fn audit_ran(&self, asked: &Asked<'_>, command: CommandName) -> Result<(), JobError> {
        self.audit(
            asked.job,
            asked.job_id,
            "command",
            format!(
                "@{} ran `{}` in {}",
                asked.job.author,
                command.as_str(),
                asked.source
            ),
        )
        .await
    }

    /// Runs the one scan the comment's commands need and completes their answers with what it
    /// found.
    async fn finish_pending(
        &self,
        forge: &dyn Forge,
        job: &CommentJob,
        job_id: i64,
        pull: Option<&PullRequest>,
        pending: &[(usize, Pending)],
        answers: &mut [Answer],
    ) -> Result<(), JobError> {
        let rebuild = pending.iter().find_map(|(_, p)| match p {
            Pending::Recreate(n) => Some(*n),
            _ => None,
        });
        let scanned = self
            .scan_default_branch(forge, job.installation_id, &job.repository, job_id, rebuild)
            .await?;
        // `rescan` on a person's pull request means: review this change again.
        let reviewed = match pull {
            Some(pr)
                if pr.state == "open"
                    && !pulls::is_fix_pr(pr, &self.bot_login)
                    && pending.iter().any(|(_, p)| matches!(p, Pending::Rescan)) =>
            {
                Some(
                    self.review_pull(forge, job.installation_id, &job.repository, job_id, pr)
                        .await?,
                )
            }
            _ => None,
        };
        for (index, what) in pending {
            let Some(Answer::Done { text, .. }) = answers.get_mut(*index) else {
                continue;
            };
            let summary = scanned.summary.as_str();
            let outcome = match what {
                Pending::Rescan => match &reviewed {
                    Some(review) => messages::command_outcome(Outcome::Reviewed {
                        review: &review.to_string(),
                        summary,
                    }),
                    None => messages::command_outcome(Outcome::Rescanned { summary }),
                },
                Pending::Recreate(number) => {
                    match scanned.pulls.iter().find(|p| p.number == *number) {
                        Some(note) => messages::command_outcome(Outcome::Rebuilt {
                            number: *number,
                            action: note.action.as_str(),
                            head: &scanned.head,
                            branch: &scanned.default_branch,
                        }),
                        None => messages::command_outcome(Outcome::NotRebuilt {
                            number: *number,
                            summary,
                        }),
                    }
                }
                Pending::Decision => {
                    messages::command_outcome(Outcome::DecisionScanned { summary })
                }
            };
            text.push_str(&outcome);
        }
        Ok(())
    }

    async fn explain(
        &self,
        forge: &dyn Forge,
        job: &CommentJob,
        pull: Option<&PullRequest>,
        target: &Target,
        today: chrono::NaiveDate,
    ) -> Result<String, JobError> {
        let repo = job.repository.full_name.as_str();
        // On a person's pull request, the change is what matters; on a fix PR or an issue, the
        // default branch (what a fix PR fixes).
        let (commit, scanned) = match pull {
            Some(pr) if pr.state == "open" && !pulls::is_fix_pr(pr, &self.bot_login) => (
                pr.head_sha.clone(),
                format!("this pull request's head ({})", short(&pr.head_sha)),
            ),
            _ => {
                let (branch, head) = forge.default_branch(repo).await.map_err(job_error)?;
                let scanned = format!("`{branch}` at {}", short(&head));
                (head, scanned)
            }
        };
        let options = decisions::run_options(&self.store, job.repository.id).await?;
        let analysis = self.analyse(forge, repo, &commit, &options, today).await?;
        let findings = &analysis.outcome.report.findings;
        Ok(match target {
            Target::Rule(rule) => explain::explain_rule(*rule, findings, &scanned),
            Target::Advisory(id) => match self.knowledge.advisories.get(id) {
                Some(advisory) => explain::explain_advisory(advisory, findings, &scanned),
                None => messages::command_outcome(Outcome::UnknownAdvisory {
                    id,
                    count: self.knowledge.advisories.len(),
                    revision: &self.knowledge.advisories.revision(),
                }),
            },
        })
    }

    async fn audit(
        &self,
        job: &CommentJob,
        job_id: i64,
        action: &str,
        reason: String,
    ) -> Result<(), JobError> {
        record_audit(
            &self.store,
            self.clock.now(),
            (job.installation_id, job.repository.id, job_id),
            action,
            reason,
        )
        .await
    }
}

impl ScanHandler {
    /// Tells the author that their command failed on our side, in words meant for them (what
    /// went wrong is logged with the job id the reply names), and marks the comment 😕. A
    /// failure to say so is logged: there is nobody else to tell.
    async fn answer_failure(
        &self,
        forge: &dyn Forge,
        run: &Job,
        job: &CommentJob,
        place: &str,
        error: &JobError,
    ) {
        tracing::error!(job = run.id, place, attempts = run.attempts, error = %error, "command failed; telling its author");
        let repo = job.repository.full_name.as_str();
        let number = job.issue_number as u64;
        let comment_id = job.comment_id as u64;
        let cause = match error {
            JobError::Permanent(_) => messages::FailureCause::Refused,
            _ => messages::FailureCause::Unavailable {
                attempts: run.attempts,
            },
        };
        let mut body = messages::command_failed(&job.author, cause, run.id);
        body.push_str(&markers::reply_to(comment_id));
        body.push('\n');
        if let Err(e) = forge.create_comment(repo, number, &body).await {
            tracing::error!(job = run.id, place, error = %e, "could not post the failure reply");
        }
        if let Err(e) = forge.react(repo, comment_id, Reaction::Confused).await {
            tracing::warn!(job = run.id, place, error = %e, "could not mark the comment as failed");
        }
    }
}

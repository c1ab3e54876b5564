//! The review a pull request gets, as data: where each new finding is commented (at the lines
//! its fix edits when those are in the diff, with a suggestion; else at its own line), which go
//! to the review's body, and what each proposes. Rendering it is `render::templates::review`.
//! And on a later push, which of the bot's earlier comments to keep and which to delete.

use super::compare::{Change, ChangeSet};
use super::lines::{Suggestion, commentable_lines, edit_lines, try_suggestion};
use crate::model::Level;
use std::collections::{BTreeMap, BTreeSet};

/// A comment on one new finding, placed on head line `line` of `path` (or `start_line..=line`).
#[derive(Debug, Clone, PartialEq)]
pub struct Placement<'c> {
    pub path: String,
    pub line: u32,
    pub start_line: Option<u32>,
    pub change: &'c Change,
    pub proposal: Proposal,
    /// Other new findings the same suggestion clears (urllib3 vulnerable and banned): one
    /// suggestion to apply, not two to read.
    pub also: Vec<&'c Change>,
}

/// Where the review puts each new finding. No review at all when it is empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placements<'c> {
    /// The most urgent first, at most [`MAX_COMMENTS`].
    pub placed: Vec<Placement<'c>>,
    /// New findings no line of the diff can carry: the review's body lists them.
    pub unplaced: Vec<(&'c Change, Proposal)>,
    /// Placed findings left out to keep the review readable (the check run lists them all).
    pub more: usize,
}

impl Placements<'_> {
    pub fn is_empty(&self) -> bool {
        self.placed.is_empty() && self.unplaced.is_empty() && self.more == 0
    }
}

/// A rendered line comment to post: on head line `line` of `path`, or on `start_line..=line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedComment {
    pub path: String,
    pub line: u32,
    pub start_line: Option<u32>,
    pub body: String,
}

/// A rendered review: its line comments and its body (empty when every new finding got a
/// comment). No review at all when both are empty ([`ReviewPlan::is_empty`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewPlan {
    pub comments: Vec<PlannedComment>,
    pub body: String,
}

impl ReviewPlan {
    pub fn is_empty(&self) -> bool {
        self.comments.is_empty() && self.body.is_empty()
    }
}

/// What a comment proposes to do about its finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proposal {
    /// A one-click suggestion.
    Suggestion(Suggestion),
    /// The fix edits the file, but not as a suggestion here: the lines to change
    /// (`Dockerfile:3`) and why there is no suggestion.
    Edit { places: Vec<String>, why: String },
    /// The fix needs the package manager: the command.
    Relock(String),
    /// No fix; the finding's `no_fix_reason` says why, when it can.
    Nothing,
}

/// One comment per new finding, at the lines its fix edits when those are in the diff (with a
/// suggestion), else at the finding's own line when that is in the diff (saying what to change
/// where), else in the review body. Info findings stay in the check run: a line comment asks
/// for attention, and info does not deserve it.
pub fn plan_review<'c>(
    changes: &'c ChangeSet,
    base_files: &BTreeMap<String, String>,
    head_files: &BTreeMap<String, String>,
) -> Placements<'c> {
    let mut commentable: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    let mut plan = Placements::default();
    for change in changes
        .introduced
        .iter()
        .filter(|c| c.finding.level != Level::Info)
    {
        let f = &change.finding;
        let Some(head) = head_files.get(&f.file) else {
            plan.unplaced
                .push((change, fallback_proposal(change, None, None)));
            continue;
        };
        let lines = commentable.entry(f.file.as_str()).or_insert_with(|| {
            commentable_lines(base_files.get(&f.file).map(String::as_str), head)
        });
        match place(change, head, lines) {
            Placed::Suggested(s) => suggest(&mut plan.placed, change, s),
            Placed::AtFinding(proposal) => plan.placed.push(Placement {
                path: f.file.clone(),
                line: f.line,
                start_line: None,
                change,
                proposal,
                also: Vec::new(),
            }),
            Placed::Nowhere(proposal) => plan.unplaced.push((change, proposal)),
        }
    }
    // A change that brings dozens of findings (a new lockfile) gets the most urgent ones at
    // their lines and the rest in the check run, not a wall of comments.
    plan.more = plan.placed.len().saturating_sub(MAX_COMMENTS);
    plan.placed.truncate(MAX_COMMENTS);
    plan
}

/// Where one finding of a file in the head goes.
enum Placed {
    /// A suggestion whose lines are all in the diff.
    Suggested(Suggestion),
    /// At the finding's own line, which is in the diff, with this proposal.
    AtFinding(Proposal),
    /// In the review's body.
    Nowhere(Proposal),
}

fn place(change: &Change, head: &str, lines: &BTreeSet<u32>) -> Placed {
    let f = &change.finding;
    let attempt = f
        .fix
        .as_ref()
        .filter(|fix| fix.relock.is_none() && !fix.edits.is_empty())
        .map(|fix| try_suggestion(head, fix, &f.file));
    let why_not = match attempt {
        Some(Ok(s)) if (s.start_line..=s.end_line).all(|l| lines.contains(&l)) => {
            return Placed::Suggested(s);
        }
        Some(Ok(s)) => Some(if s.start_line == s.end_line {
            format!(
                "line {} is not part of this pull request's diff",
                s.end_line
            )
        } else {
            format!(
                "lines {}-{} are not all part of this pull request's diff",
                s.start_line, s.end_line
            )
        }),
        Some(Err(why)) => Some(why),
        None => None,
    };
    let proposal = fallback_proposal(change, Some(head), why_not);
    if f.line > 0 && lines.contains(&f.line) {
        Placed::AtFinding(proposal)
    } else {
        Placed::Nowhere(proposal)
    }
}

/// Adds a suggestion, or folds the finding into the comment that already suggests the very
/// same lines.
fn suggest<'c>(placed: &mut Vec<Placement<'c>>, change: &'c Change, s: Suggestion) {
    let f = &change.finding;
    let same = placed
        .iter_mut()
        .find(|p| p.path == f.file && matches!(&p.proposal, Proposal::Suggestion(t) if *t == s));
    match same {
        Some(p) => p.also.push(change),
        None => placed.push(Placement {
            path: f.file.clone(),
            line: s.end_line,
            start_line: (s.start_line < s.end_line).then_some(s.start_line),
            change,
            proposal: Proposal::Suggestion(s),
            also: Vec::new(),
        }),
    }
}

/// At most this many line comments per review, the most urgent first.
pub const MAX_COMMENTS: usize = 20;

/// The proposal when there is no suggestion: the places to edit, the re-lock, or nothing.
fn fallback_proposal(change: &Change, head: Option<&str>, why_not: Option<String>) -> Proposal {
    let Some(fix) = &change.finding.fix else {
        return Proposal::Nothing;
    };
    if let Some(command) = &fix.relock {
        return Proposal::Relock(command.clone());
    }
    if fix.edits.is_empty() {
        return Proposal::Nothing;
    }
    let mut places: Vec<String> = Vec::new();
    for file in fix.edits.iter().map(|e| e.file.as_str()) {
        let here = file == change.finding.file;
        let lines = match (here, head) {
            (true, Some(text)) => edit_lines(text, fix, file),
            _ => Vec::new(),
        };
        let found: Vec<String> = if lines.is_empty() {
            vec![format!("`{file}`")]
        } else {
            lines.iter().map(|l| format!("`{file}:{l}`")).collect()
        };
        for place in found {
            if !places.contains(&place) {
                places.push(place);
            }
        }
    }
    Proposal::Edit {
        places,
        why: why_not.unwrap_or_else(|| "the file is not part of this pull request".to_string()),
    }
}

/// A review comment as the forge lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingComment {
    pub id: u64,
    pub path: String,
    /// `None` when the comment is outdated (its line is gone from the diff).
    pub line: Option<u32>,
    pub body: String,
    /// One of the bot's comments on a finding (its login and its hidden tag say so): the only
    /// comments a review may delete or keep.
    pub ours: bool,
    pub is_reply: bool,
}

/// What to do on the pull request so that its bot comments are exactly the planned ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub to_delete: Vec<u64>,
    pub to_post: Vec<PlannedComment>,
}

/// Keeps the bot's comments that say exactly what is planned (so a push that changes nothing
/// posts nothing), deletes its other finding comments (a fixed finding loses its comment), and
/// posts the rest. People's comments, replies to the bot, and bot comments without the marker
/// are never touched.
pub fn reconcile(existing: &[ExistingComment], planned: Vec<PlannedComment>) -> Reconciled {
    let mut to_post = planned;
    let mut to_delete = Vec::new();
    for c in existing {
        if !c.ours || c.is_reply {
            continue;
        }
        let same = to_post
            .iter()
            .position(|p| p.path == c.path && Some(p.line) == c.line && p.body == c.body);
        match same {
            // Kept: it is no longer to be posted, so a duplicate of it is deleted.
            Some(i) => {
                to_post.remove(i);
            }
            None => to_delete.push(c.id),
        }
    }
    Reconciled { to_delete, to_post }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChangeKind, Edit, Finding, Fix, Location, RuleId, Span};
    use crate::review::compare::compare;

    const BASE: &str = "# app\nFROM node:22-alpine\nRUN npm ci\n";
    const HEAD: &str = "# app\nFROM node:16-alpine\nRUN npm ci\n";

    fn files(text: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("Dockerfile".to_string(), text.to_string())])
    }

    /// An end-of-life finding on `node:<tag>` at line `line` of `text`, fixed by replacing the
    /// first `tag` in the file.
    fn eol(text: &str, line: u32, tag: &str) -> Finding {
        let mut f = Finding::new(
            RuleId::EolBaseImage,
            Location::new("Dockerfile", line, 1),
            format!("node:{tag}-alpine"),
            format!("`node:{tag}-alpine` reached end of life on 2023-09-11"),
        );
        f.package = Some("node".to_string());
        let start = text.find(tag).unwrap();
        f.fix = Some(Fix {
            from: format!("node:{tag}-alpine"),
            to: "node:22.12.0-alpine".to_string(),
            change: ChangeKind::Major,
            edits: vec![Edit {
                file: "Dockerfile".to_string(),
                span: Span::new(start, start + tag.len()),
                replacement: "22.12.0".to_string(),
            }],
            relock: None,
            clears: vec!["eol-base-image".to_string()],
            notes: Vec::new(),
        });
        f
    }

    /// The review as posted (rendered), for a change that introduces `findings`.
    fn plan(base: &str, head: &str, findings: &[Finding]) -> ReviewPlan {
        let changes = compare(&[], findings);
        render(&changes, &files(base), &files(head), "patchwright")
    }

    fn render(
        changes: &ChangeSet,
        base: &BTreeMap<String, String>,
        head: &BTreeMap<String, String>,
        slug: &str,
    ) -> ReviewPlan {
        crate::render::templates::review(&plan_review(changes, base, head), slug)
    }

    #[test]
    fn a_fix_on_a_changed_line_is_a_suggestion_there() {
        let plan = plan(BASE, HEAD, &[eol(HEAD, 2, "16")]);
        assert_eq!(plan.body, "");
        assert_eq!(plan.comments.len(), 1);
        let c = &plan.comments[0];
        assert_eq!(
            (c.path.as_str(), c.line, c.start_line),
            ("Dockerfile", 2, None)
        );
        assert!(
            c.body
                .starts_with("<!-- patchwright:finding=eol-base-image|Dockerfile|node -->\n"),
            "{}",
            c.body
        );
        assert!(
            c.body
                .contains("```suggestion\nFROM node:22.12.0-alpine\n```"),
            "{}",
            c.body
        );
        assert!(
            c.body
                .contains("@patchwright accept-risk eol-base-image --until")
        );
    }

    #[test]
    fn an_arg_far_from_the_diff_sends_the_comment_to_the_finding_line_without_a_suggestion() {
        let filler = "RUN true\n".repeat(8);
        let base = format!("ARG V=16\n{filler}FROM node:22-alpine\n");
        let head = format!("ARG V=16\n{filler}FROM node:${{V}}-alpine\n");
        let plan = plan(&base, &head, &[eol(&head, 10, "16")]);
        assert_eq!(plan.body, "");
        let c = &plan.comments[0];
        assert_eq!((c.line, c.start_line), (10, None));
        assert!(!c.body.contains("```suggestion"), "{}", c.body);
        assert!(c.body.contains("`Dockerfile:1`"), "{}", c.body);
        assert!(
            c.body
                .contains("line 1 is not part of this pull request's diff"),
            "{}",
            c.body
        );
    }

    #[test]
    fn a_finding_on_no_diff_line_goes_to_the_review_body() {
        // The change is far below the finding: neither the fix's line nor the finding's is in
        // the diff (a finding a change worsens without touching its line, e.g. a new advisory).
        let filler = "RUN true\n".repeat(10);
        let base = format!("FROM node:16-alpine\n{filler}RUN a\n");
        let head = format!("FROM node:16-alpine\n{filler}RUN b\n");
        let plan = plan(&base, &head, &[eol(&head, 1, "16")]);
        assert!(plan.comments.is_empty());
        assert!(
            plan.body.starts_with("<!-- patchwright:review -->"),
            "{}",
            plan.body
        );
        assert!(
            plan.body
                .contains("not on a line this pull request changed"),
            "{}",
            plan.body
        );
        assert!(plan.body.contains("`Dockerfile:1`"), "{}", plan.body);
        assert!(!plan.is_empty());
    }

    #[test]
    fn a_change_with_many_findings_comments_the_most_urgent_and_counts_the_rest() {
        let head: String = (0..25)
            .map(|i| format!("FROM node:t{i:02}-alpine AS s{i}\n"))
            .collect();
        let findings: Vec<Finding> = (0..25)
            .map(|i| eol(&head, i + 1, &format!("t{i:02}")))
            .collect();
        let plan = plan("", &head, &findings);
        assert_eq!(plan.comments.len(), MAX_COMMENTS);
        assert!(
            plan.body.starts_with(crate::render::markers::REVIEW),
            "{}",
            plan.body
        );
        assert!(
            plan.body
                .contains("5 more new finding(s) are not commented here"),
            "{}",
            plan.body
        );
    }

    #[test]
    fn nothing_new_is_no_review() {
        let changes = ChangeSet::default();
        let plan = plan_review(&changes, &files(BASE), &files(HEAD));
        assert!(plan.is_empty());
    }

    #[test]
    fn a_relock_fix_names_the_command() {
        let text = "{\n  \"node_modules/lodash\": {\n    \"version\": \"4.17.20\"\n  }\n}\n";
        let mut f = Finding::new(
            RuleId::VulnerableDependency,
            Location::new("package-lock.json", 2, 3),
            "lodash@4.17.20",
            "lodash 4.17.20 is affected by GHSA-35jh-r3h4-6jhm",
        );
        f.package = Some("lodash".to_string());
        f.advisories = vec!["GHSA-35jh-r3h4-6jhm".to_string()];
        f.fix = Some(Fix {
            from: "4.17.20".to_string(),
            to: "4.17.21".to_string(),
            change: ChangeKind::Patch,
            edits: Vec::new(),
            relock: Some("npm install lodash@4.17.21".to_string()),
            clears: vec!["GHSA-35jh-r3h4-6jhm".to_string()],
            notes: Vec::new(),
        });
        let changes = compare(&[], &[f]);
        let head = BTreeMap::from([("package-lock.json".to_string(), text.to_string())]);
        let plan = render(&changes, &BTreeMap::new(), &head, "bot");
        let body = &plan.comments[0].body;
        assert!(body.contains("npm install lodash@4.17.21"), "{body}");
        assert!(!body.contains("```suggestion"), "{body}");
        assert!(
            body.contains("https://osv.dev/vulnerability/GHSA-35jh-r3h4-6jhm"),
            "{body}"
        );
        assert!(
            body.contains("@bot accept-risk GHSA-35jh-r3h4-6jhm"),
            "{body}"
        );
    }

    #[test]
    fn a_suggestion_with_backticks_gets_a_longer_fence() {
        let base = "FROM node:22\nRUN echo ok\n";
        let head = "FROM node:16 # ```\nRUN echo ok\n";
        let plan = plan(base, head, &[eol(head, 1, "16")]);
        let body = &plan.comments[0].body;
        assert!(
            body.contains("````suggestion\nFROM node:22.12.0 # ```\n````"),
            "{body}"
        );
    }

    #[test]
    fn a_multi_line_suggestion_spans_its_lines() {
        let base = "FROM node:22 \\\n  AS build\n";
        let head = "FROM node:16 \\\n  AS build\n";
        let mut f = eol(head, 1, "16");
        let as_at = head.find("build").unwrap();
        f.fix.as_mut().unwrap().edits.push(Edit {
            file: "Dockerfile".to_string(),
            span: Span::new(as_at, as_at + 5),
            replacement: "builder".to_string(),
        });
        let plan = plan(base, head, &[f]);
        let c = &plan.comments[0];
        assert_eq!((c.line, c.start_line), (2, Some(1)));
        assert!(
            c.body
                .contains("```suggestion\nFROM node:22.12.0 \\\n  AS builder\n```"),
            "{}",
            c.body
        );
    }

    #[test]
    fn a_worsened_finding_says_how_it_got_worse() {
        let mut base = eol(BASE, 2, "22");
        base.level = crate::model::Level::Warning;
        base.advisories = vec!["CVE-1".to_string()];
        let mut head = eol(HEAD, 2, "16");
        head.advisories = vec!["CVE-1".to_string(), "CVE-2".to_string()];
        let changes = compare(&[base], &[head]);
        let plan = render(&changes, &files(BASE), &files(HEAD), "pw");
        let body = &plan.comments[0].body;
        assert!(
            body.contains(
                "This change makes it worse than on the base branch (`node:22-alpine`): it was warning there, and it is newly affected by CVE-2."
            ),
            "{body}"
        );
        assert!(
            body.contains("\n\n- [CVE-1](https://osv.dev/vulnerability/CVE-1)\n- [CVE-2]"),
            "{body}"
        );
        // The fix clears only the rule here, so both advisories stay open after it.
        assert!(
            body.contains("still open after it: CVE-1, CVE-2."),
            "{body}"
        );
    }

    fn bot(id: u64, line: Option<u32>, body: &str) -> ExistingComment {
        ExistingComment {
            id,
            path: "Dockerfile".to_string(),
            line,
            body: body.to_string(),
            ours: true,
            is_reply: false,
        }
    }

    #[test]
    fn reconcile_keeps_what_is_still_said_and_deletes_what_is_not() {
        let planned = plan(BASE, HEAD, &[eol(HEAD, 2, "16")]).comments;
        let same = planned[0].body.clone();
        let existing = vec![
            // The same comment from the last push: kept, not posted again.
            bot(1, Some(2), &same),
            // A duplicate of it (a retried post): deleted.
            bot(2, Some(2), &same),
            // An outdated comment of the bot: deleted.
            bot(3, None, &same),
            // The bot's comment on a finding that is gone: deleted.
            bot(4, Some(7), "<!-- patchwright:finding=x -->\nold"),
            // A person's comment, even one quoting the marker: untouched.
            ExistingComment {
                ours: false,
                ..bot(5, Some(2), &same)
            },
            // A reply in the bot's thread: untouched.
            ExistingComment {
                is_reply: true,
                ..bot(6, Some(2), &same)
            },
            // A bot comment without the marker (another feature's): untouched.
            ExistingComment {
                ours: false,
                ..bot(7, Some(2), "thanks!")
            },
        ];
        let r = reconcile(&existing, planned.clone());
        assert_eq!(r.to_delete, [2, 3, 4]);
        assert!(r.to_post.is_empty());

        // A push that fixed the finding: nothing planned, the comment goes.
        let r = reconcile(&existing[..1], Vec::new());
        assert_eq!(
            r,
            Reconciled {
                to_delete: vec![1],
                to_post: Vec::new()
            }
        );

        // A first review: everything is posted.
        let r = reconcile(&[], planned.clone());
        assert_eq!(r.to_post, planned);
        assert!(r.to_delete.is_empty());

        // The finding moved to another line: the old comment goes, the new one is posted.
        let r = reconcile(&[bot(1, Some(3), &same)], planned.clone());
        assert_eq!((r.to_delete, r.to_post), (vec![1], planned));
    }
}

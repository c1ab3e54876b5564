//! Re-locking in the default-branch pass: the findings whose fix needs their package manager
//! (package-lock.json, yarn.lock, Cargo.lock, poetry.lock, go.sum) are re-locked exactly as
//! `patchwright fix` does (`relock::relock_findings`), against the repository's files at the
//! scanned commit, before the fix groups are planned.
//!
//! The relocker is synchronous (it runs package managers), so it runs on a blocking thread. The
//! files it asks for are not guessed up front (a Cargo workspace reads its members' manifests, a
//! path dependency its target's): [`ForgeFiles`] answers each read from the scanned snapshot,
//! else the blob cache, else sends the blob id back to this async task, which fetches it through
//! the forge it already holds. So only the blobs a package manager really needs are fetched, the
//! forge need not be `'static`, and nothing blocks a runtime thread (this works on a
//! current-thread runtime too, unlike `Handle::block_on` from the blocking thread).
//!
//! Package managers cost seconds: a re-lock whose fix PR is open, carries the same fix, and was
//! built on a base whose re-lock inputs (manifests, lockfiles and package-manager settings in
//! and below the lockfile's folder) are the same as now is not run again; its group is planned
//! as carried and the PR stays unchanged. When those inputs changed on the default branch, the
//! re-lock runs and the PR is rebuilt although its fix key is the same.

use super::pulls::OpenFixPr;
use super::read::ParseCache;
use super::{Analysis, Ctx, job_error};
use crate::forge::hosted::{ForgeError, TreeEntry};
use crate::model::{Ecosystem, Finding};
use crate::relock::{self, Attempt, FileSource, Relocker, plan};
use crate::remedy::groups::{branch_for, pending_fix_keys};
use crate::report::Report;
use crate::service::jobs::JobError;
use crate::snapshot::{MAX_FILE_BYTES, RepoSnapshot, wants};
use crate::store::fix_prs;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

impl Relocks {
    /// The branches whose group is planned without running their re-lock.
    pub fn kept(&self) -> BTreeSet<String> {
        self.carried.union(&self.declined).cloned().collect()
    }
}

/// What the re-lock pass decided, for planning and syncing the fix PRs.
#[derive(Debug, Default)]
pub struct Relocks {
    /// Branches whose open fix PR already carries the re-lock (not run again: keep it).
    pub carried: BTreeSet<String>,
    /// Branches whose fix a person declined (closed its PR): not re-locked, never reopened.
    pub declined: BTreeSet<String>,
    /// Branches whose open fix PR has the same fix key but was re-locked again because its
    /// inputs changed on the default branch: rebuild it.
    pub refresh: BTreeSet<String>,
    /// Each package-manager run (or refusal), for the job's log.
    pub attempts: Vec<Attempt>,
}

/// Re-locks the report's findings that need it (changing their fixes' edits and notes, and
/// adding the files the package managers changed to the snapshot). A failed re-lock is a note
/// on its finding; only a GitHub failure while reading files fails the job (to be retried).
pub async fn relock_report(
    ctx: &Ctx<'_>,
    relocker: &Arc<Relocker>,
    cache: &ParseCache,
    open: &[OpenFixPr],
    rebuild: Option<u64>,
    analysis: &mut Analysis,
) -> Result<Relocks, JobError> {
    let Analysis {
        snapshot,
        outcome,
        tree,
    } = analysis;
    let report = &mut outcome.report;
    let mut relocks = Relocks::default();
    // Which findings want a re-lock, by the branch of the group they will be in.
    let mut wanted: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut dirs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, f) in report.findings.iter().enumerate() {
        if !f.is_active() {
            continue;
        }
        let Some(request) = plan::request(f, snapshot) else {
            continue;
        };
        let Some(branch) = branch_of(f) else { continue };
        if let Ok(r) = &request {
            dirs.entry(branch.clone())
                .or_default()
                .insert(r.dir().to_string());
        }
        wanted.entry(branch).or_default().push(i);
    }
    if wanted.is_empty() {
        return Ok(relocks);
    }

    let pending = pending_fix_keys(report);
    // Fix PRs built on the same base share its tree: read once.
    let mut bases: HashMap<String, Vec<TreeEntry>> = HashMap::new();
    for (branch, indices) in &wanted {
        let Some(pr) = open.iter().find(|pr| &pr.pull.head_ref == branch) else {
            // A fix a person declined (closed its PR) is never opened again: no re-lock for
            // it. Its group is still planned, so the PR sync records the skip as before.
            if let Some(key) = pending.get(branch)
                && fix_prs::declined(ctx.store.pool(), ctx.repository_id, key).await?
            {
                relocks.declined.insert(branch.clone());
            }
            continue;
        };
        if rebuild == Some(pr.pull.number) || pr.fix_key.as_ref() != pending.get(branch) {
            continue;
        }
        let folders = dirs.get(branch).cloned().unwrap_or_default();
        if inputs_unchanged(ctx, &pr.pull.head_sha, tree, &folders, &mut bases).await? {
            relocks.carried.insert(branch.clone());
            for &i in indices {
                if let Some(fix) = report.findings[i].fix.as_mut() {
                    fix.notes.push(format!(
                        "re-lock carried by the open fix PR #{} (its inputs are unchanged)",
                        pr.pull.number
                    ));
                }
            }
        } else {
            relocks.refresh.insert(branch.clone());
        }
    }

    // The findings to re-lock now, in a list of their own so carried ones are never run.
    let indices: Vec<usize> = wanted
        .iter()
        .filter(|(branch, _)| {
            !relocks.carried.contains(*branch) && !relocks.declined.contains(*branch)
        })
        .flat_map(|(_, indices)| indices.iter().copied())
        .collect();
    if indices.is_empty() {
        return Ok(relocks);
    }
    let work: Vec<Finding> = indices
        .iter()
        .map(|&i| report.findings[i].clone())
        .collect();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let files = ForgeFiles::new(tree, snapshot, tx);
    let relocker = Arc::clone(relocker);
    let mut scratch = snapshot.clone();
    let repo = ctx.repo.to_string();
    let mut task = tokio::task::spawn_blocking(move || {
        let mut work = work;
        let attempts =
            relock::relock_findings(&mut work, &mut scratch, &relocker, &files, &mut |a| {
                log(&repo, a)
            });
        (work, scratch, attempts)
    });
    let mut failure: Option<ForgeError> = None;
    let joined = loop {
        tokio::select! {
            Some((path, sha, reply)) = rx.recv() => {
                let bytes = answer(ctx, cache, (path, sha), &mut failure).await;
                let _ = reply.send(bytes);
            }
            joined = &mut task => break joined,
        }
    };
    if let Some(e) = failure {
        // GitHub failed us, not the package manager: the job is retried like any other.
        return Err(job_error(e));
    }
    match joined {
        Ok((work, scratch, attempts)) => {
            for (k, &i) in indices.iter().enumerate() {
                report.findings[i] = work[k].clone();
            }
            *snapshot = scratch;
            relocks.attempts = attempts;
            // A PR whose re-lock was to be refreshed but failed this time keeps what it has
            // (the finding's note says why), rather than being closed as no longer needed or
            // rebuilt without its lockfile (a go.mod edit without go.sum).
            let failed_requests: BTreeSet<(&str, &str)> = relocks
                .attempts
                .iter()
                .filter(|a| a.outcome.is_err())
                .filter_map(|a| a.request.as_ref().ok())
                .map(|r| (r.lockfile.as_str(), r.package.as_str()))
                .collect();
            let failed: Vec<String> = relocks
                .refresh
                .iter()
                .filter(|branch| {
                    wanted.get(*branch).is_some_and(|indices| {
                        indices.iter().any(|&i| {
                            report.findings[i].dependency.as_deref().is_some_and(|d| {
                                failed_requests
                                    .contains(&(d.location.file.as_str(), d.name.as_str()))
                            })
                        })
                    })
                })
                .cloned()
                .collect();
            for branch in failed {
                relocks.refresh.remove(&branch);
                relocks.carried.insert(branch);
            }
        }
        Err(e) => {
            // A bug in a package-manager module must not cost the other fixes: the findings
            // keep their manual command, and open PRs what they have.
            tracing::error!(repo = ctx.repo, error = %e, "the re-lock pass failed; fix PRs go without re-locks");
            let refresh = std::mem::take(&mut relocks.refresh);
            relocks.carried.extend(refresh);
        }
    }
    Ok(relocks)
}

/// The report as the tracking issue should see it: the findings an open fix PR carries (their
/// re-lock was not run again, so their fixes have no edits this time) are not blockers
/// "without an automatic fix".
pub fn without_carried(report: &Report, carried: &BTreeSet<String>) -> Report {
    let mut view = report.clone();
    view.findings
        .retain(|f| !branch_of(f).is_some_and(|b| carried.contains(&b)));
    view
}

fn branch_of(f: &Finding) -> Option<String> {
    let eco: Ecosystem = f.ecosystem?;
    Some(branch_for(eco, f.package.as_deref()?))
}

/// Whether the fix PR at `pr_head` (the bot's commit on its base) was built from the same
/// re-lock inputs as the scanned tree: the manifests, lockfiles and package-manager settings
/// in and below the lockfiles' folders (a Cargo path dependency outside them is not looked
/// at). One API call (the PR's commit) when its base is the scanned commit; otherwise also the
/// base's tree, read once per pass (`bases`).
async fn inputs_unchanged(
    ctx: &Ctx<'_>,
    pr_head: &str,
    tree: &[TreeEntry],
    folders: &BTreeSet<String>,
    bases: &mut HashMap<String, Vec<TreeEntry>>,
) -> Result<bool, JobError> {
    let commit = ctx
        .forge
        .commit(ctx.repo, pr_head)
        .await
        .map_err(job_error)?;
    if commit.author_login.as_deref() != Some(ctx.bot_login) {
        // A person's commit on the branch: the PR is theirs now and is not rebuilt for the same
        // fix (the PR sync leaves it alone too), so re-locking again would be wasted.
        return Ok(true);
    }
    let Some(base) = commit.parents.first() else {
        return Ok(false);
    };
    if base == ctx.head {
        return Ok(true);
    }
    if !bases.contains_key(base) {
        let read = ctx.forge.tree(ctx.repo, base).await.map_err(job_error)?;
        bases.insert(base.clone(), read);
    }
    let before = bases.get(base).map(Vec::as_slice).unwrap_or_default();
    Ok(inputs(before, folders) == inputs(tree, folders))
}

/// (path, blob id) of every re-lock input under `folders`.
fn inputs<'t>(tree: &'t [TreeEntry], folders: &BTreeSet<String>) -> BTreeSet<(&'t str, &'t str)> {
    let under = |path: &str| {
        folders.iter().any(|dir| {
            dir.is_empty()
                || path
                    .strip_prefix(dir.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    };
    tree.iter()
        .filter(|e| under(&e.path) && (wants(&e.path) || is_manager_file(&e.path)))
        .map(|e| (e.path.as_str(), e.sha.as_str()))
        .collect()
}

/// The files package managers read besides the lockfiles the scan parses: manifests and
/// their configuration.
fn is_manager_file(path: &str) -> bool {
    matches!(
        path.rsplit('/').next().unwrap_or(path),
        "package.json"
            | ".npmrc"
            | ".yarnrc"
            | ".yarnrc.yml"
            | "Cargo.toml"
            | "pyproject.toml"
            | "go.mod"
            | "go.sum"
            | "pnpm-workspace.yaml"
            | "uv.toml"
            | "composer.json"
            | "Gemfile"
            | "gems.rb"
            | "Pipfile"
    )
}

fn log(repo: &str, attempt: &Attempt) {
    let seconds = attempt.elapsed.as_secs_f64();
    match (&attempt.request, &attempt.outcome) {
        (Err(why), _) => tracing::info!(repo, reason = %why, "no re-lock"),
        (Ok(r), Ok(changes)) => {
            let listed: Vec<String> = changes.iter().map(ToString::to_string).collect();
            tracing::info!(repo, lockfile = %r.lockfile, package = %r.package, to = %r.to, seconds, changes = %listed.join(", "), "re-locked");
        }
        (Ok(r), Err(why)) => {
            tracing::warn!(repo, lockfile = %r.lockfile, package = %r.package, to = %r.to, seconds, reason = %why, "re-lock failed")
        }
    }
}

/// A file request from the blocking thread: its path and blob id, and where to send its bytes.
type BlobRequest = (String, String, oneshot::Sender<Option<Vec<u8>>>);

/// The repository at the scanned commit, for the relocker on its blocking thread.
struct ForgeFiles {
    /// Blob id and size by path.
    blobs: HashMap<String, (String, Option<u64>)>,
    /// Folder → the folders directly inside it.
    dirs: HashMap<String, BTreeSet<String>>,
    /// What the scan already read (exact text; lossily decoded files are fetched again).
    read: HashMap<String, String>,
    tx: mpsc::UnboundedSender<BlobRequest>,
}

impl ForgeFiles {
    fn new(
        tree: &[TreeEntry],
        snapshot: &RepoSnapshot,
        tx: mpsc::UnboundedSender<BlobRequest>,
    ) -> ForgeFiles {
        let mut dirs: HashMap<String, BTreeSet<String>> = HashMap::new();
        for entry in tree {
            let mut parent = String::new();
            let mut parts: Vec<&str> = entry.path.split('/').collect();
            parts.pop(); // the file itself
            for part in parts {
                dirs.entry(parent.clone())
                    .or_default()
                    .insert(part.to_string());
                parent = if parent.is_empty() {
                    part.to_string()
                } else {
                    format!("{parent}/{part}")
                };
            }
        }
        let read = snapshot
            .files
            .iter()
            .filter(|(path, _)| !snapshot.lossy.contains(*path))
            .map(|(p, c)| (p.clone(), c.clone()))
            .collect();
        ForgeFiles {
            blobs: tree
                .iter()
                .map(|e| (e.path.clone(), (e.sha.clone(), e.size)))
                .collect(),
            dirs,
            read,
            tx,
        }
    }
}

/// Answers one file request: from the blob cache, else through the forge (then cached, when
/// it is text). A forge failure is kept in `failure` and read as a missing file.
async fn answer(
    ctx: &Ctx<'_>,
    cache: &ParseCache,
    (path, sha): (String, String),
    failure: &mut Option<ForgeError>,
) -> Option<Vec<u8>> {
    if let Some(text) = cache.text(&path, &sha) {
        return Some(text.as_bytes().to_vec());
    }
    match ctx.forge.blob(ctx.repo, &sha).await {
        Ok(bytes) => {
            if let Ok(text) = std::str::from_utf8(&bytes) {
                cache.keep_text(&path, &sha, text);
            }
            Some(bytes)
        }
        Err(e) => {
            failure.get_or_insert(e);
            None
        }
    }
}

impl FileSource for ForgeFiles {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        if let Some(text) = self.read.get(path) {
            return Some(text.clone().into_bytes());
        }
        let (sha, size) = self.blobs.get(path)?;
        if size.is_some_and(|s| s > MAX_FILE_BYTES) {
            return None;
        }
        let (reply, answer) = oneshot::channel();
        self.tx.send((path.to_string(), sha.clone(), reply)).ok()?;
        answer.blocking_recv().ok().flatten()
    }

    fn subdirs(&self, dir: &str) -> Vec<String> {
        self.dirs
            .get(dir)
            .map(|names| names.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, sha: &str) -> TreeEntry {
        TreeEntry {
            path: path.into(),
            sha: sha.into(),
            mode: "100644".into(),
            size: Some(1),
        }
    }

    #[test]
    fn inputs_are_the_package_managers_files_in_and_below_the_folder() {
        let tree = vec![
            entry("web/package.json", "a"),
            entry("web/package-lock.json", "b"),
            entry("web/src/index.js", "c"),
            entry("web/packages/ui/package.json", "d"),
            entry("web2/package.json", "e"),
            entry("README.md", "f"),
        ];
        let folders = BTreeSet::from(["web".to_string()]);
        let found: Vec<&str> = inputs(&tree, &folders)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            found,
            [
                "web/package-lock.json",
                "web/package.json",
                "web/packages/ui/package.json"
            ]
        );
        // The root folder holds everything.
        let root = BTreeSet::from([String::new()]);
        assert_eq!(inputs(&tree, &root).len(), 4);
    }

    #[test]
    fn the_newer_package_managers_files_are_inputs_too() {
        for file in [
            "web/pnpm-workspace.yaml",
            "web/uv.toml",
            "web/composer.json",
            "web/Gemfile",
            "web/gems.rb",
            "web/Pipfile",
        ] {
            assert!(is_manager_file(file), "{file}");
        }
        assert!(!is_manager_file("web/Gemfile.bak"));
        assert!(!is_manager_file("web/Pipfile.bak"));
    }

    #[test]
    fn subfolders_come_from_the_tree() {
        let (tx, _rx) = mpsc::unbounded_channel();
        let tree = vec![
            entry("Cargo.toml", "a"),
            entry("crates/app/Cargo.toml", "b"),
            entry("crates/util/src/lib.rs", "c"),
        ];
        let files = ForgeFiles::new(&tree, &RepoSnapshot::default(), tx);
        assert_eq!(files.subdirs(""), ["crates"]);
        assert_eq!(files.subdirs("crates"), ["app", "util"]);
        assert_eq!(files.subdirs("crates/util"), ["src"]);
        assert!(files.subdirs("nowhere").is_empty());
    }
}

//! The gix implementation of [`super::commit_on_new_branch`] (the `git` feature).

use super::BranchError;
use gix::object::tree::EntryKind;
use gix::refs::transaction::PreviousValue;
use std::path::Path;

fn git(e: impl std::fmt::Display) -> BranchError {
    BranchError::Git(e.to_string())
}

fn open(root: &Path) -> Result<gix::Repository, BranchError> {
    gix::discover(root).map_err(|e| BranchError::NotARepository {
        path: root.display().to_string(),
        reason: e.to_string(),
    })
}

/// Where `root` sits in the repository's work tree, `/`-separated (empty at the top).
fn prefix_of(repo: &gix::Repository, root: &Path) -> Result<String, BranchError> {
    let workdir = repo.workdir().map(Path::to_path_buf).unwrap_or_default();
    let root_abs = root.canonicalize().map_err(git)?;
    let workdir_abs = workdir.canonicalize().map_err(git)?;
    let prefix = root_abs.strip_prefix(&workdir_abs).unwrap_or(Path::new(""));
    Ok(prefix
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/"))
}

/// The files of interest as they are committed at `HEAD`, under `root` (the project root, which
/// may be a subdirectory of the repository) and named relative to it, keeping those `keep`
/// accepts. A fix branch is built from these, never from the work tree, so uncommitted edits
/// and untracked files cannot slip into its commit. `commit` is set to `HEAD`'s id.
pub fn read_head(
    root: &Path,
    keep: impl Fn(&str) -> bool,
) -> Result<crate::snapshot::RepoSnapshot, BranchError> {
    let repo = open(root)?;
    let head = repo.head_commit().map_err(|_| BranchError::UnbornHead)?;
    let prefix = prefix_of(&repo, root)?;
    let mut tree = head.tree().map_err(git)?;
    if !prefix.is_empty() {
        let Some(entry) = tree.lookup_entry_by_path(&prefix).map_err(git)? else {
            return Err(BranchError::Git(format!(
                "{prefix} is not in the commit at HEAD"
            )));
        };
        tree = repo.find_tree(entry.object_id()).map_err(git)?;
    }
    let mut snapshot = crate::snapshot::RepoSnapshot {
        commit: Some(head.id.to_string()),
        ..Default::default()
    };
    for entry in tree.traverse().breadthfirst.files().map_err(git)? {
        // Links and submodules have no content of their own to scan at HEAD.
        if !entry.mode.is_blob() {
            continue;
        }
        let path = entry.filepath.to_string();
        if !crate::snapshot::wants(&path) || !keep(&path) {
            continue;
        }
        let blob = repo.find_object(entry.oid).map_err(git)?;
        snapshot.insert_bytes(path, blob.data.clone());
    }
    Ok(snapshot)
}

/// Writes `files` (path relative to `root` → new content) as a commit whose parent is `HEAD`,
/// on the new branch `branch`. Returns the commit id. `root` is the project root; it may be a
/// subdirectory of the repository. `base` is the commit the files were read at (from
/// [`read_head`]): if `HEAD` has moved since, nothing is written.
pub fn commit_on_new_branch(
    root: &Path,
    branch: &str,
    base: &str,
    files: &[(String, String)],
    message: &str,
) -> Result<String, BranchError> {
    let repo = open(root)?;
    let full_name = format!("refs/heads/{branch}");
    let ref_name: gix::refs::FullName = full_name
        .as_str()
        .try_into()
        .map_err(|_| BranchError::BadBranchName(branch.to_string()))?;
    if repo
        .try_find_reference(ref_name.as_ref())
        .map_err(git)?
        .is_some()
    {
        return Err(BranchError::BranchExists(branch.to_string()));
    }
    let head = repo.head_commit().map_err(|_| BranchError::UnbornHead)?;
    let base_id = gix::ObjectId::from_hex(base.as_bytes()).map_err(git)?;
    if head.id != base_id {
        return Err(BranchError::HeadMoved {
            expected: base.to_string(),
            found: head.id.to_string(),
        });
    }
    let head_tree = head.tree_id().map_err(git)?;

    // Paths in the commit are relative to the repository root, which may sit above `root`.
    let prefix = prefix_of(&repo, root)?;

    let tree = repo.find_tree(head_tree).map_err(git)?;
    let mut editor = repo.edit_tree(head_tree).map_err(git)?;
    for (rel, content) in files {
        let path = if prefix.is_empty() {
            rel.clone()
        } else {
            format!("{prefix}/{rel}")
        };
        // Keep an executable bit if the file had one.
        let kind = tree
            .lookup_entry_by_path(&path)
            .map_err(git)?
            .map(|e| e.mode().kind())
            .filter(|k| matches!(k, EntryKind::BlobExecutable))
            .unwrap_or(EntryKind::Blob);
        let blob = repo.write_blob(content.as_bytes()).map_err(git)?;
        editor.upsert(path.as_str(), kind, blob).map_err(git)?;
    }
    let new_tree = editor.write().map_err(git)?;

    let signature = gix::actor::Signature {
        name: "patchwright".into(),
        email: "patchwright@users.noreply.github.com".into(),
        time: gix::date::Time::now_local_or_utc(),
    };
    let mut time_buf = gix::date::parse::TimeBuf::default();
    let sig_ref = signature.to_ref(&mut time_buf);
    let commit = gix::objs::Commit {
        message: message.into(),
        tree: new_tree.detach(),
        author: sig_ref.into(),
        committer: sig_ref.into(),
        encoding: None,
        parents: vec![head.id].into(),
        extra_headers: Default::default(),
    };
    let commit_id = repo.write_object(&commit).map_err(git)?;
    repo.reference(
        ref_name,
        commit_id.detach(),
        PreviousValue::MustNotExist,
        format!("patchwright: {message}"),
    )
    .map_err(git)?;
    Ok(commit_id.to_string())
}

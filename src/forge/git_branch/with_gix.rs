//! The gix implementation of [`super::commit_on_new_branch`] (the `git` feature).

use super::BranchError;
use gix::object::tree::EntryKind;
use gix::refs::transaction::PreviousValue;
use std::path::Path;

fn git(e: impl std::fmt::Display) -> BranchError {
    BranchError::Git(e.to_string())
}

/// Writes `files` (repository-relative path → new content) as a commit whose parent is `HEAD`,
/// on the new branch `branch`. Returns the commit id. `root` is the scanned directory; paths in
/// `files` are relative to it, and it may be a subdirectory of the repository.
pub fn commit_on_new_branch(
    root: &Path,
    branch: &str,
    files: &[(String, String)],
    message: &str,
) -> Result<String, BranchError> {
    let repo = gix::discover(root).map_err(|e| BranchError::NotARepository {
        path: root.display().to_string(),
        reason: e.to_string(),
    })?;
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
    let head_tree = head.tree_id().map_err(git)?;

    // Paths in the commit are relative to the repository root, which may sit above `root`.
    let workdir = repo.workdir().map(Path::to_path_buf).unwrap_or_default();
    let root_abs = root.canonicalize().map_err(git)?;
    let workdir_abs = workdir.canonicalize().map_err(git)?;
    let prefix = root_abs.strip_prefix(&workdir_abs).unwrap_or(Path::new(""));

    let tree = repo.find_tree(head_tree).map_err(git)?;
    let mut editor = repo.edit_tree(head_tree).map_err(git)?;
    for (rel, content) in files {
        let path = prefix.join(rel);
        let path = path.to_string_lossy().replace('\\', "/");
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

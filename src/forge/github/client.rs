//! [`Forge`] over GitHub's REST API for one installation. Writes use the Git Data API
//! (blobs, a tree on a base tree, a commit, refs), so no clone or push is ever needed.
//! Reviews ([`reviews`]) and issues ([`issues`]) live in their own modules; the trait impl
//! here only hands them over.

mod issues;
mod reviews;

use super::app::GitHubApp;
use super::http::{Answer, Conditional, Method};
use super::route::{basehead, branch_ref, encode, repo_path};
use super::wire;
use crate::forge::hosted::{
    CheckRun, Comment, CommitInfo, FileChange, Forge, ForgeError, Forges, HeadCheck, Issue,
    IssueUpdate, NewReviewComment, PullRequest, Reaction, Review, ReviewComment, TreeEntry,
};
use crate::infra::secret::Secret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::sync::Arc;

/// GitHub takes at most this many annotations per check-run request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// Page size for lists (GitHub's maximum).
const PER_PAGE: usize = 100;
/// A bound on pages per list, so a misbehaving server cannot keep a job paging forever.
const MAX_PAGES: usize = 100;
/// A bound on directory depth when a truncated tree is walked one level at a time.
const MAX_TREE_DEPTH: usize = 64;
/// The media type that makes the commit route answer only the sha, with the sha as its ETag
/// (GitHub documents it for checking whether a ref moved).
const SHA_MEDIA_TYPE: &str = "application/vnd.github.sha";

/// One installation's view of GitHub. Cheap to clone.
#[derive(Clone, Debug)]
pub struct GitHubForge {
    app: GitHubApp,
    installation: u64,
}

impl GitHubForge {
    /// `app` acting as installation `installation`. No request is made until it is used.
    pub fn new(app: GitHubApp, installation: u64) -> GitHubForge {
        GitHubForge { app, installation }
    }

    pub fn installation_id(&self) -> u64 {
        self.installation
    }

    /// The installation's token, minted when the cached one nears its expiry.
    async fn token(&self) -> Result<Secret, ForgeError> {
        self.app.installation_token(self.installation).await
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        token: &Secret,
        method: Method,
        route: &'static str,
        path: String,
        body: Option<&B>,
    ) -> Result<Answer, ForgeError> {
        self.app
            .recorder()
            .send(token, method, route, path, body)
            .await
    }

    async fn get<R: DeserializeOwned>(
        &self,
        token: &Secret,
        route: &'static str,
        path: String,
    ) -> Result<R, ForgeError> {
        self.send(token, Method::Get, route, path, None::<&()>)
            .await?
            .json(route)
    }

    async fn write<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        token: &Secret,
        method: Method,
        route: &'static str,
        path: String,
        body: &B,
    ) -> Result<R, ForgeError> {
        self.send(token, method, route, path, Some(body))
            .await?
            .json(route)
    }

    /// Every page of a list route (`path` has no query yet).
    async fn list<R: DeserializeOwned>(
        &self,
        token: &Secret,
        route: &'static str,
        path: String,
        query: &str,
    ) -> Result<Vec<R>, ForgeError> {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let items: Vec<R> = self
                .get(
                    token,
                    route,
                    format!("{path}?{query}per_page={PER_PAGE}&page={page}"),
                )
                .await?;
            let last = items.len() < PER_PAGE;
            all.extend(items);
            if last {
                return Ok(all);
            }
        }
        Err(ForgeError::Permanent(format!(
            "GET {route}: more than {} items; refusing to page further",
            PER_PAGE * MAX_PAGES
        )))
    }

    /// A truncated recursive tree, walked one directory per request instead.
    async fn walk_tree(
        &self,
        token: &Secret,
        repo: &str,
        root: String,
    ) -> Result<Vec<TreeEntry>, ForgeError> {
        let mut out = Vec::new();
        let mut pending = vec![(String::new(), root, 0usize)];
        while let Some((prefix, sha, depth)) = pending.pop() {
            let tree: wire::Tree = self
                .get(
                    token,
                    "/repos/{owner}/{repo}/git/trees/{tree_sha}",
                    format!("{repo}/git/trees/{}", encode(&sha)),
                )
                .await?;
            if tree.truncated {
                return Err(ForgeError::Permanent(format!(
                    "directory `{prefix}` of {repo} has more entries than GitHub lists in one answer"
                )));
            }
            for item in tree.tree {
                let path = format!("{prefix}{}", item.path);
                match item.kind.as_str() {
                    "blob" => out.push(entry(path, item)),
                    "tree" if depth < MAX_TREE_DEPTH => {
                        pending.push((format!("{path}/"), item.sha, depth + 1))
                    }
                    "tree" => {
                        return Err(ForgeError::Permanent(format!(
                            "{repo}: directories nest deeper than {MAX_TREE_DEPTH} levels at `{path}`"
                        )));
                    }
                    // Submodules (`commit`) belong to other repositories.
                    _ => {}
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }
}

fn entry(path: String, item: wire::TreeItem) -> TreeEntry {
    TreeEntry {
        path,
        sha: item.sha,
        mode: item.mode,
        size: item.size,
    }
}

/// The id git gives a blob: SHA-1 of `blob <size>\0` and the bytes.
fn git_blob_id(bytes: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hex::encode(hasher.finalize())
}

fn decode_blob(sha: &str, blob: wire::Blob) -> Result<Vec<u8>, ForgeError> {
    match blob.encoding.as_str() {
        "base64" => {
            // GitHub wraps base64 at 60 columns.
            let compact: String = blob
                .content
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            STANDARD.decode(compact).map_err(|e| {
                ForgeError::Permanent(format!("blob {sha}: GitHub sent invalid base64 ({e})"))
            })
        }
        "utf-8" => Ok(blob.content.into_bytes()),
        other => Err(ForgeError::Permanent(format!(
            "blob {sha}: unknown encoding `{other}`"
        ))),
    }
}

#[async_trait::async_trait]
impl Forge for GitHubForge {
    async fn default_branch(&self, repo: &str) -> Result<(String, String), ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        let info: wire::Repository = self.get(&token, "/repos/{owner}/{repo}", r.clone()).await?;
        let head: wire::GitRef = self
            .get(
                &token,
                "/repos/{owner}/{repo}/git/ref/{ref}",
                format!("{r}/git/ref/{}", branch_ref(&info.default_branch)?),
            )
            .await?;
        Ok((info.default_branch, head.object.sha))
    }

    async fn tree(&self, repo: &str, commit_sha: &str) -> Result<Vec<TreeEntry>, ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        let tree: wire::Tree = self
            .get(
                &token,
                "/repos/{owner}/{repo}/git/trees/{tree_sha}",
                format!("{r}/git/trees/{}?recursive=1", encode(commit_sha)),
            )
            .await?;
        if tree.truncated {
            return self.walk_tree(&token, &r, tree.sha).await;
        }
        Ok(tree
            .tree
            .into_iter()
            .filter(|i| i.kind == "blob")
            .map(|i| entry(i.path.clone(), i))
            .collect())
    }

    async fn blob(&self, repo: &str, blob_sha: &str) -> Result<Vec<u8>, ForgeError> {
        let r = repo_path(repo)?;
        if let Some(hit) = self.app.blob_cache().get(blob_sha) {
            return Ok(hit.to_vec());
        }
        let token = self.token().await?;
        let blob: wire::Blob = self
            .get(
                &token,
                "/repos/{owner}/{repo}/git/blobs/{file_sha}",
                format!("{r}/git/blobs/{}", encode(blob_sha)),
            )
            .await?;
        let bytes = decode_blob(blob_sha, blob)?;
        self.app
            .blob_cache()
            .insert(blob_sha, Arc::from(bytes.as_slice()));
        Ok(bytes)
    }

    async fn commit(&self, repo: &str, sha: &str) -> Result<CommitInfo, ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        let c: wire::RestCommit = self
            .get(
                &token,
                "/repos/{owner}/{repo}/commits/{ref}",
                format!("{r}/commits/{}", encode(sha)),
            )
            .await?;
        Ok(CommitInfo {
            sha: c.sha,
            tree_sha: c.commit.tree.sha,
            parents: c.parents.into_iter().map(|p| p.sha).collect(),
            author_login: c.author.map(|a| a.login),
            author_name: c.commit.author.and_then(|a| a.name).unwrap_or_default(),
            message: c.commit.message,
        })
    }

    async fn merge_base(&self, repo: &str, base: &str, head: &str) -> Result<String, ForgeError> {
        let r = repo_path(repo)?;
        let pair = basehead(base, head)?;
        let token = self.token().await?;
        // The merge base is part of every answer; one commit per page keeps the commit list,
        // 250 entries otherwise, out of it (the changed files still come, up to 300).
        let c: wire::Comparison = self
            .get(
                &token,
                "/repos/{owner}/{repo}/compare/{basehead}",
                format!("{r}/compare/{pair}?per_page=1"),
            )
            .await?;
        Ok(c.merge_base_commit.sha)
    }

    async fn branch_head(&self, repo: &str, branch: &str) -> Result<Option<String>, ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        let found: Result<wire::GitRef, _> = self
            .get(
                &token,
                "/repos/{owner}/{repo}/git/ref/{ref}",
                format!("{r}/git/ref/{}", branch_ref(branch)?),
            )
            .await;
        match found {
            Ok(head) => Ok(Some(head.object.sha)),
            Err(ForgeError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One `GET commits/{branch}` in the sha media type with `If-None-Match`. GitHub's ETags
    /// are specific to the token that fetched them, and installation tokens last an hour, so a
    /// stored ETag from an earlier sweep would rarely match; the sha media type's ETag is the
    /// sha itself, which any token can send back (GitHub's description of the route says so).
    async fn head_since(
        &self,
        repo: &str,
        branch: &str,
        known_head: &str,
        etag: Option<&str>,
    ) -> Result<HeadCheck, ForgeError> {
        let r = repo_path(repo)?;
        branch_ref(branch)?;
        let name = branch.strip_prefix("refs/heads/").unwrap_or(branch);
        let validator = etag
            .map(str::to_string)
            .unwrap_or_else(|| format!("\"{known_head}\""));
        let token = self.token().await?;
        let answer = self
            .app
            .recorder()
            .get_if_none_match(
                &token,
                "/repos/{owner}/{repo}/commits/{ref}",
                format!("{r}/commits/{}", encode(name)),
                SHA_MEDIA_TYPE,
                &validator,
            )
            .await;
        match answer {
            Ok(Conditional::NotModified) => Ok(HeadCheck::Unchanged),
            Ok(Conditional::Fresh { body, etag }) => {
                let head = body.trim();
                if head.is_empty() || !head.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ForgeError::Permanent(format!(
                        "GET /repos/{{owner}}/{{repo}}/commits/{{ref}}: expected a commit sha, GitHub sent `{}`",
                        head.chars().take(80).collect::<String>()
                    )));
                }
                if head == known_head {
                    Ok(HeadCheck::Unchanged)
                } else {
                    Ok(HeadCheck::Moved {
                        head: head.to_string(),
                        etag,
                    })
                }
            }
            // 404: no such branch; 422: GitHub's answer for a ref that names no commit.
            Err(ForgeError::NotFound(_) | ForgeError::Conflict(_)) => Ok(HeadCheck::Missing),
            Err(e) => Err(e),
        }
    }

    async fn create_commit(
        &self,
        repo: &str,
        base_commit: &str,
        changes: &[FileChange],
        message: &str,
    ) -> Result<String, ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        let base: wire::GitCommit = self
            .get(
                &token,
                "/repos/{owner}/{repo}/git/commits/{commit_sha}",
                format!("{r}/git/commits/{}", encode(base_commit)),
            )
            .await?;
        // Contents go inline in the tree request (GitHub writes their blobs): one call for
        // every file instead of one each. Their ids are git's content hashes, so the re-scan
        // after a fix still reads them from the blob cache.
        let mut entries = Vec::with_capacity(changes.len());
        for change in changes {
            self.app.blob_cache().insert(
                &git_blob_id(change.content.as_bytes()),
                Arc::from(change.content.as_bytes()),
            );
            entries.push(json!({
                "path": change.path,
                "mode": change.mode,
                "type": "blob",
                "content": change.content,
            }));
        }
        let tree: wire::Sha = self
            .write(
                &token,
                Method::Post,
                "/repos/{owner}/{repo}/git/trees",
                format!("{r}/git/trees"),
                &json!({ "base_tree": base.tree.sha, "tree": entries }),
            )
            .await?;
        let commit: wire::Sha = self
            .write(
                &token,
                Method::Post,
                "/repos/{owner}/{repo}/git/commits",
                format!("{r}/git/commits"),
                &json!({ "message": message, "tree": tree.sha, "parents": [base_commit] }),
            )
            .await?;
        Ok(commit.sha)
    }

    async fn create_branch(&self, repo: &str, branch: &str, sha: &str) -> Result<(), ForgeError> {
        let r = repo_path(repo)?;
        branch_ref(branch)?;
        let name = branch.strip_prefix("refs/heads/").unwrap_or(branch);
        let token = self.token().await?;
        self.send(
            &token,
            Method::Post,
            "/repos/{owner}/{repo}/git/refs",
            format!("{r}/git/refs"),
            Some(&json!({ "ref": format!("refs/heads/{name}"), "sha": sha })),
        )
        .await?;
        Ok(())
    }

    async fn update_branch(
        &self,
        repo: &str,
        branch: &str,
        sha: &str,
        force: bool,
    ) -> Result<(), ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        self.send(
            &token,
            Method::Patch,
            "/repos/{owner}/{repo}/git/refs/{ref}",
            format!("{r}/git/refs/{}", branch_ref(branch)?),
            Some(&json!({ "sha": sha, "force": force })),
        )
        .await?;
        Ok(())
    }

    async fn delete_branch(&self, repo: &str, branch: &str) -> Result<(), ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        self.send(
            &token,
            Method::Delete,
            "/repos/{owner}/{repo}/git/refs/{ref}",
            format!("{r}/git/refs/{}", branch_ref(branch)?),
            None::<&()>,
        )
        .await?;
        Ok(())
    }

    async fn open_pulls(&self, repo: &str) -> Result<Vec<PullRequest>, ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        let pulls: Vec<wire::Pull> = self
            .list(
                &token,
                "/repos/{owner}/{repo}/pulls",
                format!("{r}/pulls"),
                "state=open&",
            )
            .await?;
        Ok(pulls.into_iter().map(PullRequest::from).collect())
    }

    async fn pull(&self, repo: &str, number: u64) -> Result<PullRequest, ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        let pull: wire::Pull = self
            .get(
                &token,
                "/repos/{owner}/{repo}/pulls/{pull_number}",
                format!("{r}/pulls/{number}"),
            )
            .await?;
        Ok(pull.into())
    }

    async fn create_pull(
        &self,
        repo: &str,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        let pull: wire::Pull = self
            .write(
                &token,
                Method::Post,
                "/repos/{owner}/{repo}/pulls",
                format!("{r}/pulls"),
                &json!({ "title": title, "head": head, "base": base, "body": body }),
            )
            .await?;
        if let Some(m) = &self.app.recorder().metrics {
            m.fix_pr("opened");
        }
        Ok(pull.into())
    }

    async fn update_pull(
        &self,
        repo: &str,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<(), ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        self.send(
            &token,
            Method::Patch,
            "/repos/{owner}/{repo}/pulls/{pull_number}",
            format!("{r}/pulls/{number}"),
            Some(&json!({ "title": title, "body": body })),
        )
        .await?;
        if let Some(m) = &self.app.recorder().metrics {
            m.fix_pr("updated");
        }
        Ok(())
    }

    async fn close_pull(&self, repo: &str, number: u64) -> Result<(), ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        self.send(
            &token,
            Method::Patch,
            "/repos/{owner}/{repo}/pulls/{pull_number}",
            format!("{r}/pulls/{number}"),
            Some(&json!({ "state": "closed" })),
        )
        .await?;
        if let Some(m) = &self.app.recorder().metrics {
            m.fix_pr("closed");
        }
        Ok(())
    }

    async fn add_labels(
        &self,
        repo: &str,
        number: u64,
        labels: &[String],
    ) -> Result<(), ForgeError> {
        if labels.is_empty() {
            return Ok(());
        }
        let r = repo_path(repo)?;
        let token = self.token().await?;
        self.send(
            &token,
            Method::Post,
            "/repos/{owner}/{repo}/issues/{issue_number}/labels",
            format!("{r}/issues/{number}/labels"),
            Some(&json!({ "labels": labels })),
        )
        .await?;
        Ok(())
    }

    async fn comments(&self, repo: &str, number: u64) -> Result<Vec<Comment>, ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        let comments: Vec<wire::IssueComment> = self
            .list(
                &token,
                "/repos/{owner}/{repo}/issues/{issue_number}/comments",
                format!("{r}/issues/{number}/comments"),
                "",
            )
            .await?;
        Ok(comments.into_iter().map(Comment::from).collect())
    }

    async fn create_comment(
        &self,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<Comment, ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        let c: wire::IssueComment = self
            .write(
                &token,
                Method::Post,
                "/repos/{owner}/{repo}/issues/{issue_number}/comments",
                format!("{r}/issues/{number}/comments"),
                &json!({ "body": body }),
            )
            .await?;
        Ok(c.into())
    }

    async fn update_comment(
        &self,
        repo: &str,
        comment_id: u64,
        body: &str,
    ) -> Result<(), ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        self.send(
            &token,
            Method::Patch,
            "/repos/{owner}/{repo}/issues/comments/{comment_id}",
            format!("{r}/issues/comments/{comment_id}"),
            Some(&json!({ "body": body })),
        )
        .await?;
        Ok(())
    }

    async fn create_check_run(&self, repo: &str, check: &CheckRun) -> Result<u64, ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        let mut batches = check.annotations.chunks(ANNOTATIONS_PER_REQUEST);
        let output = |batch: &[crate::forge::hosted::Annotation]| {
            json!({
                "title": check.title,
                "summary": check.summary,
                "annotations": batch.iter().map(|a| json!({
                    "path": a.path,
                    "start_line": a.start_line,
                    "end_line": a.end_line,
                    "annotation_level": a.level,
                    "title": a.title,
                    "message": a.message,
                })).collect::<Vec<_>>(),
            })
        };
        let created: wire::Id = self
            .write(
                &token,
                Method::Post,
                "/repos/{owner}/{repo}/check-runs",
                format!("{r}/check-runs"),
                &json!({
                    "name": check.name,
                    "head_sha": check.head_sha,
                    "status": "completed",
                    "conclusion": check.conclusion,
                    "output": output(batches.next().unwrap_or(&[])),
                }),
            )
            .await?;
        // GitHub appends the annotations of each update to the run's list.
        for batch in batches {
            self.send(
                &token,
                Method::Patch,
                "/repos/{owner}/{repo}/check-runs/{check_run_id}",
                format!("{r}/check-runs/{}", created.id),
                Some(&json!({ "output": output(batch) })),
            )
            .await?;
        }
        Ok(created.id)
    }

    async fn permission(&self, repo: &str, user: &str) -> Result<String, ForgeError> {
        let r = repo_path(repo)?;
        let token = self.token().await?;
        let found: Result<wire::Permission, _> = self
            .get(
                &token,
                "/repos/{owner}/{repo}/collaborators/{username}/permission",
                format!("{r}/collaborators/{}/permission", encode(user)),
            )
            .await;
        match found {
            Ok(p) => Ok(p.permission),
            // GitHub answers 404 for a login that is not a user: no permission at all.
            Err(ForgeError::NotFound(_)) => Ok("none".to_string()),
            Err(e) => Err(e),
        }
    }

    async fn create_review(
        &self,
        repo: &str,
        number: u64,
        commit_sha: &str,
        body: &str,
        comments: &[NewReviewComment],
    ) -> Result<u64, ForgeError> {
        reviews::create_review(self, repo, number, commit_sha, body, comments).await
    }

    async fn reviews(&self, repo: &str, number: u64) -> Result<Vec<Review>, ForgeError> {
        reviews::reviews(self, repo, number).await
    }

    async fn review_comments(
        &self,
        repo: &str,
        number: u64,
    ) -> Result<Vec<ReviewComment>, ForgeError> {
        reviews::review_comments(self, repo, number).await
    }

    async fn delete_review_comment(&self, repo: &str, comment_id: u64) -> Result<(), ForgeError> {
        reviews::delete_review_comment(self, repo, comment_id).await
    }

    async fn react(
        &self,
        repo: &str,
        comment_id: u64,
        reaction: Reaction,
    ) -> Result<(), ForgeError> {
        issues::react(self, repo, comment_id, reaction).await
    }

    async fn create_issue(
        &self,
        repo: &str,
        title: &str,
        body: &str,
        labels: &[String],
        assignees: &[String],
    ) -> Result<Issue, ForgeError> {
        issues::create_issue(self, repo, title, body, labels, assignees).await
    }

    async fn issue(&self, repo: &str, number: u64) -> Result<Issue, ForgeError> {
        issues::issue(self, repo, number).await
    }

    async fn update_issue(
        &self,
        repo: &str,
        number: u64,
        update: &IssueUpdate,
    ) -> Result<(), ForgeError> {
        issues::update_issue(self, repo, number, update).await
    }

    async fn request_reviewers(
        &self,
        repo: &str,
        number: u64,
        users: &[String],
        teams: &[String],
    ) -> Result<(), ForgeError> {
        reviews::request_reviewers(self, repo, number, users, teams).await
    }
}

/// The App hands out one client per installation. Here rather than in `app`, so the App
/// knows nothing of the client built on it.
#[async_trait::async_trait]
impl Forges for GitHubApp {
    async fn installation(&self, installation_id: i64) -> Result<Arc<dyn Forge>, ForgeError> {
        let id = u64::try_from(installation_id).map_err(|_| {
            ForgeError::Permanent(format!("installation id {installation_id} is not valid"))
        })?;
        Ok(Arc::new(GitHubForge::new(self.clone(), id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_decode_from_wrapped_base64() {
        let blob = wire::Blob {
            content: "RlJPTSBub2Rl\nOjIwCg==\n".into(),
            encoding: "base64".into(),
        };
        assert_eq!(decode_blob("x", blob).unwrap(), b"FROM node:20\n");
        let bad = wire::Blob {
            content: "!!".into(),
            encoding: "base64".into(),
        };
        assert!(matches!(
            decode_blob("x", bad),
            Err(ForgeError::Permanent(_))
        ));
    }

    #[test]
    fn blob_ids_are_gits() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            git_blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }
}

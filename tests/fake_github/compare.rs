//! Comparing two commits in the fake (`GET …/compare/{base}...{head}`), as GitHub's three-dot
//! comparison does: the merge base over the fake's commit graph, the commits `head` has that
//! `base` lacks (oldest first, paged), and whether `head` is ahead, behind, identical or
//! diverged. The merge base is also where the fake's pull-request diffs start (see reviews.rs).

use super::git::Odb;
use super::{Reply, Repo, error, page, reply, rest_commit_json};
use serde_json::json;
use std::collections::{HashMap, HashSet, VecDeque};

/// What GitHub lists when no paging parameter is given: the newest 250 commits.
const UNPAGED_COMMITS: usize = 250;

/// `sha` and every commit it descends from.
fn ancestors(odb: &Odb, sha: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut pending = vec![sha.to_string()];
    while let Some(c) = pending.pop() {
        if let Some(commit) = odb.commit(&c) {
            if seen.insert(c) {
                pending.extend(commit.parents.iter().cloned());
            }
        }
    }
    seen
}

/// The best common ancestor of `a` and `b` (git's merge base): a commit both descend from
/// that no other such commit descends from. The nearest common commit is not enough: after a
/// merge of an older branch, an old fork point can sit fewer steps from `b` than the real one.
/// Of several best ones (criss-cross merges) the one found first walking back from `b`
/// breadth first, parents in order.
pub fn merge_base(odb: &Odb, a: &str, b: &str) -> Option<String> {
    let of_a = ancestors(odb, a);
    let common: HashSet<String> = ancestors(odb, b)
        .into_iter()
        .filter(|c| of_a.contains(c))
        .collect();
    // Everything a common ancestor descends from (itself excluded) is a worse candidate.
    let mut worse = HashSet::new();
    for c in &common {
        for p in odb.commit(c).map(|c| c.parents.clone()).unwrap_or_default() {
            if !worse.contains(&p) {
                worse.extend(ancestors(odb, &p));
            }
        }
    }
    let mut queue = VecDeque::from([b.to_string()]);
    let mut seen = HashSet::new();
    while let Some(c) = queue.pop_front() {
        if common.contains(&c) && !worse.contains(&c) {
            return Some(c);
        }
        if seen.insert(c.clone()) {
            if let Some(commit) = odb.commit(&c) {
                queue.extend(commit.parents.iter().cloned());
            }
        }
    }
    None
}

/// The commits of `head` outside `exclude`, parents before children (GitHub lists a
/// comparison's commits oldest first).
fn oldest_first(odb: &Odb, head: &str, exclude: &HashSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut done = HashSet::new();
    // (commit, whether its parents are already listed)
    let mut stack = vec![(head.to_string(), false)];
    while let Some((c, parents_listed)) = stack.pop() {
        if exclude.contains(&c) || done.contains(&c) {
            continue;
        }
        let Some(commit) = odb.commit(&c) else {
            continue;
        };
        if parents_listed {
            done.insert(c.clone());
            out.push(c);
        } else {
            stack.push((c.clone(), true));
            // Reversed, so the first parent's history comes out first.
            for p in commit.parents.iter().rev() {
                stack.push((p.clone(), false));
            }
        }
    }
    out
}

/// One side of `base...head`: a branch of the repository (`refs/heads/` allowed) or a commit.
fn resolve(odb: &Odb, repo: &Repo, side: &str) -> Option<String> {
    let branch = side.strip_prefix("refs/heads/").unwrap_or(side);
    match repo.refs.get(branch) {
        Some(sha) => Some(sha.clone()),
        None => odb.commit(side).map(|_| side.to_string()),
    }
}

/// Percent-encodes what a URL path cannot carry as is (a `#` or a space in a branch name).
fn url_path(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b':') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `GET /repos/{owner}/{repo}/compare/{basehead}`; `basehead` is decoded (`main...alice/fix`).
pub fn compare(
    odb: &Odb,
    repo: &Repo,
    api: &str,
    full: &str,
    basehead: &str,
    q: &HashMap<String, String>,
) -> Reply {
    let Some((base_side, head_side)) = basehead.split_once("...") else {
        return error(404, "Not Found");
    };
    let (Some(base), Some(head)) = (resolve(odb, repo, base_side), resolve(odb, repo, head_side))
    else {
        return error(404, "Not Found");
    };
    let Some(merge_base) = merge_base(odb, &base, &head) else {
        return error(
            404,
            &format!("No common ancestor between {base_side} and {head_side}."),
        );
    };
    let of_base = ancestors(odb, &base);
    let of_head = ancestors(odb, &head);
    let ahead = oldest_first(odb, &head, &of_base);
    let behind_by = of_base.difference(&of_head).count();
    let status = match (ahead.len(), behind_by) {
        (0, 0) => "identical",
        (_, 0) => "ahead",
        (0, _) => "behind",
        _ => "diverged",
    };
    let listed: Vec<String> = if q.contains_key("per_page") || q.contains_key("page") {
        page(&ahead, q)
    } else {
        ahead[ahead.len().saturating_sub(UNPAGED_COMMITS)..].to_vec()
    };
    let commit = |sha: &str| match odb.commit(sha) {
        Some(c) => rest_commit_json(api, full, sha, c),
        None => serde_json::Value::Null,
    };
    let owner = full.split('/').next().unwrap_or(full);
    let html = format!("https://github.com/{full}/compare/{}", url_path(basehead));
    // The list of changed files is optional in GitHub's description and nothing here reads
    // it, so the fake leaves it out.
    reply(
        200,
        json!({
            "url": format!("{api}/compare/{}", url_path(basehead)),
            "html_url": html,
            "permalink_url": format!("https://github.com/{full}/compare/{owner}:{base}...{owner}:{head}"),
            "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"),
            "base_commit": commit(&base),
            "merge_base_commit": commit(&merge_base),
            "status": status,
            "ahead_by": ahead.len(),
            "behind_by": behind_by,
            "total_commits": ahead.len(),
            "commits": listed.iter().map(|c| commit(c)).collect::<Vec<_>>(),
        }),
    )
}

//! Building request paths from caller input without letting that input change the route.

use crate::forge::hosted::ForgeError;

/// `owner/name` → `repos/owner/name`, refusing anything GitHub would not accept as a name
/// (so a `..` or `?` in a repository name cannot reach another route).
pub(crate) fn repo_path(repo: &str) -> Result<String, ForgeError> {
    let bad = || {
        ForgeError::Permanent(format!(
            "`{repo}` is not a repository name: expected `owner/name`, e.g. `octo-org/api`"
        ))
    };
    let (owner, name) = repo.split_once('/').ok_or_else(bad)?;
    let ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    if ok(owner) && ok(name) {
        Ok(format!("/repos/{owner}/{name}"))
    } else {
        Err(bad())
    }
}

/// Percent-encodes one path segment (a login, a sha). `keep_slash` leaves `/` alone for
/// branch names, which GitHub's ref routes take with their slashes.
pub(crate) fn encode(segment: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A branch name as the ref routes take it, refusing names git itself refuses in the ways
/// that would change the route (`..`, an empty part).
pub(crate) fn branch_path(branch: &str) -> Result<String, ForgeError> {
    let name = branch.strip_prefix("refs/heads/").unwrap_or(branch);
    if name.is_empty()
        || name
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(ForgeError::Permanent(format!(
            "`{branch}` is not a branch name git accepts"
        )));
    }
    Ok(encode(name, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_are_checked() {
        assert_eq!(
            repo_path("octo-org/api.v2").unwrap(),
            "/repos/octo-org/api.v2"
        );
        for bad in ["octo", "a/b/c", "../x", "a/..", "a/b?x=1", "/b", "a/"] {
            assert!(repo_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn branches_keep_slashes_and_lose_route_characters() {
        assert_eq!(
            branch_path("patchwright/node-20#1").unwrap(),
            "patchwright/node-20%231"
        );
        assert_eq!(branch_path("refs/heads/main").unwrap(), "main");
        assert!(branch_path("a/../b").is_err());
        assert!(branch_path("").is_err());
        assert_eq!(encode("user name", false), "user%20name");
    }
}

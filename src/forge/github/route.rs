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

/// Percent-encodes one path segment (a login, a sha, a ref).
pub(crate) fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `{ref}` segment for a branch: `heads/<name>` as one encoded segment (`heads%2F…`), as
/// GitHub's own clients send it; an unencoded `/` would not match the documented route
/// `/repos/{owner}/{repo}/git/ref/{ref}`. Names git itself refuses in ways that could change
/// the route (`..`, an empty part) are refused here.
pub(crate) fn branch_ref(branch: &str) -> Result<String, ForgeError> {
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
    Ok(encode(&format!("heads/{name}")))
}

/// The `{basehead}` segment of the compare route: `base...head`, each side (a branch name or
/// a commit sha) encoded as above so a `/` in a branch stays inside the segment. A side that is
/// empty or holds `..` is refused: git allows neither in a ref name, and a `...` inside a side
/// would make GitHub split the pair somewhere else.
pub(crate) fn basehead(base: &str, head: &str) -> Result<String, ForgeError> {
    for (which, side) in [("base", base), ("head", head)] {
        if side.is_empty() || side.contains("..") {
            return Err(ForgeError::Permanent(format!(
                "`{side}` cannot be the {which} of a comparison: expected a branch name or a \
                 commit sha (no `..`, not empty)"
            )));
        }
    }
    Ok(format!("{}...{}", encode(base), encode(head)))
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
    fn branches_become_one_encoded_ref_segment() {
        assert_eq!(
            branch_ref("patchwright/node-20#1").unwrap(),
            "heads%2Fpatchwright%2Fnode-20%231"
        );
        assert_eq!(branch_ref("refs/heads/main").unwrap(), "heads%2Fmain");
        assert!(branch_ref("a/../b").is_err());
        assert!(branch_ref("").is_err());
        assert_eq!(encode("user name"), "user%20name");
    }

    #[test]
    fn a_comparison_is_one_segment_with_three_dots() {
        assert_eq!(
            basehead("main", "alice/fix#2").unwrap(),
            "main...alice%2Ffix%232"
        );
        assert_eq!(basehead("v1.2", "abc123").unwrap(), "v1.2...abc123");
        for (base, head) in [("", "x"), ("x", ""), ("a...b", "c"), ("main", "a..b")] {
            let e = basehead(base, head).unwrap_err();
            assert!(
                matches!(&e, ForgeError::Permanent(m) if m.contains("comparison")),
                "{base} {head}: {e:?}"
            );
        }
    }
}

//! CODEOWNERS against the rules GitHub documents ("About code owners"): every example in its
//! example files, last match wins, un-owning lines, where the file is looked for, errors with
//! their lines, and parsing/matching never panicking.

use std::collections::BTreeMap;

use patchwright::owners::{self, CodeOwners, LOCATIONS};
use proptest::prelude::*;

fn parse_ok(text: &str) -> CodeOwners {
    let (owners, errors) = owners::parse("CODEOWNERS", text);
    assert!(errors.is_empty(), "unexpected errors: {errors:?}");
    owners
}

fn owners_of(co: &CodeOwners, path: &str) -> Option<Vec<String>> {
    co.owners_of(path).map(<[String]>::to_vec)
}

fn v(owners: &[&str]) -> Option<Vec<String>> {
    Some(owners.iter().map(|s| s.to_string()).collect())
}

/// GitHub's example file, in its current form, comments kept (one inline).
const GITHUB_EXAMPLE: &str = "\
# This is a comment.
# Each line is a file pattern followed by one or more owners.

# These owners will be the default owners for everything in
# the repo. Unless a later match takes precedence,
# @global-owner1 and @global-owner2 will be requested for
# review when someone opens a pull request.
*       @global-owner1 @global-owner2

# Order is important; the last matching pattern takes the most
# precedence. When someone opens a pull request that only
# modifies JS files, only @js-owner and not the global
# owner(s) will be requested for a review.
*.js    @js-owner #This is an inline comment.

# You can also use email addresses if you prefer. They'll be
# used to look up users just like we do for commit author
# emails.
*.go docs@example.com

# Teams can be specified as code owners as well. Teams should
# be identified in the format @org/team-name. Teams must have
# explicit write access to the repository. In this example,
# the octocats team in the octo-org organization owns all .txt files.
*.txt @octo-org/octocats

# In this example, @doctocat owns any files in the build/logs
# directory at the root of the repository and any of its
# subdirectories.
/build/logs/ @doctocat

# The `docs/*` pattern will match files like
# `docs/getting-started.md` but not further nested files like
# `docs/build-app/troubleshooting.md`.
docs/*  docs@example.com

# In this example, @octocat owns any file in an apps directory
# anywhere in your repository.
apps/ @octocat

# In this example, @doctocat owns any file in the `/docs`
# directory in the root of your repository and any of its
# subdirectories.
/docs/ @doctocat

# In this example, any change inside the `/scripts` directory
# will require approval from @doctocat or @octocat.
/scripts/ @doctocat @octocat

# In this example, @octocat owns any file in a `/logs` directory such as
# `/build/logs`, `/scripts/logs`, and `/deeply/nested/logs`. Any changes
# in a `/logs` directory will require approval from @octocat.
**/logs @octocat

# In this example, @octocat owns any file in the `/apps`
# directory in the root of your repository except for the `/apps/github`
# subdirectory, as its owners are left empty.
/apps/ @octocat
/apps/github

# In this example, @octocat owns any file in the `/apps`
# directory in the root of your repository except for the `/apps/github`
# subdirectory, as this subdirectory has its own owner @doctocat
/apps/ @octocat
/apps/github @doctocat
";

// ---- Each documented example on its own, under the default `*` line ----

/// The example's lines, each tested alone after the default line, so a claim about one pattern is
/// not hidden by a later line of the full file.
fn with_default(lines: &str) -> CodeOwners {
    parse_ok(&format!("* @global-owner1 @global-owner2\n{lines}\n"))
}

#[test]
fn star_owns_everything() {
    let co = parse_ok("* @global-owner1 @global-owner2\n");
    for path in [
        "README.md",
        "src/main.rs",
        "a/b/c/d/Dockerfile",
        ".github/workflows/x.yml",
    ] {
        assert_eq!(
            owners_of(&co, path),
            v(&["@global-owner1", "@global-owner2"]),
            "{path}"
        );
    }
}

#[test]
fn js_owner_takes_precedence_and_is_the_only_reviewer_for_js_only_prs() {
    let co = with_default("*.js    @js-owner #This is an inline comment.");
    assert_eq!(owners_of(&co, "index.js"), v(&["@js-owner"]));
    assert_eq!(owners_of(&co, "web/src/deep/app.js"), v(&["@js-owner"]));
    assert_eq!(
        co.owners_for_files(&["index.js", "web/app.js"]),
        vec!["@js-owner"]
    );
    // The inline comment is not an owner.
    assert_eq!(co.rule_for("a.js").unwrap().owners, vec!["@js-owner"]);
    assert_eq!(
        owners_of(&co, "index.ts"),
        v(&["@global-owner1", "@global-owner2"])
    );
}

#[test]
fn email_owner() {
    let co = with_default("*.go docs@example.com");
    assert_eq!(owners_of(&co, "cmd/main.go"), v(&["docs@example.com"]));
}

#[test]
fn team_owner() {
    let co = with_default("*.txt @octo-org/octocats");
    assert_eq!(owners_of(&co, "notes.txt"), v(&["@octo-org/octocats"]));
    assert_eq!(owners_of(&co, "a/b/notes.txt"), v(&["@octo-org/octocats"]));
}

#[test]
fn anchored_directory_build_logs() {
    let co = with_default("/build/logs/ @doctocat");
    assert_eq!(owners_of(&co, "build/logs/out.log"), v(&["@doctocat"]));
    assert_eq!(
        owners_of(&co, "build/logs/2024/01/out.log"),
        v(&["@doctocat"])
    );
    // Anchored: a build/logs elsewhere is not it.
    assert_eq!(
        owners_of(&co, "sub/build/logs/out.log"),
        v(&["@global-owner1", "@global-owner2"])
    );
    // A trailing slash names a directory: a file called build/logs is not in it.
    assert_eq!(
        owners_of(&co, "build/logs"),
        v(&["@global-owner1", "@global-owner2"])
    );
}

#[test]
fn docs_star_matches_direct_children_only() {
    let co = with_default("docs/*  docs@example.com");
    assert_eq!(
        owners_of(&co, "docs/getting-started.md"),
        v(&["docs@example.com"])
    );
    assert_eq!(
        owners_of(&co, "docs/build-app/troubleshooting.md"),
        v(&["@global-owner1", "@global-owner2"])
    );
}

#[test]
fn apps_directory_anywhere() {
    let co = with_default("apps/ @octocat");
    for path in [
        "apps/web/index.js",
        "services/apps/a.go",
        "x/y/apps/z/w.txt",
    ] {
        assert_eq!(owners_of(&co, path), v(&["@octocat"]), "{path}");
    }
    // `apps` as a file, or a name merely containing apps, is not an apps directory.
    for path in ["apps", "src/apps", "myapps/x", "apps.txt"] {
        assert_eq!(
            owners_of(&co, path),
            v(&["@global-owner1", "@global-owner2"]),
            "{path}"
        );
    }
}

#[test]
fn root_docs_directory_and_subdirectories() {
    let co = with_default("/docs/ @doctocat");
    assert_eq!(owners_of(&co, "docs/index.md"), v(&["@doctocat"]));
    assert_eq!(owners_of(&co, "docs/a/b/c.md"), v(&["@doctocat"]));
    assert_eq!(
        owners_of(&co, "site/docs/index.md"),
        v(&["@global-owner1", "@global-owner2"])
    );
}

#[test]
fn scripts_directory_two_owners() {
    let co = with_default("/scripts/ @doctocat @octocat");
    assert_eq!(
        owners_of(&co, "scripts/deploy.sh"),
        v(&["@doctocat", "@octocat"])
    );
    assert_eq!(
        owners_of(&co, "scripts/ci/lint.sh"),
        v(&["@doctocat", "@octocat"])
    );
}

#[test]
fn globstar_logs_any_depth() {
    let co = with_default("**/logs @octocat");
    for path in [
        "logs/a.log",
        "build/logs/a.log",
        "scripts/logs/a.log",
        "deeply/nested/logs/a.log",
        "deeply/nested/logs/more/a.log",
    ] {
        assert_eq!(owners_of(&co, path), v(&["@octocat"]), "{path}");
    }
    assert_eq!(
        owners_of(&co, "build/catalogs/a.log"),
        v(&["@global-owner1", "@global-owner2"])
    );
}

#[test]
fn empty_owners_carve_out_a_subdirectory() {
    let co = with_default("/apps/ @octocat\n/apps/github");
    assert_eq!(owners_of(&co, "apps/web/index.js"), v(&["@octocat"]));
    assert_eq!(owners_of(&co, "apps/github/index.js"), None);
    assert_eq!(owners_of(&co, "apps/github"), None);
    // The deciding line is known even when it assigns nobody.
    let rule = co.rule_for("apps/github/index.js").unwrap();
    assert_eq!((rule.line, rule.pattern.as_str()), (3, "/apps/github"));
    assert!(rule.owners.is_empty());
}

#[test]
fn subdirectory_with_its_own_owner() {
    let co = with_default("/apps/ @octocat\n/apps/github @doctocat");
    assert_eq!(owners_of(&co, "apps/web/index.js"), v(&["@octocat"]));
    assert_eq!(owners_of(&co, "apps/github/index.js"), v(&["@doctocat"]));
}

/// The branch-protection section's examples: any change inside `/apps` needs those owners.
#[test]
fn branch_protection_examples() {
    for (line, expected) in [
        ("/apps/ @doctocat", vec!["@doctocat"]),
        ("/apps/ @doctocat @octocat", vec!["@doctocat", "@octocat"]),
        (
            "/apps/ @example-org/content-team",
            vec!["@example-org/content-team"],
        ),
    ] {
        let co = parse_ok(line);
        assert_eq!(owners_of(&co, "apps/web/index.js"), v(&expected), "{line}");
        assert_eq!(owners_of(&co, "lib/index.js"), None, "{line}");
    }
}

// ---- The whole documented file at once ----

#[test]
fn github_example_file_as_a_whole() {
    let co = parse_ok(GITHUB_EXAMPLE);
    let cases: &[(&str, &[&str])] = &[
        ("README.md", &["@global-owner1", "@global-owner2"]),
        ("src/app.js", &["@js-owner"]),
        ("main.go", &["docs@example.com"]),
        ("notes.txt", &["@octo-org/octocats"]),
        // `docs/*` is overridden by the later `/docs/` line.
        ("docs/getting-started.md", &["@doctocat"]),
        ("docs/build-app/troubleshooting.md", &["@doctocat"]),
        // `**/logs` comes after `/build/logs/`: last match wins.
        ("build/logs/out.txt", &["@octocat"]),
        ("scripts/deploy.sh", &["@doctocat", "@octocat"]),
        ("scripts/logs/run.log", &["@octocat"]),
        ("services/apps/a.go", &["@octocat"]),
        ("apps/web/index.js", &["@octocat"]),
        // The very last line re-owns what the earlier empty `/apps/github` un-owned.
        ("apps/github/index.js", &["@doctocat"]),
    ];
    for (path, expected) in cases {
        assert_eq!(owners_of(&co, path), v(expected), "{path}");
    }
    assert_eq!(co.rule_for("apps/github/x").unwrap().line, 65);
}

// ---- Rules the brief names beyond the examples ----

#[test]
fn last_match_wins_in_either_order() {
    let co = parse_ok("*.js @js\n/web/ @web\n");
    assert_eq!(owners_of(&co, "web/app.js"), v(&["@web"]));
    let co = parse_ok("/web/ @web\n*.js @js\n");
    assert_eq!(owners_of(&co, "web/app.js"), v(&["@js"]));
}

#[test]
fn unowning_line_clears_earlier_matches_until_a_later_line() {
    let co = parse_ok("* @all\n/vendor/\n/vendor/ours/ @us\n");
    assert_eq!(owners_of(&co, "src/x.rs"), v(&["@all"]));
    assert_eq!(owners_of(&co, "vendor/lib/x.rs"), None);
    assert_eq!(owners_of(&co, "vendor/ours/x.rs"), v(&["@us"]));
    assert_eq!(
        co.owners_for_files(&["vendor/lib/x.rs", "src/x.rs"]),
        vec!["@all"]
    );
}

#[test]
fn name_without_slash_matches_at_any_depth() {
    let co = parse_ok("Dockerfile @docker\n");
    for path in ["Dockerfile", "svc/api/Dockerfile", "Dockerfile/readme"] {
        assert_eq!(owners_of(&co, path), v(&["@docker"]), "{path}");
    }
    for path in ["Dockerfile.dev", "svc/Dockerfile.prod", "dockerfile"] {
        assert_eq!(owners_of(&co, path), None, "{path}");
    }
}

#[test]
fn slash_in_the_middle_anchors() {
    let co = parse_ok("deploy/k8s @ops\n");
    assert_eq!(owners_of(&co, "deploy/k8s/a.yaml"), v(&["@ops"]));
    assert_eq!(owners_of(&co, "deploy/k8s"), v(&["@ops"]));
    assert_eq!(owners_of(&co, "x/deploy/k8s/a.yaml"), None);
}

#[test]
fn root_star_only_root_files() {
    let co = parse_ok("/* @root\n");
    assert_eq!(owners_of(&co, "Cargo.toml"), v(&["@root"]));
    assert_eq!(owners_of(&co, "src/lib.rs"), None);
}

#[test]
fn globstar_in_the_middle() {
    let co = parse_ok("a/**/b @ab\n");
    for path in ["a/b", "a/x/b", "a/x/y/z/b", "a/x/b/file"] {
        assert_eq!(owners_of(&co, path), v(&["@ab"]), "{path}");
    }
    for path in ["b", "x/a/b", "a/bb", "a/x/y"] {
        assert_eq!(owners_of(&co, path), None, "{path}");
    }
}

#[test]
fn trailing_globstar_is_the_directory_contents() {
    let co = parse_ok("/docs/** @docs\n");
    assert_eq!(owners_of(&co, "docs/a.md"), v(&["@docs"]));
    assert_eq!(owners_of(&co, "docs/a/b.md"), v(&["@docs"]));
    assert_eq!(owners_of(&co, "docs"), None);
}

#[test]
fn extension_glob_under_a_directory() {
    let co = parse_ok("/docs/**/*.md @docs\n");
    assert_eq!(owners_of(&co, "docs/a.md"), v(&["@docs"]));
    assert_eq!(owners_of(&co, "docs/x/y/a.md"), v(&["@docs"]));
    assert_eq!(owners_of(&co, "docs/x/a.txt"), None);
}

#[test]
fn matching_is_case_sensitive() {
    // GitHub's file system is case sensitive, and so are CODEOWNERS paths.
    let co = parse_ok("/Docs/ @docs\n");
    assert_eq!(owners_of(&co, "Docs/a.md"), v(&["@docs"]));
    assert_eq!(owners_of(&co, "docs/a.md"), None);
}

#[test]
fn escapes_in_patterns() {
    let co = parse_ok(
        "/src/System\\ Application/App @sys\n\
         notes\\#1.txt @hash\n\
         literal\\*star @star\n",
    );
    assert_eq!(
        owners_of(&co, "src/System Application/App/x.al"),
        v(&["@sys"])
    );
    assert_eq!(owners_of(&co, "src/System/x.al"), None);
    assert_eq!(owners_of(&co, "notes#1.txt"), v(&["@hash"]));
    assert_eq!(owners_of(&co, "literal*star"), v(&["@star"]));
    assert_eq!(owners_of(&co, "literalXstar"), None);
    // A `#` inside a pattern (not starting a token) is part of it, escaped or not.
    let co = parse_ok("c#/ @csharp\n");
    assert_eq!(owners_of(&co, "c#/Program.cs"), v(&["@csharp"]));
}

#[test]
fn comments_blank_lines_tabs_crlf_and_bom() {
    let co = parse_ok(
        "\u{feff}# top\r\n\r\n  \t\r\n*.rs\t@rust   @ferris # trailing\r\n   # indented comment\r\n",
    );
    assert_eq!(co.rules().len(), 1);
    assert_eq!(co.rules()[0].line, 4);
    assert_eq!(owners_of(&co, "src/lib.rs"), v(&["@rust", "@ferris"]));
}

#[test]
fn leading_slash_or_dot_slash_on_the_path_is_ignored() {
    let co = parse_ok("/docs/ @docs\n");
    assert_eq!(owners_of(&co, "/docs/a.md"), v(&["@docs"]));
    assert_eq!(owners_of(&co, "./docs/a.md"), v(&["@docs"]));
    assert_eq!(owners_of(&co, ""), None);
    assert_eq!(owners_of(&co, "/"), None);
}

#[test]
fn owners_for_files_dedups_in_order_case_insensitively() {
    let co = parse_ok("* @all\n*.js @js @all\n*.go @go @JS\n/vendor/\n");
    assert_eq!(
        co.owners_for_files(&["a.js", "b.go", "vendor/x", "c.txt", "d.js"]),
        vec!["@js", "@all", "@go"]
    );
    assert!(co.owners_for_files(&[]).is_empty());
    assert!(co.owners_for_files(&["vendor/x"]).is_empty());
}

// ---- Where GitHub looks ----

fn files(paths: &[&str]) -> BTreeMap<String, String> {
    paths
        .iter()
        .map(|p| (p.to_string(), format!("* @from-{p}")))
        .collect()
}

#[test]
fn locate_follows_githubs_precedence() {
    let all = files(&[
        "docs/CODEOWNERS",
        "CODEOWNERS",
        ".github/CODEOWNERS",
        "README.md",
    ]);
    assert_eq!(
        owners::locate(&all),
        Some((".github/CODEOWNERS", "* @from-.github/CODEOWNERS"))
    );
    let root_and_docs = files(&["docs/CODEOWNERS", "CODEOWNERS"]);
    assert_eq!(owners::locate(&root_and_docs).unwrap().0, "CODEOWNERS");
    let docs_only = files(&["docs/CODEOWNERS"]);
    assert_eq!(owners::locate(&docs_only).unwrap().0, "docs/CODEOWNERS");
    // Anywhere else, or another spelling, is not read.
    let elsewhere = files(&[
        "src/CODEOWNERS",
        "codeowners",
        ".github/codeowners",
        "CODEOWNERS.md",
    ]);
    assert_eq!(owners::locate(&elsewhere), None);
    assert_eq!(owners::locate(&BTreeMap::new()), None);
    assert_eq!(LOCATIONS[0], ".github/CODEOWNERS");
}

#[test]
fn locate_then_parse() {
    let repo = files(&["CODEOWNERS"]);
    let (path, text) = owners::locate(&repo).unwrap();
    let (co, errors) = owners::parse(path, text);
    assert!(errors.is_empty());
    assert_eq!(owners_of(&co, "any/file"), v(&["@from-CODEOWNERS"]));
}

// ---- Errors ----

#[test]
fn invalid_lines_are_reported_with_their_line_and_skipped() {
    let text = "\
* @all
!*.md @nobody
*.[ch] @c
\\#notes @hash
/src/ octocat
/lib/ @good @bad!name
/ok/ @ok
a//b @x
";
    let (co, errors) = owners::parse(".github/CODEOWNERS", text);
    let lines: Vec<u32> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5, 6, 8], "{errors:#?}");
    assert!(errors.iter().all(|e| e.file == ".github/CODEOWNERS"));
    assert!(errors[0].message.contains("negation"), "{}", errors[0]);
    assert!(
        errors[1].message.contains("character ranges"),
        "{}",
        errors[1]
    );
    assert!(errors[2].message.contains("leading `#`"), "{}", errors[2]);
    assert!(errors[3].message.contains("`octocat`"), "{}", errors[3]);
    assert!(errors[4].message.contains("`@bad!name`"), "{}", errors[4]);
    assert_eq!(
        errors[0].to_string().split(':').take(2).collect::<Vec<_>>(),
        vec![".github/CODEOWNERS", "2"]
    );

    // The good lines still apply; the skipped ones do not.
    let kept: Vec<u32> = co.rules().iter().map(|r| r.line).collect();
    assert_eq!(kept, vec![1, 7]);
    assert_eq!(owners_of(&co, "README.md"), v(&["@all"]));
    assert_eq!(owners_of(&co, "src/x.c"), v(&["@all"]));
    assert_eq!(owners_of(&co, "lib/x.rs"), v(&["@all"]));
    assert_eq!(owners_of(&co, "ok/x"), v(&["@ok"]));
}

#[test]
fn escaped_brackets_are_literal() {
    let co = parse_ok("/pages/\\[id\\].tsx @web\n");
    assert_eq!(owners_of(&co, "pages/[id].tsx"), v(&["@web"]));
}

#[test]
fn oversized_file_is_not_loaded() {
    let text = "* @all\n".repeat(owners::MAX_SIZE / 7 + 1);
    let (co, errors) = owners::parse("CODEOWNERS", &text);
    assert!(co.rules().is_empty());
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 0);
}

// ---- Never panics ----

proptest! {
    #[test]
    fn parse_and_match_never_panic(
        text in "(([*?/\\\\!#\\[\\] a-z.@\\t-]|\\*\\*|\r?\n){0,80})",
        paths in proptest::collection::vec("[a-z*?.#/ \\\\]{0,20}", 0..6),
    ) {
        let (co, errors) = owners::parse("CODEOWNERS", &text);
        for e in &errors {
            prop_assert!(e.line >= 1);
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        for p in &refs {
            if let Some(owners) = co.owners_of(p) {
                prop_assert!(!owners.is_empty());
            }
        }
        let all = co.owners_for_files(&refs);
        for (i, a) in all.iter().enumerate() {
            prop_assert!(!all[i + 1..].iter().any(|b| b.eq_ignore_ascii_case(a)));
        }
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in any::<String>(), path in any::<String>()) {
        let (co, _) = owners::parse("CODEOWNERS", &text);
        let _ = co.owners_of(&path);
        let _ = co.owners_for_files(&[&path, &text]);
    }

    /// A literal path always owns itself, anchored or not.
    #[test]
    fn literal_paths_own_themselves(path in "[a-z]{1,5}(/[a-z]{1,5}){0,3}") {
        let co = parse_ok(&format!("/{path} @me\n{path}/ @dir\n"));
        prop_assert_eq!(owners_of(&co, &path), v(&["@me"]));
        let child = format!("{path}/child");
        prop_assert_eq!(owners_of(&co, &child), v(&["@dir"]));
    }
}

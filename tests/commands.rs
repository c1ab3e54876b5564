//! The PR-comment command grammar: what `@patchwright …` lines parse to, what is refused and how
//! the refusal reads, and that nothing outside prose triggers a command.

use chrono::NaiveDate;
use patchwright::commands::{
    Command, CommandError, CommandName, ErrorKind, IgnoreScope, Target, help, parse_comment, usage,
    validate_accept_risk,
};
use patchwright::model::RuleId;
use proptest::prelude::*;

const SLUG: &str = "patchwright";

fn parse(body: &str) -> Vec<Result<Command, CommandError>> {
    parse_comment(body, SLUG)
}

/// The only result of a comment that must hold exactly one command.
fn one(body: &str) -> Result<Command, CommandError> {
    let mut results = parse(body);
    assert_eq!(results.len(), 1, "{body:?} gave {results:?}");
    results.remove(0)
}

fn ok(body: &str) -> Command {
    one(body).unwrap_or_else(|e| panic!("{body:?}: {e}"))
}

fn err(body: &str) -> CommandError {
    match one(body) {
        Ok(c) => panic!("{body:?} parsed to {c:?}"),
        Err(e) => e,
    }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn advisory(id: &str) -> Target {
    Target::Advisory(id.to_string())
}

#[test]
fn commands_without_arguments() {
    assert_eq!(ok("@patchwright help"), Command::Help);
    assert_eq!(ok("@patchwright rescan"), Command::Rescan);
    assert_eq!(ok("@patchwright recreate"), Command::Recreate);
    assert_eq!(ok("@patchwright[bot] rescan"), Command::Rescan);
    assert_eq!(ok("   @patchwright   rescan   \r\n"), Command::Rescan);
    assert_eq!(ok("\t@patchwright\trecreate"), Command::Recreate);
}

#[test]
fn commands_without_arguments_refuse_arguments() {
    let e = err("@patchwright rescan now please");
    assert_eq!(e.kind, ErrorKind::UnexpectedArgument);
    assert_eq!(e.command, Some(CommandName::Rescan));
    assert_eq!(e.usage, Some(usage(CommandName::Rescan)));
    let at = e.at.unwrap();
    assert_eq!((at.line, at.column, at.offset), (1, 21, 20));
    assert!(
        e.to_string()
            .contains("`rescan` takes no arguments, found `now`"),
        "{e}"
    );

    assert_eq!(
        err("@patchwright help me").kind,
        ErrorKind::UnexpectedArgument
    );
    assert_eq!(
        err("@patchwright recreate x").kind,
        ErrorKind::UnexpectedArgument
    );
}

#[test]
fn case_is_ignored_in_the_mention_and_the_command_word() {
    assert_eq!(ok("@PatchWright RESCAN"), Command::Rescan);
    assert_eq!(ok("@patchwright Help"), Command::Help);
    assert_eq!(
        ok("@PATCHWRIGHT Explain runs-as-root"),
        Command::Explain {
            target: Target::Rule(RuleId::RunsAsRoot)
        }
    );
    assert!(matches!(
        ok("@patchwright ACCEPT-RISK CVE-2024-1234 --UNTIL 2026-12-01 --Reason ok"),
        Command::AcceptRisk { .. }
    ));
}

#[test]
fn explain_takes_advisory_ids_and_rule_ids() {
    let cases = [
        ("CVE-2024-3094", advisory("CVE-2024-3094")),
        ("cve-2024-3094", advisory("CVE-2024-3094")),
        ("GHSA-CXVP-82CQ-57H2", advisory("GHSA-cxvp-82cq-57h2")),
        ("RUSTSEC-2021-0145", advisory("RUSTSEC-2021-0145")),
        ("PYSEC-2023-74", advisory("PYSEC-2023-74")),
        ("GO-2022-0969", advisory("GO-2022-0969")),
        ("eol-base-image", Target::Rule(RuleId::EolBaseImage)),
        (
            "Vulnerable-Dependency",
            Target::Rule(RuleId::VulnerableDependency),
        ),
    ];
    for (id, target) in cases {
        assert_eq!(
            ok(&format!("@patchwright explain {id}")),
            Command::Explain { target },
            "{id}"
        );
    }
}

#[test]
fn explain_refusals() {
    let e = err("@patchwright explain");
    assert_eq!(e.kind, ErrorKind::MissingArgument);
    assert_eq!(e.usage, Some("explain <advisory-or-rule-id>"));
    assert_eq!(e.at.unwrap().column, 21, "points at the end of the line");

    let e = err("@patchwright explain lodash");
    assert_eq!(e.kind, ErrorKind::InvalidId);
    assert_eq!(e.at.unwrap().column, 22);

    let e = err("@patchwright explain runs-as-rot");
    assert_eq!(e.kind, ErrorKind::InvalidId);
    assert!(e.message.contains("did you mean `runs-as-root`?"), "{e}");

    assert_eq!(
        err("@patchwright explain CVE-2024").kind,
        ErrorKind::InvalidId
    );
    assert_eq!(
        err("@patchwright explain CVE-2024-3094 CVE-2024-3095").kind,
        ErrorKind::UnexpectedArgument
    );
}

#[test]
fn accept_risk_with_flags_in_any_order_and_both_reason_forms() {
    let expected = Command::AcceptRisk {
        target: advisory("CVE-2024-3094"),
        until: date("2026-12-31"),
        reason: "not reachable: the xz binary is never run".to_string(),
    };
    for body in [
        r#"@patchwright accept-risk CVE-2024-3094 --until 2026-12-31 --reason "not reachable: the xz binary is never run""#,
        r#"@patchwright accept-risk CVE-2024-3094 --reason "not reachable: the xz binary is never run" --until 2026-12-31"#,
        r#"@patchwright accept-risk --until=2026-12-31 --reason="not reachable: the xz binary is never run" CVE-2024-3094"#,
        "@patchwright accept-risk cve-2024-3094 --until 2026-12-31 --reason not reachable: the xz binary is never run",
        "@patchwright accept-risk CVE-2024-3094 --until=2026-12-31 --reason=not reachable: the xz binary is never run  ",
    ] {
        assert_eq!(ok(body), expected, "{body}");
    }
}

#[test]
fn accept_risk_quoted_reason_escapes() {
    let body = r#"@patchwright accept-risk runs-as-root --reason "the \"init\" needs root, C:\temp \\ ok" --until 2026-01-01"#;
    assert_eq!(
        ok(body),
        Command::AcceptRisk {
            target: Target::Rule(RuleId::RunsAsRoot),
            until: date("2026-01-01"),
            reason: r#"the "init" needs root, C:\temp \ ok"#.to_string(),
        }
    );
}

#[test]
fn accept_risk_survives_phone_typography() {
    // Phones turn `--` into an em dash and `"` into curly quotes as people type.
    let expected = Command::AcceptRisk {
        target: advisory("CVE-2024-3094"),
        until: date("2026-12-31"),
        reason: "vendor \"patch\" pending".to_string(),
    };
    for body in [
        "@patchwright accept-risk CVE-2024-3094 —until 2026-12-31 —reason “vendor \\\"patch\\\" pending”",
        "@patchwright accept-risk CVE-2024-3094 –until=2026-12-31 --reason= \"vendor \\\"patch\\\" pending\"",
    ] {
        assert_eq!(ok(body), expected, "{body}");
    }
    let body = "@patchwright accept-risk CVE-2024-3094 —until=2026-13-01 —reason x";
    assert_eq!(
        err(body).at.unwrap().offset,
        body.find("2026-13-01").unwrap()
    );
    assert_eq!(
        err("@patchwright ignore node —major").kind,
        ErrorKind::UnknownFlag
    );
}

#[test]
fn accept_risk_refusals() {
    let usage_line = usage(CommandName::AcceptRisk);
    let cases = [
        (
            "@patchwright accept-risk CVE-2024-3094 --until 2026-12-31",
            ErrorKind::MissingReason,
        ),
        (
            r#"@patchwright accept-risk CVE-2024-3094 --until 2026-12-31 --reason """#,
            ErrorKind::MissingReason,
        ),
        (
            "@patchwright accept-risk CVE-2024-3094 --until 2026-12-31 --reason   ",
            ErrorKind::MissingReason,
        ),
        (
            r#"@patchwright accept-risk CVE-2024-3094 --reason "fine""#,
            ErrorKind::MissingDate,
        ),
        (
            "@patchwright accept-risk CVE-2024-3094",
            ErrorKind::MissingDate,
        ),
        (
            r#"@patchwright accept-risk CVE-2024-3094 --reason "x" --until"#,
            ErrorKind::MissingDate,
        ),
        (
            r#"@patchwright accept-risk CVE-2024-3094 --until 2026-02-30 --reason "x""#,
            ErrorKind::InvalidDate,
        ),
        (
            r#"@patchwright accept-risk CVE-2024-3094 --until 31/12/2026 --reason "x""#,
            ErrorKind::InvalidDate,
        ),
        (
            r#"@patchwright accept-risk CVE-2024-3094 --until= --reason "x""#,
            ErrorKind::InvalidDate,
        ),
        (
            r#"@patchwright accept-risk --until 2026-12-31 --reason "x""#,
            ErrorKind::MissingArgument,
        ),
        (
            r#"@patchwright accept-risk nonsense --until 2026-12-31 --reason "x""#,
            ErrorKind::InvalidId,
        ),
        (
            r#"@patchwright accept-risk CVE-2024-3094 because --until 2026-12-31"#,
            ErrorKind::UnexpectedArgument,
        ),
        (
            r#"@patchwright accept-risk CVE-2024-3094 --until 2026-12-31 --until 2026-12-30 --reason "x""#,
            ErrorKind::DuplicateFlag,
        ),
        (
            r#"@patchwright accept-risk CVE-2024-3094 --until 2026-12-31 --why "x""#,
            ErrorKind::UnknownFlag,
        ),
        (
            r#"@patchwright accept-risk CVE-2024-3094 --until 2026-12-31 --reason "never closed"#,
            ErrorKind::UnterminatedQuote,
        ),
    ];
    for (body, kind) in cases {
        let e = err(body);
        assert_eq!(e.kind, kind, "{body}: {e}");
        assert_eq!(e.command, Some(CommandName::AcceptRisk), "{body}");
        assert_eq!(e.usage, Some(usage_line), "{body}");
        assert!(e.at.is_some(), "{body}");
    }
}

#[test]
fn accept_risk_errors_point_at_the_problem() {
    let body = "@patchwright accept-risk CVE-2024-3094 --until 2026-13-01 --reason x";
    let e = err(body);
    assert_eq!(e.at.unwrap().offset, body.find("2026-13-01").unwrap());
    assert!(e.message.contains("YYYY-MM-DD"), "{e}");

    // An unquoted reason takes the rest of the line; when that swallowed --until, say so.
    let e = err("@patchwright accept-risk CVE-2024-3094 --reason not used --until 2026-12-31");
    assert_eq!(e.kind, ErrorKind::MissingDate);
    assert!(e.message.contains("quote the reason"), "{e}");

    let e = err("@patchwright accept-risk CVE-2024-3094");
    assert!(
        e.message.contains("--until") && e.message.contains("--reason"),
        "{e}"
    );
}

#[test]
fn accept_risk_dates_checked_against_today_and_the_maximum() {
    let today = date("2026-11-23");
    let cmd = |until: &str| Command::AcceptRisk {
        target: advisory("CVE-2024-3094"),
        until: date(until),
        reason: "r".into(),
    };
    assert_eq!(validate_accept_risk(&cmd("2026-11-23"), today, 90), Ok(()));
    assert_eq!(validate_accept_risk(&cmd("2027-02-21"), today, 90), Ok(()));

    let e = validate_accept_risk(&cmd("2026-11-22"), today, 90).unwrap_err();
    assert_eq!(e.kind, ErrorKind::DateInPast);
    assert_eq!(e.usage, Some(usage(CommandName::AcceptRisk)));
    assert!(e.message.contains("in the past"), "{e}");

    let e = validate_accept_risk(&cmd("2027-02-22"), today, 90).unwrap_err();
    assert_eq!(e.kind, ErrorKind::DateBeyondMaximum);
    assert!(
        e.message.contains("at most 90 days (until 2027-02-21)"),
        "{e}"
    );

    assert_eq!(
        validate_accept_risk(&cmd("2026-11-24"), today, 0)
            .unwrap_err()
            .kind,
        ErrorKind::DateBeyondMaximum
    );
    // Other commands have nothing to check.
    assert_eq!(validate_accept_risk(&Command::Rescan, today, 0), Ok(()));

    // Parsed, then validated: the way the service will use it.
    let parsed =
        ok("@patchwright accept-risk GHSA-cxvp-82cq-57h2 --until 2025-01-01 --reason late");
    assert_eq!(
        validate_accept_risk(&parsed, today, 90).unwrap_err().kind,
        ErrorKind::DateInPast
    );
}

#[test]
fn ignore_with_and_without_a_scope() {
    let cases = [
        ("@patchwright ignore lodash", "lodash", IgnoreScope::All),
        (
            "@patchwright ignore lodash 4.17.21",
            "lodash",
            IgnoreScope::Version("4.17.21".into()),
        ),
        ("@patchwright ignore node MAJOR", "node", IgnoreScope::Major),
        (
            "@patchwright ignore golang.org/x/net minor",
            "golang.org/x/net",
            IgnoreScope::Minor,
        ),
        (
            "@patchwright ignore docker.io/library/python 3.12-slim",
            "docker.io/library/python",
            IgnoreScope::Version("3.12-slim".into()),
        ),
        (
            "@patchwright ignore @types/node",
            "@types/node",
            IgnoreScope::All,
        ),
    ];
    for (body, name, scope) in cases {
        assert_eq!(
            ok(body),
            Command::Ignore {
                name: name.into(),
                scope
            },
            "{body}"
        );
    }
}

#[test]
fn ignore_refusals() {
    let e = err("@patchwright ignore");
    assert_eq!(e.kind, ErrorKind::MissingArgument);
    assert_eq!(
        e.usage,
        Some("ignore <package-or-image> [<version>|major|minor]")
    );
    assert_eq!(
        err("@patchwright ignore --all").kind,
        ErrorKind::UnknownFlag
    );
    assert_eq!(
        err("@patchwright ignore lodash --major").kind,
        ErrorKind::UnknownFlag
    );
    assert_eq!(
        err("@patchwright ignore lodash 4 5").kind,
        ErrorKind::UnexpectedArgument
    );
}

#[test]
fn unignore_and_revoke_undo_what_ignore_and_accept_risk_did() {
    assert_eq!(
        ok("@patchwright unignore @types/node"),
        Command::Unignore {
            name: "@types/node".into()
        }
    );
    assert_eq!(
        ok("@patchwright revoke cve-2024-3094"),
        Command::Revoke {
            target: advisory("CVE-2024-3094")
        }
    );
    assert_eq!(
        ok("@patchwright Revoke runs-as-root"),
        Command::Revoke {
            target: Target::Rule(RuleId::RunsAsRoot)
        }
    );
    let e = err("@patchwright unignore");
    assert_eq!(e.kind, ErrorKind::MissingArgument);
    assert_eq!(e.usage, Some("unignore <package-or-image>"));
    assert_eq!(
        err("@patchwright unignore lodash major").kind,
        ErrorKind::UnexpectedArgument
    );
    assert_eq!(err("@patchwright revoke").kind, ErrorKind::MissingArgument);
    assert_eq!(
        err("@patchwright revoke not-an-id").kind,
        ErrorKind::InvalidId
    );
    assert!(Command::Unignore { name: "x".into() }.changes_state());
}

#[test]
fn unknown_command_suggests_the_nearest() {
    let e = err("@patchwright rescna");
    assert_eq!(e.kind, ErrorKind::UnknownCommand);
    assert_eq!(e.suggestion, Some(CommandName::Rescan));
    assert_eq!(e.command, None);
    assert!(e.message.contains("did you mean `rescan`?"), "{e}");
    assert_eq!(e.at.unwrap().column, 14);

    assert_eq!(
        err("@patchwright acceptrisk").suggestion,
        Some(CommandName::AcceptRisk)
    );
    assert_eq!(
        err("@patchwright Recreat").suggestion,
        Some(CommandName::Recreate)
    );

    let e = err("@patchwright deploy to prod");
    assert_eq!(e.kind, ErrorKind::UnknownCommand);
    assert_eq!(e.suggestion, None);
    assert!(!e.message.contains("did you mean"), "{e}");
}

#[test]
fn a_bare_mention_is_an_error() {
    let e = err("@patchwright");
    assert_eq!(e.kind, ErrorKind::MissingCommand);
    assert!(e.message.contains("help"), "{e}");
    assert_eq!(err("@patchwright   \n").kind, ErrorKind::MissingCommand);
}

#[test]
fn several_commands_in_one_comment_in_order() {
    let body = "Thanks!\n\n@patchwright rescan\nsome words\n  @patchwright explain CVE-2024-3094\r\n@patchwright rescna\n@patchwright ignore lodash major";
    let results = parse(body);
    assert_eq!(results.len(), 4);
    assert_eq!(results[0], Ok(Command::Rescan));
    assert_eq!(
        results[1],
        Ok(Command::Explain {
            target: advisory("CVE-2024-3094")
        })
    );
    let e = results[2].clone().unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnknownCommand);
    let at = e.at.unwrap();
    assert_eq!((at.line, at.column), (6, 14));
    assert_eq!(at.offset, body.find("rescna").unwrap());
    assert_eq!(
        results[3],
        Ok(Command::Ignore {
            name: "lodash".into(),
            scope: IgnoreScope::Major
        })
    );
}

#[test]
fn code_blocks_inline_code_and_quotes_are_skipped() {
    let body = "\
To rescan, write:

```
@patchwright rescan
```

~~~markdown
@patchwright recreate
~~~

`@patchwright rescan` is how, or see `the docs
@patchwright help` there.

<!--
@patchwright rescan
-->
<!-- @patchwright recreate -->

> @patchwright rescan
> earlier reply
lazy continuation of the quote
@patchwright recreate

  > @patchwright help

@patchwright explain runs-as-root
";
    assert_eq!(
        parse(body),
        [Ok(Command::Explain {
            target: Target::Rule(RuleId::RunsAsRoot)
        })]
    );
}

#[test]
fn other_mentions_and_mid_sentence_mentions_are_ignored() {
    for body in [
        "@someone rescan",
        "@patchwright-dev rescan",
        "@patchwrights rescan",
        "patchwright rescan",
        "please @patchwright rescan",
        "Thanks @patchwright, that fixed it.",
        "cc @octocat @patchwright help",
        "email me at me@patchwright rescan",
        "",
        "\n\n",
    ] {
        assert_eq!(parse(body), [], "{body:?}");
    }
    // A different slug is a different app.
    assert_eq!(parse_comment("@patchwright rescan", "other-app"), []);
    assert_eq!(
        parse_comment("@other-app rescan", "other-app"),
        [Ok(Command::Rescan)]
    );
    assert_eq!(parse_comment("@ rescan", ""), []);
    assert_eq!(parse_comment("@ rescan", "@"), []);
    assert_eq!(
        parse_comment("@patchwright rescan", "@patchwright"),
        [Ok(Command::Rescan)]
    );
}

#[test]
fn help_lists_every_command_with_its_usage() {
    let text = help("patchwright");
    for name in CommandName::ALL {
        let line = format!("`@patchwright {}`", usage(name));
        assert!(text.contains(&line), "help lacks {line}:\n{text}");
    }
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("- `@patchwright "))
            .count(),
        CommandName::ALL.len()
    );
    // Help's own usage lines must parse (placeholders aside): the examples we show are valid.
    assert_eq!(ok("@patchwright help"), Command::Help);
}

#[test]
fn help_text_snapshot() {
    insta::assert_snapshot!(help("patchwright"), @r#"
    Commands for @patchwright (one per line, at the start of the line; not in quotes or code blocks):

    - `@patchwright help` — show this list of commands.
    - `@patchwright rescan` — scan the repository again now.
    - `@patchwright recreate` — rebuild the fix pull request from the current default branch.
    - `@patchwright explain <advisory-or-rule-id>` — explain an advisory (CVE-…, GHSA-…, RUSTSEC-…, PYSEC-…, GO-…) or a rule id.
    - `@patchwright accept-risk <advisory-or-rule-id> --until YYYY-MM-DD --reason "why this is acceptable"` — accept a finding until a date, with a reason; the date may not exceed the policy's maximum.
    - `@patchwright revoke <advisory-or-rule-id>` — end a risk accepted with accept-risk before its date; the findings count again.
    - `@patchwright ignore <package-or-image> [<version>|major|minor]` — stop proposing updates for a package or image: all of them, one version, or major/minor updates.
    - `@patchwright unignore <package-or-image>` — propose updates for a package or image again (undoes every ignore of it).

    Only people with write access may run commands other than `help` and `explain`.
    "#);
}

#[test]
fn changes_state_is_false_only_for_help_and_explain() {
    for body in ["@patchwright help", "@patchwright explain CVE-2024-3094"] {
        assert!(!ok(body).changes_state(), "{body}");
    }
    for body in [
        "@patchwright rescan",
        "@patchwright recreate",
        "@patchwright accept-risk CVE-2024-3094 --until 2026-12-31 --reason r",
        "@patchwright ignore lodash",
    ] {
        assert!(ok(body).changes_state(), "{body}");
    }
}

#[test]
fn error_display_names_the_position() {
    let e = err("hello\n@patchwright rescna");
    assert_eq!(
        e.to_string(),
        "line 2, column 14: unknown command `rescna`; did you mean `rescan`?"
    );
}

/// Characters the grammar cares about, so generated comments reach deep into it.
fn grammar_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "@patchwright",
        "@PATCHWRIGHT[bot]",
        "@other",
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "```",
        "~~~",
        "`",
        ">",
        "\"",
        "\\",
        "=",
        "--until",
        "--reason",
        "--until=",
        "--reason=",
        "accept-risk",
        "explain",
        "ignore",
        "rescan",
        "recreate",
        "help",
        "rescna",
        "CVE-2024-3094",
        "GHSA-cxvp-82cq-57h2",
        "runs-as-root",
        "2026-12-31",
        "2026-02-30",
        "major",
        "minor",
        "1.2.3",
        "é",
        "→",
        "🦀",
        "\u{0}",
        "x",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

fn check_positions(body: &str) {
    for result in parse_comment(body, SLUG) {
        if let Err(e) = result {
            let at = e.at.expect("parse errors carry a position");
            assert!(at.offset <= body.len());
            assert!(body.is_char_boundary(at.offset));
            assert!(at.line >= 1 && at.column >= 1);
            assert!(!e.message.is_empty());
        }
    }
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(body in any::<String>()) {
        check_positions(&body);
    }

    #[test]
    fn never_panics_on_grammar_shaped_text(body in grammar_text()) {
        check_positions(&body);
        let _ = help(&body);
    }

    #[test]
    fn never_panics_with_arbitrary_slugs(body in grammar_text(), slug in any::<String>()) {
        let _ = parse_comment(&body, &slug);
        let _ = parse_comment(&format!("@{slug} rescan"), &slug);
    }
}

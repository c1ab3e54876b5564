//! The fast reader must give exactly what the TOML path gives, on whatever it accepts, and
//! must decline what it does not understand.

use super::*;
use proptest::prelude::*;

/// What `parse` gives must be what the TOML path gives; returns whether the fast reader took
/// the file (so tests can insist it did on Poetry's own layout).
fn check(source: &str) -> bool {
    let reference = parse_with_toml("poetry.lock", source);
    assert_eq!(parse("poetry.lock", source), reference, "{source}");
    match fast::read(source) {
        Some(packages) => {
            assert_eq!(
                from_fast("poetry.lock", source, packages),
                reference,
                "{source}"
            );
            true
        }
        None => false,
    }
}

fn fixture(rel: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_fixture_goes_the_fast_way_with_the_same_result() {
    let source = fixture("fixtures/lockfiles/poetry/poetry.lock");
    assert!(
        check(&source),
        "Poetry's own layout must not need the TOML path"
    );
    let names: Vec<String> = parse("poetry.lock", &source)
        .dependencies
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(
        names,
        ["django", "PyYAML", "sqlparse"],
        "the directory one is skipped"
    );
}

#[test]
fn malformed_files_are_left_to_the_toml_path() {
    let source = fixture("fixtures/lockfiles/malformed/poetry/poetry.lock");
    assert!(!check(&source));
    let crashers =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/crashers/poetry_lock");
    for entry in std::fs::read_dir(crashers).into_iter().flatten().flatten() {
        if let Ok(bytes) = std::fs::read(entry.path()) {
            check(&String::from_utf8_lossy(&bytes));
        }
    }
}

#[test]
fn toml_that_poetry_does_not_write_is_declined() {
    let base = "[[package]]\nname = \"a\"\nversion = \"1.0\"\n";
    for extra in [
        "name = \"b\"\n",                               // duplicate key
        "files = []\n[package.files]\n",                // key and table clash
        "[package.extras]\nx = []\n[package.extras]\n", // duplicate table
        "v = 'literal'\n",
        "v = \"esc\\u0041\"\n",
        "v = 1\n",
        "v = 1979-05-27\n",
        "a.b = \"dotted\"\n",
        "v = \"\"\"multi\"\"\"\n",
        "v = {a = \"1\", a = \"2\"}\n",
        "v = {a = \"1\",}\n",
        "source = {type = \"directory\"}\n",
        "[other]\n",
        "v = \"x\" y\n",
        "v = truex\n",
        "v = [\"a\" \"b\"]\n",
        "v = [\n",
    ] {
        let source = format!("{base}{extra}");
        assert!(!check(&source), "must decline: {source}");
    }
    assert!(!check(
        "[metadata]\nx = \"1\"\n[[package]]\nname = \"a\"\nversion = \"1\"\n"
    ));
    assert!(!check("[[package]]\r\nname = \"a\"\r\nversion = \"1\"\r\n"));
    assert!(
        !check("[[package]]\nname = \"a\"\n"),
        "no version: the TOML path words it"
    );
    assert!(!check("[[package]]\nname = \" \"\nversion = \"1\"\n"));
    assert!(!check("[[package]]\nname = \"a\"\nversion = true\n"));
}

#[test]
fn directory_sources_are_skipped_and_others_kept() {
    let source = "[[package]]\nname = \"mine\"\nversion = \"0.1\"\n\n[package.source]\ntype = \"directory\"\nurl = \"../mine\"\n\n[[package]]\nname = \"theirs\"\nversion = \"2.0\"\n\n[package.source]\ntype = \"git\"\nurl = \"https://example.com/x.git\"\nreference = \"main\"\n";
    assert!(check(source));
    let names: Vec<String> = parse("poetry.lock", source)
        .dependencies
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["theirs"]);
}

/// One `[[package]]` in Poetry's layout, with the optional parts drawn.
fn package_text() -> impl Strategy<Value = String> {
    (
        "[A-Za-z][A-Za-z0-9._-]{0,12}",
        "[0-9]{1,2}\\.[0-9]{1,2}(\\.[0-9]{1,2})?(rc[0-9])?",
        "[ -!#-\\[\\]-~é]{0,30}",
        any::<bool>(),
        prop::option::of(prop_oneof![
            Just("directory"),
            Just("git"),
            Just("url"),
            Just("legacy")
        ]),
        prop::collection::vec("[a-z][a-z0-9-]{0,8}", 0..3),
        0usize..3,
    )
        .prop_map(
            |(name, version, description, optional, source, deps, files)| {
                let mut out = format!(
                    "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"{description}\"\noptional = {optional}\npython-versions = \">=3.8\"\nfiles = ["
                );
                if files == 0 {
                    out.push_str("]\n");
                } else {
                    out.push('\n');
                    for i in 0..files {
                        out.push_str(&format!(
                            "    {{file = \"{name}-{version}-{i}.whl\", hash = \"sha256:{i:064}\"}},\n"
                        ));
                    }
                    out.push_str("]\n");
                }
                if !deps.is_empty() {
                    out.push_str("\n[package.dependencies]\n");
                    let mut seen = std::collections::BTreeSet::new();
                    for d in deps.iter().filter(|d| seen.insert(d.as_str())) {
                        out.push_str(&format!(
                            "{d} = {{version = \">=1.0\", optional = true}}\n\"{d}.x\" = \"*\"\n"
                        ));
                    }
                    out.push_str("\n[package.extras]\nall = [\"a (>=1)\", \"b\"]\n");
                }
                if let Some(kind) = source {
                    out.push_str(&format!(
                        "\n[package.source]\ntype = \"{kind}\"\nurl = \"../x\"\n"
                    ));
                }
                out
            },
        )
}

fn document() -> impl Strategy<Value = String> {
    (prop::collection::vec(package_text(), 0..6), any::<bool>()).prop_map(|(packages, files)| {
        let mut out = String::from("# This file is automatically @generated by Poetry.\n");
        for p in packages {
            out.push_str(&p);
        }
        out.push_str("\n[metadata]\nlock-version = \"2.0\"\ncontent-hash = \"abc\"\n");
        if files {
            out.push_str(
                "\n[metadata.files]\nx = [\n    {file = \"x.whl\", hash = \"sha256:0\"},\n]\n",
            );
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Poetry's layout always goes the fast way, and gives the TOML path's result.
    #[test]
    fn generated_files_agree(source in document()) {
        prop_assert!(check(&source), "declined: {}", source);
    }

    /// Any edit of such a file (a TOML character put in or a piece cut out) either leaves it
    /// in the subset, with the same result as the TOML path, or sends it to the TOML path.
    #[test]
    fn edited_files_agree(
        source in document(),
        at in any::<prop::sample::Index>(),
        len in 0usize..12,
        insert in prop::sample::select(vec![
            "", "\"", "'", "\\", "=", "[", "]", "{", "}", ",", "#", ".", "\n", "\r", "\t", " ",
            "1", "x", "[[package]]\n", "name = \"z\"\n", "version = \"9\"\n",
            "[package.source]\ntype = \"directory\"\n", "\"\"\"", "é",
        ]),
    ) {
        let mut cut = at.index(source.len() + 1);
        while !source.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut end = (cut + len).min(source.len());
        while !source.is_char_boundary(end) {
            end -= 1;
        }
        let edited = format!("{}{}{}", &source[..cut], insert, &source[end..]);
        check(&edited);
    }
}

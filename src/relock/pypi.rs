//! Hashed requirements files (`name==1.0 --hash=sha256:…`) re-locked from the package index
//! itself, in process. Pure: the index page, the new version's metadata and the file's text come
//! in; the new file text (or why not) goes out. `managers::pip` fetches them.
//!
//! Why a hash lookup and not `pip-compile --generate-hashes`: pip-compile regenerates the whole
//! file from its `requirements.in` (often not in the repository, and a rewrite of every line
//! when it is), while a fix moves one pin. The hashes pip-compile writes for a pin are the
//! sha256 of every distribution file of that version the index lists, sorted: the same list the
//! index page's `#sha256=` fragments give (tests/relock_pip.rs checks it against pip-compile
//! and `pip hash`). The lookup is equivalent only while the new version needs nothing the file
//! does not already pin, so [`unmet`] checks the new version's `Requires-Dist` against the
//! file's pins first and the fix is refused otherwise.

use crate::manifest;
use crate::model::Dependency;
use pep440_rs::{Version, VersionSpecifiers};
use std::collections::BTreeMap;
use std::ops::Range;
use std::str::FromStr;

/// PyPI's simple index, used when no index URL is configured.
pub const PYPI_SIMPLE: &str = "https://pypi.org/simple/";

/// One distribution file an index page lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFile {
    pub filename: String,
    /// Absolute, without the `#sha256=` fragment.
    pub url: String,
    /// From the link's `#sha256=` fragment; `None` when the index gives another hash or none
    /// (the file must then be downloaded and hashed).
    pub sha256: Option<String>,
    /// The index serves the file's core metadata at `url.metadata` (PEP 658/714).
    pub metadata: bool,
}

/// PEP 503 name normalisation: lower case, every run of `-`, `_`, `.` one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The project's page on a simple index: `INDEX/NORMALIZED-NAME/`.
pub fn project_url(index: &str, name: &str) -> String {
    format!("{}/{}/", index.trim_end_matches('/'), normalize(name))
}

/// Every file an index page links to, with hrefs made absolute against `page_url`.
pub fn files(page: &str, page_url: &str) -> Vec<IndexFile> {
    use html5gum::{Token, Tokenizer};
    let base = url::Url::parse(page_url).ok();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let mut out = Vec::new();
    // The anchor being read: its attributes, then its text up to `</a>`.
    let mut open: Option<(BTreeMap<String, String>, String)> = None;
    for token in Tokenizer::new(page).flatten() {
        match token {
            Token::StartTag(tag) if tag.name.as_slice() == b"a" => {
                let attributes = tag
                    .attributes
                    .iter()
                    .map(|(k, v)| (text(k), text(&v.value)))
                    .collect();
                open = Some((attributes, String::new()));
            }
            Token::String(s) => {
                if let Some((_, body)) = open.as_mut() {
                    body.push_str(&text(&s.value));
                }
            }
            Token::EndTag(tag) if tag.name.as_slice() == b"a" => {
                if let Some((attributes, body)) = open.take() {
                    out.extend(index_file(&attributes, body.trim(), base.as_ref()));
                }
            }
            _ => {}
        }
    }
    out
}

fn index_file(
    attributes: &BTreeMap<String, String>,
    body: &str,
    base: Option<&url::Url>,
) -> Option<IndexFile> {
    let href = attributes.get("href")?;
    let mut url = match base {
        Some(base) => base.join(href).ok()?,
        None => url::Url::parse(href).ok()?,
    };
    let sha256 = url.fragment().and_then(|f| {
        f.strip_prefix("sha256=")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_ascii_lowercase)
    });
    url.set_fragment(None);
    let filename = if body.is_empty() {
        url.path_segments()?.next_back()?.to_string()
    } else {
        body.to_string()
    };
    let metadata = ["data-core-metadata", "data-dist-info-metadata"]
        .iter()
        .filter_map(|k| attributes.get(*k))
        .any(|v| v != "false");
    Some(IndexFile {
        filename,
        url: url.to_string(),
        sha256,
        metadata,
    })
}

/// The version a distribution file of project `name` carries, from its file name: a wheel
/// (`name-1.0-py3-none-any.whl`, name with `_` for `-`) or a source archive (`name-1.0.tar.gz`).
pub fn version_of(filename: &str, name: &str) -> Option<String> {
    let wanted = normalize(name);
    if let Some(stem) = filename.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        let (project, version) = (parts.next()?, parts.next()?);
        return (normalize(project) == wanted).then(|| version.to_string());
    }
    let stem = [".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip"]
        .iter()
        .find_map(|ext| filename.strip_suffix(ext))?;
    // A source archive's name may itself hold dashes: the version follows the dash after which
    // the prefix is the project's name.
    stem.match_indices('-')
        .find_map(|(at, _)| (normalize(&stem[..at]) == wanted).then(|| stem[at + 1..].to_string()))
}

/// The files of `name` at `version` (compared as PEP 440 versions: `1.0` is `1.0.0`).
pub fn of_version<'f>(files: &'f [IndexFile], name: &str, version: &str) -> Vec<&'f IndexFile> {
    let Ok(wanted) = Version::from_str(version) else {
        return Vec::new();
    };
    files
        .iter()
        .filter(|f| {
            version_of(&f.filename, name)
                .and_then(|v| Version::from_str(&v).ok())
                .is_some_and(|v| v == wanted)
        })
        .collect()
}

/// The `Requires-Dist` values of a core metadata file (RFC 822 headers; the body after the
/// first blank line is the description and is not read).
pub fn requires_dist(metadata: &str) -> Vec<String> {
    metadata
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.strip_prefix("Requires-Dist:"))
        .map(|v| v.trim().to_string())
        .collect()
}

/// The new version's requirements (`Requires-Dist` values) that the file's own pins (normalised
/// name → pinned version) do not satisfy, each said as "`req` (reason)". `extras` are the ones
/// the file asks the package for. A requirement behind an environment marker other than an
/// extra counts: the environment the file is installed in is not known here.
pub fn unmet(
    requires: &[String],
    extras: &[String],
    pins: &BTreeMap<String, Option<String>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for requirement in requires {
        let (spec, marker) = requirement
            .split_once(';')
            .map_or((requirement.as_str(), ""), |(s, m)| (s, m.trim()));
        if marker.contains("extra") {
            let wanted = extras.iter().any(|e| {
                let e = normalize(e);
                marker.contains(&format!("\"{e}\"")) || marker.contains(&format!("'{e}'"))
            });
            if !wanted {
                continue;
            }
        }
        let spec = spec.trim();
        let name_end = spec
            .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
            .unwrap_or(spec.len());
        let name = normalize(&spec[..name_end]);
        let mut rest = spec[name_end..].trim();
        if rest.starts_with('[') {
            rest = rest.split_once(']').map_or("", |(_, r)| r.trim());
        }
        let rest = rest
            .trim_start_matches('(')
            .trim_end_matches(')')
            .trim()
            .to_string();
        let reason = match pins.get(&name) {
            None => Some("not in the file".to_string()),
            Some(None) => Some("not pinned in the file".to_string()),
            Some(Some(pinned)) if !rest.is_empty() => {
                match (
                    VersionSpecifiers::from_str(&rest),
                    Version::from_str(pinned),
                ) {
                    (Ok(specs), Ok(v)) if specs.contains(&v) => None,
                    (Ok(_), Ok(_)) => Some(format!("the file pins {pinned}")),
                    _ => Some(format!("cannot compare with the pinned {pinned}")),
                }
            }
            Some(Some(_)) => None,
        };
        if let Some(reason) = reason {
            out.push(format!("`{}` ({reason})", requirement.trim()));
        }
    }
    out
}

/// The file's pins by normalised name (`None` for a requirement without an exact pin).
pub fn pins(file: &str, source: &str) -> BTreeMap<String, Option<String>> {
    manifest::requirements::parse(file, source)
        .dependencies
        .into_iter()
        .map(|d| (normalize(&d.name), d.version))
        .collect()
}

/// The requirement of `name` pinned at `from` in the file.
pub fn find<'d>(deps: &'d [Dependency], name: &str, from: &str) -> Option<&'d Dependency> {
    let wanted = normalize(name);
    deps.iter().find(|d| {
        normalize(&d.name) == wanted
            && d.version.as_deref() == Some(from)
            && !d.version_spans.is_empty()
    })
}

/// The extras a requirement line asks for (`name[a,b]==1.0`).
pub fn extras_of(line: &str, name_end: usize) -> Vec<String> {
    let rest = line.get(name_end..).unwrap_or("").trim_start();
    let Some(inner) = rest.strip_prefix('[').and_then(|r| r.split_once(']')) else {
        return Vec::new();
    };
    inner
        .0
        .split(',')
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .collect()
}

/// `source` with `name`'s pin moved from `from` to `to` and its `--hash` options replaced by
/// `hashes` (hex sha256 values), keeping the file's layout: one hash per continued line stays
/// one per line with the same indentation, hashes on the requirement's own line stay there.
/// Every other byte of the file is unchanged.
pub fn rewrite(
    file: &str,
    source: &str,
    name: &str,
    from: &str,
    to: &str,
    hashes: &[String],
) -> Result<String, String> {
    let parsed = manifest::requirements::parse(file, source);
    let dep = find(&parsed.dependencies, name, from)
        .ok_or_else(|| format!("{file} has no requirement {name}=={from}"))?;
    let version = dep.version_spans[0];
    let range = manifest::requirements::logical_line_around(source, version.start)
        .ok_or_else(|| format!("{file}: the requirement {name}=={from} cannot be located"))?;
    let mut segment = source[range.clone()].to_string();
    let local = version.start - range.start..version.end - range.start;
    segment.replace_range(local.clone(), to);
    let head = local.start + to.len();
    let tokens = hash_tokens(&segment, head);
    if tokens.is_empty() {
        return Err(format!(
            "the requirement {name}=={from} in {file} has no `--hash` options to replace"
        ));
    }
    let new_segment = replace_hashes(&segment, &tokens, hashes);
    let mut out = String::with_capacity(source.len() + 200);
    out.push_str(&source[..range.start]);
    out.push_str(&new_segment);
    out.push_str(&source[range.end..]);
    Ok(out)
}

/// Where each `--hash=…` / `--hash …` option of the logical line is, after byte `from`.
fn hash_tokens(segment: &str, from: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = from;
    while let Some(found) = segment[at..].find("--hash") {
        let start = at + found;
        let after = start + "--hash".len();
        let preceded = segment[..start]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
        let rest = &segment[after..];
        let end = if let Some(value) = rest.strip_prefix('=') {
            after + 1 + value.find(char::is_whitespace).unwrap_or(value.len())
        } else if rest.starts_with([' ', '\t']) {
            let value = rest.trim_start_matches([' ', '\t']);
            let skipped = rest.len() - value.len();
            after + skipped + value.find(char::is_whitespace).unwrap_or(value.len())
        } else {
            at = after;
            continue;
        };
        if preceded {
            out.push(start..end);
        }
        at = end;
    }
    out
}

fn replace_hashes(segment: &str, tokens: &[Range<usize>], hashes: &[String]) -> String {
    let separator = if segment[tokens[0].clone()].starts_with("--hash ") {
        " "
    } else {
        "="
    };
    let option = |h: &str| format!("--hash{separator}sha256:{h}");
    // One hash alone on each of its (continued) lines: the pip-compile layout.
    let line_of = |offset: usize| segment[..offset].matches('\n').count();
    let lines: Vec<&str> = segment.split_inclusive('\n').collect();
    let alone = tokens.iter().all(|t| {
        let line = lines[line_of(t.start)];
        let body = line.trim_end_matches(['\n', '\r']).trim_end();
        let body = body.strip_suffix('\\').unwrap_or(body).trim();
        body == &segment[t.clone()]
    });
    let first_line = line_of(tokens[0].start);
    let last_line = line_of(tokens[tokens.len() - 1].start);
    let consecutive = tokens
        .iter()
        .enumerate()
        .all(|(i, t)| line_of(t.start) == first_line + i);
    if alone && consecutive && first_line > 0 {
        let first = lines[first_line];
        let indent = &first[..first.len() - first.trim_start().len()];
        let newline = if segment.contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        let continued = format!(" \\{newline}");
        let suffix = |line: &str, token_end_in_line: usize| line[token_end_in_line..].to_string();
        let last = lines[last_line];
        let last_token = &tokens[tokens.len() - 1];
        let line_start = |n: usize| lines[..n].iter().map(|l| l.len()).sum::<usize>();
        let last_suffix = suffix(last, last_token.end - line_start(last_line));
        let mut out = String::new();
        for line in &lines[..first_line] {
            out.push_str(line);
        }
        for (i, h) in hashes.iter().enumerate() {
            out.push_str(indent);
            out.push_str(&option(h));
            if i + 1 < hashes.len() {
                out.push_str(&continued);
            } else {
                out.push_str(&last_suffix);
            }
        }
        for line in &lines[last_line + 1..] {
            out.push_str(line);
        }
        return out;
    }
    // Inline: the first option becomes the whole list, the others go with the blanks before them.
    let all: Vec<String> = hashes.iter().map(|h| option(h)).collect();
    let mut out = String::new();
    let mut at = 0;
    for (i, t) in tokens.iter().enumerate() {
        if i == 0 {
            out.push_str(&segment[at..t.start]);
            out.push_str(&all.join(" "));
        } else {
            let before = segment[at..t.start].trim_end_matches([' ', '\t']);
            out.push_str(before);
        }
        at = t.end;
    }
    out.push_str(&segment[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!DOCTYPE html>
<html><body><h1>Links for leaf</h1>
<a href="../../packages/leaf-1.0.0-py3-none-any.whl#sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA">leaf-1.0.0-py3-none-any.whl</a><br>
<a href="https://files.example/leaf-1.0.1.tar.gz#sha256=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" data-requires-python="&gt;=3.8">leaf-1.0.1.tar.gz</a>
<a href="/p/leaf-1.0.1-py3-none-any.whl#md5=00" data-dist-info-metadata="sha256=cc">leaf-1.0.1-py3-none-any.whl</a>
<a href="/p/Leaf_Extra-1.0.1-py3-none-any.whl#sha256=dd">Leaf_Extra-1.0.1-py3-none-any.whl</a>
</body></html>"#;

    #[test]
    fn an_index_page_gives_absolute_urls_and_hashes() {
        let files = files(PAGE, "http://127.0.0.1:8080/simple/leaf/");
        assert_eq!(files.len(), 4);
        assert_eq!(
            files[0].url,
            "http://127.0.0.1:8080/packages/leaf-1.0.0-py3-none-any.whl"
        );
        assert_eq!(files[0].sha256.as_deref(), Some(&*"a".repeat(64)));
        assert_eq!(files[1].url, "https://files.example/leaf-1.0.1.tar.gz");
        // An md5 fragment is no sha256: the file must be hashed after download.
        assert_eq!(files[2].sha256, None);
        assert!(files[2].metadata && !files[1].metadata);
        let wanted: Vec<&str> = of_version(&files, "leaf", "1.0.1")
            .iter()
            .map(|f| f.filename.as_str())
            .collect();
        assert_eq!(
            wanted,
            ["leaf-1.0.1.tar.gz", "leaf-1.0.1-py3-none-any.whl"],
            "another project's wheel on the page is not leaf's"
        );
        assert_eq!(of_version(&files, "leaf", "1.0.1.0").len(), 2);
    }

    #[test]
    fn file_names_give_versions() {
        assert_eq!(
            version_of(
                "zope.interface-6.0-cp311-cp311-manylinux.whl",
                "zope-interface"
            )
            .as_deref(),
            Some("6.0")
        );
        assert_eq!(
            version_of("python-dateutil-2.9.0.tar.gz", "python_dateutil").as_deref(),
            Some("2.9.0")
        );
        assert_eq!(version_of("leafy-1.0.tar.gz", "leaf"), None);
        assert_eq!(version_of("leaf-1.0.exe", "leaf"), None);
    }

    const HASHED: &str = "# generated by pip-compile\nother==2.0 \\\n    --hash=sha256:0000\nleaf==1.0.0 \\\n    --hash=sha256:1111 \\\n    --hash=sha256:2222\n    # via other\nlast==3.0 --hash=sha256:3333 --hash=sha256:4444 # inline\n";

    #[test]
    fn one_hash_per_line_stays_one_per_line() {
        let new = rewrite(
            "requirements.txt",
            HASHED,
            "Leaf",
            "1.0.0",
            "1.0.1",
            &["a1".into(), "b2".into(), "c3".into()],
        )
        .unwrap();
        assert_eq!(
            new,
            HASHED.replace(
                "leaf==1.0.0 \\\n    --hash=sha256:1111 \\\n    --hash=sha256:2222\n",
                "leaf==1.0.1 \\\n    --hash=sha256:a1 \\\n    --hash=sha256:b2 \\\n    --hash=sha256:c3\n"
            )
        );
        // Fewer hashes than before: the last keeps the old last line's ending.
        let fewer = rewrite(
            "r.txt",
            HASHED,
            "other",
            "2.0",
            "2.1",
            &["ff".into(), "ee".into()],
        )
        .unwrap();
        assert!(
            fewer.starts_with("# generated by pip-compile\nother==2.1 \\\n    --hash=sha256:ff \\\n    --hash=sha256:ee\nleaf==1.0.0"),
            "{fewer}"
        );
    }

    #[test]
    fn inline_hashes_stay_inline() {
        let new = rewrite("r.txt", HASHED, "last", "3.0", "3.1", &["9".into()]).unwrap();
        assert_eq!(
            new,
            HASHED.replace(
                "last==3.0 --hash=sha256:3333 --hash=sha256:4444 # inline",
                "last==3.1 --hash=sha256:9 # inline"
            )
        );
        let err = rewrite("r.txt", HASHED, "leaf", "0.9", "1.0.1", &[]).unwrap_err();
        assert_eq!(err, "r.txt has no requirement leaf==0.9");
    }

    #[test]
    fn requirements_of_the_new_version_must_be_pinned() {
        let pins = pins("requirements.txt", "twig==1.2\nroot==0.5\nloose>=1\n");
        let requires = vec![
            "twig>=1.0,<2".to_string(),
            "root (>=1.0)".to_string(),
            "loose".to_string(),
            "absent; python_version < \"3.8\"".to_string(),
            "docs-tool; extra == \"docs\"".to_string(),
            "Twig_Extra[x]>=1; extra == 'fast'".to_string(),
        ];
        assert_eq!(
            unmet(&requires, &[], &pins),
            [
                "`root (>=1.0)` (the file pins 0.5)",
                "`loose` (not pinned in the file)",
                "`absent; python_version < \"3.8\"` (not in the file)",
            ]
        );
        let with_extra = unmet(&requires, &["fast".into()], &pins);
        assert_eq!(with_extra.len(), 4, "{with_extra:?}");
        assert_eq!(
            requires_dist(
                "Name: a\nRequires-Dist: b>=1\nRequires-Dist: c\n\nRequires-Dist: not-a-header\n"
            ),
            ["b>=1", "c"]
        );
    }
}

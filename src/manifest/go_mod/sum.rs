//! go.sum.
//!
//! go.sum is a checksum database, not a build list: it keeps hashes for every module version the
//! go command ever looked at while resolving (older versions, `/go.mod`-only entries of modules
//! that are not built), so reading versions from it would report dependencies the build does not
//! use. go.mod is the source of truth; this parser yields no dependencies and only checks that
//! each line reads `module version[/go.mod] h1:<base64 of 32 bytes>`, so a corrupted file (a bad
//! merge, a truncated line) is reported at its line.

use crate::model::{ErrorCode, FileError, ParsedManifest};

pub fn parse_go_sum(file: &str, source: &str) -> ParsedManifest {
    let mut out = ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    };
    for (index, raw) in source.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        if let Err(problem) = check_line(line) {
            let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let message = format!(
                "{problem}; go.sum lines read `module version[/go.mod] h1:hash=`: restore the file from version control or run `go mod tidy`"
            );
            out.errors
                .push(FileError::new(file, line, message).with_code(ErrorCode::LockfileSyntax));
        }
    }
    out
}

/// What can be wrong with one go.sum line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum SumProblem {
    #[error("expected 3 fields separated by spaces, found {found}")]
    FieldCount { found: usize },
    #[error("`{module}` is a version where the module path belongs")]
    VersionForPath { module: String },
    #[error("`{version}` is not a module version such as `v1.2.3` or `v1.2.3/go.mod`")]
    NotAVersion { version: String },
    #[error("`{hash}` is not a hash such as `h1:` followed by 44 characters of base64")]
    NotAHash { hash: String },
}

fn check_line(line: &str) -> Result<(), SumProblem> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [module, version, hash] = fields[..] else {
        return Err(SumProblem::FieldCount {
            found: fields.len(),
        });
    };
    if module.starts_with('v') && module[1..].starts_with(|c: char| c.is_ascii_digit()) {
        return Err(SumProblem::VersionForPath {
            module: module.to_string(),
        });
    }
    let release = version.strip_suffix("/go.mod").unwrap_or(version);
    let version_ok = release.starts_with('v')
        && release[1..].starts_with(|c: char| c.is_ascii_digit())
        && !release.contains('/');
    if !version_ok {
        return Err(SumProblem::NotAVersion {
            version: version.to_string(),
        });
    }
    let Some((algorithm, digest)) = hash.split_once(':') else {
        return Err(SumProblem::NotAHash {
            hash: hash.to_string(),
        });
    };
    let base64 = digest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=');
    // h1 is SHA-256: 32 bytes, 44 characters of padded base64. Other algorithms the go command
    // does not know are kept by it, so only their shape is checked.
    let length_ok = algorithm != "h1" || (digest.len() == 44 && digest.ends_with('='));
    let algorithm_ok = algorithm.len() >= 2
        && algorithm.starts_with('h')
        && algorithm[1..].bytes().all(|b| b.is_ascii_digit());
    if !(algorithm_ok && base64 && length_ok && !digest.is_empty()) {
        return Err(SumProblem::NotAHash {
            hash: hash.to_string(),
        });
    }
    Ok(())
}

//! What an incremental sync fetches, decided from an ecosystem's `modified_id.csv`.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("modified_id.csv line {line}: {message}")]
pub struct CsvError {
    pub line: usize,
    pub message: String,
}

/// One line of `modified_id.csv`: when a record last changed, and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modified {
    pub modified: DateTime<Utc>,
    pub id: String,
}

/// Reads `<RFC 3339 modified>,<id>` lines. The all-ecosystems file writes `<ECOSYSTEM>/<id>`;
/// the prefix is dropped. Blank lines are skipped; anything else that does not parse is an error,
/// because a garbled file must not be taken for "nothing changed".
pub fn parse_modified_csv(text: &str) -> Result<Vec<Modified>, CsvError> {
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fail = |message: String| CsvError {
            line: i + 1,
            message,
        };
        let (when, id) = line
            .split_once(',')
            .ok_or_else(|| fail(format!("expected `<modified>,<id>`, found `{line}`")))?;
        let modified = DateTime::parse_from_rfc3339(when.trim())
            .map_err(|e| fail(format!("`{when}` is not an RFC 3339 time: {e}")))?
            .with_timezone(&Utc);
        let id = id.trim();
        let id = id.split_once('/').map_or(id, |(_ecosystem, id)| id);
        if !is_safe_id(id) {
            return Err(fail(format!("`{id}` is not an advisory id")));
        }
        entries.push(Modified {
            modified,
            id: id.to_string(),
        });
    }
    Ok(entries)
}

/// The records to fetch: those modified after `since` (each id once), and the cursor to store
/// once they are all in: the newest time in the file, or `since` when nothing is newer. The
/// file is newest first, but this does not rely on it.
pub fn plan_incremental(
    entries: &[Modified],
    since: DateTime<Utc>,
) -> (Vec<String>, DateTime<Utc>) {
    let mut ids: Vec<String> = entries
        .iter()
        .filter(|e| e.modified > since)
        .map(|e| e.id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    let cursor = entries
        .iter()
        .map(|e| e.modified)
        .max()
        .map_or(since, |newest| newest.max(since));
    (ids, cursor)
}

/// Whether an id can name a file: OSV ids are letters, digits, `-`, `_`, `.` and `:`. Ids come
/// from the network and end up in paths, so anything else (`/`, `..`) is refused.
pub fn is_safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn fetches_only_what_changed_since_the_cursor() {
        let csv = "2024-05-03T00:00:00Z,GHSA-new\n\
                   2024-05-02T10:00:00.123Z,npm/GHSA-mod\n\
                   2024-05-01T00:00:00Z,GHSA-old\n\
                   \n\
                   2024-04-01T00:00:00Z,GHSA-older\n";
        let entries = parse_modified_csv(csv).unwrap();
        assert_eq!(entries[1].id, "GHSA-mod");
        let (ids, cursor) = plan_incremental(&entries, t("2024-05-01T00:00:00Z"));
        assert_eq!(ids, ["GHSA-mod", "GHSA-new"]);
        assert_eq!(cursor, t("2024-05-03T00:00:00Z"));
    }

    #[test]
    fn nothing_newer_keeps_the_cursor() {
        let entries = parse_modified_csv("2024-04-01T00:00:00Z,A-1\n").unwrap();
        let since = t("2024-05-01T00:00:00Z");
        assert_eq!(plan_incremental(&entries, since), (vec![], since));
        assert_eq!(plan_incremental(&[], since), (vec![], since));
    }

    #[test]
    fn a_garbled_file_is_an_error() {
        assert_eq!(parse_modified_csv("<html>oops</html>").unwrap_err().line, 1);
        assert_eq!(
            parse_modified_csv("2024-04-01T00:00:00Z,A-1\nyesterday,A-2")
                .unwrap_err()
                .line,
            2
        );
        assert!(parse_modified_csv("2024-04-01T00:00:00Z,../../etc/passwd").is_err());
    }

    #[test]
    fn ids_that_could_escape_a_directory_are_not_safe() {
        assert!(is_safe_id("GHSA-abcd-efgh-ijkl"));
        assert!(is_safe_id("RUSTSEC-2024-0001"));
        for bad in ["", "..", "a/b", ".hidden", "a\\b", "a b"] {
            assert!(!is_safe_id(bad), "{bad}");
        }
    }
}

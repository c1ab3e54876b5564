//! Parsing every manifest of a snapshot, on the machine's cores when there is enough to share.
//!
//! Parsers are pure functions of (kind, path, text), so the order they run in cannot change
//! what they give; the manifests come back in the snapshot's (path) order either way.

use crate::infra::parallel;
use crate::manifest::{self, ManifestKind};
use crate::model::ParsedManifest;
use crate::snapshot::RepoSnapshot;

/// The manifests of `snapshot`'s files, in path order.
pub(super) fn parse_all(snapshot: &RepoSnapshot) -> Vec<ParsedManifest> {
    let jobs: Vec<(ManifestKind, &str, &str)> = snapshot
        .files
        .iter()
        .filter_map(|(path, content)| {
            manifest::detect(path).map(|kind| (kind, path.as_str(), content.as_str()))
        })
        .collect();
    let bytes: usize = jobs.iter().map(|(_, _, text)| text.len()).sum();
    parse_shared(&jobs, parallel::threads_for_bytes(bytes))
}

/// Parses `text` when `path` is a manifest, emptying `text` when nothing after parsing reads it
/// ([`crate::snapshot::releasable`]): for a reader that hands each file over as it is read
/// ([`crate::forge::local::read_checkout_with`]). Put the manifests in path order with
/// [`in_path_order`] before scanning them.
pub fn parse_releasing(path: &str, text: &mut String) -> Option<ParsedManifest> {
    let kind = manifest::detect(path)?;
    let parsed = manifest::parse(kind, path, text);
    if crate::snapshot::releasable(kind, &parsed) {
        *text = String::new();
    }
    Some(parsed)
}

/// `manifests` in the order [`parse_all`] gives them.
pub fn in_path_order(mut manifests: Vec<ParsedManifest>) -> Vec<ParsedManifest> {
    manifests.sort_unstable_by(|a, b| a.file.cmp(&b.file));
    manifests
}

/// `jobs` parsed by `threads` threads, largest file first so that the big lockfiles spread over
/// the threads instead of ending up queued behind each other.
fn parse_shared(jobs: &[(ManifestKind, &str, &str)], threads: usize) -> Vec<ParsedManifest> {
    parallel::map_weighted(
        jobs,
        threads,
        |(_, _, text)| text.len(),
        |&(kind, path, text)| manifest::parse(kind, path, text),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sharing the work gives the same manifests, in the same order, as one thread does.
    #[test]
    fn shared_parsing_gives_what_one_thread_gives() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        let snapshot = if corpus.exists() {
            crate::forge::local::read_snapshot(&corpus, &[]).unwrap()
        } else {
            RepoSnapshot::from_files((0..40).map(|i| {
                (
                    format!("s{i}/requirements.txt"),
                    format!("requests=={i}.0\n").repeat(2_000),
                )
            }))
        };
        let jobs: Vec<(ManifestKind, &str, &str)> = snapshot
            .files
            .iter()
            .filter_map(|(p, c)| manifest::detect(p).map(|k| (k, p.as_str(), c.as_str())))
            .collect();
        let alone: Vec<ParsedManifest> = jobs
            .iter()
            .map(|&(k, p, c)| manifest::parse(k, p, c))
            .collect();
        assert!(jobs.len() > 10);
        for threads in [2, 3, 7] {
            assert!(parse_shared(&jobs, threads) == alone, "{threads} threads");
        }
        assert!(parse_all(&snapshot) == alone);
    }
}

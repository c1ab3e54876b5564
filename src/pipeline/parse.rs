//! Parsing every manifest of a snapshot, on the machine's cores when there is enough to share.
//!
//! Parsers are pure functions of (kind, path, text), so the order they run in cannot change
//! what they give; the manifests come back in the snapshot's (path) order either way.

use crate::infra::parallel;
use crate::manifest::{self, ManifestKind};
use crate::model::ParsedManifest;
use crate::snapshot::RepoSnapshot;

/// Below this much text, starting threads costs more than it saves.
const PARALLEL_BYTES: usize = 256 * 1024;

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
    let threads = if bytes < PARALLEL_BYTES {
        1
    } else {
        parallel::cores()
    };
    parse_shared(&jobs, threads)
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

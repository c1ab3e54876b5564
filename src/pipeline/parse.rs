//! Parsing every manifest of a snapshot, on the machine's cores when there is enough to share.
//!
//! Parsers are pure functions of (kind, path, text), so the order they run in cannot change
//! what they give; the manifests come back in the snapshot's (path) order either way.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::manifest::{self, ManifestKind};
use crate::model::ParsedManifest;
use crate::snapshot::RepoSnapshot;

/// Below this much text, starting threads costs more than it saves.
const PARALLEL_BYTES: usize = 256 * 1024;

/// Worker threads get the stack a main thread has: parsers of nested formats recurse, and a
/// file the main thread parses must not overflow a worker (only touched pages are resident).
const WORKER_STACK: usize = 8 * 1024 * 1024;

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
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len());
    if threads < 2 || bytes < PARALLEL_BYTES {
        return jobs
            .into_iter()
            .map(|(kind, path, text)| manifest::parse(kind, path, text))
            .collect();
    }
    parse_shared(&jobs, threads)
}

/// `jobs` parsed by `threads` threads (this one included), largest file first so that the big
/// lockfiles spread over the threads instead of ending up queued behind each other.
fn parse_shared(jobs: &[(ManifestKind, &str, &str)], threads: usize) -> Vec<ParsedManifest> {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].2.len()));
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let (kind, path, text) = jobs[i];
            done.push((i, manifest::parse(kind, path, text)));
        }
        done
    };
    let mut parsed: Vec<(usize, ParsedManifest)> = std::thread::scope(|scope| {
        // A thread that cannot be started leaves its share to the others: the queue is shared.
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("parse".into())
                    .stack_size(WORKER_STACK)
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        let mut parsed = work();
        for helper in helpers {
            match helper.join() {
                Ok(done) => parsed.extend(done),
                // A parser panicked: the same panic as parsing on this thread would give.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        parsed
    });
    parsed.sort_unstable_by_key(|(i, _)| *i);
    parsed.into_iter().map(|(_, manifest)| manifest).collect()
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

//! An order-keeping parallel map over a slice, on scoped std threads.
//!
//! Loading 20,000 advisories and parsing a monorepo's manifests are CPU-bound and split cleanly
//! into independent items. The result is in input order whatever the thread count, so callers
//! stay deterministic (errors and records come out exactly as a sequential loop gives them).
//! No new dependency: a shared queue over `std::thread::scope` is all this needs; rayon's work
//! stealing gives nothing more on a queue handed out largest first.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Below this many items a thread costs more than it saves.
const MIN_ITEMS_PER_THREAD: usize = 64;

/// Worker threads get the stack a main thread has: parsers of nested formats recurse, and an
/// item the main thread handles must not overflow a worker (only touched pages are resident).
const WORKER_STACK: usize = 8 * 1024 * 1024;

/// The machine's parallelism (1 when it cannot be known).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Below this much text to read or parse, starting threads costs more than it saves.
const MIN_BYTES_FOR_THREADS: usize = 256 * 1024;

/// How many threads to use for work proportional to `bytes` of input.
pub fn threads_for_bytes(bytes: usize) -> usize {
    if bytes < MIN_BYTES_FOR_THREADS {
        1
    } else {
        cores()
    }
}

/// How many threads to use for `items` items of similar cost: the machine's parallelism,
/// capped so each thread gets a worthwhile share.
pub fn threads_for(items: usize) -> usize {
    cores().min(items / MIN_ITEMS_PER_THREAD).max(1)
}

/// `items.iter().map(f).collect()`, on up to [`threads_for`] threads.
pub fn map<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    map_weighted(items, threads_for(items.len()), |_| 0, f)
}

/// [`map`] with an explicit thread count (tests use it to check that order never depends on it).
pub fn map_with_threads<T, R, F>(items: &[T], threads: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    map_weighted(items, threads, |_| 0, f)
}

/// `items.iter().map(f).collect()` on `threads` threads (this one included), the items handed
/// out from one queue heaviest first by `weight` (equal weights keep input order), so a few
/// large items spread over the threads instead of ending up behind each other. The result is in
/// input order.
pub fn map_weighted<T, R, W, F>(items: &[T], threads: usize, weight: W, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    W: Fn(&T) -> usize,
    F: Fn(&T) -> R + Sync,
{
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let order = queue_order(items, weight);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            done.push((i, f(&items[i])));
        }
        done
    };
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        // A thread that cannot be started leaves its share to the others: the queue is shared.
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .stack_size(WORKER_STACK)
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        let mut done = work();
        for helper in helpers {
            match helper.join() {
                Ok(part) => done.extend(part),
                // A panic in `f` is a bug, not bad input: pass it on as the sequential loop would.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// The indices of `items`, heaviest first; equal weights keep input order (a stable sort).
fn queue_order<T>(items: &[T], weight: impl Fn(&T) -> usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(weight(&items[i])));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_input_order_for_any_thread_count() {
        let items: Vec<u32> = (0..1_001).collect();
        let expected: Vec<u64> = items.iter().map(|&i| u64::from(i) * 3 + 1).collect();
        for threads in [0, 1, 2, 3, 7, 64, 2_000] {
            let got = map_with_threads(&items, threads, |&i| u64::from(i) * 3 + 1);
            assert_eq!(got, expected, "{threads} threads");
            let weighted = map_weighted(
                &items,
                threads,
                |&i| (i % 17) as usize,
                |&i| u64::from(i) * 3 + 1,
            );
            assert_eq!(weighted, expected, "{threads} threads, weighted");
        }
        assert!(map_with_threads(&[] as &[u32], 4, |&i| i).is_empty());
    }

    #[test]
    fn heaviest_items_are_handed_out_first_and_ties_in_input_order() {
        let weights = [1, 50, 3, 50, 7, 3];
        assert_eq!(queue_order(&weights, |&w| w), [1, 3, 4, 2, 5, 0]);
        assert_eq!(queue_order(&weights, |_| 0), [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn few_items_stay_on_one_thread() {
        assert_eq!(threads_for(0), 1);
        assert_eq!(threads_for(MIN_ITEMS_PER_THREAD - 1), 1);
    }
}

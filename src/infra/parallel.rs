//! An order-keeping parallel map over a slice, on scoped std threads.
//!
//! Loading 20,000 advisories is CPU-bound JSON parsing and small-file reads; both split cleanly
//! into independent items. The result is in input order whatever the thread count, so callers
//! stay deterministic (errors and records come out exactly as a sequential loop gives them).
//! No new dependency: a chunked `std::thread::scope` is all this needs.

/// Below this many items a thread costs more than it saves.
const MIN_ITEMS_PER_THREAD: usize = 64;

/// How many threads to use for `items` items: the machine's parallelism, capped so each thread
/// gets a worthwhile share.
pub fn threads_for(items: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    cores.min(items / MIN_ITEMS_PER_THREAD).max(1)
}

/// `items.iter().map(f).collect()`, in contiguous chunks on up to [`threads_for`] threads.
pub fn map<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    map_with_threads(items, threads_for(items.len()), f)
}

/// [`map`] with an explicit thread count (tests use it to check that order never depends on it).
pub fn map_with_threads<T, R, F>(items: &[T], threads: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    if threads <= 1 || items.len() < 2 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for handle in handles {
            match handle.join() {
                Ok(part) => out.extend(part),
                // A panic in `f` is a bug, not bad input: pass it on as the sequential loop would.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
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
        }
        assert!(map_with_threads(&[] as &[u32], 4, |&i| i).is_empty());
    }

    #[test]
    fn few_items_stay_on_one_thread() {
        assert_eq!(threads_for(0), 1);
        assert_eq!(threads_for(MIN_ITEMS_PER_THREAD - 1), 1);
    }
}

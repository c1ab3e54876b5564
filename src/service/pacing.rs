//! Spreading a sweep over its interval: when each repository's scan is due, so that the
//! scans of one installation never plan more GitHub calls in an hour than its budget (GitHub
//! counts the rate limit per installation: 5,000 requests an hour, more for large
//! organisations). Pure: the caller passes the time, the repositories and what each is
//! expected to cost.

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::BTreeMap;

/// Counted calls a scan without a usable mark is planned at: a rescan that opens nothing
/// (repository, branch, tree, open PRs, tracking issue, check run).
pub const FULL_SCAN_CALLS: u32 = 6;
/// Counted calls a scan with a usable mark is planned at: its conditional request, which
/// costs nothing when GitHub answers 304, planned as one in case the branch moved.
pub const MARKED_SCAN_CALLS: u32 = 1;

/// One repository a sweep scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub repository_id: i64,
    pub installation_id: i64,
    /// Counted GitHub calls its scan is expected to make.
    pub expected_calls: u32,
}

/// When a repository's scan is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub repository_id: i64,
    pub run_at: DateTime<Utc>,
}

/// The sweep's schedule. Each installation's repositories are put in an order fixed by a hash
/// of their ids (the same every sweep and on every replica, unrelated to names or insertion
/// order) and given time in proportion to their expected calls: spread over `interval`, or
/// over as long as `calls_per_hour` needs when the interval is too short for them (the next
/// sweep then skips the scans still waiting).
///
/// Bound: the scans due in any hour of one installation expect at most `calls_per_hour` calls
/// together. The rate is set to `calls_per_hour` less the dearest scan, which is what a scan
/// straddling the hour's edge can add.
pub fn plan(
    now: DateTime<Utc>,
    candidates: &[Candidate],
    interval: TimeDelta,
    calls_per_hour: u32,
) -> Vec<Slot> {
    let mut by_installation: BTreeMap<i64, Vec<&Candidate>> = BTreeMap::new();
    for c in candidates {
        by_installation
            .entry(c.installation_id)
            .or_default()
            .push(c);
    }
    let interval_ms = u128::try_from(interval.num_milliseconds().max(0)).unwrap_or(0);
    let mut slots = Vec::with_capacity(candidates.len());
    for (_, mut group) in by_installation {
        group.sort_by_key(|c| (spread(c.repository_id), c.repository_id));
        // Every scan costs at least one call in the plan: a free one would pile up at a point.
        let cost = |c: &Candidate| u128::from(c.expected_calls.max(1));
        let total: u128 = group.iter().map(|c| cost(c)).sum();
        let dearest = group.iter().map(|c| cost(c)).max().unwrap_or(1);
        let rate = u128::from(calls_per_hour).saturating_sub(dearest).max(1);
        // Milliseconds the group needs at `rate` calls an hour, rounded up.
        let needed_ms = (total * 3_600_000).div_ceil(rate);
        let span_ms = interval_ms.max(needed_ms);
        let mut before: u128 = 0;
        for c in group {
            let offset = span_ms * before / total;
            let offset = i64::try_from(offset).unwrap_or(i64::MAX);
            slots.push(Slot {
                repository_id: c.repository_id,
                run_at: now + TimeDelta::milliseconds(offset),
            });
            before += cost(c);
        }
    }
    slots
}

/// A fixed mix of a repository id (SplitMix64's finaliser): the same on every run and
/// platform, unlike the standard library's seeded hasher.
fn spread(id: i64) -> u64 {
    let mut z = (id as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The most calls the slots of one installation expect in any hour-long window (by due time):
/// what [`plan`] bounds. For tests and the sweep's log.
pub fn busiest_hour(slots: &[Slot], candidates: &[Candidate], installation_id: i64) -> u64 {
    let cost: BTreeMap<i64, u64> = candidates
        .iter()
        .filter(|c| c.installation_id == installation_id)
        .map(|c| (c.repository_id, u64::from(c.expected_calls.max(1))))
        .collect();
    let mut due: Vec<(DateTime<Utc>, u64)> = slots
        .iter()
        .filter_map(|s| cost.get(&s.repository_id).map(|c| (s.run_at, *c)))
        .collect();
    due.sort();
    let mut busiest = 0;
    let mut window = 0u64;
    let mut start = 0;
    for end in 0..due.len() {
        window += due[end].1;
        while due[end].0 - due[start].0 >= TimeDelta::hours(1) {
            window -= due[start].1;
            start += 1;
        }
        busiest = busiest.max(window);
    }
    busiest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-12-03T00:00:00Z".parse().unwrap()
    }

    fn repos(installation_id: i64, ids: std::ops::Range<i64>, calls: u32) -> Vec<Candidate> {
        ids.map(|repository_id| Candidate {
            repository_id,
            installation_id,
            expected_calls: calls,
        })
        .collect()
    }

    #[test]
    fn a_small_installation_is_spread_over_the_interval() {
        let candidates = repos(1, 0..100, MARKED_SCAN_CALLS);
        let slots = plan(now(), &candidates, TimeDelta::hours(24), 5_000);
        assert_eq!(slots.len(), 100);
        let first = slots.iter().map(|s| s.run_at).min().unwrap();
        let last = slots.iter().map(|s| s.run_at).max().unwrap();
        assert_eq!(first, now());
        // Evenly: the last is one step short of the interval's end.
        assert_eq!(last, now() + TimeDelta::hours(24) * 99 / 100);
        assert!(busiest_hour(&slots, &candidates, 1) <= 5);
    }

    #[test]
    fn ten_thousand_repositories_stay_inside_the_hourly_budget() {
        // First sweep after the marks were lost: every repository is a full scan.
        let candidates = repos(7, 0..10_000, FULL_SCAN_CALLS);
        let slots = plan(now(), &candidates, TimeDelta::hours(24), 5_000);
        let busiest = busiest_hour(&slots, &candidates, 7);
        assert!(busiest <= 5_000, "{busiest}");
        assert!(
            busiest >= 2_400,
            "the budget is used, not wasted: {busiest}"
        );
        // 60,000 calls at under 5,000 an hour need more than the 12 hours; they fit in 24.
        let last = slots.iter().map(|s| s.run_at).max().unwrap();
        assert!(last < now() + TimeDelta::hours(24));
        // Unchanged repositories (marked): the same sweep is cheap and still spread.
        let cheap = repos(7, 0..10_000, MARKED_SCAN_CALLS);
        let slots = plan(now(), &cheap, TimeDelta::hours(24), 5_000);
        assert!(busiest_hour(&slots, &cheap, 7) <= 500);
    }

    #[test]
    fn a_short_interval_stretches_rather_than_exceeds_the_budget() {
        let candidates = repos(1, 0..1_000, FULL_SCAN_CALLS);
        let slots = plan(now(), &candidates, TimeDelta::hours(1), 1_000);
        assert!(busiest_hour(&slots, &candidates, 1) <= 1_000);
        let last = slots.iter().map(|s| s.run_at).max().unwrap();
        assert!(last > now() + TimeDelta::hours(5), "{last}");
    }

    #[test]
    fn installations_have_budgets_of_their_own() {
        let mut candidates = repos(1, 0..500, FULL_SCAN_CALLS);
        candidates.extend(repos(2, 500..1_000, FULL_SCAN_CALLS));
        let slots = plan(now(), &candidates, TimeDelta::hours(1), 1_000);
        for installation in [1, 2] {
            assert!(busiest_hour(&slots, &candidates, installation) <= 1_000);
        }
        // Each starts at once: one installation's backlog does not delay the other's.
        let firsts: Vec<DateTime<Utc>> = [0..500, 500..1_000]
            .into_iter()
            .map(|ids| {
                slots
                    .iter()
                    .filter(|s| ids.contains(&s.repository_id))
                    .map(|s| s.run_at)
                    .min()
                    .unwrap()
            })
            .collect();
        assert_eq!(firsts, [now(), now()]);
    }

    #[test]
    fn the_schedule_is_the_same_whatever_the_input_order() {
        let mut candidates = repos(1, 0..50, FULL_SCAN_CALLS);
        candidates.extend(repos(1, 50..60, MARKED_SCAN_CALLS));
        let mut reversed = candidates.clone();
        reversed.reverse();
        let sorted = |mut s: Vec<Slot>| {
            s.sort_by_key(|s| s.repository_id);
            s
        };
        let a = sorted(plan(now(), &candidates, TimeDelta::hours(6), 100));
        let b = sorted(plan(now(), &reversed, TimeDelta::hours(6), 100));
        assert_eq!(a, b);
        // …and not the id order: the spread hash mixes them.
        let mut by_time = a.clone();
        by_time.sort_by_key(|s| s.run_at);
        let ids: Vec<i64> = by_time.iter().map(|s| s.repository_id).collect();
        assert_ne!(ids, (0..60).collect::<Vec<_>>());
    }

    #[test]
    fn nothing_to_plan_is_an_empty_plan() {
        assert!(plan(now(), &[], TimeDelta::hours(1), 5_000).is_empty());
        let one = repos(1, 0..1, 0);
        assert_eq!(
            plan(now(), &one, TimeDelta::zero(), 0),
            [Slot {
                repository_id: 0,
                run_at: now()
            }]
        );
    }
}

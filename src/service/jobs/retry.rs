//! What happens after a job runs: pure functions of the result, the attempt count and `now`.

use super::{JobError, JobOutcome};
use axum::http::HeaderMap;
use chrono::{DateTime, TimeDelta, Utc};
use std::time::Duration;

/// Exponential backoff for retryable failures, with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failed start; each further failure doubles it.
    pub base: Duration,
    pub max_delay: Duration,
    /// Starts allowed before a retryable failure becomes permanent.
    pub max_attempts: u32,
    /// How much shorter than the doubled delay a retry may come, in percent (0 to 100): jobs
    /// that failed together (GitHub down for everyone) must not all come back at one instant.
    pub jitter_percent: u8,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_secs(30),
            max_delay: Duration::from_secs(3600),
            max_attempts: 8,
            jitter_percent: 25,
        }
    }
}

impl RetryPolicy {
    /// The wait after job `job_id`'s `attempts`-th start failed: `base · 2^(attempts-1)`,
    /// capped, then shortened by up to `jitter_percent`. The jitter comes from a hash of the
    /// job id and the attempt, not a random source: the same failure always gets the same
    /// wait (testable, and stable across replicas), while different jobs spread out.
    pub fn delay(&self, job_id: i64, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        let capped = self
            .base
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        let ms = u64::try_from(capped.as_millis()).unwrap_or(u64::MAX);
        let spread = ms / 100 * u64::from(self.jitter_percent.min(100));
        if spread == 0 {
            return capped;
        }
        let key = (job_id as u64) ^ (u64::from(attempts) << 48);
        let cut = mix(key) % (spread + 1);
        Duration::from_millis(ms - cut)
    }
}

/// SplitMix64's finaliser: spreads nearby inputs (consecutive job ids) over the whole range.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// How a job's row is settled after a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    Succeeded {
        summary: String,
    },
    /// Queued again for `at`, counting this attempt.
    RetryAt {
        at: DateTime<Utc>,
        error: String,
    },
    /// Queued again for `at` without counting this attempt: the job did nothing wrong.
    WaitUntil {
        at: DateTime<Utc>,
        reason: String,
    },
    Failed {
        reason: String,
    },
}

/// Decides what becomes of job `job_id` that ran for the `attempts`-th time and returned
/// `result`.
pub fn settle(
    policy: &RetryPolicy,
    result: &Result<JobOutcome, JobError>,
    job_id: i64,
    attempts: u32,
    now: DateTime<Utc>,
) -> Settlement {
    match result {
        Ok(outcome) => Settlement::Succeeded {
            summary: outcome.summary.clone(),
        },
        Err(JobError::Retryable(error)) if attempts >= policy.max_attempts => Settlement::Failed {
            reason: format!("gave up after {attempts} attempts; last error: {error}"),
        },
        Err(JobError::Retryable(error)) => Settlement::RetryAt {
            at: now + to_delta(policy.delay(job_id, attempts)),
            error: error.clone(),
        },
        Err(JobError::RateLimited { until, reason }) => Settlement::WaitUntil {
            at: (*until).max(now),
            reason: format!("rate limited until {until}: {reason}"),
        },
        Err(JobError::Permanent(reason)) => Settlement::Failed {
            reason: reason.clone(),
        },
    }
}

fn to_delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// Turns a failed GitHub API answer into a [`JobError`] by the forge's rules
/// ([`crate::forge::github::rate_limit`] for the waits): 5xx and 408 are worth a retry; any
/// other 4xx will not change by retrying.
pub fn classify_http_failure(
    status: u16,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> JobError {
    if let Some((until, reason)) = crate::forge::github::rate_limit(status, headers, body, now) {
        return JobError::RateLimited { until, reason };
    }
    let first_line = body.lines().next().unwrap_or("").trim();
    if status >= 500 || status == 408 {
        return JobError::Retryable(format!("GitHub answered {status}: {first_line}"));
    }
    JobError::Permanent(format!("GitHub answered {status}: {first_line}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn backoff_doubles_from_the_base_and_stops_at_the_cap() {
        let p = RetryPolicy {
            base: Duration::from_secs(30),
            max_delay: Duration::from_secs(600),
            max_attempts: 8,
            jitter_percent: 0,
        };
        let delays: Vec<u64> = (1..=7).map(|a| p.delay(7, a).as_secs()).collect();
        assert_eq!(delays, vec![30, 60, 120, 240, 480, 600, 600]);
        assert_eq!(p.delay(7, u32::MAX).as_secs(), 600);
    }

    #[test]
    fn jobs_that_failed_together_come_back_spread_out_and_never_past_the_doubled_delay() {
        let p = RetryPolicy::default();
        let first: Vec<Duration> = (1..=20).map(|id| p.delay(id, 1)).collect();
        for d in &first {
            assert!(
                (Duration::from_millis(22_500)..=Duration::from_secs(30)).contains(d),
                "{d:?}"
            );
        }
        let mut distinct = first.clone();
        distinct.sort();
        distinct.dedup();
        assert!(
            distinct.len() >= 18,
            "20 retries at {} instants",
            distinct.len()
        );
        let spread = *distinct.last().unwrap() - distinct[0];
        assert!(
            spread >= Duration::from_secs(4),
            "spread over only {spread:?}"
        );
        // Pure: the same job and attempt always wait the same.
        assert_eq!(p.delay(7, 3), p.delay(7, 3));
        assert_ne!(
            p.delay(7, 3),
            p.delay(7, 4) / 2,
            "attempts jitter independently"
        );
        // The cap stays a cap.
        assert!((1..=20).all(|id| p.delay(id, 30) <= p.max_delay));
    }

    #[test]
    fn the_last_allowed_attempt_turns_a_retryable_error_permanent() {
        let p = RetryPolicy {
            max_attempts: 3,
            jitter_percent: 0,
            ..RetryPolicy::default()
        };
        let now = at("2026-01-01T00:00:00Z");
        let err = Err(JobError::Retryable("GitHub answered 502".into()));
        assert_eq!(
            settle(&p, &err, 1, 2, now),
            Settlement::RetryAt {
                at: at("2026-01-01T00:01:00Z"),
                error: "GitHub answered 502".into()
            }
        );
        assert_eq!(
            settle(&p, &err, 1, 3, now),
            Settlement::Failed {
                reason: "gave up after 3 attempts; last error: GitHub answered 502".into()
            }
        );
    }

    #[test]
    fn a_rate_limit_in_the_past_runs_now() {
        let now = at("2026-01-01T00:00:00Z");
        let err = Err(JobError::RateLimited {
            until: at("2025-12-31T23:00:00Z"),
            reason: "x".into(),
        });
        match settle(&RetryPolicy::default(), &err, 1, 1, now) {
            Settlement::WaitUntil { at: when, .. } => assert_eq!(when, now),
            other => panic!("{other:?}"),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn github_failures_map_to_the_documented_waits() {
        let now = at("2026-03-01T12:00:00Z");
        let primary = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1772370000"),
        ]);
        assert_eq!(
            classify_http_failure(403, &primary, "API rate limit exceeded", now),
            JobError::RateLimited {
                until: DateTime::from_timestamp(1_772_370_000, 0).unwrap(),
                reason: "primary rate limit exhausted (x-ratelimit-reset)".into()
            }
        );
        let secondary = headers(&[("retry-after", "90")]);
        assert_eq!(
            classify_http_failure(429, &secondary, "", now),
            JobError::RateLimited {
                until: at("2026-03-01T12:01:30Z"),
                reason: "secondary rate limit (retry-after: 90)".into()
            }
        );
        match classify_http_failure(
            403,
            &HeaderMap::new(),
            "You have exceeded a secondary rate limit",
            now,
        ) {
            JobError::RateLimited { until, .. } => assert_eq!(until, at("2026-03-01T12:01:00Z")),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            classify_http_failure(502, &HeaderMap::new(), "Bad Gateway\n<html>", now),
            JobError::Retryable("GitHub answered 502: Bad Gateway".into())
        );
        assert_eq!(
            classify_http_failure(404, &HeaderMap::new(), "Not Found", now),
            JobError::Permanent("GitHub answered 404: Not Found".into())
        );
        assert_eq!(
            classify_http_failure(
                403,
                &HeaderMap::new(),
                "Resource not accessible by integration",
                now
            ),
            JobError::Permanent(
                "GitHub answered 403: Resource not accessible by integration".into()
            )
        );
    }
}

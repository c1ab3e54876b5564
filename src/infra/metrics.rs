//! `/metrics`: the service's counters, in the OpenMetrics text format Prometheus scrapes.
//!
//! `prometheus-client` (the Prometheus project's own Rust client) rather than hand-written
//! text: it gets escaping, histograms and the `# EOF` framing right, and the families the
//! forge code will add (API calls, rate limit, PRs) are already here for it to increment.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Duration;

type Labels<const N: usize> = [(&'static str, String); N];

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub struct Metrics {
    registry: Registry,
    webhooks: Family<Labels<2>, Counter>,
    jobs: Family<Labels<2>, Counter>,
    job_duration: Family<Labels<1>, Histogram>,
    job_wait: Histogram,
    jobs_by_state: Family<Labels<1>, Gauge>,
    github_api_calls: Family<Labels<2>, Counter>,
    github_rate_limit_remaining: Family<Labels<1>, Gauge>,
    fix_prs: Family<Labels<1>, Counter>,
    /// Advisory syncs, rescans and reloads.
    pub knowledge: super::knowledge_metrics::KnowledgeMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("patchwright");
        let webhooks = Family::<Labels<2>, Counter>::default();
        registry.register(
            "webhooks",
            "Webhook deliveries by event and outcome (queued, recorded, ignored, duplicate, unauthorized, bad_request, error)",
            webhooks.clone(),
        );
        let jobs = Family::<Labels<2>, Counter>::default();
        registry.register(
            "jobs",
            "Job runs by kind and how they settled",
            jobs.clone(),
        );
        let job_duration = Family::<Labels<1>, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.05, 2.0, 14))
        });
        registry.register(
            "job_duration_seconds",
            "How long job runs took, by kind",
            job_duration.clone(),
        );
        let job_wait = Histogram::new(exponential_buckets(0.01, 2.0, 16));
        registry.register(
            "job_queue_latency_seconds",
            "Time from a job being due to a worker starting it",
            job_wait.clone(),
        );
        let jobs_by_state = Family::<Labels<1>, Gauge>::default();
        registry.register(
            "job_queue",
            "Jobs in the store by state (queued is the queue depth)",
            jobs_by_state.clone(),
        );
        let github_api_calls = Family::<Labels<2>, Counter>::default();
        registry.register(
            "github_api_calls",
            "GitHub API requests by route and status class",
            github_api_calls.clone(),
        );
        let github_rate_limit_remaining = Family::<Labels<1>, Gauge>::default();
        registry.register(
            "github_rate_limit_remaining",
            "x-ratelimit-remaining of the last GitHub answer, by resource",
            github_rate_limit_remaining.clone(),
        );
        let fix_prs = Family::<Labels<1>, Counter>::default();
        registry.register(
            "fix_prs",
            "Fix pull requests by action (opened, updated, closed)",
            fix_prs.clone(),
        );
        let knowledge = super::knowledge_metrics::KnowledgeMetrics::register(&mut registry);
        Metrics {
            knowledge,
            registry,
            webhooks,
            jobs,
            job_duration,
            job_wait,
            jobs_by_state,
            github_api_calls,
            github_rate_limit_remaining,
            fix_prs,
        }
    }

    pub fn webhook(&self, event: &str, outcome: &'static str) {
        self.webhooks
            .get_or_create(&[
                ("event", event.to_string()),
                ("outcome", outcome.to_string()),
            ])
            .inc();
    }

    pub fn observe_job(&self, kind: &str, outcome: &str, took: Duration) {
        self.jobs
            .get_or_create(&[("kind", kind.to_string()), ("outcome", outcome.to_string())])
            .inc();
        self.job_duration
            .get_or_create(&[("kind", kind.to_string())])
            .observe(took.as_secs_f64());
    }

    pub fn observe_job_wait(&self, waited: Duration) {
        self.job_wait.observe(waited.as_secs_f64());
    }

    /// Sets the gauge of jobs in `state` (read from the store when scraped).
    pub fn set_job_queue(&self, state: &str, jobs: i64) {
        self.jobs_by_state
            .get_or_create(&[("state", state.to_string())])
            .set(jobs);
    }

    /// For the forge: one GitHub API request answered with `status`.
    pub fn github_api_call(&self, route: &str, status: u16) {
        let class = format!("{}xx", status / 100);
        self.github_api_calls
            .get_or_create(&[("route", route.to_string()), ("status", class)])
            .inc();
    }

    /// For the forge: the `x-ratelimit-remaining` GitHub last reported for `resource`.
    pub fn github_rate_limit_remaining(&self, resource: &str, remaining: i64) {
        self.github_rate_limit_remaining
            .get_or_create(&[("resource", resource.to_string())])
            .set(remaining);
    }

    /// For the forge: a fix PR was `opened`, `updated` or `closed`.
    pub fn fix_pr(&self, action: &'static str) {
        self.fix_prs
            .get_or_create(&[("action", action.to_string())])
            .inc();
    }

    /// The text a scrape gets.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_text_carries_each_family_with_its_labels() {
        let m = Metrics::new();
        m.webhook("push", "queued");
        m.webhook("push", "queued");
        m.observe_job("scan", "succeeded", Duration::from_millis(120));
        m.set_job_queue("queued", 3);
        m.set_job_queue("running", 1);
        m.github_rate_limit_remaining("core", 4999);
        m.fix_pr("opened");
        let text = m.render();
        for line in [
            "patchwright_webhooks_total{event=\"push\",outcome=\"queued\"} 2",
            "patchwright_jobs_total{kind=\"scan\",outcome=\"succeeded\"} 1",
            "patchwright_job_duration_seconds_count{kind=\"scan\"} 1",
            "patchwright_job_queue{state=\"queued\"} 3",
            "patchwright_github_rate_limit_remaining{resource=\"core\"} 4999",
            "patchwright_fix_prs_total{action=\"opened\"} 1",
            "# EOF",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}

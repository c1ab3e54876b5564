//! The service's counters live in [`crate::infra::metrics`] (a leaf, so the forge can count
//! its calls without importing the service); re-exported here for this session's callers.
//! What needs the store's types stays on this side.

pub use crate::infra::metrics::*;

use crate::store::jobs::JobState;

impl Metrics {
    /// Sets the per-state job gauges (read from the store when scraped).
    pub fn set_job_counts(&self, counts: &[(JobState, i64)]) {
        for (state, n) in counts {
            self.set_job_queue(state.as_str(), *n);
        }
    }
}

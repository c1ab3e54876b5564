//! What the edges share and the middle never needs: time as an input ([`clock`]), values that
//! must not be printed ([`secret`]) and the service's counters ([`metrics`]).
//!
//! A leaf: it imports nothing of this crate, so `forge`, `store` and `service` can all use it
//! without pointing at one another.

pub mod clock;
pub mod knowledge_metrics;
pub mod metrics;
pub mod parallel;
pub mod secret;

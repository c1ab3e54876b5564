//! Knowledge that keeps itself current: syncing OSV advisories from an osv.dev-style mirror
//! into a directory that `--advisories DIR` reads, and keeping a running service's knowledge
//! current without restart.
//!
//! The decisions (what changed, what to fetch, the next state) are pure functions in [`diff`],
//! [`plan`] and [`state`]; [`http`] and [`store`] are the edges (network, disk); [`sync`] runs
//! one ecosystem's sync through them. For `serve`: [`handle`] is the atomically swapped
//! knowledge, [`serve_sync`] the `[advisory-sync]` settings and one round over them,
//! [`rescan`] which packages a sync touched, [`status`] what `/healthz` reports of it.

pub mod diff;
pub mod digest;
pub mod handle;
pub mod http;
pub mod plan;
pub mod rescan;
pub mod serve_sync;
pub mod state;
pub mod status;
pub mod store;
pub mod sync;

pub use diff::{Changes, RecordMeta, diff};
pub use state::{EcosystemState, SyncState};
pub use sync::{Outcome, SyncError, SyncKind, SyncRequest, sync_ecosystem};

/// The sync state, next to the per-ecosystem record folders. The advisory reader skips it.
pub const STATE_FILE: &str = "state.json";

/// osv.dev's public bucket, which serves `<ECOSYSTEM>/all.zip` and `<ECOSYSTEM>/modified_id.csv`.
pub const OSV_DEV_MIRROR: &str = "https://osv-vulnerabilities.storage.googleapis.com";

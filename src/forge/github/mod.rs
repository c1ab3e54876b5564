//! GitHub, as the service sees it: a GitHub App ([`GitHubApp`]) that mints installation
//! tokens, and per installation a [`GitHubForge`] that implements [`crate::forge::hosted::Forge`]
//! over a plain HTTP client ([`transport`]). Blob contents are cached by id ([`BlobCache`]).

mod app;
mod blob_cache;
mod client;
mod http;
mod jwt;
mod route;
mod transport;
mod wire;

pub use app::{DEFAULT_API_BASE, GitHubApp, MIN_TOKEN_REUSE, TOKEN_REFRESH_MARGIN, renew_at};
pub use blob_cache::{BlobCache, CacheStats, DEFAULT_BLOB_CACHE_BYTES};
pub use client::{ANNOTATIONS_PER_REQUEST, GitHubForge};
pub use http::{classify, rate_limit};
pub use transport::{Timeouts, USER_AGENT_VALUE};

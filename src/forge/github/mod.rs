//! GitHub, as the service sees it: a GitHub App ([`GitHubApp`]) that mints installation
//! tokens, and per installation a [`GitHubForge`] that implements [`crate::forge::hosted::Forge`]
//! with octocrab. Blob contents are cached by id ([`BlobCache`]).

mod app;
mod blob_cache;
mod client;
mod http;
mod route;
mod wire;

pub use app::{DEFAULT_API_BASE, GitHubApp, TOKEN_REFRESH_MARGIN, token_is_fresh};
pub use blob_cache::{BlobCache, CacheStats, DEFAULT_BLOB_CACHE_BYTES};
pub use client::{ANNOTATIONS_PER_REQUEST, GitHubForge};
pub use http::classify;

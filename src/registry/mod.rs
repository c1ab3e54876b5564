//! Container registries over the OCI distribution API: which tags a repository has and which
//! digest a tag points to, fetched at the edge into plain [`RegistryFacts`] that the pure
//! pipeline reads (see DESIGN.md).
//!
//! Our own small client on the crate's hyper stack rather than `oci-client`: that crate brings
//! reqwest (a second HTTP/TLS stack), does not honour `Retry-After` and has no notion of
//! mirrors, which are the three things a bot scanning many repositories needs most.
//!
//! One job per module: [`reference`] (image name → registry host and repository path),
//! [`auth`] (credentials and `WWW-Authenticate` challenges), [`config`] (mirrors, credentials
//! file, cache TTL), [`cache`] (a pure TTL cache), [`client`] (the HTTP calls: tag lists,
//! manifest digests, manifests and blobs), [`facts`] (the pure data the pipeline reads: tags,
//! digests and what each base image's layers hold) and [`lookup`] (the edge that fills facts
//! for the images a scan found, through the caches; images are read with
//! [`crate::image::RegistryImage`] on a blocking thread).

pub mod auth;
pub mod cache;
pub mod client;
pub mod config;
pub mod facts;
pub mod lookup;
pub mod reference;

pub use client::{Blob, Descriptor, Manifest, Platform, RegistryClient, RegistryError};
pub use config::RegistryConfig;
pub use facts::{RegistryFacts, RepositoryFacts};
pub use lookup::Lookup;
pub use reference::Repository;

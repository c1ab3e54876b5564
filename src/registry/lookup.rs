//! The edge that fills [`RegistryFacts`] for the images a scan found: one tag list per
//! repository and one digest per tag in use, through a TTL cache so a service scanning many
//! repositories asks each registry once per TTL. Failures become facts (`error`), never a
//! failed scan.

use super::auth::CredentialStore;
use super::cache::TtlCache;
use super::client::{RegistryClient, RegistryError};
use super::config::RegistryConfig;
use super::facts::{ImageContents, RegistryFacts, content_key};
use super::reference::Repository;
use crate::image::{AnalyseOptions, LayerCache, RegistryImage, analyse};
use crate::manifest;
use crate::model::ImageRef;
use crate::snapshot::RepoSnapshot;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("{file}: cannot read the registry credentials file: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Credentials(#[from] super::auth::CredentialsError),
    #[error(transparent)]
    Client(#[from] RegistryError),
}

struct Caches {
    tags: TtlCache<Repository, Vec<String>>,
    digests: TtlCache<(Repository, String), String>,
    /// Images read, by [`content_key`]: a service scanning many repositories on one base image
    /// fetches its manifest once per TTL (and its layers once: see `layer_cache`).
    contents: TtlCache<String, ImageContents>,
}

pub struct Lookup {
    client: Arc<RegistryClient>,
    caches: Mutex<Caches>,
    config: RegistryConfig,
    /// Results per layer digest, on disk so a restart does not read layers again.
    layer_cache: LayerCache,
}

impl Lookup {
    /// A lookup with the configured mirrors and cache TTL; credentials from the configured file
    /// and the environment (`PATCHWRIGHT_REGISTRY_HOST/USERNAME/PASSWORD`).
    pub fn new(config: &RegistryConfig) -> Result<Lookup, LookupError> {
        let mut credentials = CredentialStore::default();
        if let Some(path) = &config.credentials_file {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|source| LookupError::Read {
                file: file.clone(),
                source,
            })?;
            credentials = CredentialStore::from_docker_config(&file, &text)?;
        }
        let credentials = credentials.with_env(|k| std::env::var(k).ok());
        Ok(Self::with_client(
            RegistryClient::new(config, credentials)?,
            config,
        ))
    }

    pub fn with_client(client: RegistryClient, config: &RegistryConfig) -> Lookup {
        let ttl =
            chrono::Duration::from_std(config.cache_ttl).unwrap_or(chrono::Duration::hours(1));
        let layer_cache = LayerCache::new(
            config
                .layer_cache
                .clone()
                .unwrap_or_else(crate::image::cache::default_dir),
        );
        Lookup {
            client: Arc::new(client),
            caches: Mutex::new(Caches {
                tags: TtlCache::new(ttl),
                digests: TtlCache::new(ttl),
                contents: TtlCache::new(ttl),
            }),
            config: config.clone(),
            layer_cache,
        }
    }

    /// The settings it was made with (`pin-digests`, `refresh-every-days`, …).
    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    /// The client, for manifests and blobs (the image layer readers).
    pub fn client(&self) -> &Arc<RegistryClient> {
        &self.client
    }

    /// Facts for every image the snapshot's files name, with their contents when images are
    /// read (`read-images`).
    pub async fn gather(&self, snapshot: &RepoSnapshot, now: DateTime<Utc>) -> RegistryFacts {
        let images = images_in(snapshot);
        let mut facts = self.facts_for(&images, now).await;
        if self.config.read_images {
            for image in &images {
                self.add_contents(&mut facts, image, now).await;
            }
        }
        facts
    }

    /// Reads `image`'s layers into `facts` unless they hold it already; `true` when contents
    /// were added (a failure is recorded too, but is nothing to scan again for).
    async fn add_contents(
        &self,
        facts: &mut RegistryFacts,
        image: &ImageRef,
        now: DateTime<Utc>,
    ) -> bool {
        let key = content_key(image);
        if facts.contents(image).is_some() {
            return false;
        }
        let contents = match self.cached(&key, now) {
            Some(contents) => contents,
            None => {
                let contents = self.read_image(image).await;
                // A failure is asked again next scan: the registry may be back.
                if let (ImageContents::Read(_), Ok(mut caches)) = (&contents, self.caches.lock()) {
                    caches.contents.purge(now);
                    caches.contents.insert(key, contents.clone(), now);
                }
                contents
            }
        };
        let read = matches!(contents, ImageContents::Read(_));
        facts.set_contents(image, contents);
        read
    }

    fn cached(&self, key: &str, now: DateTime<Utc>) -> Option<ImageContents> {
        self.caches
            .lock()
            .ok()
            .and_then(|c| c.contents.get(&key.to_string(), now).cloned())
    }

    /// The image's OS contents, read on a blocking thread (the layer reader is synchronous).
    async fn read_image(&self, image: &ImageRef) -> ImageContents {
        let client = Arc::clone(&self.client);
        let options = AnalyseOptions {
            platform: self.config.platform.clone(),
            max_layer_bytes: self.config.max_layer_bytes,
        };
        let cache = self.layer_cache.clone();
        let image = image.clone();
        let runtime = tokio::runtime::Handle::current();
        let read = tokio::task::spawn_blocking(move || {
            let source = RegistryImage::new(client, &image, runtime);
            analyse(&source, &options, Some(&cache))
        })
        .await;
        match read {
            Ok(Ok(analysed)) => ImageContents::Read(Arc::new(analysed)),
            Ok(Err(e)) => ImageContents::Failed(e.to_string()),
            Err(e) => ImageContents::Failed(format!("the image reader stopped: {e}")),
        }
    }

    /// Tags of each image's repository and the digest of each tag in use.
    pub async fn facts_for(&self, images: &[ImageRef], now: DateTime<Utc>) -> RegistryFacts {
        let mut facts = RegistryFacts::default();
        let mut by_repository: BTreeMap<String, (Repository, Vec<String>)> = BTreeMap::new();
        for image in images {
            let entry = by_repository
                .entry(image.canonical_name())
                .or_insert_with(|| (Repository::of(image), Vec::new()));
            if let Some(tag) = &image.tag
                && !entry.1.contains(tag)
            {
                entry.1.push(tag.clone());
            }
        }
        for (canonical, (repo, tags_in_use)) in by_repository {
            match self.tags(&repo, now).await {
                Ok(tags) => {
                    let listed: Vec<String> = tags_in_use
                        .into_iter()
                        .filter(|t| tags.contains(t))
                        .collect();
                    facts.repository_mut(&canonical).tags = Some(tags);
                    self.add_digests(&mut facts, &canonical, &repo, &listed, now)
                        .await;
                }
                Err(e) => facts.repository_mut(&canonical).error = Some(e.to_string()),
            }
        }
        facts
    }

    /// Fetches the digests `targets` need (see [`RegistryFacts::missing_digests`]); `true` when
    /// anything was added, so the scan is worth running again.
    pub async fn complete(
        &self,
        facts: &mut RegistryFacts,
        targets: &[ImageRef],
        now: DateTime<Utc>,
    ) -> bool {
        let mut added = false;
        for target in targets {
            let Some(tag) = &target.tag else { continue };
            let canonical = target.canonical_name();
            let before = facts.digest(&canonical, tag).is_some();
            self.add_digests(
                facts,
                &canonical,
                &Repository::of(target),
                std::slice::from_ref(tag),
                now,
            )
            .await;
            added |= !before && facts.digest(&canonical, tag).is_some();
            if self.config.read_images && facts.reads_images() {
                added |= self.add_contents(facts, target, now).await;
            }
        }
        added
    }

    async fn add_digests(
        &self,
        facts: &mut RegistryFacts,
        canonical: &str,
        repo: &Repository,
        tags: &[String],
        now: DateTime<Utc>,
    ) {
        for tag in tags {
            match self.digest(repo, tag, now).await {
                Ok(digest) => {
                    facts
                        .repository_mut(canonical)
                        .digests
                        .insert(tag.clone(), digest);
                }
                Err(e) => {
                    let entry = facts.repository_mut(canonical);
                    if entry.error.is_none() {
                        entry.error = Some(format!("digest of `{tag}`: {e}"));
                    }
                }
            }
        }
    }

    async fn tags(
        &self,
        repo: &Repository,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, RegistryError> {
        if let Some(tags) = self
            .caches
            .lock()
            .ok()
            .and_then(|c| c.tags.get(repo, now).cloned())
        {
            return Ok(tags);
        }
        let tags = self.client.tags(repo).await?;
        if let Ok(mut caches) = self.caches.lock() {
            caches.tags.purge(now);
            caches.tags.insert(repo.clone(), tags.clone(), now);
        }
        Ok(tags)
    }

    async fn digest(
        &self,
        repo: &Repository,
        tag: &str,
        now: DateTime<Utc>,
    ) -> Result<String, RegistryError> {
        let key = (repo.clone(), tag.to_string());
        if let Some(digest) = self
            .caches
            .lock()
            .ok()
            .and_then(|c| c.digests.get(&key, now).cloned())
        {
            return Ok(digest);
        }
        let digest = self.client.digest(repo, tag).await?;
        if let Ok(mut caches) = self.caches.lock() {
            caches.digests.purge(now);
            caches.digests.insert(key, digest.clone(), now);
        }
        Ok(digest)
    }
}

/// Every image reference the snapshot's files name (Dockerfiles, Compose, Kubernetes, …).
pub fn images_in(snapshot: &RepoSnapshot) -> Vec<ImageRef> {
    snapshot
        .files
        .iter()
        .filter_map(|(path, content)| {
            manifest::detect(path).map(|kind| manifest::parse(kind, path, content))
        })
        .flat_map(|m| m.dependencies.into_iter())
        .filter_map(|d| d.image.map(|site| site.reference))
        .collect()
}

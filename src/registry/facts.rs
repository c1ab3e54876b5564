//! What the registries said, as plain data the pure pipeline reads: the tags of each
//! repository and the digests of the tags asked about. Filled at the edge ([`super::lookup`]);
//! absent (`None` in `RunOptions`) when lookups are off, which the output says once.

use crate::image::{AnalysedImage, Distribution};
use crate::model::{Ecosystem, ImageRef};
use crate::report::Report;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Keyed by the image's canonical name (as the catalog names it: `node`, `ghcr.io/org/app`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegistryFacts {
    repositories: BTreeMap<String, RepositoryFacts>,
    /// What the images' layers hold, by [`content_key`]; empty when images are not read.
    contents: BTreeMap<String, ImageContents>,
}

/// What reading an image's layers gave: its OS packages (matched to advisories in the pure
/// pipeline, against the advisory database the scan has), or why it could not be read.
#[derive(Debug, Clone)]
pub enum ImageContents {
    Read(Arc<AnalysedImage>),
    Failed(String),
}

impl PartialEq for ImageContents {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ImageContents::Read(a), ImageContents::Read(b)) => {
                a.image_id == b.image_id && a.platform == b.platform
            }
            (ImageContents::Failed(a), ImageContents::Failed(b)) => a == b,
            _ => false,
        }
    }
}

/// `canonical:tag@digest`, the parts written: an image pinned by digest is the digest's
/// contents, and a rebuild of the same tag is another key.
pub fn content_key(image: &ImageRef) -> String {
    let mut key = image.canonical_name();
    if let Some(tag) = &image.tag {
        key.push(':');
        key.push_str(tag);
    }
    if let Some(digest) = &image.digest {
        key.push('@');
        key.push_str(digest);
    }
    key
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepositoryFacts {
    /// Every tag the registry lists; `None` when the list could not be fetched (see `error`).
    pub tags: Option<Vec<String>>,
    /// Digests by tag, for the tags asked about.
    pub digests: BTreeMap<String, String>,
    /// Why the repository could not be checked, for the report's note.
    pub error: Option<String>,
}

impl RegistryFacts {
    pub fn repository(&self, canonical: &str) -> Option<&RepositoryFacts> {
        self.repositories.get(canonical)
    }

    pub fn repository_mut(&mut self, canonical: &str) -> &mut RepositoryFacts {
        self.repositories.entry(canonical.to_string()).or_default()
    }

    /// The registry's tags of the image, `None` when they were not checked.
    pub fn tags(&self, canonical: &str) -> Option<&[String]> {
        self.repositories.get(canonical)?.tags.as_deref()
    }

    pub fn has_tag(&self, canonical: &str, tag: &str) -> Option<bool> {
        self.tags(canonical)
            .map(|tags| tags.iter().any(|t| t == tag))
    }

    pub fn digest(&self, canonical: &str, tag: &str) -> Option<&str> {
        self.repositories
            .get(canonical)?
            .digests
            .get(tag)
            .map(String::as_str)
    }

    /// The contents read for `image`: its exact reference, else the same tag without a digest
    /// (a fix target read by tag before its digest was known, which is the digest the registry
    /// gave for that tag in this scan).
    pub fn contents(&self, image: &ImageRef) -> Option<&ImageContents> {
        self.contents.get(&content_key(image)).or_else(|| {
            let tag = image.tag.as_ref()?;
            let digest = image.digest.as_deref()?;
            if self.digest(&image.canonical_name(), tag) != Some(digest) {
                return None;
            }
            let tag_only = ImageRef {
                digest: None,
                ..image.clone()
            };
            self.contents.get(&content_key(&tag_only))
        })
    }

    pub fn set_contents(&mut self, image: &ImageRef, contents: ImageContents) {
        self.contents.insert(content_key(image), contents);
    }

    /// Whether any image's layers were read (or tried): lookups read images.
    pub fn reads_images(&self) -> bool {
        !self.contents.is_empty()
    }

    /// `image: why` for every image whose OS advisories could not be checked: not read, or
    /// read without a known distribution. Never to be taken as clean.
    pub fn content_problems(&self) -> Vec<String> {
        self.contents
            .iter()
            .filter_map(|(key, c)| match c {
                ImageContents::Failed(why) => Some(format!("{key}: {why}")),
                ImageContents::Read(image) => match &image.os.distribution {
                    Distribution::Unknown { reason } => {
                        Some(format!("{key}: unknown distribution ({reason})"))
                    }
                    Distribution::Known { .. } => None,
                },
            })
            .collect()
    }

    /// `image: why` for every repository that could not be checked.
    pub fn problems(&self) -> Vec<String> {
        self.repositories
            .iter()
            .filter_map(|(name, r)| Some(format!("{name}: {}", r.error.as_ref()?)))
            .collect()
    }

    /// The image fix targets whose tag the registry lists but whose digest was not asked for
    /// yet, or whose contents were not read while the image they replace was: what a second
    /// round of lookups fetches so the fix can pin it and say what it clears.
    pub fn missing_digests(&self, report: &Report) -> Vec<ImageRef> {
        let mut wanted: Vec<ImageRef> = report
            .findings
            .iter()
            .filter(|f| f.ecosystem == Some(Ecosystem::Docker))
            .filter_map(|f| {
                let fix = f.fix.as_ref()?;
                let target = ImageRef::parse(&fix.to)?;
                let from_read = ImageRef::parse(&fix.from).is_some_and(|from| {
                    matches!(self.contents(&from), Some(ImageContents::Read(_)))
                });
                Some((target, from_read))
            })
            .filter(|(target, from_read)| {
                let Some(tag) = &target.tag else { return false };
                let name = target.canonical_name();
                self.has_tag(&name, tag) == Some(true)
                    && (self.digest(&name, tag).is_none()
                        || (*from_read && self.contents(target).is_none()))
            })
            .map(|(target, _)| target)
            .collect();
        wanted.sort_by_key(ToString::to_string);
        wanted.dedup();
        wanted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchecked_repositories_have_no_tags_and_say_why() {
        let mut facts = RegistryFacts::default();
        let node = facts.repository_mut("node");
        node.tags = Some(vec!["20-alpine".into()]);
        node.digests.insert("20-alpine".into(), "sha256:aa".into());
        facts.repository_mut("ghcr.io/x/y").error = Some("down".into());
        assert_eq!(facts.has_tag("node", "20-alpine"), Some(true));
        assert_eq!(facts.has_tag("node", "22-alpine"), Some(false));
        assert_eq!(facts.has_tag("python", "3"), None);
        assert_eq!(facts.tags("ghcr.io/x/y"), None);
        assert_eq!(facts.digest("node", "20-alpine"), Some("sha256:aa"));
        assert_eq!(facts.problems(), ["ghcr.io/x/y: down"]);
    }

    #[test]
    fn contents_of_a_pin_are_the_tags_only_when_the_registry_gave_that_digest() {
        let mut facts = RegistryFacts::default();
        let tag = ImageRef::parse("debian:12.11").unwrap();
        facts.set_contents(&tag, ImageContents::Failed("x".into()));
        facts
            .repository_mut("debian")
            .digests
            .insert("12.11".into(), "sha256:new".into());
        let pinned_new = ImageRef::parse("debian:12.11@sha256:new").unwrap();
        let pinned_old = ImageRef::parse("debian:12.11@sha256:old").unwrap();
        assert!(facts.contents(&pinned_new).is_some());
        // An older build of the tag is another image: not the tag's contents.
        assert!(facts.contents(&pinned_old).is_none());
        assert!(facts.reads_images());
        assert_eq!(facts.content_problems(), ["debian:12.11: x"]);
        assert_eq!(content_key(&pinned_old), "debian:12.11@sha256:old");
    }
}

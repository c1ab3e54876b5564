//! What the registries said, as plain data the pure pipeline reads: the tags of each
//! repository and the digests of the tags asked about. Filled at the edge ([`super::lookup`]);
//! absent (`None` in `RunOptions`) when lookups are off, which the output says once.

use crate::model::{Ecosystem, ImageRef};
use crate::report::Report;
use std::collections::BTreeMap;

/// Keyed by the image's canonical name (as the catalog names it: `node`, `ghcr.io/org/app`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegistryFacts {
    repositories: BTreeMap<String, RepositoryFacts>,
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

    /// `image: why` for every repository that could not be checked.
    pub fn problems(&self) -> Vec<String> {
        self.repositories
            .iter()
            .filter_map(|(name, r)| Some(format!("{name}: {}", r.error.as_ref()?)))
            .collect()
    }

    /// The image fix targets whose tag the registry lists but whose digest was not asked for
    /// yet: what a second round of lookups fetches so the fix can pin it.
    pub fn missing_digests(&self, report: &Report) -> Vec<ImageRef> {
        let mut wanted: Vec<ImageRef> = report
            .findings
            .iter()
            .filter(|f| f.ecosystem == Some(Ecosystem::Docker))
            .filter_map(|f| ImageRef::parse(&f.fix.as_ref()?.to))
            .filter(|target| {
                let Some(tag) = &target.tag else { return false };
                let name = target.canonical_name();
                self.has_tag(&name, tag) == Some(true) && self.digest(&name, tag).is_none()
            })
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
}

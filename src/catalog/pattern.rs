//! Glob patterns on full image tags (`20.*`, `18.20.*-alpine`, `16*`), as the catalog writes them.

use std::fmt;

use globset::{Glob, GlobBuilder, GlobMatcher};

/// A compiled tag pattern. `*` matches any run of characters, `?` one character, `[abc]` a
/// class, `{a,b}` alternatives; everything else is literal and case-sensitive, as tags are.
#[derive(Debug, Clone)]
pub struct TagPattern {
    text: String,
    matcher: GlobMatcher,
}

/// A pattern that does not compile; the message comes from `globset`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid tag pattern: {reason}")]
pub struct PatternError {
    pub text: String,
    pub reason: String,
}

impl TagPattern {
    pub fn new(text: &str) -> Result<TagPattern, PatternError> {
        let error = |reason: String| PatternError {
            text: text.to_string(),
            reason,
        };
        if text.trim().is_empty() {
            return Err(error("it is empty".to_string()));
        }
        if text.contains(['/', ':', '@']) {
            return Err(error(
                "a tag pattern matches the tag only; leave out the image name and digest"
                    .to_string(),
            ));
        }
        let glob: Glob = GlobBuilder::new(text)
            .literal_separator(false)
            .backslash_escape(true)
            .build()
            .map_err(|e| error(e.kind().to_string()))?;
        Ok(TagPattern {
            text: text.to_string(),
            matcher: glob.compile_matcher(),
        })
    }

    pub fn matches(&self, tag: &str) -> bool {
        self.matcher.is_match(tag)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for TagPattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for TagPattern {}

impl fmt::Display for TagPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_tags() {
        let p = TagPattern::new("18.20.*").unwrap();
        assert!(p.matches("18.20.4-alpine"));
        assert!(!p.matches("18.2.0"));
        assert!(!p.matches("v18.20.4"));
        let p = TagPattern::new("16*").unwrap();
        assert!(p.matches("16"));
        assert!(p.matches("16.20.2-bullseye"));
        assert!(!p.matches("8-16"));
        assert!(
            TagPattern::new("{20,22}.*-alpine")
                .unwrap()
                .matches("22.1.0-alpine")
        );
    }

    #[test]
    fn rejects_broken_patterns() {
        let e = TagPattern::new("20.[").unwrap_err();
        assert_eq!(e.text, "20.[");
        assert!(e.reason.contains("unclosed"), "{e}");
        assert!(TagPattern::new("node:20").is_err());
        assert!(TagPattern::new(" ").is_err());
    }
}

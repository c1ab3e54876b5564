//! package-lock.json / npm-shrinkwrap.json, lockfileVersion 1, 2 and 3.

use crate::model::ParsedManifest;

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    let _ = source;
    ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    }
}

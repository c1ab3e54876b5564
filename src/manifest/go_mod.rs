//! go.mod and go.sum.

use crate::model::ParsedManifest;

pub fn parse_go_mod(file: &str, source: &str) -> ParsedManifest {
    let _ = source;
    ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    }
}

pub fn parse_go_sum(file: &str, source: &str) -> ParsedManifest {
    let _ = source;
    ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    }
}

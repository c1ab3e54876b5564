//! Package names as each ecosystem compares them.

use crate::model::Ecosystem;

/// The form two names must share to be the same package: PyPI per PEP 503 (lowercase, runs
/// of `-`, `_`, `.` become one `-`), so `Jinja2`, `jinja2` and `zope.interface`/
/// `zope_interface` meet; Packagist names case-insensitively (Composer lowercases them); npm,
/// crates.io, Go and RubyGems names compare exactly; docker names are
/// expected already canonical ([`ImageRef::canonical_name`](crate::model::ImageRef::canonical_name)).
pub fn normalize_name(eco: Ecosystem, name: &str) -> String {
    let name = name.trim();
    match eco {
        Ecosystem::PyPI => {
            let mut out = String::with_capacity(name.len());
            let mut in_separator_run = false;
            for c in name.chars() {
                if matches!(c, '-' | '_' | '.') {
                    if !in_separator_run {
                        out.push('-');
                    }
                    in_separator_run = true;
                } else {
                    out.extend(c.to_lowercase());
                    in_separator_run = false;
                }
            }
            out
        }
        Ecosystem::Packagist => name.to_ascii_lowercase(),
        Ecosystem::CratesIo
        | Ecosystem::Npm
        | Ecosystem::Go
        | Ecosystem::Docker
        | Ecosystem::RubyGems
        | Ecosystem::Debian
        | Ecosystem::Ubuntu
        | Ecosystem::Alpine => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pypi_names_follow_pep_503() {
        assert_eq!(normalize_name(Ecosystem::PyPI, "Jinja2"), "jinja2");
        assert_eq!(
            normalize_name(Ecosystem::PyPI, "Flask_Caching"),
            "flask-caching"
        );
        assert_eq!(
            normalize_name(Ecosystem::PyPI, "zope.._-interface"),
            "zope-interface"
        );
        assert_eq!(
            normalize_name(Ecosystem::Npm, "@Cypress/request"),
            "@Cypress/request"
        );
        assert_eq!(
            normalize_name(Ecosystem::CratesIo, "serde_json"),
            "serde_json"
        );
    }
}

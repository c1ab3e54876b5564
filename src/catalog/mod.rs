//! The curated catalog (TOML) and advisories (OSV JSON), and version ordering per ecosystem.

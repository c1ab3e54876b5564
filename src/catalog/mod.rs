//! The curated catalog (TOML) and advisories (OSV JSON), and version ordering per ecosystem.
//!
//! - [`version`]: [`Version`] per ecosystem, [`parse_version`], [`Constraint`].
//! - [`osv`] and [`advisory_db`]: OSV records validated once at load time into [`Advisory`],
//!   merged across aliases, matched by [`AdvisoryDb`].
//! - [`file`]: the catalog TOML ([`parse_catalog`], [`load_catalog`]) into [`Catalog`].
//! - [`tag`] and [`pattern`]: image tags taken apart, and tag glob patterns.

pub mod advisory_db;
pub mod apk_version;
pub mod composer_version;
pub mod dpkg_version;
pub mod file;
pub mod gem_version;
pub mod name;
pub mod osv;
pub mod pattern;
pub mod severity;
pub mod tag;
mod toml_reader;
pub mod version;

pub use advisory_db::{AdvisoryDb, LoadedAdvisories, read_json_records};
pub use file::{
    Catalog, CatalogError, EolRule, EolStatus, ImageRule, PackageRule, VulnerableRule,
    load_catalog, parse_catalog,
};
pub use name::normalize_name;
pub use osv::{Advisory, Affected, AffectedRange, RangeEvent, osv_release, split_ecosystem};
pub use pattern::{PatternError, TagPattern};
pub use severity::{SeverityInfo, cvss_base_score};
pub use tag::{TagParts, TagVersion, parse_tag, variant_family};
pub use version::{Clause, Constraint, ConstraintError, Op, Version, VersionError, parse_version};

//! The organisation's policy: tiers of repositories and the levels each tier gives.

use crate::model::{Level, RuleId, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `[policy]` table of the organisation's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct OrgPolicy {
    /// The tier of a repository whose config names none.
    pub default_tier: String,
    /// The longest exception anyone may grant, in days from the day it is granted.
    pub max_exception_days: u32,
    pub tiers: BTreeMap<String, Tier>,
    /// Days to fix a blocker, per severity, counted from when it was first seen.
    pub sla_days: SlaDays,
    /// Who is assigned the tracking issue and asked to review fix PRs when CODEOWNERS names
    /// nobody for a file: `@user`, `@org/team` or an email address.
    pub fallback_owners: Vec<String>,
}

/// How strict one class of repository is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Tier {
    /// Advisories at or above this severity block.
    pub block_severity: Severity,
    /// Advisories at or above this severity (and below `block_severity`) warn; the rest are info.
    #[serde(default = "default_warn_severity")]
    pub warn_severity: Severity,
    /// The level of an advisory whose severity nobody has rated.
    #[serde(default = "default_unknown_severity_level")]
    pub unknown_severity: Level,
    /// Per-rule levels, overriding the rule's default (and, for advisory rules, the thresholds).
    #[serde(default)]
    pub rules: BTreeMap<RuleId, Level>,
}

fn default_warn_severity() -> Severity {
    Severity::Low
}

fn default_unknown_severity_level() -> Level {
    Level::Warning
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct SlaDays {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
}

impl Default for SlaDays {
    fn default() -> SlaDays {
        SlaDays {
            critical: 7,
            high: 30,
            medium: 90,
            low: 180,
        }
    }
}

impl SlaDays {
    pub fn for_severity(&self, severity: Severity) -> u32 {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium | Severity::Unknown => self.medium,
            Severity::Low => self.low,
        }
    }
}

impl Default for OrgPolicy {
    /// Two tiers that most organisations start from: services reachable from the internet block
    /// on high and critical advisories, internal tools only on critical ones.
    fn default() -> OrgPolicy {
        let mut tiers = BTreeMap::new();
        tiers.insert(
            "internet-facing".to_string(),
            Tier {
                block_severity: Severity::High,
                warn_severity: Severity::Low,
                unknown_severity: Level::Warning,
                rules: BTreeMap::new(),
            },
        );
        tiers.insert(
            "internal-tool".to_string(),
            Tier {
                block_severity: Severity::Critical,
                warn_severity: Severity::Medium,
                unknown_severity: Level::Warning,
                rules: BTreeMap::from([(RuleId::RunsAsRoot, Level::Info)]),
            },
        );
        OrgPolicy {
            default_tier: "internet-facing".to_string(),
            max_exception_days: 90,
            tiers,
            sla_days: SlaDays::default(),
            fallback_owners: Vec::new(),
        }
    }
}

impl OrgPolicy {
    /// Checks what serde cannot: the default tier exists. Returns a message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if !self.tiers.contains_key(&self.default_tier) {
            return Err(format!(
                "policy.default-tier: `{}` is not one of the tiers defined under [policy.tiers] ({})",
                self.default_tier,
                self.tier_names().join(", ")
            ));
        }
        for (name, tier) in &self.tiers {
            if tier.warn_severity > tier.block_severity {
                return Err(format!(
                    "policy.tiers.{name}.warn-severity: `{}` is above block-severity `{}`",
                    tier.warn_severity, tier.block_severity
                ));
            }
        }
        // Checked here rather than when first needed: a typo would otherwise surface only
        // when a file with no code owner gets a fix, as a review request GitHub refuses.
        for (i, owner) in self.fallback_owners.iter().enumerate() {
            if !crate::owners::is_owner(owner) {
                return Err(format!(
                    "policy.fallback-owners[{i}]: `{owner}` is not `@user`, `@org/team` or an email address"
                ));
            }
        }
        Ok(())
    }

    pub fn tier_names(&self) -> Vec<&str> {
        self.tiers.keys().map(String::as_str).collect()
    }

    /// The tier named `name`, or the default tier when `name` is `None`.
    pub fn tier(&self, name: Option<&str>) -> Option<(&str, &Tier)> {
        let name = name.unwrap_or(&self.default_tier);
        self.tiers.get_key_value(name).map(|(k, v)| (k.as_str(), v))
    }
}

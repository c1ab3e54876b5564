//! Loads the organisation configuration, the catalog and the advisories for a CLI run.

use super::CommonArgs;
use crate::catalog::{AdvisoryDb, Catalog};
use crate::pipeline::Knowledge;
use crate::policy::OrgPolicy;
use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The keys of the organisation configuration the CLI reads: `catalog-path` (or `catalog`),
/// `advisories-path` (or `advisories`) and `[policy]`, as in the service's configuration, so one
/// file serves both; the service's other keys are ignored here.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct OrgConfig {
    #[serde(alias = "catalog-path")]
    catalog: Option<PathBuf>,
    #[serde(default, alias = "advisories-path")]
    advisories: Advisories,
    #[serde(default)]
    policy: OrgPolicy,
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Advisories {
    #[default]
    None,
    One(PathBuf),
    Many(Vec<PathBuf>),
}

pub fn load(args: &CommonArgs) -> anyhow::Result<Knowledge> {
    let (config, base) = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the configuration {}", path.display()))?;
            let config: OrgConfig = toml::from_str(&text).map_err(|e| {
                let line = e.span().map_or(0, |s| {
                    text[..s.start.min(text.len())].lines().count().max(1)
                });
                anyhow::anyhow!("{}:{line}: {}", path.display(), e.message().trim())
            })?;
            (
                config,
                path.parent().map(Path::to_path_buf).unwrap_or_default(),
            )
        }
        None => (OrgConfig::default(), PathBuf::new()),
    };
    if let Err(message) = config.policy.validate() {
        bail!(
            "{}: {message}",
            args.config
                .as_deref()
                .unwrap_or(Path::new("policy"))
                .display()
        );
    }

    let catalog_path = args
        .catalog
        .clone()
        .or_else(|| config.catalog.map(|p| base.join(p)));
    let catalog = match catalog_path {
        Some(path) => crate::catalog::load_catalog(&path).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::anyhow!(
                "the catalog has {} error(s):\n{}",
                errors.len(),
                lines.join("\n")
            )
        })?,
        None => Catalog::empty(),
    };

    let advisory_dirs: Vec<PathBuf> = if !args.advisories.is_empty() {
        args.advisories.clone()
    } else {
        match config.advisories {
            Advisories::None => Vec::new(),
            Advisories::One(p) => vec![base.join(p)],
            Advisories::Many(ps) => ps.into_iter().map(|p| base.join(p)).collect(),
        }
    };
    if let Some(missing) = advisory_dirs.iter().find(|dir| !dir.exists()) {
        bail!("advisories: {} does not exist", missing.display());
    }
    let loaded = AdvisoryDb::load_dirs(&advisory_dirs);
    for e in &loaded.unreadable {
        eprintln!("warning: {e}");
    }
    for e in &loaded.skipped {
        eprintln!("warning: advisory skipped: {e}");
    }
    let advisories = loaded.db;
    if advisory_dirs.is_empty() {
        eprintln!(
            "note: no advisories given (--advisories DIR or `advisories` in --config): vulnerability matching is off"
        );
    }
    Ok(Knowledge {
        catalog,
        advisories,
        policy: config.policy,
    })
}

//! `patchwright report`: the remediation figures over a store, as text or JSON.

use crate::policy::OrgPolicy;
use crate::remediation::{Window, figures, text};
use crate::store::{Store, history};
use anyhow::{Context, bail};
use chrono::{TimeDelta, Utc};
use clap::{Args, ValueEnum};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The store the service writes (`sqlite://patchwright.db` or `postgres://…`).
    #[arg(long, env = "DATABASE_URL")]
    pub database: String,
    /// Organisation configuration: its `[policy.sla-days]` sets the SLAs (defaults otherwise).
    #[arg(long, env = "PATCHWRIGHT_CONFIG")]
    pub config: Option<PathBuf>,
    /// The period the outcome figures look back over, in days (`90d`).
    #[arg(long, default_value = "90d", value_parser = Window::parse)]
    pub since: Window,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Rebuild the daily snapshots of the period from the history first.
    #[arg(long)]
    pub rebuild_snapshots: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

/// Only `[policy]` of the organisation configuration; the service's other keys are ignored.
#[derive(Debug, Default, Deserialize)]
struct PolicyOnly {
    #[serde(default)]
    policy: OrgPolicy,
}

fn load_policy(path: Option<&Path>) -> anyhow::Result<OrgPolicy> {
    let Some(path) = path else {
        return Ok(OrgPolicy::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration {}", path.display()))?;
    // Unknown keys are the service's; only `[policy]` is checked here.
    let value: toml::Table = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(0, |s| {
            text[..s.start.min(text.len())].lines().count().max(1)
        });
        anyhow::anyhow!("{}:{line}: {}", path.display(), e.message().trim())
    })?;
    let policy = match value.get("policy") {
        Some(policy) => PolicyOnly {
            policy: policy.clone().try_into().map_err(|e: toml::de::Error| {
                anyhow::anyhow!("{}: [policy]: {}", path.display(), e.message().trim())
            })?,
        },
        None => PolicyOnly::default(),
    };
    if let Err(message) = policy.policy.validate() {
        bail!("{}: {message}", path.display());
    }
    Ok(policy.policy)
}

pub fn run(args: ReportArgs) -> anyhow::Result<u8> {
    let policy = load_policy(args.config.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let now = Utc::now();
    let figures = runtime.block_on(async {
        let store = Store::connect_with(&args.database, 2).await?;
        let from = (now - TimeDelta::days(args.since.days)).date_naive();
        if args.rebuild_snapshots {
            history::rebuild_snapshots(&store, from, now.date_naive()).await?;
        }
        let data = history::dataset(&store, None, from).await?;
        store.close().await;
        anyhow::Ok(figures(&data, &policy.sla_days, now, args.since))
    })?;
    match args.format {
        ReportFormat::Text => print!("{}", text::render(&figures)),
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&figures)?),
    }
    Ok(super::EXIT_OK)
}

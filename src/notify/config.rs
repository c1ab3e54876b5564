//! The `[notifications]` table of the service configuration.

use super::Horizon;
use crate::infra::secret::Secret;
use chrono::TimeDelta;
use serde::Deserialize;

/// Where the webhook URL comes from when the table does not hold it: Slack's incoming webhook
/// URLs carry their token in the path, so they are secrets.
pub const WEBHOOK_URL_ENV: &str = "PATCHWRIGHT_NOTIFICATIONS_WEBHOOK_URL";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawNotifications {
    #[serde(default = "yes")]
    enabled: bool,
    webhook_url: Option<String>,
    #[serde(default = "default_interval")]
    interval_minutes: u32,
    #[serde(default = "default_sla_days")]
    sla_due_days: u32,
    #[serde(default = "default_exception_days")]
    exception_days: u32,
}

fn yes() -> bool {
    true
}
fn default_interval() -> u32 {
    60
}
fn default_sla_days() -> u32 {
    7
}
fn default_exception_days() -> u32 {
    14
}

/// The validated `[notifications]` table.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// The Slack-compatible incoming webhook; its `Debug` hides it.
    pub webhook_url: Secret,
    /// At most one message per installation within this.
    pub interval: TimeDelta,
    pub horizon: Horizon,
}

impl NotifyConfig {
    /// Reads the table (`None` when `enabled = false`); the URL may instead come from
    /// [`WEBHOOK_URL_ENV`] (`env` looks it up). Returns a message naming the key on error.
    pub fn from_toml(
        value: toml::Value,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<NotifyConfig>, String> {
        let raw: RawNotifications = value
            .try_into()
            .map_err(|e: toml::de::Error| e.message().trim_end().to_string())?;
        if !raw.enabled {
            return Ok(None);
        }
        let url = raw
            .webhook_url
            .or_else(|| env(WEBHOOK_URL_ENV))
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                format!("`webhook-url` is missing: set it here or in {WEBHOOK_URL_ENV}")
            })?;
        match url::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => {}
            // The URL itself is not repeated: it holds the webhook's token.
            _ => return Err("webhook-url: not an http(s) URL".to_string()),
        }
        if !(1..=7 * 24 * 60).contains(&raw.interval_minutes) {
            return Err(format!(
                "interval-minutes: {} is out of range (1 to 10080, a week)",
                raw.interval_minutes
            ));
        }
        for (key, days) in [
            ("sla-due-days", raw.sla_due_days),
            ("exception-days", raw.exception_days),
        ] {
            if days > 365 {
                return Err(format!("{key}: {days} is out of range (0 to 365)"));
            }
        }
        Ok(Some(NotifyConfig {
            webhook_url: Secret::new(url),
            interval: TimeDelta::minutes(i64::from(raw.interval_minutes)),
            horizon: Horizon {
                sla_due_days: i64::from(raw.sla_due_days),
                exception_days: i64::from(raw.exception_days),
            },
        }))
    }
}

//! Chat notifications (optional, `[notifications]`): a new blocker on a default branch, a
//! blocker's SLA due within a few days, an exception about to expire. Sent to a
//! Slack-compatible incoming webhook, batched into at most one message per interval per
//! installation, each item at most once.
//!
//! What to send is a pure function of the installation's history, what was sent before and
//! `now` ([`items`], [`choose`], [`message`]); the store and the HTTP call live in [`run`] and
//! [`deliver`].

pub mod config;
pub mod deliver;
pub mod run;

#[cfg(test)]
mod tests;

pub use config::NotifyConfig;

use crate::policy::SlaDays;
use crate::remediation::figures::{SlaState, sla_state};
use crate::remediation::{Dataset, exposures};
use crate::store::notifications::NotifyState;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// A message carries at most this many items; the rest wait for the next interval (they are
/// not marked sent, so none is lost).
pub const MAX_ITEMS: usize = 50;

/// What an item tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    NewBlocker,
    SlaDue,
    ExceptionExpiring,
}

impl ItemKind {
    fn heading(self) -> &'static str {
        match self {
            ItemKind::NewBlocker => "New blockers on default branches",
            ItemKind::SlaDue => "Blocker SLAs due soon",
            ItemKind::ExceptionExpiring => "Exceptions about to expire",
        }
    }
}

/// One thing worth telling.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Item {
    pub kind: ItemKind,
    /// What deduplicates it: the same key is never sent twice. A finding fixed and back, or an
    /// exception renewed, is a new key.
    pub key: String,
    pub repository: String,
    /// One line of text, without the repository.
    pub text: String,
}

/// How far ahead the notifier looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    /// A blocker whose SLA runs out within this many days (and has not yet).
    pub sla_due_days: i64,
    /// An exception in force whose last day is within this many days.
    pub exception_days: i64,
}

/// Everything worth telling about `data` (one installation's repositories) at `now`. Blockers
/// opened before `since` (when notifications began for the installation) are not new.
pub fn items(
    data: &Dataset,
    sla: &SlaDays,
    horizon: Horizon,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<Item> {
    let names: BTreeMap<i64, &str> = data
        .repositories
        .iter()
        .map(|r| (r.id, r.full_name.as_str()))
        .collect();
    let name = |id: i64| names.get(&id).copied().unwrap_or("").to_string();
    let today = now.date_naive();
    let mut out = Vec::new();
    for e in exposures(&data.events)
        .iter()
        .filter(|e| e.is_open() && e.level == "blocker")
    {
        let what = if e.advisory.is_empty() {
            format!("{} ({})", e.package, e.key)
        } else {
            format!("{} {} ({})", e.package, e.advisory, e.severity)
        };
        if e.opened_at >= since && e.opened_at <= now {
            out.push(Item {
                kind: ItemKind::NewBlocker,
                key: format!(
                    "blocker:{}:{}:{}",
                    e.repository_id,
                    e.key,
                    e.opened_at.timestamp_millis()
                ),
                repository: name(e.repository_id),
                text: format!("{what} since {}", e.opened_at.format("%Y-%m-%d %H:%M UTC")),
            });
        }
        if let Some((due, state)) = sla_state(e, sla, now)
            && state != SlaState::Breached
            && (due - today).num_days() <= horizon.sla_due_days
        {
            out.push(Item {
                kind: ItemKind::SlaDue,
                key: format!(
                    "sla:{}:{}:{}",
                    e.repository_id,
                    e.key,
                    e.clock_start.timestamp_millis()
                ),
                repository: name(e.repository_id),
                text: format!("{what} is due {due}"),
            });
        }
    }
    for a in data.accepted_risks.iter().filter(|a| a.in_force(today)) {
        if (a.until - today).num_days() <= horizon.exception_days {
            out.push(Item {
                kind: ItemKind::ExceptionExpiring,
                key: format!("exception:{}:{}", a.id, a.until),
                repository: name(a.repository_id),
                text: format!(
                    "{} (granted by @{}) covers until {}",
                    a.target, a.granted_by, a.until
                ),
            });
        }
    }
    out.sort();
    out
}

/// What one turn of an installation sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// A message with these items (never empty, at most [`MAX_ITEMS`]).
    Send(Vec<Item>),
    /// Nothing new to tell.
    Nothing,
    /// A message went out less than an interval ago: the next may go at this time.
    Wait(DateTime<Utc>),
}

/// The items of `candidates` not yet sent, when a message may go out at `now`: at most one
/// message per `interval` per installation.
pub fn choose(
    candidates: Vec<Item>,
    sent: &HashSet<String>,
    state: &NotifyState,
    interval: TimeDelta,
    now: DateTime<Utc>,
) -> Choice {
    if let Some(last) = state.last_sent
        && last + interval > now
    {
        return Choice::Wait(last + interval);
    }
    let mut seen = HashSet::new();
    let fresh: Vec<Item> = candidates
        .into_iter()
        .filter(|i| !sent.contains(&i.key) && seen.insert(i.key.clone()))
        .take(MAX_ITEMS)
        .collect();
    if fresh.is_empty() {
        Choice::Nothing
    } else {
        Choice::Send(fresh)
    }
}

/// How long to wait after `failures` failed deliveries in a row: a minute, doubling, at most
/// `interval` (a failing webhook is tried at least once an interval).
pub fn backoff(failures: u32, interval: TimeDelta) -> TimeDelta {
    let minutes = 1i64 << failures.saturating_sub(1).min(20);
    TimeDelta::minutes(minutes).min(interval)
}

/// The Slack-compatible body (`{"text": …}`, Slack's mrkdwn; Mattermost, Rocket.Chat and
/// Teams' Slack-compatible webhooks read the same field).
pub fn message(account: &str, items: &[Item]) -> serde_json::Value {
    let mut text = format!("*patchwright* — {account}\n");
    let mut kinds: Vec<ItemKind> = items.iter().map(|i| i.kind).collect();
    kinds.dedup();
    for kind in kinds {
        text.push_str(&format!("\n*{}*\n", kind.heading()));
        for i in items.iter().filter(|i| i.kind == kind) {
            text.push_str(&format!(
                "• {}: {}\n",
                escape(&i.repository),
                escape(&i.text)
            ));
        }
    }
    serde_json::json!({ "text": text })
}

/// Slack's three control characters in mrkdwn; everything else is sent as it is.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

//! The notifier's turn per installation: store and webhook at the edge, the choice in between
//! ([`super::items`], [`super::choose`]). Runs in its own task beside the job pool: a slow or
//! failing webhook delays only the next message, never a scan.

use super::deliver::Webhook;
use super::{Choice, NotifyConfig, backoff, choose, items, message};
use crate::infra::clock::Clock;
use crate::policy::SlaDays;
use crate::store::notifications::{self, NotifyState};
use crate::store::{Store, StoreError, history, installations};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the service's notifier looks at the installations' turns.
pub const TICK: Duration = Duration::from_secs(60);
/// How long a claimed turn stays with its replica if it never settles (a crash mid-turn).
const CLAIM: TimeDelta = TimeDelta::minutes(5);
/// With nothing new to tell, the installation's history is read again after this (or the
/// interval, when shorter): new blockers wait at most this long on top of the batching.
const RECHECK: TimeDelta = TimeDelta::minutes(5);

/// What one pass over the installations did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickSummary {
    /// Messages delivered, and the items they carried.
    pub messages: usize,
    pub items: usize,
    /// Deliveries that failed (to be retried after a backoff).
    pub failures: usize,
}

pub struct Notifier {
    pub store: Store,
    pub config: NotifyConfig,
    pub sla: SlaDays,
    pub webhook: Webhook,
}

impl Notifier {
    /// One pass: each installation whose turn is due sends what it has not sent yet, unless it
    /// sent a message less than an interval ago.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<TickSummary, StoreError> {
        let pool = self.store.pool();
        let mut by_installation: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for r in installations::sweepable_repositories(pool).await? {
            by_installation
                .entry(r.installation_id)
                .or_default()
                .push(r.id);
        }
        // Blockers found before notifications were turned on are not news; an installation
        // added since then is watched from its start, so its first scan is told.
        let began = notifications::began(pool).await?.unwrap_or(now);
        let mut summary = TickSummary::default();
        for (installation_id, created_at) in notifications::active_installations(pool).await? {
            let state = {
                let mut conn = pool.acquire().await?;
                let since = created_at.max(began).min(now);
                notifications::ensure_state(&mut conn, installation_id, since).await?
            };
            let Some(repositories) = by_installation.get(&installation_id) else {
                continue;
            };
            self.turn(&state, repositories, now, &mut summary).await?;
        }
        Ok(summary)
    }

    async fn turn(
        &self,
        state: &NotifyState,
        repositories: &[i64],
        now: DateTime<Utc>,
        summary: &mut TickSummary,
    ) -> Result<(), StoreError> {
        let pool = self.store.pool();
        let installation_id = state.installation_id;
        if state.next_attempt > now
            || !notifications::claim(pool, installation_id, now, now + CLAIM).await?
        {
            return Ok(());
        }
        // Only events and exceptions are needed: no snapshot rows (from tomorrow on: none).
        let tomorrow = (now + TimeDelta::days(1)).date_naive();
        let data = history::dataset(&self.store, Some(repositories), tomorrow).await?;
        let candidates = items(&data, &self.sla, self.config.horizon, state.since, now);
        let sent = notifications::sent_keys(pool, installation_id).await?;
        let chosen = match choose(candidates, &sent, state, self.config.interval, now) {
            Choice::Send(chosen) => chosen,
            Choice::Nothing => {
                let next = now + RECHECK.min(self.config.interval);
                return notifications::settle(pool, installation_id, state.failures, next).await;
            }
            Choice::Wait(until) => {
                return notifications::settle(pool, installation_id, state.failures, until).await;
            }
        };
        let account = data
            .repositories
            .first()
            .and_then(|r| r.full_name.split_once('/'))
            .map_or_else(
                || format!("installation {installation_id}"),
                |(o, _)| o.to_string(),
            );
        match self.webhook.post(&message(&account, &chosen)).await {
            Ok(()) => {
                let keys: Vec<String> = chosen.iter().map(|i| i.key.clone()).collect();
                let mut tx = self.store.begin().await?;
                notifications::record_sent(
                    &mut tx,
                    installation_id,
                    &keys,
                    now,
                    now + self.config.interval,
                )
                .await?;
                tx.commit().await?;
                summary.messages += 1;
                summary.items += keys.len();
            }
            Err(e) => {
                let failures = state.failures.saturating_add(1);
                let retry = now + backoff(failures, self.config.interval);
                tracing::warn!(installation_id, failures, %retry, error = %e,
                    "notification not delivered; retrying after a backoff");
                notifications::settle(pool, installation_id, failures, retry).await?;
                summary.failures += 1;
            }
        }
        Ok(())
    }

    /// Ticks every `every` until `stop` turns true. A failed tick is logged and the next one
    /// tries again.
    pub async fn run(
        self: Arc<Self>,
        clock: Arc<dyn Clock>,
        every: Duration,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            match self.tick(clock.now()).await {
                Ok(s) if s.messages > 0 || s.failures > 0 => {
                    tracing::info!(
                        messages = s.messages,
                        items = s.items,
                        failures = s.failures,
                        "notifications"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "notifications: cannot read the store"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                }
            }
        }
    }
}

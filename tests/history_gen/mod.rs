//! A generated remediation history: `repos` repositories over a year of findings opened,
//! fixed, excepted and reopened, and fix PRs merged, declined and superseded. Deterministic
//! (a fixed-seed generator), written through the store's own functions. Shared by
//! tests/remediation_history.rs and benches/dashboard.rs.

#![allow(dead_code)]

use chrono::{DateTime, TimeDelta, Utc};
use patchwright::store::Store;
use patchwright::store::fix_prs::{self, OpenedFixPr};
use patchwright::store::history::{self, EventKind, FindingEvent};
use patchwright::store::installations::{self, RepositoryUpsert};

pub const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];
pub const PACKAGES: [&str; 6] = [
    "lodash", "openssl", "express", "requests", "debian", "jackson",
];

/// One exposure as the generator decided it.
#[derive(Debug, Clone)]
pub struct Planned {
    pub repo: i64,
    pub key: String,
    pub advisory: String,
    pub package: String,
    pub severity: &'static str,
    pub level: &'static str,
    pub open: DateTime<Utc>,
    /// When it closed, and whether an exception closed it.
    pub close: Option<(DateTime<Utc>, bool)>,
    /// The second exposure of a key whose first was fixed.
    pub reopened: bool,
}

#[derive(Debug, Clone)]
pub struct PlannedPr {
    pub repo: i64,
    pub number: i64,
    pub opened: DateTime<Utc>,
    /// merged, closed by a person, superseded, still open
    pub outcome: &'static str,
    pub closed: Option<DateTime<Utc>>,
}

pub struct History {
    pub now: DateTime<Utc>,
    pub exposures: Vec<Planned>,
    pub prs: Vec<PlannedPr>,
    pub repos: i64,
}

/// xorshift64*: enough randomness for shapes, the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Plans the history (pure): no store involved.
pub fn plan(repos: i64, now: DateTime<Utc>) -> History {
    let mut rng = Rng::new(0x5eed);
    let start = now - TimeDelta::days(365);
    let minutes =
        |rng: &mut Rng, max_days: u64| TimeDelta::minutes(rng.below(max_days * 1440) as i64 + 1);
    let mut exposures = Vec::new();
    let mut prs = Vec::new();
    for repo in 1..=repos {
        let keys = 1 + rng.below(8);
        let mut number = 0;
        for k in 0..keys {
            let severity = SEVERITIES[rng.below(4) as usize];
            let level = match rng.below(10) {
                0..=5 => "blocker",
                6..=8 => "warning",
                _ => "info",
            };
            let package = PACKAGES[rng.below(PACKAGES.len() as u64) as usize].to_string();
            let key = format!("vulnerable-package|lock|{package}|ADV-{repo}-{k}");
            let advisory = format!("ADV-{repo}-{k}");
            let open = start + minutes(&mut rng, 330);
            let close = match rng.below(10) {
                0..=5 => Some((open + minutes(&mut rng, 60), false)),
                6 => Some((open + minutes(&mut rng, 20), true)),
                _ => None,
            };
            let close = close.filter(|(at, _)| *at < now);
            let planned = Planned {
                repo,
                key: key.clone(),
                advisory: advisory.clone(),
                package: package.clone(),
                severity,
                level,
                open,
                close,
                reopened: false,
            };
            // A fix PR for half of the fixed ones, opened a little after the finding.
            if let Some((closed_at, false)) = close {
                if rng.below(2) == 0 {
                    number += 1;
                    let opened = open + TimeDelta::minutes(30);
                    let outcome = [
                        "merged",
                        "merged",
                        "merged",
                        "closed-by-person",
                        "superseded",
                        "open",
                    ][rng.below(6) as usize];
                    let closed = (outcome != "open")
                        .then_some(closed_at.max(opened + TimeDelta::minutes(1)));
                    prs.push(PlannedPr {
                        repo,
                        number,
                        opened,
                        outcome,
                        closed,
                    });
                }
                // Some come back after the fix.
                if rng.below(5) == 0 {
                    let reopen = closed_at + minutes(&mut rng, 20);
                    if reopen < now {
                        exposures.push(planned.clone());
                        let close = Some((reopen + minutes(&mut rng, 40), false))
                            .filter(|(at, _)| *at < now && rng.below(2) == 0);
                        exposures.push(Planned {
                            open: reopen,
                            close,
                            reopened: true,
                            ..planned
                        });
                        continue;
                    }
                }
            }
            exposures.push(planned);
        }
    }
    History {
        now,
        exposures,
        prs,
        repos,
    }
}

/// Writes the history into `store` (repositories, tiers, events, fix PRs).
pub async fn write(store: &Store, h: &History) {
    let pool = store.pool();
    let t0 = h.now - TimeDelta::days(400);
    installations::upsert_installation(pool, 1, "acme", t0)
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    for repo in 1..=h.repos {
        let name = format!("acme/service-{repo:04}");
        installations::upsert_repository(
            &mut *tx,
            &RepositoryUpsert {
                id: repo,
                installation_id: 1,
                full_name: &name,
                default_branch: Some("main"),
                private: Some(true),
            },
            t0,
        )
        .await
        .unwrap();
        let tier = if repo % 3 == 0 {
            "internal-tool"
        } else {
            "internet-facing"
        };
        history::set_tier(&mut *tx, repo, tier, t0).await.unwrap();
    }
    let mut events = Vec::new();
    for e in &h.exposures {
        let event = |kind, at| FindingEvent {
            repository_id: e.repo,
            key: e.key.clone(),
            kind,
            level: e.level.to_string(),
            severity: e.severity.to_string(),
            package: e.package.clone(),
            advisory: e.advisory.clone(),
            at,
            owners: Vec::new(),
        };
        events.push(event(EventKind::Opened, e.open));
        if let Some((at, excepted)) = e.close {
            events.push(event(
                if excepted {
                    EventKind::Excepted
                } else {
                    EventKind::Fixed
                },
                at,
            ));
        }
    }
    events.sort_by_key(|e| e.at);
    history::record_events(&mut tx, &events).await.unwrap();
    for pr in &h.prs {
        let branch = format!("patchwright/fix-{}", pr.number);
        fix_prs::insert(
            &mut *tx,
            &OpenedFixPr {
                repository_id: pr.repo,
                number: pr.number,
                branch: &branch,
                fix_key: &branch,
                head_sha: "0123456789012345678901234567890123456789",
            },
            pr.opened,
        )
        .await
        .unwrap();
        if let Some(closed) = pr.closed {
            let (merged, by_human) = match pr.outcome {
                "merged" => (true, false),
                "closed-by-person" => (false, true),
                _ => (false, false),
            };
            fix_prs::record_closed(&mut *tx, pr.repo, pr.number, merged, by_human, closed)
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();
}

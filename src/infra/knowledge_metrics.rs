//! The knowledge's counters on `/metrics`: advisory syncs and what they changed, the rescans
//! they queued, and reloads of the catalog and policy. Registered into the service's one
//! registry by [`super::metrics::Metrics::new`].

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

type Labels<const N: usize> = [(&'static str, String); N];

pub struct KnowledgeMetrics {
    syncs: Family<Labels<2>, Counter>,
    changes: Family<Labels<2>, Counter>,
    last_success: Family<Labels<1>, Gauge>,
    advisories: Gauge,
    rescans: Counter,
    reloads: Family<Labels<1>, Counter>,
}

impl KnowledgeMetrics {
    pub fn register(registry: &mut Registry) -> KnowledgeMetrics {
        let syncs = Family::<Labels<2>, Counter>::default();
        registry.register(
            "advisory_syncs",
            "Advisory syncs by ecosystem and outcome (full, incremental, unchanged, failed)",
            syncs.clone(),
        );
        let changes = Family::<Labels<2>, Counter>::default();
        registry.register(
            "advisory_changes",
            "Advisory records a sync brought, by ecosystem and change (new, modified, withdrawn)",
            changes.clone(),
        );
        let last_success = Family::<Labels<1>, Gauge>::default();
        registry.register(
            "advisory_sync_last_success_timestamp_seconds",
            "Unix time of the last successful sync, by ecosystem",
            last_success.clone(),
        );
        let advisories = Gauge::default();
        registry.register(
            "advisories_loaded",
            "Live advisories in the database scans use now",
            advisories.clone(),
        );
        let rescans = Counter::default();
        registry.register(
            "advisory_rescans",
            "Repository scans queued because a sync changed an advisory naming a package they hold",
            rescans.clone(),
        );
        let reloads = Family::<Labels<1>, Counter>::default();
        registry.register(
            "knowledge_reloads",
            "Reloads of the catalog and policy by outcome (applied, refused)",
            reloads.clone(),
        );
        KnowledgeMetrics {
            syncs,
            changes,
            last_success,
            advisories,
            rescans,
            reloads,
        }
    }

    /// One ecosystem's sync settled as `outcome`; `changes` is (new, modified, withdrawn).
    pub fn sync(&self, ecosystem: &str, outcome: &'static str, changes: (usize, usize, usize)) {
        self.syncs
            .get_or_create(&[
                ("ecosystem", ecosystem.to_string()),
                ("outcome", outcome.to_string()),
            ])
            .inc();
        let (new, modified, withdrawn) = changes;
        for (change, n) in [
            ("new", new),
            ("modified", modified),
            ("withdrawn", withdrawn),
        ] {
            self.changes
                .get_or_create(&[
                    ("ecosystem", ecosystem.to_string()),
                    ("change", change.to_string()),
                ])
                .inc_by(n as u64);
        }
    }

    pub fn sync_succeeded_at(&self, ecosystem: &str, unix_seconds: i64) {
        self.last_success
            .get_or_create(&[("ecosystem", ecosystem.to_string())])
            .set(unix_seconds);
    }

    pub fn set_advisories(&self, n: usize) {
        self.advisories.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    pub fn rescans(&self, n: usize) {
        self.rescans.inc_by(n as u64);
    }

    pub fn reload(&self, outcome: &'static str) {
        self.reloads
            .get_or_create(&[("outcome", outcome.to_string())])
            .inc();
    }
}

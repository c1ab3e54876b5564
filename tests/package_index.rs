//! The package index on both store backends: a scan's inventory is recorded as a difference,
//! and a sync's lookup finds exactly the active repositories holding a package, in chunks
//! larger than one query binds.

mod support;

use chrono::{DateTime, Utc};
use patchwright::store::installations::{self, RepositoryUpsert};
use patchwright::store::packages::{self, Holder, IndexDelta, PackageKey};
use std::collections::BTreeSet;
use support::each_backend;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn key(eco: &str, name: &str) -> PackageKey {
    (eco.to_string(), name.to_string())
}

#[tokio::test]
async fn inventories_are_recorded_as_differences_and_found_by_package() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let now = at("2026-12-03T00:00:00Z");
        installations::upsert_installation(pool, 1, "acme", now)
            .await
            .unwrap();
        installations::upsert_installation(pool, 2, "paused", now)
            .await
            .unwrap();
        installations::set_suspended(pool, 2, true, now)
            .await
            .unwrap();
        for (id, installation, name) in [
            (10, 1, "acme/api"),
            (11, 1, "acme/web"),
            (12, 1, "acme/old"),
            (20, 2, "paused/app"),
        ] {
            let repo = RepositoryUpsert {
                id,
                installation_id: installation,
                full_name: name,
                default_branch: Some("main"),
                private: Some(true),
            };
            installations::upsert_repository(pool, &repo, now)
                .await
                .unwrap();
        }
        // Many packages, so a lookup spans several chunks.
        let many: BTreeSet<PackageKey> = (0..1200)
            .map(|i| key("npm", &format!("pkg-{i:04}")))
            .chain([key("npm", "lodash"), key("PyPI", "jinja2")])
            .collect();
        let mut conn = pool.acquire().await.unwrap();
        let delta = packages::record_inventory(&mut conn, 10, &many)
            .await
            .unwrap();
        assert_eq!(
            delta,
            IndexDelta {
                added: 1202,
                removed: 0
            }
        );
        // The same inventory again writes nothing.
        let again = packages::record_inventory(&mut conn, 10, &many)
            .await
            .unwrap();
        assert_eq!(again, IndexDelta::default());
        let web = BTreeSet::from([key("npm", "lodash"), key("npm", "left-pad")]);
        packages::record_inventory(&mut conn, 11, &web)
            .await
            .unwrap();
        for id in [12, 20] {
            let lodash = BTreeSet::from([key("npm", "lodash")]);
            packages::record_inventory(&mut conn, id, &lodash)
                .await
                .unwrap();
        }
        installations::remove_repository(&mut *conn, 12, now)
            .await
            .unwrap();
        drop(conn);

        let wanted = BTreeSet::from([key("npm", "lodash"), key("npm", "pkg-1100")]);
        let found = packages::holders(pool, &wanted).await.unwrap();
        let holder = |id, name: &str, package| Holder {
            repository_id: id,
            installation_id: 1,
            full_name: name.to_string(),
            package,
        };
        assert_eq!(
            found,
            [
                holder(10, "acme/api", key("npm", "lodash")),
                holder(10, "acme/api", key("npm", "pkg-1100")),
                holder(11, "acme/web", key("npm", "lodash")),
            ],
            "removed repositories and suspended installations are left out"
        );
        // Ecosystems do not mix: PyPI's lodash is nobody's.
        let other = BTreeSet::from([key("PyPI", "lodash")]);
        assert!(packages::holders(pool, &other).await.unwrap().is_empty());

        // acme/web drops lodash: the index follows.
        let mut conn = pool.acquire().await.unwrap();
        let after = BTreeSet::from([key("npm", "left-pad")]);
        let delta = packages::record_inventory(&mut conn, 11, &after)
            .await
            .unwrap();
        assert_eq!(
            delta,
            IndexDelta {
                added: 0,
                removed: 1
            }
        );
        drop(conn);
        let lodash = BTreeSet::from([key("npm", "lodash")]);
        let found = packages::holders(pool, &lodash).await.unwrap();
        assert_eq!(found, [holder(10, "acme/api", key("npm", "lodash"))]);
    })
    .await;
}

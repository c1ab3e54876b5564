//! The dashboard in a real browser: Debian's chromium driven through chromedriver
//! (WebDriver, the `fantoccini` client). Signs in through the fake GitHub's OAuth pages, opens
//! every page, checks the figures shown against the store, saves a screenshot of each page
//! under target/tmp/web-screenshots/, and checks a person without access sees nothing of a
//! repository. Skips with a message when chromium is not installed, unless CI=true.

mod fake_github;
mod support;
mod web_support;

use fake_github::FakeGitHub;
use fantoccini::{ClientBuilder, Locator};
use patchwright::remediation::{Window, figures};
use patchwright::store::history;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{ManualClock, TestDb};

const NOW: &str = "2026-06-15T12:00:00Z";

/// chromedriver, stopped (by its own process id) when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tools() -> Option<(String, String)> {
    let find = |names: &[&str]| {
        names.iter().find_map(|n| {
            ["/usr/bin", "/usr/local/bin"]
                .iter()
                .map(|d| format!("{d}/{n}"))
                .find(|p| std::path::Path::new(p).exists())
        })
    };
    let found = find(&["chromium", "chromium-browser"]).zip(find(&["chromedriver"]));
    if found.is_none() {
        let ci = matches!(std::env::var("CI").as_deref(), Ok("true" | "1" | "yes"));
        assert!(
            !ci,
            "CI=true but chromium or chromedriver is missing: run scripts/browser-deps.sh"
        );
        eprintln!(
            "skipped: chromium and chromedriver are not installed (scripts/browser-deps.sh installs them)"
        );
    }
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn figure(client: &fantoccini::Client, name: &str) -> String {
    client
        .find(Locator::Css(&format!("[data-figure=\"{name}\"]")))
        .await
        .unwrap_or_else(|e| panic!("no figure {name}: {e}"))
        .text()
        .await
        .unwrap()
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_in_a_real_browser() {
    let Some((chromium, chromedriver)) = tools() else {
        return;
    };
    let db = TestDb::sqlite().await;
    let now: chrono::DateTime<chrono::Utc> = NOW.parse().unwrap();
    web_support::seed(&db.store, now).await;
    let fake = FakeGitHub::start().await;
    web_support::people(&fake);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = web_support::web_state(db.store.clone(), &fake, &base, ManualClock::at(NOW));
    let app = patchwright::web::router(state);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let port = free_port();
    let _driver = Driver(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,2200"]
        }
    }))
    .unwrap();
    let mut client = None;
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let client = client.expect("chromedriver answers within 20 s");
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    // Signed out, the dashboard sends the browser through GitHub and back.
    fake.browser_signed_in_as("root-admin");
    client.goto(&format!("{base}/dashboard")).await.unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/dashboard");

    // The figures shown are the store's.
    let data = history::dataset(
        &db.store,
        None,
        (now - chrono::TimeDelta::days(90)).date_naive(),
    )
    .await
    .unwrap();
    let f = figures(
        &data,
        &patchwright::policy::SlaDays::default(),
        now,
        Window { days: 90 },
    );
    assert_eq!(
        figure(&client, "sla-breached").await,
        f.sla.breached.to_string()
    );
    assert_eq!(
        figure(&client, "sla-due-soon").await,
        f.sla.due_soon.to_string()
    );
    assert_eq!(
        figure(&client, "fix-prs-opened").await,
        f.fix_prs.opened.to_string()
    );
    assert_eq!(
        figure(&client, "fix-prs-merged").await,
        f.fix_prs.merged.to_string()
    );
    assert_eq!(
        figure(&client, "passing-policy").await,
        patchwright::remediation::text::percent(f.passing_policy.share)
    );
    assert_eq!(
        f.sla.breached, 1,
        "hushlib (critical, 40 days) is past its 7 days"
    );
    assert_eq!(f.fix_prs.merged, 1);

    let pages = [
        ("organisation", "/dashboard".to_string()),
        ("tier", "/dashboard/tiers/internet-facing".to_string()),
        ("team", "/dashboard/team?owner=%40acme%2Fweb".to_string()),
        ("repository-storefront", "/dashboard/repos/101".to_string()),
        ("repository-hush", "/dashboard/repos/202".to_string()),
    ];
    for (name, path) in &pages {
        client.goto(&format!("{base}{path}")).await.unwrap();
        let charts = client
            .find_all(Locator::Css("svg[role=img]"))
            .await
            .unwrap();
        assert_eq!(charts.len(), 2, "{name}: two charts");
        let png = client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name}: a PNG screenshot");
        std::fs::write(shots.join(format!("{name}.png")), png).unwrap();
    }
    // The storefront's base-image lineage: node 18, then 20 (no charts on this page).
    client
        .goto(&format!("{base}/dashboard/repos/101/lineage"))
        .await
        .unwrap();
    let source = client.source().await.unwrap();
    assert!(
        source.contains("node:18") && source.contains("node:20") && !source.contains("hush"),
        "{source}"
    );
    std::fs::write(
        shots.join("lineage-storefront.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    // The storefront's open warning, with its owner.
    client
        .goto(&format!("{base}/dashboard/repos/101"))
        .await
        .unwrap();
    let row = client
        .find(Locator::Css("tr[data-finding*=\"qs\"]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        row.contains("@acme/web") && row.contains("GHSA-qs"),
        "{row}"
    );

    // Alice, who sees only the storefront, signs in afresh: nothing of the other repository.
    client.delete_all_cookies().await.unwrap();
    fake.browser_signed_in_as("alice");
    client.goto(&format!("{base}/dashboard")).await.unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/dashboard");
    assert!(!client.source().await.unwrap().contains("hush"));
    client
        .goto(&format!("{base}/dashboard/repos/202"))
        .await
        .unwrap();
    let source = client.source().await.unwrap();
    assert!(
        source.contains("not found") && !source.contains("hush"),
        "{source}"
    );
    std::fs::write(
        shots.join("no-access.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();

    client.close().await.unwrap();
    server.abort();
    eprintln!("screenshots in {}", shots.display());
}

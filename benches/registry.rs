//! Registry calls per scanned image against Debian's `docker-registry` on loopback (the
//! tests' registry, tests/registry_support; needs scripts/registry-deps.sh): the tag list and
//! the manifest `HEAD` a scan asks for one image, with a cold cache (a new lookup: new
//! connection, nothing cached) and a warm one (within `cache-ttl-secs`), and the two calls on
//! their own over a kept-alive connection. Figures in README.md's benchmark table.

#[path = "../tests/registry_support/mod.rs"]
mod registry_support;

use criterion::{BatchSize, Criterion};
use patchwright::model::ImageRef;
use patchwright::registry::{Lookup, RegistryConfig, Repository};
use std::hint::black_box;

/// Tags in the repository: a tag list of this many names is one page.
const TAGS: usize = 100;

fn config(base: &str) -> RegistryConfig {
    let mut config = RegistryConfig {
        enabled: true,
        ..RegistryConfig::default()
    };
    config.mirrors.insert("docker.io".into(), vec![base.into()]);
    config
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let registry = rt.block_on(registry_support::start_registry(None));
    let base = registry.base();
    rt.block_on(async {
        let push = registry_support::Pusher::new(&base, None);
        let image = push.image("library/node", "amd64", "bench").await;
        for i in 0..TAGS {
            push.tag(
                "library/node",
                &format!("1.{}.{}-bookworm-slim", i / 10, i % 10),
                &image,
            )
            .await;
        }
    });
    let image = ImageRef::parse("node:1.3.1-bookworm-slim").unwrap();
    let images = std::slice::from_ref(&image);
    let now = chrono::Utc::now();

    // The calls each case makes, counted once outside the timing.
    let cold = Lookup::new(&config(&base)).unwrap();
    let facts = rt.block_on(cold.facts_for(images, now));
    assert!(
        facts
            .digest(&image.canonical_name(), "1.3.1-bookworm-slim")
            .is_some()
    );
    let cold_calls = cold.client().calls();
    rt.block_on(cold.facts_for(images, now));
    eprintln!(
        "registry calls per image: cold {cold_calls}, warm {}",
        cold.client().calls() - cold_calls
    );

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("registry");
    group.bench_function("image_cold_cache", |b| {
        b.iter_batched(
            || Lookup::new(&config(&base)).unwrap(),
            |lookup| black_box(rt.block_on(lookup.facts_for(images, now))),
            BatchSize::PerIteration,
        )
    });
    let warm = Lookup::new(&config(&base)).unwrap();
    rt.block_on(warm.facts_for(images, now));
    group.bench_function("image_warm_cache", |b| {
        b.iter(|| black_box(rt.block_on(warm.facts_for(images, now))))
    });
    let repo = Repository::of(&image);
    let client = warm.client();
    group.bench_function("tag_list_kept_alive", |b| {
        b.iter(|| black_box(rt.block_on(client.tags(&repo)).unwrap()))
    });
    group.bench_function("manifest_head_kept_alive", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(client.digest(&repo, "1.3.1-bookworm-slim"))
                    .unwrap(),
            )
        })
    });
    group.finish();
    c.final_summary();
    drop(registry);
}

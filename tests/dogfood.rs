//! The project's own container files, checked with the project's own tools: the service's
//! Dockerfile scans with nothing above info (its base images are pinned by tag, not digest, and
//! its apt packages by the base image's release), and compose.yaml wires that image to
//! PostgreSQL. (`docker build` itself is not run here: CI machines have no Docker daemon.)

use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn the_service_dockerfile_scans_clean_with_patchwright() {
    let out = Command::new(env!("CARGO_BIN_EXE_patchwright"))
        .args(["scan", "Dockerfile", "--format", "json"])
        .current_dir(ROOT)
        .env_remove("PATCHWRIGHT_CONFIG")
        .env_remove("PATCHWRIGHT_CATALOG")
        .output()
        .expect("the binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["errors"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    let mut seen: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["level"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    seen.dedup();
    // Not running as root, every image tagged: only the two accepted info findings remain.
    assert_eq!(
        seen,
        [
            ("image-digest-not-pinned".to_string(), "info".to_string()),
            ("unpinned-os-packages".to_string(), "info".to_string()),
        ]
    );
    let images: Vec<&str> = report["inventory"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert_eq!(images, ["rust", "golang", "node", "debian"]);
}

#[test]
fn compose_runs_the_image_against_postgres() {
    let text = std::fs::read_to_string(format!("{ROOT}/compose.yaml")).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    let services = &docs[0]["services"];
    let app = &services["patchwright"];
    assert_eq!(app["build"].as_str(), Some("."));
    assert_eq!(
        app["depends_on"]["db"]["condition"].as_str(),
        Some("service_healthy")
    );
    let url = app["environment"]["DATABASE_URL"].as_str().unwrap();
    assert!(
        url.starts_with("postgres://") && url.contains("@db:5432/"),
        "{url}"
    );
    assert!(
        services["db"]["image"]
            .as_str()
            .is_some_and(|i| i.starts_with("postgres:")),
    );
    // Every environment key the service reads exists in its configuration.
    let keys: Vec<&str> = patchwright::service::config::KEYS
        .iter()
        .map(|(_, env)| *env)
        .collect();
    for (key, _) in app["environment"].as_hash().unwrap() {
        let key = key.as_str().unwrap();
        assert!(keys.contains(&key), "{key} is not a configuration variable");
    }
}

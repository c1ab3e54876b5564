use super::*;

fn no_env(_: &str) -> Option<String> {
    None
}

const MINIMAL: &str = r#"
app-id = 12345
app-slug = "patchwright"
private-key-path = "/etc/patchwright/key.pem"
webhook-secret = "s3cret-from-file"
"#;

fn problems(text: &str, env: impl Fn(&str) -> Option<String>) -> Vec<String> {
    match ServiceConfig::from_sources("config.toml", Some(text), env) {
        Ok(c) => panic!("expected problems, got {c:?}"),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_minimal_file_gets_the_documented_defaults() {
    let c = ServiceConfig::from_sources("config.toml", Some(MINIMAL), no_env).unwrap();
    assert_eq!(c.listen, "0.0.0.0:3000".parse::<SocketAddr>().unwrap());
    assert_eq!(c.app_id, 12345);
    assert_eq!(c.bot_login(), "patchwright[bot]");
    assert_eq!(c.webhook_secret.expose(), "s3cret-from-file");
    assert_eq!(c.github_api_url, "https://api.github.com");
    assert_eq!(c.database_url.expose(), "sqlite://patchwright.db?mode=rwc");
    assert_eq!(c.workers, 2);
    assert_eq!(c.max_open_fix_prs, 5);
    assert_eq!(c.log_format, LogFormat::Text);
    assert_eq!(c.job_lease, Duration::from_secs(300));
    assert_eq!(c.job_max_attempts, 8);
    assert_eq!(c.policy, OrgPolicy::default());
}

#[test]
fn the_environment_overrides_the_file_key_by_key() {
    let env = |var: &str| match var {
        "PATCHWRIGHT_WEBHOOK_SECRET" => Some("from-env".to_string()),
        "PATCHWRIGHT_APP_ID" => Some("777".to_string()),
        "DATABASE_URL" => Some("postgres://bot:pw@db/patchwright".to_string()),
        "PATCHWRIGHT_LOG_FORMAT" => Some("json".to_string()),
        "PATCHWRIGHT_GITHUB_API_URL" => Some("https://ghe.example.com/api/v3/".to_string()),
        _ => None,
    };
    let c = ServiceConfig::from_sources("config.toml", Some(MINIMAL), env).unwrap();
    assert_eq!(c.webhook_secret.expose(), "from-env");
    assert_eq!(c.app_id, 777);
    assert_eq!(c.database_url.expose(), "postgres://bot:pw@db/patchwright");
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!(c.github_api_url, "https://ghe.example.com/api/v3");
    assert_eq!(
        c.app_slug, "patchwright",
        "keys the environment lacks keep the file's value"
    );
}

#[test]
fn a_bad_value_is_reported_at_its_line_with_key_and_reason() {
    let text = format!("{MINIMAL}\n\nlisten = \"x\"\n");
    let line = text.lines().position(|l| l.starts_with("listen")).unwrap() + 1;
    assert_eq!(
        problems(&text, no_env),
        vec![format!(
            "config.toml:{line}:1: listen: invalid socket address \"x\"; write it as `0.0.0.0:3000`"
        )]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = "workers = 0\nlog-format = \"yaml\"\nlisten = 3000\nwebhok-secret = \"typo\"\n";
    let env = |var: &str| (var == "PATCHWRIGHT_APP_ID").then(|| "twelve".to_string());
    assert_eq!(
        problems(text, env),
        vec![
            "config.toml:3:1: listen: expected a string, found the integer 3000".to_string(),
            "environment variable PATCHWRIGHT_APP_ID: app-id: \"twelve\" is not a whole number"
                .to_string(),
            "config.toml: app-slug: is required; set `app-slug` in the file or the environment variable PATCHWRIGHT_APP_SLUG".to_string(),
            "config.toml: private-key-path: is required; set `private-key-path` in the file or the environment variable PATCHWRIGHT_PRIVATE_KEY_PATH".to_string(),
            "config.toml: webhook-secret: is required; set `webhook-secret` in the file or the environment variable PATCHWRIGHT_WEBHOOK_SECRET".to_string(),
            "config.toml:1:1: workers: 0 is out of range; use 1 to 64".to_string(),
            "config.toml:2:1: log-format: \"yaml\" is not a log format; use `text` or `json`".to_string(),
            format!(
                "config.toml:4:1: webhok-secret: unknown key; the keys are {}, and the [policy], [advisory-sync], [registry], [web] and [notifications] tables",
                KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
            ),
        ]
    );
}

#[test]
fn toml_syntax_errors_point_at_their_line() {
    let text = "app-id = 1\nlisten = \"0.0.0.0:1\n";
    let found = problems(text, no_env);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("config.toml:2:"), "{found:?}");
    assert!(found[0].contains("not valid TOML"), "{found:?}");
}

#[test]
fn an_unsupported_database_is_named_without_its_password() {
    let env = |var: &str| (var == "DATABASE_URL").then(|| "mysql://root:hunter2@db/x".to_string());
    let found = problems(MINIMAL, env);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("environment variable DATABASE_URL: database-url: database URL `mysql://root:[redacted]@db/x` names no supported database"),
        "{found:?}"
    );
    assert!(!found[0].contains("hunter2"));
}

#[test]
fn secrets_never_show_in_debug_output() {
    let env = |var: &str| {
        (var == "DATABASE_URL").then(|| "postgres://bot:db-password-1@db/pw".to_string())
    };
    let c = ServiceConfig::from_sources("config.toml", Some(MINIMAL), env).unwrap();
    let debug = format!("{c:?}");
    assert!(!debug.contains("s3cret-from-file"), "{debug}");
    assert!(!debug.contains("db-password-1"), "{debug}");
    assert!(debug.contains("webhook_secret: [redacted]"), "{debug}");
    assert!(debug.contains("postgres://bot:[redacted]@db/pw"), "{debug}");
}

#[test]
fn the_policy_table_becomes_the_org_policy_and_is_validated() {
    let good = format!(
        "{MINIMAL}\n[policy]\ndefault-tier = \"edge\"\n[policy.tiers.edge]\nblock-severity = \"medium\"\n"
    );
    let c = ServiceConfig::from_sources("config.toml", Some(&good), no_env).unwrap();
    assert_eq!(c.policy.default_tier, "edge");
    assert_eq!(c.policy.tier_names(), vec!["edge"]);

    let bad = format!("{MINIMAL}\n[policy]\ndefault-tier = \"nowhere\"\n");
    let line = bad.lines().position(|l| l == "[policy]").unwrap() + 1;
    let found = problems(&bad, no_env);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(&format!(
            "config.toml:{line}:2: policy: policy.default-tier: `nowhere`"
        )),
        "{found:?}"
    );
}

#[test]
fn the_example_file_documents_every_key_and_loads() {
    let example = include_str!("../../../config.example.toml");
    for (key, var) in KEYS {
        assert!(
            example.contains(&format!("\n{key} = ")) || example.contains(&format!("\n# {key} = ")),
            "config.example.toml does not show `{key}`"
        );
        assert!(
            example.contains(var),
            "config.example.toml does not name {var}"
        );
    }
    assert!(example.contains("[policy]"));
    // The example leaves the secret to the environment, as it recommends.
    let env = |var: &str| (var == "PATCHWRIGHT_WEBHOOK_SECRET").then(|| "x".to_string());
    let c = ServiceConfig::from_sources("config.example.toml", Some(example), env).unwrap();
    assert_eq!(c.app_slug, "patchwright");
    assert!(c.policy.validate().is_ok());
}

#[test]
fn a_configuration_that_cannot_be_assembled_always_names_a_problem() {
    let e = settle("config.toml", None, Vec::new()).unwrap_err();
    assert_eq!(e.problems.len(), 1, "{e}");
    assert!(e.to_string().starts_with("config.toml: "), "{e}");
}

#[test]
fn limits_and_the_no_advisories_switch_have_defaults_and_overrides() {
    let c = ServiceConfig::from_sources("config.toml", Some(MINIMAL), no_env).unwrap();
    assert_eq!(c.max_connections, 1024);
    assert_eq!(c.read_timeout, Duration::from_secs(10));
    assert_eq!(c.webhook_memory_bytes, 128 * 1024 * 1024);
    assert!(!c.allow_no_advisories);

    let text = format!("{MINIMAL}allow-no-advisories = true\nmax-connections = 10\n");
    let c = ServiceConfig::from_sources("config.toml", Some(&text), no_env).unwrap();
    assert!(c.allow_no_advisories);
    assert_eq!(c.max_connections, 10);
    let env = |var: &str| (var == "PATCHWRIGHT_ALLOW_NO_ADVISORIES").then(|| "false".to_string());
    let c = ServiceConfig::from_sources("config.toml", Some(&text), env).unwrap();
    assert!(!c.allow_no_advisories, "the environment wins");

    let text = format!("{MINIMAL}allow-no-advisories = \"yes\"\nwebhook-memory-mib = 1\n");
    assert_eq!(
        problems(&text, no_env),
        vec![
            "config.toml:7:1: webhook-memory-mib: 1 is out of range; use 25 to 65536",
            "config.toml:6:1: allow-no-advisories: expected `true` or `false`",
        ]
    );
}

#[test]
fn relock_is_on_by_default_and_its_registries_come_from_file_and_environment() {
    let c = ServiceConfig::from_sources("config.toml", Some(MINIMAL), no_env).unwrap();
    assert!(c.relock);
    assert_eq!(c.relock_timeout, Duration::from_secs(120));
    assert_eq!(c.registries.npm, None);
    assert_eq!(c.registries.npm_token, None);

    let text = format!(
        "{MINIMAL}relock = false\nrelock-timeout-seconds = 30\nnpm-registry = \"https://npm.example.com/\"\n\
         npm-token-env = \"ACME_NPM_TOKEN\"\ncrates-registry = \"sparse+https://crates.example.com/index/\"\n"
    );
    let env = |var: &str| match var {
        "ACME_NPM_TOKEN" => Some("npm_s3cret".to_string()),
        "PATCHWRIGHT_GOSUMDB" => Some("off".to_string()),
        "PATCHWRIGHT_PYPI_INDEX" => Some("http://127.0.0.1:8080/simple/".to_string()),
        _ => None,
    };
    let c = ServiceConfig::from_sources("config.toml", Some(&text), env).unwrap();
    assert!(!c.relock);
    assert_eq!(c.relock_timeout, Duration::from_secs(30));
    assert_eq!(
        c.registries.npm.as_deref(),
        Some("https://npm.example.com/")
    );
    assert_eq!(c.registries.npm_token.as_deref(), Some("npm_s3cret"));
    assert_eq!(
        c.registries.crates.as_deref(),
        Some("sparse+https://crates.example.com/index/")
    );
    assert_eq!(c.registries.gosumdb.as_deref(), Some("off"));
    assert_eq!(c.registries.goproxy, None);
    assert_eq!(
        c.registries.pypi.as_deref(),
        Some("http://127.0.0.1:8080/simple/")
    );
    // The token never shows in the configuration's debug output (what a start-up log prints).
    let printed = format!("{c:?}");
    assert!(!printed.contains("npm_s3cret"), "{printed}");
}

#[test]
fn a_token_variable_that_is_not_set_or_a_bad_registry_is_a_problem() {
    let text = format!(
        "{MINIMAL}npm-token-env = \"ACME_NPM_TOKEN\"\ncrates-registry = \"https://crates.example.com/\"\n"
    );
    assert_eq!(
        problems(&text, no_env),
        vec![
            "config.toml:7:1: crates-registry: \"https://crates.example.com/\" is not a sparse index URL; write it as `sparse+https://HOST/index/`",
            "config.toml:6:1: npm-token-env: names the environment variable ACME_NPM_TOKEN, which is not set: set it to the npm registry's token, or remove npm-token-env",
        ]
    );
}

#[test]
fn the_advisory_sync_table_is_read_and_replaces_the_default_local_folder() {
    let c = ServiceConfig::from_sources("config.toml", Some(MINIMAL), no_env).unwrap();
    assert_eq!(c.advisory_sync, None);
    assert_eq!(c.advisories_path, [Path::new("advisories")]);

    let sync = "\n[advisory-sync]\necosystems = [\"npm\"]\ndir = \"/var/lib/osv\"\ninterval-minutes = 15\n";
    let c = ServiceConfig::from_sources("config.toml", Some(&format!("{MINIMAL}{sync}")), no_env)
        .unwrap();
    let s = c.advisory_sync.expect("the table is read");
    assert_eq!(s.ecosystems, ["npm"]);
    assert_eq!(s.interval(), Duration::from_secs(900));
    assert!(
        c.advisories_path.is_empty(),
        "no default local folder beside a sync"
    );

    let text = format!("{MINIMAL}advisories-path = \"local\"\n{sync}");
    let c = ServiceConfig::from_sources("config.toml", Some(&text), no_env).unwrap();
    assert_eq!(c.advisories_path, [Path::new("local")], "both combine");

    let text = format!("{MINIMAL}\n[advisory-sync]\necosystems = []\ndir = \"d\"\n");
    let line = text.lines().position(|l| l == "[advisory-sync]").unwrap() + 1;
    assert_eq!(
        problems(&text, no_env),
        vec![format!(
            "config.toml:{line}:2: advisory-sync: ecosystems: is empty; name at least one, e.g. [\"npm\", \"PyPI\"]"
        )]
    );
}

#[test]
fn the_registry_table_is_read_and_checked() {
    let c = ServiceConfig::from_sources("config.toml", Some(MINIMAL), no_env).unwrap();
    assert_eq!(c.registry, None, "off without the table");

    let table = "\n[registry]\nmirrors = { \"docker.io\" = [\"https://mirror.example.com/\"] }\ncache-ttl-secs = 600\npin-digests = false\nrefresh-every-days = 14\n";
    let c = ServiceConfig::from_sources("config.toml", Some(&format!("{MINIMAL}{table}")), no_env)
        .unwrap();
    let r = c.registry.expect("the table turns lookups on");
    assert_eq!(r.mirrors["docker.io"], ["https://mirror.example.com"]);
    assert_eq!(r.cache_ttl, Duration::from_secs(600));
    assert!(!r.pin_digests);
    assert_eq!(r.refresh_every_days, 14);

    let off = "\n[registry]\nenabled = false\n";
    let c = ServiceConfig::from_sources("config.toml", Some(&format!("{MINIMAL}{off}")), no_env)
        .unwrap();
    assert_eq!(c.registry, None);

    let found = problems(
        &format!("{MINIMAL}\n[registry]\nrefresh-every-days = 0\ncache-ttl = 1\n"),
        no_env,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("registry: unknown field `cache-ttl`"),
        "{found:?}"
    );
    let found = problems(
        &format!("{MINIMAL}\n[registry]\nrefresh-every-days = 0\n"),
        no_env,
    );
    assert!(
        found[0].contains("refresh-every-days must be at least 1"),
        "{found:?}"
    );
}

#[test]
fn advisories_path_is_one_folder_or_several() {
    let list = format!("{MINIMAL}advisories-path = [\"osv/npm\", \"/srv/osv/PyPI\"]\n");
    let c = ServiceConfig::from_sources("config.toml", Some(&list), no_env).unwrap();
    assert_eq!(
        c.advisories_path,
        [Path::new("osv/npm"), Path::new("/srv/osv/PyPI")]
    );

    // The environment gives several as PATH does, and wins over the file.
    let env =
        |var: &str| (var == "PATCHWRIGHT_ADVISORIES_PATH").then(|| "/a/npm:/b/PyPI".to_string());
    let c = ServiceConfig::from_sources("config.toml", Some(&list), env).unwrap();
    assert_eq!(
        c.advisories_path,
        [Path::new("/a/npm"), Path::new("/b/PyPI")]
    );

    // Beside a sync, a list combines with the synced folder.
    let sync = "\n[advisory-sync]\necosystems = [\"npm\"]\ndir = \"/var/lib/osv\"\n";
    let c =
        ServiceConfig::from_sources("config.toml", Some(&format!("{list}{sync}")), no_env).unwrap();
    assert_eq!(c.advisories_path.len(), 2);
    assert!(c.advisory_sync.is_some());

    let line = MINIMAL.lines().count() + 1;
    let bad = |value: &str| problems(&format!("{MINIMAL}advisories-path = {value}\n"), no_env);
    assert_eq!(
        bad("[\"osv\", \"\"]"),
        vec![format!(
            "config.toml:{line}:1: advisories-path: entry 2 is empty; give a folder path (or leave the entry out)"
        )]
    );
    assert_eq!(
        bad("[\"osv\", \"osv\"]"),
        vec![format!(
            "config.toml:{line}:1: advisories-path: \"osv\" is named twice; name each folder once"
        )]
    );
    assert_eq!(
        bad("[\"osv\", 3]"),
        vec![format!(
            "config.toml:{line}:1: advisories-path: expected a path or an array of paths, found an array holding other things than strings"
        )]
    );
    // Other keys still take one string only.
    assert_eq!(
        problems(&format!("{MINIMAL}catalog-path = [\"a\"]\n"), no_env),
        vec![format!(
            "config.toml:{line}:1: catalog-path: expected a string, found an array"
        )]
    );
}

#[test]
fn the_notifications_table_is_read_and_its_url_never_repeated_in_errors() {
    let c = ServiceConfig::from_sources("config.toml", Some(MINIMAL), no_env).unwrap();
    assert!(c.notifications.is_none(), "off unless configured");
    let good = format!(
        "{MINIMAL}\n[notifications]\nwebhook-url = \"https://hooks.slack.com/services/T0/B0/tok\"\ninterval-minutes = 30\n"
    );
    let c = ServiceConfig::from_sources("config.toml", Some(&good), no_env).unwrap();
    let n = c.notifications.expect("configured");
    assert_eq!(n.interval, chrono::TimeDelta::minutes(30));
    assert_eq!(n.horizon.sla_due_days, 7);
    assert_eq!(n.horizon.exception_days, 14);
    assert!(!format!("{n:?}").contains("tok"), "the URL is a secret");

    let off = format!("{MINIMAL}\n[notifications]\nenabled = false\n");
    let c = ServiceConfig::from_sources("config.toml", Some(&off), no_env).unwrap();
    assert!(c.notifications.is_none());

    let bad = format!(
        "{MINIMAL}\n[notifications]\nwebhook-url = \"hooks.slack.com/services/T0/B0/tok\"\n"
    );
    let line = bad.lines().position(|l| l == "[notifications]").unwrap() + 1;
    assert_eq!(
        problems(&bad, no_env),
        [format!(
            "config.toml:{line}:2: notifications: webhook-url: not an http(s) URL"
        )]
    );
    let bad = format!(
        "{MINIMAL}\n[notifications]\nwebhook-url = \"https://x.example/h\"\ninterval-minutes = 0\n"
    );
    assert_eq!(
        problems(&bad, no_env),
        [format!(
            "config.toml:{line}:2: notifications: interval-minutes: 0 is out of range (1 to 10080, a week)"
        )]
    );
}

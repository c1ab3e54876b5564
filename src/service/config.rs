//! The service's configuration: a TOML file, overridden key by key by the environment.
//!
//! Loading happens in two stages (cargo-deny's habit): first every key is read with where it
//! came from (file line and column, or environment variable), then each is validated into a
//! type the rest of the service can trust. Every problem is collected, so one start-up names
//! all of them: `config.toml:7:1: listen: invalid socket address "x"`.
//! `config.example.toml` documents every key; a test keeps it in step with [`KEYS`].

use crate::model::line_column;
use crate::policy::OrgPolicy;
use crate::relock::Registries;
use crate::service::secret::Secret;
use crate::store::{Backend, redact_url};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every top-level key: its TOML name and the environment variable that overrides it.
pub const KEYS: &[(&str, &str)] = &[
    ("listen", "PATCHWRIGHT_LISTEN"),
    ("app-id", "PATCHWRIGHT_APP_ID"),
    ("app-slug", "PATCHWRIGHT_APP_SLUG"),
    ("private-key-path", "PATCHWRIGHT_PRIVATE_KEY_PATH"),
    ("webhook-secret", "PATCHWRIGHT_WEBHOOK_SECRET"),
    ("github-api-url", "PATCHWRIGHT_GITHUB_API_URL"),
    ("database-url", "DATABASE_URL"),
    ("catalog-path", "PATCHWRIGHT_CATALOG_PATH"),
    ("advisories-path", "PATCHWRIGHT_ADVISORIES_PATH"),
    ("workers", "PATCHWRIGHT_WORKERS"),
    ("max-open-fix-prs", "PATCHWRIGHT_MAX_OPEN_FIX_PRS"),
    ("log-format", "PATCHWRIGHT_LOG_FORMAT"),
    ("job-lease-seconds", "PATCHWRIGHT_JOB_LEASE_SECONDS"),
    ("job-max-attempts", "PATCHWRIGHT_JOB_MAX_ATTEMPTS"),
    (
        "shutdown-grace-seconds",
        "PATCHWRIGHT_SHUTDOWN_GRACE_SECONDS",
    ),
    ("sweep-interval-hours", "PATCHWRIGHT_SWEEP_INTERVAL_HOURS"),
    ("sweep-calls-per-hour", "PATCHWRIGHT_SWEEP_CALLS_PER_HOUR"),
    ("max-connections", "PATCHWRIGHT_MAX_CONNECTIONS"),
    ("read-timeout-seconds", "PATCHWRIGHT_READ_TIMEOUT_SECONDS"),
    ("webhook-memory-mib", "PATCHWRIGHT_WEBHOOK_MEMORY_MIB"),
    ("allow-no-advisories", "PATCHWRIGHT_ALLOW_NO_ADVISORIES"),
    ("relock", "PATCHWRIGHT_RELOCK"),
    (
        "relock-timeout-seconds",
        "PATCHWRIGHT_RELOCK_TIMEOUT_SECONDS",
    ),
    ("npm-registry", "PATCHWRIGHT_NPM_REGISTRY"),
    ("npm-token-env", "PATCHWRIGHT_NPM_TOKEN_ENV"),
    ("crates-registry", "PATCHWRIGHT_CRATES_REGISTRY"),
    ("goproxy", "PATCHWRIGHT_GOPROXY"),
    ("gosumdb", "PATCHWRIGHT_GOSUMDB"),
    ("pypi-index", "PATCHWRIGHT_PYPI_INDEX"),
];

/// The table that is not a plain key: the organisation's policy (tiers, SLAs).
pub const POLICY_TABLE: &str = "policy";
/// The advisory sync inside `serve` (mirror, ecosystems, folder, interval). Not `[advisories]`:
/// the CLI reads the same file and takes `advisories` as a folder or a list of folders.
pub const ADVISORY_SYNC_TABLE: &str = "advisory-sync";
/// Container registry lookups for image fixes (see `registry::config`).
pub const REGISTRY_TABLE: &str = "registry";
/// The dashboard's sign-in and sessions (`crate::web::WebConfig`); without it no page is served.
pub const WEB_TABLE: &str = "web";
/// Chat notifications (`crate::notify::NotifyConfig`); without it none are sent.
pub const NOTIFICATIONS_TABLE: &str = "notifications";

pub const DEFAULT_LISTEN: &str = "0.0.0.0:3000";
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://patchwright.db?mode=rwc";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A database URL whose `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> DatabaseUrl {
        DatabaseUrl(url.into())
    }

    /// The full URL, password included: for connecting, never for printing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", redact_url(&self.0))
    }
}

/// The URL without its password: what logs show.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

/// The validated configuration of `patchwright serve`.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub listen: SocketAddr,
    pub app_id: u64,
    /// The app's URL name; its commits and comments come from `<slug>[bot]`.
    pub app_slug: String,
    pub private_key_path: PathBuf,
    pub webhook_secret: Secret,
    /// Without a trailing `/`.
    pub github_api_url: String,
    pub database_url: DatabaseUrl,
    pub catalog_path: PathBuf,
    /// The local folders of OSV records, read together (and with the synced folder); empty
    /// when `[advisory-sync]` is set and this is not (the synced folder is then the only source).
    pub advisories_path: Vec<PathBuf>,
    /// The `[advisory-sync]` table: `None` turns the sync inside `serve` off.
    pub advisory_sync: Option<crate::knowledge::serve_sync::AdvisorySyncConfig>,
    pub workers: usize,
    pub max_open_fix_prs: u32,
    pub log_format: LogFormat,
    pub job_lease: Duration,
    pub job_max_attempts: u32,
    pub shutdown_grace: Duration,
    /// How often every repository is scanned again; `None` turns sweeps off.
    pub sweep_interval: Option<Duration>,
    /// Counted GitHub calls an hour one installation's sweep scans may plan for.
    pub sweep_calls_per_hour: u32,
    /// Open HTTP connections at most; more wait in the listen backlog.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, and then its body.
    pub read_timeout: Duration,
    /// Bytes of webhook bodies held at once across all requests (verified or not yet).
    pub webhook_memory_bytes: usize,
    /// Start even when the advisory directory holds no advisory (every repository would
    /// look clean): only when the operator says so.
    pub allow_no_advisories: bool,
    /// The `[policy]` table: tiers and SLAs, validated at start-up.
    pub policy: OrgPolicy,
    /// Whether fix PRs re-lock lockfiles through the package managers found on PATH.
    pub relock: bool,
    /// How long one package-manager run may take.
    pub relock_timeout: Duration,
    /// Where the package managers fetch from; the npm token comes from the environment
    /// variable `npm-token-env` names (its `Debug` redacts it).
    pub registries: Registries,
    /// The `[registry]` table: tags and digests from container registries; `None` (absent, or
    /// `enabled = false`) keeps image fixes to the catalog alone.
    pub registry: Option<crate::registry::RegistryConfig>,
    /// The `[web]` table: the dashboard is served only when it is set.
    pub web: Option<crate::web::WebConfig>,
    /// The `[notifications]` table: chat messages are sent only when it is set and enabled.
    pub notifications: Option<crate::notify::NotifyConfig>,
}

impl ServiceConfig {
    /// The login the app acts as on GitHub.
    pub fn bot_login(&self) -> String {
        format!("{}[bot]", self.app_slug)
    }
}

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A key in the file, at a 1-based line and column.
    File {
        file: String,
        line: u32,
        column: u32,
    },
    /// The whole file (unreadable, or a key it lacks).
    WholeFile {
        file: String,
    },
    Env {
        var: String,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { file, line, column } => write!(f, "{file}:{line}:{column}"),
            Origin::WholeFile { file } => f.write_str(file),
            Origin::Env { var } => write!(f, "environment variable {var}"),
        }
    }
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub origin: Origin,
    /// The key at fault, or empty for a file-level problem (TOML syntax).
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.origin, self.message)
        } else {
            write!(f, "{}: {}: {}", self.origin, self.key, self.message)
        }
    }
}

/// Everything wrong with a configuration, one problem a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// A raw value before validation.
#[derive(Debug, Clone)]
enum Raw {
    Str(String),
    Int(i64),
    Bool(bool),
    /// An array of strings (the keys that take several paths).
    List(Vec<String>),
    /// Any other TOML type, named for the message.
    Other(&'static str),
}

struct Found {
    raw: Raw,
    origin: Origin,
}

impl ServiceConfig {
    /// Reads `path` (when given) and the process environment.
    pub fn load(path: Option<&Path>) -> Result<ServiceConfig, ConfigError> {
        let env = |var: &str| std::env::var(var).ok();
        match path {
            None => ServiceConfig::from_sources("(no config file)", None, env),
            Some(path) => {
                let name = path.display().to_string();
                let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
                    problems: vec![ConfigProblem {
                        origin: Origin::WholeFile { file: name.clone() },
                        key: String::new(),
                        message: format!("cannot read the configuration file: {e}"),
                    }],
                })?;
                ServiceConfig::from_sources(&name, Some(&text), env)
            }
        }
    }

    /// Builds the configuration from the text of file `file_name` (if any) and an environment
    /// lookup; pure, so tests pass both in.
    pub fn from_sources(
        file_name: &str,
        text: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ServiceConfig, ConfigError> {
        let mut problems = Vec::new();
        let file = match text {
            Some(text) => read_file(file_name, text, &mut problems),
            None => FileValues::default(),
        };
        if !problems.is_empty() {
            // A file that does not parse says nothing reliable about any key.
            return Err(ConfigError { problems });
        }
        let mut v = Values {
            file_name,
            file,
            env: &env,
            problems: Vec::new(),
        };

        let listen = v.parse("listen", Some(DEFAULT_LISTEN), |s| {
            s.parse::<SocketAddr>()
                .map_err(|_| format!("invalid socket address {s:?}; write it as `0.0.0.0:3000`"))
        });
        let app_id = v.int("app-id", None, 1, i64::MAX);
        let app_slug = v.parse("app-slug", None, |s| {
            let ok = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if ok {
                Ok(s.to_string())
            } else {
                Err(format!(
                    "{s:?} is not an app slug: the lowercase name in the app's URL, e.g. `patchwright`"
                ))
            }
        });
        let private_key_path = v.path("private-key-path", None);
        let webhook_secret = v.parse("webhook-secret", None, |s| {
            if s.is_empty() {
                Err("is empty: set the secret the GitHub App's webhook settings use".to_string())
            } else {
                Ok(Secret::new(s))
            }
        });
        let github_api_url = v.parse("github-api-url", Some(DEFAULT_GITHUB_API_URL), |s| {
            if s.starts_with("https://") || s.starts_with("http://") {
                Ok(s.trim_end_matches('/').to_string())
            } else {
                Err(format!(
                    "{s:?} is not an http(s) URL; GitHub Enterprise Server uses `https://HOST/api/v3`"
                ))
            }
        });
        let database_url = v.parse("database-url", Some(DEFAULT_DATABASE_URL), |s| {
            Backend::from_url(s)
                .map(|_| DatabaseUrl::new(s))
                .map_err(|e| e.to_string())
        });
        let catalog_path = v.path("catalog-path", Some("catalog.toml"));
        let advisory_sync = v.advisory_sync();
        let advisories_path = match advisory_sync {
            Some(Some(_)) if v.find("advisories-path").is_none() => Some(Vec::new()),
            _ => v.paths("advisories-path", "advisories"),
        };
        let workers = v.int("workers", Some(2), 1, 64);
        let max_open_fix_prs = v.int("max-open-fix-prs", Some(5), 0, 1000);
        let log_format = v.parse("log-format", Some("text"), |s| match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("{s:?} is not a log format; use `text` or `json`")),
        });
        let job_lease = v.int("job-lease-seconds", Some(300), 10, 86_400);
        let job_max_attempts = v.int("job-max-attempts", Some(8), 1, 100);
        let shutdown_grace = v.int("shutdown-grace-seconds", Some(30), 0, 3_600);
        let sweep_hours = v.int("sweep-interval-hours", Some(24), 0, 720);
        let sweep_calls = v.int(
            "sweep-calls-per-hour",
            Some(i64::from(crate::service::sweep::DEFAULT_CALLS_PER_HOUR)),
            10,
            1_000_000,
        );
        let max_connections = v.int("max-connections", Some(1024), 1, 65_536);
        let read_timeout = v.int("read-timeout-seconds", Some(10), 1, 300);
        // At least one body at GitHub's size limit must fit.
        let webhook_memory_mib = v.int("webhook-memory-mib", Some(128), 25, 65_536);
        let allow_no_advisories = v.flag("allow-no-advisories", false);
        let policy = v.policy();
        let relock = v.flag("relock", true);
        let relock_timeout = v.int("relock-timeout-seconds", Some(120), 1, 3_600);
        let registries = v.registries();
        let registry = v.registry();
        let web = v.web();
        let notifications = v.notifications();

        let mut problems = v.problems;
        problems.extend(v.file.unknown);
        // Every `None` above has recorded its problem; this only assembles the rest.
        let config = (|| {
            Some(ServiceConfig {
                listen: listen?,
                app_id: app_id?.unsigned_abs(),
                app_slug: app_slug?,
                private_key_path: private_key_path?,
                webhook_secret: webhook_secret?,
                github_api_url: github_api_url?,
                database_url: database_url?,
                catalog_path: catalog_path?,
                advisories_path: advisories_path?,
                advisory_sync: advisory_sync?,
                workers: usize::try_from(workers?).ok()?,
                max_open_fix_prs: u32::try_from(max_open_fix_prs?).ok()?,
                log_format: log_format?,
                job_lease: Duration::from_secs(job_lease?.unsigned_abs()),
                job_max_attempts: u32::try_from(job_max_attempts?).ok()?,
                shutdown_grace: Duration::from_secs(shutdown_grace?.unsigned_abs()),
                sweep_interval: match sweep_hours?.unsigned_abs() {
                    0 => None,
                    hours => Some(Duration::from_secs(hours * 3_600)),
                },
                sweep_calls_per_hour: u32::try_from(sweep_calls?).ok()?,
                max_connections: usize::try_from(max_connections?).ok()?,
                read_timeout: Duration::from_secs(read_timeout?.unsigned_abs()),
                webhook_memory_bytes: usize::try_from(webhook_memory_mib?)
                    .ok()?
                    .saturating_mul(1024 * 1024),
                allow_no_advisories: allow_no_advisories?,
                policy: policy?,
                relock: relock?,
                relock_timeout: Duration::from_secs(relock_timeout?.unsigned_abs()),
                registries: registries?,
                registry: registry?,
                web: web?,
                notifications: notifications?,
            })
        })();
        settle(file_name, config, problems)
    }

    /// Checks what only the file system can tell: the private key can be read.
    pub fn check_files(&self) -> Result<(), ConfigError> {
        match std::fs::metadata(&self.private_key_path) {
            Ok(meta) if meta.is_file() => Ok(()),
            Ok(_) => Err(self.file_problem("is not a file")),
            Err(e) => Err(self.file_problem(&format!("cannot be read: {e}"))),
        }
    }

    fn file_problem(&self, what: &str) -> ConfigError {
        ConfigError {
            problems: vec![ConfigProblem {
                origin: Origin::WholeFile {
                    file: "configuration".to_string(),
                },
                key: "private-key-path".to_string(),
                message: format!("{} {what}", self.private_key_path.display()),
            }],
        }
    }
}

/// The outcome of loading: the configuration only when nothing was wrong, and never an
/// error that lists no problem (a start-up that fails must say why). A `None` without a
/// problem would be a bug in this module; it is still reported, as such.
fn settle(
    file_name: &str,
    config: Option<ServiceConfig>,
    mut problems: Vec<ConfigProblem>,
) -> Result<ServiceConfig, ConfigError> {
    match config {
        Some(config) if problems.is_empty() => Ok(config),
        None if problems.is_empty() => {
            problems.push(ConfigProblem {
                origin: Origin::WholeFile {
                    file: file_name.to_string(),
                },
                key: String::new(),
                message: "the configuration could not be assembled, yet no key reported a \
                          problem: this is a bug in patchwright, please report it"
                    .to_string(),
            });
            Err(ConfigError { problems })
        }
        _ => Err(ConfigError { problems }),
    }
}

#[derive(Default)]
struct FileValues {
    keys: Vec<(String, Found)>,
    policy: Option<(toml::Value, Origin)>,
    advisory_sync: Option<(toml::Value, Origin)>,
    registry: Option<(toml::Value, Origin)>,
    web: Option<(toml::Value, Origin)>,
    notifications: Option<(toml::Value, Origin)>,
    unknown: Vec<ConfigProblem>,
}

fn read_file(file_name: &str, text: &str, problems: &mut Vec<ConfigProblem>) -> FileValues {
    let origin_at = |offset: usize| {
        let (line, column) = line_column(text, offset);
        Origin::File {
            file: file_name.to_string(),
            line,
            column,
        }
    };
    let table = match toml::from_str::<toml::Table>(text) {
        Ok(table) => table,
        Err(e) => {
            let origin = match e.span() {
                Some(span) => origin_at(span.start),
                None => Origin::WholeFile {
                    file: file_name.to_string(),
                },
            };
            problems.push(ConfigProblem {
                origin,
                key: String::new(),
                message: format!("not valid TOML: {}", e.message().trim_end()),
            });
            return FileValues::default();
        }
    };
    // The plain parse above forgets positions; this one keeps the span of every key.
    let key_offsets: Vec<(String, usize)> = match toml::de::DeTable::parse(text) {
        Ok(spanned) => spanned
            .get_ref()
            .iter()
            .map(|(k, _)| (k.get_ref().to_string(), k.span().start))
            .collect(),
        Err(_) => Vec::new(),
    };
    let origin_of = |key: &str| {
        key_offsets
            .iter()
            .find(|(k, _)| k == key)
            .map(|&(_, offset)| origin_at(offset))
            .unwrap_or_else(|| Origin::WholeFile {
                file: file_name.to_string(),
            })
    };

    let mut values = FileValues::default();
    for (key, value) in table {
        let origin = origin_of(&key);
        if key == POLICY_TABLE {
            values.policy = Some((value, origin));
            continue;
        }
        if key == ADVISORY_SYNC_TABLE {
            values.advisory_sync = Some((value, origin));
            continue;
        }
        if key == REGISTRY_TABLE {
            values.registry = Some((value, origin));
            continue;
        }
        if key == WEB_TABLE {
            values.web = Some((value, origin));
            continue;
        }
        if key == NOTIFICATIONS_TABLE {
            values.notifications = Some((value, origin));
            continue;
        }
        if !KEYS.iter().any(|(k, _)| *k == key) {
            let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
            values.unknown.push(ConfigProblem {
                origin,
                key: key.clone(),
                message: format!(
                    "unknown key; the keys are {}, and the [{POLICY_TABLE}], [{ADVISORY_SYNC_TABLE}], [{REGISTRY_TABLE}], [{WEB_TABLE}] and [{NOTIFICATIONS_TABLE}] tables",
                    known.join(", ")
                ),
            });
            continue;
        }
        let raw = match value {
            toml::Value::String(s) => Raw::Str(s),
            toml::Value::Integer(i) => Raw::Int(i),
            toml::Value::Float(_) => Raw::Other("a float"),
            toml::Value::Boolean(b) => Raw::Bool(b),
            toml::Value::Datetime(_) => Raw::Other("a date"),
            toml::Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    toml::Value::String(s) => Some(s),
                    _ => None,
                })
                .collect::<Option<Vec<String>>>()
                .map_or(
                    Raw::Other("an array holding other things than strings"),
                    Raw::List,
                ),
            toml::Value::Table(_) => Raw::Other("a table"),
        };
        values.keys.push((key, Found { raw, origin }));
    }
    values
}

/// The environment variable that overrides `key`.
fn env_var(key: &str) -> &'static str {
    KEYS.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, var)| *var)
        .unwrap_or("")
}

struct Values<'a, F: Fn(&str) -> Option<String>> {
    file_name: &'a str,
    file: FileValues,
    env: &'a F,
    problems: Vec<ConfigProblem>,
}

impl<F: Fn(&str) -> Option<String>> Values<'_, F> {
    /// The value of `key`: the environment wins over the file; `None` when neither has it.
    fn find(&self, key: &str) -> Option<Found> {
        let var = env_var(key);
        if let Some(value) = (self.env)(var).filter(|v| !v.is_empty()) {
            return Some(Found {
                raw: Raw::Str(value),
                origin: Origin::Env {
                    var: var.to_string(),
                },
            });
        }
        self.file
            .keys
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, f)| Found {
                raw: f.raw.clone(),
                origin: f.origin.clone(),
            })
    }

    fn problem(&mut self, origin: Origin, key: &str, message: String) {
        self.problems.push(ConfigProblem {
            origin,
            key: key.to_string(),
            message,
        });
    }

    fn missing(&mut self, key: &str) {
        let var = env_var(key);
        let origin = Origin::WholeFile {
            file: self.file_name.to_string(),
        };
        self.problem(
            origin,
            key,
            format!("is required; set `{key}` in the file or the environment variable {var}"),
        );
    }

    /// A string key, validated by `check`.
    fn parse<T>(
        &mut self,
        key: &str,
        default: Option<&str>,
        check: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let Some(found) = self.find(key) else {
            return match default {
                Some(d) => check(d).ok(),
                None => {
                    self.missing(key);
                    None
                }
            };
        };
        let text = match found.raw {
            Raw::Str(s) => s,
            Raw::Int(i) => {
                let message = format!("expected a string, found the integer {i}");
                self.problem(found.origin, key, message);
                return None;
            }
            Raw::Bool(b) => {
                let message = format!("expected a string, found the boolean {b}");
                self.problem(found.origin, key, message);
                return None;
            }
            Raw::List(_) => {
                let message = "expected a string, found an array".to_string();
                self.problem(found.origin, key, message);
                return None;
            }
            Raw::Other(what) => {
                let message = format!("expected a string, found {what}");
                self.problem(found.origin, key, message);
                return None;
            }
        };
        match check(text.trim()) {
            Ok(v) => Some(v),
            Err(message) => {
                self.problem(found.origin, key, message);
                None
            }
        }
    }

    fn path(&mut self, key: &str, default: Option<&str>) -> Option<PathBuf> {
        self.parse(key, default, |s| {
            if s.is_empty() {
                Err("is empty; give a file path".to_string())
            } else {
                Ok(PathBuf::from(s))
            }
        })
    }

    /// A key of one path or several: a string or an array of strings in the file, and in the
    /// environment a list separated as `PATH` is (`:` on Unix). `default` when absent.
    fn paths(&mut self, key: &str, default: &str) -> Option<Vec<PathBuf>> {
        let Some(found) = self.find(key) else {
            return Some(vec![PathBuf::from(default)]);
        };
        let from_env = matches!(found.origin, Origin::Env { .. });
        let items: Vec<String> = match (found.raw, from_env) {
            (Raw::Str(s), true) => std::env::split_paths(s.trim())
                .map(|p| p.to_string_lossy().into_owned())
                .collect(),
            (Raw::Str(s), _) => vec![s],
            (Raw::List(items), _) => items,
            (Raw::Int(i), _) => {
                let message =
                    format!("expected a path or an array of paths, found the integer {i}");
                self.problem(found.origin, key, message);
                return None;
            }
            (Raw::Bool(b), _) => {
                let message =
                    format!("expected a path or an array of paths, found the boolean {b}");
                self.problem(found.origin, key, message);
                return None;
            }
            (Raw::Other(what), _) => {
                let message = format!("expected a path or an array of paths, found {what}");
                self.problem(found.origin, key, message);
                return None;
            }
        };
        let mut paths = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item = item.trim();
            if item.is_empty() {
                let message = format!(
                    "entry {} is empty; give a folder path (or leave the entry out)",
                    i + 1
                );
                self.problem(found.origin, key, message);
                return None;
            }
            let path = PathBuf::from(item);
            if paths.contains(&path) {
                let message = format!("{item:?} is named twice; name each folder once");
                self.problem(found.origin, key, message);
                return None;
            }
            paths.push(path);
        }
        Some(paths)
    }

    /// An integer key within `min..=max`; the environment gives it as decimal text.
    fn int(&mut self, key: &str, default: Option<i64>, min: i64, max: i64) -> Option<i64> {
        let Some(found) = self.find(key) else {
            if default.is_none() {
                self.missing(key);
            }
            return default;
        };
        let value = match found.raw {
            Raw::Int(i) => i,
            Raw::Str(s) => match s.trim().parse::<i64>() {
                Ok(i) => i,
                Err(_) => {
                    let message = format!("{s:?} is not a whole number");
                    self.problem(found.origin, key, message);
                    return None;
                }
            },
            Raw::Bool(b) => {
                let message = format!("expected a whole number, found the boolean {b}");
                self.problem(found.origin, key, message);
                return None;
            }
            Raw::List(_) => {
                let message = "expected a whole number, found an array".to_string();
                self.problem(found.origin, key, message);
                return None;
            }
            Raw::Other(what) => {
                let message = format!("expected a whole number, found {what}");
                self.problem(found.origin, key, message);
                return None;
            }
        };
        if (min..=max).contains(&value) {
            Some(value)
        } else {
            let message = format!("{value} is out of range; use {min} to {max}");
            self.problem(found.origin, key, message);
            None
        }
    }

    /// A boolean key, `default` unless set; the environment gives it as `true` or `false`.
    fn flag(&mut self, key: &str, default: bool) -> Option<bool> {
        let Some(found) = self.find(key) else {
            return Some(default);
        };
        let value = match found.raw {
            Raw::Bool(b) => Some(b),
            Raw::Str(s) => match s.trim() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            Raw::Int(_) | Raw::List(_) | Raw::Other(_) => None,
        };
        if value.is_none() {
            let message = "expected `true` or `false`".to_string();
            self.problem(found.origin, key, message);
        }
        value
    }

    /// A string key that may be absent (`Some(None)`), validated by `check` when present.
    fn optional<T>(
        &mut self,
        key: &str,
        check: impl Fn(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        if self.find(key).is_none() {
            return Some(None);
        }
        self.parse(key, None, check).map(Some)
    }

    /// The package managers' registries. The npm token is never a key of its own: the
    /// configuration names the environment variable that holds it, so it is never in a file.
    fn registries(&mut self) -> Option<Registries> {
        let url = |s: &str| {
            if s.starts_with("https://") || s.starts_with("http://") {
                Ok(s.to_string())
            } else {
                Err(format!("{s:?} is not an http(s) URL"))
            }
        };
        let npm = self.optional("npm-registry", url);
        let token_var = self.optional("npm-token-env", |s| {
            if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                Ok(s.to_string())
            } else {
                Err(format!(
                    "{s:?} is not an environment variable name; name the variable that holds the token, e.g. `NPM_TOKEN`"
                ))
            }
        });
        let crates = self.optional("crates-registry", |s| {
            if s.starts_with("sparse+https://") || s.starts_with("sparse+http://") {
                Ok(s.to_string())
            } else {
                Err(format!(
                    "{s:?} is not a sparse index URL; write it as `sparse+https://HOST/index/`"
                ))
            }
        });
        let goproxy = self.optional("goproxy", |s| Ok::<_, String>(s.to_string()));
        let gosumdb = self.optional("gosumdb", |s| Ok::<_, String>(s.to_string()));
        let pypi = self.optional("pypi-index", url);
        let npm_token = match token_var? {
            None => None,
            Some(var) => match (self.env)(&var).filter(|t| !t.is_empty()) {
                Some(token) => Some(token),
                None => {
                    let origin = self.find("npm-token-env")?.origin;
                    let message = format!(
                        "names the environment variable {var}, which is not set: set it to the npm registry's token, or remove npm-token-env"
                    );
                    self.problem(origin, "npm-token-env", message);
                    return None;
                }
            },
        };
        Some(Registries {
            npm: npm?,
            npm_token,
            crates: crates?,
            goproxy: goproxy?,
            gosumdb: gosumdb?,
            pypi: pypi?,
        })
    }

    /// The `[advisory-sync]` table: `Some(None)` when absent, `None` when it is wrong.
    fn advisory_sync(
        &mut self,
    ) -> Option<Option<crate::knowledge::serve_sync::AdvisorySyncConfig>> {
        let Some((value, origin)) = self.file.advisory_sync.take() else {
            return Some(None);
        };
        match crate::knowledge::serve_sync::AdvisorySyncConfig::from_toml(value) {
            Ok(config) => Some(Some(config)),
            Err(message) => {
                self.problem(origin, ADVISORY_SYNC_TABLE, message);
                None
            }
        }
    }

    /// The `[registry]` table: `Some(None)` when absent or disabled, `None` when it is wrong.
    /// A relative `credentials-file` is taken from the working directory, as the other paths.
    fn registry(&mut self) -> Option<Option<crate::registry::RegistryConfig>> {
        let Some((value, origin)) = self.file.registry.take() else {
            return Some(None);
        };
        let table = match value.try_into::<crate::registry::config::RegistryTable>() {
            Ok(table) => table,
            Err(e) => {
                self.problem(origin, REGISTRY_TABLE, e.message().trim_end().to_string());
                return None;
            }
        };
        match table.into_config(self.file_name, std::path::Path::new("")) {
            Ok(config) => Some(config.enabled.then_some(config)),
            Err(e) => {
                let message = match e {
                    crate::registry::config::ConfigError::Invalid { message, .. } => message,
                    other => other.to_string(),
                };
                self.problem(origin, REGISTRY_TABLE, message);
                None
            }
        }
    }

    /// The `[web]` table: `Some(None)` when absent, `None` when it is wrong.
    fn web(&mut self) -> Option<Option<crate::web::WebConfig>> {
        let Some((value, origin)) = self.file.web.take() else {
            return Some(None);
        };
        match crate::web::WebConfig::from_toml(value, |var| std::env::var(var).ok()) {
            Ok(config) => Some(Some(config)),
            Err(message) => {
                self.problem(origin, WEB_TABLE, message);
                None
            }
        }
    }

    /// The `[notifications]` table: `Some(None)` when absent or disabled, `None` when wrong.
    fn notifications(&mut self) -> Option<Option<crate::notify::NotifyConfig>> {
        let Some((value, origin)) = self.file.notifications.take() else {
            return Some(None);
        };
        match crate::notify::NotifyConfig::from_toml(value, |var| std::env::var(var).ok()) {
            Ok(config) => Some(config),
            Err(message) => {
                self.problem(origin, NOTIFICATIONS_TABLE, message);
                None
            }
        }
    }

    fn policy(&mut self) -> Option<OrgPolicy> {
        let Some((value, origin)) = self.file.policy.take() else {
            return Some(OrgPolicy::default());
        };
        match value.try_into::<OrgPolicy>() {
            Ok(policy) => match policy.validate() {
                Ok(()) => Some(policy),
                Err(message) => {
                    self.problem(origin, POLICY_TABLE, message);
                    None
                }
            },
            Err(e) => {
                let message = e.message().trim_end().to_string();
                self.problem(origin, POLICY_TABLE, message);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;

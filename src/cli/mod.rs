//! The command line: `scan`, `fix`, `catalog check`, `rules`, `serve`, `setup`, `advisories`, `image`. The edge where the clock
//! is read, files are loaded and exit codes are chosen; everything it calls is pure.

mod advisories;
mod fix;
mod image;
mod knowledge;
mod registry;
mod report;
mod scan;
mod setup;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes: 0 nothing blocks, 1 something blocks, 2 usage or configuration error.
pub const EXIT_OK: u8 = 0;
pub const EXIT_BLOCKED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "patchwright",
    version,
    about = "Keeps container images and dependencies inside your security policy."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan a directory: inventory, findings and their levels. Exit 1 when something blocks.
    Scan(ScanArgs),
    /// Apply every available fix in place as minimal edits, re-scan and report before/after.
    Fix(FixArgs),
    /// Work with the curated catalog.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// List the rule ids with their descriptions and default levels.
    Rules,
    /// Run the GitHub App service.
    Serve(ServeArgs),
    /// Create the GitHub App through GitHub's manifest flow, before any configuration: serves
    /// /setup until the App's id, key and secrets are written to a file.
    Setup(setup::SetupArgs),
    /// Keep a directory of OSV advisories current from osv.dev or a mirror.
    #[command(subcommand)]
    Advisories(advisories::AdvisoriesCommand),
    /// Remediation figures over the service's store (MTTR, SLAs, fix PR outcomes), text or JSON.
    Report(report::ReportArgs),
    /// What is inside an image (OCI layout directory or `docker save` tarball): OS packages,
    /// their advisories, the candidate that clears the most, and an SBOM.
    Image(image::ImageArgs),
}

#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// The directory (or single file) to scan.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Organisation configuration (TOML): `catalog`, `advisories` and the `[policy]` table.
    #[arg(long, env = "PATCHWRIGHT_CONFIG")]
    pub config: Option<PathBuf>,
    /// The curated catalog (TOML). Overrides the config's `catalog`.
    #[arg(long, env = "PATCHWRIGHT_CATALOG")]
    pub catalog: Option<PathBuf>,
    /// A directory of OSV advisories (`*.json`); repeatable. Overrides the config's `advisories`.
    #[arg(long)]
    pub advisories: Vec<PathBuf>,
    /// Skip paths matching this gitignore-style glob (repeatable), besides .gitignore.
    #[arg(long)]
    pub exclude: Vec<String>,
    /// The repository's tier, overriding `.github/patchwright.toml`.
    #[arg(long)]
    pub tier: Option<String>,
    /// Exit 1 when a file could not be read in full (not UTF-8, a line that does not parse, a
    /// link out of the project), even when nothing blocks.
    #[arg(long)]
    pub fail_on_errors: bool,
    /// Evaluate the policy as of this date (YYYY-MM-DD) instead of today.
    #[arg(long, value_parser = parse_date)]
    pub today: Option<chrono::NaiveDate>,
    /// Ask the container registries for the images' tags and digests: fixes then move only to
    /// tags the registry has and pin digests. Off by default (offline).
    #[arg(long)]
    pub registry: bool,
    /// Registry settings (TOML: `mirrors`, `credentials-file`, `cache-ttl-secs`,
    /// `pin-digests`, …; see README). Turns lookups on unless it says `enabled = false`.
    #[arg(long, value_name = "FILE", env = "PATCHWRIGHT_REGISTRY_CONFIG")]
    pub registry_config: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::render::Format,
}

#[derive(Args, Debug)]
pub struct FixArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Print a unified diff of the fixes and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Commit the fixes on this new branch (git repositories only), on top of HEAD as committed:
    /// uncommitted edits and untracked files stay out; the work tree and the current branch stay
    /// untouched.
    #[arg(long, conflicts_with = "dry_run")]
    pub branch: Option<String>,
    #[command(flatten)]
    pub relock: RelockArgs,
}

/// How `fix` re-locks lockfiles with their package managers.
#[derive(Args, Debug, Clone)]
pub struct RelockArgs {
    /// Do not run package managers: lockfiles that need a re-lock only get the command to run
    /// (offline use).
    #[arg(long)]
    pub no_relock: bool,
    /// The npm registry to re-lock package-lock.json, yarn.lock and pnpm-lock.yaml against
    /// (default: the package manager's own).
    /// Its token, if it needs one, comes from PATCHWRIGHT_NPM_TOKEN.
    #[arg(long, env = "PATCHWRIGHT_NPM_REGISTRY", value_name = "URL")]
    pub npm_registry: Option<String>,
    /// A sparse index that replaces crates.io when re-locking Cargo.lock
    /// (`sparse+https://mirror.example.com/index/`).
    #[arg(long, env = "PATCHWRIGHT_CRATES_REGISTRY", value_name = "URL")]
    pub crates_registry: Option<String>,
    /// The simple package index (PEP 503) hashed requirements files take their new `--hash`
    /// values from, and uv.lock is re-locked against (default: `https://pypi.org/simple/`).
    #[arg(long, env = "PATCHWRIGHT_PYPI_INDEX", value_name = "URL")]
    pub pypi_index: Option<String>,
    /// Seconds a package manager may run before it is stopped.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub relock_timeout: u64,
}

#[derive(Subcommand, Debug)]
pub enum CatalogCommand {
    /// Validate a catalog file; errors are printed as file:line:column: message.
    Check { file: PathBuf },
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Service configuration (see config.example.toml).
    #[arg(long, env = "PATCHWRIGHT_CONFIG")]
    pub config: Option<PathBuf>,
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date like 2026-11-23"))
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Fix(args) => fix::run(args),
        Command::Catalog(CatalogCommand::Check { file }) => catalog_check(&file),
        Command::Rules => {
            print!("{}", crate::render::text::rules());
            EXIT_OK
        }
        Command::Serve(args) => serve(args),
        Command::Setup(args) => exit_code(setup::run(args)),
        Command::Advisories(command) => advisories::run(command),
        Command::Report(args) => exit_code(report::run(args)),
        Command::Image(args) => image::run(args),
    };
    ExitCode::from(code)
}

fn catalog_check(file: &std::path::Path) -> u8 {
    match crate::catalog::load_catalog(file) {
        Ok(catalog) => {
            println!(
                "{}: ok ({} images, {} packages, revision {})",
                file.display(),
                catalog.images.len(),
                catalog.packages.len(),
                catalog.revision
            );
            EXIT_OK
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("{}: {} error(s)", file.display(), errors.len());
            EXIT_USAGE
        }
    }
}

fn serve(args: ServeArgs) -> u8 {
    let config = match crate::service::config::ServiceConfig::load(args.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&anyhow::anyhow!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(crate::service::app::run(config, args.config.clone())) {
        Ok(()) => EXIT_OK,
        Err(e) => fail(&e),
    }
}

/// What `scan` and `fix` both start from: the knowledge, the files, the day and the options.
struct Prepared {
    knowledge: crate::pipeline::Knowledge,
    checkout: crate::forge::local::Checkout,
    /// The checkout's manifests, in path order, when they were parsed as they were read
    /// ([`Reading::ParseOffline`] without registry lookups).
    manifests: Option<Vec<crate::model::ParsedManifest>>,
    today: chrono::NaiveDate,
    options: crate::pipeline::RunOptions,
    /// Registry lookups, when turned on.
    registry: Option<registry::Session>,
}

/// How [`prepare`] reads the checkout.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// Every file's text kept, nothing parsed.
    Texts,
    /// Offline (no registry lookups), each manifest parsed on the thread that read it, and the
    /// text of a lockfile nothing edits dropped at once ([`crate::pipeline::parse_releasing`]):
    /// for `scan`, which reads the checkout once and no further than the report. With lookups
    /// the pipeline may run twice on the texts, so they are kept.
    ParseOffline,
}

/// Loads everything a run needs; the only place the CLI reads the clock.
fn prepare(common: &CommonArgs, reading: Reading) -> anyhow::Result<Prepared> {
    let knowledge = knowledge::load(common)?;
    if let Some(tier) = &common.tier {
        let known = knowledge.policy.tier_names();
        if !known.contains(&tier.as_str()) {
            anyhow::bail!(
                "--tier `{tier}` is not a tier of the policy; the known tiers are: {}",
                known.join(", ")
            );
        }
    }
    let registry = registry::Session::start(common)?;
    let (checkout, manifests) = if reading == Reading::ParseOffline && registry.is_none() {
        let (checkout, manifests) = crate::forge::local::read_checkout_with(
            &common.path,
            &common.exclude,
            crate::pipeline::parse_releasing,
        )?;
        (checkout, Some(crate::pipeline::in_path_order(manifests)))
    } else {
        let checkout = crate::forge::local::read_checkout(&common.path, &common.exclude)?;
        (checkout, None)
    };
    if checkout.is_partial() {
        eprintln!(
            "note: scanning {} of the project at {}: paths are given from there and its repository config applies; exceptions that match nothing here are not reported as unused",
            checkout.scope,
            checkout.root.display()
        );
    }
    Ok(Prepared {
        options: crate::pipeline::RunOptions {
            tier: common.tier.clone(),
            partial: checkout.is_partial(),
            no_digest_pins: registry.as_ref().is_some_and(|r| !r.config.pin_digests),
            ..Default::default()
        },
        registry,
        knowledge,
        checkout,
        manifests,
        today: common
            .today
            .unwrap_or_else(|| chrono::Local::now().date_naive()),
    })
}

/// The exit status of a finished scan: 1 when something blocks, or when `--fail-on-errors` is
/// given and a file could not be read in full; else 0.
fn verdict(report: &crate::report::Report, common: &CommonArgs) -> u8 {
    if report.has_blockers() || (common.fail_on_errors && !report.errors.is_empty()) {
        EXIT_BLOCKED
    } else {
        EXIT_OK
    }
}

/// The exit code of a command's result: its own code, or the usage code after printing the error.
fn exit_code(result: anyhow::Result<u8>) -> u8 {
    result.unwrap_or_else(|e| fail(&e))
}

/// Prints an error that stops the command, with its causes, and gives the usage exit code.
fn fail(error: &anyhow::Error) -> u8 {
    eprintln!("patchwright: {error:#}");
    EXIT_USAGE
}

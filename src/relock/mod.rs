//! Re-locking: a lockfile that records checksums or resolved URLs is changed by its own package
//! manager, never by hand.
//!
//! The seam has a pure middle and one I/O edge:
//! - [`plan`] (pure) turns a finding whose fix needs a re-lock into a [`Request`]: which package
//!   manager, which lockfile, which package from → to, direct or transitive; or says why the
//!   package manager cannot do it (a transitive target outside what its parents allow).
//! - [`Relocker::relock`] (the edge) builds a working copy made only of the files the package
//!   manager needs (manifest and lockfile, from a [`FileSource`]) in a temporary directory, runs
//!   the package manager there with install scripts off, a scrubbed environment, a timeout and an
//!   output cap, and reads the result back.
//! - [`changes`] (pure) compares the old and new lockfile with the project's own parsers (which
//!   entries changed, from → to) and turns the new bytes into minimal line edits.
//! - `remedy::relocked` (pure) attaches the outcome to the finding's fix, or the failure as a
//!   note; a failed re-lock never blocks the other fixes.

pub mod changes;
mod files;
mod managers;
pub mod npm_range;
pub mod plan;
pub mod pypi;
mod sandbox;
mod tools;
mod yarn_blocks;

pub use changes::LockChange;
pub use files::{DirSource, FileSource};
pub use plan::{Manager, Request};
pub use sandbox::Limits;
pub use tools::{Availability, availability};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// What a successful re-lock produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relocked {
    /// Every file the package manager changed, repository-relative, with its new content: the
    /// lockfile, and the manifest when it changed (a direct npm dependency's range).
    pub files: BTreeMap<String, String>,
    /// The original content of those files, as the working copy was built from.
    pub originals: BTreeMap<String, String>,
    /// Lock entries that changed, from re-parsing the old and new lockfile.
    pub changes: Vec<LockChange>,
    /// The command that was run, for the risk statement.
    pub command: String,
}

/// Why a re-lock did not happen. Every variant reads as the end of "re-lock failed: …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelockError {
    #[error("`{tool}` is not installed (not found on PATH), so {manager} cannot be re-locked here")]
    ToolMissing { tool: String, manager: String },
    #[error("`{command}` exited with {status}: {stderr_tail}")]
    Failed {
        command: String,
        status: String,
        stderr_tail: String,
    },
    #[error("`{command}` did not finish within {seconds} s and was stopped")]
    TimedOut { command: String, seconds: u64 },
    #[error("`{command}` wrote more than {limit} bytes of output and was stopped")]
    OutputTooLarge { command: String, limit: usize },
    #[error("{0} is needed for the re-lock but is not in the repository")]
    MissingFile(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("the package manager left {package} at {found} instead of {wanted}")]
    NotApplied {
        package: String,
        wanted: String,
        found: String,
    },
    #[error("the re-locked {file} does not verify: {detail}")]
    Unverified { file: String, detail: String },
    #[error("working copy: {0}")]
    Io(String),
    #[error("the package index: {0}")]
    Index(String),
}

impl From<std::io::Error> for RelockError {
    fn from(e: std::io::Error) -> RelockError {
        RelockError::Io(e.to_string())
    }
}

/// Where each package manager fetches from. `None` keeps the package manager's default public
/// registry. Tokens are read from the environment by the caller and never logged.
#[derive(Clone, Default)]
pub struct Registries {
    /// npm registry URL (also used by yarn), e.g. `https://npm.example.com/`.
    pub npm: Option<String>,
    /// Auth token for the npm registry, written only into the working copy's own `.npmrc`.
    pub npm_token: Option<String>,
    /// A sparse index URL that replaces crates.io (`sparse+https://…/index/`), for a mirror.
    pub crates: Option<String>,
    /// GOPROXY for Go modules (`https://proxy.example.com`, `file:///…`).
    pub goproxy: Option<String>,
    /// GOSUMDB (`off` for a proxy of private modules the checksum database cannot know).
    pub gosumdb: Option<String>,
    /// A PEP 503 simple index (`https://pypi.example.com/simple/`) that hashed requirements
    /// files take their new hashes from, and uv re-locks against (`--default-index`); PyPI's
    /// (or the project's own index settings) when `None`.
    pub pypi: Option<String>,
}

impl std::fmt::Debug for Registries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registries")
            .field("npm", &self.npm)
            .field("npm_token", &self.npm_token.as_ref().map(|_| "<redacted>"))
            .field("crates", &self.crates)
            .field("goproxy", &self.goproxy)
            .field("gosumdb", &self.gosumdb)
            .field("pypi", &self.pypi)
            .finish()
    }
}

/// Runs package managers in throwaway working copies.
#[derive(Debug, Clone)]
pub struct Relocker {
    pub registries: Registries,
    pub limits: Limits,
    /// The PATH the package managers are looked up on and run with.
    pub path: std::ffi::OsString,
    /// Where temporary working copies go (the system's temp dir when `None`).
    pub temp_root: Option<PathBuf>,
}

impl Relocker {
    /// A relocker that finds package managers on this process's PATH, with default limits.
    pub fn from_env(registries: Registries) -> Relocker {
        Relocker {
            registries,
            limits: Limits::default(),
            path: std::env::var_os("PATH").unwrap_or_default(),
            temp_root: None,
        }
    }

    /// Re-locks one request against the repository's files. Never touches `files`' origin:
    /// everything happens in a temporary copy that is removed afterwards.
    pub fn relock(
        &self,
        request: &Request,
        files: &dyn FileSource,
    ) -> Result<Relocked, RelockError> {
        if request.manager == Manager::Pip {
            // No package manager runs: the hashes come from the index (see `pypi`).
            let done = managers::pip::relock(request, files, &self.registries, self.limits)?;
            return finish(request, done);
        }
        let (_work, ctx) = self.context(request.manager)?;
        let done = match request.manager {
            Manager::Npm => managers::npm::relock(request, files, &ctx),
            Manager::Cargo => managers::cargo::relock(request, files, &ctx),
            Manager::Yarn => managers::yarn::relock(request, files, &ctx),
            Manager::Poetry => managers::poetry::relock(request, files, &ctx),
            Manager::Go => managers::go::relock(request, files, &ctx),
            Manager::Pip => managers::pip::relock(request, files, &self.registries, self.limits),
            Manager::Pnpm => managers::pnpm::relock(request, files, &ctx),
            Manager::Uv => managers::uv::relock(request, files, &ctx),
            Manager::Composer => managers::composer::relock(request, files, &ctx),
            Manager::Bundler => managers::bundler::relock(request, files, &ctx),
            Manager::Pipenv => managers::pipenv::relock(request, files, &ctx),
        }?;
        finish(request, done)
    }
}

impl Relocker {
    /// A fresh working copy for `manager`'s program; the folder goes when the guard drops.
    fn context(
        &self,
        manager: Manager,
    ) -> Result<(tempfile::TempDir, sandbox::Context), RelockError> {
        let tool = manager.tool();
        let Some(program) = tools::find(tool, &self.path) else {
            return Err(RelockError::ToolMissing {
                tool: tool.to_string(),
                manager: manager.label().to_string(),
            });
        };
        let work = match &self.temp_root {
            Some(root) => tempfile::Builder::new()
                .prefix("patchwright-relock-")
                .tempdir_in(root)?,
            None => tempfile::Builder::new()
                .prefix("patchwright-relock-")
                .tempdir()?,
        };
        let ctx = sandbox::Context::new(work.path(), program, self)?;
        Ok((work, ctx))
    }

    /// osv-scanner's "relax" strategy for a transitive target that its parents' ranges refuse
    /// (package-lock.json or yarn.lock v1; both take their packages from the npm registry): for
    /// each such parent, the lowest later release whose range allows `to`, asked of the registry
    /// with `npm view` (so the registry settings and token apply). Said as one sentence; `None`
    /// when nothing could be asked (no npm, registry unreachable).
    pub fn relax(
        &self,
        manager: Manager,
        lock: &str,
        name: &str,
        from: &str,
        to: &str,
    ) -> Option<String> {
        let refusing = plan::refusing_parents(manager, lock, name, from, to).ok()?;
        let (_work, ctx) = self.context(Manager::Npm).ok()?;
        managers::npm::write_npmrc(&ctx).ok()?;
        let mut said = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for parent in refusing {
            if parent.version.is_empty()
                || !seen.insert((parent.name.clone(), parent.version.clone()))
            {
                continue;
            }
            let spec = format!("{}@>{}", parent.name, parent.version);
            let keys: Vec<String> = ["dependencies", "optionalDependencies", "peerDependencies"]
                .iter()
                .map(|k| format!("{k}.{name}"))
                .collect();
            let mut args = vec!["view", spec.as_str(), "version"];
            args.extend(keys.iter().map(String::as_str));
            args.push("--json");
            let output = ctx
                .capture("", &args, &[("npm_config_update_notifier", "false")])
                .ok()?;
            if !output.status.success() {
                return None;
            }
            said.push(match plan::relax_choice(&output.stdout, name, to) {
                Some((version, Some(range))) => format!(
                    "upgrading {} {} → {version} brings {name} {to} within range (it requires {name} `{range}`)",
                    parent.name, parent.version
                ),
                Some((version, None)) => format!(
                    "upgrading {} {} → {version} drops its dependency on {name}",
                    parent.name, parent.version
                ),
                None => format!(
                    "no release of {} after {} allows {name} {to} yet",
                    parent.name, parent.version
                ),
            });
        }
        (!said.is_empty()).then(|| format!("relax: {}", said.join("; ")))
    }
}

/// What a package manager module hands back: the command it ran and every working-copy file
/// it may have changed (repository path, old content, new content).
pub(crate) struct Done {
    command: String,
    files: Vec<(String, String, String)>,
}

/// Keeps what changed, computes the changed lock entries and checks the target was reached.
fn finish(request: &Request, done: Done) -> Result<Relocked, RelockError> {
    let mut files = BTreeMap::new();
    let mut originals = BTreeMap::new();
    let mut lock_changes = Vec::new();
    for (path, old, new) in done.files {
        if path == request.lockfile {
            lock_changes = changes::lock_changes(&path, &old, &new);
        }
        if old != new {
            files.insert(path.clone(), new);
            originals.insert(path, old);
        }
    }
    let reached = lock_changes
        .iter()
        .any(|c| c.name == request.package && c.to.as_deref() == Some(request.to.as_str()));
    if !reached {
        // The entry that left `from` (a package can be installed at several versions).
        let found = lock_changes
            .iter()
            .find(|c| c.name == request.package && c.from.as_deref() == Some(&request.from))
            .and_then(|c| c.to.clone())
            .unwrap_or_else(|| request.from.clone());
        return Err(RelockError::NotApplied {
            package: request.package.clone(),
            wanted: request.to.clone(),
            found,
        });
    }
    Ok(Relocked {
        files,
        originals,
        changes: lock_changes,
        command: done.command,
    })
}

/// The default time a package manager gets.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// What happened to one re-lock request, for the CLI's report and the service's log.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub request: Result<Request, String>,
    /// The changed lock entries, or why there are none.
    pub outcome: Result<Vec<LockChange>, String>,
    /// How long the package manager took (zero when none ran).
    pub elapsed: Duration,
}

/// Re-locks every finding whose fix needs it, one package-manager run per dependency, each
/// against the repository's files as they are (so each fix stands alone, as a fix PR does).
/// Successful re-locks become line edits on the findings' fixes; manifests a package manager
/// changed (package.json) are added to `snapshot` so the edits apply and re-scan like any other.
/// `on_attempt` hears of each attempt as it ends (package managers can take a while).
pub fn relock_findings(
    findings: &mut [crate::model::Finding],
    snapshot: &mut crate::snapshot::RepoSnapshot,
    relocker: &Relocker,
    files: &dyn FileSource,
    on_attempt: &mut dyn FnMut(&Attempt),
) -> Vec<Attempt> {
    let mut requests: BTreeMap<Result<Request, String>, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if !f.is_active() {
            continue;
        }
        if let Some(request) = plan::request(f, snapshot) {
            requests.entry(request).or_default().push(i);
        }
    }
    let mut attempts = Vec::new();
    for (request, indices) in requests {
        match &request {
            Err(reason) => {
                let reason = match relax(&findings[indices[0]], snapshot, relocker) {
                    Some(relaxed) => format!("{reason}; {relaxed}"),
                    None => reason.clone(),
                };
                crate::remedy::relocked::refuse(findings, &indices, &reason);
                let attempt = Attempt {
                    request: Err(reason.clone()),
                    outcome: Err(reason),
                    elapsed: Duration::ZERO,
                };
                on_attempt(&attempt);
                attempts.push(attempt);
            }
            Ok(req) => {
                let started = std::time::Instant::now();
                let outcome = relocker.relock(req, files);
                let elapsed = started.elapsed();
                if let Ok(done) = &outcome {
                    for (path, original) in &done.originals {
                        snapshot
                            .files
                            .entry(path.clone())
                            .or_insert_with(|| original.clone());
                    }
                }
                crate::remedy::relocked::attach(findings, &indices, &outcome);
                let attempt = Attempt {
                    request: request.clone(),
                    outcome: outcome.map(|done| done.changes).map_err(|e| e.to_string()),
                    elapsed,
                };
                on_attempt(&attempt);
                attempts.push(attempt);
            }
        }
    }
    attempts
}

/// The relax strategy's sentence for a refused transitive npm or yarn re-lock, if it applies.
fn relax(
    finding: &crate::model::Finding,
    snapshot: &crate::snapshot::RepoSnapshot,
    relocker: &Relocker,
) -> Option<String> {
    let dependency = finding.dependency.as_deref()?;
    let fix = finding.fix.as_ref()?;
    let lockfile = &dependency.location.file;
    let manager = Manager::for_lockfile(lockfile)?;
    let lock = snapshot.files.get(lockfile)?;
    relocker.relax(manager, lock, &dependency.name, &fix.from, &fix.to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(versions: &[&str]) -> String {
        let mut out = String::from("version = 4\n");
        for v in versions {
            out.push_str(&format!(
                "\n[[package]]\nname = \"semver\"\nversion = \"{v}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{v}\"\n"
            ));
        }
        out
    }

    fn request(from: &str, to: &str) -> Request {
        Request {
            manager: Manager::Cargo,
            lockfile: "Cargo.lock".into(),
            package: "semver".into(),
            from: from.into(),
            to: to.into(),
            direct: false,
        }
    }

    #[test]
    fn the_target_must_be_reached_by_the_entry_that_moved() {
        let (old, new) = (lock(&["0.9.0", "1.0.0"]), lock(&["0.9.1", "1.0.0"]));
        let done = || Done {
            command: "cargo update".into(),
            files: vec![("Cargo.lock".into(), old.clone(), new.clone())],
        };
        let ok = finish(&request("0.9.0", "0.9.1"), done()).unwrap();
        assert_eq!(ok.files.len(), 1);
        // The other instance did not move: the message names it, not the one that did.
        let err = finish(&request("1.0.0", "1.0.1"), done()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the package manager left semver at 1.0.0 instead of 1.0.1"
        );
    }
}

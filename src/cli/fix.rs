//! `patchwright fix`: apply every available fix as minimal edits, re-scan, report before/after.

use super::{FixArgs, Prepared, Reading, exit_code, prepare, verdict};
use crate::forge::{git_branch, local};
use crate::pipeline;
use crate::relock::{self, DirSource, Limits, Registries, Relocker};
use crate::remedy;
use crate::render;
use crate::snapshot::RepoSnapshot;
use anyhow::bail;

pub fn run(args: FixArgs) -> u8 {
    exit_code(fix(&args))
}

fn fix(args: &FixArgs) -> anyhow::Result<u8> {
    let Prepared {
        knowledge,
        checkout,
        today,
        mut options,
        registry,
        ..
    } = prepare(&args.common, Reading::Texts)?;
    // A branch is HEAD plus the fix: its files are read from HEAD, not from the work tree.
    let snapshot = match &args.branch {
        Some(_) => head_snapshot(&checkout, &args.common.path, &args.common.exclude)?,
        None => checkout.snapshot.clone(),
    };

    let mut snapshot = snapshot;
    let mut before = super::registry::run(
        registry.as_ref(),
        &snapshot,
        &knowledge,
        today,
        &mut options,
    );
    if !args.relock.no_relock {
        relock(args, &mut before.report.findings, &mut snapshot);
    }
    let edits = remedy::collect_edits(&before.report.findings);
    let after_snapshot = remedy::apply(&snapshot, &edits)?;
    let after = pipeline::run(&after_snapshot, &knowledge, today, &options);
    let verification = remedy::verify(&before.report, &after.report);
    if !verification.new_errors.is_empty() {
        let lines: Vec<String> = verification
            .new_errors
            .iter()
            .map(ToString::to_string)
            .collect();
        bail!(
            "the fixes would break a file, so nothing was written (please report this):\n{}",
            lines.join("\n")
        );
    }

    let changed: Vec<(String, String)> = edits
        .keys()
        .filter_map(|file| Some((file.clone(), after_snapshot.files.get(file)?.clone())))
        .collect();
    if args.dry_run {
        for (file, new) in &changed {
            let old = snapshot
                .files
                .get(file)
                .map(String::as_str)
                .unwrap_or_default();
            print!("{}", render::diff::unified(file, old, new));
        }
    } else if let Some(branch) = &args.branch {
        let base = snapshot.commit.as_deref().unwrap_or_default();
        if changed.is_empty() {
            println!("nothing to fix at HEAD: branch `{branch}` was not created");
        } else {
            let message =
                render::templates::commit_message(&before.report, &after.report, &verification);
            let commit =
                git_branch::commit_on_new_branch(&checkout.root, branch, base, &changed, &message)?;
            println!(
                "committed the fixes as {commit} on branch `{branch}`, on top of HEAD ({}); uncommitted changes and untracked files are not in it",
                &base[..base.len().min(12)]
            );
        }
    } else {
        for (file, content) in &changed {
            local::write_file(&checkout.root, file, content)?;
        }
    }
    print!(
        "{}",
        render::text::fix_summary(
            &before.report,
            &after.report,
            &verification,
            changed.len(),
            args.dry_run
        )
    );
    Ok(verdict(&after.report, &args.common))
}

/// The scanned files as committed at HEAD: the same scope, repository config and exclusions as
/// the work-tree scan, read from git objects.
fn head_snapshot(
    checkout: &local::Checkout,
    path: &std::path::Path,
    excludes: &[String],
) -> anyhow::Result<RepoSnapshot> {
    let excluded = local::exclusions(path, excludes)?;
    let scope = checkout.scope.as_str();
    let root = checkout.root.clone();
    let keep = |file: &str| {
        let in_scope = scope.is_empty()
            || file == scope
            || file.strip_prefix(scope).is_some_and(|r| r.starts_with('/'))
            || local::is_root_extra(file);
        in_scope && !local::is_excluded(&excluded, &root.join(file))
    };
    Ok(git_branch::read_head(&checkout.root, keep)?)
}

/// Runs the package managers for every fix that needs a re-lock, turning their output into the
/// fixes' edits. Says first which lockfiles this machine can re-lock, and after each re-lock what
/// changed or why it failed (a failure leaves that fix as a command to run, nothing else).
fn relock(
    args: &FixArgs,
    findings: &mut [crate::model::Finding],
    snapshot: &mut crate::snapshot::RepoSnapshot,
) {
    let registries = Registries {
        npm: args.relock.npm_registry.clone(),
        npm_token: std::env::var("PATCHWRIGHT_NPM_TOKEN")
            .ok()
            .filter(|t| !t.is_empty()),
        crates: args.relock.crates_registry.clone(),
        pypi: args.relock.pypi_index.clone(),
        ..Registries::default()
    };
    let mut relocker = Relocker::from_env(registries);
    relocker.limits = Limits {
        timeout: std::time::Duration::from_secs(args.relock.relock_timeout.max(1)),
        ..Limits::default()
    };
    let root = &args.common.path;
    let base = if root.is_file() {
        root.parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default()
    } else {
        root.clone()
    };
    let wanted = findings
        .iter()
        .any(|f| f.is_active() && relock::plan::request(f, snapshot).is_some());
    if !wanted {
        return;
    }
    eprintln!("{}", relock::availability(&relocker.path));
    let mut report = |attempt: &relock::Attempt| match (&attempt.request, &attempt.outcome) {
        (Err(why), _) => eprintln!("no re-lock: {why}"),
        (Ok(r), outcome) => {
            let what = format!(
                "{} {} → {} ({}, {:.1} s)",
                r.package,
                r.from,
                r.to,
                r.lockfile,
                attempt.elapsed.as_secs_f64()
            );
            match outcome {
                Ok(changes) => {
                    let listed: Vec<String> = changes.iter().map(ToString::to_string).collect();
                    eprintln!("re-locked {what}: {}", listed.join(", "));
                }
                Err(why) => eprintln!("re-lock failed for {what}: {why}"),
            }
        }
    };
    relock::relock_findings(
        findings,
        snapshot,
        &relocker,
        &DirSource::new(base),
        &mut report,
    );
}

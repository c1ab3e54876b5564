//! `patchwright advisories sync`: keeps a directory of OSV records current from osv.dev or a
//! mirror with its layout. `scan --advisories DIR` reads the result.

use crate::knowledge::{self, Outcome, SyncKind, SyncRequest};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Exit code when at least one ecosystem failed to sync (its last good data stays).
pub const EXIT_SYNC_FAILED: u8 = 3;

#[derive(Subcommand, Debug)]
pub enum AdvisoriesCommand {
    /// Download or update OSV advisories: `<mirror>/<ECOSYSTEM>/all.zip` the first time (or with
    /// --full), then only the records `modified_id.csv` lists as changed since.
    Sync(SyncArgs),
}

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// Base URL of osv.dev's export or of a mirror with the same layout.
    #[arg(long, default_value = knowledge::OSV_DEV_MIRROR)]
    pub mirror: String,
    /// An ecosystem as osv.dev spells it (`npm`, `PyPI`, `crates.io`, `Go`); repeatable.
    #[arg(long = "ecosystem", required = true)]
    pub ecosystems: Vec<String>,
    /// Where the records go (`DIR/<ECOSYSTEM>/<ID>.json`) and the sync state (`DIR/state.json`).
    #[arg(long)]
    pub dir: PathBuf,
    /// Ask for `all.zip` again (conditionally: an unchanged export is not downloaded).
    #[arg(long)]
    pub full: bool,
}

pub fn run(command: AdvisoriesCommand) -> u8 {
    match command {
        AdvisoriesCommand::Sync(args) => sync(&args),
    }
}

fn sync(args: &SyncArgs) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return super::fail(&anyhow::anyhow!("cannot start the async runtime: {e}")),
    };
    let client = match knowledge::http::MirrorClient::new() {
        Ok(client) => client,
        Err(e) => return super::fail(&e.into()),
    };
    let mut code = super::EXIT_OK;
    for ecosystem in &args.ecosystems {
        let request = SyncRequest {
            mirror: &args.mirror,
            ecosystem,
            dir: &args.dir,
            full: args.full,
        };
        match runtime.block_on(knowledge::sync_ecosystem(&client, &request)) {
            Ok(outcome) => print_outcome(ecosystem, &outcome),
            Err(e) => {
                eprintln!(
                    "patchwright: {ecosystem}: sync failed: {e}\n  {}",
                    kept(&args.dir, ecosystem)
                );
                code = EXIT_SYNC_FAILED;
            }
        }
    }
    code
}

fn print_outcome(ecosystem: &str, outcome: &Outcome) {
    let c = &outcome.changes;
    let what = match outcome.kind {
        SyncKind::Unchanged => {
            println!("{ecosystem}: unchanged (the mirror's all.zip is the one already synced)");
            return;
        }
        SyncKind::Full => format!("full sync, {} records", outcome.fetched),
        SyncKind::Incremental => format!("incremental sync, {} records fetched", outcome.fetched),
    };
    let removed = if c.removed.is_empty() {
        String::new()
    } else {
        format!(", {} removed", c.removed.len())
    };
    println!(
        "{ecosystem}: {what}: {} new, {} modified, {} withdrawn{removed}",
        c.new.len(),
        c.modified.len(),
        c.withdrawn.len()
    );
    for e in &outcome.unreadable {
        eprintln!("warning: {e} (kept; a scan skips it)");
    }
}

/// What the reader is left with after a failure: the last good data, or none yet.
fn kept(dir: &std::path::Path, ecosystem: &str) -> String {
    let folder = dir.join(ecosystem);
    let cursor = knowledge::store::read_state(dir)
        .ok()
        .and_then(|s| s.ecosystems.get(ecosystem).and_then(|e| e.cursor));
    match (folder.is_dir(), cursor) {
        (true, Some(cursor)) => format!(
            "kept the last good data in {} (records modified up to {cursor})",
            folder.display()
        ),
        (true, None) => format!("kept the last good data in {}", folder.display()),
        (false, _) => format!("no data yet in {}", folder.display()),
    }
}

//! `patchwright scan`.

use super::{Prepared, ScanArgs, exit_code, prepare, verdict};
use crate::render;

pub fn run(args: ScanArgs) -> u8 {
    exit_code(scan(&args))
}

fn scan(args: &ScanArgs) -> anyhow::Result<u8> {
    let Prepared {
        knowledge,
        checkout,
        today,
        mut options,
        registry,
    } = prepare(&args.common)?;
    let outcome = super::registry::run(
        registry.as_ref(),
        &checkout.snapshot,
        &knowledge,
        today,
        &mut options,
    );
    // JSON and SARIF are streamed: on a large monorepo the report text alone is tens of
    // megabytes, and SARIF's document built whole as much again.
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    render::write(&outcome.report, args.format, &mut out)?;
    Ok(verdict(&outcome.report, &args.common))
}

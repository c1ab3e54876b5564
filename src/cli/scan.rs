//! `patchwright scan`.

use super::{Prepared, Reading, ScanArgs, exit_code, prepare, verdict};
use crate::render;
use std::io::Write as _;

pub fn run(args: ScanArgs) -> u8 {
    exit_code(scan(&args))
}

fn scan(args: &ScanArgs) -> anyhow::Result<u8> {
    let Prepared {
        knowledge,
        checkout,
        manifests,
        today,
        mut options,
        registry,
    } = prepare(&args.common, Reading::ParseOffline)?;
    let outcome = match (&registry, manifests) {
        (None, Some(manifests)) => {
            let outcome = crate::pipeline::run_parsed(
                &checkout.snapshot,
                manifests,
                &knowledge,
                today,
                &options,
            );
            super::registry::note_offline(&outcome);
            outcome
        }
        (session, _) => super::registry::run(
            session.as_ref(),
            &checkout.snapshot,
            &knowledge,
            today,
            &mut options,
        ),
    };
    // JSON and SARIF are streamed: on a large monorepo the report text alone is tens of
    // megabytes, and SARIF's document built whole as much again.
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    render::write(&outcome.report, args.format, &mut out)?;
    out.flush()?;
    let code = verdict(&outcome.report, &args.common);
    // The process ends as soon as this returns, and the OS takes its memory back at once;
    // freeing a monorepo's outcome and advisories piece by piece first (hundreds of thousands
    // of small allocations) was a tenth of the scan's time. Everything that has to leave the
    // process (the report, flushed above) has left; nothing here owns a file, lock or socket
    // whose drop does work.
    std::mem::forget(outcome);
    std::mem::forget(checkout);
    std::mem::forget(knowledge);
    Ok(code)
}

//! `patchwright scan`.

use super::{EXIT_BLOCKED, EXIT_OK, ScanArgs, fail, knowledge};
use crate::forge::local;
use crate::pipeline::{self, RunOptions};
use crate::render;

pub fn run(args: ScanArgs) -> u8 {
    match scan(&args) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn scan(args: &ScanArgs) -> anyhow::Result<u8> {
    let knowledge = knowledge::load(&args.common)?;
    let snapshot = local::read_snapshot(&args.common.path, &args.common.exclude)?;
    let today = args
        .common
        .today
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let options = RunOptions {
        tier: args.common.tier.clone(),
    };
    let outcome = pipeline::run(&snapshot, &knowledge, today, &options);
    // JSON is streamed: on a large monorepo the report text alone is tens of megabytes.
    if args.format == render::Format::Json {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        render::write_json(&outcome.report, &mut out)?;
    } else {
        print!("{}", render::render(&outcome.report, args.format));
    }
    Ok(if outcome.report.has_blockers() {
        EXIT_BLOCKED
    } else {
        EXIT_OK
    })
}

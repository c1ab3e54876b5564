//! All user-visible text: terminal text, JSON, SARIF, and the templated risk statement and PR
//! body. Pure functions of a `Report` (and of a fix plan); nothing here does I/O.

pub mod check;
pub mod diff;
pub mod markers;
pub mod messages;
pub mod sarif;
pub mod templates;
pub mod text;

use crate::report::Report;

/// Output formats of `patchwright scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => text::report(report),
        Format::Json => json(report),
        Format::Sarif => sarif::report(report),
    }
}

/// [`render`] written straight to `out`: JSON and SARIF are serialised as they are written,
/// without building the text (or, for SARIF, the document) in memory first.
pub fn write(
    report: &Report,
    format: Format,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Text => {
            out.write_all(text::report(report).as_bytes())?;
            out.flush()
        }
        Format::Json => write_json(report, out),
        Format::Sarif => sarif::write_report(report, out),
    }
}

/// [`json`] written straight to `out`, without building the text in memory first.
pub fn write_json(report: &Report, out: &mut impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// The JSON contract: `inventory`, `findings`, `errors` (plus `summary` and `provenance`).
pub fn json(report: &Report) -> String {
    // Serialising plain data structures with string keys cannot fail.
    let mut out = serde_json::to_string_pretty(report).unwrap_or_default();
    out.push('\n');
    out
}

//! Structured logs with `tracing`: text for people, JSON for collectors; `RUST_LOG` filters.

use crate::service::config::LogFormat;
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// The JSON log format: one object a line, each event's fields at the top level, written to
/// `writer` (stdout in the service; a buffer in tests that check the shape).
pub fn json_subscriber<W>(writer: W) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter())
        .json()
        .flatten_event(true)
        .with_writer(writer)
        .finish()
}

/// Installs the global subscriber once; a second call (or a subscriber the binary already
/// installed) is left alone.
pub fn init(format: LogFormat) {
    let _ = match format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .finish()
            .try_init(),
        LogFormat::Json => json_subscriber(std::io::stdout).try_init(),
    };
}

//! Structured logs with `tracing`: text for people, JSON for collectors; `RUST_LOG` filters.

use crate::service::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; a second call (or a subscriber the binary already
/// installed) is left alone.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

//! The GitHub App service (axum): webhooks, jobs, workers, scheduler, metrics.

//! `patchwright setup`: GitHub's App manifest flow before any configuration exists. Serves
//! `/setup` and its callback (see `web::setup`) until the new App's credentials are written,
//! then exits.

use crate::web::setup::{SetupSettings, Unconfigured};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct SetupArgs {
    /// Where GitHub will reach the service once it runs (`https://patchwright.example.com`):
    /// the App's webhook URL and the callback of this flow are under it.
    #[arg(long)]
    pub public_url: String,
    /// The file to write the App's id, private key and secrets to (created with mode 0600;
    /// an existing file is never replaced).
    #[arg(long)]
    pub output: PathBuf,
    /// The address to serve `/setup` on. Anyone who reaches it can create the App: keep it
    /// on a trusted address.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Create the App under this organisation (else under the signed-in person's account).
    #[arg(long)]
    pub organisation: Option<String>,
    /// The App's name on GitHub (unique there).
    #[arg(long, default_value = "patchwright")]
    pub name: String,
    #[arg(long, default_value = "https://github.com")]
    pub github_url: String,
    #[arg(long, default_value = crate::service::config::DEFAULT_GITHUB_API_URL)]
    pub api_url: String,
}

pub fn run(args: SetupArgs) -> anyhow::Result<u8> {
    for (flag, url) in [
        ("--public-url", &args.public_url),
        ("--github-url", &args.github_url),
        ("--api-url", &args.api_url),
    ] {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            anyhow::bail!("{flag}: `{url}` is not an http(s) URL");
        }
    }
    if args.output.exists() {
        anyhow::bail!(
            "{}: the file already exists (it may hold another App's key); move it away or name another file",
            args.output.display()
        );
    }
    let settings = SetupSettings {
        github_url: args.github_url.trim_end_matches('/').to_string(),
        api_url: args.api_url.trim_end_matches('/').to_string(),
        public_url: args.public_url.trim_end_matches('/').to_string(),
        output: args.output.clone(),
        organisation: args.organisation.clone(),
        name: args.name.clone(),
    };
    let setup = Unconfigured::new(settings, Arc::new(crate::infra::clock::SystemClock))
        .map_err(|e| anyhow::anyhow!(e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
        let mut created = setup.created();
        eprintln!(
            "open http://{}/setup in a browser signed in to GitHub (GitHub sends it back to {}/setup/callback)",
            args.listen,
            args.public_url.trim_end_matches('/')
        );
        let stop = async move {
            tokio::select! {
                _ = created.wait_for(Option::is_some) => {}
                () = crate::service::shutdown_signal() => {}
            }
        };
        axum::serve(listener, setup.router())
            .with_graceful_shutdown(stop)
            .await
            .map_err(|e| anyhow::anyhow!("serving /setup failed: {e}"))?;
        if args.output.exists() {
            eprintln!("the App's credentials are in {}", args.output.display());
            Ok(super::EXIT_OK)
        } else {
            Ok(super::EXIT_USAGE)
        }
    })
}

//! `patchwright image SOURCE`: what is inside an image (an OCI layout directory, a
//! `docker save` tarball, or a registry reference): its OS packages, their advisories, the
//! candidate that clears the most, and a CycloneDX SBOM.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::{EXIT_OK, exit_code};
use crate::catalog::AdvisoryDb;
use crate::image::{
    AnalyseOptions, AnalysedImage, Candidate, Distribution, LayerCache, LayerOrigin, LocalImage,
    OsAdvisories, Platform, Recommendation, RegistryImage, analyse, match_advisories, recommend,
};
use crate::model::{Ecosystem, ImageRef};
use crate::registry::{Lookup, RegistryConfig};

#[derive(Args, Debug)]
pub struct ImageArgs {
    /// An OCI image layout directory, a tarball written by `docker save`, or (when no such
    /// file exists) a registry reference: `registry:port/repo:tag` or `repo@sha256:…`.
    pub source: PathBuf,
    /// The platform to read from a multi-platform image.
    #[arg(long, default_value = "linux/amd64")]
    pub platform: String,
    /// A directory of OSV advisories (`Debian:12`, `Ubuntu:22.04`, `Alpine:v3.19` records);
    /// repeatable.
    #[arg(long)]
    pub advisories: Vec<PathBuf>,
    /// Another image (same forms as SOURCE) to consider moving to; repeatable.
    #[arg(long)]
    pub candidate: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ImageFormat,
    /// Also write a CycloneDX 1.5 JSON SBOM of the image to this file.
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,
    /// Where results per layer digest are kept (default: $XDG_CACHE_HOME/patchwright/layers).
    #[arg(long, env = "PATCHWRIGHT_LAYER_CACHE", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Read every layer, neither using nor filling the layer cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Layers larger than this many MiB are not read (and said so).
    #[arg(long, default_value_t = 1024, value_name = "MIB")]
    pub max_layer_mb: u64,
    /// Registry settings for references (mirrors, credentials, insecure hosts; the keys of
    /// `scan --registry-config`).
    #[arg(long, value_name = "FILE", env = "PATCHWRIGHT_REGISTRY_CONFIG")]
    pub registry_config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImageFormat {
    Text,
    Json,
}

pub fn run(args: ImageArgs) -> u8 {
    exit_code(run_inner(&args))
}

/// One analysed image with its advisories.
struct Analysed {
    image: AnalysedImage,
    advisories: OsAdvisories,
}

fn run_inner(args: &ImageArgs) -> anyhow::Result<u8> {
    let platform = Platform::parse(&args.platform).map_err(anyhow::Error::msg)?;
    let options = AnalyseOptions {
        platform,
        max_layer_bytes: args.max_layer_mb.saturating_mul(1 << 20),
    };
    let cache = (!args.no_cache).then(|| LayerCache::new(cache_dir(args.cache_dir.as_deref())));
    let db = load_advisories(&args.advisories)?;
    let remote = Remote::new(args.registry_config.as_deref());
    let read = |path: &Path| -> anyhow::Result<Analysed> {
        let image = if path.exists() {
            analyse(&LocalImage::open(path)?, &options, cache.as_ref())?
        } else {
            remote.analyse(&path.to_string_lossy(), &options, cache.as_ref())?
        };
        let advisories = match_advisories(&image.os, &db);
        Ok(Analysed { image, advisories })
    };
    let current = read(&args.source)?;
    let candidates = args
        .candidate
        .iter()
        .map(|p| read(p).with_context(|| format!("candidate {}", p.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let recommendation = recommend(
        &current.image.os.label,
        &current.advisories,
        &candidates
            .iter()
            .map(|c| Candidate {
                label: c.image.os.label.clone(),
                advisories: &c.advisories,
                change: change_size(&current.image, &c.image),
            })
            .collect::<Vec<_>>(),
    );
    if let Some(path) = &args.sbom {
        let bom = crate::image::sbom::cyclonedx(
            &current.image,
            &current.advisories,
            &uuid::Uuid::new_v4().to_string(),
            &chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
        let text = serde_json::to_string_pretty(&bom)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write the SBOM to {}", path.display()))?;
    }
    match args.format {
        ImageFormat::Json => {
            let json = serde_json::json!({
                "image": current.image,
                "advisories": current.advisories,
                "counts": current.advisories.counts().iter()
                    .map(|(s, n)| (format!("{s:?}").to_ascii_lowercase(), *n))
                    .collect::<std::collections::BTreeMap<_, _>>(),
                "recommendation": recommendation,
            });
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        ImageFormat::Text => print!("{}", text(&current, &recommendation)),
    }
    Ok(EXIT_OK)
}

fn change_size(from: &AnalysedImage, to: &AnalysedImage) -> u8 {
    crate::remedy::contents::change_size(&from.os.distribution, &to.os.distribution)
}

/// Images named by reference, read through the registry client on a runtime started the first
/// time one is asked for.
struct Remote {
    config: Option<PathBuf>,
    started: std::sync::OnceLock<anyhow::Result<(tokio::runtime::Runtime, Lookup)>>,
}

impl Remote {
    fn new(config: Option<&Path>) -> Remote {
        Remote {
            config: config.map(Path::to_path_buf),
            started: std::sync::OnceLock::new(),
        }
    }

    fn start(&self) -> anyhow::Result<(tokio::runtime::Runtime, Lookup)> {
        let config = match &self.config {
            Some(path) => RegistryConfig::load(path)?,
            None => RegistryConfig::default(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime for the registry")?;
        // The client's connection pool belongs to the runtime it is made in.
        let lookup = {
            let _inside = runtime.enter();
            Lookup::new(&config).context("cannot set up the registry client")?
        };
        Ok((runtime, lookup))
    }

    fn analyse(
        &self,
        reference: &str,
        options: &AnalyseOptions,
        cache: Option<&LayerCache>,
    ) -> anyhow::Result<AnalysedImage> {
        let image = ImageRef::parse(reference)
            .filter(|r| r.tag.is_some() || r.digest.is_some() || r.registry.is_some())
            .with_context(|| {
                format!(
                    "`{reference}` is neither a file nor an image reference; give an OCI layout directory, a `docker save` tarball or a reference like registry:5000/repo:tag"
                )
            })?;
        let (runtime, lookup) = match self.started.get_or_init(|| self.start()) {
            Ok(started) => started,
            Err(e) => anyhow::bail!("{e:#}"),
        };
        let client = std::sync::Arc::clone(lookup.client());
        let (options, cache) = (options.clone(), cache.cloned());
        let handle = runtime.handle().clone();
        // The layer reader blocks; the client's futures run on `runtime` meanwhile.
        let read = runtime.block_on(async move {
            tokio::task::spawn_blocking(move || {
                let source = RegistryImage::new(client, &image, handle);
                analyse(&source, &options, cache.as_ref())
            })
            .await
        })?;
        Ok(read?)
    }
}

fn load_advisories(dirs: &[PathBuf]) -> anyhow::Result<AdvisoryDb> {
    let loaded = AdvisoryDb::load_dirs(dirs);
    if let Some(first) = loaded.unreadable.first() {
        anyhow::bail!("{first}");
    }
    for e in &loaded.skipped {
        eprintln!("note: {e}");
    }
    Ok(loaded.db)
}

fn cache_dir(given: Option<&Path>) -> PathBuf {
    if let Some(dir) = given {
        return dir.to_path_buf();
    }
    crate::image::cache::default_dir()
}

fn text(current: &Analysed, recommendation: &Recommendation) -> String {
    let image = &current.image;
    let os = &image.os;
    let mut out = format!(
        "image: {} ({})\nid: {}\n",
        image.source, image.platform, image.image_id
    );
    let from_cache = image
        .layers
        .iter()
        .filter(|l| l.origin == LayerOrigin::Cache)
        .count();
    out.push_str(&format!(
        "layers: {} ({from_cache} from the layer cache)\n",
        image.layers.len()
    ));
    match &os.distribution {
        Distribution::Known { ecosystem, release } => {
            let osv = match ecosystem {
                Ecosystem::Alpine => format!("Alpine:{release}"),
                other => format!("{other}:{release}"),
            };
            out.push_str(&format!(
                "os: {} (advisories of {osv}); {} packages from {}\n",
                os.label,
                os.packages.len(),
                os.package_db
            ));
            let counts: Vec<String> = current
                .advisories
                .counts()
                .iter()
                .map(|(s, n)| format!("{n} {}", format!("{s:?}").to_ascii_lowercase()))
                .collect();
            let total = current.advisories.ids().len();
            if total == 0 {
                out.push_str("advisories: none known for these packages\n");
            } else {
                out.push_str(&format!("advisories: {total} ({})\n", counts.join(", ")));
            }
            for a in current.advisories.worst(usize::MAX) {
                let fix = a
                    .fixed
                    .as_deref()
                    .map_or("no fixed package released".to_string(), |f| {
                        format!("fixed in {f}")
                    });
                out.push_str(&format!(
                    "  {} {} {} {}: {fix}; {}\n",
                    a.id,
                    format!("{:?}", a.severity).to_ascii_lowercase(),
                    a.package,
                    a.installed,
                    a.summary
                ));
            }
            out.push_str(&format!("recommendation: {}\n", recommendation.sentence));
        }
        Distribution::Unknown { reason } => {
            out.push_str(&format!(
                "os: unknown: {reason}\nadvisories: not checked (an unknown distribution is not a clean one)\n"
            ));
        }
    }
    for note in os
        .notes
        .iter()
        .chain(&image.notes)
        .chain(&current.advisories.notes)
    {
        out.push_str(&format!("note: {note}\n"));
    }
    if !os.packages.is_empty() {
        out.push_str("packages:\n");
        for p in &os.packages {
            if p.source == p.name {
                out.push_str(&format!("  {} {}\n", p.name, p.version));
            } else {
                out.push_str(&format!(
                    "  {} {} (source {})\n",
                    p.name, p.version, p.source
                ));
            }
        }
    }
    out
}

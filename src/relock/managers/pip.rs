//! requirements files with `--hash` options: the new version's hashes from the package index
//! (PEP 503 simple index, `#sha256=` links; a file without one is downloaded and hashed), after
//! checking from its core metadata that it needs nothing the file does not pin. No package
//! manager runs: see `relock::pypi` for why this equals `pip-compile --generate-hashes` for
//! one pin, and where it refuses.

use super::required;
use crate::knowledge::http::{Fetched, MirrorClient};
use crate::relock::pypi::{self, IndexFile};
use crate::relock::{Done, FileSource, Limits, Registries, RelockError, Request};
use sha2::Digest;
use std::io::Read;

/// A wheel larger than this is not downloaded just to read its dependencies.
const MAX_DOWNLOAD: usize = 256 << 20;

pub(crate) fn relock(
    request: &Request,
    files: &dyn FileSource,
    registries: &Registries,
    limits: Limits,
) -> Result<Done, RelockError> {
    let file = &request.lockfile;
    let source = required(files, file)?;
    let parsed = crate::manifest::requirements::parse(file, &source);
    let dep =
        pypi::find(&parsed.dependencies, &request.package, &request.from).ok_or_else(|| {
            RelockError::Unsupported(format!(
                "{file} has no requirement {}=={}",
                request.package, request.from
            ))
        })?;
    let extras = dep
        .location
        .span
        .map(|s| pypi::extras_of(&source[s.start..], s.end - s.start))
        .unwrap_or_default();
    let index = registries.pypi.as_deref().unwrap_or(pypi::PYPI_SIMPLE);
    let page_url = pypi::project_url(index, &request.package);
    let found = look_up(&page_url, &request.package, &request.to, limits)?;

    let unmet = pypi::unmet(
        &pypi::requires_dist(&found.metadata),
        &extras,
        &pypi::pins(file, &source),
    );
    if !unmet.is_empty() {
        return Err(RelockError::Unsupported(format!(
            "{} {} requires {}: the hashes alone would not install; regenerate {file} with `pip-compile --generate-hashes --upgrade-package {}=={}`",
            request.package,
            request.to,
            unmet.join(", "),
            request.package,
            request.to
        )));
    }
    let new = pypi::rewrite(
        file,
        &source,
        &request.package,
        &request.from,
        &request.to,
        &found.hashes,
    )
    .map_err(RelockError::Unsupported)?;
    Ok(Done {
        command: format!(
            "the sha256 of {} distribution file(s) of {} {} from {page_url}",
            found.hashes.len(),
            request.package,
            request.to
        ),
        files: vec![(file.clone(), source, new)],
    })
}

/// What the index says about one version.
struct Found {
    /// Sorted hex sha256 of every distribution file, as pip-compile writes them.
    hashes: Vec<String>,
    /// The core metadata (`METADATA`) of one of its wheels.
    metadata: String,
}

/// Reads the project page, the files' hashes and one wheel's metadata. The HTTP client is
/// async; it runs on a runtime of its own in a thread of its own, so this works the same from
/// the CLI and from inside the service's runtime.
fn look_up(
    page_url: &str,
    name: &str,
    version: &str,
    limits: Limits,
) -> Result<Found, RelockError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| RelockError::Io(e.to_string()))?;
                runtime.block_on(look_up_async(page_url, name, version, limits))
            })
            .join()
            .unwrap_or_else(|_| Err(RelockError::Io("the index lookup stopped".into())))
    })
}

async fn look_up_async(
    page_url: &str,
    name: &str,
    version: &str,
    limits: Limits,
) -> Result<Found, RelockError> {
    let mut client = MirrorClient::new().map_err(index_error)?;
    client.timeout = limits.timeout;
    client.max_body = MAX_DOWNLOAD;
    let page = get(&client, page_url).await?.ok_or_else(|| {
        RelockError::Unsupported(format!(
            "the package index has no project {name} ({page_url})"
        ))
    })?;
    let listed = pypi::files(&String::from_utf8_lossy(&page), page_url);
    let chosen: Vec<&IndexFile> = pypi::of_version(&listed, name, version);
    if chosen.is_empty() {
        return Err(RelockError::Unsupported(format!(
            "the package index lists no file of {name} {version} ({page_url})"
        )));
    }
    let mut hashes = Vec::new();
    for f in &chosen {
        match &f.sha256 {
            Some(h) => hashes.push(h.clone()),
            None => {
                let body = must_get(&client, &f.url).await?;
                hashes.push(hex::encode(sha2::Sha256::digest(&body)));
            }
        }
    }
    hashes.sort();
    hashes.dedup();
    let metadata = metadata(&client, &chosen, name, version).await?;
    Ok(Found { hashes, metadata })
}

/// One wheel's core metadata: from the index's `.metadata` file when it serves one, else read
/// from the (smallest-named, pure Python first) wheel itself.
async fn metadata(
    client: &MirrorClient,
    chosen: &[&IndexFile],
    name: &str,
    version: &str,
) -> Result<String, RelockError> {
    let mut wheels: Vec<&&IndexFile> = chosen
        .iter()
        .filter(|f| f.filename.ends_with(".whl"))
        .collect();
    wheels.sort_by_key(|f| (!f.filename.ends_with("-none-any.whl"), f.filename.len()));
    let Some(wheel) = wheels.first() else {
        return Err(RelockError::Unsupported(format!(
            "{name} {version} has only source archives on the index: its dependencies are known only after a build; regenerate the file with `pip-compile --generate-hashes`"
        )));
    };
    if wheel.metadata
        && let Some(body) = get(client, &format!("{}.metadata", wheel.url)).await?
    {
        return Ok(String::from_utf8_lossy(&body).into_owned());
    }
    let body = must_get(client, &wheel.url).await?;
    read_wheel_metadata(&body).ok_or_else(|| {
        RelockError::Unsupported(format!(
            "{} has no readable *.dist-info/METADATA",
            wheel.filename
        ))
    })
}

fn read_wheel_metadata(wheel: &[u8]) -> Option<String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(wheel)).ok()?;
    let name = zip
        .file_names()
        .find(|n| n.ends_with(".dist-info/METADATA") && n.matches('/').count() == 1)?
        .to_string();
    let mut text = String::new();
    zip.by_name(&name).ok()?.read_to_string(&mut text).ok()?;
    Some(text)
}

async fn get(client: &MirrorClient, url: &str) -> Result<Option<hyper::body::Bytes>, RelockError> {
    match client.get(url, None, None).await.map_err(index_error)? {
        Fetched::Body { body, .. } => Ok(Some(body)),
        Fetched::NotFound | Fetched::NotModified => Ok(None),
    }
}

async fn must_get(client: &MirrorClient, url: &str) -> Result<hyper::body::Bytes, RelockError> {
    get(client, url)
        .await?
        .ok_or_else(|| RelockError::Index(format!("{url} is listed but not found")))
}

fn index_error(e: crate::knowledge::http::FetchError) -> RelockError {
    RelockError::Index(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::read_wheel_metadata;
    use std::io::Write;

    #[test]
    fn a_wheel_gives_its_metadata() {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buf);
            let options = zip::write::SimpleFileOptions::default();
            zip.start_file("leaf/__init__.py", options).unwrap();
            zip.start_file("leaf/vendored/x.dist-info/METADATA", options)
                .unwrap();
            zip.write_all(b"Name: x\n").unwrap();
            zip.start_file("leaf-1.0.dist-info/METADATA", options)
                .unwrap();
            zip.write_all(b"Name: leaf\nRequires-Dist: twig\n").unwrap();
            zip.finish().unwrap();
        }
        assert_eq!(
            read_wheel_metadata(buf.get_ref()).as_deref(),
            Some("Name: leaf\nRequires-Dist: twig\n")
        );
        assert_eq!(read_wheel_metadata(b"not a zip"), None);
    }
}

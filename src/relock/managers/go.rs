//! go.mod with go.sum, with the go command: `go get MODULE@V` in a working copy of go.mod and
//! go.sum, which moves the requirement (and whatever minimal version selection moves with it)
//! and writes the go.sum lines of the new versions; `go mod verify` checks the downloaded
//! modules against go.sum. `go mod tidy` is not run: with no source files in the working copy it
//! would drop every requirement. Module proxy and checksum database come from the registries
//! settings (or GOPROXY, GOSUMDB, GOPRIVATE… of patchwright's own environment).

use super::required;
use crate::relock::sandbox::Context;
use crate::relock::{Done, FileSource, RelockError, Request};

pub(crate) fn relock(
    request: &Request,
    files: &dyn FileSource,
    ctx: &Context,
) -> Result<Done, RelockError> {
    let go_mod = required(files, &request.lockfile)?;
    let sum_path = request.beside("go.sum");
    // A module without dependencies until now may have no go.sum yet: go writes one.
    let go_sum = match files.read(&sum_path) {
        Some(bytes) => String::from_utf8(bytes)
            .map_err(|_| RelockError::Io(format!("{sum_path} is not UTF-8")))?,
        None => String::new(),
    };
    ctx.write(&request.lockfile, go_mod.as_bytes())?;
    ctx.write(&sum_path, go_sum.as_bytes())?;

    let home = ctx.home.to_string_lossy().into_owned();
    let (gopath, modcache, cache) = (
        format!("{home}/go"),
        format!("{home}/go/pkg/mod"),
        format!("{home}/go-build"),
    );
    let mut env: Vec<(&str, &str)> = vec![
        ("GOPATH", gopath.as_str()),
        ("GOMODCACHE", modcache.as_str()),
        ("GOCACHE", cache.as_str()),
        ("GOFLAGS", "-mod=mod"),
        ("GOTOOLCHAIN", "local"),
        ("GOTELEMETRY", "off"),
        ("CGO_ENABLED", "0"),
    ];
    let inherited: Vec<(&str, String)> = [
        "GOPROXY",
        "GOSUMDB",
        "GOPRIVATE",
        "GONOPROXY",
        "GONOSUMDB",
        "GOINSECURE",
    ]
    .into_iter()
    .filter_map(|k| std::env::var(k).ok().map(|v| (k, v)))
    .collect();
    for (k, v) in &inherited {
        env.push((k, v.as_str()));
    }
    if let Some(proxy) = &ctx.registries.goproxy {
        env.push(("GOPROXY", proxy.as_str()));
    }
    if let Some(sumdb) = &ctx.registries.gosumdb {
        env.push(("GOSUMDB", sumdb.as_str()));
    }
    let target = format!("{}@{}", request.package, request.to);
    let dir = request.dir();
    ctx.run(dir, &["get", &target], &env)?;
    ctx.verify(dir, &["mod", "verify"], &env, "go.sum")?;
    let new_mod = ctx.read(&request.lockfile)?;
    let new_sum = ctx.read(&sum_path)?;
    Ok(Done {
        command: format!("go get {target}"),
        files: vec![
            (request.lockfile.clone(), go_mod, new_mod),
            (sum_path, go_sum, new_sum),
        ],
    })
}

//! composer.lock with Composer itself: `composer update NAME --with NAME:V --no-install`, which
//! moves that one package to exactly V (direct or not: `--with` constrains the update without
//! touching composer.json) and keeps every other locked version. Nothing is installed, no
//! script or plugin runs, and the security audit (which would ask Packagist) is off. Platform
//! extensions (`ext-*`, `lib-*`) are not checked, as the machine that re-locks is not the one
//! that runs the project; the PHP version still is.
//!
//! The packages come from the repositories composer.json names (Packagist unless it turns it
//! off); Composer's HOME, cache and credentials are the working copy's own, so no `auth.json`
//! of the machine applies. `composer validate` then checks the lock agrees with composer.json.

use super::required;
use crate::relock::sandbox::Context;
use crate::relock::{Done, FileSource, RelockError, Request};

pub(crate) fn relock(
    request: &Request,
    files: &dyn FileSource,
    ctx: &Context,
) -> Result<Done, RelockError> {
    let lock = required(files, &request.lockfile)?;
    let manifest_path = request.beside("composer.json");
    let manifest = required(files, &manifest_path)?;
    ctx.write(&request.lockfile, lock.as_bytes())?;
    ctx.write(&manifest_path, manifest.as_bytes())?;

    let home = ctx.home.to_string_lossy().into_owned();
    let (composer_home, cache) = (format!("{home}/composer"), format!("{home}/composer-cache"));
    let env = [
        ("COMPOSER_HOME", composer_home.as_str()),
        ("COMPOSER_CACHE_DIR", cache.as_str()),
        ("COMPOSER_NO_INTERACTION", "1"),
        ("COMPOSER_NO_AUDIT", "1"),
        ("COMPOSER_DISABLE_XDEBUG_WARN", "1"),
        // Containers and CI run as root; Composer would only warn, in every note.
        ("COMPOSER_ALLOW_SUPERUSER", "1"),
    ];
    let with = format!("{}:{}", request.package, request.to);
    let args = [
        "update",
        request.package.as_str(),
        "--with",
        with.as_str(),
        "--no-install",
        "--no-scripts",
        "--no-plugins",
        "--no-progress",
        "--no-interaction",
        "--ignore-platform-req=ext-*",
        "--ignore-platform-req=lib-*",
    ];
    let dir = request.dir();
    ctx.run(dir, &args, &env)?;
    ctx.verify(
        dir,
        &[
            "validate",
            "--no-check-publish",
            "--no-check-all",
            "--no-plugins",
            "--no-interaction",
        ],
        &env,
        "composer.lock",
    )?;
    let new_lock = ctx.read(&request.lockfile)?;
    let new_manifest = ctx.read(&manifest_path)?;
    Ok(Done {
        command: ctx.describe(&args[..args.len() - 2]),
        files: vec![
            (request.lockfile.clone(), lock, new_lock),
            (manifest_path, manifest, new_manifest),
        ],
    })
}

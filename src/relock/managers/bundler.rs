//! Gemfile.lock (and gems.locked) with Bundler itself. `bundle lock --update NAME` takes the
//! newest release the Gemfile allows, not an exact one, so the working copy's Gemfile gets a
//! temporary pin appended: the gem's own requirement gains `= V` when the Gemfile declares it,
//! else `gem "NAME", "= V"` is added. `bundle lock --update NAME --conservative` moves NAME (and
//! only what its new release needs); then the original Gemfile is put back and `bundle lock`
//! runs again, which keeps the locked V (the Gemfile allows it) and writes DEPENDENCIES as the
//! Gemfile says. `bundle lock --print` must then reproduce the file (Bundler finds it
//! consistent with the Gemfile).
//!
//! Gems come from the sources the Gemfile names. Bundler's home, cache and settings are the
//! working copy's own (no `.bundle/config` or credentials of the machine apply); a lockfile
//! written by another Bundler release (`BUNDLED WITH`) is not rewritten by this one.

use super::required;
use crate::relock::sandbox::Context;
use crate::relock::{Done, FileSource, RelockError, Request};

pub(crate) fn relock(
    request: &Request,
    files: &dyn FileSource,
    ctx: &Context,
) -> Result<Done, RelockError> {
    let lock = required(files, &request.lockfile)?;
    if let Some(section) = non_registry_section(&lock, &request.package) {
        return Err(RelockError::Unsupported(format!(
            "{} is locked from a {section} source, not a gem server: point its Gemfile entry at a fixed release",
            request.package
        )));
    }
    let gemfile_name = if request.lockfile.ends_with("gems.locked") {
        "gems.rb"
    } else {
        "Gemfile"
    };
    let gemfile_path = request.beside(gemfile_name);
    let gemfile = required(files, &gemfile_path)?;
    ctx.write(&request.lockfile, lock.as_bytes())?;
    ctx.write(&gemfile_path, gemfile.as_bytes())?;

    let home = ctx.home.to_string_lossy().into_owned();
    let (user_home, app_config, gem_home) = (
        format!("{home}/bundle"),
        format!("{home}/bundle-config"),
        format!("{home}/gems"),
    );
    let env = [
        ("BUNDLE_USER_HOME", user_home.as_str()),
        ("BUNDLE_APP_CONFIG", app_config.as_str()),
        ("GEM_HOME", gem_home.as_str()),
        ("BUNDLE_FROZEN", "false"),
        ("BUNDLE_DEPLOYMENT", "false"),
        ("BUNDLE_IGNORE_MESSAGES", "true"),
        ("BUNDLE_SILENCE_ROOT_WARNING", "true"),
    ];
    let dir = request.dir();
    let pinned = with_pin(&gemfile, &request.package, &request.to).ok_or_else(|| {
        RelockError::Unsupported(format!(
            "`{}` is not a gem name Bundler accepts",
            request.package
        ))
    })?;
    ctx.write(&gemfile_path, pinned.as_bytes())?;
    let update = [
        "lock",
        "--update",
        request.package.as_str(),
        "--conservative",
    ];
    let run = ctx.run(dir, &update, &env);
    // The pin only named the exact version: the project's Gemfile stays as it was.
    ctx.write(&gemfile_path, gemfile.as_bytes())?;
    run?;
    ctx.run(dir, &["lock"], &env)?;
    let new_lock = ctx.read(&request.lockfile)?;
    let (before, after) = (bundled_with(&lock), bundled_with(&new_lock));
    if before.is_some() && before != after {
        return Err(RelockError::Unsupported(format!(
            "{} was written by Bundler {}, this one is {}: re-lock with the project's Bundler",
            request.lockfile,
            before.as_deref().unwrap_or("?"),
            after.as_deref().unwrap_or("?")
        )));
    }
    let printed = ctx.capture(dir, &["lock", "--print"], &env)?;
    if !printed.status.success() || printed.stdout != new_lock {
        return Err(RelockError::Unverified {
            file: request.lockfile.clone(),
            detail: "`bundle lock --print` does not reproduce it".into(),
        });
    }
    Ok(Done {
        command: format!(
            "{} (with a temporary Gemfile pin {} = {}, then `bundle lock` without it)",
            ctx.describe(&update),
            request.package,
            request.to
        ),
        files: vec![(request.lockfile.clone(), lock, new_lock)],
    })
}

/// The Gemfile with a pin to exactly `version` appended: added to the gem's own requirement
/// when the Gemfile declares it (a second `gem` line for it would be an error), else a new
/// `gem` line. `None` for a name that is not a plain gem name (it goes into Ruby source).
fn with_pin(gemfile: &str, name: &str, version: &str) -> Option<String> {
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if !plain(name) || !plain(version) {
        return None;
    }
    let mut out = gemfile.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "\n# patchwright: a temporary pin for the re-lock, never committed\nif (pinned = @dependencies.find {{ |d| d.name == \"{name}\" }})\n  pinned.requirement.concat([\"= {version}\"])\nelse\n  gem \"{name}\", \"= {version}\"\nend\n"
    ));
    Some(out)
}

/// `GIT` or `PATH` when the lockfile's spec of `name` comes from such a section: Bundler cannot
/// pin those to a version.
fn non_registry_section(lock: &str, name: &str) -> Option<&'static str> {
    let mut section = None;
    let spec = format!("    {name} (");
    for line in lock.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            section = match line.trim_end() {
                "GIT" => Some("GIT"),
                "PATH" => Some("PATH"),
                _ => None,
            };
        } else if section.is_some() && line.starts_with(&spec) {
            return section;
        }
    }
    None
}

/// The Bundler release a lockfile names under `BUNDLED WITH`.
fn bundled_with(lock: &str) -> Option<String> {
    let mut lines = lock.lines();
    lines.find(|l| l.trim_end() == "BUNDLED WITH")?;
    lines.next().map(|l| l.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_goes_into_ruby_only_for_plain_names() {
        let pinned = with_pin(
            "source \"https://rubygems.org\"\ngem \"rack\"",
            "rack",
            "3.1.2",
        )
        .unwrap();
        assert!(pinned.starts_with("source \"https://rubygems.org\"\ngem \"rack\"\n"));
        assert!(pinned.contains("d.name == \"rack\""), "{pinned}");
        assert!(pinned.contains("gem \"rack\", \"= 3.1.2\""), "{pinned}");
        assert_eq!(with_pin("", "rack\"; system(\"x\")", "1.0"), None);
        assert_eq!(with_pin("", "rack", "1.0\" ; x"), None);
    }

    #[test]
    fn git_and_path_gems_are_not_pinned() {
        let lock = "GIT\n  remote: https://example.com/rack.git\n  revision: abc\n  specs:\n    rack (3.0.0)\n\nGEM\n  remote: https://rubygems.org/\n  specs:\n    json (2.7.0)\n";
        assert_eq!(non_registry_section(lock, "rack"), Some("GIT"));
        assert_eq!(non_registry_section(lock, "json"), None);
    }

    #[test]
    fn bundled_with_is_read() {
        let lock = "GEM\n  specs:\n\nBUNDLED WITH\n   2.3.15\n";
        assert_eq!(bundled_with(lock).as_deref(), Some("2.3.15"));
        assert_eq!(bundled_with("GEM\n"), None);
    }
}

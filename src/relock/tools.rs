//! Which package managers this machine can run: looked up on PATH, reported at start-up and by
//! the CLI, and named in a finding's note when one is missing.

use super::Manager;
use std::ffi::OsStr;
use std::path::PathBuf;

/// The executable `tool` on `path`, if any.
pub fn find(tool: &str, path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(tool))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &std::path::Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// For each package manager, where its binary is (or `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability(pub Vec<(Manager, Option<PathBuf>)>);

/// Looks every package manager up on `path`.
pub fn availability(path: &OsStr) -> Availability {
    Availability(
        Manager::ALL
            .into_iter()
            .map(|m| (m, find(m.tool(), path)))
            .collect(),
    )
}

impl std::fmt::Display for Availability {
    /// `re-lock: package-lock.json (npm), Cargo.lock (cargo); not available: yarn.lock (yarn not on PATH)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let can: Vec<String> = self
            .0
            .iter()
            .filter(|(_, p)| p.is_some())
            .map(|(m, _)| format!("{} ({})", m.label(), m.tool()))
            .collect();
        let cannot: Vec<String> = self
            .0
            .iter()
            .filter(|(_, p)| p.is_none())
            .map(|(m, _)| format!("{} ({} not on PATH)", m.label(), m.tool()))
            .collect();
        let can = if can.is_empty() {
            "none".to_string()
        } else {
            can.join(", ")
        };
        write!(f, "re-lock: {can}")?;
        if !cannot.is_empty() {
            write!(f, "; not available: {}", cannot.join(", "))?;
        }
        Ok(())
    }
}

//! One module per package manager: which files its working copy needs, which command moves one
//! entry, and how its own tooling checks the result.

pub(crate) mod cargo;
pub(crate) mod go;
pub(crate) mod npm;
pub(crate) mod pip;
pub(crate) mod poetry;
pub(crate) mod yarn;

use super::{FileSource, RelockError, Request};
use serde_json::Value;

/// A repository file the working copy cannot do without, as text.
pub(crate) fn required(files: &dyn FileSource, path: &str) -> Result<String, RelockError> {
    let bytes = files
        .read(path)
        .ok_or_else(|| RelockError::MissingFile(path.to_string()))?;
    String::from_utf8(bytes).map_err(|_| RelockError::Io(format!("{path} is not UTF-8")))
}

/// The `package.json` beside the lockfile: its path, its text and its JSON. A workspace root is
/// refused: its members' package.json files are not in the working copy yet.
pub(crate) fn package_json(
    files: &dyn FileSource,
    request: &Request,
    tool: &str,
) -> Result<(String, String, Value), RelockError> {
    let path = request.beside("package.json");
    let text = required(files, &path)?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| RelockError::Unsupported(format!("{path} is not valid JSON: {e}")))?;
    if json.get("workspaces").is_some() {
        return Err(RelockError::Unsupported(format!(
            "{path} declares {tool} workspaces, whose package.json files the working copy does not carry yet; re-lock in the checkout"
        )));
    }
    Ok((path, text, json))
}

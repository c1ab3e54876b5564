//! One module per package manager: which files its working copy needs, which command moves one
//! entry, and how its own tooling checks the result.

pub(crate) mod cargo;
pub(crate) mod go;
pub(crate) mod npm;
pub(crate) mod poetry;
pub(crate) mod yarn;

use super::{FileSource, RelockError};

/// A repository file the working copy cannot do without, as text.
pub(crate) fn required(files: &dyn FileSource, path: &str) -> Result<String, RelockError> {
    let bytes = files
        .read(path)
        .ok_or_else(|| RelockError::MissingFile(path.to_string()))?;
    String::from_utf8(bytes).map_err(|_| RelockError::Io(format!("{path} is not UTF-8")))
}

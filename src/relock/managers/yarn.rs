//! yarn.lock v1, with yarn classic.

use crate::relock::sandbox::Context;
use crate::relock::{Done, FileSource, RelockError, Request};

pub(crate) fn relock(
    _request: &Request,
    _files: &dyn FileSource,
    _ctx: &Context,
) -> Result<Done, RelockError> {
    Err(RelockError::Unsupported(
        "yarn.lock is not re-locked automatically yet".to_string(),
    ))
}

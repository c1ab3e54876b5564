//! What can be wrong in a Dockerfile, worded so the author knows what to change.

use crate::model::{ErrorCode, FileError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Problem {
    #[error(
        "not scanned: this is a template of a Dockerfile, not a Dockerfile ({sign}); scan the Dockerfile it renders"
    )]
    Template { sign: String },
    #[error(
        "no FROM instruction: a Dockerfile needs at least one stage, e.g. `FROM node:20-alpine`"
    )]
    NoFrom,
    #[error("unknown instruction `{keyword}`; did you mean `{suggestion}`?")]
    UnknownInstructionNear { keyword: String, suggestion: String },
    #[error(
        "unknown instruction `{keyword}`: an instruction starts with a keyword such as FROM, RUN, COPY or ARG (is the previous line missing a `\\` continuation?)"
    )]
    UnknownInstruction { keyword: String },
    #[error(
        "`{keyword}` comes before the first `FROM`; only `ARG`, parser directives and comments may come first"
    )]
    BeforeFrom { keyword: String },
    #[error("`FROM` needs an image name, e.g. `FROM node:20-alpine`")]
    FromWithoutImage,
    #[error(
        "`FROM {found}` has too many words: write `FROM image` or `FROM image AS name`, e.g. `FROM node:20-alpine AS build`"
    )]
    FromShape { found: String },
    #[error("`{text}` is not a valid image reference: {reason}")]
    InvalidReference { text: String, reason: String },
    #[error(
        "{place} uses ARG {name}, which has no default; patchwright cannot tell which image this is: give the ARG a default (ARG {name}=...)"
    )]
    ArgWithoutDefault { place: String, name: String },
    #[error(
        "{place} uses ${name}, which no ARG declares where it is used (Docker substitutes an empty string); patchwright cannot tell which image this is: declare it with a default (ARG {name}=...){scope_hint}"
    )]
    ArgUndeclared {
        place: String,
        name: String,
        scope_hint: String,
    },
    #[error(
        "{place} uses ${name}, which BuildKit sets from the target platform; patchwright cannot tell which image this is: write the image without it, or through an ARG with a default"
    )]
    PlatformArg { place: String, name: String },
    #[error("{place} `{text}`: {detail}")]
    Substitution {
        place: String,
        text: String,
        detail: String,
    },
    #[error("heredoc `<<{name}` is never closed: add a line that is exactly `{name}`")]
    UnterminatedHeredoc { name: String },
    #[error(
        "invalid escape directive `{value}`: the escape character must be a backslash (\\) or a backtick (`)"
    )]
    InvalidEscape { value: String },
    #[error("only one `{name}` parser directive can be used")]
    DuplicateDirective { name: String },
    #[error("`ARG` needs a name, e.g. `ARG VERSION=1.2`")]
    ArgWithoutName,
    #[error("`USER` needs a user, e.g. `USER nonroot` or `USER 10001:10001`")]
    UserWithoutName,
}

impl Problem {
    pub(crate) fn code(&self) -> ErrorCode {
        match self {
            Problem::Template { .. } => ErrorCode::DockerfileTemplate,
            Problem::NoFrom => ErrorCode::DockerfileNoFrom,
            Problem::UnknownInstructionNear { .. } | Problem::UnknownInstruction { .. } => {
                ErrorCode::DockerfileUnknownInstruction
            }
            Problem::BeforeFrom { .. } => ErrorCode::DockerfileInstructionBeforeFrom,
            Problem::FromWithoutImage | Problem::FromShape { .. } => ErrorCode::DockerfileBadFrom,
            Problem::InvalidReference { .. } => ErrorCode::DockerfileInvalidReference,
            Problem::ArgWithoutDefault { .. } | Problem::PlatformArg { .. } => {
                ErrorCode::DockerfileImageUnknown
            }
            Problem::ArgUndeclared { .. } => ErrorCode::DockerfileUndeclaredArg,
            Problem::Substitution { .. } => ErrorCode::DockerfileSubstitution,
            Problem::UnterminatedHeredoc { .. } => ErrorCode::DockerfileUnterminatedHeredoc,
            Problem::InvalidEscape { .. } | Problem::DuplicateDirective { .. } => {
                ErrorCode::DockerfileBadDirective
            }
            Problem::ArgWithoutName | Problem::UserWithoutName => {
                ErrorCode::DockerfileMissingArgument
            }
        }
    }
}

/// A problem at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located {
    pub line: u32,
    pub problem: Problem,
}

impl Located {
    pub(crate) fn new(line: u32, problem: Problem) -> Located {
        Located { line, problem }
    }

    pub(crate) fn into_file_error(self, file: &str) -> FileError {
        FileError::new(file, self.line, self.problem.to_string()).with_code(self.problem.code())
    }
}

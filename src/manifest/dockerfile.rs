//! Dockerfiles: stages, ARG substitution, heredocs, runtime facts.
//!
//! Written by hand rather than with a parser crate: the ones available reject BuildKit heredocs
//! and JSON-form `COPY`, and none keep the exact byte spans a fix has to edit.
//!
//! Reading happens in two steps, each in its own module:
//! - [`lexer`]: text → instructions, as BuildKit splits them (directives, continuations,
//!   comments, heredoc bodies), each byte tied back to the file through [`logical`];
//! - [`stages`]: instructions → images, stage links, `ARG` scopes, the final user and package
//!   installs, with [`subst`] for `ARG` substitution, [`reference`] for image reference syntax
//!   and [`packages`] for shell commands.

mod error;
mod lexer;
mod logical;
mod packages;
mod pattern;
mod reference;
mod stages;
mod subst;
mod words;

use crate::model::ParsedManifest;

/// Parses `source`, the content of the Dockerfile at `file`. Never fails: what cannot be read
/// becomes a `FileError` at its line, and the rest of the file is still read.
pub fn parse(file: &str, source: &str) -> ParsedManifest {
    let lines = logical::LineIndex::new(source);
    let lexed = lexer::lex(source, &lines);
    let walked = stages::walk(file, source, &lines, &lexed);
    let mut problems = lexed.problems;
    problems.extend(walked.problems);
    problems.sort_by_key(|p| p.line);
    ParsedManifest {
        file: file.to_string(),
        dependencies: walked.dependencies,
        facts: walked.facts,
        errors: problems
            .into_iter()
            .map(|p| p.into_file_error(file))
            .collect(),
    }
}

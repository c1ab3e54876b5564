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
pub(crate) mod reference;
mod stages;
mod subst;
mod template;
mod words;

use crate::model::ParsedManifest;
use error::{Located, Problem};

/// Parses `source`, the content of the Dockerfile at `file`. Never fails: what cannot be read
/// becomes a `FileError` at its line, and the rest of the file is still read. A template of a
/// Dockerfile is one note and nothing else.
pub fn parse(file: &str, source: &str) -> ParsedManifest {
    if let Some(template) = template::by_name(file, source) {
        return not_scanned(file, template);
    }
    let parsed = read(file, source);
    if parsed.errors.iter().any(|e| !e.is_note())
        && let Some(template) = template::by_content(source)
    {
        return not_scanned(file, template);
    }
    parsed
}

fn read(file: &str, source: &str) -> ParsedManifest {
    let lines = logical::LineIndex::new(source);
    let lexed = lexer::lex(source, &lines);
    let walked = stages::walk(file, source, &lines, &lexed);
    let mut problems = lexed.problems;
    problems.extend(walked.problems);
    // Without a FROM the file is not a Dockerfile: one entry says so, rather than one per
    // line for everything that comes "before the first FROM".
    if let Some(no_from) = problems.iter().find(|p| p.problem == Problem::NoFrom) {
        problems = vec![no_from.clone()];
    }
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

fn not_scanned(file: &str, template: template::Template) -> ParsedManifest {
    let problem = Problem::Template {
        sign: template.sign,
    };
    ParsedManifest {
        file: file.to_string(),
        errors: vec![Located::new(template.line, problem).into_file_error(file)],
        ..ParsedManifest::default()
    }
}

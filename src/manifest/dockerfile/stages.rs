//! What the instructions mean: stages and how they link, the images they pull (`FROM`,
//! `COPY --from`, `RUN --mount=from=`), `ARG` scopes, the final stage's user, and OS package
//! installs.

use std::ops::Range;

use crate::model::{
    Dependency, DependencyKind, Ecosystem, EditMode, Fact, ImageRef, ImageSite, Location, Segment,
    SegmentSource, Span,
};

use super::error::{Located, Problem};
use super::lexer::{Instruction, Lexed};
use super::logical::{LineIndex, Logical};
use super::packages::{Install, is_shell, scan_exec, scan_shell};
use super::pattern::Pattern;
use super::reference::parse_reference;
use super::subst::{ArgScope, Expansion, Value, default_value, expand};
use super::words::{exec_form, leading_flags, quoted_words, whitespace_words};

const INSTRUCTIONS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Arguments BuildKit defines itself for every build, from the build and target platforms.
const PLATFORM_ARGS: [&str; 10] = [
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "TARGETSTAGE",
    "BUILDKIT_SYNTAX",
];

/// The platform most builds target (and BuildKit's default on the machines CI runs on): where a
/// `FROM` picks one of several stages by platform, the stage this build would use is the one
/// whose user and image the final-stage checks follow.
fn assumed_platform_value(name: &str) -> Option<&'static str> {
    match name {
        "TARGETPLATFORM" | "BUILDPLATFORM" => Some("linux/amd64"),
        "TARGETOS" | "BUILDOS" => Some("linux"),
        "TARGETARCH" | "BUILDARCH" => Some("amd64"),
        "TARGETVARIANT" | "BUILDVARIANT" => Some(""),
        _ => None,
    }
}

/// What the walk yields, before errors are merged with the lexer's.
#[derive(Debug, Default)]
pub(crate) struct Walked {
    pub dependencies: Vec<Dependency>,
    pub facts: Vec<Fact>,
    pub problems: Vec<Located>,
}

#[derive(Debug, Clone)]
struct Stage {
    name: Option<String>,
    /// The earlier stage this one is built `FROM`.
    parent: Option<usize>,
    /// The last `USER` of the stage: the user text and where it is written.
    user: Option<(String, Span)>,
    from_span: Span,
}

/// The parts of a `FROM`'s arguments, as ranges of its text.
struct FromParts {
    image: Option<Range<usize>>,
    name: Option<Range<usize>>,
    too_many_words: bool,
}

fn from_parts(text: &str) -> FromParts {
    let words = whitespace_words(text);
    let (_, first) = leading_flags(text, &words);
    let rest = words.get(first..).unwrap_or_default();
    let is_as = |range: &Range<usize>| {
        text.get(range.clone())
            .is_some_and(|w| w.eq_ignore_ascii_case("as"))
    };
    let name = match rest {
        [_, as_word, name, ..] if is_as(as_word) => Some(name.clone()),
        _ => None,
    };
    let too_many_words = match rest {
        [] | [_] => false,
        [_, as_word, _] => !is_as(as_word),
        _ => true,
    };
    FromParts {
        image: rest.first().cloned(),
        name,
        too_many_words,
    }
}

pub(crate) fn walk(file: &str, source: &str, lines: &LineIndex, lexed: &Lexed) -> Walked {
    let all_names = lexed
        .instructions
        .iter()
        .filter(|i| i.name() == "FROM")
        .map(|i| {
            let text = i.args.text();
            from_parts(text)
                .name
                .and_then(|r| text.get(r))
                .map(str::to_ascii_lowercase)
        })
        .collect();
    let mut walker = Walker {
        file,
        source,
        lines,
        escape: lexed.escape,
        global: ArgScope::default(),
        stage_args: ArgScope::default(),
        stages: Vec::new(),
        all_names,
        unknowable: Vec::new(),
        first_instruction_line: lexed
            .instructions
            .iter()
            .find(|i| i.name() != "ARG")
            .or(lexed.instructions.first())
            .map_or(1, |i| i.line),
        out: Walked::default(),
    };
    for instruction in &lexed.instructions {
        walker.instruction(instruction);
    }
    walker.finish()
}

struct Walker<'a> {
    file: &'a str,
    source: &'a str,
    lines: &'a LineIndex,
    escape: char,
    /// `ARG`s before the first `FROM`: the only ones `FROM` lines see.
    global: ArgScope,
    /// `ARG`s of the current stage.
    stage_args: ArgScope,
    stages: Vec<Stage>,
    /// Every stage's name in the file, lower-cased: `COPY --from` may name any stage.
    all_names: Vec<Option<String>>,
    /// Arguments already reported as making an image unknowable: said once per file.
    unknowable: Vec<String>,
    /// Where a file without `FROM` is said to lack one: its first instruction other than
    /// `ARG` (the one that needed a stage), else its first line.
    first_instruction_line: u32,
    out: Walked,
}

impl Walker<'_> {
    fn problem(&mut self, line: u32, problem: Problem) {
        self.out.problems.push(Located::new(line, problem));
    }

    fn instruction(&mut self, instruction: &Instruction) {
        let name = instruction.name();
        let known = INSTRUCTIONS.contains(&name.as_str());
        match name.as_str() {
            _ if !known => {
                let problem = unknown_instruction(&instruction.keyword);
                self.problem(instruction.line, problem);
            }
            "FROM" => self.from(instruction),
            "ARG" => self.arg(instruction),
            _ if self.stages.is_empty() => {
                let keyword = instruction.keyword.clone();
                self.problem(instruction.line, Problem::BeforeFrom { keyword });
            }
            "USER" => self.user(instruction),
            "COPY" => self.copy(instruction),
            "RUN" => self.run(instruction),
            _ => {}
        }
    }

    fn from(&mut self, instruction: &Instruction) {
        let args = &instruction.args;
        let text = args.text();
        let parts = from_parts(text);
        let index = self.stages.len();
        let name = parts.name.and_then(|r| text.get(r)).map(str::to_string);
        if parts.too_many_words {
            let found = text.to_string();
            self.problem(instruction.line, Problem::FromShape { found });
        }
        let mut stage = Stage {
            name: name.clone(),
            parent: None,
            user: None,
            from_span: instruction.span,
        };
        match parts.image {
            None => self.problem(instruction.line, Problem::FromWithoutImage),
            Some(range) => {
                match substitute(args, range.clone(), self.escape, &self.global, "FROM") {
                    Err(problem) => self.problem(instruction.line, problem),
                    Ok(expansion) if !expansion.missing.is_empty() => {
                        let stages = self.earlier_stages_matching(&expansion);
                        if stages.is_empty() {
                            let hint = " before the first FROM";
                            self.unknowable(instruction.line, &expansion, "FROM", true, hint);
                        } else {
                            stage.parent = self.assumed_stage(args, range, &stages);
                        }
                    }
                    Ok(expansion) => {
                        let resolved = expansion.text();
                        if resolved.eq_ignore_ascii_case("scratch") {
                            // The empty image: nothing to pull, nothing to patch.
                        } else if let Some(parent) = self.earlier_stage(&resolved) {
                            stage.parent = Some(parent);
                        } else {
                            let kind = DependencyKind::BaseImage {
                                stage: index,
                                alias: name,
                                final_stage: index + 1 == self.all_names.len(),
                            };
                            self.image(instruction.line, expansion, args.span(range), kind);
                        }
                    }
                }
            }
        }
        self.stages.push(stage);
        self.stage_args = ArgScope::default();
    }

    /// A stage defined before the current `FROM`, by name or index.
    fn earlier_stage(&self, reference: &str) -> Option<usize> {
        if let Some(index) = stage_index(reference) {
            return (index < self.stages.len()).then_some(index);
        }
        self.stages.iter().rposition(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(reference))
        })
    }

    /// The stages defined before the current `FROM` whose name fits `expansion` whatever
    /// the values the file does not give: BuildKit's `FROM binaries-$TARGETOS` picks one of
    /// them by platform. Only when every unknown value may be anything (a platform argument,
    /// an `ARG` without default): an undeclared one is empty in Docker, a mistake to report.
    fn earlier_stages_matching(&self, expansion: &Expansion) -> Vec<usize> {
        // `FROM $BASE` alone fits any name: it is an image passed as a build argument, not a
        // choice among stages. Only a word with text of its own narrows the names down.
        if expansion.text().is_empty()
            || !expansion
                .missing
                .iter()
                .all(|m| m.declared || PLATFORM_ARGS.contains(&m.name.as_str()))
        {
            return Vec::new();
        }
        let pattern = expansion.pattern();
        self.stages
            .iter()
            .enumerate()
            .filter(|(_, stage)| {
                stage
                    .name
                    .as_deref()
                    .is_some_and(|name| pattern.matches(&name.to_ascii_lowercase()))
            })
            .map(|(index, _)| index)
            .collect()
    }

    /// Which of `stages` a build for the assumed platform takes, when it is one of them, or the
    /// only one; `None` when the file leaves it open.
    fn assumed_stage(
        &self,
        args: &Logical,
        range: Range<usize>,
        stages: &[usize],
    ) -> Option<usize> {
        let mut scope = self.global.clone();
        for name in PLATFORM_ARGS {
            if let (Some(value), None | Some(None)) =
                (assumed_platform_value(name), self.global.get(name))
            {
                scope.declare(name, Some(Value::assumed(name, value)));
            }
        }
        let assumed = expand(args, range, self.escape, &scope)
            .ok()
            .filter(|e| e.missing.is_empty())
            .and_then(|e| self.earlier_stage(&e.text()))
            .filter(|index| stages.contains(index));
        match (assumed, stages) {
            (Some(index), _) => Some(index),
            (None, [only]) => Some(*only),
            (None, _) => None,
        }
    }

    /// Says that an image cannot be known, once per argument that hides it; a word that uses
    /// an undeclared argument is a mistake and said every time.
    fn unknowable(
        &mut self,
        line: u32,
        expansion: &Expansion,
        place: &str,
        platform_visible: bool,
        scope_hint: &str,
    ) {
        let Some(missing) = expansion.missing.first() else {
            return;
        };
        let (place, name) = (place.to_string(), missing.name.clone());
        let is_platform = PLATFORM_ARGS.contains(&name.as_str());
        let problem = if is_platform && (platform_visible || missing.declared) {
            Problem::PlatformArg { place, name }
        } else if missing.declared {
            Problem::ArgWithoutDefault { place, name }
        } else {
            let scope_hint = scope_hint.to_string();
            return self.problem(
                line,
                Problem::ArgUndeclared {
                    place,
                    name,
                    scope_hint,
                },
            );
        };
        if !self.unknowable.contains(&missing.name) {
            self.unknowable.push(missing.name.clone());
            self.problem(line, problem);
        }
    }

    /// Any stage of the file whose name fits `expansion` (see [`Self::earlier_stages_matching`]).
    fn any_stage_matching(&self, expansion: &Expansion) -> bool {
        let open = !expansion.text().is_empty() && expansion.missing.iter().all(|m| m.declared);
        let pattern: Pattern = expansion.pattern();
        open && self
            .all_names
            .iter()
            .flatten()
            .any(|name| pattern.matches(name))
    }

    /// Any stage of the file, by name or index.
    fn any_stage(&self, reference: &str) -> bool {
        if let Some(index) = stage_index(reference) {
            return index < self.all_names.len();
        }
        let lower = reference.to_ascii_lowercase();
        self.all_names.iter().flatten().any(|n| *n == lower)
    }

    fn image(&mut self, line: u32, expansion: Expansion, word: Span, kind: DependencyKind) {
        let location = |span| self.lines.location(self.file, self.source, span);
        match image_dependency(location, expansion, word, kind) {
            Ok(dependency) => self.out.dependencies.push(dependency),
            Err(problem) => self.problem(line, problem),
        }
    }

    fn arg(&mut self, instruction: &Instruction) {
        let args = &instruction.args;
        let text = args.text();
        let words = quoted_words(text, self.escape);
        if words.is_empty() {
            self.problem(instruction.line, Problem::ArgWithoutName);
        }
        let in_stage = !self.stages.is_empty();
        for word in words {
            // `quoted_words` yields ranges of `text` at char boundaries.
            debug_assert!(text.get(word.clone()).is_some(), "ARG word {word:?}");
            let raw = text.get(word.clone()).unwrap_or_default();
            let (name, value) = match raw.find('=') {
                Some(eq) => (&raw[..eq], Some(word.start + eq + 1..word.end)),
                None => (raw, None),
            };
            if name.is_empty() {
                self.problem(instruction.line, Problem::ArgWithoutName);
                continue;
            }
            let scope = if in_stage {
                &self.stage_args
            } else {
                &self.global
            };
            let value = match value {
                Some(range) => match default_value(args, range.clone(), self.escape, scope) {
                    Ok(value) => Some(value),
                    Err(error) => {
                        let problem = Problem::Substitution {
                            place: "ARG".into(),
                            text: raw.to_string(),
                            detail: error.to_string(),
                        };
                        self.problem(instruction.line, problem);
                        None
                    }
                },
                // In a stage, `ARG X` brings the global X (and its default) into scope.
                None if in_stage => self.global.get(name).cloned().flatten(),
                // Before the first FROM, re-declaring without a value keeps the default.
                None if self.global.get(name).is_some() => continue,
                None => None,
            };
            if in_stage {
                self.stage_args.declare(name, value);
            } else {
                self.global.declare(name, value);
            }
        }
    }

    fn user(&mut self, instruction: &Instruction) {
        let args = &instruction.args;
        if args.text().is_empty() {
            self.problem(instruction.line, Problem::UserWithoutName);
            return;
        }
        let site = (args.text().to_string(), args.span(0..args.text().len()));
        if let Some(stage) = self.stages.last_mut() {
            stage.user = Some(site);
        }
    }

    fn copy(&mut self, instruction: &Instruction) {
        let args = &instruction.args;
        let words = quoted_words(args.text(), self.escape);
        let (flags, _) = leading_flags(args.text(), &words);
        for flag in flags {
            if let ("from", Some(range)) = (flag.name.as_str(), flag.value) {
                self.copy_source(instruction.line, args, range, "`COPY --from`");
            }
        }
    }

    fn run(&mut self, instruction: &Instruction) {
        let args = &instruction.args;
        let text = args.text();
        let words = quoted_words(text, self.escape);
        let (flags, first) = leading_flags(text, &words);
        for flag in flags {
            if let ("mount", Some(range)) = (flag.name.as_str(), flag.value)
                && let Some(from) = mount_from(text, range)
            {
                self.copy_source(instruction.line, args, from, "`RUN --mount` from=");
            }
        }
        let start = words.get(first).map_or(text.len(), |w| w.start);
        let command = args.slice(start..text.len());
        let installs = match exec_form(command.text()) {
            Some(words) => scan_exec(&words, command.span(0..command.text().len())),
            None => scan_shell(&command),
        };
        self.installs(installs);
        for heredoc in &instruction.heredocs {
            if body_runs_as_shell(command.text(), heredoc.body.text()) {
                self.installs(scan_shell(&heredoc.body));
            }
        }
    }

    fn installs(&mut self, installs: Vec<Install>) {
        for install in installs {
            self.out.facts.push(Fact::UnpinnedOsPackages {
                manager: install.manager,
                packages: install.packages,
                location: self.lines.location(self.file, self.source, install.span),
            });
        }
    }

    /// `COPY --from=x` / `--mount=from=x`: a stage, or an image pulled at build time.
    fn copy_source(&mut self, line: u32, args: &Logical, range: Range<usize>, place: &str) {
        let expansion = match substitute(args, range.clone(), self.escape, &self.stage_args, place)
        {
            Ok(expansion) => expansion,
            Err(problem) => return self.problem(line, problem),
        };
        if !expansion.missing.is_empty() {
            if !self.any_stage_matching(&expansion) {
                self.unknowable(line, &expansion, place, false, " in this stage");
            }
            return;
        }
        if self.any_stage(&expansion.text()) {
            return;
        }
        let stage = self.stages.len().saturating_sub(1);
        let kind = DependencyKind::CopySource { stage };
        self.image(line, expansion, args.span(range), kind);
    }

    fn finish(mut self) -> Walked {
        let Some(last) = self.stages.len().checked_sub(1) else {
            let line = self.first_instruction_line;
            self.out.problems.push(Located::new(line, Problem::NoFrom));
            return self.out;
        };
        let mut index = last;
        let (user, span) = loop {
            let Some(stage) = self.stages.get(index) else {
                break (None, self.stages[last].from_span);
            };
            match (&stage.user, stage.parent) {
                (Some((user, span)), _) => break (Some(user.clone()), *span),
                // Parents are always earlier stages, so this walk ends.
                (None, Some(parent)) if parent < index => index = parent,
                _ => break (None, self.stages[last].from_span),
            }
        };
        self.out.facts.push(Fact::FinalStageUser {
            user,
            location: self.lines.location(self.file, self.source, span),
            // The stage at the root of the final stage's `FROM <stage>` chain: its image is
            // the one that ships, and its default user is the one that runs.
            image_stage: Some(index),
        });
        self.out
    }
}

/// A bare number used where a stage is expected.
fn stage_index(reference: &str) -> Option<usize> {
    if reference.is_empty() || !reference.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    reference.parse().ok()
}

/// Substitutes `range` of `args`; values the file does not give are left as holes.
fn substitute(
    args: &Logical,
    range: Range<usize>,
    escape: char,
    scope: &ArgScope,
    place: &str,
) -> Result<Expansion, Problem> {
    expand(args, range.clone(), escape, scope).map_err(|error| Problem::Substitution {
        place: place.to_string(),
        text: args.text().get(range).unwrap_or_default().to_string(),
        detail: error.to_string(),
    })
}

fn image_dependency(
    location: impl Fn(Span) -> Location,
    expansion: Expansion,
    word: Span,
    kind: DependencyKind,
) -> Result<Dependency, Problem> {
    let text = expansion.text();
    let invalid = |reason: String| Problem::InvalidReference {
        text: text.clone(),
        reason,
    };
    let reference = parse_reference(&text).map_err(invalid)?;
    if reference.to_string() != text {
        return Err(invalid(
            "patchwright cannot represent it exactly as `name[:tag][@digest]`".into(),
        ));
    }
    let segments = expansion.segments;
    let at = match segments.as_slice() {
        [
            Segment {
                source: SegmentSource::Literal { span },
                ..
            },
        ] => *span,
        _ => word,
    };
    let version_spans = tag_span(&reference, &segments).into_iter().collect();
    Ok(Dependency {
        ecosystem: Ecosystem::Docker,
        name: reference.name(),
        version: reference.tag.clone(),
        digest: reference.digest.clone(),
        kind,
        location: location(at),
        version_spans,
        image: Some(Box::new(ImageSite {
            reference,
            segments,
        })),
        edit_mode: EditMode::InPlace,
    })
}

/// The bytes holding the tag, when one segment holds all of it: a literal, or an `ARG` default.
fn tag_span(reference: &ImageRef, segments: &[Segment]) -> Option<Span> {
    let tag = reference.tag.as_ref()?;
    let start = reference.name().len() + 1;
    let end = start + tag.len();
    let mut at = 0;
    for segment in segments {
        let segment_end = at + segment.text.len();
        if at <= start && end <= segment_end {
            let span = match &segment.source {
                SegmentSource::Literal { span } => Some(*span),
                SegmentSource::Arg { default_span, .. } => *default_span,
                SegmentSource::Implied => None,
            }?;
            if span.len() != segment.text.len() {
                return None;
            }
            let tag_start = span.start + (start - at);
            return Some(Span::new(tag_start, tag_start + tag.len()));
        }
        at = segment_end;
    }
    None
}

/// The range of `from=` in a `--mount=` value at `range` of `text`.
fn mount_from(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let value = text.get(range.clone())?;
    let mut at = range.start;
    for field in value.split(',') {
        if let Some(from) = field.strip_prefix("from=") {
            let start = at + "from=".len();
            return Some(start..start + from.len());
        }
        at += field.len() + 1;
    }
    None
}

/// Does the shell execute this heredoc body? It does when the RUN has no other command
/// (`RUN <<EOF`), or feeds it to a shell (`RUN <<EOF bash`), unless a shebang names another
/// interpreter.
fn body_runs_as_shell(command: &str, body: &str) -> bool {
    if let Some(shebang) = body.strip_prefix("#!") {
        let mut interpreter = shebang.split_whitespace();
        let program = interpreter.next().unwrap_or_default();
        let program = if program.ends_with("/env") {
            interpreter.next().unwrap_or_default()
        } else {
            program
        };
        return is_shell(program);
    }
    let words = whitespace_words(command);
    let mut rest = words
        .iter()
        .filter_map(|w| command.get(w.clone()))
        .filter(|w| {
            !w.trim_start_matches(|c: char| c.is_ascii_digit())
                .starts_with("<<")
        });
    rest.next().is_none_or(is_shell)
}

fn unknown_instruction(keyword: &str) -> Problem {
    match crate::nearest::nearest_name(keyword, &INSTRUCTIONS) {
        Some(suggestion) => Problem::UnknownInstructionNear {
            keyword: keyword.to_string(),
            suggestion: suggestion.to_string(),
        },
        None => Problem::UnknownInstruction {
            keyword: keyword.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_keyword() {
        assert_eq!(
            unknown_instruction("FORM").to_string(),
            "unknown instruction `FORM`; did you mean `FROM`?"
        );
        assert_eq!(
            unknown_instruction("workdri").to_string(),
            "unknown instruction `workdri`; did you mean `WORKDIR`?"
        );
        assert!(matches!(
            unknown_instruction("apt-get"),
            Problem::UnknownInstruction { .. }
        ));
    }

    #[test]
    fn heredoc_bodies_run_by_a_shell() {
        assert!(body_runs_as_shell("<<EOF", "apk add git\n"));
        assert!(body_runs_as_shell("<<EOT bash", "apk add git\n"));
        assert!(!body_runs_as_shell("python3 <<EOF", "print(1)\n"));
        assert!(!body_runs_as_shell(
            "<<EOF",
            "#!/usr/bin/env python3\nprint(1)\n"
        ));
        assert!(body_runs_as_shell("<<EOF", "#!/bin/bash\nset -e\n"));
    }

    #[test]
    fn mount_from_finds_the_field() {
        let text = "--mount=type=bind,from=builder,source=/x";
        let value = "--mount=".len()..text.len();
        assert_eq!(mount_from(text, value).map(|r| &text[r]), Some("builder"));
    }
}

//! A fast reader for the plain block YAML that tools and people write most (pnpm-lock.yaml,
//! Kubernetes manifests, Compose files, workflows): block mappings and sequences, one-line plain
//! and quoted scalars, one-line flow collections, comments, `---` between documents.
//!
//! It builds the same tree as the full parser (`yaml-rust2`) byte for byte, spans and starts
//! included, or gives up (`None`) on the first thing outside that subset: anchors, aliases,
//! tags, block scalars, escapes, multi-line scalars or flow collections, empty values, tabs,
//! `\r`, directives, and anything that might be a syntax error. The caller then runs the full
//! parser, so a result never depends on this reader: it only has to be right when it answers.
//! yaml-rust2 reads character by character through a generic scanner; this reads lines and
//! bytes, which is what makes YAML as fast per byte as the JSON lockfiles.

use std::borrow::Cow;

use super::{Node, Scalar};
use crate::model::Span;

/// Nesting deeper than this goes to the full parser, which reports it.
const MAX_DEPTH: usize = 100;
/// YAML limits implicit keys to 1024 characters; longer ones are left to the full parser.
const MAX_KEY: usize = 1024;

/// What a reader keeps of each document. Every byte is read all the same (a file is accepted
/// or declined exactly as when it is kept whole), but what is not kept is not built: the
/// collections of a tree are most of the cost of reading a large file. A reader that never
/// looks at a part can leave it out, and one that looks for a key at any depth can keep just
/// the paths to it, since the reader still sees every key. Only the block reader shapes: the
/// full parser's tree is whole, so a reader must give the same answer from either.
///
/// Each collection is read in a role, an index into `roles` (a document's root in role 0),
/// which says what to keep of each value in it and in which role to read that value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape<'p> {
    roles: &'p [Role<'p>],
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Role<'p> {
    /// Keys with a rule of their own (the first that names the key applies).
    pub(crate) keys: &'p [(&'p str, Keep)],
    /// The values of all other keys.
    pub(crate) other: Keep,
    /// The items of a sequence.
    pub(crate) items: Keep,
}

/// What to keep of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keep {
    /// All of it that its role keeps.
    In(u8),
    /// What its role keeps, when that leaves a collection with something in it; a scalar or a
    /// collection left empty is dropped with its key.
    IfAny(u8),
    /// A scalar; a collection is kept empty (a `Map` or `Seq` with nothing in it).
    Hollow,
    /// Nothing: the entry or item is dropped.
    Never,
}

impl<'p> Shape<'p> {
    /// The whole tree.
    pub(crate) const WHOLE: Shape<'static> = Shape::new(&[Role {
        keys: &[],
        other: Keep::In(0),
        items: Keep::In(0),
    }]);

    /// Panics (at compile time for a `const`) when a rule names a role that is not there.
    pub(crate) const fn new(roles: &'p [Role<'p>]) -> Shape<'p> {
        const fn valid(keep: Keep, roles: usize) -> bool {
            match keep {
                Keep::In(r) | Keep::IfAny(r) => (r as usize) < roles,
                Keep::Hollow | Keep::Never => true,
            }
        }
        let count = roles.len();
        assert!(count > 0, "a shape needs a role for the root");
        let mut i = 0;
        while i < count {
            let role = &roles[i];
            assert!(
                valid(role.other, count) && valid(role.items, count),
                "no such role"
            );
            let mut k = 0;
            while k < role.keys.len() {
                assert!(valid(role.keys[k].1, count), "no such role");
                k += 1;
            }
            i += 1;
        }
        Shape { roles }
    }

    /// The rule for the value of `key` in a mapping read in `role`.
    fn value(&self, role: Option<u8>, key: &Node<'_>) -> Keep {
        let Some(role) = role else {
            return Keep::Never;
        };
        let role = &self.roles[usize::from(role)];
        if !role.keys.is_empty()
            && let Some(key) = key.as_str()
            && let Some((_, keep)) = role.keys.iter().find(|(name, _)| *name == key)
        {
            return *keep;
        }
        role.other
    }

    /// The rule for an item of a sequence read in `role`.
    fn item(&self, role: Option<u8>) -> Keep {
        role.map_or(Keep::Never, |role| self.roles[usize::from(role)].items)
    }
}

impl Keep {
    /// The role a value is read in; `None`: nothing in it is kept.
    fn role(self) -> Option<u8> {
        match self {
            Keep::In(role) | Keep::IfAny(role) => Some(role),
            Keep::Hollow | Keep::Never => None,
        }
    }

    /// Whether `node`, read in `self.role()`, is kept.
    fn keeps(self, node: &Node<'_>) -> bool {
        match self {
            Keep::In(_) | Keep::Hollow => true,
            Keep::IfAny(_) => match node {
                Node::Map(entries) => !entries.is_empty(),
                Node::Seq(items) => !items.is_empty(),
                Node::Scalar(_) | Node::Alias => false,
            },
            Keep::Never => false,
        }
    }
}

/// The documents of `source`, or `None` when it is not in the subset this reader knows.
#[cfg(test)]
pub(super) fn parse(source: &str) -> Option<Vec<Node<'_>>> {
    parse_shaped(source, Shape::WHOLE)
}

/// `parse`, keeping of each document what `shape` keeps.
pub(super) fn parse_shaped<'a>(source: &'a str, shape: Shape<'_>) -> Option<Vec<Node<'a>>> {
    let bytes = source.as_bytes();
    if memchr::memchr2(b'\t', b'\r', bytes).is_some() || source.starts_with('\u{feff}') {
        return None;
    }
    // One entry per line at most: sized once instead of grown (and copied) a dozen times.
    let mut lines = Vec::with_capacity(memchr::memchr_iter(b'\n', bytes).count() + 1);
    // Each document's lines, as a range of `lines`; `---` ends one.
    let mut docs = Vec::new();
    let mut doc_start = 0;
    let mut seen_marker = false;
    // Each line's end: its `\n`, and the end of the text when the last line has none.
    let last = (!source.ends_with('\n')).then_some(bytes.len());
    let mut next = 0;
    for end in memchr::memchr_iter(b'\n', bytes).chain(last) {
        let start = next;
        next = end + 1;
        let body = &source[start..end];
        let indent = body.len() - body.trim_start_matches(' ').len();
        let rest = &body[indent..];
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        if indent == 0 && (rest.starts_with("---") || rest.starts_with("...")) {
            if rest.trim_end_matches(' ') != "---" {
                return None;
            }
            if lines.len() == doc_start {
                // Content before the first `---` is optional; between two it is an empty
                // document (a null), which the full parser builds.
                if seen_marker {
                    return None;
                }
            } else {
                docs.push(doc_start..lines.len());
            }
            seen_marker = true;
            doc_start = lines.len();
            continue;
        }
        if indent == 0 && rest.starts_with('%') {
            return None;
        }
        lines.push(Line {
            start,
            indent,
            end: start + body.len(),
        });
    }
    if lines.len() > doc_start {
        docs.push(doc_start..lines.len());
    } else if seen_marker {
        // A trailing `---` opens an empty document.
        return None;
    }
    let mut reader = Reader {
        source,
        bytes,
        lines,
        pos: 0,
        end: 0,
        depth: 0,
        shape,
    };
    let mut out = Vec::with_capacity(docs.len());
    for doc in docs {
        reader.pos = doc.start;
        reader.end = doc.end;
        let first = reader.lines[doc.start];
        let node = reader.collection(first.indent, first.start + first.indent, None, Some(0))?;
        if reader.pos != doc.end {
            return None;
        }
        out.push(node);
    }
    Some(out)
}

#[derive(Clone, Copy)]
struct Line {
    /// Byte offset of the line.
    start: usize,
    /// Leading spaces.
    indent: usize,
    /// Byte offset of the line's end, without its `\n`.
    end: usize,
}

struct Reader<'a, 's> {
    source: &'a str,
    bytes: &'a [u8],
    /// Lines with content (blank and comment-only lines left out).
    lines: Vec<Line>,
    /// The line being read.
    pos: usize,
    /// One past the current document's last line.
    end: usize,
    depth: usize,
    shape: Shape<'s>,
}

/// A collection's role in `Shape` is passed down as `role`; `None`: nothing in it is kept.
impl<'a> Reader<'a, '_> {
    fn line(&self) -> Option<Line> {
        (self.pos < self.end).then(|| self.lines[self.pos])
    }

    fn is_item(&self, at: usize, end: usize) -> bool {
        self.bytes[at] == b'-' && (at + 1 == end || self.bytes[at + 1] == b' ')
    }

    /// A block mapping or sequence whose first entry starts at byte `at` of the current line,
    /// in column `indent` (deeper than the line's own indentation after `- `). `first_key` is
    /// the mapping's first key when the caller has already read it (each key is scanned once).
    fn collection(
        &mut self,
        indent: usize,
        at: usize,
        first_key: Option<(Node<'a>, usize)>,
        role: Option<u8>,
    ) -> Option<Node<'a>> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let line = self.line()?;
        let node = if self.is_item(at, line.end) {
            self.sequence(indent, at, role)
        } else {
            self.mapping(indent, at, first_key, role)
        };
        self.depth -= 1;
        node
    }

    fn sequence(&mut self, indent: usize, mut at: usize, role: Option<u8>) -> Option<Node<'a>> {
        let mut items = Vec::new();
        let keep = self.shape.item(role);
        loop {
            let line = self.line()?;
            // After `-`: the item on this line, or on the next lines when nothing follows.
            let content = skip_spaces(self.bytes, at + 1, line.end);
            let item = if content == line.end || self.bytes[content] == b'#' {
                if content < line.end && self.bytes[content - 1] != b' ' {
                    return None;
                }
                self.pos += 1;
                self.nested(indent, false, keep.role())?
            } else {
                let column = content - line.start;
                self.inline(indent, column, content, line, keep.role())?
            };
            if keep.keeps(&item) {
                items.push(item);
            }
            match self.line() {
                Some(next) if next.indent == indent => {
                    at = next.start + next.indent;
                    if !self.is_item(at, next.end) {
                        // A key at the sequence's column ends it only when it belongs to a
                        // mapping the sequence is the value of; the caller checks.
                        break;
                    }
                }
                Some(next) if next.indent > indent => return None,
                _ => break,
            }
        }
        Some(Node::Seq(items))
    }

    /// What starts at byte `at` of `line` (column `column`) after the `- ` of a sequence at
    /// `indent`: a nested collection written compactly, or a value.
    fn inline(
        &mut self,
        indent: usize,
        column: usize,
        at: usize,
        line: Line,
        role: Option<u8>,
    ) -> Option<Node<'a>> {
        if self.is_item(at, line.end) {
            return self.collection(column, at, None, role);
        }
        if let Some(key) = self.key_end(at, line.end) {
            return self.collection(column, at, Some(key), role);
        }
        let node = self.value(at, line.end, indent, role)?;
        self.after_value(column)?;
        Some(node)
    }

    /// After a one-line value: a deeper line would continue it (a multi-line scalar) or be an
    /// error, both left to the full parser.
    fn after_value(&self, column: usize) -> Option<()> {
        match self.line() {
            Some(next) if next.indent >= column => None,
            _ => Some(()),
        }
    }

    fn mapping(
        &mut self,
        indent: usize,
        mut at: usize,
        mut first_key: Option<(Node<'a>, usize)>,
        role: Option<u8>,
    ) -> Option<Node<'a>> {
        let mut entries = Vec::new();
        loop {
            let line = self.line()?;
            let (key, colon) = match first_key.take() {
                Some(known) => known,
                None => self.key_end(at, line.end)?,
            };
            let keep = self.shape.value(role, &key);
            let content = skip_spaces(self.bytes, colon + 1, line.end);
            let value = if content == line.end || self.bytes[content] == b'#' {
                if content < line.end && content == colon + 1 {
                    return None;
                }
                self.pos += 1;
                self.nested(indent, true, keep.role())?
            } else {
                // A second key on the line (`a: b: c`) needs no scan of its own: the value's
                // scan declines at its `: ` (plain) or at what follows its closing quote.
                if self.is_item(content, line.end) {
                    return None;
                }
                let node = self.value(content, line.end, indent, keep.role())?;
                self.after_value(indent + 1)?;
                node
            };
            if keep.keeps(&value) {
                entries.push((key, value));
            }
            match self.line() {
                Some(next) if next.indent == indent => {
                    at = next.start + next.indent;
                    if self.is_item(at, next.end) {
                        return None;
                    }
                }
                Some(next) if next.indent > indent => return None,
                _ => break,
            }
        }
        Some(Node::Map(entries))
    }

    /// The value of a key or `-` with nothing after it on its line: a deeper collection, or a
    /// sequence in the key's own column. Anything else (an empty value, a scalar on the next
    /// line) goes to the full parser.
    fn nested(&mut self, parent: usize, sequence_here: bool, role: Option<u8>) -> Option<Node<'a>> {
        let line = self.line()?;
        let at = line.start + line.indent;
        if line.indent > parent {
            if self.is_item(at, line.end) {
                return self.collection(line.indent, at, None, role);
            }
            let key = self.key_end(at, line.end)?;
            return self.collection(line.indent, at, Some(key), role);
        }
        if sequence_here && line.indent == parent && self.is_item(at, line.end) {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return None;
            }
            let node = self.sequence(line.indent, at, role);
            self.depth -= 1;
            return node;
        }
        None
    }

    /// When a mapping key starts at `at`: the key and the offset of its `:`.
    fn key_end(&self, at: usize, end: usize) -> Option<(Node<'a>, usize)> {
        let bytes = self.bytes;
        let (key, after) = match bytes[at] {
            b'\'' | b'"' => {
                let (scalar, after) = self.quoted(at, end)?;
                (scalar, skip_spaces(bytes, after, end))
            }
            _ => {
                if !plain_start(bytes, at, end) {
                    return None;
                }
                // The first `: ` (or `:` at the end) before any comment.
                let mut i = at;
                let colon = loop {
                    i = next_special(bytes, i, end);
                    if i >= end {
                        return None;
                    }
                    match bytes[i] {
                        b':' if i + 1 == end || bytes[i + 1] == b' ' => break i,
                        b'#' if bytes[i - 1] == b' ' => return None,
                        b'[' | b']' | b'{' | b'}' => return None,
                        _ => i += 1,
                    }
                };
                let text = self.source[at..colon].trim_end_matches(' ');
                (self.plain(at, text), colon)
            }
        };
        if after >= end || bytes[after] != b':' || (after + 1 < end && bytes[after + 1] != b' ') {
            return None;
        }
        if after - at > MAX_KEY {
            return None;
        }
        Some((key, after))
    }

    /// A value from `at` to the end of the line (a comment may follow), or a literal block
    /// scalar whose lines are deeper than `parent`; the lines it takes are passed.
    fn value(
        &mut self,
        at: usize,
        end: usize,
        parent: usize,
        role: Option<u8>,
    ) -> Option<Node<'a>> {
        if self.bytes[at] == b'|' {
            return self.literal(at, end, parent);
        }
        let node = self.one_line(at, end, role)?;
        self.pos += 1;
        Some(node)
    }

    /// `|`, `|-` or `|+` (no indentation indicator) and the lines below it: the value is
    /// the lines without their common indentation, chomped as the header says. Its text is not
    /// its value, so it has no span (as the full parser gives). Leading empty lines, a last
    /// line without a line break and deeper blank lines go to the full parser.
    fn literal(&mut self, at: usize, end: usize, parent: usize) -> Option<Node<'a>> {
        let bytes = self.bytes;
        let (chomp, header_end) = match bytes.get(at + 1) {
            Some(&c @ (b'-' | b'+')) => (c, at + 2),
            _ => (b' ', at + 1),
        };
        if !rest_is_comment(bytes, header_end, end) || end >= bytes.len() {
            return None;
        }
        // The content lines: the first fixes the indentation, which must be deeper than the
        // parent's; the block ends before the first non-empty line less indented.
        let mut value = String::new();
        let mut indent = None;
        let mut pending_breaks = 0;
        let mut offset = end + 1;
        let mut stop = bytes.len();
        // The full parser's position for a block scalar: its first content character.
        let mut first = 0;
        for raw in self.source[offset..].split_inclusive('\n') {
            let Some(body) = raw.strip_suffix('\n') else {
                // A last line without its line break: left to the full parser.
                return None;
            };
            let spaces = body.len() - body.trim_start_matches(' ').len();
            if spaces == body.len() {
                // An empty line: it may belong to the block or follow it.
                if indent.is_none_or(|m| spaces > m) {
                    return None;
                }
                pending_breaks += 1;
                offset += raw.len();
                continue;
            }
            if indent.is_none() {
                first = offset + spaces;
            }
            let m = *indent.get_or_insert(spaces);
            if spaces < m {
                stop = offset;
                break;
            }
            if m <= parent {
                return None;
            }
            for _ in 0..pending_breaks {
                value.push('\n');
            }
            pending_breaks = 0;
            value.push_str(&body[m..]);
            value.push('\n');
            offset += raw.len();
        }
        indent?;
        match chomp {
            b'-' => {
                value.pop();
            }
            b'+' => {
                for _ in 0..pending_breaks {
                    value.push('\n');
                }
            }
            _ => {}
        }
        // Past the block's lines (its comment-like lines were counted as lines).
        let stop = stop.min(offset);
        while self.pos < self.end && self.lines[self.pos].start < stop {
            self.pos += 1;
        }
        Some(Node::Scalar(Scalar {
            value: Cow::Owned(value),
            start: first,
            span: None,
        }))
    }

    /// A value on one line: a quoted or plain scalar or a flow collection.
    fn one_line(&self, at: usize, end: usize, role: Option<u8>) -> Option<Node<'a>> {
        let bytes = self.bytes;
        let (node, after) = match bytes[at] {
            b'\'' | b'"' => self.quoted(at, end)?,
            b'[' | b'{' => self.flow(at, end, 0, role)?,
            _ => {
                if !plain_start(bytes, at, end) {
                    return None;
                }
                let mut i = at;
                let mut stop = end;
                loop {
                    i = next_special(bytes, i, end);
                    if i >= end {
                        break;
                    }
                    match bytes[i] {
                        b':' if i + 1 == end || bytes[i + 1] == b' ' => return None,
                        b'#' if bytes[i - 1] == b' ' => {
                            stop = i;
                            break;
                        }
                        b'[' | b']' | b'{' | b'}' => return None,
                        _ => i += 1,
                    }
                }
                let text = self.source[at..stop].trim_end_matches(' ');
                return Some(self.plain(at, text));
            }
        };
        rest_is_comment(bytes, after, end).then_some(node)
    }

    fn plain(&self, at: usize, text: &'a str) -> Node<'a> {
        Node::Scalar(Scalar {
            value: Cow::Borrowed(text),
            start: at,
            span: Some(Span::new(at, at + text.len())),
        })
    }

    /// A quoted scalar closed on its line, without escapes other than `''`: the scalar and the
    /// offset after its closing quote.
    fn quoted(&self, at: usize, end: usize) -> Option<(Node<'a>, usize)> {
        let bytes = self.bytes;
        let quote = bytes[at];
        let mut i = at + 1;
        let mut doubled = false;
        let close = loop {
            if i >= end {
                return None;
            }
            match bytes[i] {
                b'\\' if quote == b'"' => return None,
                b'\'' if quote == b'\'' && i + 1 < end && bytes[i + 1] == b'\'' => {
                    doubled = true;
                    i += 2;
                }
                b if b == quote => break i,
                _ => i += 1,
            }
        };
        let raw = &self.source[at + 1..close];
        let scalar = if doubled {
            let value = raw.replace("''", "'");
            let span = super::value_span(self.source, at, &value, "'");
            Scalar {
                value: Cow::Owned(value),
                start: at,
                span,
            }
        } else {
            Scalar {
                value: Cow::Borrowed(raw),
                start: at,
                span: (!raw.is_empty()).then(|| Span::new(at + 1, close)),
            }
        };
        Some((Node::Scalar(scalar), close + 1))
    }

    /// A flow collection closed on its line: the node and the offset after it.
    fn flow(
        &self,
        at: usize,
        end: usize,
        depth: usize,
        role: Option<u8>,
    ) -> Option<(Node<'a>, usize)> {
        if self.depth + depth > MAX_DEPTH {
            return None;
        }
        let bytes = self.bytes;
        let (open, close) = (bytes[at], if bytes[at] == b'[' { b']' } else { b'}' });
        let mut i = skip_spaces(bytes, at + 1, end);
        let mut items = Vec::new();
        let mut entries = Vec::new();
        if i < end && bytes[i] == close {
            let node = if open == b'[' {
                Node::Seq(items)
            } else {
                Node::Map(entries)
            };
            return Some((node, i + 1));
        }
        loop {
            if open == b'[' {
                let keep = self.shape.item(role);
                let (item, after) = self.flow_node(i, end, depth, keep.role())?;
                if keep.keeps(&item) {
                    items.push(item);
                }
                i = skip_spaces(bytes, after, end);
            } else {
                if i >= end {
                    return None;
                }
                let (key, after) = match bytes[i] {
                    b'\'' | b'"' => self.quoted(i, end)?,
                    _ => self.flow_plain(i, end)?,
                };
                let colon = skip_spaces(bytes, after, end);
                if colon + 1 >= end || bytes[colon] != b':' || bytes[colon + 1] != b' ' {
                    return None;
                }
                let start = skip_spaces(bytes, colon + 1, end);
                if start >= end || matches!(bytes[start], b',' | b'}') {
                    return None;
                }
                let keep = self.shape.value(role, &key);
                let (value, after) = self.flow_node(start, end, depth, keep.role())?;
                if keep.keeps(&value) {
                    entries.push((key, value));
                }
                i = skip_spaces(bytes, after, end);
            }
            if i >= end {
                return None;
            }
            match bytes[i] {
                b',' => {
                    i = skip_spaces(bytes, i + 1, end);
                    if i >= end || matches!(bytes[i], b']' | b'}' | b',') {
                        return None;
                    }
                }
                b if b == close => {
                    let node = if open == b'[' {
                        Node::Seq(items)
                    } else {
                        Node::Map(entries)
                    };
                    return Some((node, i + 1));
                }
                _ => return None,
            }
        }
    }

    fn flow_node(
        &self,
        at: usize,
        end: usize,
        depth: usize,
        role: Option<u8>,
    ) -> Option<(Node<'a>, usize)> {
        if at >= end {
            return None;
        }
        match self.bytes[at] {
            b'[' | b'{' => self.flow(at, end, depth + 1, role),
            b'\'' | b'"' => self.quoted(at, end),
            _ => self.flow_plain(at, end),
        }
    }

    /// A plain scalar inside a flow collection: it ends at `,`, a bracket or `: `.
    fn flow_plain(&self, at: usize, end: usize) -> Option<(Node<'a>, usize)> {
        let bytes = self.bytes;
        if at >= end || !plain_start(bytes, at, end) {
            return None;
        }
        let mut i = at;
        loop {
            i = next_special(bytes, i, end);
            if i >= end {
                break;
            }
            match bytes[i] {
                b',' | b'[' | b']' | b'{' | b'}' => break,
                b':' if i + 1 == end || matches!(bytes[i + 1], b' ' | b',' | b']' | b'}') => break,
                b'#' if bytes[i - 1] == b' ' => return None,
                _ => i += 1,
            }
        }
        let text = self.source[at..i].trim_end_matches(' ');
        if text.is_empty() || (i < end && matches!(bytes[i], b'[' | b'{')) {
            return None;
        }
        Some((self.plain(at, text), at + text.len()))
    }
}

/// Whether a plain scalar may start at `at` (YAML's indicator characters may not start one;
/// `-`, `?` and `:` may when a non-space follows).
fn plain_start(bytes: &[u8], at: usize, end: usize) -> bool {
    match bytes[at] {
        b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' | b' ' => false,
        b'-' | b'?' | b':' => {
            at + 1 < end && !matches!(bytes[at + 1], b' ' | b',' | b'[' | b']' | b'{' | b'}')
        }
        _ => true,
    }
}

/// The bytes a plain scalar's scan must look at: everything else is passed over by one table
/// lookup each (the scans are most of a YAML file's parse: every key and value goes through one).
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    let special = b":#[]{},";
    while i < special.len() {
        table[special[i] as usize] = true;
        i += 1;
    }
    table
};

/// The first byte from `at` (before `end`) that `SPECIAL` names, or `end`.
fn next_special(bytes: &[u8], mut at: usize, end: usize) -> usize {
    while at < end && !SPECIAL[bytes[at] as usize] {
        at += 1;
    }
    at
}

fn skip_spaces(bytes: &[u8], mut at: usize, end: usize) -> usize {
    while at < end && bytes[at] == b' ' {
        at += 1;
    }
    at
}

/// Nothing but spaces and a comment (which needs a space before its `#`) from `at` to `end`.
fn rest_is_comment(bytes: &[u8], at: usize, end: usize) -> bool {
    let next = skip_spaces(bytes, at, end);
    next == end || (bytes[next] == b'#' && next > at)
}

#[cfg(test)]
mod tests {
    use super::super::parse_full;
    use super::*;
    use proptest::prelude::*;

    /// The fast reader either declines or builds exactly what the full parser builds.
    fn agrees(source: &str) -> bool {
        match parse(source) {
            None => false,
            Some(docs) => {
                assert_eq!((docs, None), parse_full(source), "{source}");
                true
            }
        }
    }

    #[test]
    fn agrees_with_the_full_parser_on_every_corpus_yaml_file() {
        let (corpus, files) = crate::manifest::yaml::corpus_yaml_files();
        assert!(files.len() >= 70, "{} YAML files", files.len());
        let mut read = Vec::new();
        for path in &files {
            let source = std::fs::read_to_string(path).unwrap();
            if agrees(&source) {
                read.push(path.strip_prefix(&corpus).unwrap().display().to_string());
            }
        }
        // The files the speed figures are measured on take the fast path.
        for measured in [
            "vuejs_core/pnpm-lock.yaml",
            "microservices-demo/release/kubernetes-manifests.yaml",
        ] {
            assert!(read.iter().any(|r| r == measured), "{measured}: {read:?}");
        }
        eprintln!(
            "fast path: {} of {} corpus YAML files",
            read.len(),
            files.len()
        );
    }

    #[test]
    fn declines_what_it_does_not_know() {
        for source in [
            "a: &x 1\nb: *x\n",
            "a: !tag 1\n",
            "a: >\n  text\n",
            "a: \"esc\\n\"\n",
            "a: one\n  two\n",
            "a: [1,\n  2]\n",
            "a:\n",
            "a:\tb\n",
            "a: b\r\n",
            "%YAML 1.2\n---\na: b\n",
            "a: 1\n---\n",
            "a: b: c\n",
            "a: [1, ]\n",
            "a: {b}\n",
            "- a\nb: c\n",
            "a: 1\n - b\n",
            "? a\n: b\n",
            "a: 'open\n",
            "plain\n",
        ] {
            assert_eq!(parse(source), None, "{source:?}");
        }
    }

    #[test]
    fn reads_the_usual_shapes() {
        for source in [
            "a: |\n  line one\n    deeper # not a comment\n\n  after a blank\n\nb: 1\n",
            "a: |-\n  x\n\n\nb: 1\n",
            "a: |+\n  x\n\n\nb: 1\n",
            "- |\n  x\n- y\n",
            "k:\n  - name: n\n    args:\n    - |\n      echo $x\n      # hi\n    other: 1\n",
            "",
            "# only a comment\n",
            "a: 1\n",
            "---\na: 1\n---\nb: [x, 'y', \"z\"]\n",
            "k:\n- a\n- b: 1\n  c: 2 # note\nd: {e: f, g: [h]}\n",
            "- - a\n  - b\n-\n  x: 'it''s'\n",
            "'@scope/pkg@1.0.0':\n    resolution: {integrity: sha512-a+b/c==}\n    engines: {node: ^22.13.0 || >=24.0.0}\n",
            "url: https://example.com/a#b\nempty: ''\nspaced : v\n",
            "é: 'ünï'\nx: {}\ny: []\n",
        ] {
            assert!(agrees(source), "{source:?}");
        }
    }

    #[test]
    fn scalars_borrow_the_source_unless_their_text_is_not_their_value() {
        let source = "plain: nginx:1.25 # c\n'single': 'a b'\n\"double\": \"x\"\ndoubled: 'it''s'\nblock: |\n  text\nflow: [f, 'g', {h: i}]\n";
        assert!(agrees(source));
        let docs = parse(source).unwrap();
        let mut borrowed = Vec::new();
        let mut owned = Vec::new();
        fn visit<'a>(node: &'a Node<'a>, borrowed: &mut Vec<&'a str>, owned: &mut Vec<&'a str>) {
            match node {
                Node::Scalar(s) => match &s.value {
                    Cow::Borrowed(v) => borrowed.push(*v),
                    Cow::Owned(v) => owned.push(v.as_str()),
                },
                Node::Seq(items) => items.iter().for_each(|i| visit(i, borrowed, owned)),
                Node::Map(entries) => entries.iter().for_each(|(k, v)| {
                    visit(k, borrowed, owned);
                    visit(v, borrowed, owned);
                }),
                Node::Alias => {}
            }
        }
        visit(&docs[0], &mut borrowed, &mut owned);
        assert_eq!(
            borrowed,
            [
                "plain",
                "nginx:1.25",
                "single",
                "a b",
                "double",
                "x",
                "doubled",
                "block",
                "flow",
                "f",
                "g",
                "h",
                "i"
            ]
        );
        assert_eq!(owned, ["it's", "text\n"]);
    }

    #[test]
    fn multi_document_files_with_comments_and_flow_collections_agree() {
        for (source, documents) in [
            (
                "# head\n---\n# only comments here\na: 1 # one\n---\nb: [x, {y: 'z'}] # two\n---\n- c\n- {d: [e, f]}\n",
                3,
            ),
            (
                "kind: A\nspec: {containers: [{name: n, image: 'i:1'}]}\n---\nkind: B\nitems:\n- 'q''s' # quoted\n",
                2,
            ),
        ] {
            assert!(agrees(source), "{source:?}");
            assert_eq!(parse(source).map(|d| d.len()), Some(documents));
        }
    }

    #[test]
    fn anchors_aliases_and_escapes_are_left_to_the_full_parser_which_reads_them() {
        for source in [
            "x: &a nginx:1\ny: *a\n",
            "x: &m {a: 1}\ny: *m\n",
            "x: \"tab\\there\"\n",
        ] {
            assert_eq!(parse(source), None, "{source:?}");
            let (docs, error) = super::super::parse(source);
            assert_eq!(error, None);
            assert_eq!(docs.len(), 1);
        }
    }

    #[derive(Debug, Clone)]
    enum Gen {
        Scalar(String, u8),
        Seq(Vec<Gen>, bool),
        Map(Vec<((String, u8), Gen)>, bool),
    }

    fn tree() -> impl Strategy<Value = Gen> {
        let leaf = ("[a-z0-9 :#'\"@/^|>().,é-]{1,10}", 0..4u8).prop_map(|(s, q)| Gen::Scalar(s, q));
        leaf.prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                (prop::collection::vec(inner.clone(), 1..5), any::<bool>())
                    .prop_map(|(v, f)| Gen::Seq(v, f)),
                (
                    prop::collection::vec((("[a-z@'/][a-z0-9@/. :-]{0,8}", 0..3u8), inner), 1..5),
                    any::<bool>()
                )
                    .prop_map(|(v, f)| Gen::Map(v, f)),
            ]
        })
    }

    /// A scalar written plain when YAML allows it, else quoted (`style` picks which quotes).
    fn scalar(text: &str, style: u8, flow: bool) -> String {
        let plain = text.starts_with(|c: char| c.is_ascii_alphanumeric())
            && !text.contains(": ")
            && !text.contains(" #")
            && !text.ends_with([':', ' '])
            && !text.contains(['\'', '"', '#'])
            && (!flow || !text.contains(','));
        if plain && style == 0 {
            text.to_string()
        } else if style == 2 && !text.contains('"') {
            format!("\"{text}\"")
        } else {
            format!("'{}'", text.replace('\'', "''"))
        }
    }

    fn is_flow(node: &Gen) -> bool {
        match node {
            Gen::Scalar(..) => false,
            Gen::Seq(items, flow) => {
                *flow
                    && items
                        .iter()
                        .all(|i| is_flow(i) || matches!(i, Gen::Scalar(..)))
            }
            Gen::Map(entries, flow) => {
                *flow
                    && entries
                        .iter()
                        .all(|(_, v)| is_flow(v) || matches!(v, Gen::Scalar(..)))
            }
        }
    }

    fn flow(node: &Gen) -> String {
        match node {
            Gen::Scalar(text, style) => scalar(text, *style, true),
            Gen::Seq(items, _) => format!(
                "[{}]",
                items.iter().map(flow).collect::<Vec<_>>().join(", ")
            ),
            Gen::Map(entries, _) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|((k, s), v)| format!("{}: {}", scalar(k, *s, true), flow(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// `node` as a block collection at `indent` (a scalar root becomes a one-key mapping).
    fn block(node: &Gen, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        let inline = |node: &Gen| match node {
            // Non-ASCII lines included: the full parser's positions after them are mapped
            // from lines and columns, which yaml-rust2 counts right (its index is not).
            Gen::Scalar(text, 3) if text.split(',').any(|l| !l.trim().is_empty()) => {
                let chomp = ["", "-", "+"][text.len() % 3];
                let mut literal = format!("|{chomp}");
                for line in text.split(',').map(str::trim).filter(|l| !l.is_empty()) {
                    literal.push_str(&format!("\n{pad}  {line}"));
                }
                Some(literal)
            }
            Gen::Scalar(text, style) => {
                let comment = if text.len() % 3 == 0 { "  # note" } else { "" };
                Some(format!("{}{comment}", scalar(text, *style, false)))
            }
            other if is_flow(other) => Some(flow(other)),
            _ => None,
        };
        match node {
            Gen::Scalar(..) => block(
                &Gen::Map(vec![(("root".into(), 0), node.clone())], false),
                indent,
                out,
            ),
            Gen::Seq(items, _) => {
                for item in items {
                    match inline(item) {
                        Some(text) => out.push_str(&format!("{pad}- {text}\n")),
                        None => {
                            let mut nested = String::new();
                            block(item, indent + 2, &mut nested);
                            out.push_str(&pad);
                            out.push_str("- ");
                            out.push_str(&nested[indent + 2..]);
                        }
                    }
                }
            }
            Gen::Map(entries, _) => {
                for (i, ((key, style), value)) in entries.iter().enumerate() {
                    if i > 0 && key.len() % 4 == 1 {
                        out.push('\n');
                    }
                    out.push_str(&format!("{pad}{}:", scalar(key, *style, false)));
                    match inline(value) {
                        Some(text) => out.push_str(&format!(" {text}\n")),
                        None => {
                            out.push('\n');
                            let compact = matches!(value, Gen::Seq(..)) && key.len() % 2 == 0;
                            block(value, if compact { indent } else { indent + 2 }, out);
                        }
                    }
                }
            }
        }
    }

    fn document(docs: &[Gen], marker: bool) -> String {
        let mut out = String::new();
        for (i, doc) in docs.iter().enumerate() {
            if i > 0 || marker {
                out.push_str("---\n");
            }
            block(doc, 0, &mut out);
        }
        out
    }

    /// What `shape` should leave of a whole tree, `node` being read in `role` (the reference
    /// the shaped reader is checked against).
    fn shaped<'a>(node: Node<'a>, role: Option<u8>, shape: &Shape) -> Node<'a> {
        let keep = |rule: Keep, value: Node<'a>| {
            let value = shaped(value, rule.role(), shape);
            rule.keeps(&value).then_some(value)
        };
        match node {
            Node::Map(entries) => Node::Map(
                entries
                    .into_iter()
                    .filter_map(|(k, v)| keep(shape.value(role, &k), v).map(|v| (k, v)))
                    .collect(),
            ),
            Node::Seq(items) => Node::Seq(
                items
                    .into_iter()
                    .filter_map(|i| keep(shape.item(role), i))
                    .collect(),
            ),
            other => other,
        }
    }

    #[test]
    fn a_pnpm_shape_keeps_package_keys_only() {
        let source = "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: x}\n  b@2.0.0: {}\nsnapshots:\n  a@1.0.0:\n    dependencies:\n      b: 2.0.0\n";
        let roles = [
            Role {
                keys: &[("snapshots", Keep::Hollow), ("packages", Keep::In(1))],
                other: Keep::In(0),
                items: Keep::In(0),
            },
            Role {
                keys: &[],
                other: Keep::Hollow,
                items: Keep::In(0),
            },
        ];
        let docs = parse_shaped(source, Shape::new(&roles)).unwrap();
        let packages = docs[0].get("packages").unwrap().entries();
        let keys: Vec<&str> = packages.iter().filter_map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a@1.0.0", "b@2.0.0"]);
        assert!(packages.iter().all(|(_, v)| v == &Node::Map(Vec::new())));
        assert_eq!(docs[0].get("snapshots"), Some(&Node::Map(Vec::new())));
        assert_eq!(
            docs[0].get("lockfileVersion").and_then(Node::as_str),
            Some("9.0")
        );
    }

    #[test]
    fn a_shape_can_keep_only_the_paths_to_a_key_at_any_depth() {
        let source = "kind: Pod\nmetadata: {name: p, labels: {a: b}}\nspec:\n  volumes:\n  - name: v\n  containers:\n  - name: c\n    image: nginx:1\n    env: [{name: X, value: '1'}]\n  - args: [a]\n  other:\n    deeper: [x, {image: [y]}]\n";
        // `image` anywhere, with the collections on the way to it.
        let roles = [Role {
            keys: &[("image", Keep::In(0))],
            other: Keep::IfAny(0),
            items: Keep::IfAny(0),
        }];
        let docs = parse_shaped(source, Shape::new(&roles)).unwrap();
        let (expected, _) = super::super::parse(
            "spec:\n  containers:\n  - image: nginx:1\n  other:\n    deeper: [{image: []}]\n",
        );
        // Same values; spans differ, so compare the text.
        fn text(node: &Node) -> String {
            match node {
                Node::Scalar(s) => s.value.to_string(),
                Node::Seq(items) => {
                    format!("[{}]", items.iter().map(text).collect::<Vec<_>>().join(","))
                }
                Node::Map(entries) => format!(
                    "{{{}}}",
                    entries
                        .iter()
                        .map(|(k, v)| format!("{}:{}", text(k), text(v)))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                Node::Alias => "*".into(),
            }
        }
        assert_eq!(text(&docs[0]), text(&expected[0]));
        assert_eq!(
            docs,
            vec![shaped(
                parse(source).unwrap().remove(0),
                Some(0),
                &Shape::new(&roles)
            )]
        );
    }

    /// Every mapping key of the generated documents, at any depth.
    fn generated_keys<'g>(node: &'g Gen, out: &mut Vec<&'g str>) {
        match node {
            Gen::Scalar(..) => out.push("root"),
            Gen::Seq(items, _) => items.iter().for_each(|i| generated_keys(i, out)),
            Gen::Map(entries, _) => {
                for ((key, _), value) in entries {
                    out.push(key);
                    generated_keys(value, out);
                }
            }
        }
    }

    fn rule(pick: (u8, u8), roles: usize) -> Keep {
        let role = u8::try_from(usize::from(pick.1) % roles).unwrap();
        match pick.0 % 4 {
            0 => Keep::In(role),
            1 => Keep::IfAny(role),
            2 => Keep::Hollow,
            _ => Keep::Never,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn generated_block_yaml_is_read_as_the_full_parser_reads_it(
            docs in prop::collection::vec(tree(), 1..3),
            marker in any::<bool>(),
        ) {
            let source = document(&docs, marker);
            prop_assert!(agrees(&source), "declined: {source}");
        }

        #[test]
        fn shaped_reading_keeps_exactly_what_the_shape_says_and_declines_the_same(
            docs in prop::collection::vec(tree(), 1..3),
            marker in any::<bool>(),
            roles in prop::collection::vec(
                (
                    prop::collection::vec((any::<prop::sample::Index>(), any::<(u8, u8)>()), 0..4),
                    any::<(u8, u8)>(),
                    any::<(u8, u8)>(),
                ),
                1..4,
            ),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut keys = Vec::new();
            docs.iter().for_each(|d| generated_keys(d, &mut keys));
            let count = roles.len();
            let named: Vec<Vec<(&str, Keep)>> = roles
                .iter()
                .map(|(picks, _, _)| {
                    picks
                        .iter()
                        .filter(|_| !keys.is_empty())
                        .map(|(at, pick)| (keys[at.index(keys.len())], rule(*pick, count)))
                        .collect()
                })
                .collect();
            let roles: Vec<Role> = roles
                .iter()
                .zip(&named)
                .map(|((_, other, items), keys)| Role {
                    keys,
                    other: rule(*other, count),
                    items: rule(*items, count),
                })
                .collect();
            let shape = Shape::new(&roles);
            let source = document(&docs, marker);
            let whole = parse(&source).expect("generated YAML is read");
            let expected: Vec<Node> = whole.into_iter().map(|d| shaped(d, Some(0), &shape)).collect();
            prop_assert_eq!(parse_shaped(&source, shape), Some(expected));
            // Cut short, the file is declined or read as when whole.
            let mut end = cut.index(source.len() + 1);
            while !source.is_char_boundary(end) {
                end -= 1;
            }
            let short = &source[..end];
            prop_assert_eq!(
                parse_shaped(short, shape),
                parse(short).map(|docs| docs.into_iter().map(|d| shaped(d, Some(0), &shape)).collect())
            );
        }

        #[test]
        fn mutated_yaml_is_declined_or_read_as_the_full_parser_reads_it(
            docs in prop::collection::vec(tree(), 1..3),
            edits in prop::collection::vec((any::<prop::sample::Index>(), "[ \n:#'\"\\[\\]{},&*!|>?%@\\\\-]{0,2}", 0..3u8), 1..4),
        ) {
            let mut source = document(&docs, false);
            for (at, text, op) in edits {
                let mut at = at.index(source.len() + 1);
                while !source.is_char_boundary(at) {
                    at -= 1;
                }
                match op {
                    0 => source.insert_str(at, &text),
                    1 => {
                        let mut end = (at + text.len() + 1).min(source.len());
                        while !source.is_char_boundary(end) {
                            end += 1;
                        }
                        source.replace_range(at..end, "");
                    }
                    _ => source.insert_str(at, &format!("{text} ")),
                }
            }
            agrees(&source);
        }
    }
}

//! A fast reader of uv.lock as `uv lock` writes it: root keys, then `[[package]]` tables with
//! one-line values, `[package.*]` sub-tables, and multi-line arrays with one value per line.
//!
//! It checks every line it reads against that shape (bare keys, basic strings without escapes,
//! decimal integers, booleans, one-line inline tables and arrays, no duplicate keys or tables)
//! and gives up (`None`) on anything else: then the `toml` crate reads the whole document, so
//! a result never depends on this reader. Building the `toml` crate's document costs most of
//! the parse; uv.lock is mostly wheel lines this reader only has to check.

use crate::model::Span;

/// What the full parser's reading of a uv.lock comes down to.
#[derive(Debug, Default)]
pub(super) struct Lock<'s> {
    pub(super) packages: Vec<Package<'s>>,
}

#[derive(Debug, Default)]
pub(super) struct Package<'s> {
    pub(super) name: Option<(&'s str, Span)>,
    pub(super) version: Option<(&'s str, Span)>,
    /// The single key of `source = { kind = "..." }`.
    pub(super) source: Option<&'s str>,
    /// `dependencies`, and every list of the `optional-dependencies` and `dev-dependencies`
    /// tables: `(name, version)` of each entry that has a string name (`None` when its
    /// `version` is missing or not a string).
    pub(super) declared: Vec<(&'s str, Option<&'s str>)>,
}

/// The lock, or `None` when the file is not in the shape uv writes.
pub(super) fn read(source: &str) -> Option<Lock<'_>> {
    let bytes = source.as_bytes();
    // Control characters (other than line feeds) are TOML errors or `\r\n`, tabs: left to
    // the full parser.
    if bytes.iter().any(|&b| (b < 0x20 && b != b'\n') || b == 0x7f) {
        return None;
    }
    let mut reader = Reader {
        source,
        bytes,
        lock: Lock::default(),
        section: Section::Root,
        keys: Vec::new(),
        tables: Vec::new(),
        package_keys: Vec::new(),
        path: "",
        array: None,
    };
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let end = start + line.strip_suffix('\n').unwrap_or(line).len();
        reader.line(start, end)?;
    }
    if reader.array.is_some() {
        return None;
    }
    Some(reader.lock)
}

/// The table the lines being read belong to.
#[derive(Clone, Copy, PartialEq)]
enum Section {
    Root,
    /// A `[[package]]` table itself.
    Package,
    /// `[package.optional-dependencies]` or `[package.dev-dependencies]`: lists of requirements.
    Groups,
    /// Any other `[package.*]` table: checked, not read.
    Other,
}

/// A one-line value, as much of it as the caller reads.
enum Value<'s> {
    Str(&'s str, Span),
    Table(Vec<(&'s str, Value<'s>)>),
    Array(Vec<Value<'s>>),
    Other,
}

/// A multi-line array being read: its key and the items so far.
struct OpenArray<'s> {
    key: &'s str,
    items: Vec<Value<'s>>,
    /// An item without a trailing comma must be the last.
    closed: bool,
}

struct Reader<'s> {
    source: &'s str,
    bytes: &'s [u8],
    lock: Lock<'s>,
    section: Section,
    /// Keys of the current table, for duplicates.
    keys: Vec<&'s str>,
    /// `[package.*]` tables of the current package, for duplicates.
    tables: Vec<&'s str>,
    /// Every key of the current package, with its table's path (`""` for the package table).
    package_keys: Vec<(&'s str, &'s str)>,
    /// The current table's path below `package.` (`""` for the package table).
    path: &'s str,
    array: Option<OpenArray<'s>>,
}

impl<'s> Reader<'s> {
    fn line(&mut self, start: usize, end: usize) -> Option<()> {
        let at = skip_spaces(self.bytes, start, end);
        if at == end || self.bytes[at] == b'#' {
            return Some(());
        }
        if self.array.is_some() {
            return self.array_line(at, end);
        }
        match self.bytes[at] {
            b'[' => self.header(at, end),
            _ => {
                let (key, after) = self.key(at, end)?;
                let at = skip_spaces(self.bytes, after, end);
                if self.bytes.get(at) != Some(&b'=') {
                    return None;
                }
                let at = skip_spaces(self.bytes, at + 1, end);
                self.new_key(key)?;
                if self.bytes.get(at) == Some(&b'[') && rest_is_comment(self.bytes, at + 1, end) {
                    self.array = Some(OpenArray {
                        key,
                        items: Vec::new(),
                        closed: false,
                    });
                    return Some(());
                }
                let (value, after) = self.value(at, end, 0)?;
                if !rest_is_comment(self.bytes, after, end) {
                    return None;
                }
                self.assign(key, value)
            }
        }
    }

    fn new_key(&mut self, key: &'s str) -> Option<()> {
        if self.keys.contains(&key) || (self.section == Section::Root && key == "package") {
            return None;
        }
        if self.section != Section::Root {
            // A key over a table already defined (`[package.a.b]`, then `b = ` in `[package.a]`).
            let path = self.path;
            let clash = self.tables.iter().any(|t| {
                let rest = if path.is_empty() {
                    Some(*t)
                } else {
                    t.strip_prefix(path).and_then(|r| r.strip_prefix('.'))
                };
                rest == Some(key)
            });
            if clash {
                return None;
            }
            self.package_keys.push((path, key));
        }
        self.keys.push(key);
        Some(())
    }

    fn array_line(&mut self, at: usize, end: usize) -> Option<()> {
        if self.bytes[at] == b']' {
            if !rest_is_comment(self.bytes, at + 1, end) {
                return None;
            }
            let array = self.array.take()?;
            return self.assign(array.key, Value::Array(array.items));
        }
        let (value, after) = self.value(at, end, 0)?;
        let after = skip_spaces(self.bytes, after, end);
        let array = self.array.as_mut()?;
        if array.closed {
            return None;
        }
        if self.bytes.get(after) == Some(&b',') && after < end {
            if !rest_is_comment(self.bytes, after + 1, end) {
                return None;
            }
        } else if rest_is_comment(self.bytes, after, end) {
            array.closed = true;
        } else {
            return None;
        }
        array.items.push(value);
        Some(())
    }

    /// `[[package]]`, `[package.x]` or `[package.x.y]`, bare names only.
    fn header(&mut self, at: usize, end: usize) -> Option<()> {
        let bytes = self.bytes;
        if bytes[at..end].starts_with(b"[[") {
            let close = at + 2 + bytes[at + 2..end].iter().position(|&b| b == b']')?;
            if &self.source[at + 2..close] != "package"
                || bytes.get(close + 1) != Some(&b']')
                || !rest_is_comment(bytes, close + 2, end)
            {
                return None;
            }
            self.lock.packages.push(Package::default());
            self.section = Section::Package;
            self.path = "";
            self.keys.clear();
            self.tables.clear();
            self.package_keys.clear();
            return Some(());
        }
        let close = at + 1 + bytes[at + 1..end].iter().position(|&b| b == b']')?;
        if !rest_is_comment(bytes, close + 1, end) || self.lock.packages.is_empty() {
            return None;
        }
        let path = self.source[at + 1..close].strip_prefix("package.")?;
        if !path.split('.').all(is_bare_key) || path.split('.').count() > 2 {
            return None;
        }
        // A table defined twice, or over a key of its parent table, is a TOML error.
        let (parent, last) = path.rsplit_once('.').unwrap_or(("", path));
        let over_key = |p: &str, k: &str| self.package_keys.contains(&(p, k));
        if self.tables.contains(&path)
            || over_key(parent, last)
            || (!parent.is_empty() && over_key("", parent))
        {
            return None;
        }
        self.tables.push(path);
        self.path = path;
        self.keys.clear();
        self.section = match path {
            "optional-dependencies" | "dev-dependencies" => Section::Groups,
            _ => Section::Other,
        };
        Some(())
    }

    fn assign(&mut self, key: &'s str, value: Value<'s>) -> Option<()> {
        match self.section {
            Section::Root | Section::Other => Some(()),
            Section::Groups => {
                let package = self.lock.packages.last_mut()?;
                declare(package, value);
                Some(())
            }
            Section::Package => {
                let package = self.lock.packages.last_mut()?;
                match (key, value) {
                    ("name", Value::Str(text, span)) => package.name = Some((text, span)),
                    ("version", Value::Str(text, span)) => package.version = Some((text, span)),
                    ("name" | "version", _) => return None,
                    ("source", Value::Table(entries)) => {
                        let [(kind, _)] = entries.as_slice() else {
                            return None;
                        };
                        package.source = Some(*kind);
                    }
                    ("source", _) => return None,
                    ("dependencies", value) => declare(package, value),
                    ("optional-dependencies" | "dev-dependencies", _) => return None,
                    _ => {}
                }
                Some(())
            }
        }
    }

    fn key(&self, at: usize, end: usize) -> Option<(&'s str, usize)> {
        let mut i = at;
        while i < end && is_bare(self.bytes[i]) {
            i += 1;
        }
        (i > at).then(|| (&self.source[at..i], i))
    }

    /// A one-line value at `at`: the value and the offset after it.
    fn value(&self, at: usize, end: usize, depth: usize) -> Option<(Value<'s>, usize)> {
        let bytes = self.bytes;
        if at >= end || depth > 16 {
            return None;
        }
        match bytes[at] {
            b'"' => {
                if bytes[at..end].starts_with(b"\"\"\"") {
                    return None;
                }
                let close = at + 1 + bytes[at + 1..end].iter().position(|&b| b == b'"')?;
                let text = &self.source[at + 1..close];
                if text.contains('\\') {
                    return None;
                }
                Some((Value::Str(text, Span::new(at + 1, close)), close + 1))
            }
            b'{' => {
                let mut entries: Vec<(&str, Value)> = Vec::new();
                let mut i = skip_spaces(bytes, at + 1, end);
                if bytes.get(i) == Some(&b'}') && i < end {
                    return Some((Value::Table(entries), i + 1));
                }
                loop {
                    let (key, after) = self.key(i, end)?;
                    let eq = skip_spaces(bytes, after, end);
                    if eq >= end || bytes[eq] != b'=' {
                        return None;
                    }
                    let (value, after) =
                        self.value(skip_spaces(bytes, eq + 1, end), end, depth + 1)?;
                    if entries.iter().any(|(k, _)| *k == key) {
                        return None;
                    }
                    entries.push((key, value));
                    i = skip_spaces(bytes, after, end);
                    if i >= end {
                        return None;
                    }
                    match bytes[i] {
                        b',' => i = skip_spaces(bytes, i + 1, end),
                        b'}' => return Some((Value::Table(entries), i + 1)),
                        _ => return None,
                    }
                }
            }
            b'[' => {
                let mut items = Vec::new();
                let mut i = skip_spaces(bytes, at + 1, end);
                if bytes.get(i) == Some(&b']') && i < end {
                    return Some((Value::Array(items), i + 1));
                }
                loop {
                    let (value, after) = self.value(i, end, depth + 1)?;
                    items.push(value);
                    i = skip_spaces(bytes, after, end);
                    if i >= end {
                        return None;
                    }
                    match bytes[i] {
                        b',' => {
                            i = skip_spaces(bytes, i + 1, end);
                            if i < end && bytes[i] == b']' {
                                return Some((Value::Array(items), i + 1));
                            }
                        }
                        b']' => return Some((Value::Array(items), i + 1)),
                        _ => return None,
                    }
                }
            }
            b't' if bytes[at..end].starts_with(b"true") => Some((Value::Other, at + 4)),
            b'f' if bytes[at..end].starts_with(b"false") => Some((Value::Other, at + 5)),
            b'0' => Some((Value::Other, at + 1)),
            b'1'..=b'9' => {
                let mut i = at;
                while i < end && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                // Eighteen digits always fit TOML's 64-bit integers.
                (i - at <= 18).then_some((Value::Other, i))
            }
            _ => None,
        }
        .filter(|&(_, after)| after == end || matches!(bytes[after], b' ' | b',' | b']' | b'}'))
    }
}

/// The requirements of a list (`dependencies`, or one group's), as uv.lock's full reading takes
/// them: table entries with a string `name`; a `version` that is not a string counts as none.
fn declare<'s>(package: &mut Package<'s>, list: Value<'s>) {
    let Value::Array(items) = list else {
        return;
    };
    for item in items {
        let Value::Table(entries) = item else {
            continue;
        };
        let field = |name: &str| {
            entries.iter().find_map(|(k, v)| match v {
                Value::Str(text, _) if *k == name => Some(*text),
                _ => None,
            })
        };
        if let Some(name) = field("name") {
            package.declared.push((name, field("version")));
        }
    }
}

fn is_bare(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn is_bare_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(is_bare)
}

fn skip_spaces(bytes: &[u8], mut at: usize, end: usize) -> usize {
    while at < end && bytes[at] == b' ' {
        at += 1;
    }
    at
}

fn rest_is_comment(bytes: &[u8], at: usize, end: usize) -> bool {
    let next = skip_spaces(bytes, at, end);
    next == end || bytes[next] == b'#'
}

#[cfg(test)]
mod tests {
    use super::super::{from_regular, parse_full};
    use super::*;
    use proptest::prelude::*;

    /// This reader either declines or gives what the `toml` crate's reading gives.
    fn agrees(source: &str) -> bool {
        match read(source).and_then(|lock| from_regular("uv.lock", source, &lock)) {
            None => false,
            Some(fast) => {
                assert_eq!(fast, parse_full("uv.lock", source), "{source}");
                true
            }
        }
    }

    #[test]
    fn agrees_with_the_toml_crate_on_the_corpus_lock() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/fastapi_fastapi/uv.lock"
        );
        let source = std::fs::read_to_string(path).unwrap();
        assert!(
            agrees(&source),
            "the corpus uv.lock is not read by the fast path"
        );
    }

    #[test]
    fn declines_what_uv_does_not_write() {
        for source in [
            "[[package]]\nname = \"a\"\nname = \"b\"\nversion = \"1\"\n",
            "[[package]]\nname = \"a\\u0041\"\nversion = \"1\"\n",
            "[[package]]\nname = 'a'\nversion = \"1\"\n",
            "[[package]]\nname = \"a\"\nversion = \"1\"\nx = 1.5\n",
            "[[package]]\nname = \"a\"\nversion = \"1\"\nwheels = [\n  { url = \"u\" }\n",
            "[[package]]\nname = \"a\"\nversion = \"1\"\n[package.metadata]\n[package.metadata]\n",
            "[[package]]\nname = \"a\"\nmetadata = {}\n[package.metadata]\n",
            "[[package]]\nname = \"a\"\nsource = { registry = \"r\", extra = \"x\" }\n",
            "[[package]]\nname = \"a\"\nversion = \"1\"\r\n",
            "package = 1\n",
            "[manifest]\nmembers = [\"a\"]\n",
            "[[package]]\nname = \"a\"\nversion = \"1\"\nsdist = { url = \"u\", url = \"v\" }\n",
        ] {
            assert!(
                read(source)
                    .and_then(|l| from_regular("uv.lock", source, &l))
                    .is_none(),
                "{source:?}"
            );
        }
    }

    #[derive(Debug, Clone)]
    struct Gen {
        name: String,
        version: String,
        source: u8,
        deps: Vec<(String, Option<String>, bool)>,
        groups: Vec<(String, Vec<String>)>,
        wheels: u8,
    }

    fn package() -> impl Strategy<Value = Gen> {
        (
            "[a-zA-Z][a-zA-Z0-9_.-]{0,8}",
            "[0-9]{1,2}\\.[0-9]{1,2}(\\.[a-z0-9]{1,3})?",
            0..7u8,
            prop::collection::vec(
                (
                    "[a-zA-Z][a-z0-9_-]{0,6}",
                    prop::option::of("[0-9]\\.[0-9]"),
                    any::<bool>(),
                ),
                0..4,
            ),
            prop::collection::vec(
                (
                    "[a-z][a-z-]{0,5}",
                    prop::collection::vec("[a-z][a-z0-9-]{0,5}", 1..3),
                ),
                0..3,
            ),
            0..3u8,
        )
            .prop_map(|(name, version, source, deps, groups, wheels)| Gen {
                name,
                version,
                source,
                deps,
                groups,
                wheels,
            })
    }

    fn render(packages: &[Gen]) -> String {
        let mut out = String::from(
            "version = 1\nrevision = 3\nrequires-python = \">=3.10\"\nresolution-markers = [\n    \"python_full_version >= '3.15'\",\n    \"python_full_version < '3.15'\",\n]\n",
        );
        for p in packages {
            out.push_str(&format!("\n[[package]]\nname = \"{}\"\n", p.name));
            let member = p.source >= 4;
            if !member || p.source == 6 {
                out.push_str(&format!("version = \"{}\"\n", p.version));
            }
            match p.source {
                0 | 1 => out.push_str("source = { registry = \"https://pypi.org/simple\" }\n"),
                2 => out.push_str("source = { git = \"https://github.com/x/y?rev=v1#abc\" }\n"),
                3 => {}
                4 => out.push_str("source = { editable = \".\" }\n"),
                5 => out.push_str("source = { virtual = \"packages/x\" }\n"),
                _ => out.push_str("source = { directory = \"libs/y\" }\n"),
            }
            if !p.deps.is_empty() {
                out.push_str("dependencies = [\n");
                for (name, version, marker) in &p.deps {
                    out.push_str(&format!("    {{ name = \"{name}\""));
                    if let Some(v) = version {
                        out.push_str(&format!(", version = \"{v}\", source = {{ registry = \"https://pypi.org/simple\" }}"));
                    }
                    if *marker {
                        out.push_str(
                            ", marker = \"sys_platform == 'win32'\", extra = [\"standard\"]",
                        );
                    }
                    out.push_str(" },\n");
                }
                out.push_str("]\n");
            }
            if p.wheels > 0 {
                out.push_str("sdist = { url = \"https://files.example/a.tar.gz\", hash = \"sha256:ab\", size = 18799, upload-time = \"2025-06-18T09:00:10.843Z\" }\nwheels = [\n");
                for _ in 0..p.wheels {
                    out.push_str("    { url = \"https://files.example/a.whl\", hash = \"sha256:cd\", size = 0, upload-time = \"2025-06-18T09:00:09.676Z\" },\n");
                }
                out.push_str("]\n");
            }
            for (i, section) in ["optional-dependencies", "dev-dependencies"]
                .iter()
                .enumerate()
            {
                let groups: Vec<_> = p.groups.iter().filter(|(g, _)| g.len() % 2 == i).collect();
                if groups.is_empty() {
                    continue;
                }
                out.push_str(&format!("\n[package.{section}]\n"));
                let mut seen = Vec::new();
                for (group, names) in groups {
                    if seen.contains(group) {
                        continue;
                    }
                    seen.push(group.clone());
                    out.push_str(&format!("{group} = [\n"));
                    for name in names {
                        out.push_str(&format!("    {{ name = \"{name}\" }},\n"));
                    }
                    out.push_str("]\n");
                }
            }
            if member {
                out.push_str("\n[package.metadata]\nrequires-dist = [{ name = \"anyio\", specifier = \">=4\" }]\n");
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn generated_locks_are_read_as_the_toml_crate_reads_them(packages in prop::collection::vec(package(), 0..6)) {
            let source = render(&packages);
            prop_assert!(agrees(&source), "declined: {source}");
        }

        #[test]
        fn mutated_locks_are_declined_or_read_as_the_toml_crate_reads_them(
            packages in prop::collection::vec(package(), 1..5),
            edits in prop::collection::vec((any::<prop::sample::Index>(), "[ \n=\\[\\]{},#\"'.0x\\\\-]{0,2}", any::<bool>()), 1..4),
        ) {
            let mut source = render(&packages);
            for (at, text, insert) in edits {
                let at = at.index(source.len() + 1);
                if insert {
                    source.insert_str(at, &text);
                } else {
                    let end = (at + text.len() + 1).min(source.len());
                    source.replace_range(at..end, "");
                }
            }
            agrees(&source);
        }
    }
}

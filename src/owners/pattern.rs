//! One CODEOWNERS path pattern, compiled for matching.
//!
//! Hand matching rather than `globset`: GitHub's rules are gitignore's with exceptions that a
//! glob library gets wrong in both directions. `globset` accepts `[a-z]` and `{a,b}`, which GitHub
//! does not (a `{` in a CODEOWNERS pattern is a literal character), and it has no notion of
//! "this pattern also owns everything beneath what it names", which gitignore needs for `apps`
//! and `/apps/github` but which GitHub switches off for a final `*` (`docs/*` does not own
//! `docs/build-app/troubleshooting.md`). Matching per path segment keeps each of those rules one
//! visible line, and a small table over (segment, component) never backtracks exponentially.

/// Why a pattern cannot be used. The message is shown to the person who wrote the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PatternError(pub(crate) String);

/// A piece of one path segment's glob.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Char(char),
    /// `*`: any run of characters within one path component, possibly empty.
    Star,
    /// `?`: exactly one character within one path component.
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// `**`: zero or more whole path components.
    Globstar,
    Glob(Vec<Tok>),
}

/// What may follow the components the segments matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// Nothing: the pattern names exactly the path (a final `*`, GitHub's exception).
    Exact,
    /// The path itself or anything beneath it: gitignore's "a matched directory takes its
    /// contents with it".
    SelfOrBeneath,
    /// Something strictly beneath: a trailing `/` or `/**` names a directory, and owning a
    /// directory means owning the files in it; a file with that name is not matched.
    Beneath,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    segs: Vec<Seg>,
    tail: Tail,
}

impl Pattern {
    /// Compiles a pattern as written in the file (escapes still in place).
    pub(crate) fn new(raw: &str) -> Result<Pattern, PatternError> {
        if raw.starts_with('!') {
            return Err(PatternError(format!(
                "`{raw}`: negation with `!` is not supported in CODEOWNERS"
            )));
        }
        if raw.starts_with("\\#") {
            // GitHub documents that escaping a leading `#` does not work, so the line would not
            // do what its author meant; saying so beats guessing.
            return Err(PatternError(format!(
                "`{raw}`: GitHub does not support escaping a leading `#` in CODEOWNERS"
            )));
        }

        let anchored_at_start = raw.starts_with('/');
        let body = raw.strip_prefix('/').unwrap_or(raw);
        let dir_only = body.ends_with('/') && !ends_with_escape(body);
        let body = if dir_only {
            &body[..body.len() - 1]
        } else {
            body
        };
        if body.is_empty() {
            // `/` alone names the root, which holds no file of its own.
            return Err(PatternError(format!("`{raw}`: the pattern names no path")));
        }

        let mut segs = Vec::new();
        for piece in split_segments(body) {
            if piece.is_empty() {
                return Err(PatternError(format!("`{raw}`: empty path segment (`//`)")));
            }
            if piece == "**" {
                // Two globstars in a row match what one does.
                if segs.last() != Some(&Seg::Globstar) {
                    segs.push(Seg::Globstar);
                }
                continue;
            }
            segs.push(Seg::Glob(glob_tokens(piece, raw)?));
        }

        // gitignore: a slash at the start or in the middle anchors the pattern to the root; with
        // none (a trailing one does not count) it matches at any depth, as if `**/` came first.
        let anchored = anchored_at_start || segs.len() > 1;
        if !anchored && segs.first() != Some(&Seg::Globstar) {
            segs.insert(0, Seg::Globstar);
        }

        let tail = if dir_only {
            Tail::Beneath
        } else {
            match segs.last() {
                Some(Seg::Globstar) => {
                    // `a/**` is the contents of `a`, the same as `a/`; `**` alone, everything.
                    segs.pop();
                    Tail::Beneath
                }
                Some(Seg::Glob(toks)) if toks == &[Tok::Star] => Tail::Exact,
                _ => Tail::SelfOrBeneath,
            }
        };
        Ok(Pattern { segs, tail })
    }

    /// Whether the pattern owns `path` (repository-relative, `/`-separated, no leading `/`).
    pub(crate) fn matches(&self, path: &str) -> bool {
        let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        if comps.is_empty() {
            return false;
        }
        let (n, m) = (self.segs.len(), comps.len());
        // reach[i][j]: segments[..i] can consume exactly components[..j]. Filled forwards, so
        // each `**` costs one pass instead of a backtracking search.
        let mut reach = vec![vec![false; m + 1]; n + 1];
        reach[0][0] = true;
        for (i, seg) in self.segs.iter().enumerate() {
            for j in 0..=m {
                if !reach[i][j] {
                    continue;
                }
                match seg {
                    // Zero or more components: every later position is reachable.
                    Seg::Globstar => reach[i + 1][j..].fill(true),
                    Seg::Glob(toks) => {
                        if j < m && glob_matches(toks, comps[j]) {
                            reach[i + 1][j + 1] = true;
                        }
                    }
                }
            }
        }
        let done = &reach[n];
        match self.tail {
            Tail::Exact => done[m],
            Tail::SelfOrBeneath => done.iter().any(|&r| r),
            Tail::Beneath => done[..m].iter().any(|&r| r),
        }
    }
}

/// True when the last character of `s` is escaped by an odd run of backslashes before it.
fn ends_with_escape(s: &str) -> bool {
    let without_last = &s[..s.len() - s.chars().last().map_or(0, char::len_utf8)];
    without_last
        .chars()
        .rev()
        .take_while(|&c| c == '\\')
        .count()
        % 2
        == 1
}

/// Splits on `/`, except an escaped one (`\/`), which stays inside its segment.
fn split_segments(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '/' {
            out.push(&body[start..i]);
            start = i + 1;
        }
    }
    out.push(&body[start..]);
    out
}

fn glob_tokens(piece: &str, raw: &str) -> Result<Vec<Tok>, PatternError> {
    let mut toks = Vec::new();
    let mut chars = piece.chars();
    while let Some(c) = chars.next() {
        match c {
            // A backslash makes the next character literal (`\ ` for spaces in names, `\*`); a
            // trailing one has nothing to escape and stands for itself.
            '\\' => toks.push(Tok::Char(chars.next().unwrap_or('\\'))),
            // gitignore: stars other than a whole `**` segment are ordinary stars, and a run of
            // them means what one does.
            '*' => {
                if toks.last() != Some(&Tok::Star) {
                    toks.push(Tok::Star);
                }
            }
            '?' => toks.push(Tok::Any),
            '[' | ']' => {
                return Err(PatternError(format!(
                    "`{raw}`: character ranges with `[ ]` are not supported in CODEOWNERS \
                     (escape the bracket with `\\` to match it literally)"
                )));
            }
            other => toks.push(Tok::Char(other)),
        }
    }
    Ok(toks)
}

/// One path component against one segment's glob. Iterative with one saved star position, the
/// usual linear-space wildcard match, so long names cannot blow the stack.
fn glob_matches(toks: &[Tok], name: &str) -> bool {
    let name: Vec<char> = name.chars().collect();
    let (mut t, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match toks.get(t) {
            Some(Tok::Star) => {
                star = Some((t, n));
                t += 1;
            }
            Some(Tok::Any) => {
                t += 1;
                n += 1;
            }
            Some(Tok::Char(c)) if *c == name[n] => {
                t += 1;
                n += 1;
            }
            _ => match star {
                // Let the last star swallow one more character and retry from there.
                Some((st, sn)) => {
                    t = st + 1;
                    n = sn + 1;
                    star = Some((st, sn + 1));
                }
                None => return false,
            },
        }
    }
    toks[t..].iter().all(|tok| *tok == Tok::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        Pattern::new(pattern).unwrap().matches(path)
    }

    #[test]
    fn globs_within_a_component() {
        assert!(m("*.js", "a/b/c.js"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("foo\\ bar", "x/foo bar"));
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "x"));
    }

    #[test]
    fn ends_with_escape_counts_backslashes() {
        assert!(ends_with_escape("a\\/"));
        assert!(!ends_with_escape("a\\\\/"));
        assert!(!ends_with_escape("/"));
    }
}

//! OS package installs without pinned versions (`apt-get install curl`, `apk add git`), found in
//! shell text: a RUN line, or a RUN heredoc body that the shell executes.
//!
//! This reads shell the way a reviewer does, not the way a shell does: simple commands split at
//! `&&`, `||`, `;`, `|`, `&`, parentheses and newlines, redirections and nested heredocs skipped,
//! and any word holding `$` or a backquote left out because its value is unknown.

use crate::model::Span;

use super::logical::Logical;

/// One install command and the packages it leaves unpinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Install {
    /// `apt-get`, `apt` or `apk`.
    pub manager: String,
    pub packages: Vec<String>,
    /// The manager word (`apt-get`), whose line is the install's line.
    pub span: Span,
}

/// A shell word with its quotes removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub text: String,
    /// Holds `$` or a backquote: its value is only known when the shell runs.
    pub dynamic: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(Word),
    /// A redirection whose target word follows (`>`, `2>`, `<`, `>&`, `<<<`).
    Redirect,
    /// `&&`, `||`, `;`, `|`, `&`, `(`, `)` or a newline.
    Separator,
}

/// Installs in shell text.
pub(crate) fn scan_shell(text: &Logical) -> Vec<Install> {
    commands(&tokenize(text))
        .iter()
        .filter_map(|words| install(words))
        .collect()
}

/// Installs in an exec-form command (`RUN ["apt-get", "install", "curl"]`), whose words all sit
/// at `span`.
pub(crate) fn scan_exec(words: &[String], span: Span) -> Vec<Install> {
    let words: Vec<Word> = words
        .iter()
        .map(|text| Word {
            text: text.clone(),
            dynamic: text.contains(['$', '`']),
            span,
        })
        .collect();
    // `["sh", "-c", "script"]` runs a script: read the script.
    if let [shell, flag, script, ..] = words.as_slice()
        && is_shell(&shell.text)
        && flag.text == "-c"
    {
        let mut logical = Logical::at(span.start);
        for c in script.text.chars() {
            let mut buf = [0; 4];
            logical.push_str(c.encode_utf8(&mut buf), span.start);
        }
        return scan_shell(&logical);
    }
    install(&words).into_iter().collect()
}

/// `sh`, `bash`, `/bin/sh`, ...: a program that runs shell scripts.
pub(crate) fn is_shell(word: &str) -> bool {
    matches!(
        basename(word),
        "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh" | "busybox"
    )
}

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

struct Tokenizer<'a> {
    logical: &'a Logical,
    text: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    /// Heredocs opened on the current line: their bodies start after its newline.
    pending_heredocs: Vec<(String, bool)>,
}

fn tokenize(logical: &Logical) -> Vec<Token> {
    let mut tokenizer = Tokenizer {
        logical,
        text: logical.text(),
        pos: 0,
        tokens: Vec::new(),
        pending_heredocs: Vec::new(),
    };
    tokenizer.run();
    tokenizer.tokens
}

fn is_operator_char(c: char) -> bool {
    matches!(c, '&' | '|' | ';' | '(' | ')' | '<' | '>' | '\n')
}

impl Tokenizer<'_> {
    fn peek(&self) -> Option<char> {
        self.text.get(self.pos..)?.chars().next()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.text.get(self.pos..)?.chars().nth(ahead)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn run(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' => {
                    self.bump();
                }
                '\\' if self.continuation_follows() => self.skip_continuation(),
                '\n' => {
                    self.bump();
                    self.tokens.push(Token::Separator);
                    self.skip_heredoc_bodies();
                }
                '#' => self.skip_comment(),
                '<' | '>' => self.redirect(),
                '&' | '|' | ';' | '(' | ')' => {
                    self.bump();
                    // `&&`, `||`, `;;`, `|&`: one separator all the same.
                    if matches!(self.peek(), Some('&' | '|' | ';')) && c != '(' && c != ')' {
                        self.bump();
                    }
                    self.tokens.push(Token::Separator);
                }
                _ => self.word(),
            }
        }
    }

    fn continuation_follows(&self) -> bool {
        match self.peek_at(1) {
            Some('\n') => true,
            Some('\r') => self.peek_at(2) == Some('\n'),
            _ => false,
        }
    }

    fn skip_continuation(&mut self) {
        self.bump();
        self.eat('\r');
        self.eat('\n');
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                return;
            }
            self.bump();
        }
    }

    fn redirect(&mut self) {
        let first = self.bump();
        if first == Some('<') && self.eat('<') {
            if self.eat('<') {
                // A here-string: its word is the input, not a command.
                self.tokens.push(Token::Redirect);
                return;
            }
            let strip_tabs = self.eat('-');
            while matches!(self.peek(), Some(' ' | '\t')) {
                self.bump();
            }
            let start = self.tokens.len();
            self.word();
            if let Some(Token::Word(word)) = self.tokens.get(start).cloned() {
                self.tokens.truncate(start);
                self.pending_heredocs.push((word.text, strip_tabs));
            }
            return;
        }
        // `>>`, `>&`, `<&`, `>|`, `<>`
        if matches!(self.peek(), Some('>' | '&' | '|')) {
            self.bump();
        }
        self.tokens.push(Token::Redirect);
    }

    /// After a newline: the bodies of heredocs opened on the line just ended.
    fn skip_heredoc_bodies(&mut self) {
        for (delimiter, strip_tabs) in std::mem::take(&mut self.pending_heredocs) {
            loop {
                let rest = self.text.get(self.pos..).unwrap_or_default();
                if rest.is_empty() {
                    break;
                }
                let line_len = rest.find('\n').map_or(rest.len(), |i| i + 1);
                let line = rest[..line_len].trim_end_matches(['\n', '\r']);
                let line = if strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    line
                };
                self.pos += line_len;
                if line == delimiter {
                    break;
                }
            }
        }
    }

    fn word(&mut self) {
        let start = self.pos;
        let mut text = String::new();
        let mut dynamic = false;
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' => break,
                c if is_operator_char(c) => break,
                '\\' if self.continuation_follows() => self.skip_continuation(),
                '\\' => {
                    self.bump();
                    if let Some(next) = self.bump() {
                        text.push(next);
                    }
                }
                '\'' => {
                    self.bump();
                    while let Some(q) = self.bump() {
                        if q == '\'' {
                            break;
                        }
                        text.push(q);
                    }
                }
                '"' => {
                    self.bump();
                    while let Some(q) = self.bump() {
                        match q {
                            '"' => break,
                            '\\' => {
                                if let Some(next) = self.bump() {
                                    text.push(next);
                                }
                            }
                            '$' | '`' => {
                                dynamic = true;
                                text.push(q);
                            }
                            _ => text.push(q),
                        }
                    }
                }
                '$' => {
                    dynamic = true;
                    self.bump();
                    text.push('$');
                    match self.peek() {
                        Some('(') => self.balanced('(', ')', &mut text),
                        Some('{') => self.balanced('{', '}', &mut text),
                        _ => {}
                    }
                }
                '`' => {
                    dynamic = true;
                    self.bump();
                    text.push('`');
                    while let Some(q) = self.bump() {
                        text.push(q);
                        if q == '`' {
                            break;
                        }
                    }
                }
                _ => {
                    self.bump();
                    text.push(c);
                }
            }
        }
        if self.pos == start {
            return;
        }
        // `2>file`: the digits name a file descriptor, not an argument.
        let fd = matches!(self.peek(), Some('<' | '>')) && text.chars().all(|c| c.is_ascii_digit());
        if fd {
            return;
        }
        self.tokens.push(Token::Word(Word {
            text,
            dynamic,
            span: self.logical.span(start..self.pos),
        }));
    }

    /// `$( … )` or `${ … }`, nested, into `text`.
    fn balanced(&mut self, open: char, close: char, text: &mut String) {
        let mut depth = 0usize;
        while let Some(c) = self.bump() {
            text.push(c);
            if c == open {
                depth += 1;
            } else if c == close {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return;
                }
            }
        }
    }
}

/// Simple commands: the words between separators, redirections and their targets removed.
fn commands(tokens: &[Token]) -> Vec<Vec<Word>> {
    let mut commands = Vec::new();
    let mut current = Vec::new();
    let mut skip_next_word = false;
    for token in tokens {
        match token {
            Token::Separator => {
                commands.push(std::mem::take(&mut current));
                skip_next_word = false;
            }
            Token::Redirect => skip_next_word = true,
            Token::Word(word) => {
                if !std::mem::take(&mut skip_next_word) {
                    current.push(word.clone());
                }
            }
        }
    }
    commands.push(current);
    commands.retain(|c| !c.is_empty());
    commands
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Manager {
    Apt,
    Apk,
}

impl Manager {
    fn subcommand(self) -> &'static str {
        match self {
            Manager::Apt => "install",
            Manager::Apk => "add",
        }
    }

    /// Options whose value is the next word.
    fn takes_value(self, option: &str) -> bool {
        match self {
            Manager::Apt => matches!(
                option,
                "-o" | "-c"
                    | "-t"
                    | "-a"
                    | "--option"
                    | "--config-file"
                    | "--target-release"
                    | "--default-release"
                    | "--host-architecture"
            ),
            Manager::Apk => matches!(
                option,
                "-t" | "-X"
                    | "-p"
                    | "--virtual"
                    | "--repository"
                    | "--root"
                    | "--arch"
                    | "--keys-dir"
                    | "--cache-dir"
                    | "--repositories-file"
                    | "--cache-max-age"
                    | "--timeout"
            ),
        }
    }

    fn is_pinned(self, package: &str) -> bool {
        match self {
            Manager::Apt => package.contains('='),
            Manager::Apk => package.contains(['=', '~', '<', '>']),
        }
    }

    fn is_local_file(self, package: &str) -> bool {
        let suffix = match self {
            Manager::Apt => ".deb",
            Manager::Apk => ".apk",
        };
        package.ends_with(suffix) || package.starts_with(['/', '.'])
    }
}

/// Words that may stand before the command itself.
fn is_prefix(word: &str) -> bool {
    matches!(
        word,
        "sudo" | "then" | "do" | "else" | "{" | "!" | "time" | "exec" | "command" | "nohup" | "env"
    )
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

fn install(words: &[Word]) -> Option<Install> {
    let mut rest = words.iter().peekable();
    while let Some(word) = rest.peek() {
        if is_assignment(&word.text) || is_prefix(&word.text) || word.text.starts_with('-') {
            rest.next();
        } else {
            break;
        }
    }
    let manager_word = rest.next().filter(|w| !w.dynamic)?;
    let manager_name = basename(&manager_word.text);
    let manager = match manager_name {
        "apt-get" | "apt" => Manager::Apt,
        "apk" => Manager::Apk,
        _ => return None,
    };
    let mut subcommand = None;
    let mut packages = Vec::new();
    let mut expects_value = false;
    for word in rest {
        if std::mem::take(&mut expects_value) {
            continue;
        }
        if word.text.starts_with('-') {
            expects_value = manager.takes_value(&word.text);
            continue;
        }
        if subcommand.is_none() {
            subcommand = Some(word.text.as_str());
            continue;
        }
        if !word.dynamic && !manager.is_pinned(&word.text) && !manager.is_local_file(&word.text) {
            packages.push(word.text.clone());
        }
    }
    if subcommand != Some(manager.subcommand()) || packages.is_empty() {
        return None;
    }
    Some(Install {
        manager: manager_name.to_string(),
        packages,
        span: manager_word.span,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Vec<(String, Vec<String>, &str)> {
        let mut logical = Logical::at(0);
        logical.push_str(text, 0);
        scan_shell(&logical)
            .into_iter()
            .map(|i| {
                let at = i.span.slice(text).unwrap_or("?");
                (i.manager, i.packages, at)
            })
            .collect()
    }

    fn pkgs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn apt_with_options_and_pins() {
        let found = scan(
            "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -o Dpkg::Options::=--force-confnew install -y --no-install-recommends curl=7.88.1-10 git ca-certificates && rm -rf /var/lib/apt/lists/*",
        );
        assert_eq!(
            found,
            vec![(
                "apt-get".into(),
                pkgs(&["git", "ca-certificates"]),
                "apt-get"
            )]
        );
    }

    #[test]
    fn apk_virtual_takes_a_value_and_versions_pin() {
        let found = scan(
            "apk add --no-cache --virtual .deps git=2.40.1-r0 curl~8 bash $EXTRA \"make\" 2>/dev/null; apk --update add jq",
        );
        assert_eq!(
            found,
            vec![
                ("apk".into(), pkgs(&["bash", "make"]), "apk"),
                ("apk".into(), pkgs(&["jq"]), "apk"),
            ]
        );
    }

    #[test]
    fn script_lines_continuations_comments_and_nested_heredocs() {
        let script = "set -ex\n# apt-get install nope\napt-get install -y \\\n    git \\\n    clang\ncat > /x <<'EOT'\napk add hidden\nEOT\nsudo apt install vim\n";
        let found = scan(script);
        assert_eq!(
            found,
            vec![
                ("apt-get".into(), pkgs(&["git", "clang"]), "apt-get"),
                ("apt".into(), pkgs(&["vim"]), "apt"),
            ]
        );
    }

    #[test]
    fn not_an_install() {
        assert!(scan("apt-get update").is_empty());
        assert!(scan("apt-get remove curl").is_empty());
        assert!(scan("echo apt-get install curl").is_empty());
        assert!(scan("apt-get install -y ./local.deb $(cat pkgs)").is_empty());
        assert!(scan("$PM install curl").is_empty());
    }

    #[test]
    fn exec_form_and_sh_c() {
        let span = Span::new(4, 10);
        let words = pkgs(&["apt-get", "install", "-y", "curl"]);
        assert_eq!(scan_exec(&words, span)[0].packages, pkgs(&["curl"]));
        let words = pkgs(&[
            "/bin/sh",
            "-c",
            "apk add git && apk add --no-cache tini=0.19",
        ]);
        let found = scan_exec(&words, span);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].packages, pkgs(&["git"]));
    }
}

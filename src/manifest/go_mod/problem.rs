//! What can be wrong in a go.mod, worded so the author knows what to change.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum Problem {
    #[error(
        "the file ends on this line without a line end, as if cut off: its version is not trusted; end the line (or restore the file and run `go mod tidy`)"
    )]
    CutOff,
    #[error("the string starting `{start}` is never closed: add the closing {quote}")]
    UnclosedString { start: String, quote: char },
    #[error("`{verb}` cannot open a block with `(`")]
    NotABlock { verb: String },
    #[error(
        "`{verb} (` must end its line; put each entry on its own line and close the block with `)` on a line of its own"
    )]
    BlockOpening { verb: String },
    #[error("`)` closes no block")]
    StrayClose,
    #[error(
        "unknown directive `{verb}`; go.mod understands module, go, toolchain, godebug, require, replace, exclude, retract, tool, ignore"
    )]
    UnknownDirective { verb: String },
    #[error("the `{verb} (` block is never closed: add a line with `)`")]
    UnclosedBlock { verb: String },
    #[error("`{verb}` takes {what}, e.g. {example}")]
    Arguments {
        verb: String,
        what: &'static str,
        example: &'static str,
    },
    #[error("`{verb}` needs an argument, e.g. {example}")]
    NoArgument { verb: String, example: &'static str },
    #[error("`{verb}` needs a version, e.g. {example}")]
    NoVersion { verb: String, example: &'static str },
    #[error("`{text}` is not a module version: versions start with `v`, e.g. `v1.2.3`")]
    NotAVersion { text: String },
    #[error(
        "`replace` takes `old [version] => new [version]`, e.g. `replace example.com/a v1.0.0 => example.com/b v1.0.1` or `replace example.com/a => ../a`"
    )]
    ReplaceShape,
    #[error(
        "the replacement `{path}` needs a version, or must be a local directory starting with `./` or `../`"
    )]
    ReplacementWithoutVersion { path: String },
    #[error("`{version}` is not a Go version: write e.g. `go 1.22` or `go 1.22.3`")]
    NotAGoVersion { version: String },
    #[error(
        "`{name}` is not a toolchain name: write `go` and a version, e.g. `toolchain go1.22.3`"
    )]
    NotAToolchain { name: String },
}

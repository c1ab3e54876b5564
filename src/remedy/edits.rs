//! Byte edits: computing the smallest one for a changed image reference, and applying them.

use crate::model::{Edit, Segment, SegmentSource, Span};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("{0}: the file to edit is not in the snapshot")]
    MissingFile(String),
    #[error(
        "{file}: edit at bytes {start}..{end} does not fit the file (it has {len} bytes, or the range splits a character)"
    )]
    OutOfBounds {
        file: String,
        start: usize,
        end: usize,
        len: usize,
    },
    #[error("{file}: two edits overlap at bytes {start}..{end}")]
    Overlap {
        file: String,
        start: usize,
        end: usize,
    },
}

/// Applies non-overlapping edits to `source`. Everything outside the edited spans is kept byte
/// for byte: comments, spacing, quoting, line endings.
pub fn apply_edits(source: &str, edits: &[Edit]) -> Result<String, ApplyError> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| e.span);
    let mut out = String::with_capacity(source.len() + 64);
    let mut cursor = 0;
    for edit in sorted {
        let Span { start, end } = edit.span;
        if start < cursor {
            return Err(ApplyError::Overlap {
                file: edit.file.clone(),
                start,
                end,
            });
        }
        if end > source.len()
            || !source.is_char_boundary(start)
            || !source.is_char_boundary(end)
            || start > end
        {
            return Err(ApplyError::OutOfBounds {
                file: edit.file.clone(),
                start,
                end,
                len: source.len(),
            });
        }
        out.push_str(&source[cursor..start]);
        out.push_str(&edit.replacement);
        cursor = end;
    }
    out.push_str(&source[cursor..]);
    Ok(out)
}

/// The smallest edit that turns the reference the `segments` spell into `new_reference`: the
/// differing middle (after the common prefix and suffix) must fall inside one segment. A literal
/// segment is edited where it is written; an `ARG` segment is edited at the `ARG`'s default, so
/// the Dockerfile keeps using its build argument.
pub fn reference_edit(
    file: &str,
    segments: &[Segment],
    new_reference: &str,
) -> Result<Edit, String> {
    let old: String = segments.iter().map(|s| s.text.as_str()).collect();
    if old == new_reference {
        return Err("the reference is already the target".to_string());
    }
    let prefix = common_prefix(&old, new_reference);
    let suffix = common_suffix(&old[prefix..], &new_reference[prefix..]);
    let (change_start, change_end) = (prefix, old.len() - suffix);
    let new_middle = &new_reference[prefix..new_reference.len() - suffix];

    let mut offset = 0;
    for segment in segments {
        let seg_start = offset;
        let seg_end = offset + segment.text.len();
        offset = seg_end;
        // An insertion at a boundary between two segments goes to the earlier one: a version
        // grows at its end (`18` → `18.20`).
        if change_start < seg_start || change_end > seg_end {
            continue;
        }
        let local_start = change_start - seg_start;
        let local_end = change_end - seg_start;
        return match &segment.source {
            SegmentSource::Literal { span } => Ok(Edit {
                file: file.to_string(),
                span: Span::new(span.start + local_start, span.start + local_end),
                replacement: new_middle.to_string(),
            }),
            SegmentSource::Arg {
                name,
                default_span: Some(span),
            } => {
                let mut value = segment.text.clone();
                value.replace_range(local_start..local_end, new_middle);
                if value.is_empty() {
                    return Err(format!("the fix would empty the default of ARG {name}"));
                }
                Ok(Edit {
                    file: file.to_string(),
                    span: *span,
                    replacement: value,
                })
            }
            SegmentSource::Implied => Err(
                "the part to change is not written as such in the file (a `:` joining split `repository` and `tag` keys, or an escaped value): edit it by hand".to_string(),
            ),
            SegmentSource::Arg {
                name,
                default_span: None,
            } => Err(format!(
                "the part to change comes from ARG {name}, which has no default in the Dockerfile (it is set at build time): change it where the build sets it"
            )),
        };
    }
    Err("the change spans several ARGs and literal text; edit the reference by hand".to_string())
}

fn common_prefix(a: &str, b: &str) -> usize {
    let mut n = 0;
    for (ca, cb) in a.chars().zip(b.chars()) {
        if ca != cb {
            break;
        }
        n += ca.len_utf8();
    }
    n
}

fn common_suffix(a: &str, b: &str) -> usize {
    let mut n = 0;
    for (ca, cb) in a.chars().rev().zip(b.chars().rev()) {
        if ca != cb {
            break;
        }
        n += ca.len_utf8();
    }
    n
}

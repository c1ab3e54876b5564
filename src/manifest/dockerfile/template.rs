//! Files that are templates of a Dockerfile rather than one (`Dockerfile.template`, an ERB
//! `Dockerfile.tt`, a Jinja `Dockerfile.j2`): their placeholders are not Dockerfile syntax, so
//! reading them gives one error per line and no image worth checking. They are said to be
//! templates, once, and not scanned.

/// File name endings of template engines.
const EXTENSIONS: [&str; 5] = [".template", ".tt", ".tmpl", ".j2", ".erb"];

/// Placeholders of Go templates, Jinja and ERB.
const MARKERS: [&str; 3] = ["{{", "{%", "<%"];

/// Why the file is taken for a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    /// 1-based line of the first placeholder, or 1 when only the name says so.
    pub line: u32,
    /// What gave it away: the file name's ending or the placeholder.
    pub sign: String,
}

/// By name alone: a template engine's extension.
pub(crate) fn by_name(file: &str, source: &str) -> Option<Template> {
    let name = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let lower = name.to_ascii_lowercase();
    let extension = EXTENSIONS.iter().find(|e| lower.ends_with(*e))?;
    let line = first_marker(source).map_or(1, |(line, _)| line);
    Some(Template {
        line,
        sign: format!("its name ends in `{extension}`"),
    })
}

/// By content: a placeholder in the text. Only asked once the file failed to read as a
/// Dockerfile, because `{{` is common in a valid one (`docker inspect --format '{{.Id}}'`).
pub(crate) fn by_content(source: &str) -> Option<Template> {
    let (line, marker) = first_marker(source)?;
    Some(Template {
        line,
        sign: format!("it holds template placeholders (`{marker}`)"),
    })
}

fn first_marker(source: &str) -> Option<(u32, &'static str)> {
    source.lines().enumerate().find_map(|(index, text)| {
        let marker = MARKERS.iter().find(|m| text.contains(*m))?;
        Some((u32::try_from(index + 1).unwrap_or(u32::MAX), *marker))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_placeholders() {
        assert_eq!(
            by_name("docker/Dockerfile.j2", "FROM x\n").map(|t| t.line),
            Some(1)
        );
        assert_eq!(
            by_name("Dockerfile.tt", "# c\nFROM <%= base %>\n").map(|t| t.line),
            Some(2)
        );
        assert_eq!(by_name("Dockerfile.debug", "FROM x"), None);
        assert_eq!(by_content("FROM {{ .Base }}\n").map(|t| t.line), Some(1));
        assert_eq!(by_content("FROM alpine:3\n"), None);
    }
}

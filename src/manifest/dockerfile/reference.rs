//! Is a resolved `FROM` word an image reference Docker would accept? The grammar is the one of
//! the distribution project's `reference` package; a reference outside it would be reported as a
//! dependency no registry holds.

use crate::model::ImageRef;

/// The reference parsed, or why it is not one (a reason a person can act on).
pub(crate) fn parse_reference(text: &str) -> Result<ImageRef, String> {
    check(text)?;
    ImageRef::parse(text).ok_or_else(|| "it must look like `name[:tag][@digest]`".to_string())
}

fn check(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("it is empty".into());
    }
    if text.chars().any(char::is_whitespace) {
        return Err("it contains whitespace".into());
    }
    let (rest, digest) = match text.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (text, None),
    };
    if let Some(digest) = digest {
        check_digest(digest)?;
    }
    let last_slash = rest.rfind('/');
    let (name, tag) = match rest.rfind(':') {
        Some(colon) if last_slash.is_none_or(|s| colon > s) => {
            (&rest[..colon], Some(&rest[colon + 1..]))
        }
        _ => (rest, None),
    };
    if let Some(tag) = tag {
        check_tag(tag)?;
    }
    check_name(name)
}

fn check_tag(tag: &str) -> Result<(), String> {
    let valid = tag.len() <= 128
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "the tag `{tag}` must be 1 to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`"
        ))
    }
}

fn check_digest(digest: &str) -> Result<(), String> {
    let bad = || format!("the digest `{digest}` must look like `sha256:` followed by hex digits");
    let (algorithm, hex) = digest.split_once(':').ok_or_else(bad)?;
    let algorithm_ok = algorithm.starts_with(|c: char| c.is_ascii_alphabetic())
        && algorithm
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '.'));
    let hex_ok = hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit());
    if algorithm_ok && hex_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the image name is missing".into());
    }
    if name.len() > 255 {
        return Err("the image name is longer than 255 characters".into());
    }
    let mut components: Vec<&str> = name.split('/').collect();
    // The same rule as `ImageRef::parse`: a first component with `.` or `:`, or `localhost`,
    // names a registry.
    if components.len() > 1
        && components
            .first()
            .is_some_and(|c| c.contains(['.', ':']) || *c == "localhost")
    {
        let registry = components.remove(0);
        check_registry(registry)?;
    }
    components.into_iter().try_for_each(check_path_component)
}

fn check_registry(registry: &str) -> Result<(), String> {
    let (host, port) = match registry.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (registry, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(format!(
            "the registry `{registry}` must be a host name with an optional `:port`"
        ))
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn check_path_component(component: &str) -> Result<(), String> {
    if component.is_empty() {
        return Err("the image name has an empty part (`//` or a trailing `/`)".into());
    }
    if component.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "repository names must be lowercase (`{}`)",
            component.to_ascii_lowercase()
        ));
    }
    let bad = || {
        format!(
            "`{component}` may only hold lowercase letters and digits, separated by `.`, `_`, `__` or dashes"
        )
    };
    let is_alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !component.starts_with(is_alnum) || !component.ends_with(is_alnum) {
        return Err(bad());
    }
    let mut separator = String::new();
    for c in component.chars() {
        if is_alnum(c) {
            let ok = separator.is_empty()
                || matches!(separator.as_str(), "." | "_" | "__")
                || separator.chars().all(|s| s == '-');
            if !ok {
                return Err(bad());
            }
            separator.clear();
        } else if matches!(c, '.' | '_' | '-') {
            separator.push(c);
        } else {
            return Err(bad());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_forms_docker_accepts() {
        for ok in [
            "node",
            "node:20-alpine",
            "registry.example.com:5000/team/app:1.2",
            "localhost/x",
            "mcr.microsoft.com/dotnet/sdk:10.0@sha256:ea8bde36c11b6e7eec2656d0e59101d4462f6bd630730f2c8201ed0572b295d5",
            "alpine@sha256:28bd5fe8b56d1bd048e5babf5b10710ebe0bae67db86916198a6eec434943f8b",
            "my__repo/a-b--c.d:V1_x",
        ] {
            assert!(
                parse_reference(ok).is_ok(),
                "{ok}: {:?}",
                parse_reference(ok)
            );
        }
    }

    #[test]
    fn rejects_with_a_reason() {
        let cases = [
            ("Node:20", "lowercase"),
            ("node:", "tag"),
            ("node:.x", "tag"),
            ("node@sha256:xyz", "digest"),
            ("a//b", "empty part"),
            ("node:20 x", "whitespace"),
            ("bad_host:x:1/app", "registry"),
            ("-node", "lowercase letters"),
        ];
        for (text, reason) in cases {
            let err = parse_reference(text).unwrap_err();
            assert!(err.contains(reason), "{text}: {err}");
        }
    }
}

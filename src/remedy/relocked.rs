//! A re-lock's outcome, attached to the fixes it belongs to. Pure: the package manager has run
//! already (see `relock`); this only turns its result into edits and notes.

use crate::model::Finding;
use crate::relock::{RelockError, Relocked, changes};

/// Gives the findings at `indices` (one dependency's) the re-lock's edits, or a note saying why
/// there are none. A failure leaves the manual command in place, so the reader still knows what
/// to run, and never touches any other finding's fix.
pub fn attach(
    findings: &mut [Finding],
    indices: &[usize],
    outcome: &Result<Relocked, RelockError>,
) {
    for &i in indices {
        let Some(finding) = findings.get_mut(i) else {
            continue;
        };
        let package = finding.package.clone().unwrap_or_default();
        let Some(fix) = finding.fix.as_mut() else {
            continue;
        };
        match outcome {
            Ok(done) => {
                fix.edits = done
                    .files
                    .iter()
                    .flat_map(|(path, new)| {
                        let old = done.originals.get(path).map_or("", String::as_str);
                        changes::line_edits(path, old, new)
                    })
                    .collect();
                fix.relock = None;
                // The manual command's caveat no longer applies: the package manager has checked
                // that the parents allow the target.
                let caveat = format!("{package} is a transitive dependency:");
                fix.notes.retain(|n| {
                    !n.starts_with(&caveat) && !n.starts_with("go.sum must be refreshed")
                });
                fix.notes.push(format!("re-locked with `{}`", done.command));
                let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
                fix.notes
                    .push(format!("lock entries changed: {}", listed.join(", ")));
                let manifests: Vec<&str> = done
                    .files
                    .keys()
                    .filter(|p| crate::manifest::detect(p).is_none())
                    .map(String::as_str)
                    .collect();
                if !manifests.is_empty() {
                    fix.notes.push(format!(
                        "the package manager also updated {}",
                        manifests.join(", ")
                    ));
                }
            }
            Err(e) => fix.notes.push(format!("re-lock failed: {e}")),
        }
    }
}

/// Notes on the findings at `indices` why no re-lock was attempted (the planner's reason).
pub fn refuse(findings: &mut [Finding], indices: &[usize], reason: &str) {
    for &i in indices {
        if let Some(fix) = findings.get_mut(i).and_then(|f| f.fix.as_mut()) {
            fix.notes.push(format!("no re-lock: {reason}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChangeKind, Fix, Location, RuleId};
    use crate::relock::LockChange;
    use std::collections::BTreeMap;

    fn finding() -> Finding {
        let mut f = Finding::new(
            RuleId::VulnerableDependency,
            Location::new("package-lock.json", 3, 1),
            "leaf@1.0.0",
            "vulnerable",
        );
        f.package = Some("leaf".into());
        f.fix = Some(Fix {
            from: "1.0.0".into(),
            to: "1.0.1".into(),
            change: ChangeKind::Patch,
            edits: Vec::new(),
            relock: Some("npm update leaf".into()),
            clears: vec!["GHSA-1".into()],
            notes: vec![
                "leaf is a transitive dependency: the package that requires it must allow 1.0.1"
                    .into(),
            ],
        });
        f
    }

    #[test]
    fn a_relock_becomes_line_edits_and_lists_every_changed_entry() {
        let old = "a\n\"version\": \"1.0.0\"\nb\n\"version\": \"2.0.0\"\n";
        let new = "a\n\"version\": \"1.0.1\"\nb\n\"version\": \"2.0.1\"\n";
        let done = Relocked {
            files: BTreeMap::from([("package-lock.json".to_string(), new.to_string())]),
            originals: BTreeMap::from([("package-lock.json".to_string(), old.to_string())]),
            changes: vec![
                LockChange {
                    name: "leaf".into(),
                    from: Some("1.0.0".into()),
                    to: Some("1.0.1".into()),
                },
                LockChange {
                    name: "twig".into(),
                    from: Some("2.0.0".into()),
                    to: Some("2.0.1".into()),
                },
            ],
            command: "npm install --package-lock-only".into(),
        };
        let mut findings = vec![finding(), finding()];
        attach(&mut findings, &[1], &Ok(done));
        assert_eq!(findings[0], finding(), "only the given findings change");
        let fix = findings[1].fix.as_ref().unwrap();
        assert_eq!(fix.relock, None);
        assert_eq!(
            crate::remedy::apply_edits(old, &fix.edits).unwrap(),
            new,
            "{:?}",
            fix.edits
        );
        assert_eq!(
            fix.notes,
            [
                "re-locked with `npm install --package-lock-only`",
                "lock entries changed: leaf 1.0.0 → 1.0.1, twig 2.0.0 → 2.0.1"
            ]
        );
    }

    #[test]
    fn a_failed_relock_is_a_note_and_keeps_the_command() {
        let mut findings = vec![finding()];
        let err = RelockError::ToolMissing {
            tool: "yarn".into(),
            manager: "yarn.lock".into(),
        };
        attach(&mut findings, &[0], &Err(err));
        let fix = findings[0].fix.as_ref().unwrap();
        assert_eq!(fix.relock.as_deref(), Some("npm update leaf"));
        assert!(fix.edits.is_empty());
        assert_eq!(
            fix.notes.last().map(String::as_str),
            Some(
                "re-lock failed: `yarn` is not installed (not found on PATH), so yarn.lock cannot be re-locked here"
            )
        );
        refuse(&mut findings, &[0], "outside the parents' range");
        assert_eq!(
            findings[0]
                .fix
                .as_ref()
                .unwrap()
                .notes
                .last()
                .map(String::as_str),
            Some("no re-lock: outside the parents' range")
        );
    }
}

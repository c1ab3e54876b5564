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

//! Which candidate image to move to: the one that clears the most of the current image's OS
//! advisories, with the smallest change among equals, said in one sentence. Pure.

use serde::Serialize;

use super::advisories::OsAdvisories;
use crate::model::Severity;

/// An image that could replace the current one.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    /// How a person names it: `debian 12.8`, or a tag.
    pub label: String,
    /// Its own OS advisories.
    pub advisories: &'a OsAdvisories,
    /// The size of the change, smaller is better: 0 a rebuild or point release of the same
    /// release, 1 another release of the distribution, 2 another distribution.
    pub change: u8,
}

/// The choice and its sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    /// The chosen candidate's label; `None` when no candidate clears anything.
    pub to: Option<String>,
    pub total: usize,
    pub cleared: usize,
    /// Cleared advisories rated critical and high.
    pub cleared_critical: usize,
    pub cleared_high: usize,
    pub stay_open: usize,
    /// Of those staying open, how many have no fixed package released.
    pub stay_open_unfixed: usize,
    /// Advisories the candidate has that the current image does not.
    pub introduced: usize,
    pub sentence: String,
}

/// Chooses among `candidates` for the image `from` with `current` advisories: most cleared,
/// then fewest introduced, then smallest change, then the order given.
pub fn recommend(
    from: &str,
    current: &OsAdvisories,
    candidates: &[Candidate<'_>],
) -> Recommendation {
    let current_ids = current.ids();
    let severities = current.severities();
    let unfixed = current.unfixable_ids();
    let total = current_ids.len();
    let best = candidates
        .iter()
        .map(|c| {
            let theirs = c.advisories.ids();
            let cleared: Vec<&str> = current_ids.difference(&theirs).copied().collect();
            let introduced = theirs.difference(&current_ids).count();
            (c, cleared, introduced)
        })
        .filter(|(_, cleared, _)| !cleared.is_empty())
        .min_by(|a, b| {
            b.1.len()
                .cmp(&a.1.len())
                .then(a.2.cmp(&b.2))
                .then(a.0.change.cmp(&b.0.change))
        });
    let Some((candidate, cleared, introduced)) = best else {
        let sentence = if total == 0 {
            format!("{from}: no OS advisories to clear")
        } else if candidates.is_empty() {
            format!(
                "{from}: no candidate image to compare; {total} OS advisories stay open{}",
                unfixed_clause(unfixed.len(), total)
            )
        } else {
            format!(
                "no candidate clears any of the {total} OS advisories of {from}; staying on it{}",
                unfixed_clause(unfixed.len(), total)
            )
        };
        return Recommendation {
            to: None,
            total,
            cleared: 0,
            cleared_critical: 0,
            cleared_high: 0,
            stay_open: total,
            stay_open_unfixed: unfixed.len(),
            introduced: 0,
            sentence,
        };
    };
    let count = |s: Severity| {
        cleared
            .iter()
            .filter(|id| severities.get(*id) == Some(&s))
            .count()
    };
    let (critical, high) = (count(Severity::Critical), count(Severity::High));
    let stay_open = total - cleared.len();
    let stay_open_unfixed = unfixed.iter().filter(|id| !cleared.contains(id)).count();
    let mut sentence = format!(
        "{}: clears {} of {total} OS advisories",
        arrow(from, &candidate.label),
        cleared.len()
    );
    let rated: Vec<String> = [(critical, "critical"), (high, "high")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, word)| format!("{n} {word}"))
        .collect();
    if !rated.is_empty() {
        sentence.push_str(&format!(" ({})", rated.join(", ")));
    }
    let stay = if stay_open == 1 { "stays" } else { "stay" };
    sentence.push_str(&match (stay_open, stay_open_unfixed) {
        (0, _) => "; none stay open".to_string(),
        (open, unfixed) if open == unfixed => {
            format!("; {open} {stay} open, no fixed package released")
        }
        (open, 0) => format!("; {open} {stay} open"),
        (open, unfixed) => {
            format!("; {open} {stay} open ({unfixed} with no fixed package released)")
        }
    });
    if introduced > 0 {
        sentence.push_str(&format!("; brings {introduced} new"));
    }
    Recommendation {
        to: Some(candidate.label.clone()),
        total,
        cleared: cleared.len(),
        cleared_critical: critical,
        cleared_high: high,
        stay_open,
        stay_open_unfixed,
        introduced,
        sentence,
    }
}

fn unfixed_clause(unfixed: usize, total: usize) -> String {
    match unfixed {
        0 => String::new(),
        n if n == total => ", none has a fixed package released".to_string(),
        n => format!(", {n} with no fixed package released"),
    }
}

/// `debian 12.4 → 12.8` for the same distribution, `debian 12.4 → alpine 3.19.1` otherwise,
/// `debian 12.8 → a rebuild of debian 12.8` for the same label.
fn arrow(from: &str, to: &str) -> String {
    if from == to {
        return format!("{from} → a rebuild of {to}");
    }
    match (from.split_once(' '), to.split_once(' ')) {
        (Some((a, _)), Some((b, version))) if a == b => format!("{from} → {version}"),
        _ => format!("{from} → {to}"),
    }
}

//! "Did you mean …?": the known name nearest to a word, judged the same way everywhere a
//! suggestion is made (comment commands and rule ids, catalog keys, Dockerfile instructions).

/// Longest word compared: nothing we suggest is longer, and it bounds the work a hostile
/// comment or file can ask for.
const MAX_WORD: usize = 64;

/// Edits between `a` and `b`, counting a swap of two neighbouring letters as one (optimal string
/// alignment): `rescna` is one edit from `rescan`, the commonest typo. `usize::MAX` when the
/// lengths are too far apart for one to be a typo of the other.
pub fn distance(a: &str, b: &str) -> usize {
    let (a_len, b_len) = (a.chars().count(), b.chars().count());
    if a_len.abs_diff(b_len) > 3 || a_len.max(b_len) > MAX_WORD {
        return usize::MAX;
    }
    strsim::osa_distance(a, b)
}

/// A distance counts as a typo of `candidate` when it is small against the candidate's length:
/// one edit per three characters, at least one and at most three (two edits turn `help` into
/// any four-letter word). 0 is a typo too: the word differs only by case or `_` for `-`.
pub fn is_typo(distance: usize, candidate: &str) -> bool {
    distance <= (candidate.chars().count() / 3).clamp(1, 3)
}

/// Lower case, `_` read as `-`: differences nobody means.
fn normalise(word: &str) -> String {
    word.to_lowercase().replace('_', "-")
}

/// The candidate nearest to `word`, when `word` is close enough to be a typo of it; the first
/// of equally near candidates. Each candidate comes with the name it is known by.
pub fn nearest<'c, T>(word: &str, candidates: impl IntoIterator<Item = (T, &'c str)>) -> Option<T> {
    let word = normalise(word);
    candidates
        .into_iter()
        .map(|(item, name)| (distance(&word, &normalise(name)), name, item))
        .filter(|(distance, name, _)| is_typo(*distance, name))
        .min_by_key(|(distance, _, _)| *distance)
        .map(|(_, _, item)| item)
}

/// [`nearest`] over plain names.
pub fn nearest_name<'c>(word: &str, names: &[&'c str]) -> Option<&'c str> {
    nearest(word, names.iter().map(|name| (*name, *name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("rescna", "rescan"), 1);
        assert_eq!(distance("hel", "help"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("recreate", "recreate"), 0);
        // Lengths this far apart are never typos; the distance is not worked out.
        assert_eq!(distance("", "help"), usize::MAX);
        assert_eq!(distance(&"a".repeat(100), &"a".repeat(99)), usize::MAX);
    }

    #[test]
    fn suggests_typos_only() {
        let names = ["approved", "tags", "preferred-variant", "end-of-life"];
        assert_eq!(nearest_name("aproved", &names), Some("approved"));
        assert_eq!(
            nearest_name("preferred_variant", &names),
            Some("preferred-variant")
        );
        assert_eq!(nearest_name("tag", &names), Some("tags"));
        assert_eq!(nearest_name("eol", &names), None);
        assert_eq!(nearest_name("colour", &names), None);
        assert_eq!(nearest_name("FORM", &["FROM", "RUN"]), Some("FROM"));
        // The first of equally near names.
        assert_eq!(nearest_name("cat", &["bat", "hat"]), Some("bat"));
    }
}

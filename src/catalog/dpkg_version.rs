//! Debian package versions (`[epoch:]upstream[-revision]`) ordered as dpkg orders them
//! (deb-version(7)): epochs numerically, then upstream and revision each by alternating runs
//! of non-digits (letters before other characters, `~` before everything, even the end) and
//! digits (numerically). Used for the Debian and Ubuntu ecosystems.

use std::cmp::Ordering;
use std::fmt;

/// A parsed Debian version. Equality is dpkg's (`1.09` equals `1.9`, `1.0` equals `1.0-0`).
#[derive(Debug, Clone)]
pub struct DpkgVersion {
    text: String,
    epoch: u64,
    upstream: String,
    revision: String,
}

impl DpkgVersion {
    /// Parses a version as dpkg's `parseversion` accepts it: a numeric epoch, an upstream part
    /// that starts with a digit, and only the characters Debian policy allows.
    pub fn parse(text: &str) -> Result<DpkgVersion, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the version is empty".to_string());
        }
        let (epoch, rest) = match text.split_once(':') {
            Some((epoch, rest)) => {
                let epoch = epoch
                    .parse::<u64>()
                    .map_err(|_| format!("the epoch `{epoch}` is not a number"))?;
                (epoch, rest)
            }
            None => (0, text),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((upstream, revision)) => (upstream, revision),
            None => (rest, ""),
        };
        // dpkg's own test data compares `-0.6.5` (an empty upstream part), so only a
        // non-empty one must start with a digit.
        if !upstream.is_empty() && !upstream.starts_with(|c: char| c.is_ascii_digit()) {
            return Err("the upstream version must start with a digit".to_string());
        }
        let allowed = |c: char, extra: &str| c.is_ascii_alphanumeric() || extra.contains(c);
        if let Some(c) = upstream.chars().find(|&c| !allowed(c, ".+~-:")) {
            return Err(format!("`{c}` is not allowed in an upstream version"));
        }
        if let Some(c) = revision.chars().find(|&c| !allowed(c, ".+~")) {
            return Err(format!("`{c}` is not allowed in a Debian revision"));
        }
        Ok(DpkgVersion {
            text: text.to_string(),
            epoch,
            upstream: upstream.to_string(),
            revision: revision.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The leading numbers of the upstream part (`1.2.3+dfsg` → `[1, 2, 3]`).
    pub fn release(&self) -> Vec<u64> {
        self.upstream
            .split(|c: char| !c.is_ascii_digit())
            .take_while(|part| !part.is_empty())
            .map(|part| part.parse().unwrap_or(u64::MAX))
            .collect()
    }

    /// A `~` in the upstream part marks a pre-release (`2.2~rc1`).
    pub fn is_prerelease(&self) -> bool {
        self.upstream.contains('~')
    }
}

/// The weight of one non-digit character: `~` below the end of the string, letters below
/// every other character.
fn weight(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's comparison of one part (upstream or revision).
fn compare_part(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let digit_at = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !digit_at(a, i)) || (j < b.len() && !digit_at(b, j)) {
            let (wa, wb) = (weight(a.get(i).copied()), weight(b.get(j).copied()));
            if wa != wb {
                return wa.cmp(&wb);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let (start_a, start_b) = (i, j);
        while digit_at(a, i) {
            i += 1;
        }
        while digit_at(b, j) {
            j += 1;
        }
        // Without leading zeros, the longer run of digits is the larger number.
        let (run_a, run_b) = (&a[start_a..i], &b[start_b..j]);
        match run_a.len().cmp(&run_b.len()).then_with(|| run_a.cmp(run_b)) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    Ordering::Equal
}

impl Ord for DpkgVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| compare_part(&self.upstream, &other.upstream))
            .then_with(|| compare_part(&self.revision, &other.revision))
    }
}

impl PartialOrd for DpkgVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for DpkgVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DpkgVersion {}

impl fmt::Display for DpkgVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> DpkgVersion {
        DpkgVersion::parse(s).unwrap()
    }

    #[test]
    fn tilde_sorts_before_the_end() {
        assert!(v("1.0~rc1") < v("1.0"));
        assert!(v("1.0~~") < v("1.0~"));
        assert_eq!(v("1.0"), v("1.0-0"));
        assert_eq!(v("1:1.0"), v("1:1.0"));
        assert!(v("1:0.1") > v("9.9"));
    }

    #[test]
    fn rejects_what_dpkg_rejects() {
        for bad in ["", "10a:5.2", "5.2@3-2", "foo5.2", "0:foo5.2"] {
            assert!(DpkgVersion::parse(bad).is_err(), "{bad}");
        }
    }
}

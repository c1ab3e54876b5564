//! What an image holds, from its merged layer files: the distribution and release, and the
//! installed OS packages. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::layer::FileFacts;
use super::os_release::OsRelease;
use super::packages::{DbNote, OsPackage};
use crate::catalog::osv_release;
use crate::model::Ecosystem;

/// The distribution an image runs, as far as advisories go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Distribution {
    /// Packages of this ecosystem and OSV release (`12`, `22.04`, `v3.19`) can be matched.
    Known {
        ecosystem: Ecosystem,
        release: String,
    },
    /// Nothing can be said about OS advisories; never to be read as "clean".
    Unknown { reason: String },
}

/// The OS contents of one image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OsContents {
    pub os_release: Option<OsRelease>,
    /// `debian 12.4`, `alpine 3.19.1`, `ubuntu 22.04`: how a person names the base.
    pub label: String,
    pub distribution: Distribution,
    /// Which database the packages came from: `dpkg`, `apk`, or empty.
    pub package_db: String,
    pub packages: Vec<OsPackage>,
    /// Entries of the package database that could not be read, as `path:line: message`.
    pub notes: Vec<String>,
}

/// Reads the merged files of an image.
pub fn os_contents(files: &BTreeMap<String, FileFacts>) -> OsContents {
    let os_release = ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .find_map(|path| match files.get(*path) {
            Some(FileFacts::OsRelease(os)) => Some(os.clone()),
            _ => None,
        });
    let mut notes = Vec::new();
    let mut dpkg = Vec::new();
    let mut apk = Vec::new();
    let mut debian_version = None;
    for (path, facts) in files {
        let mut note = |list: &[DbNote]| {
            notes.extend(
                list.iter()
                    .map(|n| format!("{path}:{}: {}", n.line, n.message)),
            );
        };
        match facts {
            FileFacts::Dpkg(db) => {
                dpkg.extend(db.packages.iter().cloned());
                note(&db.notes);
            }
            FileFacts::Apk(db) => {
                apk.extend(db.packages.iter().cloned());
                note(&db.notes);
            }
            FileFacts::DebianVersion { version } => debian_version = Some(version.clone()),
            FileFacts::OsRelease(_) => {}
        }
    }
    let (package_db, mut packages) = if !dpkg.is_empty() || has_dpkg_db(files) {
        ("dpkg", dpkg)
    } else if !apk.is_empty() || files.keys().any(|p| p.ends_with("apk/db/installed")) {
        ("apk", apk)
    } else {
        ("", Vec::new())
    };
    packages.sort();
    packages.dedup();

    let label = label(os_release.as_ref(), debian_version.as_deref());
    let distribution = distribution(os_release.as_ref(), package_db);
    OsContents {
        os_release,
        label,
        distribution,
        package_db: package_db.to_string(),
        packages,
        notes,
    }
}

fn has_dpkg_db(files: &BTreeMap<String, FileFacts>) -> bool {
    files
        .keys()
        .any(|p| p == "var/lib/dpkg/status" || p.starts_with("var/lib/dpkg/status.d/"))
}

fn label(os: Option<&OsRelease>, debian_version: Option<&str>) -> String {
    let Some(os) = os else {
        return "unknown distribution".to_string();
    };
    // Debian's os-release says `12`; /etc/debian_version has the point release.
    let version = match debian_version {
        Some(v) if os.id == "debian" && v.starts_with(|c: char| c.is_ascii_digit()) => v,
        _ => os.version_id.as_str(),
    };
    if version.is_empty() {
        os.id.clone()
    } else {
        format!("{} {version}", os.id)
    }
}

fn distribution(os: Option<&OsRelease>, package_db: &str) -> Distribution {
    let unknown = |reason: String| Distribution::Unknown { reason };
    let Some(os) = os else {
        return unknown(if package_db.is_empty() {
            "no os-release and no package database: a scratch or static image, or a distribution this tool does not read".to_string()
        } else {
            format!(
                "a {package_db} database but no os-release to tell the distribution and release"
            )
        });
    };
    let ecosystem = match os.id.as_str() {
        "debian" => Ecosystem::Debian,
        "ubuntu" => Ecosystem::Ubuntu,
        "alpine" => Ecosystem::Alpine,
        other => {
            return unknown(format!(
                "os-release names `{other}`, a distribution whose advisories are not read"
            ));
        }
    };
    let expected_db = if ecosystem == Ecosystem::Alpine {
        "apk"
    } else {
        "dpkg"
    };
    if package_db != expected_db {
        return unknown(format!(
            "{} without its {expected_db} package database (it was removed, or the image is distroless-static)",
            os.id
        ));
    }
    if os.version_id.is_empty() {
        return unknown(format!(
            "{} without VERSION_ID (testing or unstable): no release to match advisories of",
            os.id
        ));
    }
    Distribution::Known {
        ecosystem,
        release: osv_release(ecosystem, &os.version_id),
    }
}

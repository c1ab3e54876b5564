//! Image provenance: the lineage of the base image of every stage of every Dockerfile, as pure
//! functions of what scans recorded ([`BaseImagePeriod`]s), the bot's fix PRs and the finding
//! history.
//!
//! A scan records, per stage, the image it is built `FROM` (tag, and digest when pinned or
//! looked up in a registry); [`recording`] decides whether that continues the stage's latest
//! period or starts a new one. [`lineage`] turns the periods into steps, and for each change
//! names the bot's merged fix PR that made it (if one did) and the advisories cleared in the
//! scan that first saw it.

use crate::model::{DependencyKind, ParsedManifest};
use crate::registry::RegistryFacts;
use crate::store::fix_prs::{FixPr, FixPrState};
use crate::store::history::{EventKind, FindingEvent};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One stage's base image as one scan saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImageSeen {
    pub file: String,
    /// The stage's `AS` name, or `#<index>` for a stage without one.
    pub stage: String,
    /// The image name as written (`node`, `ghcr.io/org/app`), without tag or digest.
    pub image: String,
    /// Empty when no tag is written.
    pub tag: String,
    /// Pinned in the Dockerfile, or what the registry said the tag points at.
    pub digest: Option<String>,
}

/// A stretch of scans during which a stage was built from the same image, tag and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImagePeriod {
    pub id: i64,
    pub repository_id: i64,
    pub file: String,
    pub stage: String,
    pub image: String,
    pub tag: String,
    pub digest: Option<String>,
    /// The default branch's head at the first scan that saw it.
    pub first_commit: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// The base image of every stage of the scanned Dockerfiles. A digest written in the
/// Dockerfile wins; otherwise the registry's answer for the tag, when registries are on.
pub fn base_images(
    manifests: &[ParsedManifest],
    registry: Option<&RegistryFacts>,
) -> Vec<BaseImageSeen> {
    let mut seen = Vec::new();
    for m in manifests {
        for d in &m.dependencies {
            let DependencyKind::BaseImage { stage, alias, .. } = &d.kind else {
                continue;
            };
            let Some(site) = &d.image else { continue };
            let reference = &site.reference;
            let tag = reference.tag.clone().unwrap_or_default();
            let looked_up = || {
                let facts = registry?;
                facts
                    .digest(&reference.canonical_name(), reference.tag.as_deref()?)
                    .map(str::to_string)
            };
            seen.push(BaseImageSeen {
                file: m.file.clone(),
                stage: alias.clone().unwrap_or_else(|| format!("#{stage}")),
                image: reference.name(),
                tag,
                digest: reference.digest.clone().or_else(looked_up),
            });
        }
    }
    seen
}

/// What recording one scan's base images does to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recording {
    /// The stage's latest period goes on: move its last-seen time, and fill in its digest
    /// when this scan learnt one the period lacked.
    Extend { id: i64, digest: Option<String> },
    /// A new period starts (a new stage, or a different image, tag or digest).
    Start(BaseImageSeen),
}

/// How a scan's base images continue or change the periods recorded so far (`latest`: the
/// latest period of each stage of the repository). A digest missing on one side only (the
/// registry was off or did not answer) does not count as a change: the tag is the same.
pub fn recording(latest: &[BaseImagePeriod], seen: &[BaseImageSeen]) -> Vec<Recording> {
    let by_stage: HashMap<(&str, &str), &BaseImagePeriod> = latest
        .iter()
        .map(|p| ((p.file.as_str(), p.stage.as_str()), p))
        .collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for s in seen {
        // A stage named twice in one file (a parser oddity) is recorded once.
        if !done.insert((s.file.as_str(), s.stage.as_str())) {
            continue;
        }
        let same = by_stage
            .get(&(s.file.as_str(), s.stage.as_str()))
            .filter(|p| {
                p.image == s.image
                    && p.tag == s.tag
                    && match (&p.digest, &s.digest) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    }
            });
        out.push(match same {
            Some(p) => Recording::Extend {
                id: p.id,
                digest: if p.digest.is_none() {
                    s.digest.clone()
                } else {
                    None
                },
            },
            None => Recording::Start(s.clone()),
        });
    }
    out
}

/// One step of a stage's lineage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineageStep {
    pub image: String,
    pub tag: String,
    pub digest: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The default branch's head when the step was first seen.
    pub commit: String,
    /// Whether the repository's latest scan still saw it.
    pub current: bool,
    /// The bot's merged fix PR that made this change, if one did (never for the first step).
    pub fix_pr: Option<i64>,
    /// Advisories (or, for catalog rules, the rule) fixed in the file by the scan that first
    /// saw this step; empty for the first step.
    pub cleared: Vec<String>,
}

impl LineageStep {
    /// `image:tag@digest`, as far as known.
    pub fn reference(&self) -> String {
        let mut r = self.image.clone();
        if !self.tag.is_empty() {
            r = format!("{r}:{}", self.tag);
        }
        if let Some(d) = &self.digest {
            r = format!("{r}@{d}");
        }
        r
    }
}

/// The lineage of one stage of one Dockerfile, oldest step first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageLineage {
    pub repository_id: i64,
    pub file: String,
    pub stage: String,
    pub steps: Vec<LineageStep>,
}

/// The lineage of every stage of a repository's Dockerfiles, by file and stage. `fix_prs` and
/// `events` may hold other repositories' rows: only the periods' own repository's count.
pub fn lineage(
    periods: &[BaseImagePeriod],
    fix_prs: &[FixPr],
    events: &[FindingEvent],
) -> Vec<StageLineage> {
    let latest_scan: HashMap<i64, DateTime<Utc>> =
        periods.iter().fold(HashMap::new(), |mut m, p| {
            let at = m.entry(p.repository_id).or_insert(p.last_seen_at);
            *at = (*at).max(p.last_seen_at);
            m
        });
    let mut stages: BTreeMap<(i64, &str, &str), Vec<&BaseImagePeriod>> = BTreeMap::new();
    for p in periods {
        stages
            .entry((p.repository_id, p.file.as_str(), p.stage.as_str()))
            .or_default()
            .push(p);
    }
    stages
        .into_iter()
        .map(|((repository_id, file, stage), mut ps)| {
            ps.sort_by_key(|p| (p.first_seen_at, p.id));
            let steps = ps
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let previous = i.checked_sub(1).map(|j| ps[j]);
                    LineageStep {
                        image: p.image.clone(),
                        tag: p.tag.clone(),
                        digest: p.digest.clone(),
                        first_seen: p.first_seen_at,
                        last_seen: p.last_seen_at,
                        commit: p.first_commit.clone(),
                        current: latest_scan.get(&repository_id) == Some(&p.last_seen_at),
                        fix_pr: previous.and_then(|before| changed_by(fix_prs, before, p)),
                        cleared: if previous.is_some() {
                            cleared(events, repository_id, file, p.first_seen_at)
                        } else {
                            Vec::new()
                        },
                    }
                })
                .collect();
            StageLineage {
                repository_id,
                file: file.to_string(),
                stage: stage.to_string(),
                steps,
            }
        })
        .collect()
}

/// The bot's image fix PR merged between the last scan that saw `before` and the first that
/// saw `after`, whose fix names the image (its fix key is `docker/<image>@<targets>`), or the
/// digest-refresh PR when only the digest moved. The latest such merge when several qualify.
fn changed_by(fix_prs: &[FixPr], before: &BaseImagePeriod, after: &BaseImagePeriod) -> Option<i64> {
    let digest_only = before.image == after.image && before.tag == after.tag;
    fix_prs
        .iter()
        .filter(|pr| pr.repository_id == after.repository_id && pr.state == FixPrState::Merged)
        .filter(|pr| {
            pr.closed_at
                .is_some_and(|at| at > before.last_seen_at && at <= after.first_seen_at)
        })
        .filter(|pr| {
            let names = |image: &str| {
                pr.fix_key.starts_with(&format!("docker/{image}@"))
                    || pr.fix_key.contains(&format!("{image}:"))
            };
            names(&before.image)
                || names(&after.image)
                || (digest_only && pr.branch == crate::remedy::groups::DIGEST_REFRESH_BRANCH)
        })
        .max_by_key(|pr| (pr.closed_at, pr.number))
        .map(|pr| pr.number)
}

/// What the scan at `at` fixed in `file`: advisory ids, or the rule for catalog findings.
fn cleared(
    events: &[FindingEvent],
    repository_id: i64,
    file: &str,
    at: DateTime<Utc>,
) -> Vec<String> {
    let ids: BTreeSet<String> = events
        .iter()
        .filter(|e| e.repository_id == repository_id && e.kind == EventKind::Fixed && e.at == at)
        .filter_map(|e| {
            // The key is `rule|file|subject|advisory` (see `store::findings::finding_key`).
            let mut parts = e.key.splitn(4, '|');
            let rule = parts.next()?;
            (parts.next()? == file).then(|| {
                if e.advisory.is_empty() {
                    rule.to_string()
                } else {
                    e.advisory.clone()
                }
            })
        })
        .collect();
    ids.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn period(id: i64, tag: &str, digest: Option<&str>, from: &str, to: &str) -> BaseImagePeriod {
        BaseImagePeriod {
            id,
            repository_id: 7,
            file: "Dockerfile".into(),
            stage: "#0".into(),
            image: "node".into(),
            tag: tag.into(),
            digest: digest.map(str::to_string),
            first_commit: format!("c{id}"),
            first_seen_at: t(from),
            last_seen_at: t(to),
        }
    }

    fn seen(tag: &str, digest: Option<&str>) -> BaseImageSeen {
        BaseImageSeen {
            file: "Dockerfile".into(),
            stage: "#0".into(),
            image: "node".into(),
            tag: tag.into(),
            digest: digest.map(str::to_string),
        }
    }

    fn merged(number: i64, fix_key: &str, at: &str) -> FixPr {
        FixPr {
            repository_id: 7,
            number,
            branch: format!("patchwright/x/{number}"),
            fix_key: fix_key.into(),
            state: FixPrState::Merged,
            head_sha: "h".into(),
            closed_by_human: false,
            opened_at: t("2026-01-01T00:00:00Z"),
            updated_at: t(at),
            closed_at: Some(t(at)),
        }
    }

    fn fixed(key: &str, advisory: &str, at: &str) -> FindingEvent {
        FindingEvent {
            repository_id: 7,
            key: key.into(),
            kind: EventKind::Fixed,
            level: "blocker".into(),
            severity: "high".into(),
            package: "node".into(),
            advisory: advisory.into(),
            at: t(at),
            owners: Vec::new(),
        }
    }

    #[test]
    fn a_scan_extends_the_same_image_and_starts_a_period_on_a_change() {
        let latest = [period(
            1,
            "18",
            None,
            "2026-01-01T00:00:00Z",
            "2026-01-02T00:00:00Z",
        )];
        // Same tag, and now the registry tells the digest: the same period, digest filled in.
        assert_eq!(
            recording(&latest, &[seen("18", Some("sha256:a"))]),
            [Recording::Extend {
                id: 1,
                digest: Some("sha256:a".into())
            }]
        );
        let pinned = [period(
            1,
            "18",
            Some("sha256:a"),
            "2026-01-01T00:00:00Z",
            "2026-01-02T00:00:00Z",
        )];
        // Registry off this time: still the same period, nothing to fill in.
        assert_eq!(
            recording(&pinned, &[seen("18", None)]),
            [Recording::Extend {
                id: 1,
                digest: None
            }]
        );
        // The tag moved to another digest, or the tag changed: a new period each.
        assert_eq!(
            recording(&pinned, &[seen("18", Some("sha256:b"))]),
            [Recording::Start(seen("18", Some("sha256:b")))]
        );
        assert_eq!(
            recording(&pinned, &[seen("20", None)]),
            [Recording::Start(seen("20", None))]
        );
        let mut other_stage = seen("20", None);
        other_stage.stage = "build".into();
        assert_eq!(
            recording(&pinned, &[other_stage.clone(), other_stage.clone()]),
            [Recording::Start(other_stage)]
        );
    }

    #[test]
    fn each_change_names_the_fix_pr_between_the_scans_and_what_it_cleared() {
        let periods = [
            period(
                1,
                "16",
                None,
                "2026-01-01T00:00:00Z",
                "2026-01-10T00:00:00Z",
            ),
            period(
                2,
                "20",
                Some("sha256:b"),
                "2026-01-11T00:00:00Z",
                "2026-02-01T00:00:00Z",
            ),
            // A revert by a person: no PR of the bot's.
            period(
                3,
                "16",
                None,
                "2026-02-02T00:00:00Z",
                "2026-02-03T00:00:00Z",
            ),
        ];
        let prs = [
            // Merged between the last scan of 16 and the first of 20, about node: the one.
            merged(4, "docker/node@node:20", "2026-01-10T12:00:00Z"),
            // Same window but about npm: not an image change.
            merged(5, "npm/lodash@4.17.21", "2026-01-10T13:00:00Z"),
            // About node but merged before the last scan that still saw 16.
            merged(6, "docker/node@node:18", "2026-01-09T00:00:00Z"),
        ];
        let events = [
            fixed(
                "vulnerable-image|Dockerfile|node|CVE-1",
                "CVE-1",
                "2026-01-11T00:00:00Z",
            ),
            fixed(
                "end-of-life|Dockerfile|node:16|",
                "",
                "2026-01-11T00:00:00Z",
            ),
            // Another file, and another time: not this change's.
            fixed(
                "vulnerable-package|package-lock.json|qs|GHSA-q",
                "GHSA-q",
                "2026-01-11T00:00:00Z",
            ),
            fixed(
                "vulnerable-image|Dockerfile|node|CVE-2",
                "CVE-2",
                "2026-01-12T00:00:00Z",
            ),
        ];
        let l = lineage(&periods, &prs, &events);
        assert_eq!(l.len(), 1);
        let steps = &l[0].steps;
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[0].fix_pr, None);
        assert!(steps[0].cleared.is_empty());
        assert_eq!(steps[1].fix_pr, Some(4));
        assert_eq!(steps[1].cleared, ["CVE-1", "end-of-life"]);
        assert_eq!(steps[1].reference(), "node:20@sha256:b");
        assert_eq!(steps[2].fix_pr, None);
        assert!(steps[2].current && !steps[1].current);
        assert_eq!(steps[2].commit, "c3");
    }
}

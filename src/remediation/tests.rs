use super::snapshots::{daily_counts, series};
use super::*;
use crate::policy::SlaDays;
use crate::store::fix_prs::{FixPr, FixPrState};
use crate::store::history::{EventKind, FindingEvent, RepositoryRow};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

fn t(day: i64) -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::days(day)
}

fn ev(repo: i64, key: &str, kind: EventKind, day: i64) -> FindingEvent {
    FindingEvent {
        repository_id: repo,
        key: key.to_string(),
        kind,
        level: "blocker".into(),
        severity: "high".into(),
        package: format!("pkg-{key}"),
        advisory: format!("GHSA-{key}"),
        at: t(day),
        owners: vec!["@acme/web".into()],
    }
}

fn repo(id: i64) -> RepositoryRow {
    RepositoryRow {
        id,
        installation_id: 1,
        full_name: format!("acme/r{id}"),
        tier: Some("internet-facing".into()),
    }
}

#[test]
fn an_exception_closes_an_exposure_and_a_lapse_keeps_the_clock() {
    use EventKind::*;
    let events = vec![
        ev(1, "a", Opened, 0),
        ev(1, "a", Excepted, 5),
        ev(1, "a", Opened, 20),
        ev(1, "a", Fixed, 30),
        ev(1, "a", Opened, 40),
    ];
    let ex = exposures(&events);
    assert_eq!(ex.len(), 3);
    assert_eq!(ex[0].closed, Some((t(5), Closure::Excepted)));
    assert_eq!(
        ex[1].clock_start,
        t(0),
        "a lapsed exception keeps the clock"
    );
    assert!(!ex[1].recurrence);
    assert_eq!(ex[1].closed, Some((t(30), Closure::Fixed)));
    assert_eq!(ex[2].clock_start, t(40));
    assert!(ex[2].recurrence, "fixed then back");
}

#[test]
fn mttr_counts_from_the_clock_start_to_the_fix_inside_the_window() {
    use EventKind::*;
    let events = vec![
        ev(1, "a", Opened, 0),
        ev(1, "a", Fixed, 10),
        ev(1, "b", Opened, 50),
        ev(1, "b", Fixed, 54),
        ev(1, "c", Opened, 52),
        ev(1, "c", Fixed, 60),
    ];
    let ex = exposures(&events);
    let m = figures::mttr(&ex, "high", t(40), t(70));
    assert_eq!(m.fixed, 2);
    assert_eq!(m.mean_days, Some(6.0));
    assert_eq!(figures::mttr(&ex, "critical", t(40), t(70)).mean_days, None);
}

#[test]
fn sla_states_follow_the_due_date() {
    use EventKind::*;
    let sla = SlaDays::default(); // high: 30 days
    let ex = exposures(&[
        ev(1, "late", Opened, 0),
        ev(1, "soon", Opened, 12),
        ev(1, "fine", Opened, 35),
    ]);
    let now = t(40);
    let states: Vec<_> = ex
        .iter()
        .map(|e| figures::sla_state(e, &sla, now).unwrap().1)
        .collect();
    use figures::SlaState::*;
    assert_eq!(states, vec![Breached, DueSoon, OnTrack]);
}

#[test]
fn figures_count_outcomes_rework_recurrence_and_exceptions() {
    use EventKind::*;
    let mut data = Dataset {
        repositories: vec![repo(1), repo(2)],
        events: vec![
            ev(1, "a", Opened, 0),
            ev(1, "a", Fixed, 70),
            ev(1, "a", Opened, 75),
            ev(1, "a", Fixed, 80),
            ev(2, "b", Opened, 72),
            ev(2, "b", Excepted, 74),
        ],
        ..Dataset::default()
    };
    let pr =
        |repo: i64, number: i64, state: FixPrState, human: bool, opened: i64, closed: i64| FixPr {
            repository_id: repo,
            number,
            branch: "b".into(),
            fix_key: "k".into(),
            state,
            head_sha: "0".repeat(40),
            closed_by_human: human,
            opened_at: t(opened),
            updated_at: t(closed),
            closed_at: (state != FixPrState::Open).then(|| t(closed)),
        };
    data.fix_prs = vec![
        pr(1, 1, FixPrState::Merged, false, 65, 66),
        pr(1, 2, FixPrState::Merged, false, 76, 79),
        pr(1, 3, FixPrState::Closed, true, 77, 78),
        pr(1, 4, FixPrState::Closed, false, 78, 79),
        pr(1, 5, FixPrState::Open, false, 79, 79),
        pr(1, 6, FixPrState::Merged, false, 1, 2), // outside the window
    ];
    let f = figures(&data, &SlaDays::default(), t(90), Window { days: 30 });
    assert_eq!(f.fix_prs.opened, 5);
    assert_eq!(
        (
            f.fix_prs.merged,
            f.fix_prs.closed_by_person,
            f.fix_prs.superseded,
            f.fix_prs.still_open
        ),
        (2, 1, 1, 1)
    );
    assert_eq!(f.fix_prs.merge_rate, Some(0.5));
    // 24 h and 72 h: the median of two is their mean.
    assert_eq!(f.fix_prs.median_hours_to_merge, Some(48.0));
    // Fixed on day 70 and again on day 80: the second is rework.
    assert_eq!((f.rework.count, f.rework.of), (1, 2));
    // Opened in the window: a (again, a recurrence) and b.
    assert_eq!((f.recurrence.count, f.recurrence.of), (1, 2));
    // Closed in the window: a twice by fixes, b by an exception.
    assert_eq!(
        (f.closed_by_exception.count, f.closed_by_exception.of),
        (1, 3)
    );
    assert_eq!(f.passing_policy.share, Some(1.0));
    assert!(f.open.is_empty());
}

#[test]
fn daily_counts_are_as_of_the_end_of_each_day() {
    use EventKind::*;
    let ex = exposures(&[
        ev(1, "a", Opened, 0),
        ev(1, "a", Fixed, 2),
        ev(1, "b", Opened, 1),
    ]);
    let day = |d: i64| t(d).date_naive();
    let rows = daily_counts(&ex, day(0), day(3));
    let points = series(&rows, "blocker", day(0), day(3));
    let totals: Vec<i64> = points.iter().map(|p| p.total).collect();
    // Fixed at the start of day 2: not open at its end.
    assert_eq!(totals, vec![1, 2, 1, 1]);
    assert_eq!(points[0].day, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
}

#[test]
fn window_parses_days() {
    assert_eq!(Window::parse("90d").unwrap().days, 90);
    assert_eq!(Window::parse("7").unwrap().days, 7);
    assert!(Window::parse("3w").unwrap_err().contains("90d"));
    assert!(Window::parse("0d").is_err());
}

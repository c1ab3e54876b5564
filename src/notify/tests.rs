use super::*;
use crate::store::accepted_risks::AcceptedRisk;
use crate::store::history::{EventKind, FindingEvent, RepositoryRow};
use chrono::NaiveDate;

fn t(day: i64) -> DateTime<Utc> {
    "2026-01-01T09:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::days(day)
}

fn ev(key: &str, level: &str, kind: EventKind, day: i64) -> FindingEvent {
    FindingEvent {
        repository_id: 1,
        key: key.to_string(),
        kind,
        level: level.into(),
        severity: "high".into(),
        package: format!("pkg-{key}"),
        advisory: format!("GHSA-{key}"),
        at: t(day),
        owners: vec![],
    }
}

fn data(events: Vec<FindingEvent>) -> Dataset {
    Dataset {
        repositories: vec![RepositoryRow {
            id: 1,
            installation_id: 1,
            full_name: "acme/web".into(),
            tier: None,
        }],
        events,
        ..Dataset::default()
    }
}

const HORIZON: Horizon = Horizon {
    sla_due_days: 7,
    exception_days: 14,
};

fn kinds_and_keys(items: &[Item]) -> Vec<(ItemKind, String)> {
    items.iter().map(|i| (i.kind, i.key.clone())).collect()
}

fn state(last_sent: Option<DateTime<Utc>>) -> NotifyState {
    NotifyState {
        installation_id: 1,
        since: t(0),
        last_sent,
        failures: 0,
        next_attempt: t(0),
    }
}

fn item(key: &str) -> Item {
    Item {
        kind: ItemKind::NewBlocker,
        key: key.into(),
        repository: "acme/web".into(),
        text: key.into(),
    }
}

#[test]
fn new_blockers_are_those_opened_since_notifications_began_and_still_open() {
    use EventKind::*;
    let d = data(vec![
        ev("old", "blocker", Opened, 0),
        ev("new", "blocker", Opened, 2),
        ev("warn", "warning", Opened, 2),
        ev("gone", "blocker", Opened, 2),
        ev("gone", "blocker", Fixed, 3),
    ]);
    let sla = SlaDays::default();
    let got = items(&d, &sla, HORIZON, t(1), t(4));
    let new: Vec<String> = got
        .iter()
        .filter(|i| i.kind == ItemKind::NewBlocker)
        .map(|i| i.key.clone())
        .collect();
    assert_eq!(new, [format!("blocker:1:new:{}", t(2).timestamp_millis())]);
    assert_eq!(got[0].repository, "acme/web");
    assert!(got[0].text.contains("GHSA-new"), "{}", got[0].text);

    // Fixed and back: a new exposure, so a new key, told again.
    let back = data(vec![
        ev("new", "blocker", Opened, 2),
        ev("new", "blocker", Fixed, 3),
        ev("new", "blocker", Opened, 5),
    ]);
    let got = items(&back, &sla, HORIZON, t(1), t(6));
    assert_eq!(
        kinds_and_keys(&got),
        [(
            ItemKind::NewBlocker,
            format!("blocker:1:new:{}", t(5).timestamp_millis())
        )]
    );
}

#[test]
fn an_sla_is_told_when_due_within_the_horizon_and_not_once_breached() {
    // A high blocker opened on day 0 is due on day 30 (default SLA).
    let d = data(vec![ev("a", "blocker", EventKind::Opened, 0)]);
    let sla = SlaDays::default();
    let due = |now| {
        items(&d, &sla, HORIZON, t(100), now)
            .into_iter()
            .filter(|i| i.kind == ItemKind::SlaDue)
            .count()
    };
    assert_eq!(due(t(22)), 0, "eight days left");
    assert_eq!(due(t(23)), 1, "seven days left");
    assert_eq!(due(t(30) - TimeDelta::hours(1)), 1, "due today");
    assert_eq!(due(t(31)), 0, "breached: no longer 'due soon'");
    let wide = Horizon {
        sla_due_days: 10,
        ..HORIZON
    };
    assert_eq!(
        items(&d, &sla, wide, t(100), t(20))
            .iter()
            .filter(|i| i.kind == ItemKind::SlaDue)
            .count(),
        1
    );
}

#[test]
fn exceptions_in_force_are_told_within_their_last_days() {
    let risk = |id: i64, until: &str, revoked: bool| AcceptedRisk {
        id,
        repository_id: 1,
        target: format!("GHSA-{id}"),
        reason: "vendor fix pending".into(),
        until: until.parse::<NaiveDate>().unwrap(),
        granted_by: "octocat".into(),
        granted_at: t(0),
        source: "acme/web#1".into(),
        revoked_at: revoked.then(|| t(1)),
        revoked_by: None,
    };
    let mut d = data(vec![]);
    d.accepted_risks = vec![
        risk(1, "2026-01-20", false),
        risk(2, "2026-03-01", false),
        risk(3, "2026-01-19", true),
        risk(4, "2026-01-05", false),
    ];
    // On 2026-01-10: #1 ends in 10 days; #2 is far; #3 was revoked; #4 has lapsed.
    let got = items(&d, &SlaDays::default(), HORIZON, t(0), t(9));
    assert_eq!(
        kinds_and_keys(&got),
        [(
            ItemKind::ExceptionExpiring,
            "exception:1:2026-01-20".to_string()
        )]
    );
    assert!(got[0].text.contains("@octocat"), "{}", got[0].text);
}

#[test]
fn choose_sends_only_what_was_not_sent_and_at_most_once_an_interval() {
    let hour = TimeDelta::hours(1);
    let now = t(10);
    let sent: HashSet<String> = ["a".to_string()].into();
    assert_eq!(
        choose(
            vec![item("a"), item("b"), item("b")],
            &sent,
            &state(None),
            hour,
            now
        ),
        Choice::Send(vec![item("b")]),
        "sent before, and a duplicate, are left out"
    );
    assert_eq!(
        choose(vec![item("a")], &sent, &state(None), hour, now),
        Choice::Nothing
    );
    // A message 59 minutes ago: wait for the rest of the hour, even with news.
    let last = now - TimeDelta::minutes(59);
    assert_eq!(
        choose(vec![item("b")], &sent, &state(Some(last)), hour, now),
        Choice::Wait(last + hour)
    );
    assert_eq!(
        choose(vec![item("b")], &sent, &state(Some(now - hour)), hour, now),
        Choice::Send(vec![item("b")])
    );
    // A burst is cut at MAX_ITEMS; the rest go next time (not marked sent).
    let many: Vec<Item> = (0..MAX_ITEMS + 5)
        .map(|i| item(&format!("k{i:03}")))
        .collect();
    match choose(many, &HashSet::new(), &state(None), hour, now) {
        Choice::Send(items) => assert_eq!(items.len(), MAX_ITEMS),
        other => panic!("{other:?}"),
    }
}

#[test]
fn backoff_doubles_from_a_minute_up_to_the_interval() {
    let hour = TimeDelta::hours(1);
    let got: Vec<i64> = (1..=8).map(|f| backoff(f, hour).num_minutes()).collect();
    assert_eq!(got, [1, 2, 4, 8, 16, 32, 60, 60]);
    assert_eq!(backoff(u32::MAX, hour), hour);
}

#[test]
fn the_message_groups_items_by_kind_and_escapes_mrkdwn() {
    let mut sla = item("s");
    sla.kind = ItemKind::SlaDue;
    sla.text = "lodash <4.17.21> & co is due 2026-02-01".into();
    let body = message("acme", &[item("b1"), item("b2"), sla]);
    let text = body["text"].as_str().unwrap();
    assert_eq!(
        text,
        "*patchwright* — acme\n\n*New blockers on default branches*\n• acme/web: b1\n• acme/web: b2\n\n\
         *Blocker SLAs due soon*\n• acme/web: lodash &lt;4.17.21&gt; &amp; co is due 2026-02-01\n"
    );
}

//! A push's intake on PostgreSQL is one statement of data-modifying CTEs
//! (`store::push_intake`); the transaction of one statement per write
//! (`intake::store_general`) is the reference. The same deliveries through each, on fresh
//! databases, must answer the same and leave the same rows in every table intake touches.

mod support;

use chrono::{DateTime, TimeDelta, Utc};
use patchwright::service::webhook::event;
use patchwright::service::webhook::intake::{self, Outcome, Received, Stored};
use patchwright::store::{Store, installations};
use serde_json::{Value, json};
use support::{TestDb, example};

/// One step of the sequence: a delivery, or a change made meanwhile by something else.
enum Step {
    Deliver {
        event: &'static str,
        id: &'static str,
        body: Value,
    },
    /// A worker took the repository's queued scan.
    StartQueued { repository_id: i64 },
    /// The repository was withdrawn from the app.
    Remove { repository_id: i64 },
}

#[derive(Clone, Copy)]
struct PushTo {
    installation: i64,
    repo: i64,
    name: &'static str,
    private: bool,
    git_ref: &'static str,
    after: char,
    deleted: bool,
}

impl PushTo {
    fn new(installation: i64, repo: i64, name: &'static str, after: char) -> PushTo {
        PushTo {
            installation,
            repo,
            name,
            private: false,
            git_ref: "refs/heads/main",
            after,
            deleted: false,
        }
    }

    fn body(self) -> Value {
        let mut push = example("push", |e| e["installation"].is_object());
        push["ref"] = json!(self.git_ref);
        push["after"] = json!(self.after.to_string().repeat(40));
        push["deleted"] = json!(self.deleted);
        push["installation"]["id"] = json!(self.installation);
        push["repository"]["id"] = json!(self.repo);
        push["repository"]["name"] = json!(self.name);
        push["repository"]["full_name"] = json!(format!("o/{}", self.name));
        push["repository"]["private"] = json!(self.private);
        push["repository"]["default_branch"] = json!("main");
        push["repository"]["owner"]["login"] = json!(format!("owner{}", self.installation));
        push
    }
}

fn push(id: &'static str, to: PushTo) -> Step {
    Step::Deliver {
        event: "push",
        id,
        body: to.body(),
    }
}

fn sequence() -> Vec<Step> {
    let r1 = PushTo::new(7, 1, "one", 'a');
    vec![
        // A new installation and repository: stored, a scan queued.
        push("d1", r1),
        // Same repository while its scan waits: joins it.
        push("d2", PushTo { after: 'b', ..r1 }),
        // A redelivery: nothing written.
        push("d1", PushTo { after: 'c', ..r1 }),
        // The repository was renamed and made private.
        push(
            "d3",
            PushTo {
                name: "renamed",
                private: true,
                after: 'd',
                ..r1
            },
        ),
        // Another installation, another repository.
        push("d4", PushTo::new(8, 2, "two", 'e')),
        // Once the scan runs, the next push queues another.
        Step::StartQueued { repository_id: 1 },
        // A redelivery that would change every row and queue a scan if it were new.
        push("d1", PushTo::new(9, 1, "other", 'x')),
        push(
            "d5",
            PushTo {
                name: "renamed",
                private: true,
                after: 'f',
                ..r1
            },
        ),
        // The repository moves to the other installation.
        push(
            "d6",
            PushTo {
                installation: 8,
                name: "renamed",
                after: 'g',
                ..r1
            },
        ),
        // Withdrawn, then pushed to again: back.
        Step::Remove { repository_id: 2 },
        Step::StartQueued { repository_id: 2 },
        push("d7", PushTo::new(8, 2, "two", 'h')),
        // Pushes intake stores without a job.
        push(
            "d8",
            PushTo {
                git_ref: "refs/heads/feature",
                ..r1
            },
        ),
        push(
            "d9",
            PushTo {
                deleted: true,
                after: '0',
                ..r1
            },
        ),
        Step::Deliver {
            event: "ping",
            id: "d10",
            body: example("ping", |_| true),
        },
        // A redelivery of a push that joined.
        push("d2", PushTo { after: 'i', ..r1 }),
    ]
}

async fn run(db: &Store, one_statement: bool) -> Vec<Stored> {
    let start: DateTime<Utc> = "2026-02-01T10:00:00Z".parse().unwrap();
    let mut answers = Vec::new();
    for (n, step) in sequence().into_iter().enumerate() {
        let now = start + TimeDelta::seconds(n as i64);
        match step {
            Step::Deliver { event, id, body } => {
                let parsed = event::parse(event, &serde_json::to_vec(&body).unwrap()).unwrap();
                let received = Received {
                    event_name: event,
                    delivery_id: id,
                    event: &parsed,
                    bot_login: support::BOT,
                    now,
                };
                let stored = if one_statement {
                    intake::store(db, &received).await
                } else {
                    intake::store_general(db, &received).await
                };
                answers.push(stored.unwrap());
            }
            Step::StartQueued { repository_id } => {
                sqlx::query(
                    "UPDATE jobs SET state = 'running' WHERE state = 'queued' AND repository_id = $1",
                )
                .bind(repository_id)
                .execute(db.pool())
                .await
                .unwrap();
            }
            Step::Remove { repository_id } => {
                installations::remove_repository(db.pool(), repository_id, now)
                    .await
                    .unwrap();
            }
        }
    }
    answers
}

/// Every row of every table intake writes, as JSON text, in a stable order.
async fn rows(db: &Store) -> Vec<(&'static str, Vec<String>)> {
    let mut all = Vec::new();
    for table in [
        "deliveries",
        "installations",
        "repositories",
        "jobs",
        "job_attempts",
        "audit",
    ] {
        let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
            .bind(table)
            .fetch_one(db.pool())
            .await
            .unwrap();
        if exists.is_none() {
            continue;
        }
        let listed: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT to_jsonb(t)::text FROM {table} t ORDER BY 1"
        ))
        .fetch_all(db.pool())
        .await
        .unwrap();
        all.push((table, listed));
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_in_one_statement_writes_what_the_transaction_writes() {
    let (Some(general), Some(single)) = (TestDb::postgres().await, TestDb::postgres().await) else {
        eprintln!("DATABASE_URL is not PostgreSQL: nothing to compare");
        return;
    };
    let reference = run(&general.store, false).await;
    let answers = run(&single.store, true).await;
    assert_eq!(answers, reference);

    // The sequence covers what it says it does.
    let queued = |ids: &[i64]| Stored::Done {
        outcome: Outcome::Queued,
        job_ids: ids.to_vec(),
    };
    assert_eq!(reference[0], queued(&[1]));
    assert_eq!(reference[1], queued(&[]), "joins the waiting scan");
    assert_eq!(reference[2], Stored::Duplicate);
    assert_eq!(reference[4], queued(&[2]));
    assert_eq!(reference[5], Stored::Duplicate);
    assert_eq!(reference[6], queued(&[3]), "a new scan once the first runs");
    assert_eq!(reference[7], queued(&[]), "joins across the move");
    assert_eq!(
        reference[8],
        queued(&[4]),
        "a removed repository comes back"
    );
    assert!(
        matches!(&reference[9], Stored::Done { outcome: Outcome::Ignored(_), job_ids } if job_ids.is_empty())
    );
    assert_eq!(reference[12], Stored::Duplicate);

    let expected = rows(&general.store).await;
    let got = rows(&single.store).await;
    assert!(
        expected
            .iter()
            .any(|(t, r)| *t == "repositories" && r.len() == 2)
    );
    for ((table, want), (_, have)) in expected.iter().zip(&got) {
        assert_eq!(have, want, "rows of {table}");
    }
    assert_eq!(got.len(), expected.len());
}

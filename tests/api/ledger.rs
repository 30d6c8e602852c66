//! The meter ledger's group commit, on the real database: writes queued
//! while a commit waits are committed together, each answered only after
//! its batch committed, and one failing write fails alone.

use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use newsdesk::db::DbConnection;
use newsdesk::db::ledger::Ledger;
use newsdesk::error::{ApiError, ConflictCode};

use crate::harness::TestApp;

/// The key every test write serialises on.
const KEY: &str = "ledger-test";

/// Holds the ledger back: on SQLite the database's write lock, on
/// PostgreSQL the advisory lock of `KEY`, from a connection of the test's own.
fn hold_back(conn: &mut DbConnection) {
    match conn {
        DbConnection::Sqlite(sqlite) => sqlite
            .batch_execute("BEGIN IMMEDIATE")
            .expect("the write lock"),
        DbConnection::Postgres(pg) => {
            diesel::sql_query("SELECT pg_advisory_lock(hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(KEY)
                .execute(pg)
                .map(drop)
                .expect("the advisory lock");
        }
    }
}

fn let_go(conn: &mut DbConnection) {
    match conn {
        DbConnection::Sqlite(sqlite) => sqlite.batch_execute("COMMIT").expect("the lock let go"),
        DbConnection::Postgres(pg) => {
            diesel::sql_query("SELECT pg_advisory_unlock(hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(KEY)
                .execute(pg)
                .map(drop)
                .expect("the advisory lock let go");
        }
    }
}

/// Counts one meter started from the test's address, through the ledger;
/// answers how many it has started, this one included.
async fn count(ledger: &Ledger) -> Result<i64, ApiError> {
    ledger
        .write(vec![KEY.to_owned()], |conn| {
            Ok(newsdesk::db::meter::count_start(conn, "ledger", "2026-12")?)
        })
        .await
}

/// Meters counted as started from the test's address.
fn counted(app: &TestApp) -> i64 {
    app.db(|conn| {
        diesel::sql_query(
            "SELECT CAST(COALESCE(MAX(starts), 0) AS BIGINT) AS n \
             FROM meter_starts WHERE address = 'ledger'",
        )
        .get_result::<Count>(conn)
        .expect("a count")
        .n
    })
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn commits(ledger: &Ledger) -> u64 {
    ledger
        .counts()
        .commits
        .load(std::sync::atomic::Ordering::Relaxed)
}

/// Holds the ledger back, hands it one write, and once that write waits
/// for the lock, `more` writes that queue behind it.
async fn held_back_batch(
    app: &TestApp,
    more: usize,
) -> (
    diesel::r2d2::PooledConnection<newsdesk::db::ConnectionManager>,
    actix_web::rt::task::JoinHandle<Result<i64, ApiError>>,
    Vec<actix_web::rt::task::JoinHandle<Result<i64, ApiError>>>,
) {
    let ledger = app.state.ledger.clone();
    let mut blocker = app.pool.get().expect("a connection");
    hold_back(&mut blocker);
    let first = actix_web::rt::spawn({
        let ledger = ledger.clone();
        async move { count(&ledger).await }
    });
    actix_web::rt::time::sleep(Duration::from_millis(150)).await;
    let rest = (0..more)
        .map(|_| {
            let ledger = ledger.clone();
            actix_web::rt::spawn(async move { count(&ledger).await })
        })
        .collect();
    (blocker, first, rest)
}

#[actix_web::test]
async fn writes_that_wait_together_commit_together() {
    let app = TestApp::spawn().await;
    let ledger = app.state.ledger.clone();
    let (mut blocker, first, rest) = held_back_batch(&app, 40).await;
    actix_web::rt::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(counted(&app), 0, "nothing is answered before it commits");
    assert!(!first.is_finished());
    let_go(&mut blocker);
    drop(blocker);

    assert_eq!(first.await.expect("ran").expect("committed"), 1);
    let mut answers = Vec::new();
    for write in rest {
        answers.push(write.await.expect("ran").expect("committed"));
    }
    answers.sort_unstable();
    assert_eq!(
        answers,
        (2..=41).collect::<Vec<_>>(),
        "one after another, each seeing the ones before"
    );
    assert_eq!(counted(&app), 41);
    assert_eq!(
        commits(&ledger),
        2,
        "the first write alone, then the forty that queued behind it"
    );
}

#[actix_web::test]
async fn a_failing_write_fails_alone() {
    let app = TestApp::spawn().await;
    let ledger = app.state.ledger.clone();
    let (mut blocker, first, good) = held_back_batch(&app, 5).await;
    let bad = actix_web::rt::spawn({
        let ledger = ledger.clone();
        async move {
            ledger
                .write(vec![KEY.to_owned()], |conn| {
                    newsdesk::db::meter::count_start(conn, "ledger", "2026-12")?;
                    // Wrote, then failed: its count must not stay.
                    Err::<(), _>(ApiError::Conflict(ConflictCode::InUse, "no".into()))
                })
                .await
        }
    });
    actix_web::rt::time::sleep(Duration::from_millis(150)).await;
    let_go(&mut blocker);
    drop(blocker);

    assert_eq!(first.await.expect("ran").expect("committed"), 1);
    for write in good {
        write.await.expect("ran").expect("committed");
    }
    assert!(matches!(
        bad.await.expect("ran"),
        Err(ApiError::Conflict(ConflictCode::InUse, _))
    ));
    assert_eq!(counted(&app), 6, "every good write, and not the bad one's");
    assert_eq!(
        ledger
            .counts()
            .retried
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

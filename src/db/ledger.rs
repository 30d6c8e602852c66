//! Group commit: the small writes of concurrent requests, committed together.
//!
//! A metered read by a reader who has not read that article this month is
//! one row, and committing it alone costs a flush of the write-ahead log
//! (PostgreSQL's default; SQLite's at `synchronous = FULL`, which this
//! connection uses). The ledger runs the writes of every request that
//! arrives while a commit is under way in one transaction on its own
//! connection, and answers each request only once that transaction has
//! committed: every answered write is as durable as before, at one flush
//! per batch instead of one per request.
//!
//! Jobs of a batch run one after another, so a later job sees what an
//! earlier one wrote (two reads by one reader in one batch count as two).
//! Each job names the keys it serialises on; the batch takes all of them
//! at its start, in one sorted order, as PostgreSQL advisory locks held to
//! its commit, so that batches on different nodes neither interleave on a
//! key nor deadlock. SQLite has one writer at a time anyway. If a batch
//! fails, each of its jobs runs again in a transaction of its own, so that
//! one bad job fails alone.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::r2d2::R2D2Connection;
use diesel::sql_types::{Array, Text};
use tokio::sync::oneshot;

use super::{ConnectionManager, DbConnection};
use crate::config::DatabaseUrl;
use crate::error::ApiError;

/// Jobs committed in one transaction at most.
pub(crate) const MAX_BATCH: usize = 256;

/// Jobs waiting for the ledger at most; past that a write is refused (503)
/// rather than queued behind seconds of others.
pub(crate) const MAX_QUEUED: usize = 4096;

/// How long the ledger waits before opening its connection again after
/// failing to.
const RECONNECT_PAUSE: Duration = Duration::from_millis(200);

/// What the ledger has done, for `/metrics`.
#[derive(Debug, Default)]
pub struct LedgerCounts {
    /// Jobs answered (committed or failed).
    pub jobs: AtomicU64,
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Batches that failed and were run again job by job.
    pub retried: AtomicU64,
}

/// The handle requests use to hand the ledger a write.
#[derive(Clone)]
pub struct Ledger {
    queues: Arc<[SyncSender<Box<dyn Job>>]>,
    counts: Arc<LedgerCounts>,
}

impl Ledger {
    /// Starts `writers` threads, each with its own queue and its own
    /// connection opened through `manager`. A write goes to the writer its
    /// first key hashes to, so that the writes of one meter are always
    /// batched by one writer and never wait for another's batch. SQLite
    /// takes one writer (it has one writer at a time anyway). The threads
    /// end when the last handle is dropped.
    pub fn start(manager: ConnectionManager, writers: usize) -> std::io::Result<Self> {
        let counts = Arc::new(LedgerCounts::default());
        let mut queues = Vec::new();
        for n in 0..writers.max(1) {
            let (queue, jobs) = mpsc::sync_channel(MAX_QUEUED);
            let writer = Writer {
                manager: manager.clone(),
                conn: None,
                counts: Arc::clone(&counts),
            };
            std::thread::Builder::new()
                .name(format!("ledger-{n}"))
                .spawn(move || writer.serve(&jobs))?;
            queues.push(queue);
        }
        Ok(Self {
            queues: queues.into(),
            counts,
        })
    }

    /// What the ledger has done so far.
    pub fn counts(&self) -> &LedgerCounts {
        &self.counts
    }

    /// Runs `work` in the next batch, holding the locks of `keys`, and
    /// answers once the batch has committed. `work` may run more than once
    /// (again, alone, when its batch fails), always in a transaction that
    /// is rolled back if it fails, so it must only read and write the
    /// database.
    pub async fn write<T, F>(&self, keys: Vec<String>, work: F) -> Result<T, ApiError>
    where
        F: FnMut(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let writer = keys.first().map_or(0, |key| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            key.hash(&mut hasher);
            usize::try_from(hasher.finish() % self.queues.len() as u64).unwrap_or(0)
        });
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            keys,
            work,
            value: None,
            reply,
        });
        let Some(queue) = self.queues.get(writer) else {
            return Err(ApiError::Internal("the meter ledger has no writers".into()));
        };
        match queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(ApiError::Unavailable("the meter ledger is full".into()));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::Internal("the meter ledger has stopped".into()));
            }
        }
        answer
            .await
            .map_err(|_| ApiError::Internal("the meter ledger dropped a write".into()))?
    }
}

/// A write waiting in the ledger, with the request that waits for it.
trait Job: Send {
    fn keys(&self) -> &[String];
    /// Runs the work, keeping its value until the batch commits.
    fn run(&mut self, conn: &mut DbConnection) -> Result<(), ApiError>;
    /// Answers the request: the kept value, or `failure`.
    fn settle(self: Box<Self>, failure: Option<ApiError>);
}

struct Pending<T, F> {
    keys: Vec<String>,
    work: F,
    value: Option<T>,
    reply: oneshot::Sender<Result<T, ApiError>>,
}

impl<T, F> Job for Pending<T, F>
where
    F: FnMut(&mut DbConnection) -> Result<T, ApiError> + Send,
    T: Send,
{
    fn keys(&self) -> &[String] {
        &self.keys
    }

    fn run(&mut self, conn: &mut DbConnection) -> Result<(), ApiError> {
        self.value = None;
        self.value = Some((self.work)(conn)?);
        Ok(())
    }

    fn settle(self: Box<Self>, failure: Option<ApiError>) {
        let answer = match (failure, self.value) {
            (Some(error), _) => Err(error),
            (None, Some(value)) => Ok(value),
            (None, None) => Err(ApiError::Internal("a ledger job never ran".into())),
        };
        // The request may have gone (the client hung up): nothing to answer.
        let _ = self.reply.send(answer);
    }
}

/// The ledger's thread: its connection, and the loop that drains the queue.
struct Writer {
    manager: ConnectionManager,
    conn: Option<DbConnection>,
    counts: Arc<LedgerCounts>,
}

impl Writer {
    fn serve(mut self, jobs: &Receiver<Box<dyn Job>>) {
        while let Ok(first) = jobs.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            self.commit(batch);
        }
    }

    fn connection(&mut self) -> Result<&mut DbConnection, ApiError> {
        if self.conn.as_mut().is_some_and(|conn| conn.is_broken()) {
            self.conn = None;
        }
        match &mut self.conn {
            Some(conn) => Ok(conn),
            empty => match open_durable(&self.manager) {
                Ok(conn) => Ok(empty.insert(conn)),
                Err(error) => {
                    tracing::error!(%error, "the meter ledger cannot open its connection");
                    std::thread::sleep(RECONNECT_PAUSE);
                    Err(ApiError::Unavailable(error.to_string().into()))
                }
            },
        }
    }

    fn commit(&mut self, mut batch: Vec<Box<dyn Job>>) {
        let jobs = batch.len() as u64;
        let conn = match self.connection() {
            Ok(conn) => conn,
            Err(error) => {
                for job in batch {
                    job.settle(Some(ApiError::Unavailable(error.to_string().into())));
                }
                self.counts.jobs.fetch_add(jobs, Ordering::Relaxed);
                return;
            }
        };
        let together = super::transaction(conn, |conn| {
            lock_keys(conn, batch.iter().flat_map(|job| job.keys()))?;
            batch.iter_mut().try_for_each(|job| job.run(conn))
        });
        match together {
            Ok(()) => {
                self.counts.commits.fetch_add(1, Ordering::Relaxed);
                for job in batch {
                    job.settle(None);
                }
            }
            Err(error) if jobs == 1 => {
                if let Some(job) = batch.pop() {
                    job.settle(Some(error));
                }
            }
            Err(error) => {
                tracing::warn!(%error, jobs, "a ledger batch failed; its jobs run one by one");
                self.counts.retried.fetch_add(1, Ordering::Relaxed);
                for mut job in batch {
                    let alone = match self.connection() {
                        Ok(conn) => super::transaction(conn, |conn| {
                            lock_keys(conn, job.keys().iter())?;
                            job.run(conn)
                        }),
                        Err(error) => Err(error),
                    };
                    if alone.is_ok() {
                        self.counts.commits.fetch_add(1, Ordering::Relaxed);
                    }
                    job.settle(alone.err());
                }
            }
        }
        self.counts.jobs.fetch_add(jobs, Ordering::Relaxed);
    }
}

/// Opens the ledger's connection. On SQLite every commit of this connection
/// waits for the log to reach the disk (`synchronous = FULL`): an answered
/// meter read survives a power cut, not only a crash of the process.
/// PostgreSQL's default `synchronous_commit = on` already does.
fn open_durable(manager: &ConnectionManager) -> Result<DbConnection, super::ConnectError> {
    let mut conn = manager.open()?;
    if let DbConnection::Sqlite(sqlite) = &mut conn {
        sqlite.batch_execute("PRAGMA synchronous = FULL;")?;
    }
    Ok(conn)
}

/// How many writers the ledger runs for `url`: one on SQLite, which has one
/// writer at a time; on PostgreSQL one per core, from 2 to 8, so that a
/// server across a network (a round trip per statement) is kept busy. On
/// two cores with the server on the same machine, one writer made larger
/// batches and was a little faster (1,742 against 1,285 metered reads/s,
/// bench/run.py), but one writer a round trip away would be slow.
pub(crate) fn writers_for(url: &DatabaseUrl) -> usize {
    match url {
        DatabaseUrl::Sqlite(_) => 1,
        DatabaseUrl::Postgres(_) => {
            let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
            cores.clamp(2, 8)
        }
    }
}

/// How long a job waits for a key it did not name up front.
const LATE_LOCK_WAIT: Duration = Duration::from_millis(200);

/// Inside a job: takes the lock of one more `key` than the job named up
/// front, for a job that finds out only while running that it needs it.
/// It only ever tries, never waits in the database (waiting there, with
/// the batch's other locks held, could deadlock with another writer), and
/// gives up with a 503 after [`LATE_LOCK_WAIT`].
pub(crate) fn lock_late(conn: &mut DbConnection, key: &str) -> Result<(), ApiError> {
    let DbConnection::Postgres(pg) = conn else {
        return Ok(());
    };
    let started = std::time::Instant::now();
    loop {
        let held: Locked =
            diesel::sql_query("SELECT pg_try_advisory_xact_lock(hashtext($1)) AS held")
                .bind::<Text, _>(key)
                .get_result(pg)?;
        if held.held {
            return Ok(());
        }
        if started.elapsed() > LATE_LOCK_WAIT {
            return Err(ApiError::Unavailable(
                format!("the lock of {key} is busy").into(),
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    held: bool,
}

/// Takes PostgreSQL's transaction-scoped advisory lock of every key, in the
/// order of the keys' hashes, so that two batches holding some keys each
/// can never wait for each other. The hash is the one `meter` locks a
/// reader by, so single writes outside the ledger serialise with it.
fn lock_keys<'k>(
    conn: &mut DbConnection,
    keys: impl Iterator<Item = &'k String>,
) -> Result<(), ApiError> {
    if let DbConnection::Postgres(pg) = conn {
        let keys: Vec<&String> = keys.collect();
        if keys.is_empty() {
            return Ok(());
        }
        diesel::sql_query(
            "SELECT pg_advisory_xact_lock(k) FROM \
             (SELECT DISTINCT hashtext(x) AS k FROM unnest($1::text[]) AS x ORDER BY k) AS keys",
        )
        .bind::<Array<Text>, _>(keys)
        .execute(pg)?;
    }
    Ok(())
}

//! The database: one connection type over SQLite and PostgreSQL, the pool,
//! migrations, and the bridge that runs blocking queries off the async workers.

pub mod api_keys;
pub mod articles;
pub mod audit;
pub mod catalogue;
pub mod housekeeping;
pub mod ledger;
pub mod login_failures;
pub mod meter;
pub mod newsletters;
pub mod outbox;
pub mod plans;
pub mod readership;
pub mod refresh_tokens;
pub mod schema;
pub mod search;
pub mod subscriptions;
pub mod users;
pub mod visibility;

use std::time::Duration;

use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{Connection, ConnectionError, PgConnection, RunQueryDsl, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseUrl;
use crate::error::ApiError;

/// What a query returns, and how it fails: the names callers outside `db`
/// use, so that only `db` speaks diesel.
pub use diesel::result::{Error as QueryError, QueryResult};

/// A connection to whichever backend `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL, for production.
    Postgres(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
}

/// Runs `work` in a transaction that writes. On SQLite the outermost one
/// begins IMMEDIATE, taking the write lock up front: a deferred transaction
/// that reads and then writes fails at once with "database is locked" when
/// another connection wrote in between (the busy timeout does not apply to
/// that upgrade), which under concurrent writers turned into 503s. Nested
/// calls are savepoints, as with `Connection::transaction`.
pub(crate) fn transaction<T, E>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let outermost_sqlite = match conn {
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::transaction_manager_status_mut(inner)
                .transaction_depth()?
                .is_none()
        }
        DbConnection::Postgres(_) => false,
    };
    if !outermost_sqlite {
        return conn.transaction(work);
    }
    AnsiTransactionManager::begin_transaction_sql(sqlite(conn)?, "BEGIN IMMEDIATE")?;
    match work(conn) {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(sqlite(conn)?)?;
            Ok(value)
        }
        Err(e) => {
            AnsiTransactionManager::rollback_transaction(sqlite(conn)?)?;
            Err(e)
        }
    }
}

fn sqlite(conn: &mut DbConnection) -> Result<&mut SqliteConnection, diesel::result::Error> {
    match conn {
        DbConnection::Sqlite(inner) => Ok(inner),
        DbConnection::Postgres(_) => Err(diesel::result::Error::NotInTransaction),
    }
}

/// The pool every request borrows from.
pub type DbPool = r2d2::Pool<ConnectionManager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Key of the PostgreSQL advisory lock held while migrating, so that nodes
/// starting together do not migrate at once.
const MIGRATION_LOCK_KEY: i64 = 0x6e65_7773_6465_736b; // "newsdesk"

/// Settings applied to every SQLite connection. A writer waits at most
/// 1.5 s for another's lock (ours take milliseconds), so a file locked by
/// someone else is a 503 within 2 s rather than a hung request.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 1500; PRAGMA synchronous = NORMAL;";

/// Opens connections for the pool, choosing the backend by URL and saying
/// why a connection failed (the derive's own `establish` hides it).
#[derive(Clone, Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    connect_timeout: Duration,
}

/// Why a connection could not be opened or prepared.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The server or file could not be reached.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// The connection opened but could not be prepared or checked.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

impl ConnectionManager {
    /// A manager for `url`; PostgreSQL connection attempts give up after `connect_timeout`.
    pub fn new(url: DatabaseUrl, connect_timeout: Duration) -> Self {
        Self {
            url,
            connect_timeout,
        }
    }

    /// Opens one connection, outside any pool.
    pub fn open(&self) -> Result<DbConnection, ConnectError> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)?;
                conn.batch_execute(SQLITE_PRAGMAS)?;
                search::register_deadline(&conn)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let url = with_connect_timeout(url, self.connect_timeout);
                Ok(DbConnection::Postgres(PgConnection::establish(&url)?))
            }
        }
    }
}

/// Adds libpq's `connect_timeout` (whole seconds, at least 1) unless the URL sets one.
fn with_connect_timeout(url: &str, timeout: Duration) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    let secs = timeout.as_secs().max(1);
    format!("{url}{separator}connect_timeout={secs}")
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConnection, ConnectError> {
        self.open()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectError> {
        Ok(conn.ping()?)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Builds the pool without connecting: a database that is down at start-up
/// surfaces when migrations run, with its real error.
pub fn build_pool(url: DatabaseUrl, size: u32, timeout: Duration) -> DbPool {
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(timeout)
        .build_unchecked(ConnectionManager::new(url, timeout))
}

/// Applies every pending migration for the connection's backend; returns how many ran.
pub(crate) fn run_migrations(
    conn: &mut DbConnection,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    match conn {
        DbConnection::Sqlite(conn) => Ok(conn.run_pending_migrations(SQLITE_MIGRATIONS)?.len()),
        DbConnection::Postgres(conn) => {
            let lock = |sql: &str, conn: &mut PgConnection| {
                diesel::sql_query(sql)
                    .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK_KEY)
                    .execute(conn)
            };
            lock("SELECT pg_advisory_lock($1)", conn)?;
            let applied = conn
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| versions.len());
            lock("SELECT pg_advisory_unlock($1)", conn)?;
            applied
        }
    }
}

/// Inside a transaction: waits until no other node is setting up the same
/// database (migrating, or adding demo content), so that nodes started
/// together do it once. PostgreSQL holds an advisory lock to the end of the
/// transaction; on SQLite the IMMEDIATE transaction already excludes others.
pub(crate) fn lock_for_setup(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    if let DbConnection::Postgres(conn) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK_KEY)
            .execute(conn)?;
    }
    Ok(())
}

/// The handle requests use to reach the database.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
}

impl Db {
    /// Wraps a pool.
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    /// The underlying pool, for start-up tasks and metrics.
    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Runs `work` with a pooled connection on the blocking thread pool, so
    /// neither waiting for a connection nor the query ever blocks an async worker.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }
}

/// Whether a write failed on a unique constraint (a slug, an email, a
/// code already taken), which handlers answer with a 409.
pub(crate) fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Asks the database for nothing, to learn that it answers.
pub(crate) fn ping(conn: &mut DbConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT 1").execute(conn).map(|_| ())
}

/// A failed query is a 503 when retrying later can help, else a 500.
impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        let unavailable = match &err {
            Error::DatabaseError(kind, info) => {
                matches!(
                    kind,
                    Kind::ClosedConnection | Kind::UnableToSendCommand | Kind::ReadOnlyTransaction
                ) || is_transient_message(info.message())
            }
            Error::BrokenTransactionManager => true,
            _ => false,
        };
        if unavailable {
            Self::Unavailable(err.into())
        } else {
            Self::Internal(err.into())
        }
    }
}

/// Failures that go away by themselves: a busy or read-only SQLite file, a
/// PostgreSQL server shutting down.
fn is_transient_message(message: &str) -> bool {
    const TRANSIENT: [&str; 7] = [
        "database is locked",
        "database table is locked",
        "readonly database",
        "disk I/O error",
        "terminating connection",
        "server closed the connection",
        "the database system is",
    ];
    TRANSIENT.iter().any(|needle| message.contains(needle))
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(err.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locked_or_read_only_sqlite_file_is_unavailable_not_a_bug() {
        for message in [
            "database is locked",
            "attempt to write a readonly database",
            "disk I/O error",
        ] {
            let err = diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::Unknown,
                Box::new(message.to_owned()),
            );
            assert_eq!(
                ApiError::from(err).code(),
                "service_unavailable",
                "{message}"
            );
        }
        let other = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new("no such column: x".to_owned()),
        );
        assert_eq!(ApiError::from(other).code(), "internal_error");
    }

    #[test]
    fn a_connect_timeout_is_added_once() {
        let t = Duration::from_millis(2500);
        assert_eq!(
            with_connect_timeout("postgres://u@h/db", t),
            "postgres://u@h/db?connect_timeout=2"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?sslmode=require", t),
            "postgres://u@h/db?sslmode=require&connect_timeout=2"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?connect_timeout=9", t),
            "postgres://u@h/db?connect_timeout=9"
        );
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let names = |dir: &str| {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let sqlite = names(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"));
        let postgres = names(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"));
        assert!(!sqlite.is_empty());
        assert_eq!(
            sqlite, postgres,
            "migrations/sqlite and migrations/postgres must match"
        );
    }
}

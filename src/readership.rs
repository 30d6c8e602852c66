//! Counting views without a database write per read: reads add to an
//! in-memory tally, and a background task adds the tally to the hourly
//! counters every few seconds, and once more when the server stops.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use chrono::NaiveDateTime;

use crate::db::{DbConnection, readership};
use crate::domain::readership::hour_of;

/// Views counted since the last flush, per (article, hour).
#[derive(Debug, Default)]
pub struct ViewCounter {
    pending: Mutex<HashMap<(i64, NaiveDateTime), u32>>,
}

impl ViewCounter {
    fn pending(&self) -> MutexGuard<'_, HashMap<(i64, NaiveDateTime), u32>> {
        // A panic while holding the lock cannot leave the map inconsistent:
        // every update is a single insert or increment.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one view of `article_id` at `at`.
    pub fn record(&self, article_id: i64, at: NaiveDateTime) {
        let mut pending = self.pending();
        let count = pending.entry((article_id, hour_of(at))).or_insert(0);
        *count = count.saturating_add(1);
    }

    /// Views waiting to be written.
    pub fn pending_total(&self) -> u64 {
        self.pending().values().map(|&v| u64::from(v)).sum()
    }

    /// Writes what was counted; on failure the counts go back in the tally
    /// for the next attempt, so nothing is lost to a database outage.
    pub fn flush(&self, conn: &mut DbConnection) -> diesel::QueryResult<u64> {
        let batch = std::mem::take(&mut *self.pending());
        if batch.is_empty() {
            return Ok(0);
        }
        match readership::add_views(conn, &batch) {
            Ok(()) => Ok(batch.values().map(|&v| u64::from(v)).sum()),
            Err(e) => {
                let mut pending = self.pending();
                for (key, views) in batch {
                    let count = pending.entry(key).or_insert(0);
                    *count = count.saturating_add(views);
                }
                Err(e)
            }
        }
    }
}

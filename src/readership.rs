//! Counting views without a database write per read: reads add to an
//! in-memory tally, and a background task adds the tally to the hourly
//! counters every few seconds, and once more when the server stops.
//!
//! A reader counts at most once per article per clock hour on each node
//! (a signed-in account, an API key, or an anonymous client address: not
//! the meter token, which anyone can drop to look new), so one account or
//! one address cannot push an article up "most read". Readers already seen
//! are remembered in a fixed-size bitmap keyed with a secret hash: memory
//! stays bounded however many readers come, at the price of now and then
//! missing a real first view when two readers share a bit.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};

use chrono::NaiveDateTime;

use crate::db::{DbConnection, readership};
use crate::domain::id::ArticleId;
use crate::domain::readership::hour_of;

/// Bits in the bitmap of (reader, article) pairs seen this hour: 1 MiB;
/// 100,000 distinct pairs in an hour collide on about 1% of first views.
const SEEN_BITS: usize = 1 << 23;

/// Views counted since the last flush, per (article, hour).
#[derive(Debug)]
pub struct ViewCounter {
    pending: Mutex<HashMap<(i64, NaiveDateTime), u32>>,
    seen: Mutex<Seen>,
    hasher: std::collections::hash_map::RandomState,
}

#[derive(Debug)]
struct Seen {
    hour: Option<NaiveDateTime>,
    bits: Vec<u64>,
}

impl Default for ViewCounter {
    fn default() -> Self {
        Self {
            pending: Mutex::default(),
            seen: Mutex::new(Seen {
                hour: None,
                bits: vec![0; SEEN_BITS / 64],
            }),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }
}

impl ViewCounter {
    fn pending(&self) -> MutexGuard<'_, HashMap<(i64, NaiveDateTime), u32>> {
        // A panic while holding the lock cannot leave the map inconsistent:
        // every update is a single insert or increment.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one view of `article_id` by `reader` at `at`, unless this
    /// reader was already counted for it this hour.
    pub(crate) fn record(&self, article_id: ArticleId, reader: &str, at: NaiveDateTime) {
        let hour = hour_of(at);
        let hash = self.hasher.hash_one((article_id, reader));
        let bit = usize::try_from(hash % SEEN_BITS as u64).unwrap_or(0);
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if seen.hour != Some(hour) {
                seen.hour = Some(hour);
                seen.bits.fill(0);
            }
            let (word, mask) = (bit / 64, 1u64 << (bit % 64));
            if seen.bits[word] & mask != 0 {
                return;
            }
            seen.bits[word] |= mask;
        }
        let mut pending = self.pending();
        let count = pending.entry((article_id.get(), hour)).or_insert(0);
        *count = count.saturating_add(1);
    }

    /// Views waiting to be written.
    pub fn pending_total(&self) -> u64 {
        self.pending().values().map(|&v| u64::from(v)).sum()
    }

    /// Writes what was counted; on failure the counts go back in the tally
    /// for the next attempt, so nothing is lost to a database outage.
    pub fn flush(&self, conn: &mut DbConnection) -> crate::db::QueryResult<u64> {
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

/// Marks a response as a read of this article, so that a cached copy served
/// later still counts as a view.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ArticleRead(pub ArticleId);

//! Who may make how many requests: API keys (shared per-minute counters in
//! the database, so every node sees the same count), signed-in accounts (per
//! account) and everyone else (per client address, an IPv6 /64), the last
//! two counted in memory on each node.
//!
//! Every response to a counted request carries the IETF `RateLimit-Policy`
//! and `RateLimit` header fields; a request over the allowance gets 429
//! with `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::http::header::HeaderName;
use chrono::NaiveDateTime;

use crate::domain::api_key::window_start;

/// The header third parties send their key in.
pub(crate) static API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// A request made with a valid API key.
#[derive(Clone, Debug)]
pub(crate) struct ApiClient {
    /// The key's id.
    pub key_id: i64,
    /// Whether the key carries the syndication licence (`content:full`).
    pub full_licence: bool,
}

/// Who a request is, for limits and the response cache, decided once before
/// any handler: a request counts as signed in only with a valid access token
/// on an operation that takes one, and as keyed only with a valid API key.
/// Everything else is anonymous, whatever headers it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Identity {
    /// No valid credentials: limited per client address.
    Anonymous,
    /// A valid access token of this user id: limited per account.
    User(i64),
    /// A valid API key: limited by the key's own allowance.
    Key(i64),
}

/// Most keys one window counts; past that, new keys go uncounted until the
/// next minute, so a flood of fresh addresses can neither grow the map
/// without end nor, by filling it, throttle every client that comes after
/// (a client with that many addresses is not held back by a per-address
/// limit anyway).
const MAX_TRACKED: usize = 100_000;

/// Request counts per key (a client address or an account id, as a number:
/// counting allocates nothing) for the current minute, on this node.
#[derive(Debug, Default)]
pub struct WindowCounter {
    windows: Mutex<(NaiveDateTime, HashMap<u128, u32>)>,
}

impl WindowCounter {
    /// Counts a request by `key` at `now`; returns the count this minute.
    pub fn hit(&self, key: u128, now: NaiveDateTime) -> u32 {
        let window = window_start(now);
        let mut guard = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let (current, counts) = &mut *guard;
        if *current != window {
            *current = window;
            counts.clear();
        }
        if counts.len() >= MAX_TRACKED && !counts.contains_key(&key) {
            return 1;
        }
        let count = counts.entry(key).or_insert(0);
        *count = count.saturating_add(1);
        *count
    }
}

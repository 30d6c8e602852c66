//! The paywall's meter on one read: decide from what the meter holds, and
//! count a new metered article through the ledger.
//!
//! Deciding only reads, so it runs on any pooled connection. Most reads end
//! there: free articles, readers the meter does not apply to, an article
//! already counted this month, a meter already spent, a HEAD. Only a read
//! that adds an article to the meter becomes a [`Count`], which the ledger
//! runs under the meter's lock, deciding again from what the meter holds
//! then, so that concurrent reads (on any node) never pass the allowance.

use chrono::NaiveDateTime;

use crate::db::{DbConnection, ledger, meter};
use crate::domain::article::AccessLevel;
use crate::domain::id::ArticleId;
use crate::domain::paywall::{self, Access, MeterState, Reader};
use crate::error::ApiError;
use crate::views::MeterView;

/// The meter a read goes through.
#[derive(Clone, Debug)]
pub struct Whose {
    /// The kind of reader.
    pub reader: Reader,
    /// The meter's key: `user:<id>` or `anon:<token id>`.
    pub key: String,
    /// Minted for this request: nothing read yet.
    pub fresh: bool,
    /// The client address's key, which anonymous meters are started from.
    pub address: String,
    /// The id of the meter the address's readers share once it has started
    /// more than `starts_allowed` meters this month.
    pub shared: String,
    /// Anonymous meters one address may start in a month.
    pub starts_allowed: i64,
    /// A HEAD: decide as a GET would, but count nothing.
    pub head: bool,
}

/// What the paywall made of a read.
#[derive(Clone, Debug)]
pub struct Reading {
    /// What the reader gets.
    pub access: Access,
    /// The meter as it stands after the read, for readers who have one.
    pub view: Option<MeterView>,
    /// The read went through the address's shared meter: the reader must
    /// be handed that meter's token.
    pub moved: bool,
}

/// Where deciding a read ends.
#[derive(Debug)]
pub(crate) enum Step {
    /// Nothing to count: the reading is final.
    Decided(Reading),
    /// A new metered article to count, through the ledger.
    Count(Count),
}

/// One read to count on the meter: the ledger runs it.
#[derive(Clone, Debug)]
pub struct Count {
    whose: Whose,
    level: AccessLevel,
    article_id: ArticleId,
    limit: i64,
    now: NaiveDateTime,
}

/// Decides one read from what the meter holds, without writing.
pub(crate) fn decide(
    conn: &mut DbConnection,
    level: AccessLevel,
    article_id: ArticleId,
    whose: Whose,
    limit: i64,
    now: NaiveDateTime,
) -> Result<Step, ApiError> {
    let limit_u32 = u32::try_from(limit).unwrap_or(u32::MAX);
    // Free articles are the same for everyone: no meter to show or count.
    if !paywall::is_metered(whose.reader) || level == AccessLevel::Free {
        let nothing = MeterState {
            limit: limit_u32,
            used: 0,
            already_read: false,
        };
        let access = paywall::decide(level, whose.reader, nothing).access;
        return Ok(Step::Decided(Reading {
            access,
            view: None,
            moved: false,
        }));
    }
    let month = paywall::month_of(now);
    // Only a metered article needs to know whether it was read before; for
    // the others the meter is shown but never consulted. A meter minted for
    // this very request has read nothing yet.
    let (used, already_read) = if whose.fresh {
        (0, false)
    } else if level == AccessLevel::Metered {
        meter::state(conn, &whose.key, &month, article_id)?
    } else {
        (meter::used(conn, &whose.key, &month)?, false)
    };
    let held = MeterState {
        limit: limit_u32,
        used: u32::try_from(used).unwrap_or(u32::MAX),
        already_read,
    };
    let decision = paywall::decide(level, whose.reader, held);
    if whose.head || !decision.count_it {
        return Ok(Step::Decided(Reading {
            access: decision.access,
            view: Some(MeterView::new(limit, used, paywall::resets_at(now))),
            moved: false,
        }));
    }
    Ok(Step::Count(Count::new(
        whose, level, article_id, limit, now,
    )))
}

impl Count {
    /// A read to decide and count in the ledger, without deciding it first
    /// (see [`decide`]): for a read that needs nothing else from the database.
    pub fn new(
        whose: Whose,
        level: AccessLevel,
        article_id: ArticleId,
        limit: i64,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            whose,
            level,
            article_id,
            limit,
            now,
        }
    }

    fn shared_key(&self) -> String {
        format!("anon:{}", self.whose.shared)
    }

    fn address_key(&self) -> String {
        format!("addr:{}", self.whose.address)
    }

    /// The keys the ledger serialises this count on: the meter, and for a
    /// meter minted for this read, the address it starts from and the
    /// address's shared meter it may move to. (An older meter that turns
    /// out to start this month takes those two while it runs.)
    pub fn keys(&self) -> Vec<String> {
        let mut keys = vec![self.whose.key.clone()];
        if self.whose.reader == Reader::Anonymous && self.whose.fresh {
            keys.push(self.shared_key());
            keys.push(self.address_key());
        }
        keys
    }

    /// Counts the read, holding the locks of [`Count::keys`]: decides again
    /// from what the meter holds now, and adds the article when the meter
    /// still allows it; a race lost at the limit turns into a preview.
    ///
    /// An anonymous meter that has never counted a read is a new meter,
    /// whoever minted its token and when: its first counted read counts as
    /// a meter started by the client's address. Past `starts_allowed` this
    /// month, the read goes through the address's shared meter instead, and
    /// the reader must be handed that meter's token. A meter that counted
    /// reads in an earlier month is a returning reader and keeps its own.
    pub fn run(&self, conn: &mut DbConnection) -> Result<Reading, ApiError> {
        let Whose {
            reader,
            ref key,
            fresh,
            ref address,
            starts_allowed,
            ..
        } = self.whose;
        let shared_key = self.shared_key();
        let month = paywall::month_of(self.now);
        let limit_u32 = u32::try_from(self.limit).unwrap_or(u32::MAX);
        let held_by = |conn: &mut DbConnection, key: &str| -> Result<MeterState, ApiError> {
            let (used, already_read) = if fresh && key == self.whose.key {
                (0, false)
            } else {
                meter::state(conn, key, &month, self.article_id)?
            };
            Ok(MeterState {
                limit: limit_u32,
                used: u32::try_from(used).unwrap_or(u32::MAX),
                already_read,
            })
        };
        let (mut key, mut moved) = (key.as_str(), false);
        let mut held = held_by(conn, key)?;
        let mut decision = paywall::decide(self.level, reader, held);
        let may_start = decision.count_it
            && reader == Reader::Anonymous
            && held.used == 0
            && *key != shared_key;
        if may_start && !fresh {
            ledger::lock_late(conn, &self.address_key())?;
            ledger::lock_late(conn, &shared_key)?;
        }
        let new_meter = may_start && (fresh || !meter::returning(conn, key, &month)?);
        let over_allowance =
            new_meter && meter::count_start(conn, address, &month)? > starts_allowed;
        if new_meter && !over_allowance {
            meter::remember(conn, key, &month)?;
        }
        if over_allowance {
            key = &shared_key;
            moved = true;
            held = held_by(conn, key)?;
            decision = paywall::decide(self.level, reader, held);
        }
        let mut used = i64::from(held.used);
        if decision.count_it {
            meter::count(conn, key, &month, self.article_id, self.now)?;
            used += 1;
        }
        Ok(Reading {
            access: decision.access,
            view: Some(MeterView::new(
                self.limit,
                used,
                paywall::resets_at(self.now),
            )),
            moved,
        })
    }
}

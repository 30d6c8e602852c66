//! The closed vocabularies of an article (kind, status and access level)
//! and its lifecycle: how publishing, unpublishing and archiving move it.

use chrono::NaiveDateTime;

text_enum! {
    /// What sort of journalism an article is.
    ArticleKind {
        /// Reporting of events.
        News => "news",
        /// Explanation and context.
        Analysis => "analysis",
        /// A signed point of view.
        Opinion => "opinion",
        /// A video report; `video_url` points at the video.
        Video => "video",
    }
}

text_enum! {
    /// Where an article is in its editorial life.
    ArticleStatus {
        /// Being written; never public.
        Draft => "draft",
        /// Waiting for its `publish_at` time.
        Scheduled => "scheduled",
        /// Public.
        Published => "published",
        /// Withdrawn from listings.
        Archived => "archived",
    }
}

text_enum! {
    /// Who may read an article's whole body.
    AccessLevel {
        /// Everyone; never counts against the meter.
        Free => "free",
        /// Subscribers, and others while their monthly meter allows.
        Metered => "metered",
        /// Subscribers only.
        Premium => "premium",
    }
}

/// Average adult silent-reading speed used for reading times, in words per minute.
pub(crate) const WORDS_PER_MINUTE: usize = 230;

/// Minutes needed to read `word_count` words, rounded up, never less than one.
pub fn reading_time_minutes(word_count: usize) -> usize {
    word_count.div_ceil(WORDS_PER_MINUTE).max(1)
}

/// An editor's move of an article through its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transition {
    /// Publish now (`None`) or at a time; a time in the future schedules it.
    Publish(Option<NaiveDateTime>),
    /// Back to draft, off the site.
    Unpublish,
    /// Withdrawn from the site and from lists, kept for the record.
    Archive,
}

/// Where a transition leads: the status and publication time to store, and
/// the audit trail's name for the move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Moved {
    /// The status to store (`published` for a scheduled article too).
    pub status: ArticleStatus,
    /// When it is (or was, or will be) public.
    pub published_at: Option<NaiveDateTime>,
    /// `article.publish`, `article.schedule`, `article.unpublish` or `article.archive`.
    pub action: &'static str,
}

impl Transition {
    /// Applies the move to an article that is `status` (as shown: a
    /// published article dated in the future is `Scheduled`) with
    /// `published_at`. Publishing an article that is already live keeps its
    /// publication time, so republishing never reorders the front page;
    /// archiving keeps the time it was published; unpublishing forgets it.
    pub(crate) fn apply(
        self,
        status: ArticleStatus,
        published_at: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> Moved {
        let live_since = published_at.filter(|at| status == ArticleStatus::Published && *at <= now);
        let (status, published_at, action) = match self {
            Self::Publish(Some(at)) if at > now => {
                (ArticleStatus::Published, Some(at), "article.schedule")
            }
            Self::Publish(Some(at)) => (ArticleStatus::Published, Some(at), "article.publish"),
            Self::Publish(None) => (
                ArticleStatus::Published,
                Some(live_since.unwrap_or(now)),
                "article.publish",
            ),
            Self::Unpublish => (ArticleStatus::Draft, None, "article.unpublish"),
            Self::Archive => (ArticleStatus::Archived, published_at, "article.archive"),
        };
        Moved {
            status,
            published_at,
            action,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_text() {
        for kind in ArticleKind::ALL {
            assert_eq!(kind.as_str().parse::<ArticleKind>().unwrap(), *kind);
        }
        for status in ArticleStatus::ALL {
            assert_eq!(status.as_str().parse::<ArticleStatus>().unwrap(), *status);
        }
        for level in AccessLevel::ALL {
            assert_eq!(level.as_str().parse::<AccessLevel>().unwrap(), *level);
        }
    }

    #[test]
    fn unknown_text_is_refused() {
        let err = "podcast".parse::<ArticleKind>().unwrap_err();
        assert_eq!(err.to_string(), "`podcast` is not a known ArticleKind");
        assert!("Published".parse::<ArticleStatus>().is_err());
    }

    #[test]
    fn reading_time_rounds_up_and_is_at_least_a_minute() {
        assert_eq!(reading_time_minutes(0), 1);
        assert_eq!(reading_time_minutes(230), 1);
        assert_eq!(reading_time_minutes(231), 2);
        assert_eq!(reading_time_minutes(1200), 6);
    }

    #[test]
    fn the_lifecycle_moves_as_the_newsroom_expects() {
        use ArticleStatus::{Archived, Draft, Published, Scheduled};
        use Transition::{Archive, Publish, Unpublish};
        let at = |day: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 11, day)
                .and_then(|d| d.and_hms_opt(9, 0, 0))
                .unwrap()
        };
        let now = at(15);
        let (past, future) = (Some(at(1)), Some(at(20)));
        // (status, published_at, transition) -> (status, published_at, action)
        let table = [
            (
                (Draft, None, Publish(None)),
                (Published, Some(now), "article.publish"),
            ),
            (
                (Published, past, Publish(None)),
                (Published, past, "article.publish"),
            ),
            (
                (Scheduled, future, Publish(None)),
                (Published, Some(now), "article.publish"),
            ),
            (
                (Archived, past, Publish(None)),
                (Published, Some(now), "article.publish"),
            ),
            (
                (Draft, None, Publish(future)),
                (Published, future, "article.schedule"),
            ),
            (
                (Published, past, Publish(future)),
                (Published, future, "article.schedule"),
            ),
            (
                (Draft, None, Publish(past)),
                (Published, past, "article.publish"),
            ),
            (
                (Draft, None, Publish(Some(now))),
                (Published, Some(now), "article.publish"),
            ),
            (
                (Published, past, Unpublish),
                (Draft, None, "article.unpublish"),
            ),
            (
                (Scheduled, future, Unpublish),
                (Draft, None, "article.unpublish"),
            ),
            ((Draft, None, Unpublish), (Draft, None, "article.unpublish")),
            (
                (Published, past, Archive),
                (Archived, past, "article.archive"),
            ),
            ((Draft, None, Archive), (Archived, None, "article.archive")),
            (
                (Scheduled, future, Archive),
                (Archived, future, "article.archive"),
            ),
        ];
        for ((status, published_at, change), (to, to_at, action)) in table {
            let moved = change.apply(status, published_at, now);
            assert_eq!(
                moved,
                Moved {
                    status: to,
                    published_at: to_at,
                    action
                },
                "{change:?} from {status:?} at {published_at:?}"
            );
        }
    }
}

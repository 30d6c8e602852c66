//! The closed vocabularies of an article: kind, status and access level.

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
pub const WORDS_PER_MINUTE: usize = 230;

/// Minutes needed to read `word_count` words, rounded up, never less than one.
pub fn reading_time_minutes(word_count: usize) -> usize {
    word_count.div_ceil(WORDS_PER_MINUTE).max(1)
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
}

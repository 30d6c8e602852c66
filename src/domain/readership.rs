//! Readership rules: which hour a view belongs to, and what "trending" means.

use chrono::{NaiveDateTime, Timelike};

/// The start of the hour containing `at`: views are counted per hour.
pub fn hour_of(at: NaiveDateTime) -> NaiveDateTime {
    at.date().and_hms_opt(at.hour(), 0, 0).unwrap_or(at)
}

/// Daily views below which a topic's own average does not count: a topic
/// read 2 times a day that gets 6 views is not "rising" threefold.
pub(crate) const TRENDING_FLOOR_PER_DAY: f64 = 10.0;

/// How much faster a topic is read in the last 24 hours than usual:
/// `views_24h / max(views_previous_7d / 7, TRENDING_FLOOR_PER_DAY)`.
pub(crate) fn trending_score(views_24h: i64, views_previous_7d: i64) -> f64 {
    let daily_average = views_previous_7d as f64 / 7.0;
    views_24h as f64 / daily_average.max(TRENDING_FLOOR_PER_DAY)
}

/// One topic's readership, as ranked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct TopicTrend {
    /// The topic.
    pub topic_id: i64,
    /// Views in the last 24 hours.
    pub views_24h: i64,
    /// Views in the 7 days before that.
    pub views_previous_7d: i64,
    /// [`trending_score`] of the two.
    pub score: f64,
}

/// The topics read in the last 24 hours, highest score first (then most
/// views, then lowest id), at most `limit`.
pub(crate) fn rank_trending(
    last_24h: &std::collections::HashMap<i64, i64>,
    previous_7d: &std::collections::HashMap<i64, i64>,
    limit: usize,
) -> Vec<TopicTrend> {
    let mut trends: Vec<TopicTrend> = last_24h
        .iter()
        .filter(|&(_, &views)| views > 0)
        .map(|(&topic_id, &views_24h)| {
            let views_previous_7d = previous_7d.get(&topic_id).copied().unwrap_or(0);
            TopicTrend {
                topic_id,
                views_24h,
                views_previous_7d,
                score: trending_score(views_24h, views_previous_7d),
            }
        })
        .collect();
    trends.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.views_24h.cmp(&a.views_24h))
            .then(a.topic_id.cmp(&b.topic_id))
    });
    trends.truncate(limit);
    trends
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn views_belong_to_the_start_of_their_hour() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
            .and_then(|d| d.and_hms_micro_opt(13, 59, 59, 999_999))
            .unwrap();
        assert_eq!(hour_of(at).to_string(), "2026-11-29 13:00:00");
    }

    #[test]
    fn a_topic_trends_against_its_own_average() {
        // 700 views in the previous week is 100 a day; 300 today is 3x.
        assert_eq!(trending_score(300, 700), 3.0);
        // Below the floor the floor counts: 30 views against 2 a day is 3x, not 15x.
        assert_eq!(trending_score(30, 14), 3.0);
        assert_eq!(trending_score(0, 700), 0.0);
    }

    #[test]
    fn rising_topics_outrank_big_steady_ones_and_tiny_ones_stay_down() {
        let last = HashMap::from([(1, 1000), (2, 300), (3, 6), (4, 0)]);
        let previous = HashMap::from([(1, 7000), (2, 700), (3, 0), (4, 700)]);
        let ranked: Vec<i64> = rank_trending(&last, &previous, 10)
            .iter()
            .map(|t| t.topic_id)
            .collect();
        // 2: 300/100 = 3; 1: 1000/1000 = 1; 3: 6/10 = 0.6; 4: not read today.
        assert_eq!(ranked, [2, 1, 3]);
        assert_eq!(rank_trending(&last, &previous, 1).len(), 1);
    }

    #[test]
    fn ties_go_to_the_more_read_topic() {
        let last = HashMap::from([(1, 20), (2, 40)]);
        let previous = HashMap::from([(1, 70), (2, 140)]);
        let ranked: Vec<i64> = rank_trending(&last, &previous, 10)
            .iter()
            .map(|t| t.topic_id)
            .collect();
        assert_eq!(ranked, [2, 1]);
    }
}

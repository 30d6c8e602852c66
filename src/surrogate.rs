//! `Surrogate-Key` tags on public responses, so that a CDN in front of the
//! API can purge exactly what an edit changed instead of everything.
//!
//! The keys, space-separated as Fastly and others read them:
//!
//! | key | on every public response that | purge when |
//! |---|---|---|
//! | `articles` | lists or counts published articles | an article is published, unpublished, rescheduled or deleted |
//! | `article-{id}` | shows article `{id}` (alone or in a list) | article `{id}` is edited |
//! | `topic-{slug}`, `author-{slug}`, `source-{slug}` | shows that topic, author or source (cards included) | it is renamed or edited |
//! | `topics`, `authors`, `sources`, `plans`, `newsletters` | lists them | one is added, edited or removed |
//!
//! Every type served through `public_json` says its own keys, so a new
//! public response cannot forget them.

use std::collections::BTreeSet;

use actix_web::HttpResponse;
use actix_web::http::header::{HeaderName, HeaderValue};

use crate::feeds::Feed;
use crate::views::{
    Article, ArticleList, ArticleSummary, Author, AuthorList, Home, PlanList, Source, SourceList,
    Topic, TopicList, TrendingTopicList,
};

/// The response header CDNs purge by.
pub(crate) static SURROGATE_KEY: HeaderName = HeaderName::from_static("surrogate-key");

/// Longest header written; a CDN refuses longer ones (Fastly: 16 KiB). A list
/// too long to tag each article keeps its collection key, which still purges it.
const MAX_HEADER: usize = 8 * 1024;

/// The keys of one response.
#[derive(Debug, Default)]
pub(crate) struct SurrogateKeys(BTreeSet<String>);

impl SurrogateKeys {
    /// Adds one key.
    pub fn add(&mut self, key: impl Into<String>) -> &mut Self {
        self.0.insert(key.into());
        self
    }

    /// Adds an article and everything its card shows.
    pub fn article(&mut self, summary: &ArticleSummary) -> &mut Self {
        self.add(format!("article-{}", summary.id));
        for topic in &summary.topics {
            self.add(format!("topic-{}", topic.slug));
        }
        for author in &summary.authors {
            self.add(format!("author-{}", author.slug));
        }
        if let Some(source) = summary.original.as_ref().and_then(|o| o.source.as_ref()) {
            self.add(format!("source-{}", source.slug));
        }
        self
    }

    /// The header value: the keys in order, collection keys always kept.
    fn header_value(&self) -> Option<HeaderValue> {
        let mut value = String::new();
        let (collections, items): (Vec<&String>, Vec<&String>) =
            self.0.iter().partition(|key| !key.contains('-'));
        for key in collections.into_iter().chain(items) {
            if value.len() + key.len() + 1 > MAX_HEADER {
                break;
            }
            if !value.is_empty() {
                value.push(' ');
            }
            value.push_str(key);
        }
        HeaderValue::from_str(&value)
            .ok()
            .filter(|_| !value.is_empty())
    }

    /// Writes the `Surrogate-Key` header.
    pub(crate) fn apply(&self, response: &mut HttpResponse) {
        if let Some(value) = self.header_value() {
            response.headers_mut().insert(SURROGATE_KEY.clone(), value);
        }
    }
}

/// What a public response is made of, for purging.
pub(crate) trait Tagged {
    /// Adds this value's keys.
    fn tag(&self, keys: &mut SurrogateKeys);
}

impl Tagged for ArticleSummary {
    fn tag(&self, keys: &mut SurrogateKeys) {
        keys.article(self);
    }
}

impl Tagged for Article {
    fn tag(&self, keys: &mut SurrogateKeys) {
        keys.article(&self.summary);
    }
}

impl Tagged for ArticleList {
    fn tag(&self, keys: &mut SurrogateKeys) {
        keys.add("articles");
        self.data.iter().for_each(|a| a.tag(keys));
    }
}

impl Tagged for Home {
    fn tag(&self, keys: &mut SurrogateKeys) {
        keys.add("articles").add("topics");
        for article in self.latest.iter().chain(&self.focus).chain(&self.most_read) {
            article.tag(keys);
        }
        for trending in &self.trending_topics {
            keys.add(format!("topic-{}", trending.topic.slug));
        }
    }
}

impl Tagged for TrendingTopicList {
    fn tag(&self, keys: &mut SurrogateKeys) {
        keys.add("articles").add("topics");
        for trending in &self.data {
            keys.add(format!("topic-{}", trending.topic.slug));
        }
    }
}

/// Catalogue items carry counts of published articles, so `articles` too.
macro_rules! catalogue_tags {
    ($item:ty, $list:ty, $collection:literal, $prefix:literal) => {
        impl Tagged for $item {
            fn tag(&self, keys: &mut SurrogateKeys) {
                keys.add("articles")
                    .add(format!("{}-{}", $prefix, self.slug));
            }
        }

        impl Tagged for $list {
            fn tag(&self, keys: &mut SurrogateKeys) {
                keys.add($collection);
                self.data.iter().for_each(|item| item.tag(keys));
            }
        }
    };
}

catalogue_tags!(Topic, TopicList, "topics", "topic");
catalogue_tags!(Author, AuthorList, "authors", "author");
catalogue_tags!(Source, SourceList, "sources", "source");

impl Tagged for Feed {
    fn tag(&self, keys: &mut SurrogateKeys) {
        keys.add("articles");
        for entry in &self.entries {
            keys.add(format!("article-{}", entry.id));
            for (slug, _) in &entry.topics {
                keys.add(format!("topic-{slug}"));
            }
        }
    }
}

impl Tagged for PlanList {
    fn tag(&self, keys: &mut SurrogateKeys) {
        keys.add("plans");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(keys: &SurrogateKeys) -> String {
        keys.header_value()
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    #[test]
    fn collection_keys_come_first_then_items_in_order() {
        let mut keys = SurrogateKeys::default();
        keys.add("topic-energy")
            .add("articles")
            .add("article-7")
            .add("articles");
        assert_eq!(value(&keys), "articles article-7 topic-energy");
    }

    #[test]
    fn a_long_list_keeps_its_collection_key() {
        let mut keys = SurrogateKeys::default();
        for id in 0..5_000 {
            keys.add(format!("article-{id}"));
        }
        keys.add("articles");
        let header = value(&keys);
        assert!(header.len() <= MAX_HEADER);
        assert!(header.starts_with("articles article-"));
    }

    #[test]
    fn nothing_to_say_writes_no_header() {
        assert!(SurrogateKeys::default().header_value().is_none());
    }
}

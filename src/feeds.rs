//! Syndication feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1, rendered from
//! one list of entries. Free articles may carry their body; metered and
//! premium ones never carry more than their dek.

use chrono::NaiveDateTime;
use serde_json::json;

/// The authority of the `tag:` URIs that identify entries for ever.
const TAG_AUTHORITY: &str = "newsdesk.example,2026";

/// One article in a feed.
#[derive(Clone, Debug)]
pub struct FeedEntry {
    /// The article id (the permanent identity of the entry).
    pub id: i64,
    /// The article's URL.
    pub url: String,
    /// The headline.
    pub title: String,
    /// The standfirst.
    pub summary: String,
    /// The whole body as HTML, only for articles everyone may read whole.
    pub content_html: Option<String>,
    /// Bylines.
    pub authors: Vec<String>,
    /// Topic (slug, name) pairs.
    pub topics: Vec<(String, String)>,
    /// When it was published.
    pub published: NaiveDateTime,
    /// When it last changed.
    pub updated: NaiveDateTime,
}

/// A whole feed.
#[derive(Clone, Debug)]
pub struct Feed {
    /// The feed's title.
    pub title: String,
    /// What it holds.
    pub description: String,
    /// The URL this feed is served at.
    pub self_url: String,
    /// The page (here, the API list) the feed mirrors.
    pub home_url: String,
    /// The newest first.
    pub entries: Vec<FeedEntry>,
    /// When the feed last changed: the latest entry change (or a fixed
    /// instant for an empty feed, so that it stays cacheable).
    pub updated: NaiveDateTime,
}

/// Escapes text for XML character data and attribute values.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn rfc822(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc2822()
}

fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn entry_tag(id: i64) -> String {
    format!("tag:{TAG_AUTHORITY}:article:{id}")
}

impl Feed {
    /// RSS 2.0, with `atom:link rel="self"` and `content:encoded` bodies.
    pub(crate) fn to_rss(&self) -> String {
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" \
             xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
             xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n",
        );
        out.push_str(&format!(
            "<title>{}</title>\n<link>{}</link>\n<description>{}</description>\n\
             <language>en</language>\n<lastBuildDate>{}</lastBuildDate>\n\
             <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\n",
            xml(&self.title),
            xml(&self.home_url),
            xml(&self.description),
            rfc822(self.updated),
            xml(&self.self_url),
        ));
        for entry in &self.entries {
            out.push_str("<item>\n");
            out.push_str(&format!(
                "<title>{}</title>\n<link>{}</link>\n<guid isPermaLink=\"false\">{}</guid>\n\
                 <pubDate>{}</pubDate>\n<description>{}</description>\n",
                xml(&entry.title),
                xml(&entry.url),
                xml(&entry_tag(entry.id)),
                rfc822(entry.published),
                xml(&entry.summary),
            ));
            for author in &entry.authors {
                out.push_str(&format!("<dc:creator>{}</dc:creator>\n", xml(author)));
            }
            for (_, name) in &entry.topics {
                out.push_str(&format!("<category>{}</category>\n", xml(name)));
            }
            if let Some(html) = &entry.content_html {
                out.push_str(&format!(
                    "<content:encoded>{}</content:encoded>\n",
                    xml(html)
                ));
            }
            out.push_str("</item>\n");
        }
        out.push_str("</channel>\n</rss>\n");
        out
    }

    /// Atom 1.0.
    pub(crate) fn to_atom(&self) -> String {
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n",
        );
        out.push_str(&format!(
            "<id>{}</id>\n<title>{}</title>\n<subtitle>{}</subtitle>\n<updated>{}</updated>\n\
             <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n\
             <link rel=\"alternate\" type=\"application/json\" href=\"{}\"/>\n\
             <author><name>{}</name></author>\n",
            xml(&self.self_url),
            xml(&self.title),
            xml(&self.description),
            rfc3339(self.updated),
            xml(&self.self_url),
            xml(&self.home_url),
            xml(&self.title),
        ));
        for entry in &self.entries {
            out.push_str("<entry>\n");
            out.push_str(&format!(
                "<id>{}</id>\n<title type=\"text\">{}</title>\n\
                 <link rel=\"alternate\" type=\"application/json\" href=\"{}\"/>\n\
                 <published>{}</published>\n<updated>{}</updated>\n\
                 <summary type=\"text\">{}</summary>\n",
                xml(&entry_tag(entry.id)),
                xml(&entry.title),
                xml(&entry.url),
                rfc3339(entry.published),
                rfc3339(entry.updated),
                xml(&entry.summary),
            ));
            for author in &entry.authors {
                out.push_str(&format!("<author><name>{}</name></author>\n", xml(author)));
            }
            for (slug, name) in &entry.topics {
                out.push_str(&format!(
                    "<category term=\"{}\" label=\"{}\"/>\n",
                    xml(slug),
                    xml(name)
                ));
            }
            if let Some(html) = &entry.content_html {
                out.push_str(&format!("<content type=\"html\">{}</content>\n", xml(html)));
            }
            out.push_str("</entry>\n");
        }
        out.push_str("</feed>\n");
        out
    }

    /// JSON Feed 1.1.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let items: Vec<serde_json::Value> = self
            .entries
            .iter()
            .map(|entry| {
                let mut item = json!({
                    "id": entry_tag(entry.id),
                    "url": entry.url,
                    "title": entry.title,
                    "summary": entry.summary,
                    "date_published": rfc3339(entry.published),
                    "date_modified": rfc3339(entry.updated),
                    "authors": entry.authors.iter().map(|name| json!({"name": name})).collect::<Vec<_>>(),
                    "tags": entry.topics.iter().map(|(_, name)| name.clone()).collect::<Vec<_>>(),
                });
                match &entry.content_html {
                    Some(html) => item["content_html"] = json!(html),
                    None => item["content_text"] = json!(entry.summary),
                }
                item
            })
            .collect();
        json!({
            "version": "https://jsonfeed.org/version/1.1",
            "title": self.title,
            "description": self.description,
            "home_page_url": self.home_url,
            "feed_url": self.self_url,
            "language": "en",
            "items": items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .unwrap()
    }

    fn feed(content: Option<&str>) -> Feed {
        Feed {
            title: "newsdesk".into(),
            description: "Latest".into(),
            self_url: "http://h/api/v1/feeds/rss?topic=a&b".into(),
            home_url: "http://h/api/v1/articles".into(),
            entries: vec![FeedEntry {
                id: 7,
                url: "http://h/api/v1/articles/x".into(),
                title: "Ports & <ships>".into(),
                summary: "A \"dek\"\u{1}".into(),
                content_html: content.map(str::to_owned),
                authors: vec!["Ana".into()],
                topics: vec![("energy".into(), "Energy".into())],
                published: at(9),
                updated: at(10),
            }],
            updated: at(10),
        }
    }

    #[test]
    fn text_is_escaped_and_forbidden_characters_dropped() {
        let rss = feed(Some("<p>Body</p>")).to_rss();
        assert!(rss.contains("<title>Ports &amp; &lt;ships&gt;</title>"));
        assert!(rss.contains("<description>A &quot;dek&quot;</description>"));
        assert!(rss.contains("href=\"http://h/api/v1/feeds/rss?topic=a&amp;b\""));
        assert!(rss.contains("<content:encoded>&lt;p&gt;Body&lt;/p&gt;</content:encoded>"));
        assert!(rss.contains("<pubDate>Sun, 29 Nov 2026 09:00:00 +0000</pubDate>"));
        assert!(!rss.contains('\u{1}'));
    }

    #[test]
    fn entries_without_content_carry_only_their_dek() {
        let plain = feed(None);
        assert!(!plain.to_rss().contains("content:encoded>"));
        assert!(!plain.to_atom().contains("<content"));
        let json = plain.to_json();
        assert_eq!(json["items"][0]["content_text"], "A \"dek\"\u{1}");
        assert!(json["items"][0].get("content_html").is_none());
        let atom = feed(Some("<p>Body</p>")).to_atom();
        assert!(atom.contains("<content type=\"html\">&lt;p&gt;Body&lt;/p&gt;</content>"));
        assert!(atom.contains("<id>tag:newsdesk.example,2026:article:7</id>"));
        assert!(atom.contains("<updated>2026-11-29T10:00:00Z</updated>"));
    }
}

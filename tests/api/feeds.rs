//! Syndication feeds: valid by their specifications' rules, paywall-safe,
//! cacheable with ETag and Last-Modified.

use chrono::DateTime;
use newsdesk::domain::article::AccessLevel;
use serde_json::Value;

use crate::builders::ArticleBuilder;
use crate::harness::TestApp;

const ATOM: &str = "http://www.w3.org/2005/Atom";

fn articles(app: &TestApp) {
    let energy = app.topic("energy", "Energy");
    ArticleBuilder::new("free-story")
        .headline("Free & open <story>")
        .topics(&[energy])
        .minutes_ago(10)
        .insert(app);
    ArticleBuilder::new("metered-story")
        .access(AccessLevel::Metered)
        .minutes_ago(20)
        .insert(app);
    ArticleBuilder::new("premium-story")
        .access(AccessLevel::Premium)
        .topics(&[energy])
        .minutes_ago(30)
        .insert(app);
}

fn is_absolute_http(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// The rules of RSS 2.0 (and the W3C validator's checks of them) that our
/// feed could break.
fn check_rss(text: &str, self_url: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(text).expect("well-formed XML");
    let rss = doc.root_element();
    assert_eq!(rss.tag_name().name(), "rss");
    assert_eq!(rss.attribute("version"), Some("2.0"));
    let channels: Vec<_> = rss
        .children()
        .filter(|n| n.has_tag_name("channel"))
        .collect();
    assert_eq!(channels.len(), 1, "exactly one channel");
    let channel = channels[0];
    let child = |node: roxmltree::Node, name: &str| {
        node.children()
            .find(|n| n.tag_name().name() == name && n.tag_name().namespace().is_none())
            .and_then(|n| n.text())
            .map(str::to_owned)
    };
    for required in ["title", "link", "description"] {
        assert!(child(channel, required).is_some(), "channel {required}");
    }
    assert!(is_absolute_http(&child(channel, "link").expect("present")));
    DateTime::parse_from_rfc2822(&child(channel, "lastBuildDate").expect("present"))
        .expect("RFC 822 date");
    let self_link = channel
        .children()
        .find(|n| n.has_tag_name((ATOM, "link")))
        .expect("atom:link");
    assert_eq!(self_link.attribute("rel"), Some("self"));
    assert_eq!(self_link.attribute("type"), Some("application/rss+xml"));
    assert_eq!(self_link.attribute("href"), Some(self_url));
    let mut guids = Vec::new();
    let mut titles = Vec::new();
    for item in channel.children().filter(|n| n.has_tag_name("item")) {
        let title = child(item, "title").expect("item title");
        assert!(child(item, "description").is_some());
        assert!(is_absolute_http(&child(item, "link").expect("item link")));
        DateTime::parse_from_rfc2822(&child(item, "pubDate").expect("pubDate")).expect("RFC 822");
        let guid = item
            .children()
            .find(|n| n.has_tag_name("guid"))
            .expect("guid");
        assert_eq!(guid.attribute("isPermaLink"), Some("false"));
        guids.push(guid.text().expect("present").to_owned());
        titles.push(title);
    }
    let mut unique = guids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), guids.len(), "guids are unique");
    titles
}

/// The rules of RFC 4287 our feed could break.
fn check_atom(text: &str, self_url: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(text).expect("well-formed XML");
    let feed = doc.root_element();
    assert!(feed.has_tag_name((ATOM, "feed")));
    let one = |node: roxmltree::Node, name: &str| {
        let found: Vec<_> = node
            .children()
            .filter(|n| n.has_tag_name((ATOM, name)))
            .collect();
        assert_eq!(found.len(), 1, "exactly one atom:{name}");
        found[0].text().unwrap_or_default().to_owned()
    };
    assert!(is_absolute_http(&one(feed, "id")));
    one(feed, "title");
    DateTime::parse_from_rfc3339(&one(feed, "updated")).expect("RFC 3339");
    assert!(
        feed.children().any(|n| n.has_tag_name((ATOM, "author"))),
        "a feed author"
    );
    let self_link = feed
        .children()
        .find(|n| n.has_tag_name((ATOM, "link")) && n.attribute("rel") == Some("self"))
        .expect("rel=self");
    assert_eq!(self_link.attribute("href"), Some(self_url));
    let mut ids = Vec::new();
    let mut titles = Vec::new();
    for entry in feed.children().filter(|n| n.has_tag_name((ATOM, "entry"))) {
        let id = one(entry, "id");
        assert!(id.starts_with("tag:"), "a permanent IRI");
        ids.push(id);
        titles.push(one(entry, "title"));
        DateTime::parse_from_rfc3339(&one(entry, "updated")).expect("RFC 3339");
        DateTime::parse_from_rfc3339(&one(entry, "published")).expect("RFC 3339");
        let link = entry
            .children()
            .find(|n| n.has_tag_name((ATOM, "link")))
            .expect("an entry link");
        assert!(is_absolute_http(link.attribute("href").expect("present")));
        if let Some(content) = entry.children().find(|n| n.has_tag_name((ATOM, "content"))) {
            assert_eq!(content.attribute("type"), Some("html"));
        } else {
            one(entry, "summary");
        }
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "entry ids are unique");
    titles
}

/// JSON Feed 1.1's required members.
fn check_json_feed(feed: &Value, self_url: &str) -> Vec<String> {
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert!(feed["title"].is_string());
    assert_eq!(feed["feed_url"], self_url);
    feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            assert!(item["id"].is_string());
            assert!(
                item["content_html"].is_string() ^ item["content_text"].is_string(),
                "content_html or content_text"
            );
            DateTime::parse_from_rfc3339(item["date_published"].as_str().expect("present"))
                .expect("present");
            item["title"].as_str().expect("present").to_owned()
        })
        .collect()
}

#[actix_web::test]
async fn every_feed_is_valid_and_paywall_safe() {
    let app = TestApp::spawn().await;
    articles(&app);
    let expected = [
        "Free & open <story>",
        "Headline of metered-story",
        "Headline of premium-story",
    ];
    for (kind, content_type) in [
        ("rss", "application/rss+xml; charset=utf-8"),
        ("atom", "application/atom+xml; charset=utf-8"),
        ("json", "application/feed+json"),
    ] {
        let path = format!("/api/v1/feeds/{kind}");
        let response = app.get(&path).await;
        assert_eq!(response.status, 200, "{kind}: {}", response.text());
        assert_eq!(response.header("content-type"), Some(content_type));
        let self_url = format!("{}{path}", app.state.config.public_base_url);
        let text = response.text();
        let titles = match kind {
            "rss" => check_rss(&text, &self_url),
            "atom" => check_atom(&text, &self_url),
            _ => check_json_feed(&response.json(), &self_url),
        };
        assert_eq!(titles, expected, "{kind}");
        assert_eq!(
            text.matches("SECRET-ENDING").count(),
            1,
            "{kind}: only the free article's body"
        );
    }
}

#[actix_web::test]
async fn feeds_filter_and_answer_conditional_requests() {
    let app = TestApp::spawn().await;
    articles(&app);
    let filtered = app
        .get("/api/v1/feeds/json?topic=energy&limit=1")
        .await
        .json();
    let titles: Vec<&str> = filtered["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Free & open <story>"]);
    assert!(filtered["title"].as_str().unwrap().contains("topic energy"));

    let first = app.get("/api/v1/feeds/atom").await;
    let etag = first.header("etag").unwrap().to_owned();
    let modified = first.header("last-modified").unwrap().to_owned();
    assert!(first.header("cache-control").unwrap().starts_with("public"));
    let by_etag = app
        .get_with("/api/v1/feeds/atom", &[("if-none-match", &etag)])
        .await;
    assert_eq!(by_etag.status, 304);
    assert!(by_etag.text().is_empty());
    let by_date = app
        .get_with("/api/v1/feeds/atom", &[("if-modified-since", &modified)])
        .await;
    assert_eq!(by_date.status, 304);
    let stale = app
        .get_with(
            "/api/v1/feeds/atom",
            &[("if-modified-since", "Mon, 01 Jan 2024 00:00:00 GMT")],
        )
        .await;
    assert_eq!(stale.status, 200);

    ArticleBuilder::new("newer").minutes_ago(1).insert(&app);
    let changed = app
        .get_with("/api/v1/feeds/atom", &[("if-none-match", &etag)])
        .await;
    assert_eq!(changed.status, 200, "a new article changes the feed");

    for bad in [
        "/api/v1/feeds/rss?limit=0",
        "/api/v1/feeds/rss?language=russian",
        "/api/v1/feeds/json?topic=",
    ] {
        app.get(bad).await.assert_problem(400, "validation_failed");
    }
    let empty = app.get("/api/v1/feeds/rss?topic=nothing-here").await;
    assert_eq!(empty.status, 200);
    check_rss(
        &empty.text(),
        &format!(
            "{}/api/v1/feeds/rss?topic=nothing-here",
            app.state.config.public_base_url
        ),
    );
}

#[actix_web::test]
async fn feed_links_come_from_configuration_not_from_the_request() {
    let app = TestApp::spawn_with(|config| {
        config.public_base_url = "https://api.newsdesk.example".into();
        config.response_cache_ttl = std::time::Duration::from_secs(60);
    })
    .await;
    ArticleBuilder::new("linked").insert(&app);
    // A request that forges every header links can be taken from, first,
    // so that its answer is the one kept in the shared cache.
    let forged = app
        .get_with(
            "/api/v1/feeds/rss",
            &[
                ("host", "evil.example"),
                ("x-forwarded-host", "evil.example"),
                ("x-forwarded-proto", "http"),
                ("forwarded", "host=evil.example;proto=http"),
            ],
        )
        .await;
    assert_eq!(forged.status, 200);
    for response in [forged, app.get("/api/v1/feeds/rss").await] {
        let text = response.text();
        assert!(!text.contains("evil.example"), "{text}");
        assert!(
            text.contains("https://api.newsdesk.example/api/v1/articles/linked"),
            "{text}"
        );
    }
}

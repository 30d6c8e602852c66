//! What shared caches and CDNs in front of the API rely on: compression
//! that keeps validators honest, and `Surrogate-Key` tags to purge by.

use std::time::Duration;

use newsdesk::domain::article::AccessLevel;

use crate::builders::ArticleBuilder;
use crate::harness::{TestApp, TestResponse};

#[actix_web::test]
async fn compressed_answers_say_so_and_still_revalidate() {
    let app =
        TestApp::spawn_with(|config| config.response_cache_ttl = Duration::from_secs(60)).await;
    ArticleBuilder::new("open-story").insert(&app);
    let plain = app.get("/api/v1/articles/open-story").await;
    let strong = plain.header("etag").unwrap().to_owned();
    assert!(strong.starts_with('"'));
    assert!(
        plain
            .header("vary")
            .unwrap()
            .to_ascii_lowercase()
            .contains("accept-encoding"),
        "an uncompressed answer could have been compressed"
    );
    for (encoding, magic) in [("gzip", &[0x1f, 0x8b][..]), ("br", &[][..])] {
        let packed = app
            .get_with(
                "/api/v1/articles/open-story",
                &[("accept-encoding", encoding)],
            )
            .await;
        assert_eq!(packed.status, 200);
        assert_eq!(packed.header("content-encoding"), Some(encoding));
        assert!(packed.body.starts_with(magic));
        assert!(
            packed.body.len() < plain.body.len(),
            "{encoding} is smaller"
        );
        let weak = packed.header("etag").unwrap().to_owned();
        assert_eq!(weak, format!("W/{strong}"), "other bytes, weak validator");
        let again = app
            .get_with(
                "/api/v1/articles/open-story",
                &[("accept-encoding", encoding), ("if-none-match", &weak)],
            )
            .await;
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
    }
}

#[actix_web::test]
async fn public_answers_name_what_a_cdn_should_purge_and_private_ones_do_not() {
    let app = TestApp::spawn().await;
    let energy = app.topic("energy", "Energy");
    let author = app.author("ana-lima", "Ana Lima", None);
    let source = app.source("folha", "pt");
    let id = ArticleBuilder::new("open-story")
        .topics(&[energy])
        .authors(&[author])
        .source(source, "pt")
        .insert(&app);
    ArticleBuilder::new("closed-story")
        .access(AccessLevel::Premium)
        .insert(&app);
    let keys = |response: &TestResponse| -> Vec<String> {
        response
            .header("surrogate-key")
            .unwrap_or_else(|| panic!("no Surrogate-Key: {}", response.text()))
            .split(' ')
            .map(str::to_owned)
            .collect()
    };
    let article = format!("article-{id}");
    let card = [
        article.as_str(),
        "topic-energy",
        "author-ana-lima",
        "source-folha",
    ];

    let one = app.get("/api/v1/articles/open-story").await;
    assert!(
        card.iter().all(|k| keys(&one).iter().any(|x| x == k)),
        "{:?}",
        keys(&one)
    );
    for path in [
        "/api/v1/articles",
        "/api/v1/articles?topic=energy",
        "/api/v1/home",
    ] {
        let list = app.get(path).await;
        let got = keys(&list);
        assert!(got.contains(&"articles".to_owned()), "{path}: {got:?}");
        assert!(
            card.iter().all(|k| got.iter().any(|x| x == k)),
            "{path}: {got:?}"
        );
    }
    for (path, key) in [
        ("/api/v1/topics", "topics"),
        ("/api/v1/topics/energy", "topic-energy"),
        ("/api/v1/authors", "authors"),
        ("/api/v1/authors/ana-lima", "author-ana-lima"),
        ("/api/v1/sources", "sources"),
        ("/api/v1/sources/folha", "source-folha"),
        ("/api/v1/topics/trending", "topics"),
        ("/api/v1/plans", "plans"),
        ("/api/v1/newsletters", "newsletters"),
        ("/api/v1/feeds/rss", "articles"),
        ("/api/v1/feeds/atom", &article),
        ("/api/v1/feeds/json", "topic-energy"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status, 200, "{path}");
        assert!(
            keys(&response).iter().any(|k| k == key),
            "{path}: {:?}",
            keys(&response)
        );
    }

    // What depends on the reader is nobody else's to cache or purge.
    let closed = app.get("/api/v1/articles/closed-story").await;
    assert!(closed.header("surrogate-key").is_none());
    let session = app.register("reader@example.com").await;
    let reader = session["access_token"].as_str().unwrap();
    let me = app.get_as("/api/v1/me", reader).await;
    assert_eq!(me.status, 200);
    assert!(me.header("surrogate-key").is_none());
}

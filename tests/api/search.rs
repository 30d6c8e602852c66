//! Full-text search through `GET /articles?q=`, on both backends.

use diesel::prelude::*;
use newsdesk::db::schema::articles;
use newsdesk::domain::account::Role;
use newsdesk::domain::article::AccessLevel;
use serde_json::Value;

use crate::builders::ArticleBuilder;
use crate::harness::TestApp;

impl TestApp {
    /// The slugs a search returns (first page), in order.
    async fn found(&self, query: &str) -> Vec<String> {
        let response = self.search(query).await;
        assert_eq!(response.status, 200, "{query}: {}", response.text());
        slugs(&response.json())
    }

    async fn search(&self, query: &str) -> crate::harness::TestResponse {
        let encoded: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
        self.get(&format!("/api/v1/articles?q={encoded}")).await
    }
}

fn slugs(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|a| a["slug"].as_str().expect("a slug").to_owned())
        .collect()
}

fn newsroom(app: &TestApp) {
    ArticleBuilder::new("headline-match")
        .headline("Missile defense shield goes up over the capital")
        .minutes_ago(30)
        .insert(app);
    ArticleBuilder::new("body-match")
        .headline("A quiet week in parliament")
        .opening("Deputies spent the week arguing about missile defense budgets and little else.")
        .minutes_ago(10)
        .insert(app);
    ArticleBuilder::new("words-apart")
        .headline("The defense of a missile treaty")
        .minutes_ago(20)
        .insert(app);
    ArticleBuilder::new("hydrogen-port")
        .headline("A port waits for hydrogen ships")
        .minutes_ago(40)
        .insert(app);
    ArticleBuilder::new("unrelated")
        .headline("Grain prices fall again")
        .minutes_ago(50)
        .insert(app);
}

#[actix_web::test]
async fn results_are_ranked_headline_first() {
    let app = TestApp::spawn().await;
    newsroom(&app);
    let found = app.found("missile").await;
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(
        found[2], "body-match",
        "a body match ranks below headline matches"
    );
    assert_eq!(
        app.found("missile defense").await.len(),
        3,
        "every word must match, in any order"
    );
    assert_eq!(app.found("MISSILE Grain").await, Vec::<String>::new());
}

#[actix_web::test]
async fn phrases_exclusions_and_prefixes_behave_the_same_everywhere() {
    let app = TestApp::spawn().await;
    newsroom(&app);
    let mut phrase = app.found("\"missile defense\"").await;
    phrase.sort();
    assert_eq!(
        phrase,
        ["body-match", "headline-match"],
        "adjacent, in order"
    );
    let mut excluded = app.found("missile -treaty").await;
    excluded.sort();
    assert_eq!(excluded, ["body-match", "headline-match"]);
    assert_eq!(
        app.found("missile -\"defense shield\" -budgets").await,
        ["words-apart"]
    );
    assert_eq!(app.found("hydro*").await, ["hydrogen-port"]);
    assert_eq!(
        app.found("hydro").await,
        Vec::<String>::new(),
        "whole words only"
    );
    assert_eq!(app.found("Hydrogen SHIPS").await, ["hydrogen-port"]);
}

#[actix_web::test]
async fn search_combines_with_filters_sorting_and_pagination() {
    let app = TestApp::spawn().await;
    let world = app.topic("world", "World");
    newsroom(&app);
    ArticleBuilder::new("filed-under-world")
        .headline("Missile tests resume")
        .topics(&[world])
        .minutes_ago(5)
        .insert(&app);
    assert_eq!(
        app.slugs_of_path("/api/v1/articles?q=missile&topic=world")
            .await,
        ["filed-under-world"]
    );
    assert_eq!(
        app.slugs_of_path("/api/v1/articles?q=missile&sort=latest")
            .await,
        [
            "filed-under-world",
            "body-match",
            "words-apart",
            "headline-match"
        ]
    );

    for sort in ["relevance", "latest"] {
        let mut seen = Vec::new();
        let mut path = format!("/api/v1/articles?q=missile&sort={sort}&limit=1");
        loop {
            let page = app.get(&path).await;
            assert_eq!(page.status, 200, "{}", page.text());
            let page = page.json();
            seen.extend(slugs(&page));
            match page["meta"]["next_cursor"].as_str() {
                Some(cursor) => {
                    path = format!("/api/v1/articles?q=missile&sort={sort}&limit=1&cursor={cursor}")
                }
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(seen.len(), 4, "{sort}: {seen:?}");
        assert_eq!(unique.len(), 4, "{sort}: no duplicates");
    }
    let relevance_first = app.found("missile").await;
    let walked = app
        .slugs_of_path("/api/v1/articles?q=missile&sort=relevance&limit=100")
        .await;
    assert_eq!(relevance_first, walked, "relevance is the default with q");
}

#[actix_web::test]
async fn highlights_never_show_what_the_paywall_hides() {
    let app = TestApp::spawn().await;
    ArticleBuilder::new("free-story")
        .headline("Ice in the harbour")
        .closing("The zanzibarite ore waited on the quay.")
        .insert(&app);
    ArticleBuilder::new("premium-story")
        .headline("Ice on the river")
        .access(AccessLevel::Premium)
        .closing("The zanzibarite ore waited on the quay.")
        .insert(&app);
    ArticleBuilder::new("metered-story")
        .headline("Ice on the lake")
        .access(AccessLevel::Metered)
        .opening("Fishermen found zanzibarite pebbles on the shore.")
        .insert(&app);

    let response = app.search("zanzibarite").await;
    assert_eq!(response.status, 200);
    let list = response.json();
    let mut found = slugs(&list);
    found.sort();
    assert_eq!(
        found,
        ["free-story", "metered-story"],
        "a reader matches only what they may read: the premium story has the word \
         only past its preview"
    );
    for hit in list["data"].as_array().unwrap() {
        let highlight = hit["highlight"].as_str();
        match hit["slug"].as_str().unwrap() {
            "free-story" => assert!(highlight.unwrap().contains("<mark>zanzibarite</mark>")),
            "metered-story" => assert!(
                highlight
                    .unwrap()
                    .contains("<mark>zanzibarite</mark> pebbles"),
                "the preview may be quoted"
            ),
            _ => assert!(
                highlight.is_none(),
                "nothing past the preview: {highlight:?}"
            ),
        }
    }
    assert_eq!(
        response.text().matches("quay").count(),
        1,
        "text after the preview cut is quoted for the free article only"
    );
    let secret = app.search("secret").await;
    let hits = secret.json();
    assert_eq!(slugs(&hits), ["free-story"], "hidden text matches nothing");
    assert_eq!(
        secret.text().matches("SECRET").count(),
        1,
        "only the free article's body is quoted"
    );

    let headline_hit = app.search("lake").await.json();
    assert_eq!(
        headline_hit["data"][0]["highlight"],
        "Ice on the <mark>lake</mark>"
    );
}

#[actix_web::test]
async fn the_index_follows_every_write() {
    let app = TestApp::spawn().await;
    let id = ArticleBuilder::new("renamed")
        .headline("Old words here")
        .insert(&app);
    ArticleBuilder::new("draft-story")
        .headline("Unpublished glacier news")
        .status(newsdesk::domain::article::ArticleStatus::Draft)
        .insert(&app);
    assert_eq!(app.found("old").await, ["renamed"]);
    assert_eq!(
        app.found("glacier").await,
        Vec::<String>::new(),
        "drafts are not public"
    );

    app.db(|conn| {
        diesel::update(articles::table.find(id))
            .set(articles::headline.eq("Fresh phrasing instead"))
            .execute(conn)
            .unwrap()
    });
    assert_eq!(app.found("old").await, Vec::<String>::new());
    assert_eq!(app.found("fresh").await, ["renamed"]);

    app.db(|conn| {
        diesel::delete(articles::table.find(id))
            .execute(conn)
            .unwrap()
    });
    assert_eq!(app.found("fresh").await, Vec::<String>::new());
}

#[actix_web::test]
async fn malformed_queries_are_400s_that_say_why() {
    let app = TestApp::spawn().await;
    newsroom(&app);
    for query in [
        "\"missile defense",
        "-missile",
        "*",
        "",
        "   ",
        "mis*sile",
        "missile:*",
        &"long ".repeat(50),
        "a b c d e f g h i j k l m",
    ] {
        let problem = app
            .search(query)
            .await
            .assert_problem(400, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], "q", "{query:?}");
    }
    for path in [
        "/api/v1/articles?sort=relevance",
        "/api/v1/articles?q=missile&sort=most_read",
        "/api/v1/articles?q=missile&cursor=bm9wZQ",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status, 400, "{path}");
    }
    // Syntax of the databases' own query languages is just text here.
    for query in [
        "NEAR(missile defense)",
        "missile OR grain",
        "missile & defense | grain",
        "'); DROP TABLE articles; --",
    ] {
        assert_eq!(app.search(query).await.status, 200, "{query}");
    }
    assert_eq!(app.found("missile").await.len(), 3);
}

#[actix_web::test]
async fn hidden_text_is_no_oracle_for_readers_without_access() {
    let app = TestApp::spawn().await;
    ArticleBuilder::new("tender-story")
        .headline("A port changes hands")
        .access(AccessLevel::Premium)
        .closing("The zanthorpe tender was decided over dinner.")
        .insert(&app);
    ArticleBuilder::new("metered-tender")
        .headline("Another port")
        .access(AccessLevel::Metered)
        .closing("Again the zanthorpe tender came up.")
        .insert(&app);
    // Phrase, prefix and the hyphenated phrase form all miss hidden text.
    for query in [
        "zanthorpe",
        "\"zanthorpe tender\"",
        "zanthorpe-tender",
        "zanth*",
        "port zanthorpe",
    ] {
        assert_eq!(
            app.found(query).await,
            Vec::<String>::new(),
            "anonymous: {query}"
        );
    }
    let reader = app.reader("plain@example.com").await;
    let auth = format!("Bearer {reader}");
    let encoded = "/api/v1/articles?q=zanthorpe";
    let as_reader = app.get_with(encoded, &[("authorization", &auth)]).await;
    assert_eq!(
        slugs(&as_reader.json()),
        Vec::<String>::new(),
        "signed in, no subscription"
    );

    // Those who may read everything match everything, privately.
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    let auth = format!("Bearer {editor}");
    let as_editor = app.get_with(encoded, &[("authorization", &auth)]).await;
    let mut found = slugs(&as_editor.json());
    found.sort();
    assert_eq!(found, ["metered-tender", "tender-story"]);
    assert!(
        as_editor
            .header("cache-control")
            .is_some_and(|c| c.starts_with("private")),
        "a search over hidden text is never shared"
    );
    assert!(as_editor.header("surrogate-key").is_none());
    let subscriber = app.subscriber("paid@example.com").await;
    let auth = format!("Bearer {subscriber}");
    let as_subscriber = app.get_with(encoded, &[("authorization", &auth)]).await;
    assert_eq!(slugs(&as_subscriber.json()).len(), 2);
}

#[actix_web::test]
async fn turning_an_article_free_makes_its_body_searchable() {
    let app = TestApp::spawn().await;
    let id = ArticleBuilder::new("opened-up")
        .access(AccessLevel::Premium)
        .closing("The quillowmere archive was opened.")
        .insert(&app);
    assert_eq!(app.found("quillowmere").await, Vec::<String>::new());
    app.db(|conn| {
        diesel::update(articles::table.find(id))
            .set(articles::access_level.eq("free"))
            .execute(conn)
    })
    .expect("update");
    assert_eq!(app.found("quillowmere").await, ["opened-up"]);
}

#[actix_web::test]
async fn a_search_past_its_deadline_is_given_up_on_both_backends() {
    use diesel::sql_types::BigInt;
    use newsdesk::db::DbConnection;
    use newsdesk::db::search::{is_timeout, with_deadline};
    use std::time::Duration;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let app = TestApp::spawn().await;
    let slow = |conn: &mut DbConnection| match conn {
        DbConnection::Postgres(_) => diesel::sql_query("SELECT 1::BIGINT AS n FROM pg_sleep(5)")
            .get_result::<Count>(conn)
            .map(|c| c.n),
        DbConnection::Sqlite(_) => diesel::sql_query(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c \
             WHERE x < 100000000 AND NOT search_deadline_passed()) SELECT COUNT(*) AS n FROM c",
        )
        .get_result::<Count>(conn)
        .map(|c| c.n),
    };
    let outcome = app.db(|conn| with_deadline(conn, Duration::from_millis(50), slow));
    assert!(
        outcome.as_ref().is_err_and(is_timeout),
        "the deadline stops it: {:?}",
        outcome.map_err(|e| e.to_string())
    );
    let fine = app.db(|conn| {
        with_deadline(conn, Duration::from_secs(30), |conn| {
            diesel::sql_query("SELECT CAST(7 AS BIGINT) AS n").get_result::<Count>(conn)
        })
    });
    assert_eq!(
        fine.map(|c| c.n).ok(),
        Some(7),
        "a quick query is untouched"
    );
}

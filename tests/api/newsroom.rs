//! The newsroom: editors write, schedule, publish and curate; nobody else can.

use awc::http::Method;
use newsdesk::domain::account::Role;
use serde_json::{Value, json};

use crate::builders::ArticleBuilder;
use crate::harness::{TestApp, TestResponse};

impl TestApp {
    /// Registers an account with `role`; returns its access token.
    pub async fn token_with_role(&self, email: &str, role: Role) -> String {
        let session = self.register(email).await;
        let id = session["user"]["id"].as_i64().expect("a user id");
        let now = newsdesk::clock::Clock::System.now();
        self.db(|conn| newsdesk::db::users::set_role(conn, id.into(), role, now))
            .expect("set the role");
        session["access_token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    /// A catalogue to write articles against.
    pub fn newsroom_catalogue(&self) {
        let source = self.source("vedomosti", "ru");
        self.topic("russia", "Russia");
        self.topic("energy", "Energy");
        self.author("irina", "Irina", Some(source));
        self.author("daniel", "Daniel", None);
    }

    async fn create(&self, token: &str, body: &Value) -> TestResponse {
        self.send_as(Method::POST, "/api/v1/articles", body, token)
            .await
    }
}

fn draft(headline: &str) -> Value {
    json!({
        "headline": headline,
        "dek": "A standfirst.",
        "body_markdown": "First paragraph with enough words to stand as the preview of the article for readers who have no access, which takes a good many words before it is long enough to count as one.\n\n## A heading\n\nThe rest of the reporting.",
        "kind": "news",
        "access_level": "free",
        "topic": "russia",
        "topics": ["energy"],
        "authors": ["irina", "daniel"],
        "dateline": "VLADIVOSTOK",
        "original": {"source": "vedomosti", "title": "Оригинал", "translator": "Daniel Hart"}
    })
}

#[actix_web::test]
async fn an_editor_writes_a_draft_and_publishes_it() {
    let app = TestApp::spawn().await;
    app.newsroom_catalogue();
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;

    let created = app
        .create(&editor, &draft("The Port That Froze Early!"))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(
        created.header("location"),
        Some("/api/v1/articles/the-port-that-froze-early")
    );
    assert!(created.header("etag").is_some());
    let article = created.json();
    assert_eq!(article["status"], "draft");
    assert_eq!(article["topic"]["slug"], "russia");
    assert_eq!(article["topics"][1]["slug"], "energy");
    assert_eq!(article["authors"][0]["slug"], "irina");
    assert_eq!(
        article["original"]["language"], "ru",
        "the source's language by default"
    );
    assert_eq!(article["revision"], 1);
    assert!(article["word_count"].as_i64().unwrap() > 30);
    assert!(
        article["body"]["html"]
            .as_str()
            .unwrap()
            .contains("<h2>A heading</h2>")
    );

    let again = app
        .create(&editor, &draft("The port that froze early"))
        .await
        .json();
    assert_eq!(
        again["slug"], "the-port-that-froze-early-2",
        "slugs stay unique"
    );

    app.get("/api/v1/articles/the-port-that-froze-early")
        .await
        .assert_problem(404, "not_found");
    let seen = app
        .get_as("/api/v1/articles/the-port-that-froze-early", &editor)
        .await;
    assert_eq!(seen.status, 200);
    assert_eq!(seen.header("cache-control"), Some("private, no-store"));

    let auth = format!("Bearer {editor}");
    for not_an_object in ["[]", "7"] {
        app.send_body_with(
            Method::POST,
            "/api/v1/articles/the-port-that-froze-early/publish",
            not_an_object,
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
        )
        .await
        .assert_problem(400, "malformed_body");
    }
    // `null`, like no body at all, publishes now.
    let published = app
        .send_body_with(
            Method::POST,
            "/api/v1/articles/the-port-that-froze-early/publish",
            "null",
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
        )
        .await;
    assert_eq!(published.status, 200, "{}", published.text());
    assert_eq!(published.json()["status"], "published");
    let public = app.get("/api/v1/articles/the-port-that-froze-early").await;
    assert_eq!(public.status, 200);
    assert!(
        public.json().get("body_markdown").is_none(),
        "readers never see the source"
    );
    let list = app.get("/api/v1/articles").await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let drafts = app
        .get_as("/api/v1/articles?status=draft", &editor)
        .await
        .json();
    assert_eq!(drafts["data"][0]["slug"], "the-port-that-froze-early-2");
}

#[actix_web::test]
async fn a_scheduled_article_appears_on_its_own_at_its_time() {
    let app = TestApp::spawn().await;
    app.newsroom_catalogue();
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    app.create(&editor, &draft("Timed story")).await;
    let at = chrono::Utc::now() + chrono::Duration::minutes(10);

    let scheduled = app
        .send_as(
            Method::POST,
            "/api/v1/articles/timed-story/publish",
            &json!({"publish_at": at.to_rfc3339()}),
            &editor,
        )
        .await;
    assert_eq!(scheduled.status, 200, "{}", scheduled.text());
    assert_eq!(scheduled.json()["status"], "scheduled");
    app.get("/api/v1/articles/timed-story")
        .await
        .assert_problem(404, "not_found");
    let shelf = app
        .get_as("/api/v1/articles?status=scheduled", &editor)
        .await
        .json();
    assert_eq!(shelf["data"][0]["slug"], "timed-story");

    app.advance(chrono::Duration::minutes(11));
    assert_eq!(app.get("/api/v1/articles/timed-story").await.status, 200);
    let list = app.get("/api/v1/articles").await.json();
    assert_eq!(list["data"][0]["slug"], "timed-story");
    let topic = app.get("/api/v1/topics/russia").await.json();
    assert_eq!(topic["article_count"], 1);
}

#[actix_web::test]
async fn a_stale_if_match_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.newsroom_catalogue();
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    let created = app.create(&editor, &draft("Contested")).await;
    let first_tag = created.header("etag").unwrap().to_owned();
    let auth = format!("Bearer {editor}");

    let mine = app
        .json(
            Method::PATCH,
            "/api/v1/articles/contested",
            &json!({"headline": "Contested, first edit"}),
            &[("authorization", &auth), ("if-match", &first_tag)],
        )
        .await;
    assert_eq!(mine.status, 200, "{}", mine.text());
    let second_tag = mine.header("etag").unwrap().to_owned();
    assert_ne!(first_tag, second_tag);

    let stale = app
        .json(
            Method::PATCH,
            "/api/v1/articles/contested",
            &json!({"headline": "Overwrites the first edit"}),
            &[("authorization", &auth), ("if-match", &first_tag)],
        )
        .await;
    stale.assert_problem(412, "precondition_failed");
    let overlong = format!("{first_tag}, {}", "\"x\", ".repeat(300));
    let refused = app
        .json(
            Method::PATCH,
            "/api/v1/articles/contested",
            &json!({"headline": "Overwrites with a huge If-Match"}),
            &[("authorization", &auth), ("if-match", &overlong)],
        )
        .await;
    assert_eq!(refused.invalid_fields(), ["If-Match"]);
    let now = app
        .get_as("/api/v1/articles/contested", &editor)
        .await
        .json();
    assert_eq!(now["headline"], "Contested, first edit");
    assert_eq!(now["revision"], 2);
}

#[actix_web::test]
async fn edits_replace_fields_links_and_body() {
    let app = TestApp::spawn().await;
    app.newsroom_catalogue();
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    app.create(&editor, &draft("Edited")).await;

    let edited = app
        .send_as(
            Method::PATCH,
            "/api/v1/articles/edited",
            &json!({
                "authors": ["daniel"],
                "dateline": null,
                "body_markdown": "Only one paragraph now.",
                "access_level": "premium",
                "featured": true,
                "featured_rank": 2
            }),
            &editor,
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text());
    let article = edited.json();
    assert_eq!(article["authors"].as_array().unwrap().len(), 1);
    assert_eq!(article["authors"][0]["slug"], "daniel");
    assert_eq!(article["topic"]["slug"], "russia", "topics were left alone");
    assert_eq!(article["topics"].as_array().unwrap().len(), 2);
    assert_eq!(article["dateline"], Value::Null);
    assert_eq!(article["body"]["text"], "Only one paragraph now.");
    assert_eq!(article["word_count"], 4);
    assert_eq!(article["access_level"], "premium");
    assert_eq!(article["featured_rank"], 2);
    assert_eq!(
        article["original"]["source"]["slug"], "vedomosti",
        "untouched"
    );
}

#[actix_web::test]
async fn renaming_a_published_article_keeps_the_old_url_working() {
    let app = TestApp::spawn().await;
    app.newsroom_catalogue();
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    app.create(&editor, &draft("Old name")).await;
    app.send_as(
        Method::POST,
        "/api/v1/articles/old-name/publish",
        &json!({}),
        &editor,
    )
    .await;

    let renamed = app
        .send_as(
            Method::PATCH,
            "/api/v1/articles/old-name",
            &json!({"slug": "new-name"}),
            &editor,
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());

    let old = app.get("/api/v1/articles/old-name").await;
    assert_eq!(old.status, 301);
    assert_eq!(old.header("location"), Some("/api/v1/articles/new-name"));
    assert_eq!(app.get("/api/v1/articles/new-name").await.status, 200);

    app.create(&editor, &draft("Draft name")).await;
    app.send_as(
        Method::PATCH,
        "/api/v1/articles/draft-name",
        &json!({"slug": "final-name"}),
        &editor,
    )
    .await;
    app.get("/api/v1/articles/draft-name")
        .await
        .assert_problem(404, "not_found");

    let taken = app
        .send_as(
            Method::PATCH,
            "/api/v1/articles/final-name",
            &json!({"slug": "new-name"}),
            &editor,
        )
        .await;
    taken.assert_problem(409, "slug_taken");
}

#[actix_web::test]
async fn hostile_markdown_is_rendered_harmless() {
    let app = TestApp::spawn().await;
    app.newsroom_catalogue();
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    let mut body = draft("Hostile");
    body["body_markdown"] = json!(
        "<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1)) [data](data:text/html,hi)\n\n<a href=\"#\" onclick=\"steal()\">link</a>"
    );
    let article = app.create(&editor, &body).await.json();
    let html = article["body"]["html"].as_str().unwrap().to_lowercase();
    // Every real tag (not escaped text) is a harmless one without handlers.
    for tag in html
        .split('<')
        .skip(1)
        .map(|rest| rest.split('>').next().unwrap_or_default())
    {
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        assert!(
            ["p", "a", "h2", "em", "strong"].contains(&name.as_str()),
            "<{tag}> in {html}"
        );
        assert!(!tag.contains(" on"), "handler in <{tag}>");
        assert!(
            !tag.contains("javascript:") && !tag.contains("data:"),
            "<{tag}>"
        );
    }
    assert!(html.contains("&lt;script&gt;"), "{html}");
}

#[actix_web::test]
async fn drafts_are_validated_field_by_field() {
    let app = TestApp::spawn().await;
    app.newsroom_catalogue();
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;

    let mut body = draft("Bad");
    body["topic"] = json!("nowhere");
    body["authors"] = json!(["irina", "ghost"]);
    body["original"]["source"] = json!("unknown-outlet");
    let fields = app.create(&editor, &body).await.invalid_fields();
    assert_eq!(fields, ["topic", "authors[1]", "original.source"]);

    // A reference that cannot be a slug is refused before anything is looked up.
    let mut body = draft("Bad");
    body["topics"] = json!(["energy", "Not A Slug"]);
    body["original"]["source"] = json!("../etc");
    let fields = app.create(&editor, &body).await.invalid_fields();
    assert_eq!(fields, ["topics", "original.source"]);

    let mut body = draft("Bad");
    body["slug"] = json!("Not A Slug");
    body["hero_image"] = json!({"url": "javascript:alert(1)", "alt": "x"});
    body["kind"] = json!("video");
    let fields = app.create(&editor, &body).await.invalid_fields();
    assert_eq!(fields, ["slug", "hero_image.url", "video_url"]);

    let mut body = draft("Long credits");
    body["hero_image"] =
        json!({"url": "https://images.example/a.jpg", "alt": "x", "credit": "c".repeat(201)});
    body["original"]["translator"] = json!("t".repeat(201));
    body["original"]["title"] = json!("o".repeat(501));
    let fields = app.create(&editor, &body).await.invalid_fields();
    assert_eq!(
        fields,
        ["hero_image.credit", "original.title", "original.translator"],
        "every documented maxLength is enforced"
    );

    for field in ["status", "revision", "published_at", "id"] {
        let mut body = draft("Mass assignment");
        body[field] = json!("published");
        app.create(&editor, &body)
            .await
            .assert_problem(400, "malformed_body");
    }
    let mut body = draft("Explicit");
    body["slug"] = json!("explicit");
    assert_eq!(app.create(&editor, &body).await.status, 201);
    app.create(&editor, &body)
        .await
        .assert_problem(409, "slug_taken");
}

#[actix_web::test]
async fn unpublishing_archiving_and_deleting_take_an_article_away() {
    let app = TestApp::spawn().await;
    app.newsroom_catalogue();
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    for slug in ["one", "two", "three"] {
        let mut body = draft(slug);
        body["slug"] = json!(slug);
        app.create(&editor, &body).await;
        app.send_as(
            Method::POST,
            &format!("/api/v1/articles/{slug}/publish"),
            &json!({}),
            &editor,
        )
        .await;
        assert_eq!(
            app.get(&format!("/api/v1/articles/{slug}")).await.status,
            200
        );
    }

    let draft_again = app
        .send_as(
            Method::POST,
            "/api/v1/articles/one/unpublish",
            &json!({}),
            &editor,
        )
        .await;
    assert_eq!(draft_again.json()["status"], "draft");
    let archived = app
        .send_as(
            Method::POST,
            "/api/v1/articles/two/archive",
            &json!({}),
            &editor,
        )
        .await;
    assert_eq!(archived.json()["status"], "archived");
    let deleted = app
        .send_as(
            Method::DELETE,
            "/api/v1/articles/three",
            &json!({}),
            &editor,
        )
        .await;
    assert_eq!(deleted.status, 204);

    for slug in ["one", "two", "three"] {
        app.get(&format!("/api/v1/articles/{slug}"))
            .await
            .assert_problem(404, "not_found");
    }
    app.get_as("/api/v1/articles/three", &editor)
        .await
        .assert_problem(404, "not_found");
    let archive = app
        .get_as("/api/v1/articles?status=archived", &editor)
        .await
        .json();
    assert_eq!(archive["data"][0]["slug"], "two");
    assert_eq!(
        app.get("/api/v1/topics/russia").await.json()["article_count"],
        0
    );
}

#[actix_web::test]
async fn only_editors_and_admins_may_touch_the_newsroom() {
    let app = TestApp::spawn().await;
    app.newsroom_catalogue();
    let reader = app
        .token_with_role("reader@example.com", Role::Reader)
        .await;
    let admin = app.token_with_role("admin@example.com", Role::Admin).await;
    ArticleBuilder::new("existing").insert(&app);

    let operations: Vec<(Method, &str, Value)> = vec![
        (Method::POST, "/api/v1/articles", draft("Intruder")),
        (
            Method::PATCH,
            "/api/v1/articles/existing",
            json!({"headline": "Defaced"}),
        ),
        (Method::POST, "/api/v1/articles/existing/publish", json!({})),
        (
            Method::POST,
            "/api/v1/articles/existing/unpublish",
            json!({}),
        ),
        (Method::POST, "/api/v1/articles/existing/archive", json!({})),
        (Method::DELETE, "/api/v1/articles/existing", json!({})),
    ];
    for (method, path, body) in &operations {
        app.json(method.clone(), path, body, &[])
            .await
            .assert_problem(401, "unauthenticated");
        app.send_as(method.clone(), path, body, &reader)
            .await
            .assert_problem(403, "forbidden");
    }
    app.get("/api/v1/articles?status=draft")
        .await
        .assert_problem(401, "unauthenticated");
    app.get_as("/api/v1/articles?status=draft", &reader)
        .await
        .assert_problem(403, "forbidden");
    let public = app.get("/api/v1/articles/existing").await.json();
    assert_eq!(
        public["headline"], "Headline of existing",
        "nothing changed"
    );

    let by_admin = app.create(&admin, &draft("Admins write too")).await;
    assert_eq!(by_admin.status, 201);
}

#[actix_web::test]
async fn editors_curate_topics_authors_and_sources() {
    let app = TestApp::spawn().await;
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;

    let source = app
        .send_as(
            Method::POST,
            "/api/v1/sources",
            &json!({"name": "Le Courrier du Rhône", "country": "FR", "language": "fr", "homepage_url": "https://courrier.example"}),
            &editor,
        )
        .await;
    assert_eq!(source.status, 201, "{}", source.text());
    assert_eq!(source.json()["slug"], "le-courrier-du-rhone");

    let author = app
        .send_as(
            Method::POST,
            "/api/v1/authors",
            &json!({"name": "Margaux Dufresne", "bio": "Europe.", "affiliation": "le-courrier-du-rhone"}),
            &editor,
        )
        .await;
    assert_eq!(author.status, 201, "{}", author.text());
    assert_eq!(author.json()["affiliation"]["slug"], "le-courrier-du-rhone");

    let topic = app
        .send_as(
            Method::POST,
            "/api/v1/topics",
            &json!({"name": "Arctic", "description": "The far north."}),
            &editor,
        )
        .await;
    assert_eq!(topic.status, 201, "{}", topic.text());
    app.send_as(
        Method::POST,
        "/api/v1/topics",
        &json!({"name": "Arctic"}),
        &editor,
    )
    .await
    .assert_problem(409, "slug_taken");

    let renamed = app
        .send_as(
            Method::PATCH,
            "/api/v1/topics/arctic",
            &json!({"slug": "the-arctic", "name": "The Arctic"}),
            &editor,
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    assert_eq!(
        app.get("/api/v1/topics/the-arctic").await.json()["name"],
        "The Arctic"
    );
    let cleared = app
        .send_as(
            Method::PATCH,
            "/api/v1/authors/margaux-dufresne",
            &json!({"affiliation": null}),
            &editor,
        )
        .await;
    assert_eq!(cleared.json()["affiliation"], Value::Null);

    let mut body = draft("Uses them");
    body["topic"] = json!("the-arctic");
    body["topics"] = json!([]);
    body["authors"] = json!(["margaux-dufresne"]);
    body["original"] = json!({"source": "le-courrier-du-rhone"});
    assert_eq!(app.create(&editor, &body).await.status, 201);
    for path in [
        "/api/v1/topics/the-arctic",
        "/api/v1/authors/margaux-dufresne",
        "/api/v1/sources/le-courrier-du-rhone",
    ] {
        let refused = app.send_as(Method::DELETE, path, &json!({}), &editor).await;
        let problem = refused.assert_problem(409, "in_use");
        assert!(
            problem["detail"].as_str().unwrap().contains("1 article"),
            "{problem}"
        );
    }
    app.send_as(
        Method::DELETE,
        "/api/v1/articles/uses-them",
        &json!({}),
        &editor,
    )
    .await;
    for path in [
        "/api/v1/topics/the-arctic",
        "/api/v1/authors/margaux-dufresne",
        "/api/v1/sources/le-courrier-du-rhone",
    ] {
        assert_eq!(
            app.send_as(Method::DELETE, path, &json!({}), &editor)
                .await
                .status,
            204,
            "{path}"
        );
        app.get(path).await.assert_problem(404, "not_found");
    }

    let problem = app
        .send_as(
            Method::POST,
            "/api/v1/sources",
            &json!({"name": "", "country": "France", "language": "FR"}),
            &editor,
        )
        .await
        .assert_problem(400, "validation_failed");
    assert_eq!(problem["errors"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn readers_cannot_curate_the_catalogue() {
    let app = TestApp::spawn().await;
    app.newsroom_catalogue();
    let reader = app
        .token_with_role("reader@example.com", Role::Reader)
        .await;
    let operations: Vec<(Method, &str, Value)> = vec![
        (Method::POST, "/api/v1/topics", json!({"name": "Spam"})),
        (
            Method::PATCH,
            "/api/v1/topics/russia",
            json!({"name": "Spam"}),
        ),
        (Method::DELETE, "/api/v1/topics/russia", json!({})),
        (Method::POST, "/api/v1/authors", json!({"name": "Spam"})),
        (
            Method::PATCH,
            "/api/v1/authors/irina",
            json!({"name": "Spam"}),
        ),
        (Method::DELETE, "/api/v1/authors/irina", json!({})),
        (
            Method::POST,
            "/api/v1/sources",
            json!({"name": "Spam", "country": "XX", "language": "xx"}),
        ),
        (
            Method::PATCH,
            "/api/v1/sources/vedomosti",
            json!({"name": "Spam"}),
        ),
        (Method::DELETE, "/api/v1/sources/vedomosti", json!({})),
    ];
    for (method, path, body) in &operations {
        app.json(method.clone(), path, body, &[])
            .await
            .assert_problem(401, "unauthenticated");
        app.send_as(method.clone(), path, body, &reader)
            .await
            .assert_problem(403, "forbidden");
    }
    assert_eq!(
        app.get("/api/v1/topics/russia").await.json()["name"],
        "Russia"
    );
}

#[actix_web::test]
async fn a_path_that_is_no_slug_is_a_404_naming_its_resource() {
    let app = TestApp::spawn().await;
    app.newsroom_catalogue();
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    let too_long = "a".repeat(121);
    for (path, what) in [
        ("/api/v1/articles/Not-A-Slug", "article"),
        (&*format!("/api/v1/articles/{too_long}"), "article"),
        ("/api/v1/topics/under_score", "topic"),
        ("/api/v1/authors/-dash", "author"),
        ("/api/v1/sources/double--dash", "source"),
    ] {
        let problem = app.get(path).await.assert_problem(404, "not_found");
        assert_eq!(
            problem["detail"],
            format!("No {what} matches this request."),
            "{path}"
        );
    }
    // For writes too, and only once the role is settled: whoever may not
    // write learns nothing about the path.
    let reader = app
        .token_with_role("reader@example.com", Role::Reader)
        .await;
    let rename = json!({"name": "x"});
    for (token, status, code) in [(&editor, 404, "not_found"), (&reader, 403, "forbidden")] {
        app.send_as(Method::PATCH, "/api/v1/topics/UPPER", &rename, token)
            .await
            .assert_problem(status, code);
        app.send_as(
            Method::POST,
            "/api/v1/articles/Bad/archive",
            &json!(null),
            token,
        )
        .await
        .assert_problem(status, code);
    }
    app.json(
        Method::PATCH,
        "/api/v1/topics/UPPER",
        &json!({"name": "x"}),
        &[],
    )
    .await
    .assert_problem(401, "unauthenticated");
    app.send_as(
        Method::POST,
        "/api/v1/articles/Bad/publish",
        &json!(null),
        &editor,
    )
    .await
    .assert_problem(404, "not_found");
}

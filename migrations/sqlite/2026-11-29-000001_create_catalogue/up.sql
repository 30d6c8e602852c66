-- The catalogue: foreign outlets, authors, topics and the articles that tie them together.
-- Timestamps are UTC, written by the application.

CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    language TEXT NOT NULL,
    homepage_url TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE authors (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    bio TEXT NOT NULL DEFAULT '',
    avatar_url TEXT,
    affiliation_source_id BIGINT REFERENCES sources (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE topics (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    headline TEXT NOT NULL,
    dek TEXT NOT NULL,
    dateline TEXT,
    hero_image_url TEXT,
    hero_image_alt TEXT,
    hero_image_caption TEXT,
    hero_image_credit TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('news', 'analysis', 'opinion', 'video')),
    video_url TEXT,
    original_source_id BIGINT REFERENCES sources (id) ON DELETE RESTRICT,
    original_language TEXT,
    original_title TEXT,
    original_url TEXT,
    translator TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'published', 'archived')),
    access_level TEXT NOT NULL CHECK (access_level IN ('free', 'metered', 'premium')),
    featured BOOLEAN NOT NULL DEFAULT FALSE,
    featured_rank INTEGER,
    publish_at TIMESTAMP,
    published_at TIMESTAMP,
    word_count INTEGER NOT NULL,
    reading_time_minutes INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (status <> 'published' OR published_at IS NOT NULL)
);

-- Keyset pagination over what the public sees, newest first, and its
-- filters. Status leads each index (rather than a partial-index condition) so
-- that the indexes serve queries whose status is a bound parameter.
CREATE INDEX articles_status_published_idx ON articles (status, published_at DESC, id DESC);
CREATE INDEX articles_source_published_idx ON articles (status, original_source_id, published_at DESC, id DESC);
CREATE INDEX articles_language_published_idx ON articles (status, original_language, published_at DESC, id DESC);
CREATE INDEX articles_kind_published_idx ON articles (status, kind, published_at DESC, id DESC);
CREATE INDEX articles_featured_published_idx ON articles (status, featured, published_at DESC, id DESC);

-- Bodies live apart from the rows that lists scan, so that listing and
-- filtering never read (or page through) the text.
CREATE TABLE article_bodies (
    article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    body_text TEXT NOT NULL,
    preview_html TEXT NOT NULL,
    preview_text TEXT NOT NULL
);

CREATE TABLE article_authors (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES authors (id) ON DELETE RESTRICT,
    position INTEGER NOT NULL,
    PRIMARY KEY (article_id, author_id)
);
CREATE INDEX article_authors_author_idx ON article_authors (author_id, article_id);

CREATE TABLE article_topics (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    topic_id BIGINT NOT NULL REFERENCES topics (id) ON DELETE RESTRICT,
    is_primary BOOLEAN NOT NULL,
    PRIMARY KEY (article_id, topic_id)
);
CREATE INDEX article_topics_topic_idx ON article_topics (topic_id, article_id);
-- An article has at most one primary topic (its kicker).
CREATE UNIQUE INDEX article_topics_one_primary_idx ON article_topics (article_id) WHERE is_primary;

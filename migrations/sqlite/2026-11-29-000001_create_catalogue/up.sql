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
    -- The article's published_at while it is published, else NULL (see below).
    published_at TIMESTAMP,
    PRIMARY KEY (article_id, author_id)
);
CREATE INDEX article_authors_author_published_idx
    ON article_authors (author_id, published_at DESC, article_id DESC);

CREATE TABLE article_topics (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    topic_id BIGINT NOT NULL REFERENCES topics (id) ON DELETE RESTRICT,
    is_primary BOOLEAN NOT NULL,
    -- The article's published_at while it is published, else NULL (see below).
    published_at TIMESTAMP,
    PRIMARY KEY (article_id, topic_id)
);
CREATE INDEX article_topics_topic_published_idx
    ON article_topics (topic_id, published_at DESC, article_id DESC);
-- An article has at most one primary topic (its kicker).
CREATE UNIQUE INDEX article_topics_one_primary_idx ON article_topics (article_id) WHERE is_primary;

-- Link rows carry their article's publication time while it is published, so
-- that counting and listing by topic or author reads one index instead of
-- joining every article. The database keeps the copies exact on every write
-- path: whatever inserts a link or changes an article's status or time.
CREATE TRIGGER article_topics_copy_publication AFTER INSERT ON article_topics
BEGIN
    UPDATE article_topics
       SET published_at = (SELECT CASE WHEN a.status = 'published' THEN a.published_at END
                             FROM articles a WHERE a.id = NEW.article_id)
     WHERE article_id = NEW.article_id AND topic_id = NEW.topic_id;
END;

CREATE TRIGGER article_authors_copy_publication AFTER INSERT ON article_authors
BEGIN
    UPDATE article_authors
       SET published_at = (SELECT CASE WHEN a.status = 'published' THEN a.published_at END
                             FROM articles a WHERE a.id = NEW.article_id)
     WHERE article_id = NEW.article_id AND author_id = NEW.author_id;
END;

CREATE TRIGGER articles_copy_publication AFTER UPDATE OF status, published_at ON articles
BEGIN
    UPDATE article_topics
       SET published_at = CASE WHEN NEW.status = 'published' THEN NEW.published_at END
     WHERE article_id = NEW.id;
    UPDATE article_authors
       SET published_at = CASE WHEN NEW.status = 'published' THEN NEW.published_at END
     WHERE article_id = NEW.id;
END;

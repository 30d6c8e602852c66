-- Readership: views of each published article, counted per hour (UTC).
-- The API aggregates views in memory and adds them here in batches, so a
-- read never waits for a write of its own.
CREATE TABLE article_views (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    -- The start of the hour the views happened in.
    hour TIMESTAMP NOT NULL,
    views INTEGER NOT NULL CHECK (views >= 0),
    PRIMARY KEY (article_id, hour)
);
-- Rankings read a window of hours across all articles.
CREATE INDEX article_views_by_hour ON article_views (hour, article_id, views);

-- The paywall's meter: which metered articles each reader has read in a
-- calendar month (UTC). A reader is `user:<id>` or `anon:<meter token id>`.
-- Counting distinct articles is counting rows; a re-read inserts nothing.
CREATE TABLE meter_reads (
    reader TEXT COLLATE "C" NOT NULL,
    month TEXT NOT NULL,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    read_at TIMESTAMP NOT NULL,
    PRIMARY KEY (reader, month, article_id)
);

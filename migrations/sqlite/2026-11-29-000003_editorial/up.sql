-- The newsroom: article revisions for optimistic locking, redirects from
-- old slugs, and the audit trail of editorial and administrative changes.

-- Incremented by every change; editors' ETags are built from it so that
-- If-Match detects someone else's edit.
ALTER TABLE articles ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;

-- When a published article's slug changes, its old URL keeps working.
CREATE TABLE article_redirects (
    old_slug TEXT NOT NULL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE
);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    actor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    -- e.g. article.create, article.publish, topic.delete, user.update
    action TEXT NOT NULL,
    -- What it acted on, e.g. article:the-port-that-froze-early or user:42.
    target TEXT NOT NULL,
    -- A short JSON summary of the change.
    details TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_at_idx ON audit_events (at DESC, id DESC);

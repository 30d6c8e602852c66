-- What readers without access may search: headline (A), dek (B) and the
-- body (C) only as far as everyone may read it (whole for free articles,
-- the preview for the rest). Readers who may read everything match
-- `document`; the others `visible`, so hidden text can never decide whether
-- an article matches. Kept current by the same triggers, which now also
-- fire when the access level or the preview changes.
ALTER TABLE article_search ADD COLUMN visible TSVECTOR;

UPDATE article_search s
SET visible = setweight(to_tsvector('simple', a.headline), 'A')
              || setweight(to_tsvector('simple', a.dek), 'B')
              || setweight(to_tsvector('simple', COALESCE(
                     CASE WHEN a.access_level = 'free' THEN b.body_text ELSE b.preview_text END,
                     '')), 'C')
FROM articles a LEFT JOIN article_bodies b ON b.article_id = a.id
WHERE a.id = s.article_id;

ALTER TABLE article_search ALTER COLUMN visible SET NOT NULL;
CREATE INDEX article_search_visible ON article_search USING GIN (visible);

CREATE OR REPLACE FUNCTION refresh_article_search(target BIGINT) RETURNS VOID
LANGUAGE SQL AS $$
    INSERT INTO article_search (article_id, document, heading, visible)
    SELECT a.id,
           setweight(to_tsvector('simple', a.headline), 'A')
           || setweight(to_tsvector('simple', a.dek), 'B')
           || setweight(to_tsvector('simple', COALESCE(b.body_text, '')), 'C'),
           setweight(to_tsvector('simple', a.headline), 'A')
           || setweight(to_tsvector('simple', a.dek), 'B'),
           setweight(to_tsvector('simple', a.headline), 'A')
           || setweight(to_tsvector('simple', a.dek), 'B')
           || setweight(to_tsvector('simple', COALESCE(
                  CASE WHEN a.access_level = 'free' THEN b.body_text ELSE b.preview_text END,
                  '')), 'C')
    FROM articles a LEFT JOIN article_bodies b ON b.article_id = a.id
    WHERE a.id = target
    ON CONFLICT (article_id) DO UPDATE
    SET document = EXCLUDED.document, heading = EXCLUDED.heading, visible = EXCLUDED.visible;
$$;

DROP TRIGGER article_search_article ON articles;
CREATE TRIGGER article_search_article
AFTER INSERT OR UPDATE OF headline, dek, access_level ON articles
FOR EACH ROW EXECUTE FUNCTION article_search_from_article();

DROP TRIGGER article_search_body ON article_bodies;
CREATE TRIGGER article_search_body
AFTER INSERT OR UPDATE OF body_text, preview_text ON article_bodies
FOR EACH ROW EXECUTE FUNCTION article_search_from_body();

-- Anonymous meters that have counted a read, and the last month they did:
-- a meter seen before is a returning reader, not a new meter to count
-- against its address.
CREATE TABLE anonymous_meters (
    meter TEXT PRIMARY KEY,
    last_month TEXT NOT NULL
);

-- Anonymous meters started per client address (an IPv6 /64) and month.
CREATE TABLE meter_starts (
    address TEXT NOT NULL,
    month TEXT NOT NULL,
    starts BIGINT NOT NULL,
    PRIMARY KEY (address, month)
);

-- Which rule rendered what is stored: start-up renders stored previews
-- again when the code's rule is newer (1: whole blocks up to 60 words; 2:
-- at most 30% of the words, cut at a sentence inside a long block).
CREATE TABLE render_versions (
    what TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
INSERT INTO render_versions (what, version) VALUES ('preview', 1);

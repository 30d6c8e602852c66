-- Ranks searches by headline and dek only. ts_rank over the whole document
-- read every matching article's body vector (about 4 KB each, stored out of
-- line): half a second for a common word at 100,000 articles. The heading
-- vector is small and stays in the row, which also makes the table small
-- enough that the planner picks the GIN index. Matching still uses the
-- whole document; body-only matches rank equal and come newest first.
ALTER TABLE article_search ADD COLUMN heading TSVECTOR;

UPDATE article_search s
SET heading = setweight(to_tsvector('simple', a.headline), 'A')
              || setweight(to_tsvector('simple', a.dek), 'B')
FROM articles a
WHERE a.id = s.article_id;

ALTER TABLE article_search ALTER COLUMN heading SET NOT NULL;

CREATE OR REPLACE FUNCTION refresh_article_search(target BIGINT) RETURNS VOID
LANGUAGE SQL AS $$
    INSERT INTO article_search (article_id, document, heading)
    SELECT a.id,
           setweight(to_tsvector('simple', a.headline), 'A')
           || setweight(to_tsvector('simple', a.dek), 'B')
           || setweight(to_tsvector('simple', COALESCE(b.body_text, '')), 'C'),
           setweight(to_tsvector('simple', a.headline), 'A')
           || setweight(to_tsvector('simple', a.dek), 'B')
    FROM articles a LEFT JOIN article_bodies b ON b.article_id = a.id
    WHERE a.id = target
    ON CONFLICT (article_id) DO UPDATE
    SET document = EXCLUDED.document, heading = EXCLUDED.heading;
$$;

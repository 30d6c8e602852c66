CREATE OR REPLACE FUNCTION refresh_article_search(target BIGINT) RETURNS VOID
LANGUAGE SQL AS $$
    INSERT INTO article_search (article_id, document)
    SELECT a.id,
           setweight(to_tsvector('simple', a.headline), 'A')
           || setweight(to_tsvector('simple', a.dek), 'B')
           || setweight(to_tsvector('simple', COALESCE(b.body_text, '')), 'C')
    FROM articles a LEFT JOIN article_bodies b ON b.article_id = a.id
    WHERE a.id = target
    ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document;
$$;

ALTER TABLE article_search DROP COLUMN heading;

DROP TABLE render_versions;
DROP TABLE meter_starts;
DROP TABLE anonymous_meters;
DROP TRIGGER article_search_body ON article_bodies;
CREATE TRIGGER article_search_body
AFTER INSERT OR UPDATE OF body_text ON article_bodies
FOR EACH ROW EXECUTE FUNCTION article_search_from_body();
DROP TRIGGER article_search_article ON articles;
CREATE TRIGGER article_search_article
AFTER INSERT OR UPDATE OF headline, dek ON articles
FOR EACH ROW EXECUTE FUNCTION article_search_from_article();
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
DROP INDEX article_search_visible;
ALTER TABLE article_search DROP COLUMN visible;

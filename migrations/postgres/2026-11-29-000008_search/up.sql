-- Full-text search over headline (weight A), dek (B) and body (C), kept
-- current by triggers whatever writes the articles. The `simple`
-- configuration lowercases without stemming or stop words, splitting words
-- the way the API's query parser and SQLite's unicode61 tokenizer do.
CREATE TABLE article_search (
    article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    document TSVECTOR NOT NULL
);
CREATE INDEX article_search_document ON article_search USING GIN (document);

CREATE FUNCTION refresh_article_search(target BIGINT) RETURNS VOID
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

CREATE FUNCTION article_search_from_article() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_article_search(NEW.id);
    RETURN NULL;
END;
$$;

CREATE FUNCTION article_search_from_body() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_article_search(NEW.article_id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER article_search_article
AFTER INSERT OR UPDATE OF headline, dek ON articles
FOR EACH ROW EXECUTE FUNCTION article_search_from_article();

CREATE TRIGGER article_search_body
AFTER INSERT OR UPDATE OF body_text ON article_bodies
FOR EACH ROW EXECUTE FUNCTION article_search_from_body();

INSERT INTO article_search (article_id, document)
SELECT a.id,
       setweight(to_tsvector('simple', a.headline), 'A')
       || setweight(to_tsvector('simple', a.dek), 'B')
       || setweight(to_tsvector('simple', COALESCE(b.body_text, '')), 'C')
FROM articles a LEFT JOIN article_bodies b ON b.article_id = a.id;

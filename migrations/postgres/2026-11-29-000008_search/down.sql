DROP TRIGGER article_search_body ON article_bodies;
DROP TRIGGER article_search_article ON articles;
DROP FUNCTION article_search_from_body();
DROP FUNCTION article_search_from_article();
DROP FUNCTION refresh_article_search(BIGINT);
DROP TABLE article_search;

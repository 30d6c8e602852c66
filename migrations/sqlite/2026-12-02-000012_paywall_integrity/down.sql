DROP TABLE render_versions;
DROP TABLE meter_starts;
DROP TRIGGER article_search_public_body_update;
DROP TRIGGER article_search_public_body_insert;
DROP TRIGGER article_search_public_delete;
DROP TRIGGER article_search_public_update;
DROP TRIGGER article_search_public_insert;
DROP TABLE article_search_public;

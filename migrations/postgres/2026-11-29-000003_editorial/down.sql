DROP TABLE audit_events;
DROP TABLE article_redirects;
ALTER TABLE articles DROP COLUMN revision;

DROP TABLE article_topics;
DROP TABLE article_authors;
DROP TABLE articles;
DROP TABLE topics;
DROP TABLE authors;
DROP TABLE sources;

DROP TABLE article_topics;
DROP TABLE article_authors;
DROP TABLE article_bodies;
DROP TABLE articles;
DROP TABLE topics;
DROP TABLE authors;
DROP TABLE sources;

DROP TABLE article_views;

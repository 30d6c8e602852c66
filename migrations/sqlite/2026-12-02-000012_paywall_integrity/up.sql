-- What readers without access may search: headline, dek, and the body only
-- as far as everyone may read it (whole for free articles, the preview for
-- the rest). Readers who may read everything search article_search; the
-- others this index, so hidden text can never decide whether an article
-- matches. Kept current by the same kinds of triggers.
CREATE VIRTUAL TABLE article_search_public USING fts5(
    headline, dek, body,
    tokenize = 'unicode61 remove_diacritics 0'
);

INSERT INTO article_search_public (rowid, headline, dek, body)
SELECT a.id, a.headline, a.dek,
       COALESCE(CASE WHEN a.access_level = 'free' THEN b.body_text ELSE b.preview_text END, '')
FROM articles a LEFT JOIN article_bodies b ON b.article_id = a.id;

CREATE TRIGGER article_search_public_insert AFTER INSERT ON articles BEGIN
    INSERT INTO article_search_public (rowid, headline, dek, body)
    VALUES (NEW.id, NEW.headline, NEW.dek, '');
END;

CREATE TRIGGER article_search_public_update AFTER UPDATE OF headline, dek, access_level ON articles BEGIN
    UPDATE article_search_public
    SET headline = NEW.headline,
        dek = NEW.dek,
        body = COALESCE((
            SELECT CASE WHEN NEW.access_level = 'free' THEN b.body_text ELSE b.preview_text END
            FROM article_bodies b WHERE b.article_id = NEW.id), '')
    WHERE rowid = NEW.id;
END;

CREATE TRIGGER article_search_public_delete AFTER DELETE ON articles BEGIN
    DELETE FROM article_search_public WHERE rowid = OLD.id;
END;

CREATE TRIGGER article_search_public_body_insert AFTER INSERT ON article_bodies BEGIN
    UPDATE article_search_public
    SET body = (SELECT CASE WHEN a.access_level = 'free' THEN NEW.body_text ELSE NEW.preview_text END
                FROM articles a WHERE a.id = NEW.article_id)
    WHERE rowid = NEW.article_id;
END;

CREATE TRIGGER article_search_public_body_update AFTER UPDATE OF body_text, preview_text ON article_bodies BEGIN
    UPDATE article_search_public
    SET body = (SELECT CASE WHEN a.access_level = 'free' THEN NEW.body_text ELSE NEW.preview_text END
                FROM articles a WHERE a.id = NEW.article_id)
    WHERE rowid = NEW.article_id;
END;

-- Anonymous meters that have counted a read, and the last month they did:
-- a meter seen before is a returning reader, not a new meter to count
-- against its address.
CREATE TABLE anonymous_meters (
    meter TEXT PRIMARY KEY,
    last_month TEXT NOT NULL
);

-- Anonymous meters started per client address (an IPv6 /64) and month.
CREATE TABLE meter_starts (
    address TEXT NOT NULL,
    month TEXT NOT NULL,
    starts BIGINT NOT NULL,
    PRIMARY KEY (address, month)
);

-- Which rule rendered what is stored: start-up renders stored previews
-- again when the code's rule is newer (1: whole blocks up to 60 words; 2:
-- at most 30% of the words, cut at a sentence inside a long block).
CREATE TABLE render_versions (
    what TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
INSERT INTO render_versions (what, version) VALUES ('preview', 1);

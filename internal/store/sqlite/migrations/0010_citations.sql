-- 0010_citations: the sections each answer cited, one row each, so that the
-- book's owners can see which sections answer the most questions without
-- reading every answer's JSON.
--
-- A trigger fills it from every answer stored (messages are never updated),
-- one row per source that names its page. The rows go with their answer: a
-- deleted conversation or account takes its citations along.

CREATE TABLE citations (
    message_id TEXT    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL, -- the reader who got the answer, to count readers
    rank       INTEGER NOT NULL, -- 0 for the first source of the answer
    slug       TEXT    NOT NULL,
    url        TEXT    NOT NULL, -- the section: its page and heading anchor
    heading    TEXT    NOT NULL,
    created_at INTEGER NOT NULL, -- the answer's
    PRIMARY KEY (message_id, rank)
) STRICT;

CREATE INDEX citations_created_at_idx ON citations (created_at);

CREATE TRIGGER messages_citations AFTER INSERT ON messages
WHEN NEW.sources IS NOT NULL AND NEW.role = 'assistant' AND json_type(NEW.sources) = 'array'
BEGIN
    INSERT INTO citations (message_id, user_id, rank, slug, url, heading, created_at)
    SELECT NEW.id, NEW.user_id, CAST(j.key AS INTEGER), json_extract(j.value, '$.slug'),
           coalesce(nullif(json_extract(j.value, '$.url'), ''), '/docs/' || json_extract(j.value, '$.slug')),
           ifnull(json_extract(j.value, '$.heading'), ''), NEW.created_at
    FROM json_each(NEW.sources) j
    WHERE json_type(j.value) = 'object' AND ifnull(json_extract(j.value, '$.slug'), '') <> '';
END;

INSERT INTO citations (message_id, user_id, rank, slug, url, heading, created_at)
SELECT m.id, m.user_id, CAST(j.key AS INTEGER), json_extract(j.value, '$.slug'),
       coalesce(nullif(json_extract(j.value, '$.url'), ''), '/docs/' || json_extract(j.value, '$.slug')),
       ifnull(json_extract(j.value, '$.heading'), ''), m.created_at
FROM messages m, json_each(m.sources) j
WHERE m.sources IS NOT NULL AND m.role = 'assistant' AND json_type(m.sources) = 'array' AND json_type(j.value) = 'object' AND ifnull(json_extract(j.value, '$.slug'), '') <> '';

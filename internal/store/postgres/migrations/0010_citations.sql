-- 0010_citations: the sections each answer cited, one row each, so that the
-- book's owners can see which sections answer the most questions without
-- reading every answer's JSON.
--
-- A trigger fills it from every answer stored (messages are never updated),
-- one row per source that names its page. The rows go with their answer: a
-- deleted conversation or account takes its citations along.

CREATE TABLE citations (
    message_id text        NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    text        NOT NULL, -- the reader who got the answer, to count readers
    rank       integer     NOT NULL, -- 0 for the first source of the answer
    slug       text        NOT NULL,
    url        text        NOT NULL, -- the section: its page and heading anchor
    heading    text        NOT NULL,
    created_at timestamptz NOT NULL, -- the answer's
    PRIMARY KEY (message_id, rank)
);

CREATE INDEX citations_created_at_idx ON citations (created_at);

CREATE FUNCTION messages_citations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO citations (message_id, user_id, rank, slug, url, heading, created_at)
    SELECT NEW.id, NEW.user_id, (j.ord - 1)::integer, j.value->>'slug',
           coalesce(nullif(j.value->>'url', ''), '/docs/' || (j.value->>'slug')),
           coalesce(j.value->>'heading', ''), NEW.created_at
    FROM jsonb_array_elements(NEW.sources) WITH ORDINALITY AS j(value, ord)
    WHERE jsonb_typeof(j.value) = 'object' AND coalesce(j.value->>'slug', '') <> '';
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_citations AFTER INSERT ON messages
FOR EACH ROW WHEN (NEW.sources IS NOT NULL AND NEW.role = 'assistant' AND jsonb_typeof(NEW.sources) = 'array')
EXECUTE FUNCTION messages_citations();

INSERT INTO citations (message_id, user_id, rank, slug, url, heading, created_at)
SELECT m.id, m.user_id, (j.ord - 1)::integer, j.value->>'slug',
       coalesce(nullif(j.value->>'url', ''), '/docs/' || (j.value->>'slug')),
       coalesce(j.value->>'heading', ''), m.created_at
FROM messages m, jsonb_array_elements(m.sources) WITH ORDINALITY AS j(value, ord)
WHERE m.sources IS NOT NULL AND m.role = 'assistant' AND jsonb_typeof(m.sources) = 'array'
  AND jsonb_typeof(j.value) = 'object' AND coalesce(j.value->>'slug', '') <> '';

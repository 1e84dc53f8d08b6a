-- 0014_insights_rated_down: a copy of each answer rated down, with its
-- question, beside its rating, so that the owners' list of answers rated
-- down reads its newest 500 rows in order from one small table.
--
-- The list used to look each answer and its question up among all the
-- messages: 1,000 lookups scattered over the whole table, fast when they
-- are in memory but slow when an owner opens a span nobody read lately
-- (docs/benchmarks.md). The copy is made, replaced and removed by a
-- trigger on the ratings, in the transaction that writes them; a deleted
-- answer takes its rating, and so its copy, along. Each copy is its
-- answer's own row, which no other writer shares.

LOCK TABLE message_feedback IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE insights_rated_down (
    message_id text        PRIMARY KEY,
    rated_at   timestamptz NOT NULL,
    question   text        NOT NULL,
    answer     text        NOT NULL,
    sources    jsonb,
    comment    text        NOT NULL
);

CREATE INDEX insights_rated_down_rated_at_idx ON insights_rated_down (rated_at);

DROP INDEX message_feedback_down_idx;

CREATE FUNCTION insights_rating_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM insights_rated_down WHERE message_id = OLD.message_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.rating = 'down' THEN
        INSERT INTO insights_rated_down (message_id, rated_at, question, answer, sources, comment)
        SELECT a.id, NEW.updated_at, coalesce(q.content, ''), a.content, a.sources, NEW.comment
        FROM messages a LEFT JOIN messages q ON q.id = a.parent_id WHERE a.id = NEW.message_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER insights_rating_changed AFTER INSERT OR UPDATE OR DELETE ON message_feedback
FOR EACH ROW EXECUTE FUNCTION insights_rating_changed();

INSERT INTO insights_rated_down (message_id, rated_at, question, answer, sources, comment)
SELECT a.id, f.updated_at, coalesce(q.content, ''), a.content, a.sources, f.comment
FROM message_feedback f JOIN messages a ON a.id = f.message_id LEFT JOIN messages q ON q.id = a.parent_id
WHERE f.rating = 'down';

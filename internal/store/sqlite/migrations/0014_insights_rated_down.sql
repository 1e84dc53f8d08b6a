-- 0014_insights_rated_down: a copy of each answer rated down, with its
-- question, beside its rating, so that the owners' list of answers rated
-- down reads its newest 500 rows in order from one small table.
--
-- The list used to look each answer and its question up among all the
-- messages: 1,000 lookups scattered over the whole file, 6-8 ms when they
-- are in memory but 0.3-2.4 s when an owner opens a span nobody read
-- lately (docs/benchmarks.md). The copy is made, replaced and removed by
-- triggers on the ratings, in the transaction that writes them; a deleted
-- answer takes its rating, and so its copy, along.

CREATE TABLE insights_rated_down (
    message_id TEXT    NOT NULL PRIMARY KEY,
    rated_at   INTEGER NOT NULL,
    question   TEXT    NOT NULL,
    answer     TEXT    NOT NULL,
    sources    TEXT,
    comment    TEXT    NOT NULL
) STRICT;

CREATE INDEX insights_rated_down_rated_at_idx ON insights_rated_down (rated_at);

DROP INDEX message_feedback_down_idx;

CREATE TRIGGER insights_rating_added AFTER INSERT ON message_feedback WHEN NEW.rating = 'down'
BEGIN
    INSERT INTO insights_rated_down (message_id, rated_at, question, answer, sources, comment)
    SELECT a.id, NEW.updated_at, ifnull(q.content, ''), a.content, a.sources, NEW.comment
    FROM messages a LEFT JOIN messages q ON q.id = a.parent_id WHERE a.id = NEW.message_id;
END;

CREATE TRIGGER insights_rating_changed AFTER UPDATE ON message_feedback
BEGIN
    DELETE FROM insights_rated_down WHERE message_id = OLD.message_id;
    INSERT INTO insights_rated_down (message_id, rated_at, question, answer, sources, comment)
    SELECT a.id, NEW.updated_at, ifnull(q.content, ''), a.content, a.sources, NEW.comment
    FROM messages a LEFT JOIN messages q ON q.id = a.parent_id WHERE a.id = NEW.message_id AND NEW.rating = 'down';
END;

CREATE TRIGGER insights_rating_removed AFTER DELETE ON message_feedback
BEGIN
    DELETE FROM insights_rated_down WHERE message_id = OLD.message_id;
END;

INSERT INTO insights_rated_down (message_id, rated_at, question, answer, sources, comment)
SELECT a.id, f.updated_at, ifnull(q.content, ''), a.content, a.sources, f.comment
FROM message_feedback f JOIN messages a ON a.id = f.message_id LEFT JOIN messages q ON q.id = a.parent_id
WHERE f.rating = 'down';

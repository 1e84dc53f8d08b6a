-- 0013_insights_key_readers: the readers of each page and section, day by
-- day, so that the distinct readers of any span of days can be counted
-- from a few thousand rows.
--
-- Migration 0011 counted a page's readers by the day of each reader's
-- latest question from it, which answers only spans that reach the newest
-- question; any earlier span read every question of the span (0.8-2.2 s
-- at a million questions, docs/benchmarks.md). Now each row of
-- insights_key_days lists its readers: one entry per question or citation,
-- the reader's number in insights_readers, each followed by a comma
-- ("12,345,12,"). A span's readers are the distinct numbers in its rows,
-- counted by the store in Go. A question or citation adds its entry; a
-- deleted one takes exactly one entry of its reader away.
--
-- Numbers stand for readers so that the lists stay short. A reader's
-- number is removed with their account (DeleteUser), after the cascades
-- that take their entries away.

CREATE TABLE insights_readers (
    num     INTEGER PRIMARY KEY,
    user_id TEXT    NOT NULL UNIQUE
) STRICT;

DROP TRIGGER insights_question_added;
DROP TRIGGER insights_question_removed;
DROP TRIGGER insights_citation_added;
DROP TRIGGER insights_citation_removed;
DROP TRIGGER insights_rebuild;
DROP TABLE insights_key_readers;
ALTER TABLE insights_key_days DROP COLUMN last_readers;
ALTER TABLE insights_key_days ADD COLUMN readers TEXT NOT NULL DEFAULT '';

-- The pages and sections ever counted, so that a span's rows are read by
-- seeking each key's days (kind, key, day) rather than reading every day
-- of every key: at a million questions, the sections' rows of 90 days are
-- 60 MB, which a span of 30 days read in full when not in memory (0.45 s).
-- A key stays when its rows go; it only costs a seek.
CREATE TABLE insights_keys (
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER insights_key_added AFTER INSERT ON insights_key_days
BEGIN
    INSERT INTO insights_keys (kind, key) VALUES (NEW.kind, NEW.key) ON CONFLICT DO NOTHING;
END;

-- A question: one more for its day, and for its page with its reader's
-- entry; the reader is one of the day's readers from their first question
-- of it.
CREATE TRIGGER insights_question_added AFTER INSERT ON messages WHEN NEW.role = 'user'
BEGIN
    INSERT INTO insights_days (day, questions, readers)
    VALUES (NEW.created_at / 86400000000, 1, NOT EXISTS (
        SELECT 1 FROM insights_reader_days WHERE day = NEW.created_at / 86400000000 AND user_id = NEW.user_id))
    ON CONFLICT (day) DO UPDATE SET questions = questions + 1, readers = readers + excluded.readers;
    INSERT INTO insights_reader_days (day, user_id, questions)
    VALUES (NEW.created_at / 86400000000, NEW.user_id, 1)
    ON CONFLICT (day, user_id) DO UPDATE SET questions = questions + 1;

    INSERT INTO insights_readers (user_id) VALUES (NEW.user_id)
    ON CONFLICT (user_id) DO NOTHING;
    INSERT INTO insights_key_days (kind, key, day, n, readers)
    SELECT 'page', NEW.page, NEW.created_at / 86400000000, 1, num || ',' FROM insights_readers
    WHERE user_id = NEW.user_id AND NEW.page <> ''
    ON CONFLICT (kind, key, day) DO UPDATE SET n = n + 1, readers = readers || excluded.readers;
END;

-- A question deleted: the reverse.
CREATE TRIGGER insights_question_removed AFTER DELETE ON messages WHEN OLD.role = 'user'
BEGIN
    UPDATE insights_reader_days SET questions = questions - 1
    WHERE day = OLD.created_at / 86400000000 AND user_id = OLD.user_id;
    UPDATE insights_days SET questions = questions - 1, readers = readers - EXISTS (
        SELECT 1 FROM insights_reader_days WHERE day = OLD.created_at / 86400000000 AND user_id = OLD.user_id AND questions = 0)
    WHERE day = OLD.created_at / 86400000000;
    DELETE FROM insights_reader_days WHERE day = OLD.created_at / 86400000000 AND user_id = OLD.user_id AND questions = 0;
    DELETE FROM insights_days WHERE day = OLD.created_at / 86400000000 AND questions = 0;

    UPDATE insights_key_days AS d SET n = d.n - 1, readers = CASE
        WHEN r.num IS NULL OR instr(',' || d.readers, ',' || r.num || ',') = 0 THEN d.readers
        ELSE substr(d.readers, 1, instr(',' || d.readers, ',' || r.num || ',') - 1)
            || substr(d.readers, instr(',' || d.readers, ',' || r.num || ',') + length(r.num) + 1) END
    FROM (SELECT (SELECT num FROM insights_readers WHERE user_id = OLD.user_id) AS num) AS r
    WHERE d.kind = 'page' AND d.key = OLD.page AND d.day = OLD.created_at / 86400000000;
    DELETE FROM insights_key_days
    WHERE kind = 'page' AND key = OLD.page AND day = OLD.created_at / 86400000000 AND n = 0;
END;

-- A citation: as a question for its page, with the section's url.
CREATE TRIGGER insights_citation_added AFTER INSERT ON citations
BEGIN
    INSERT INTO insights_section_names (url, day, slug, heading, n)
    VALUES (NEW.url, NEW.created_at / 86400000000, NEW.slug, NEW.heading, 1)
    ON CONFLICT (url, day, slug, heading) DO UPDATE SET n = n + 1;

    INSERT INTO insights_readers (user_id) VALUES (NEW.user_id)
    ON CONFLICT (user_id) DO NOTHING;
    INSERT INTO insights_key_days (kind, key, day, n, readers)
    SELECT 'section', NEW.url, NEW.created_at / 86400000000, 1, num || ',' FROM insights_readers
    WHERE user_id = NEW.user_id
    ON CONFLICT (kind, key, day) DO UPDATE SET n = n + 1, readers = readers || excluded.readers;
END;

CREATE TRIGGER insights_citation_removed AFTER DELETE ON citations
BEGIN
    UPDATE insights_section_names SET n = n - 1
    WHERE url = OLD.url AND day = OLD.created_at / 86400000000 AND slug = OLD.slug AND heading = OLD.heading;
    DELETE FROM insights_section_names
    WHERE url = OLD.url AND day = OLD.created_at / 86400000000 AND slug = OLD.slug AND heading = OLD.heading AND n = 0;

    UPDATE insights_key_days AS d SET n = d.n - 1, readers = CASE
        WHEN r.num IS NULL OR instr(',' || d.readers, ',' || r.num || ',') = 0 THEN d.readers
        ELSE substr(d.readers, 1, instr(',' || d.readers, ',' || r.num || ',') - 1)
            || substr(d.readers, instr(',' || d.readers, ',' || r.num || ',') + length(r.num) + 1) END
    FROM (SELECT (SELECT num FROM insights_readers WHERE user_id = OLD.user_id) AS num) AS r
    WHERE d.kind = 'section' AND d.key = OLD.url AND d.day = OLD.created_at / 86400000000;
    DELETE FROM insights_key_days
    WHERE kind = 'section' AND key = OLD.url AND day = OLD.created_at / 86400000000 AND n = 0;
END;

CREATE TRIGGER insights_rebuild INSTEAD OF INSERT ON insights_rebuild
BEGIN
    DELETE FROM insights_reader_days;
    DELETE FROM insights_days;
    DELETE FROM insights_agent_days;
    DELETE FROM insights_key_days;
    DELETE FROM insights_section_names;
    DELETE FROM insights_not_covered;
    DELETE FROM insights_readers;
    DELETE FROM insights_keys;

    INSERT INTO insights_not_covered (answer_id, answered_at, question_id, question, page, user_id, asked_at)
    SELECT a.id, a.created_at, q.id, q.content, q.page, q.user_id, q.created_at
    FROM messages a JOIN messages q ON q.id = a.parent_id WHERE a.not_covered = 1
    ORDER BY a.created_at; -- stored in time order, as the trigger stores them

    INSERT INTO insights_reader_days (day, user_id, questions)
    SELECT created_at / 86400000000, user_id, count(*) FROM messages WHERE role = 'user' GROUP BY 1, 2;

    INSERT INTO insights_days (day, questions, readers)
    SELECT day, sum(questions), count(*) FROM insights_reader_days GROUP BY day;

    INSERT INTO insights_agent_days (day, agent, answered, not_covered)
    SELECT created_at / 86400000000, agent_type, sum(1 - not_covered), sum(not_covered)
    FROM messages WHERE role = 'assistant' GROUP BY 1, 2;

    INSERT INTO insights_readers (user_id)
    SELECT user_id FROM messages UNION SELECT user_id FROM citations;

    INSERT INTO insights_key_days (kind, key, day, n, readers)
    SELECT 'page', m.page, m.created_at / 86400000000, count(*), group_concat(r.num || ',', '')
    FROM messages m JOIN insights_readers r ON r.user_id = m.user_id
    WHERE m.role = 'user' AND m.page <> '' GROUP BY 2, 3;
    INSERT INTO insights_key_days (kind, key, day, n, readers)
    SELECT 'section', c.url, c.created_at / 86400000000, count(*), group_concat(r.num || ',', '')
    FROM citations c JOIN insights_readers r ON r.user_id = c.user_id GROUP BY 2, 3;

    INSERT INTO insights_section_names (url, day, slug, heading, n)
    SELECT url, created_at / 86400000000, slug, heading, count(*) FROM citations GROUP BY 1, 2, 3, 4;
END;

INSERT INTO insights_rebuild (requested) VALUES (1);

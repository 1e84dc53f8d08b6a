-- 0011_insights_indexes: what the book's owners' insights read, kept so
-- that each view reads a few thousand rows instead of every question of
-- its span (docs/benchmarks.md, "Owners' insights at 1,000,000
-- questions": at that size reading the questions themselves took seconds,
-- through any index).
--
-- An index serves the answers rated down; tables hold the rest: counts per
-- day, and a copy of each question the book did not cover beside its
-- answer. The tables are kept by triggers on messages and citations, in
-- the transaction that writes or deletes the rows, so they are always
-- exact, and a deleted conversation or account takes its rows along (the
-- cascades fire the triggers). Days are numbered from 1970-01-01, UTC:
-- created_at / 86400000000.

-- RatedDown: the span's ratings down, newest first, without reading every
-- rating and its answer.
CREATE INDEX message_feedback_down_idx ON message_feedback (updated_at) WHERE rating = 'down';

-- NotCoveredQuestions: each answer that did not cover its question, with
-- the question, so that the most recent are read in order from one small
-- table instead of looking up each question among all the messages. An
-- answer is stored after its question, as the chat service does.
CREATE TABLE insights_not_covered (
    answer_id   TEXT    NOT NULL PRIMARY KEY,
    answered_at INTEGER NOT NULL,
    question_id TEXT    NOT NULL,
    question    TEXT    NOT NULL,
    page        TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    asked_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX insights_not_covered_answered_at_idx ON insights_not_covered (answered_at);
CREATE INDEX insights_not_covered_question_idx ON insights_not_covered (question_id);

-- Volume: each reader's questions per day, so that the day's readers are
-- counted when a reader's first question of the day comes and when their
-- last one goes.
CREATE TABLE insights_reader_days (
    day       INTEGER NOT NULL,
    user_id   TEXT    NOT NULL,
    questions INTEGER NOT NULL,
    PRIMARY KEY (day, user_id)
) STRICT, WITHOUT ROWID;

-- Volume: the questions and the distinct readers of each day.
CREATE TABLE insights_days (
    day       INTEGER NOT NULL PRIMARY KEY,
    questions INTEGER NOT NULL,
    readers   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Volume: the answers of each day by agent.
CREATE TABLE insights_agent_days (
    day         INTEGER NOT NULL,
    agent       TEXT    NOT NULL,
    answered    INTEGER NOT NULL,
    not_covered INTEGER NOT NULL,
    PRIMARY KEY (day, agent)
) STRICT, WITHOUT ROWID;

-- PagesAskedFrom and SectionsCited: for each page readers asked from (kind
-- 'page', key the page) and each section answers cited (kind 'section',
-- key its url), each reader's questions or citations, and the day of their
-- latest.
CREATE TABLE insights_key_readers (
    kind     TEXT    NOT NULL,
    key      TEXT    NOT NULL,
    user_id  TEXT    NOT NULL,
    last_day INTEGER NOT NULL,
    total    INTEGER NOT NULL,
    PRIMARY KEY (kind, key, user_id)
) STRICT, WITHOUT ROWID;

-- The same per day: the questions or citations (n), and the readers whose
-- latest was that day (last_readers). The readers of a span that reaches
-- the newest rows are the sum of last_readers from its first day on.
CREATE TABLE insights_key_days (
    kind         TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    day          INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    last_readers INTEGER NOT NULL,
    PRIMARY KEY (kind, key, day)
) STRICT, WITHOUT ROWID;

-- SectionsCited: the slugs and headings each url was cited with, per day.
CREATE TABLE insights_section_names (
    url     TEXT    NOT NULL,
    day     INTEGER NOT NULL,
    slug    TEXT    NOT NULL,
    heading TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (url, day, slug, heading)
) STRICT, WITHOUT ROWID;

-- A question: one more for its day and its page; the reader is one of the
-- day's readers from their first question of it, and their latest question
-- from the page moves to this day.
CREATE TRIGGER insights_question_added AFTER INSERT ON messages WHEN NEW.role = 'user'
BEGIN
    INSERT INTO insights_days (day, questions, readers)
    VALUES (NEW.created_at / 86400000000, 1, NOT EXISTS (
        SELECT 1 FROM insights_reader_days WHERE day = NEW.created_at / 86400000000 AND user_id = NEW.user_id))
    ON CONFLICT (day) DO UPDATE SET questions = questions + 1, readers = readers + excluded.readers;
    INSERT INTO insights_reader_days (day, user_id, questions)
    VALUES (NEW.created_at / 86400000000, NEW.user_id, 1)
    ON CONFLICT (day, user_id) DO UPDATE SET questions = questions + 1;

    INSERT INTO insights_key_days (kind, key, day, n, last_readers)
    SELECT 'page', NEW.page, NEW.created_at / 86400000000, 1, 0 WHERE NEW.page <> ''
    ON CONFLICT (kind, key, day) DO UPDATE SET n = n + 1;
    UPDATE insights_key_days SET last_readers = last_readers - 1
    WHERE kind = 'page' AND key = NEW.page AND day = (
        SELECT last_day FROM insights_key_readers
        WHERE kind = 'page' AND key = NEW.page AND user_id = NEW.user_id AND last_day < NEW.created_at / 86400000000);
    UPDATE insights_key_days SET last_readers = last_readers + 1
    WHERE kind = 'page' AND key = NEW.page AND day = NEW.created_at / 86400000000 AND NOT EXISTS (
        SELECT 1 FROM insights_key_readers
        WHERE kind = 'page' AND key = NEW.page AND user_id = NEW.user_id AND last_day >= NEW.created_at / 86400000000);
    INSERT INTO insights_key_readers (kind, key, user_id, last_day, total)
    SELECT 'page', NEW.page, NEW.user_id, NEW.created_at / 86400000000, 1 WHERE NEW.page <> ''
    ON CONFLICT (kind, key, user_id) DO UPDATE SET last_day = max(last_day, excluded.last_day), total = total + 1;
END;

-- A question deleted: the reverse. When it was the reader's latest from its
-- page, their latest becomes the latest they have left (found through their
-- conversations; one being deleted is already gone, and its other messages
-- correct this again as they go).
CREATE TRIGGER insights_question_removed AFTER DELETE ON messages WHEN OLD.role = 'user'
BEGIN
    UPDATE insights_reader_days SET questions = questions - 1
    WHERE day = OLD.created_at / 86400000000 AND user_id = OLD.user_id;
    UPDATE insights_days SET questions = questions - 1, readers = readers - EXISTS (
        SELECT 1 FROM insights_reader_days WHERE day = OLD.created_at / 86400000000 AND user_id = OLD.user_id AND questions = 0)
    WHERE day = OLD.created_at / 86400000000;
    DELETE FROM insights_reader_days WHERE day = OLD.created_at / 86400000000 AND user_id = OLD.user_id AND questions = 0;
    DELETE FROM insights_days WHERE day = OLD.created_at / 86400000000 AND questions = 0;

    UPDATE insights_key_days SET n = n - 1
    WHERE kind = 'page' AND key = OLD.page AND day = OLD.created_at / 86400000000;
    UPDATE insights_key_readers SET total = total - 1
    WHERE kind = 'page' AND key = OLD.page AND user_id = OLD.user_id;
    -- Their last question from the page: they are no longer its reader.
    UPDATE insights_key_days SET last_readers = last_readers - 1
    WHERE kind = 'page' AND key = OLD.page AND day = (
        SELECT last_day FROM insights_key_readers
        WHERE kind = 'page' AND key = OLD.page AND user_id = OLD.user_id AND total = 0);
    DELETE FROM insights_key_days
    WHERE kind = 'page' AND key = OLD.page AND n = 0 AND last_readers = 0 AND day = (
        SELECT last_day FROM insights_key_readers
        WHERE kind = 'page' AND key = OLD.page AND user_id = OLD.user_id AND total = 0);
    DELETE FROM insights_key_readers
    WHERE kind = 'page' AND key = OLD.page AND user_id = OLD.user_id AND total = 0;
    -- Their latest: the day of the latest they have left, if earlier.
    UPDATE insights_key_days SET last_readers = last_readers + 1
    WHERE kind = 'page' AND key = OLD.page AND day < OLD.created_at / 86400000000 AND day = (
        SELECT CASE WHEN r.last_day = OLD.created_at / 86400000000 THEN (
            SELECT max(m.created_at) / 86400000000 FROM conversations c JOIN messages m ON m.conversation_id = c.id
            WHERE c.user_id = OLD.user_id AND m.role = 'user' AND m.page = OLD.page) END
        FROM insights_key_readers r WHERE r.kind = 'page' AND r.key = OLD.page AND r.user_id = OLD.user_id);
    UPDATE insights_key_days SET last_readers = last_readers - 1
    WHERE kind = 'page' AND key = OLD.page AND day = OLD.created_at / 86400000000 AND (
        SELECT CASE WHEN r.last_day = OLD.created_at / 86400000000 THEN (
            SELECT max(m.created_at) / 86400000000 FROM conversations c JOIN messages m ON m.conversation_id = c.id
            WHERE c.user_id = OLD.user_id AND m.role = 'user' AND m.page = OLD.page) END
        FROM insights_key_readers r WHERE r.kind = 'page' AND r.key = OLD.page AND r.user_id = OLD.user_id) < OLD.created_at / 86400000000;
    UPDATE insights_key_readers SET last_day = (
        SELECT max(m.created_at) / 86400000000 FROM conversations c JOIN messages m ON m.conversation_id = c.id
        WHERE c.user_id = OLD.user_id AND m.role = 'user' AND m.page = OLD.page)
    WHERE kind = 'page' AND key = OLD.page AND user_id = OLD.user_id AND last_day = OLD.created_at / 86400000000 AND (
        SELECT max(m.created_at) / 86400000000 FROM conversations c JOIN messages m ON m.conversation_id = c.id
        WHERE c.user_id = OLD.user_id AND m.role = 'user' AND m.page = OLD.page) < OLD.created_at / 86400000000;
    DELETE FROM insights_key_days
    WHERE kind = 'page' AND key = OLD.page AND day = OLD.created_at / 86400000000 AND n = 0 AND last_readers = 0;
END;

-- An answer that did not cover its question: a copy of the question; gone
-- with the answer or the question.
CREATE TRIGGER insights_not_covered_added AFTER INSERT ON messages WHEN NEW.not_covered = 1
BEGIN
    INSERT INTO insights_not_covered (answer_id, answered_at, question_id, question, page, user_id, asked_at)
    SELECT NEW.id, NEW.created_at, q.id, q.content, q.page, q.user_id, q.created_at FROM messages q WHERE q.id = NEW.parent_id;
END;

CREATE TRIGGER insights_not_covered_removed AFTER DELETE ON messages WHEN OLD.not_covered = 1 OR OLD.role = 'user'
BEGIN
    DELETE FROM insights_not_covered WHERE answer_id = OLD.id OR question_id = OLD.id;
END;

-- An answer: one more for its day and agent.
CREATE TRIGGER insights_answer_added AFTER INSERT ON messages WHEN NEW.role = 'assistant'
BEGIN
    INSERT INTO insights_agent_days (day, agent, answered, not_covered)
    VALUES (NEW.created_at / 86400000000, NEW.agent_type, 1 - NEW.not_covered, NEW.not_covered)
    ON CONFLICT (day, agent) DO UPDATE SET answered = answered + excluded.answered, not_covered = not_covered + excluded.not_covered;
END;

CREATE TRIGGER insights_answer_removed AFTER DELETE ON messages WHEN OLD.role = 'assistant'
BEGIN
    UPDATE insights_agent_days SET answered = answered - (1 - OLD.not_covered), not_covered = not_covered - OLD.not_covered
    WHERE day = OLD.created_at / 86400000000 AND agent = OLD.agent_type;
    DELETE FROM insights_agent_days
    WHERE day = OLD.created_at / 86400000000 AND agent = OLD.agent_type AND answered = 0 AND not_covered = 0;
END;

-- A citation: as a question for its page, with the section's url.
CREATE TRIGGER insights_citation_added AFTER INSERT ON citations
BEGIN
    INSERT INTO insights_section_names (url, day, slug, heading, n)
    VALUES (NEW.url, NEW.created_at / 86400000000, NEW.slug, NEW.heading, 1)
    ON CONFLICT (url, day, slug, heading) DO UPDATE SET n = n + 1;

    INSERT INTO insights_key_days (kind, key, day, n, last_readers)
    VALUES ('section', NEW.url, NEW.created_at / 86400000000, 1, 0)
    ON CONFLICT (kind, key, day) DO UPDATE SET n = n + 1;
    UPDATE insights_key_days SET last_readers = last_readers - 1
    WHERE kind = 'section' AND key = NEW.url AND day = (
        SELECT last_day FROM insights_key_readers
        WHERE kind = 'section' AND key = NEW.url AND user_id = NEW.user_id AND last_day < NEW.created_at / 86400000000);
    UPDATE insights_key_days SET last_readers = last_readers + 1
    WHERE kind = 'section' AND key = NEW.url AND day = NEW.created_at / 86400000000 AND NOT EXISTS (
        SELECT 1 FROM insights_key_readers
        WHERE kind = 'section' AND key = NEW.url AND user_id = NEW.user_id AND last_day >= NEW.created_at / 86400000000);
    INSERT INTO insights_key_readers (kind, key, user_id, last_day, total)
    VALUES ('section', NEW.url, NEW.user_id, NEW.created_at / 86400000000, 1)
    ON CONFLICT (kind, key, user_id) DO UPDATE SET last_day = max(last_day, excluded.last_day), total = total + 1;
END;

CREATE TRIGGER insights_citation_removed AFTER DELETE ON citations
BEGIN
    UPDATE insights_section_names SET n = n - 1
    WHERE url = OLD.url AND day = OLD.created_at / 86400000000 AND slug = OLD.slug AND heading = OLD.heading;
    DELETE FROM insights_section_names
    WHERE url = OLD.url AND day = OLD.created_at / 86400000000 AND slug = OLD.slug AND heading = OLD.heading AND n = 0;

    UPDATE insights_key_days SET n = n - 1
    WHERE kind = 'section' AND key = OLD.url AND day = OLD.created_at / 86400000000;
    UPDATE insights_key_readers SET total = total - 1
    WHERE kind = 'section' AND key = OLD.url AND user_id = OLD.user_id;
    UPDATE insights_key_days SET last_readers = last_readers - 1
    WHERE kind = 'section' AND key = OLD.url AND day = (
        SELECT last_day FROM insights_key_readers
        WHERE kind = 'section' AND key = OLD.url AND user_id = OLD.user_id AND total = 0);
    DELETE FROM insights_key_days
    WHERE kind = 'section' AND key = OLD.url AND n = 0 AND last_readers = 0 AND day = (
        SELECT last_day FROM insights_key_readers
        WHERE kind = 'section' AND key = OLD.url AND user_id = OLD.user_id AND total = 0);
    DELETE FROM insights_key_readers
    WHERE kind = 'section' AND key = OLD.url AND user_id = OLD.user_id AND total = 0;
    UPDATE insights_key_days SET last_readers = last_readers + 1
    WHERE kind = 'section' AND key = OLD.url AND day < OLD.created_at / 86400000000 AND day = (
        SELECT CASE WHEN r.last_day = OLD.created_at / 86400000000 THEN (
            SELECT max(ci.created_at) / 86400000000 FROM conversations c JOIN messages m ON m.conversation_id = c.id
            JOIN citations ci ON ci.message_id = m.id
            WHERE c.user_id = OLD.user_id AND m.role = 'assistant' AND ci.url = OLD.url) END
        FROM insights_key_readers r WHERE r.kind = 'section' AND r.key = OLD.url AND r.user_id = OLD.user_id);
    UPDATE insights_key_days SET last_readers = last_readers - 1
    WHERE kind = 'section' AND key = OLD.url AND day = OLD.created_at / 86400000000 AND (
        SELECT CASE WHEN r.last_day = OLD.created_at / 86400000000 THEN (
            SELECT max(ci.created_at) / 86400000000 FROM conversations c JOIN messages m ON m.conversation_id = c.id
            JOIN citations ci ON ci.message_id = m.id
            WHERE c.user_id = OLD.user_id AND m.role = 'assistant' AND ci.url = OLD.url) END
        FROM insights_key_readers r WHERE r.kind = 'section' AND r.key = OLD.url AND r.user_id = OLD.user_id) < OLD.created_at / 86400000000;
    UPDATE insights_key_readers SET last_day = (
        SELECT max(ci.created_at) / 86400000000 FROM conversations c JOIN messages m ON m.conversation_id = c.id
        JOIN citations ci ON ci.message_id = m.id
        WHERE c.user_id = OLD.user_id AND m.role = 'assistant' AND ci.url = OLD.url)
    WHERE kind = 'section' AND key = OLD.url AND user_id = OLD.user_id AND last_day = OLD.created_at / 86400000000 AND (
        SELECT max(ci.created_at) / 86400000000 FROM conversations c JOIN messages m ON m.conversation_id = c.id
        JOIN citations ci ON ci.message_id = m.id
        WHERE c.user_id = OLD.user_id AND m.role = 'assistant' AND ci.url = OLD.url) < OLD.created_at / 86400000000;
    DELETE FROM insights_key_days
    WHERE kind = 'section' AND key = OLD.url AND day = OLD.created_at / 86400000000 AND n = 0 AND last_readers = 0;
END;

-- Inserting into the view insights_rebuild counts again from the messages
-- and citations stored: for this migration, and after a bulk load with the
-- triggers above dropped (bench/insights).
CREATE VIEW insights_rebuild (requested) AS SELECT 0;

CREATE TRIGGER insights_rebuild INSTEAD OF INSERT ON insights_rebuild
BEGIN
    DELETE FROM insights_reader_days;
    DELETE FROM insights_days;
    DELETE FROM insights_agent_days;
    DELETE FROM insights_key_readers;
    DELETE FROM insights_key_days;
    DELETE FROM insights_section_names;
    DELETE FROM insights_not_covered;

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

    INSERT INTO insights_key_readers (kind, key, user_id, last_day, total)
    SELECT 'page', page, user_id, max(created_at) / 86400000000, count(*)
    FROM messages WHERE role = 'user' AND page <> '' GROUP BY page, user_id;

    INSERT INTO insights_key_readers (kind, key, user_id, last_day, total)
    SELECT 'section', url, user_id, max(created_at) / 86400000000, count(*) FROM citations GROUP BY url, user_id;

    INSERT INTO insights_key_days (kind, key, day, n, last_readers)
    SELECT kind, key, day, sum(n), sum(latest) FROM (
        SELECT 'page' AS kind, page AS key, created_at / 86400000000 AS day, count(*) AS n, 0 AS latest
        FROM messages WHERE role = 'user' AND page <> '' GROUP BY 2, 3
        UNION ALL
        SELECT 'section', url, created_at / 86400000000, count(*), 0 FROM citations GROUP BY 2, 3
        UNION ALL
        SELECT kind, key, last_day, 0, count(*) FROM insights_key_readers GROUP BY 1, 2, 3
    ) GROUP BY 1, 2, 3;

    INSERT INTO insights_section_names (url, day, slug, heading, n)
    SELECT url, created_at / 86400000000, slug, heading, count(*) FROM citations GROUP BY 1, 2, 3, 4;
END;

INSERT INTO insights_rebuild (requested) VALUES (1);

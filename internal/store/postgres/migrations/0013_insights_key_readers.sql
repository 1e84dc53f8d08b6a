-- 0013_insights_key_readers: the readers of each page and section, day by
-- day, so that the distinct readers of any span of days can be counted
-- from a few thousand rows.
--
-- Migration 0011 counted a page's readers by the day of each reader's
-- latest question from it, which answers only spans that reach the newest
-- question; any earlier span read every question of the span (0.8-1.5 s
-- at a million questions, docs/benchmarks.md). Now each row of
-- insights_key_days lists its readers: one entry per question or citation,
-- the reader's number in insights_readers, each followed by a comma
-- ("12,345,12,"). A span's readers are the distinct numbers in its rows,
-- counted by the store in Go. New questions and citations add their
-- entries; deleted ones take exactly as many entries of their reader away.
--
-- Numbers stand for readers so that the lists stay short. A reader's
-- number is removed with their account (DeleteUser), after the cascades
-- that take their entries away. A transaction numbers its readers before
-- it takes any other row of the insights, so that numbering a reader for
-- the first time never waits while holding one.

LOCK TABLE messages, citations IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE insights_readers (
    num     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id text    NOT NULL UNIQUE
);

DROP TABLE insights_key_readers;
DROP FUNCTION insights_key_add(text, text, text, integer, integer);
DROP FUNCTION insights_key_remove(text, text, text, integer, integer);
ALTER TABLE insights_key_days DROP COLUMN last_readers, ADD COLUMN readers text NOT NULL DEFAULT '';
-- Not compressed: a row of a busy page and day is rewritten with every
-- question, and compressing it each time cost more than the bytes saved
-- (docs/benchmarks.md).
ALTER TABLE insights_key_days ALTER COLUMN readers SET STORAGE EXTERNAL;

-- insights_key_add counts n more questions or citations of key on day d,
-- by the readers' entries.
CREATE FUNCTION insights_key_add(k text, ky text, d integer, n integer, entries text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO insights_key_days AS x (kind, key, day, n, readers) VALUES (k, ky, d, n, entries)
    ON CONFLICT (kind, key, day) DO UPDATE SET n = x.n + excluded.n, readers = x.readers || excluded.readers;
$$;

-- insights_key_remove counts n fewer, by reader uid: their first n entries
-- go.
CREATE FUNCTION insights_key_remove(k text, ky text, uid text, d integer, n integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    num  integer;
    list text;
    p    integer;
BEGIN
    SELECT r.num INTO num FROM insights_readers r WHERE r.user_id = uid;
    SELECT readers INTO list FROM insights_key_days WHERE kind = k AND key = ky AND day = d FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF num IS NOT NULL THEN
        FOR i IN 1..n LOOP
            p := strpos(',' || list, ',' || num || ',');
            EXIT WHEN p = 0;
            list := substr(list, 1, p - 1) || substr(list, p + length(num::text) + 1);
        END LOOP;
    END IF;
    UPDATE insights_key_days SET n = insights_key_days.n - insights_key_remove.n, readers = list
    WHERE kind = k AND key = ky AND day = d;
    DELETE FROM insights_key_days WHERE kind = k AND key = ky AND day = d AND insights_key_days.n <= 0;
END
$$;

CREATE OR REPLACE FUNCTION insights_messages_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r     record;
    fresh boolean;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(insights_lock());
    INSERT INTO insights_readers (user_id) SELECT DISTINCT user_id FROM added ORDER BY 1
    ON CONFLICT (user_id) DO NOTHING;
    FOR r IN SELECT insights_day(created_at) AS day, user_id, count(*)::integer AS n FROM added
             WHERE role = 'user' GROUP BY 1, 2 ORDER BY 1, ascii(user_id) % 8, 2 LOOP
        INSERT INTO insights_reader_days AS x (day, user_id, questions) VALUES (r.day, r.user_id, r.n)
        ON CONFLICT (day, user_id) DO UPDATE SET questions = x.questions + excluded.questions
        RETURNING x.questions = r.n INTO fresh;
        INSERT INTO insights_days AS x (day, shard, questions, readers) VALUES (r.day, ascii(r.user_id) % 8, r.n, fresh::integer)
        ON CONFLICT (day, shard) DO UPDATE SET questions = x.questions + excluded.questions, readers = x.readers + excluded.readers;
    END LOOP;
    FOR r IN SELECT insights_day(created_at) AS day, agent_type, ascii(user_id) % 8 AS shard,
                    count(*) FILTER (WHERE NOT not_covered)::integer AS answered, count(*) FILTER (WHERE not_covered)::integer AS not_covered
             FROM added WHERE role = 'assistant' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 LOOP
        INSERT INTO insights_agent_days AS x (day, agent, shard, answered, not_covered)
        VALUES (r.day, r.agent_type, r.shard, r.answered, r.not_covered)
        ON CONFLICT (day, agent, shard) DO UPDATE SET answered = x.answered + excluded.answered, not_covered = x.not_covered + excluded.not_covered;
    END LOOP;
    FOR r IN SELECT a.page, insights_day(a.created_at) AS day, count(*)::integer AS n, string_agg(ir.num || ',', '') AS entries
             FROM added a JOIN insights_readers ir ON ir.user_id = a.user_id
             WHERE a.role = 'user' AND a.page <> '' GROUP BY 1, 2 ORDER BY 1, 2 LOOP
        PERFORM insights_key_add('page', r.page, r.day, r.n, r.entries);
    END LOOP;
    INSERT INTO insights_not_covered (answer_id, answered_at, question_id, question, page, user_id, asked_at)
    SELECT a.id, a.created_at, q.id, q.content, q.page, q.user_id, q.created_at
    FROM added a JOIN messages q ON q.id = a.parent_id WHERE a.not_covered;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION insights_citations_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(insights_lock());
    INSERT INTO insights_readers (user_id) SELECT DISTINCT user_id FROM added ORDER BY 1
    ON CONFLICT (user_id) DO NOTHING;
    FOR r IN SELECT url, insights_day(created_at) AS day, slug, heading, count(*)::integer AS n FROM added
             GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 LOOP
        INSERT INTO insights_section_names AS x (url, day, slug, heading, n) VALUES (r.url, r.day, r.slug, r.heading, r.n)
        ON CONFLICT (url, day, slug, heading) DO UPDATE SET n = x.n + excluded.n;
    END LOOP;
    FOR r IN SELECT a.url, insights_day(a.created_at) AS day, count(*)::integer AS n, string_agg(ir.num || ',', '') AS entries
             FROM added a JOIN insights_readers ir ON ir.user_id = a.user_id GROUP BY 1, 2 ORDER BY 1, 2 LOOP
        PERFORM insights_key_add('section', r.url, r.day, r.n, r.entries);
    END LOOP;
    RETURN NULL;
END
$$;

-- insights_rebuild counts again from the messages and citations stored:
-- for this migration, and after a bulk load with the triggers disabled
-- (bench/insights).
CREATE OR REPLACE FUNCTION insights_rebuild() RETURNS void LANGUAGE sql AS $$
    DELETE FROM insights_reader_days;
    DELETE FROM insights_days;
    DELETE FROM insights_agent_days;
    DELETE FROM insights_key_days;
    DELETE FROM insights_section_names;
    DELETE FROM insights_not_covered;
    DELETE FROM insights_readers;

    INSERT INTO insights_not_covered (answer_id, answered_at, question_id, question, page, user_id, asked_at)
    SELECT a.id, a.created_at, q.id, q.content, q.page, q.user_id, q.created_at
    FROM messages a JOIN messages q ON q.id = a.parent_id WHERE a.not_covered
    ORDER BY a.created_at; -- stored in time order, as the trigger stores them

    INSERT INTO insights_reader_days (day, user_id, questions)
    SELECT insights_day(created_at), user_id, count(*) FROM messages WHERE role = 'user' GROUP BY 1, 2;

    INSERT INTO insights_days (day, shard, questions, readers)
    SELECT day, ascii(user_id) % 8, sum(questions), count(*) FROM insights_reader_days GROUP BY 1, 2;

    INSERT INTO insights_agent_days (day, agent, shard, answered, not_covered)
    SELECT insights_day(created_at), agent_type, ascii(user_id) % 8,
           count(*) FILTER (WHERE NOT not_covered), count(*) FILTER (WHERE not_covered)
    FROM messages WHERE role = 'assistant' GROUP BY 1, 2, 3;

    INSERT INTO insights_readers (user_id)
    SELECT user_id FROM messages UNION SELECT user_id FROM citations ORDER BY 1;

    INSERT INTO insights_key_days (kind, key, day, n, readers)
    SELECT 'page', m.page, insights_day(m.created_at), count(*), string_agg(r.num || ',', '')
    FROM messages m JOIN insights_readers r ON r.user_id = m.user_id
    WHERE m.role = 'user' AND m.page <> '' GROUP BY 2, 3;
    INSERT INTO insights_key_days (kind, key, day, n, readers)
    SELECT 'section', c.url, insights_day(c.created_at), count(*), string_agg(r.num || ',', '')
    FROM citations c JOIN insights_readers r ON r.user_id = c.user_id GROUP BY 2, 3;

    INSERT INTO insights_section_names (url, day, slug, heading, n)
    SELECT url, insights_day(created_at), slug, heading, count(*) FROM citations GROUP BY 1, 2, 3, 4;
$$;

SELECT insights_rebuild();

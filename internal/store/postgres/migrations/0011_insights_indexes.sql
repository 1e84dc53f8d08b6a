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
-- cascades fire the triggers). Days are numbered from 1970-01-01, UTC
-- (insights_day).
--
-- Counts many readers share (a day's, a page's) are rows every writer
-- updates, and hold a lock until the writer commits. The day's totals are
-- split into 8 shards by reader, so that questions do not queue on one
-- row. New messages and citations go through their rows in one order (by
-- table, key, then day), so that two writers cannot each wait for the
-- other. A deletion (a conversation, an account) reaches its rows in as
-- many statements as it has messages, in no such order: it takes the
-- advisory lock insights_lock alone, writers of new rows take it shared,
-- so a deletion waits for the writers under way and the next ones wait for
-- it, and neither ever waits for the other in turn.

-- No question or citation is written while the counts are filled.
LOCK TABLE messages, citations IN SHARE ROW EXCLUSIVE MODE;

-- RatedDown: the span's ratings down, newest first, without reading every
-- rating and its answer.
CREATE INDEX message_feedback_down_idx ON message_feedback (updated_at) WHERE rating = 'down';

-- NotCoveredQuestions: each answer that did not cover its question, with
-- the question, so that the most recent are read in order from one small
-- table instead of looking up each question among all the messages (20,000
-- lookups read 100,000 pages, most of them outside shared_buffers). An
-- answer is stored after its question, as the chat service does.
CREATE TABLE insights_not_covered (
    answer_id   text        PRIMARY KEY,
    answered_at timestamptz NOT NULL,
    question_id text        NOT NULL,
    question    text        NOT NULL,
    page        text        NOT NULL,
    user_id     text        NOT NULL,
    asked_at    timestamptz NOT NULL
);

CREATE INDEX insights_not_covered_answered_at_idx ON insights_not_covered (answered_at);
CREATE INDEX insights_not_covered_question_idx ON insights_not_covered (question_id);

-- The day number of a time: days since 1970-01-01, UTC.
CREATE FUNCTION insights_day(t timestamptz) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (t AT TIME ZONE 'UTC')::date - date '1970-01-01' $$;

-- The advisory lock that puts deletions and new rows in turn ("insight" in
-- ASCII).
CREATE FUNCTION insights_lock() RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT x'696e7369676874'::bigint $$;

-- Volume: each reader's questions per day, so that the day's readers are
-- counted when a reader's first question of the day comes and when their
-- last one goes.
CREATE TABLE insights_reader_days (
    day       integer NOT NULL,
    user_id   text    NOT NULL,
    questions integer NOT NULL,
    PRIMARY KEY (day, user_id)
);

-- Volume: the questions and the distinct readers of each day, in shards
-- (ascii(user_id) % 8) added up when read.
CREATE TABLE insights_days (
    day       integer  NOT NULL,
    shard     smallint NOT NULL,
    questions integer  NOT NULL,
    readers   integer  NOT NULL,
    PRIMARY KEY (day, shard)
);

-- Volume: the answers of each day by agent, in shards.
CREATE TABLE insights_agent_days (
    day         integer  NOT NULL,
    agent       text     NOT NULL,
    shard       smallint NOT NULL,
    answered    integer  NOT NULL,
    not_covered integer  NOT NULL,
    PRIMARY KEY (day, agent, shard)
);

-- PagesAskedFrom and SectionsCited: for each page readers asked from (kind
-- 'page', key the page) and each section answers cited (kind 'section',
-- key its url), each reader's questions or citations, and the day of their
-- latest.
CREATE TABLE insights_key_readers (
    kind     text    NOT NULL,
    key      text    NOT NULL,
    user_id  text    NOT NULL,
    last_day integer NOT NULL,
    total    integer NOT NULL,
    PRIMARY KEY (kind, key, user_id)
);

-- The same per day: the questions or citations (n), and the readers whose
-- latest was that day (last_readers). The readers of a span that reaches
-- the newest rows are the sum of last_readers from its first day on.
CREATE TABLE insights_key_days (
    kind         text    NOT NULL,
    key          text    NOT NULL,
    day          integer NOT NULL,
    n            integer NOT NULL,
    last_readers integer NOT NULL,
    PRIMARY KEY (kind, key, day)
);

-- SectionsCited: the slugs and headings each url was cited with, per day.
CREATE TABLE insights_section_names (
    url     text    NOT NULL,
    day     integer NOT NULL,
    slug    text    NOT NULL,
    heading text    NOT NULL,
    n       integer NOT NULL,
    PRIMARY KEY (url, day, slug, heading)
);

-- insights_key_add counts n more questions or citations of a reader on key
-- on day d: their latest moves to d when it was earlier.
CREATE FUNCTION insights_key_add(k text, ky text, uid text, d integer, n integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    latest integer;
    had    integer;
BEGIN
    INSERT INTO insights_key_readers (kind, key, user_id, last_day, total) VALUES (k, ky, uid, d, 0)
    ON CONFLICT (kind, key, user_id) DO NOTHING;
    SELECT last_day, total INTO latest, had FROM insights_key_readers
    WHERE kind = k AND key = ky AND user_id = uid FOR UPDATE;
    IF had > 0 AND latest < d THEN
        UPDATE insights_key_days SET last_readers = last_readers - 1 WHERE kind = k AND key = ky AND day = latest;
    END IF;
    INSERT INTO insights_key_days AS x (kind, key, day, n, last_readers)
    VALUES (k, ky, d, n, CASE WHEN had = 0 OR latest < d THEN 1 ELSE 0 END)
    ON CONFLICT (kind, key, day) DO UPDATE SET n = x.n + excluded.n, last_readers = x.last_readers + excluded.last_readers;
    UPDATE insights_key_readers SET last_day = greatest(last_day, d), total = total + n
    WHERE kind = k AND key = ky AND user_id = uid;
END
$$;

-- insights_key_remove counts n fewer: a reader with none left is no longer
-- one of key's; when their latest went, their latest becomes the latest
-- they have left, found through their conversations (a conversation being
-- deleted is already gone).
CREATE FUNCTION insights_key_remove(k text, ky text, uid text, d integer, n integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    latest integer;
    had    integer;
    left_  integer;
BEGIN
    SELECT last_day, total INTO latest, had FROM insights_key_readers
    WHERE kind = k AND key = ky AND user_id = uid FOR UPDATE;
    IF NOT FOUND THEN
        UPDATE insights_key_days SET n = insights_key_days.n - insights_key_remove.n WHERE kind = k AND key = ky AND day = d;
    ELSIF had <= n THEN
        UPDATE insights_key_days
        SET n = insights_key_days.n - CASE WHEN day = d THEN insights_key_remove.n ELSE 0 END,
            last_readers = last_readers - CASE WHEN day = latest THEN 1 ELSE 0 END
        WHERE kind = k AND key = ky AND day IN (d, latest);
        DELETE FROM insights_key_readers WHERE kind = k AND key = ky AND user_id = uid;
        DELETE FROM insights_key_days WHERE kind = k AND key = ky AND day = latest AND insights_key_days.n <= 0 AND last_readers <= 0;
    ELSE
        IF d = latest THEN
            IF k = 'page' THEN
                SELECT insights_day(max(m.created_at)) INTO left_
                FROM conversations c JOIN messages m ON m.conversation_id = c.id
                WHERE c.user_id = uid AND m.role = 'user' AND m.page = ky;
            ELSE
                SELECT insights_day(max(ci.created_at)) INTO left_
                FROM conversations c JOIN messages m ON m.conversation_id = c.id JOIN citations ci ON ci.message_id = m.id
                WHERE c.user_id = uid AND m.role = 'assistant' AND ci.url = ky;
            END IF;
        END IF;
        IF d = latest AND left_ < d THEN
            UPDATE insights_key_days SET last_readers = last_readers + 1 WHERE kind = k AND key = ky AND day = left_;
            UPDATE insights_key_days SET n = insights_key_days.n - insights_key_remove.n, last_readers = last_readers - 1
            WHERE kind = k AND key = ky AND day = d;
            UPDATE insights_key_readers SET last_day = left_, total = total - n WHERE kind = k AND key = ky AND user_id = uid;
        ELSE
            UPDATE insights_key_days SET n = insights_key_days.n - insights_key_remove.n WHERE kind = k AND key = ky AND day = d;
            UPDATE insights_key_readers SET total = total - n WHERE kind = k AND key = ky AND user_id = uid;
        END IF;
    END IF;
    DELETE FROM insights_key_days WHERE kind = k AND key = ky AND day = d AND insights_key_days.n <= 0 AND last_readers <= 0;
END
$$;

-- New messages: the days' questions and readers, the answers by agent,
-- the pages asked from and the questions not covered.
CREATE FUNCTION insights_messages_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r     record;
    fresh boolean;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(insights_lock());
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
    FOR r IN SELECT page, insights_day(created_at) AS day, user_id, count(*)::integer AS n FROM added
             WHERE role = 'user' AND page <> '' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 LOOP
        PERFORM insights_key_add('page', r.page, r.user_id, r.day, r.n);
    END LOOP;
    INSERT INTO insights_not_covered (answer_id, answered_at, question_id, question, page, user_id, asked_at)
    SELECT a.id, a.created_at, q.id, q.content, q.page, q.user_id, q.created_at
    FROM added a JOIN messages q ON q.id = a.parent_id WHERE a.not_covered;
    RETURN NULL;
END
$$;

CREATE FUNCTION insights_messages_removed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r    record;
    gone boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(insights_lock());
    FOR r IN SELECT insights_day(created_at) AS day, user_id, count(*)::integer AS n FROM removed
             WHERE role = 'user' GROUP BY 1, 2 ORDER BY 1, ascii(user_id) % 8, 2 LOOP
        UPDATE insights_reader_days SET questions = questions - r.n WHERE day = r.day AND user_id = r.user_id
        RETURNING questions <= 0 INTO gone;
        DELETE FROM insights_reader_days WHERE day = r.day AND user_id = r.user_id AND questions <= 0;
        UPDATE insights_days SET questions = questions - r.n, readers = readers - coalesce(gone, false)::integer
        WHERE day = r.day AND shard = ascii(r.user_id) % 8;
        DELETE FROM insights_days WHERE day = r.day AND shard = ascii(r.user_id) % 8 AND questions <= 0;
    END LOOP;
    FOR r IN SELECT insights_day(created_at) AS day, agent_type, ascii(user_id) % 8 AS shard,
                    count(*) FILTER (WHERE NOT not_covered)::integer AS answered, count(*) FILTER (WHERE not_covered)::integer AS not_covered
             FROM removed WHERE role = 'assistant' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 LOOP
        UPDATE insights_agent_days SET answered = answered - r.answered, not_covered = not_covered - r.not_covered
        WHERE day = r.day AND agent = r.agent_type AND shard = r.shard;
        DELETE FROM insights_agent_days
        WHERE day = r.day AND agent = r.agent_type AND shard = r.shard AND answered <= 0 AND not_covered <= 0;
    END LOOP;
    FOR r IN SELECT page, insights_day(created_at) AS day, user_id, count(*)::integer AS n FROM removed
             WHERE role = 'user' AND page <> '' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 LOOP
        PERFORM insights_key_remove('page', r.page, r.user_id, r.day, r.n);
    END LOOP;
    DELETE FROM insights_not_covered WHERE answer_id IN (SELECT id FROM removed WHERE not_covered);
    DELETE FROM insights_not_covered WHERE question_id IN (SELECT id FROM removed WHERE role = 'user');
    RETURN NULL;
END
$$;

-- New citations: the sections cited, and the names they were cited with.
CREATE FUNCTION insights_citations_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(insights_lock());
    FOR r IN SELECT url, insights_day(created_at) AS day, slug, heading, count(*)::integer AS n FROM added
             GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 LOOP
        INSERT INTO insights_section_names AS x (url, day, slug, heading, n) VALUES (r.url, r.day, r.slug, r.heading, r.n)
        ON CONFLICT (url, day, slug, heading) DO UPDATE SET n = x.n + excluded.n;
    END LOOP;
    FOR r IN SELECT url, insights_day(created_at) AS day, user_id, count(*)::integer AS n FROM added
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 LOOP
        PERFORM insights_key_add('section', r.url, r.user_id, r.day, r.n);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE FUNCTION insights_citations_removed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    PERFORM pg_advisory_xact_lock(insights_lock());
    FOR r IN SELECT url, insights_day(created_at) AS day, slug, heading, count(*)::integer AS n FROM removed
             GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 LOOP
        UPDATE insights_section_names SET n = n - r.n WHERE url = r.url AND day = r.day AND slug = r.slug AND heading = r.heading;
        DELETE FROM insights_section_names WHERE url = r.url AND day = r.day AND slug = r.slug AND heading = r.heading AND n <= 0;
    END LOOP;
    FOR r IN SELECT url, insights_day(created_at) AS day, user_id, count(*)::integer AS n FROM removed
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 LOOP
        PERFORM insights_key_remove('section', r.url, r.user_id, r.day, r.n);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER insights_messages_added AFTER INSERT ON messages
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION insights_messages_added();
CREATE TRIGGER insights_messages_removed AFTER DELETE ON messages
REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION insights_messages_removed();
CREATE TRIGGER insights_citations_added AFTER INSERT ON citations
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION insights_citations_added();
CREATE TRIGGER insights_citations_removed AFTER DELETE ON citations
REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION insights_citations_removed();

-- insights_rebuild counts again from the messages and citations stored:
-- for this migration, and after a bulk load with the triggers above
-- disabled (bench/insights).
CREATE FUNCTION insights_rebuild() RETURNS void LANGUAGE sql AS $$
    DELETE FROM insights_reader_days;
    DELETE FROM insights_days;
    DELETE FROM insights_agent_days;
    DELETE FROM insights_key_readers;
    DELETE FROM insights_key_days;
    DELETE FROM insights_section_names;
    DELETE FROM insights_not_covered;

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

    INSERT INTO insights_key_readers (kind, key, user_id, last_day, total)
    SELECT 'page', page, user_id, insights_day(max(created_at)), count(*)
    FROM messages WHERE role = 'user' AND page <> '' GROUP BY page, user_id;

    INSERT INTO insights_key_readers (kind, key, user_id, last_day, total)
    SELECT 'section', url, user_id, insights_day(max(created_at)), count(*) FROM citations GROUP BY url, user_id;

    INSERT INTO insights_key_days (kind, key, day, n, last_readers)
    SELECT kind, key, day, sum(n), sum(latest) FROM (
        SELECT 'page' AS kind, page AS key, insights_day(created_at) AS day, count(*) AS n, 0 AS latest
        FROM messages WHERE role = 'user' AND page <> '' GROUP BY 2, 3
        UNION ALL
        SELECT 'section', url, insights_day(created_at), count(*), 0 FROM citations GROUP BY 2, 3
        UNION ALL
        SELECT kind, key, last_day, 0, count(*) FROM insights_key_readers GROUP BY 1, 2, 3
    ) AS counts GROUP BY 1, 2, 3;

    INSERT INTO insights_section_names (url, day, slug, heading, n)
    SELECT url, insights_day(created_at), slug, heading, count(*) FROM citations GROUP BY 1, 2, 3, 4;
$$;

SELECT insights_rebuild();

-- 0004_feedback_usage: readers' ratings of answers, and what each reader
-- used per day.
--
-- Feedback belongs to its message: deleting the message, its conversation or
-- the user deletes it (through the messages' own cascade). Usage belongs to
-- the user and goes with them.

CREATE TABLE message_feedback (
    -- One rating per message; replacing it updates this row.
    message_id text        PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    -- The message's owner, so that queries can filter on it directly.
    user_id    text        NOT NULL,
    rating     text        NOT NULL CHECK (rating IN ('up', 'down')),
    comment    text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE usage_daily (
    user_id  text   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- A UTC date, YYYY-MM-DD, text as in SQLite.
    day      text   NOT NULL CHECK (day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    -- Questions asked and model tokens spent; only ever added to.
    requests bigint NOT NULL CHECK (requests >= 0),
    tokens   bigint NOT NULL CHECK (tokens >= 0),
    -- Also the index for the cascade from users.
    PRIMARY KEY (user_id, day)
);

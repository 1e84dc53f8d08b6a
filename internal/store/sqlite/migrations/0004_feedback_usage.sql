-- 0004_feedback_usage: readers' ratings of answers, and what each reader
-- used per day.
--
-- Feedback belongs to its message: deleting the message, its conversation or
-- the user deletes it (through the messages' own cascade). Usage belongs to
-- the user and goes with them.

CREATE TABLE message_feedback (
    -- One rating per message; replacing it updates this row.
    message_id TEXT    NOT NULL PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    -- The message's owner, so that queries can filter on it directly.
    user_id    TEXT    NOT NULL,
    rating     TEXT    NOT NULL CHECK (rating IN ('up', 'down')),
    comment    TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE usage_daily (
    user_id  TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- A UTC date, YYYY-MM-DD, so that days sort as text.
    day      TEXT    NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    -- Questions asked and model tokens spent; only ever added to.
    requests INTEGER NOT NULL CHECK (requests >= 0),
    tokens   INTEGER NOT NULL CHECK (tokens >= 0),
    -- Also the index for the cascade from users.
    PRIMARY KEY (user_id, day)
) STRICT;

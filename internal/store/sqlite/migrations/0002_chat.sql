-- 0002_chat: readers' conversations and their messages.
--
-- Every row belongs to one user. Deleting a user deletes their conversations
-- and, through them, their messages (account deletion deletes chat history).
-- Deleting a conversation is a hard delete: the row and its messages go, with
-- no tombstone left behind.

CREATE TABLE conversations (
    id            TEXT    NOT NULL PRIMARY KEY,
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title         TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    -- Last activity: creation, a new message or a rename. Never moves back.
    updated_at    INTEGER NOT NULL,
    -- The number of messages, which is also the seq of the newest one.
    -- Appending increments it in the same transaction that inserts the
    -- message, so appends to one conversation are serialized through this row.
    message_count INTEGER NOT NULL DEFAULT 0
) STRICT;

-- A user's conversations, most recent activity first, for keyset pagination
-- on (updated_at, id). It also serves the cascade from users.
CREATE INDEX conversations_user_id_updated_at_idx
    ON conversations (user_id, updated_at DESC, id DESC);

CREATE TABLE messages (
    id              TEXT    NOT NULL PRIMARY KEY,
    conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- The conversation's owner, so that queries can filter on it directly.
    user_id         TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    content         TEXT    NOT NULL,
    -- A JSON array of cited sections, NULL when there are none.
    sources         TEXT    CHECK (sources IS NULL OR json_valid(sources)),
    agent_type      TEXT    NOT NULL DEFAULT '',
    -- For an assistant message, the user message it answers.
    parent_id       TEXT,
    created_at      INTEGER NOT NULL,
    -- Also the index for listing a conversation's messages in order and for
    -- the cascade from conversations.
    UNIQUE (conversation_id, seq)
) STRICT;

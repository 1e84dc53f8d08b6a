-- 0002_chat: readers' conversations and their messages.
--
-- Every row belongs to one user. Deleting a user deletes their conversations
-- and, through them, their messages (account deletion deletes chat history).
-- Deleting a conversation is a hard delete: the row and its messages go, with
-- no tombstone left behind.

CREATE TABLE conversations (
    -- COLLATE "C": the list is ordered by id among equal update times, and
    -- byte order is the same on every server and in SQLite.
    id            text COLLATE "C" PRIMARY KEY,
    user_id       text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title         text        NOT NULL,
    created_at    timestamptz NOT NULL,
    -- Last activity: creation, a new message or a rename. Never moves back.
    updated_at    timestamptz NOT NULL,
    -- The number of messages, which is also the seq of the newest one.
    -- Appending increments it in the statement that inserts the message, so
    -- appends to one conversation are serialized by this row's lock.
    message_count bigint      NOT NULL DEFAULT 0
);

-- A user's conversations, most recent activity first, for keyset pagination
-- on (updated_at, id). It also serves the cascade from users.
CREATE INDEX conversations_user_id_updated_at_idx
    ON conversations (user_id, updated_at DESC, id DESC);

CREATE TABLE messages (
    id              text        PRIMARY KEY,
    -- The same collation as conversations.id, or joins and the cascade
    -- could not use the (conversation_id, seq) index.
    conversation_id text COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- The conversation's owner, so that queries can filter on it directly.
    user_id         text        NOT NULL,
    seq             bigint      NOT NULL,
    role            text        NOT NULL CHECK (role IN ('user', 'assistant')),
    content         text        NOT NULL,
    -- A JSON array of cited sections, NULL when there are none.
    sources         jsonb,
    agent_type      text        NOT NULL DEFAULT '',
    -- For an assistant message, the user message it answers.
    parent_id       text,
    created_at      timestamptz NOT NULL,
    -- Also the index for listing a conversation's messages in order and for
    -- the cascade from conversations.
    UNIQUE (conversation_id, seq)
);

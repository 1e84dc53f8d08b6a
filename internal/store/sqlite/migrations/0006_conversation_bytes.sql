-- 0006_conversation_bytes: how many bytes each conversation's messages
-- hold, kept with it as message_count is, so that a reader's quota
-- (conversations, messages, bytes) is read from the conversations alone
-- (UserFootprint), without scanning their messages.

ALTER TABLE conversations ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;

UPDATE conversations SET bytes = (
    SELECT coalesce(sum(length(CAST(content AS BLOB)) + coalesce(length(CAST(sources AS BLOB)), 0)), 0) FROM messages WHERE messages.conversation_id = conversations.id
);

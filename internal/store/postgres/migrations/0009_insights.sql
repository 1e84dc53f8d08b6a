-- 0009_insights: what a book's owners see of its readers' questions.
--
-- A question keeps the page it was asked from (the reader's current page,
-- '' when none); an answer keeps whether the book did not cover the
-- question. Older rows read as asked from no page and answered.

ALTER TABLE messages ADD COLUMN page text NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN not_covered boolean NOT NULL DEFAULT false;

-- The insights read the messages of a span of days, and the answers that
-- did not cover their question.
CREATE INDEX messages_created_at_idx ON messages (created_at);
CREATE INDEX messages_not_covered_idx ON messages (created_at) WHERE not_covered;

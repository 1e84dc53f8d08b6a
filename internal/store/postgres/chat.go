package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lectern/lectern/internal/store"
)

// Every statement on conversations or messages names the user in its WHERE
// clause (or joins through a conversation row it checked for that user), so
// that the verified user id scopes each read and write in SQL.

const (
	// foreignKeyViolation is the SQLSTATE of a foreign-key violation.
	foreignKeyViolation = "23503"
	// maxPrealloc caps the capacity reserved for a page of results, so that
	// a large limit does not allocate for rows that may not exist.
	maxPrealloc = 64
)

// syncUserUpsert inserts the asserted identity or updates the user's row when
// one of the synced fields differs. An identical row is filtered out before
// the insert is attempted (NOT EXISTS), so the common case neither writes nor
// takes a row lock, which ON CONFLICT DO UPDATE would take even when its
// WHERE rejects the update; the WHERE still decides under concurrency.
// The parameters are cast because INSERT … SELECT does not type them from the
// target columns.
const syncUserUpsert = `INSERT INTO users (` + userColumns + `)
	SELECT $1::text, $2::text, $3::text, $4::boolean, $5::text, $6::text, $7::timestamptz, $8::timestamptz
	WHERE NOT EXISTS (
		SELECT 1 FROM users
		WHERE id = $1 AND name = $2 AND email = $3 AND email_verified = $4 AND image IS NOT DISTINCT FROM $5)
	ON CONFLICT (id) DO UPDATE SET
		name = excluded.name, email = excluded.email, email_verified = excluded.email_verified,
		image = excluded.image, updated_at = excluded.updated_at
	WHERE (users.name, users.email, users.email_verified, users.image)
		IS DISTINCT FROM (excluded.name, excluded.email, excluded.email_verified, excluded.image)`

// SyncUser makes u.ID's row carry u's name, email, verification and image,
// inserting it (with role "user", u.CreatedAt and u.UpdatedAt) if missing,
// and reports whether it wrote anything. An update sets updated_at to
// u.UpdatedAt and leaves role, created_at and credentials alone. If another
// user holds u.Email, that user's email becomes "stale+<id>@invalid" (and
// its updated_at u.UpdatedAt) in the same transaction as the retried upsert.
func (s *Store) SyncUser(ctx context.Context, u store.User) (bool, error) {
	var deleted bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deleted_users WHERE id = $1)`, u.ID).Scan(&deleted); err != nil {
		return false, wrap("sync user", err)
	}
	if deleted {
		return false, fmt.Errorf("postgres: sync user %s: %w", u.ID, store.ErrDeleted)
	}
	args := []any{u.ID, u.Name, u.Email, u.EmailVerified, u.Image, defaultRole, u.CreatedAt, u.UpdatedAt}
	tag, err := s.pool.Exec(ctx, syncUserUpsert, args...)
	if err == nil {
		return tag.RowsAffected() > 0, nil
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != uniqueViolation {
		return false, wrap("sync user", err)
	}
	// Another row holds the email (the id conflict is the upsert's): release
	// it and retry once, both in one transaction. The failed attempt wrote
	// nothing.
	op := "sync user: release email"
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx,
			`UPDATE users SET email = 'stale+' || id || '@invalid', updated_at = $1
			 WHERE email = $2 AND id <> $3`,
			u.UpdatedAt, u.Email, u.ID); err != nil {
			return err
		}
		op = "sync user"
		tag, err = tx.Exec(ctx, syncUserUpsert, args...)
		return err
	})
	if err != nil {
		return false, wrap(op, err)
	}
	return tag.RowsAffected() > 0, nil
}

// UserFootprint returns what userID has stored, from their conversations
// alone (their counts of messages and bytes).
func (s *Store) UserFootprint(ctx context.Context, userID string) (store.Footprint, error) {
	var f store.Footprint
	err := s.pool.QueryRow(ctx,
		`SELECT count(*), coalesce(sum(message_count), 0), coalesce(sum(bytes), 0) FROM conversations WHERE user_id = $1`,
		userID).Scan(&f.Conversations, &f.Messages, &f.Bytes)
	if err != nil {
		return f, wrap("user footprint", err)
	}
	return f, nil
}

// isForeignKeyViolation reports whether err is a foreign-key violation.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == foreignKeyViolation
}

const conversationColumns = `id, user_id, title, created_at, updated_at, message_count`

func scanConversation(row pgx.Row) (store.Conversation, error) {
	var c store.Conversation
	if err := row.Scan(&c.ID, &c.UserID, &c.Title, &c.CreatedAt, &c.UpdatedAt, &c.MessageCount); err != nil {
		return store.Conversation{}, err
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

// jsonToDB converts optional JSON (a message's sources, a book's table of
// contents, a document's front matter) to its stored form: JSON, or NULL
// when there is none (nil or empty).
func jsonToDB(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// nullString stores "" as NULL.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// firstMessage checks that first may open c, filling in its conversation and
// user, and numbers it 1.
func firstMessage(c store.Conversation, first store.Message) (store.Message, error) {
	if first.ConversationID == "" {
		first.ConversationID = c.ID
	}
	if first.UserID == "" {
		first.UserID = c.UserID
	}
	if first.ConversationID != c.ID || first.UserID != c.UserID {
		return store.Message{}, fmt.Errorf("postgres: start conversation: first message belongs to conversation %q of user %q, not %q of %q",
			first.ConversationID, first.UserID, c.ID, c.UserID)
	}
	first.Seq = 1
	if len(first.Sources) == 0 {
		first.Sources = nil
	}
	first.Rating = "" // a new message has no feedback
	return first, nil
}

// StartConversation inserts c (with a message count of 1) and first as its
// message 1, and returns first as stored. first's empty ConversationID and
// UserID are taken to mean c's. Both inserts are one statement, so they
// commit or fail together. A missing user yields store.ErrNotFound and a
// duplicate id store.ErrConflict; either way nothing is written.
func (s *Store) StartConversation(ctx context.Context, c store.Conversation, first store.Message) (store.Message, error) {
	first, err := firstMessage(c, first)
	if err != nil {
		return store.Message{}, err
	}
	err = s.pool.QueryRow(ctx,
		`WITH c AS (
			INSERT INTO conversations (`+conversationColumns+`, bytes)
			VALUES ($1, $2, $3, $4, $5, 1, $13)
			RETURNING id, user_id
		)
		INSERT INTO messages (id, conversation_id, user_id, seq, role, content, sources, agent_type, parent_id, created_at, page, not_covered)
		SELECT $6::text, c.id, c.user_id, 1, $7::text, $8::text, $9::jsonb, $10::text, $11::text, $12::timestamptz, $14::text, $15::boolean
		FROM c
		RETURNING created_at`,
		c.ID, c.UserID, c.Title, c.CreatedAt, c.UpdatedAt,
		first.ID, first.Role, first.Content, jsonToDB(first.Sources), first.AgentType, nullString(first.ParentID), first.CreatedAt,
		store.MessageBytes(first), first.Page, first.NotCovered).
		Scan(&first.CreatedAt)
	if err != nil {
		if isForeignKeyViolation(err) {
			return store.Message{}, fmt.Errorf("postgres: start conversation: no user %q: %w", c.UserID, store.ErrNotFound)
		}
		return store.Message{}, wrap("start conversation", err)
	}
	first.CreatedAt = first.CreatedAt.UTC()
	return first, nil
}

// Conversation returns userID's conversation id; store.ErrNotFound if there
// is none or it belongs to someone else.
func (s *Store) Conversation(ctx context.Context, userID, id string) (store.Conversation, error) {
	c, err := scanConversation(s.pool.QueryRow(ctx,
		`SELECT `+conversationColumns+` FROM conversations WHERE id = $1 AND user_id = $2`, id, userID))
	if err != nil {
		return store.Conversation{}, wrap("conversation", err)
	}
	return c, nil
}

// ListConversations returns up to limit (at least 1) of userID's
// conversations ordered by updated_at then id (byte order), both descending,
// starting strictly after the cursor when there is one. An empty page is an
// empty, non-nil slice.
func (s *Store) ListConversations(ctx context.Context, userID string, limit int, after *store.ConversationCursor) ([]store.Conversation, error) {
	if limit < 1 {
		return nil, fmt.Errorf("postgres: list conversations: limit %d is not positive", limit)
	}
	var rows pgx.Rows
	var err error
	if after == nil {
		rows, err = s.pool.Query(ctx,
			`SELECT `+conversationColumns+` FROM conversations
			 WHERE user_id = $1
			 ORDER BY updated_at DESC, id DESC LIMIT $2`, userID, limit)
	} else {
		rows, err = s.pool.Query(ctx,
			`SELECT `+conversationColumns+` FROM conversations
			 WHERE user_id = $1 AND (updated_at, id) < ($2, $3)
			 ORDER BY updated_at DESC, id DESC LIMIT $4`, userID, after.UpdatedAt, after.ID, limit)
	}
	if err != nil {
		return nil, wrap("list conversations", err)
	}
	defer rows.Close()
	out := make([]store.Conversation, 0, min(limit, maxPrealloc))
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, wrap("list conversations", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list conversations", err)
	}
	return out, nil
}

// RenameConversation sets the title of userID's conversation and moves its
// updated_at to now (never backwards), returning the conversation as
// stored; store.ErrNotFound if it is not theirs.
func (s *Store) RenameConversation(ctx context.Context, userID, id, title string, now time.Time) (store.Conversation, error) {
	c, err := scanConversation(s.pool.QueryRow(ctx,
		`UPDATE conversations SET title = $1, updated_at = GREATEST(updated_at, $2)
		 WHERE id = $3 AND user_id = $4
		 RETURNING `+conversationColumns, title, now, id, userID))
	if err != nil {
		return store.Conversation{}, wrap("rename conversation", err)
	}
	return c, nil
}

// DeleteConversation removes userID's conversation and, by cascade, its
// messages and their feedback; store.ErrNotFound if it is not theirs.
func (s *Store) DeleteConversation(ctx context.Context, userID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM conversations WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return wrap("delete conversation", err)
	}
	return mustAffect("delete conversation", tag)
}

// AppendMessage stores m as the next message of m.ConversationID, which must
// belong to m.UserID (else store.ErrNotFound), and moves the conversation's
// updated_at to m.CreatedAt (never backwards). It returns m with Seq set
// (and Rating empty).
//
// One statement increments the count and inserts the message numbered by it.
// The UPDATE locks the conversation row until the statement commits, so
// concurrent appenders queue on it and each reads the count its predecessor
// committed: every append gets its own seq and none fails or is lost. If the
// insert fails, the increment is undone with it.
func (s *Store) AppendMessage(ctx context.Context, m store.Message) (store.Message, error) {
	err := s.pool.QueryRow(ctx,
		`WITH c AS (
			UPDATE conversations SET message_count = message_count + 1, updated_at = GREATEST(updated_at, $1),
				bytes = bytes + $10
			WHERE id = $2 AND user_id = $3
			RETURNING id, user_id, message_count
		)
		INSERT INTO messages (id, conversation_id, user_id, seq, role, content, sources, agent_type, parent_id, created_at, page, not_covered)
		SELECT $4::text, c.id, c.user_id, c.message_count, $5::text, $6::text, $7::jsonb, $8::text, $9::text, $1, $11::text, $12::boolean
		FROM c
		RETURNING seq, created_at`,
		m.CreatedAt, m.ConversationID, m.UserID,
		m.ID, m.Role, m.Content, jsonToDB(m.Sources), m.AgentType, nullString(m.ParentID), store.MessageBytes(m),
		m.Page, m.NotCovered).Scan(&m.Seq, &m.CreatedAt)
	if err != nil {
		return store.Message{}, wrap("append message", err)
	}
	m.CreatedAt = m.CreatedAt.UTC()
	if len(m.Sources) == 0 {
		m.Sources = nil
	}
	m.Rating = "" // a new message has no feedback
	return m, nil
}

// ListMessages returns up to limit (at least 1) messages of userID's
// conversation with seq > afterSeq, in seq order, each with the user's
// rating of it ("" for none); store.ErrNotFound if the conversation is not
// theirs. An empty page is an empty, non-nil slice.
//
// One statement answers both questions from one snapshot: the conversation
// row, checked for the user, is left-joined to a page of its messages, so an
// owned conversation with no messages after the cursor still yields one row,
// whose seq is NULL (read as 0; real messages start at 1).
func (s *Store) ListMessages(ctx context.Context, userID, conversationID string, afterSeq int64, limit int) ([]store.Message, error) {
	if limit < 1 {
		return nil, fmt.Errorf("postgres: list messages: limit %d is not positive", limit)
	}
	rows, err := s.pool.Query(ctx,
		`SELECT coalesce(m.id, ''), coalesce(m.seq, 0), coalesce(m.role, ''), coalesce(m.content, ''), m.sources,
		        coalesce(m.agent_type, ''), coalesce(m.parent_id, ''), coalesce(m.page, ''), coalesce(m.not_covered, false),
		        coalesce(m.created_at, 'epoch'), coalesce(f.rating, '')
		 FROM conversations c
		 LEFT JOIN LATERAL (
			SELECT id, seq, role, content, sources, agent_type, parent_id, page, not_covered, created_at
			FROM messages
			WHERE conversation_id = c.id AND user_id = c.user_id AND seq > $3
			ORDER BY seq LIMIT $4
		 ) m ON true
		 LEFT JOIN message_feedback f ON f.message_id = m.id AND f.user_id = c.user_id
		 WHERE c.id = $1 AND c.user_id = $2
		 ORDER BY m.seq`, conversationID, userID, afterSeq, limit)
	if err != nil {
		return nil, wrap("list messages", err)
	}
	defer rows.Close()
	found := false
	out := make([]store.Message, 0, min(limit, maxPrealloc))
	for rows.Next() {
		found = true
		m := store.Message{ConversationID: conversationID, UserID: userID}
		if err := rows.Scan(&m.ID, &m.Seq, &m.Role, &m.Content, &m.Sources,
			&m.AgentType, &m.ParentID, &m.Page, &m.NotCovered, &m.CreatedAt, &m.Rating); err != nil {
			return nil, wrap("list messages", err)
		}
		if m.Seq == 0 { // the conversation without a message
			continue
		}
		m.CreatedAt = m.CreatedAt.UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list messages", err)
	}
	if !found {
		return nil, fmt.Errorf("postgres: list messages: %w", store.ErrNotFound)
	}
	return out, nil
}

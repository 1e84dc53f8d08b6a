package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/lectern/lectern/internal/store"
)

// Every statement on conversations or messages names the user in its WHERE
// clause (or joins through a conversation row it checked for that user), so
// that the verified user id scopes each read and write in SQL.

// maxPrealloc caps the capacity reserved for a page of results, so that a
// large limit does not allocate for rows that may not exist.
const maxPrealloc = 64

// syncUserUpsert inserts the asserted identity or updates the user's row when
// one of the synced fields differs; an identical row is left alone, so the
// statement changes no row.
const syncUserUpsert = `INSERT INTO users (` + userColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET
		name = excluded.name, email = excluded.email, email_verified = excluded.email_verified,
		image = excluded.image, updated_at = excluded.updated_at
	WHERE users.name IS NOT excluded.name OR users.email IS NOT excluded.email
		OR users.email_verified IS NOT excluded.email_verified OR users.image IS NOT excluded.image`

// SyncUser makes u.ID's row carry u's name, email, verification and image,
// inserting it (with role "user", u.CreatedAt and u.UpdatedAt) if missing,
// and reports whether it wrote anything. An update sets updated_at to
// u.UpdatedAt and leaves role, created_at and credentials alone. If another
// user holds u.Email, that user's email becomes "stale+<id>@invalid" (and
// its updated_at u.UpdatedAt) in the same transaction. A deleted user's id
// gives store.ErrDeleted and writes nothing.
//
// An up-to-date row is recognized through the read pool, so the common case
// does not queue for the single writer.
func (s *Store) SyncUser(ctx context.Context, u store.User) (bool, error) {
	var same, deleted bool
	if err := s.readStmts.row(ctx, `SELECT EXISTS (SELECT 1 FROM deleted_users WHERE id = ?)`, u.ID).Scan(&deleted); err != nil {
		return false, wrap("sync user", err)
	}
	if deleted {
		return false, fmt.Errorf("sqlite: sync user %s: %w", u.ID, store.ErrDeleted)
	}
	if err := s.readStmts.row(ctx,
		`SELECT EXISTS (SELECT 1 FROM users
		 WHERE id = ? AND name = ? AND email = ? AND email_verified = ? AND image IS ?)`,
		u.ID, u.Name, u.Email, u.EmailVerified, u.Image).Scan(&same); err != nil {
		return false, wrap("sync user", err)
	}
	if same {
		return false, nil
	}
	return s.syncUserWrite(ctx, u)
}

// syncUserWrite is SyncUser's write transaction: the upsert, which itself
// leaves an identical row alone, and the email takeover.
func (s *Store) syncUserWrite(ctx context.Context, u store.User) (bool, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, wrap("sync user", err)
	}
	defer tx.Rollback()
	args := []any{u.ID, u.Name, u.Email, u.EmailVerified, u.Image, defaultRole, toDB(u.CreatedAt), toDB(u.UpdatedAt)}
	res, err := tx.ExecContext(ctx, syncUserUpsert, args...)
	if isUniqueViolation(err) {
		// Another row holds the email (the id conflict is the upsert's).
		// A failed statement does not abort an SQLite transaction, so the
		// takeover and the retry join the same one.
		if _, err := tx.ExecContext(ctx,
			`UPDATE users SET email = 'stale+' || id || '@invalid', updated_at = ?
			 WHERE email = ? AND id <> ?`,
			toDB(u.UpdatedAt), u.Email, u.ID); err != nil {
			return false, wrap("sync user: release email", err)
		}
		res, err = tx.ExecContext(ctx, syncUserUpsert, args...)
	}
	if err != nil {
		return false, wrap("sync user", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrap("sync user", err)
	}
	if err := tx.Commit(); err != nil {
		return false, wrap("sync user", err)
	}
	return n > 0, nil
}

// UserFootprint returns what userID has stored, from their conversations
// alone (their counts of messages and bytes).
func (s *Store) UserFootprint(ctx context.Context, userID string) (store.Footprint, error) {
	var f store.Footprint
	err := s.readStmts.row(ctx,
		`SELECT count(*), ifnull(sum(message_count), 0), ifnull(sum(bytes), 0) FROM conversations WHERE user_id = ?`,
		userID).Scan(&f.Conversations, &f.Messages, &f.Bytes)
	if err != nil {
		return f, wrap("user footprint", err)
	}
	return f, nil
}

// isUniqueViolation reports whether err is a UNIQUE constraint failure.
func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// isForeignKeyViolation reports whether err is a FOREIGN KEY constraint
// failure.
func isForeignKeyViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

const conversationColumns = `id, user_id, title, created_at, updated_at, message_count`

func scanConversation(row scanner) (store.Conversation, error) {
	var c store.Conversation
	var created, updated int64
	if err := row.Scan(&c.ID, &c.UserID, &c.Title, &created, &updated, &c.MessageCount); err != nil {
		return store.Conversation{}, err
	}
	c.CreatedAt, c.UpdatedAt = fromDB(created), fromDB(updated)
	return c, nil
}

// jsonToDB converts optional JSON (a message's sources, a book's table of
// contents, a document's front matter) to its stored form: JSON text, or
// NULL when there is none (nil or empty).
func jsonToDB(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// nullString stores "" as NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const insertMessage = `INSERT INTO messages
	(id, conversation_id, user_id, seq, role, content, sources, agent_type, parent_id, page, not_covered, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func insertMessageArgs(m store.Message) []any {
	return []any{m.ID, m.ConversationID, m.UserID, m.Seq, m.Role, m.Content,
		jsonToDB(m.Sources), m.AgentType, nullString(m.ParentID), m.Page, m.NotCovered, toDB(m.CreatedAt)}
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
		return store.Message{}, fmt.Errorf("sqlite: start conversation: first message belongs to conversation %q of user %q, not %q of %q",
			first.ConversationID, first.UserID, c.ID, c.UserID)
	}
	first.Seq = 1
	first.CreatedAt = fromDB(toDB(first.CreatedAt)) // as stored
	if len(first.Sources) == 0 {
		first.Sources = nil
	}
	first.Rating = "" // a new message has no feedback
	return first, nil
}

const insertConversation = `INSERT INTO conversations (` + conversationColumns + `, bytes) VALUES (?, ?, ?, ?, ?, 1, ?)`

// StartConversation inserts c (with a message count of 1) and first as its
// message 1 in one transaction, and returns first as stored. first's empty
// ConversationID and UserID are taken to mean c's. A missing user yields
// store.ErrNotFound and a duplicate id store.ErrConflict; either way nothing
// is written.
func (s *Store) StartConversation(ctx context.Context, c store.Conversation, first store.Message) (store.Message, error) {
	first, err := firstMessage(c, first)
	if err != nil {
		return store.Message{}, err
	}
	tx, st, err := s.writeTx(ctx, insertConversation, insertMessage)
	if err != nil {
		return store.Message{}, wrap("start conversation", err)
	}
	defer tx.Rollback()
	if _, err := st[0].ExecContext(ctx, c.ID, c.UserID, c.Title, toDB(c.CreatedAt), toDB(c.UpdatedAt), store.MessageBytes(first)); err != nil {
		if isForeignKeyViolation(err) {
			return store.Message{}, fmt.Errorf("sqlite: start conversation: no user %q: %w", c.UserID, store.ErrNotFound)
		}
		return store.Message{}, wrap("start conversation", err)
	}
	if _, err := st[1].ExecContext(ctx, insertMessageArgs(first)...); err != nil {
		return store.Message{}, wrap("start conversation: message", err)
	}
	if err := tx.Commit(); err != nil {
		return store.Message{}, wrap("start conversation", err)
	}
	return first, nil
}

// Conversation returns userID's conversation id; store.ErrNotFound if there
// is none or it belongs to someone else.
func (s *Store) Conversation(ctx context.Context, userID, id string) (store.Conversation, error) {
	c, err := scanConversation(s.readStmts.row(ctx,
		`SELECT `+conversationColumns+` FROM conversations WHERE id = ? AND user_id = ?`, id, userID))
	if err != nil {
		return store.Conversation{}, wrap("conversation", err)
	}
	return c, nil
}

// The queries of ListConversations: the first page, and a page after a
// cursor. Both walk conversations_user_id_updated_at_idx in order. The
// redundant "updated_at <= ?" lets SQLite start the walk at the cursor: it
// does not derive that bound from the OR, and would otherwise filter every
// conversation before the cursor (the row value (updated_at, id) < (?, ?)
// would do too, but spells the order less plainly).
const (
	listConversationsFirst = `SELECT ` + conversationColumns + ` FROM conversations
		WHERE user_id = ?
		ORDER BY updated_at DESC, id DESC LIMIT ?`
	listConversationsAfter = `SELECT ` + conversationColumns + ` FROM conversations
		WHERE user_id = ? AND updated_at <= ? AND (updated_at < ? OR (updated_at = ? AND id < ?))
		ORDER BY updated_at DESC, id DESC LIMIT ?`
)

// ListConversations returns up to limit (at least 1) of userID's
// conversations ordered by updated_at then id (byte order), both descending,
// starting strictly after the cursor when there is one. An empty page is an
// empty, non-nil slice.
func (s *Store) ListConversations(ctx context.Context, userID string, limit int, after *store.ConversationCursor) ([]store.Conversation, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sqlite: list conversations: limit %d is not positive", limit)
	}
	var rows *sql.Rows
	var err error
	if after == nil {
		q, args := limited(listConversationsFirst, limit, userID)
		rows, err = s.readStmts.rows(ctx, q, args...)
	} else {
		at := toDB(after.UpdatedAt)
		q, args := limited(listConversationsAfter, limit, userID, at, at, at, after.ID)
		rows, err = s.readStmts.rows(ctx, q, args...)
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
	c, err := scanConversation(s.write.QueryRowContext(ctx,
		`UPDATE conversations SET title = ?, updated_at = max(updated_at, ?)
		 WHERE id = ? AND user_id = ?
		 RETURNING `+conversationColumns, title, toDB(now), id, userID))
	if err != nil {
		return store.Conversation{}, wrap("rename conversation", err)
	}
	return c, nil
}

// DeleteConversation removes userID's conversation and, by cascade, its
// messages and their feedback; store.ErrNotFound if it is not theirs.
func (s *Store) DeleteConversation(ctx context.Context, userID, id string) error {
	res, err := s.write.ExecContext(ctx,
		`DELETE FROM conversations WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return wrap("delete conversation", err)
	}
	return mustAffect("delete conversation", res)
}

const countMessage = `UPDATE conversations SET message_count = message_count + 1, updated_at = max(updated_at, ?),
		bytes = bytes + ?
	WHERE id = ? AND user_id = ?
	RETURNING message_count`

// AppendMessage stores m as the next message of m.ConversationID, which must
// belong to m.UserID (else store.ErrNotFound), and moves the conversation's
// updated_at to m.CreatedAt (never backwards). The count is incremented and
// the message inserted in one write transaction; the single writer
// serializes appenders, so each gets its own seq. It returns m with Seq set
// (and Rating empty).
func (s *Store) AppendMessage(ctx context.Context, m store.Message) (store.Message, error) {
	tx, st, err := s.writeTx(ctx, countMessage, insertMessage)
	if err != nil {
		return store.Message{}, wrap("append message", err)
	}
	defer tx.Rollback()
	if err := st[0].QueryRowContext(ctx, toDB(m.CreatedAt), store.MessageBytes(m), m.ConversationID, m.UserID).Scan(&m.Seq); err != nil {
		return store.Message{}, wrap("append message", err)
	}
	if _, err := st[1].ExecContext(ctx, insertMessageArgs(m)...); err != nil {
		return store.Message{}, wrap("append message", err)
	}
	if err := tx.Commit(); err != nil {
		return store.Message{}, wrap("append message", err)
	}
	m.CreatedAt = fromDB(toDB(m.CreatedAt)) // as stored
	if len(m.Sources) == 0 {
		m.Sources = nil
	}
	m.Rating = "" // a new message has no feedback
	return m, nil
}

// listMessages is ListMessages' query. The conversation is found by its
// primary key, and its messages are read in order from the (conversation_id,
// seq) index, so the page needs no sort; each message's feedback is looked
// up by its primary key.
const listMessages = `SELECT ifnull(m.id, ''), ifnull(m.seq, 0), ifnull(m.role, ''), ifnull(m.content, ''), m.sources,
		ifnull(m.agent_type, ''), ifnull(m.parent_id, ''), ifnull(m.page, ''), ifnull(m.not_covered, 0), ifnull(m.created_at, 0), ifnull(f.rating, '')
	FROM conversations c
	LEFT JOIN messages m ON m.conversation_id = c.id AND m.user_id = c.user_id AND m.seq > ?
	LEFT JOIN message_feedback f ON f.message_id = m.id AND f.user_id = c.user_id
	WHERE c.id = ? AND c.user_id = ?
	ORDER BY m.seq LIMIT ?`

// ListMessages returns up to limit (at least 1) messages of userID's
// conversation with seq > afterSeq, in seq order, each with the user's
// rating of it ("" for none); store.ErrNotFound if the conversation is not
// theirs. An empty page is an empty, non-nil slice.
//
// One statement answers both questions from one snapshot: the conversation
// row, checked for the user, is left-joined to its messages, so an owned
// conversation with no messages after the cursor still yields one row, whose
// seq is NULL (read as 0; real messages start at 1).
func (s *Store) ListMessages(ctx context.Context, userID, conversationID string, afterSeq int64, limit int) ([]store.Message, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sqlite: list messages: limit %d is not positive", limit)
	}
	q, args := limited(listMessages, limit, afterSeq, conversationID, userID)
	rows, err := s.readStmts.rows(ctx, q, args...)
	if err != nil {
		return nil, wrap("list messages", err)
	}
	defer rows.Close()
	found := false
	out := make([]store.Message, 0, min(limit, maxPrealloc))
	for rows.Next() {
		found = true
		m := store.Message{ConversationID: conversationID, UserID: userID}
		var created int64
		if err := rows.Scan(&m.ID, &m.Seq, &m.Role, &m.Content, &m.Sources,
			&m.AgentType, &m.ParentID, &m.Page, &m.NotCovered, &created, &m.Rating); err != nil {
			return nil, wrap("list messages", err)
		}
		if m.Seq == 0 { // the conversation without a message
			continue
		}
		m.CreatedAt = fromDB(created)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list messages", err)
	}
	if !found {
		return nil, fmt.Errorf("sqlite: list messages: %w", store.ErrNotFound)
	}
	return out, nil
}

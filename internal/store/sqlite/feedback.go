package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lectern/lectern/internal/store"
)

// SetFeedback records f on an assistant message of f.UserID's, or replaces
// the rating, comment and updated_at of the feedback already there (its
// created_at is kept); store.ErrNotFound if there is no such message. A
// rating other than "up" or "down" is refused before anything is written.
//
// The message is checked and the feedback written by one statement: the
// row to insert is selected from the message itself, so a message that is
// missing, another user's or the user's own question yields no row.
func (s *Store) SetFeedback(ctx context.Context, f store.Feedback) error {
	if err := store.CheckFeedback(f); err != nil {
		return fmt.Errorf("sqlite: set feedback: %w", err)
	}
	res, err := s.write.ExecContext(ctx,
		`INSERT INTO message_feedback (message_id, user_id, rating, comment, created_at, updated_at)
		 SELECT id, user_id, ?, ?, ?, ? FROM messages
		 WHERE id = ? AND user_id = ? AND role = 'assistant'
		 ON CONFLICT (message_id) DO UPDATE SET
			rating = excluded.rating, comment = excluded.comment, updated_at = excluded.updated_at`,
		f.Rating, f.Comment, toDB(f.CreatedAt), toDB(f.UpdatedAt), f.MessageID, f.UserID)
	if err != nil {
		return wrap("set feedback", err)
	}
	return mustAffect("set feedback", res)
}

// AddUsage adds requests and tokens to userID's counters for day and returns
// the totals after adding. One upsert adds and reads back, and the single
// writer runs it alone, so concurrent adds are never lost. Adding zeros
// only reads, through the read pool: a day without a row, or a user that
// does not exist, reads as zeros. A non-zero add for a missing user yields
// store.ErrNotFound.
func (s *Store) AddUsage(ctx context.Context, userID, day string, requests, tokens int64) (store.Usage, error) {
	if err := store.CheckUsage(day, requests, tokens); err != nil {
		return store.Usage{}, fmt.Errorf("sqlite: add usage: %w", err)
	}
	var u store.Usage
	if requests == 0 && tokens == 0 {
		err := s.readStmts.row(ctx,
			`SELECT requests, tokens FROM usage_daily WHERE user_id = ? AND day = ?`,
			userID, day).Scan(&u.Requests, &u.Tokens)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return store.Usage{}, wrap("add usage", err)
		}
		return u, nil
	}
	err := s.writeStmts.row(ctx,
		`INSERT INTO usage_daily (user_id, day, requests, tokens) VALUES (?, ?, ?, ?)
		 ON CONFLICT (user_id, day) DO UPDATE SET
			requests = usage_daily.requests + excluded.requests,
			tokens = usage_daily.tokens + excluded.tokens
		 RETURNING requests, tokens`,
		userID, day, requests, tokens).Scan(&u.Requests, &u.Tokens)
	if isForeignKeyViolation(err) {
		return store.Usage{}, fmt.Errorf("sqlite: add usage: no user %q: %w", userID, store.ErrNotFound)
	}
	if err != nil {
		return store.Usage{}, wrap("add usage", err)
	}
	return u, nil
}

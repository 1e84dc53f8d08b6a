package postgres

import (
	"context"
	"testing"

	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/storetest"
)

// storedFeedback reads the feedback on a message as stored.
func (s *Store) storedFeedback(ctx context.Context, messageID string) (store.Feedback, error) {
	var f store.Feedback
	err := s.pool.QueryRow(ctx,
		`SELECT message_id, user_id, rating, comment, created_at, updated_at
		 FROM message_feedback WHERE message_id = $1`, messageID).
		Scan(&f.MessageID, &f.UserID, &f.Rating, &f.Comment, &f.CreatedAt, &f.UpdatedAt)
	if err != nil {
		return store.Feedback{}, wrap("stored feedback", err)
	}
	f.CreatedAt, f.UpdatedAt = f.CreatedAt.UTC(), f.UpdatedAt.UTC()
	return f, nil
}

func TestFeedbackRecords(t *testing.T) {
	s := openMigrated(t)
	storetest.RunFeedbackRecords(t, s, s.storedFeedback)
}

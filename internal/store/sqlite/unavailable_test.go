package sqlite

import (
	"crypto/sha256"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
)

// TestLockedDatabaseIsUnavailable holds the write lock from another
// "process" for longer than busyTimeout: the write that waited for it
// fails with store.ErrUnavailable (the HTTP layer's 503), not an internal
// error.
func TestLockedDatabaseIsUnavailable(t *testing.T) {
	if testing.Short() {
		t.Skip("waits busyTimeout")
	}
	path := filepath.Join(t.TempDir(), "lectern.db")
	a, b := open(t, path), open(t, path)
	migrate(t, a)
	tx, err := b.write.BeginTx(t.Context(), nil) // BEGIN IMMEDIATE: takes the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	now := time.Now()
	hash := sha256.Sum256([]byte("token"))
	start := time.Now()
	err = a.CreateSession(t.Context(), store.Session{ID: randid.New(), TokenHash: hash[:], UserID: "someone",
		ExpiresAt: now, CreatedAt: now, UpdatedAt: now})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write while another process holds the lock: %v, want store.ErrUnavailable", err)
	}
	if d := time.Since(start); d < busyTimeout/2 {
		t.Errorf("gave up after %v, before busyTimeout (%v)", d, busyTimeout)
	}
}

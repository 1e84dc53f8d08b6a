package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/pgtest"
	"github.com/lectern/lectern/internal/store/storetest"
)

// openMigrated opens a new, migrated database.
func openMigrated(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), pgtest.NewDatabase(tb))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(tb.Context()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s
}

// ON CONFLICT DO UPDATE locks the conflicting row even when its WHERE
// rejects the update; SyncUser's NOT EXISTS keeps an up-to-date row from
// being touched at all, so the common sync neither writes a row version nor
// a lock.
func TestSyncUserOfAnUpToDateUserNeitherWritesNorLocks(t *testing.T) {
	s := openMigrated(t)
	now := time.Now()
	img := "https://example.test/a.png"
	for _, image := range []*string{nil, &img} {
		u := store.User{ID: randid.New(), Name: "Ada", Email: strings.ToLower(randid.New()) + "@example.test",
			Image: image, EmailVerified: true, CreatedAt: now, UpdatedAt: now}
		if changed, err := s.SyncUser(t.Context(), u); err != nil || !changed {
			t.Fatalf("first SyncUser = %v, %v; want true", changed, err)
		}
		version := func() string {
			var v string
			if err := s.pool.QueryRow(t.Context(),
				`SELECT xmin::text || '/' || xmax::text || '/' || ctid::text FROM users WHERE id = $1`, u.ID).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		before := version()
		u.UpdatedAt = now.Add(time.Hour)
		if changed, err := s.SyncUser(t.Context(), u); err != nil || changed {
			t.Errorf("SyncUser of an up-to-date user = %v, %v; want false", changed, err)
		}
		if after := version(); after != before {
			t.Errorf("row version (xmin/xmax/ctid) went from %s to %s; want it untouched", before, after)
		}
	}
}

func BenchmarkListConversations(b *testing.B) {
	storetest.BenchmarkListConversations(b, openMigrated(b))
}

func BenchmarkListMessages(b *testing.B) {
	storetest.BenchmarkListMessages(b, openMigrated(b))
}

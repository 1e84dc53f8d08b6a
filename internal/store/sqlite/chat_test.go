package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/storetest"
)

// openMigrated opens a new, migrated database in a temporary directory.
func openMigrated(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), filepath.Join(tb.TempDir(), "lectern.db"))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(tb.Context()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s
}

// totalChanges returns the number of rows the write connection has changed.
func totalChanges(t *testing.T, s *Store) int64 {
	t.Helper()
	var n int64
	if err := s.write.QueryRowContext(t.Context(), `SELECT total_changes()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The read pool usually spares SyncUser the write transaction; the upsert
// must still leave an identical row alone when a concurrent sync gets there
// first.
func TestSyncUserWriteLeavesAnIdenticalRowAlone(t *testing.T) {
	s := openMigrated(t)
	now := time.Date(2025, time.March, 14, 15, 9, 26, 535_897_000, time.UTC)
	img := "https://example.test/a.png"
	for _, image := range []*string{nil, &img} {
		u := store.User{ID: randid.New(), Name: "Ada", Email: strings.ToLower(randid.New()) + "@example.test",
			Image: image, CreatedAt: now, UpdatedAt: now}
		changed, err := s.syncUserWrite(t.Context(), u)
		if err != nil || !changed {
			t.Fatalf("first syncUserWrite = %v, %v; want true", changed, err)
		}

		before := totalChanges(t, s)
		synced := u
		synced.UpdatedAt = now.Add(time.Hour)
		changed, err = s.syncUserWrite(t.Context(), synced)
		if err != nil || changed {
			t.Errorf("syncUserWrite of an identical row = %v, %v; want false", changed, err)
		}
		if after := totalChanges(t, s); after != before {
			t.Errorf("syncUserWrite of an identical row changed %d rows", after-before)
		}
		got, err := s.UserByID(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.UpdatedAt.Equal(now) {
			t.Errorf("UpdatedAt = %v, want it untouched at %v", got.UpdatedAt, now)
		}
	}
}

func TestChatListsReadIndexesInOrder(t *testing.T) {
	s := openMigrated(t)
	cases := []struct {
		name  string
		query string
		args  []any
		want  string // in the plan
	}{
		{"first page of conversations", listConversationsFirst, []any{"u", 20},
			"conversations_user_id_updated_at_idx (user_id=?)"},
		{"page of conversations after a cursor", listConversationsAfter, []any{"u", 1, 1, 1, "c", 20},
			"conversations_user_id_updated_at_idx (user_id=? AND updated_at<?)"},
		{"page of messages", listMessages, []any{0, "c", "u", 50},
			"(conversation_id=? AND seq>?)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, err := s.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+c.query, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			all := strings.Join(plan, "; ")
			t.Logf("plan: %s", all)
			if strings.Contains(all, "SCAN ") || strings.Contains(all, "TEMP B-TREE") || !strings.Contains(all, c.want) {
				t.Errorf("query plan %q scans or sorts; want index searches only, including %s", all, c.want)
			}
		})
	}
}

func BenchmarkListConversations(b *testing.B) {
	storetest.BenchmarkListConversations(b, openMigrated(b))
}

func BenchmarkListMessages(b *testing.B) {
	storetest.BenchmarkListMessages(b, openMigrated(b))
}

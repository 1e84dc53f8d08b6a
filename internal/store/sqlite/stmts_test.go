package sqlite

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
)

func TestLimited(t *testing.T) {
	q, args := limited("SELECT x FROM t WHERE a = ? LIMIT ?", 20, "a")
	if q != "SELECT x FROM t WHERE a = ? LIMIT 20" || !slices.Equal(args, []any{"a"}) {
		t.Errorf("limit 20: %q %v", q, args)
	}
	q, args = limited("SELECT x FROM t WHERE a = ? LIMIT ?", maxLiteralLimit+1, "a")
	if q != "SELECT x FROM t WHERE a = ? LIMIT ?" || !slices.Equal(args, []any{"a", maxLiteralLimit + 1}) {
		t.Errorf("limit %d: %q %v", maxLiteralLimit+1, q, args)
	}
}

// TestPagesOfEverySize reads one conversation with page sizes on both
// sides of maxLiteralLimit, each twice, through the kept statements.
func TestPagesOfEverySize(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "lectern.db"))
	migrate(t, s)
	ctx := t.Context()
	now := time.Now()
	u := store.User{ID: randid.New(), Name: "Ada", Email: "ada@example.test", Role: "user", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, u, store.Account{ID: randid.New(), AccountID: u.ID, ProviderID: "credential", UserID: u.ID, PasswordHash: "x", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	c := store.Conversation{ID: randid.New(), UserID: u.ID, Title: "t", CreatedAt: now, UpdatedAt: now}
	if _, err := s.StartConversation(ctx, c, store.Message{ID: randid.New(), Role: store.RoleUser, Content: "q", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	const total = 150
	for range total - 1 {
		if _, err := s.AppendMessage(ctx, store.Message{ID: randid.New(), ConversationID: c.ID, UserID: u.ID, Role: store.RoleUser, Content: "q", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	for _, limit := range []int{1, 7, 50, 7, maxLiteralLimit, maxLiteralLimit + 1, 1000, 1000, 3} {
		ms, err := s.ListMessages(ctx, u.ID, c.ID, 0, limit)
		if err != nil || len(ms) != min(limit, total) {
			t.Fatalf("ListMessages(limit %d) = %d messages, %v", limit, len(ms), err)
		}
		cs, err := s.ListConversations(ctx, u.ID, limit, nil)
		if err != nil || len(cs) != 1 {
			t.Fatalf("ListConversations(limit %d) = %d, %v", limit, len(cs), err)
		}
	}
}

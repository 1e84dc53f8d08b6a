package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
)

// TestBackupWhileWriting takes a backup while a writer keeps adding
// conversations of two messages each, in one transaction per message, and
// checks that the copy is a usable database holding a consistent prefix of
// what was written: everything acknowledged before the backup began, and
// no conversation whose count of messages disagrees with its messages.
func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "lectern.db"))
	migrate(t, s)
	ctx := t.Context()
	now := time.Now()
	u := store.User{ID: randid.New(), Name: "Ada", Email: "ada@example.test", Role: "user", CreatedAt: now, UpdatedAt: now}
	a := store.Account{ID: randid.New(), AccountID: u.ID, ProviderID: "credential", UserID: u.ID, PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, u, a); err != nil {
		t.Fatal(err)
	}

	var acked atomic.Int64
	write := func(ctx context.Context) error {
		c := store.Conversation{ID: randid.New(), UserID: u.ID, Title: "t", CreatedAt: now, UpdatedAt: now}
		q := store.Message{ID: randid.New(), ConversationID: c.ID, UserID: u.ID, Role: store.RoleUser, Content: "question", CreatedAt: now}
		if _, err := s.StartConversation(ctx, c, q); err != nil {
			return err
		}
		ans := store.Message{ID: randid.New(), ConversationID: c.ID, UserID: u.ID, Role: store.RoleAssistant, Content: "answer", Sources: []byte(`[]`), AgentType: "rag", CreatedAt: now}
		if _, err := s.AppendMessage(ctx, ans); err != nil {
			return err
		}
		acked.Add(1)
		return nil
	}
	for range 50 {
		if err := write(ctx); err != nil {
			t.Fatal(err)
		}
	}

	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for wctx.Err() == nil {
			if err := write(wctx); err != nil && wctx.Err() == nil {
				t.Errorf("write during backup: %v", err)
				return
			}
		}
	})
	before := acked.Load()
	path := filepath.Join(dir, "backup.db")
	info, err := s.Backup(ctx, path)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if info.Path != path || info.Bytes <= 0 {
		t.Errorf("Backup = %+v", info)
	}

	b := open(t, path)
	var convs, msgs, bad int64
	if err := b.read.QueryRowContext(ctx, `SELECT count(*) FROM conversations`).Scan(&convs); err != nil {
		t.Fatal(err)
	}
	if err := b.read.QueryRowContext(ctx, `SELECT count(*) FROM messages`).Scan(&msgs); err != nil {
		t.Fatal(err)
	}
	if err := b.read.QueryRowContext(ctx, `SELECT count(*) FROM conversations c
		WHERE c.message_count <> (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if convs < before {
		t.Errorf("backup holds %d conversations; %d were acknowledged before it began", convs, before)
	}
	if bad != 0 {
		t.Errorf("%d conversations in the backup disagree with their messages", bad)
	}
	// A conversation caught between its question and its answer is a
	// state the live database also passes through; nothing else is.
	if msgs < 2*convs-1 || msgs > 2*convs {
		t.Errorf("backup holds %d conversations and %d messages", convs, msgs)
	}
	if _, err := b.ListConversations(ctx, u.ID, 10, nil); err != nil {
		t.Errorf("the backup does not serve reads: %v", err)
	}

	left, _ := filepath.Glob(filepath.Join(dir, ".backup.db.*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestBackupRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "lectern.db"))
	migrate(t, s)
	path := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, "", filepath.Join(dir, "a?b.db"), filepath.Join(dir, "missing", "x.db")} {
		if _, err := s.Backup(t.Context(), p); err == nil {
			t.Errorf("Backup(%q) succeeded", p)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Errorf("existing file changed to %q", b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

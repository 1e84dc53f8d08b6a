package chat_test

import (
	"context"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/testdb"
)

// TestAnExchangeKeepsWhatTheOwnersSee: the question keeps the page it was
// asked from, and the answer whether the book did not cover it, on both
// engines.
func TestAnExchangeKeepsWhatTheOwnersSee(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now()
		if _, err := st.SyncUser(ctx, store.User{ID: "u1", Email: "u1@example.com", Name: "U", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		for _, notCovered := range []bool{true, false} {
			a := scriptedAnswerer{reply: chat.Reply{Text: "…", NotCovered: notCovered}}
			res, err := chat.New(st, a, chat.Options{}).Run(ctx, "u1", chat.RunRequest{Query: "how do I bake bread?", CurrentPage: "/docs/baking"})
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := st.ListMessages(ctx, "u1", res.Conversation.ID, 0, 10)
			if err != nil || len(msgs) != 2 {
				t.Fatalf("%d messages, %v", len(msgs), err)
			}
			if msgs[0].Page != "/docs/baking" || msgs[1].NotCovered != notCovered || msgs[1].Page != "" {
				t.Errorf("stored question page %q, answer not covered %v (page %q); want /docs/baking, %v", msgs[0].Page, msgs[1].NotCovered, msgs[1].Page, notCovered)
			}
		}
	})
}

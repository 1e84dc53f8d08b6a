package postgres

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
)

// TestInsightsWithWritersAtOnce has readers ask, get answers and delete
// conversations and accounts all at once, on shared pages, sections and
// days, and checks that the counts the triggers kept are those
// insights_rebuild counts from the rows left: no write lost or counted
// twice, and no deadlock between the writers.
func TestInsightsWithWritersAtOnce(t *testing.T) {
	s := openMigrated(t)
	day0 := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2)
	const writers = 12
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			errs <- write(t, s, w, day0)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	read := func() string {
		var b strings.Builder
		for from := range 3 {
			for to := from + 1; to <= 3; to++ {
				f, e := day0.AddDate(0, 0, from), day0.AddDate(0, 0, to)
				v, err := s.Volume(t.Context(), f, e)
				if err != nil {
					t.Fatal(err)
				}
				pages, err := s.PagesAskedFrom(t.Context(), f, e, 1, 100)
				if err != nil {
					t.Fatal(err)
				}
				sections, err := s.SectionsCited(t.Context(), f, e, 1, 100)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "days %d-%d: %v %v\n  %v\n  %v\n", from, to, v.Days, v.Agents, pages, sections)
			}
		}
		return b.String()
	}
	kept := read()
	if !strings.Contains(kept, "/docs/p") || !strings.Contains(kept, "/docs/s") {
		t.Fatalf("the writers left no pages or sections to count:\n%s", kept)
	}
	if _, err := s.pool.Exec(t.Context(), `SELECT insights_rebuild()`); err != nil {
		t.Fatal(err)
	}
	if rebuilt := read(); rebuilt != kept {
		t.Errorf("counts kept by the triggers:\n%s\ncounted again from the rows:\n%s", kept, rebuilt)
	}
}

// write is one reader of TestInsightsWithWritersAtOnce: conversations of
// questions and cited answers over three days, every third deleted, and
// every fourth reader's account deleted at the end.
func write(t *testing.T, s *Store, w int, day0 time.Time) error {
	r := rand.New(rand.NewPCG(uint64(w), 19))
	u := store.User{ID: randid.New(), Name: "Reader", Email: strings.ToLower(randid.New()) + "@example.test", CreatedAt: day0, UpdatedAt: day0}
	if _, err := s.SyncUser(t.Context(), u); err != nil {
		return err
	}
	for i := range 9 {
		at := day0.Add(time.Duration(r.Int64N(int64(60 * time.Hour))))
		c := store.Conversation{ID: randid.New(), UserID: u.ID, Title: "c", CreatedAt: at, UpdatedAt: at}
		for turn := range 1 + r.IntN(3) {
			q := store.Message{ID: randid.New(), ConversationID: c.ID, UserID: u.ID, Role: store.RoleUser, Content: "q",
				Page: fmt.Sprintf("/docs/p%d", r.IntN(3)), CreatedAt: at}
			var err error
			if turn == 0 {
				q, err = s.StartConversation(t.Context(), c, q)
			} else {
				q, err = s.AppendMessage(t.Context(), q)
			}
			if err != nil {
				return err
			}
			var sources []string
			for range r.IntN(4) {
				sources = append(sources, fmt.Sprintf(`{"slug": "s", "url": "/docs/s%d", "heading": "H"}`, r.IntN(4)))
			}
			a := store.Message{ID: randid.New(), ConversationID: c.ID, UserID: u.ID, Role: store.RoleAssistant, Content: "a",
				AgentType: "rag", ParentID: q.ID, CreatedAt: at.Add(time.Second), Sources: []byte("[" + strings.Join(sources, ",") + "]")}
			if _, err := s.AppendMessage(t.Context(), a); err != nil {
				return err
			}
			at = at.Add(time.Duration(r.Int64N(int64(10 * time.Hour))))
		}
		if i%3 == 2 {
			if err := s.DeleteConversation(t.Context(), u.ID, c.ID); err != nil {
				return err
			}
		}
	}
	if w%4 == 3 {
		return s.DeleteUser(t.Context(), u.ID)
	}
	return nil
}

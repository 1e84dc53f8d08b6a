package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
)

// newConversation returns a conversation of userID with a unique id, created
// and last active at now.
func newConversation(userID string, now time.Time) store.Conversation {
	id := randid.New()
	return store.Conversation{
		ID:        id,
		UserID:    userID,
		Title:     "Chat " + id[:6],
		CreatedAt: now,
		UpdatedAt: now,
	}
}

// newMessage returns a message of c in the given role, created at now. An
// assistant message cites sources and names its agent.
func newMessage(c store.Conversation, role string, now time.Time) store.Message {
	m := store.Message{
		ID:             randid.New(),
		ConversationID: c.ID,
		UserID:         c.UserID,
		Role:           role,
		Content:        "What does chapter " + c.ID[:3] + " say?",
		Page:           "/docs/chapter-" + c.ID[:3],
		CreatedAt:      now,
	}
	if role == store.RoleAssistant {
		m.Content = "It says: \"quoted\", ünïcode and\nnewlines."
		m.Sources = []byte(`[{"book": "b1", "section": "2.3", "score": 0.87}]`)
		m.AgentType = "rag"
		m.Page = ""
		m.NotCovered = c.ID[0]%2 == 0 // either way, over the suite
	}
	return m
}

// startConversation stores a new conversation of userID, created at now,
// with a user message as message 1, and returns both as stored.
func startConversation(t testing.TB, s store.Store, userID string, now time.Time) (store.Conversation, store.Message) {
	t.Helper()
	c := newConversation(userID, now)
	first, err := s.StartConversation(t.Context(), c, newMessage(c, store.RoleUser, now))
	if err != nil {
		t.Fatalf("StartConversation: %v", err)
	}
	c.MessageCount = 1
	return c, first
}

// appendMessage appends a message of c in the given role created at now and
// returns it as stored.
func appendMessage(t testing.TB, s store.Store, c store.Conversation, role string, now time.Time) store.Message {
	t.Helper()
	m, err := s.AppendMessage(t.Context(), newMessage(c, role, now))
	if err != nil {
		t.Fatalf("AppendMessage: %v", err)
	}
	return m
}

// conversation fetches userID's conversation id, failing the test if it
// cannot.
func conversation(t *testing.T, s store.Store, userID, id string) store.Conversation {
	t.Helper()
	c, err := s.Conversation(t.Context(), userID, id)
	if err != nil {
		t.Fatalf("Conversation: %v", err)
	}
	return c
}

// allMessages lists every message of userID's conversation.
func allMessages(t *testing.T, s store.Store, userID, conversationID string) []store.Message {
	t.Helper()
	ms, err := s.ListMessages(t.Context(), userID, conversationID, 0, 1000)
	if err != nil {
		t.Fatalf("ListMessages: %v", err)
	}
	return ms
}

// allConversations lists every conversation of userID.
func allConversations(t *testing.T, s store.Store, userID string) []store.Conversation {
	t.Helper()
	cs, err := s.ListConversations(t.Context(), userID, 1000, nil)
	if err != nil {
		t.Fatalf("ListConversations: %v", err)
	}
	return cs
}

func checkConversation(t *testing.T, got, want store.Conversation) {
	t.Helper()
	check(t, "Conversation.ID", got.ID, want.ID)
	check(t, "Conversation.UserID", got.UserID, want.UserID)
	check(t, "Conversation.Title", got.Title, want.Title)
	checkTime(t, "Conversation.CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "Conversation.UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	check(t, "Conversation.MessageCount", got.MessageCount, want.MessageCount)
}

func checkMessage(t *testing.T, got, want store.Message) {
	t.Helper()
	check(t, "Message.ID", got.ID, want.ID)
	check(t, "Message.ConversationID", got.ConversationID, want.ConversationID)
	check(t, "Message.UserID", got.UserID, want.UserID)
	check(t, "Message.Seq", got.Seq, want.Seq)
	check(t, "Message.Role", got.Role, want.Role)
	check(t, "Message.Content", got.Content, want.Content)
	checkJSON(t, "Message.Sources", got.Sources, want.Sources)
	check(t, "Message.AgentType", got.AgentType, want.AgentType)
	check(t, "Message.ParentID", got.ParentID, want.ParentID)
	check(t, "Message.Page", got.Page, want.Page)
	check(t, "Message.NotCovered", got.NotCovered, want.NotCovered)
	checkTime(t, "Message.CreatedAt", got.CreatedAt, want.CreatedAt)
	check(t, "Message.Rating", got.Rating, want.Rating)
}

// checkMessages compares two lists of messages field by field.
func checkMessages(t *testing.T, got, want []store.Message) {
	t.Helper()
	checkIDs(t, "message ids", messageIDs(got), messageIDs(want))
	if len(got) == len(want) {
		for i := range got {
			checkMessage(t, got[i], want[i])
		}
	}
}

// checkJSON reports JSON that differs from want in meaning (PostgreSQL's
// jsonb may reformat it), or that is nil when want is not or vice versa.
func checkJSON(t *testing.T, field string, got, want []byte) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Errorf("%s = %q, want %q", field, got, want)
		return
	}
	if got == nil {
		return
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s = %q: %v", field, got, err)
		return
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: bad wanted JSON %q: %v", field, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", field, got, want)
	}
}

// conversationIDs returns the ids of cs, in order.
func conversationIDs(cs []store.Conversation) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

// messageIDs returns the ids of ms, in order.
func messageIDs(ms []store.Message) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

// messageSeqs returns the seqs of ms, in order.
func messageSeqs(ms []store.Message) []int64 {
	seqs := make([]int64, len(ms))
	for i, m := range ms {
		seqs[i] = m.Seq
	}
	return seqs
}

// seqRange returns from, from+1, …, to.
func seqRange(from, to int64) []int64 {
	out := []int64{}
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// byActivity sorts conversations the way ListConversations orders them:
// UpdatedAt then ID (byte order), both descending.
func byActivity(cs []store.Conversation) []store.Conversation {
	out := slices.Clone(cs)
	slices.SortFunc(out, func(a, b store.Conversation) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out
}

// wantEmpty fails the test unless err is nil and got is an empty, non-nil
// slice.
func wantEmpty[T any](t *testing.T, what string, got []T, err error) {
	t.Helper()
	noErr(t, what, err)
	if got == nil || len(got) != 0 {
		t.Errorf("%s = %#v, want an empty, non-nil slice", what, got)
	}
}

// wantSomeErr fails the test if err is nil, or if target is not nil and err
// does not match it.
func wantSomeErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if target != nil {
		wantErr(t, what, err, target)
		return
	}
	if err == nil {
		t.Fatalf("%s succeeded, want an error", what)
	}
}

func conversationTests() []test {
	return []test{
		{"StartConversation stores the conversation with its first message as message 1", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			c := newConversation(u.ID, now)
			c.MessageCount = 42 // must be ignored
			first := newMessage(c, store.RoleUser, now.Add(time.Second))
			first.ConversationID, first.UserID = "", "" // taken from c
			first.Seq = 7                               // must be ignored
			first.Sources = []byte(` [ {"z": 1, "a": [true, null]} ] `)

			got, err := s.StartConversation(t.Context(), c, first)
			noErr(t, "StartConversation", err)
			want := first
			want.ConversationID, want.UserID, want.Seq = c.ID, u.ID, 1
			checkMessage(t, got, want)

			wantConv := c
			wantConv.MessageCount = 1
			checkConversation(t, conversation(t, s, u.ID, c.ID), wantConv)
			checkMessages(t, allMessages(t, s, u.ID, c.ID), []store.Message{want})
		}},
		{"StartConversation is atomic: a first message that cannot be stored leaves no conversation", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			existing, existingFirst := startConversation(t, s, u.ID, now)
			cases := []struct {
				name   string
				change func(m *store.Message)
				want   error // nil: any error
			}{
				{"a first message with an unknown role", func(m *store.Message) { m.Role = "system" }, nil},
				{"a first message whose id is taken", func(m *store.Message) { m.ID = existingFirst.ID }, store.ErrConflict},
				{"a first message whose sources are not JSON", func(m *store.Message) { m.Sources = []byte(`[{"unterminated`) }, nil},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c := newConversation(u.ID, now.Add(time.Hour))
					first := newMessage(c, store.RoleUser, now.Add(time.Hour))
					tc.change(&first)
					_, err := s.StartConversation(t.Context(), c, first)
					wantSomeErr(t, "StartConversation", err, tc.want)

					_, err = s.Conversation(t.Context(), u.ID, c.ID)
					wantErr(t, "Conversation", err, store.ErrNotFound)
					_, err = s.ListMessages(t.Context(), u.ID, c.ID, 0, 10)
					wantErr(t, "ListMessages", err, store.ErrNotFound)
					checkIDs(t, "ListConversations", conversationIDs(allConversations(t, s, u.ID)), []string{existing.ID})
				})
			}
			checkMessages(t, allMessages(t, s, u.ID, existing.ID), []store.Message{existingFirst})
		}},
		{"StartConversation for a missing user returns ErrNotFound", func(t *testing.T, s store.Store) {
			now := base()
			c := newConversation(randid.New(), now)
			_, err := s.StartConversation(t.Context(), c, newMessage(c, store.RoleUser, now))
			wantErr(t, "StartConversation", err, store.ErrNotFound)
			_, err = s.Conversation(t.Context(), c.UserID, c.ID)
			wantErr(t, "Conversation", err, store.ErrNotFound)
		}},
		{"StartConversation with a taken conversation id returns ErrConflict and keeps the original", func(t *testing.T, s store.Store) {
			now := base()
			owner := createUser(t, s, now)
			other := createUser(t, s, now)
			original, first := startConversation(t, s, owner.ID, now)
			for _, userID := range []string{owner.ID, other.ID} {
				dup := newConversation(userID, now.Add(time.Hour))
				dup.ID = original.ID
				rejected := newMessage(dup, store.RoleUser, now.Add(time.Hour))
				_, err := s.StartConversation(t.Context(), dup, rejected)
				wantErr(t, "StartConversation", err, store.ErrConflict)

				// The rejected first message was not stored: its id is free.
				c := newConversation(userID, now)
				m := newMessage(c, store.RoleUser, now)
				m.ID = rejected.ID
				_, err = s.StartConversation(t.Context(), c, m)
				noErr(t, "StartConversation reusing the rejected message's id", err)
			}
			checkConversation(t, conversation(t, s, owner.ID, original.ID), original)
			checkMessages(t, allMessages(t, s, owner.ID, original.ID), []store.Message{first})
			_, err := s.Conversation(t.Context(), other.ID, original.ID)
			wantErr(t, "Conversation of the other user", err, store.ErrNotFound)
		}},
		{"StartConversation refuses a first message of another conversation or user", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			other := createUser(t, s, now)
			cases := []struct {
				name   string
				change func(m *store.Message)
			}{
				{"a first message of another conversation", func(m *store.Message) { m.ConversationID = randid.New() }},
				{"a first message of another user", func(m *store.Message) { m.UserID = other.ID }},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c := newConversation(u.ID, now)
					first := newMessage(c, store.RoleUser, now)
					tc.change(&first)
					_, err := s.StartConversation(t.Context(), c, first)
					wantSomeErr(t, "StartConversation", err, nil)
					_, err = s.Conversation(t.Context(), u.ID, c.ID)
					wantErr(t, "Conversation", err, store.ErrNotFound)
				})
			}
		}},
		{"Conversation returns the user's conversation", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			c, _ := startConversation(t, s, u.ID, now)
			checkConversation(t, conversation(t, s, u.ID, c.ID), c)
		}},
		{"ListConversations returns only the user's conversations, most recent activity first", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			other := createUser(t, s, now)
			oldest, _ := startConversation(t, s, u.ID, now.Add(-2*time.Hour))
			newest, _ := startConversation(t, s, u.ID, now)
			middle, _ := startConversation(t, s, u.ID, now.Add(-time.Hour))
			theirs, _ := startConversation(t, s, other.ID, now.Add(-30*time.Minute))

			got := allConversations(t, s, u.ID)
			want := []store.Conversation{newest, middle, oldest}
			checkIDs(t, "ListConversations", conversationIDs(got), conversationIDs(want))
			if len(got) == len(want) {
				for i := range got {
					checkConversation(t, got[i], want[i])
				}
			}
			checkIDs(t, "ListConversations of the other user", conversationIDs(allConversations(t, s, other.ID)), []string{theirs.ID})
		}},
		{"ListConversations of a user without conversations is empty", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			other := createUser(t, s, now)
			startConversation(t, s, other.ID, now)
			got, err := s.ListConversations(t.Context(), u.ID, 10, nil)
			wantEmpty(t, "ListConversations", got, err)
			got, err = s.ListConversations(t.Context(), u.ID, 10, &store.ConversationCursor{UpdatedAt: now.Add(time.Hour), ID: "z"})
			wantEmpty(t, "ListConversations after a cursor", got, err)
			got, err = s.ListConversations(t.Context(), randid.New(), 10, nil)
			wantEmpty(t, "ListConversations of an unknown user", got, err)
		}},
		{"ListConversations pages through every conversation exactly once, ties included", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			other := createUser(t, s, now)
			// Four activity times, three conversations at each, listed
			// newest first and by id among equals.
			var all []store.Conversation
			for i := range 12 {
				at := now.Add(time.Duration(i%4) * time.Minute)
				c, _ := startConversation(t, s, u.ID, at)
				all = append(all, c)
				startConversation(t, s, other.ID, at) // interleaved with the user's
			}
			want := conversationIDs(byActivity(all))

			for _, limit := range []int{1, 2, 3, 5, 12, 13, 100} {
				t.Run(fmt.Sprintf("%d per page", limit), func(t *testing.T) {
					var got []string
					var after *store.ConversationCursor
					for page := 0; ; page++ {
						if page > len(all)+1 {
							t.Fatalf("still paging after %d pages; got %v", page, got)
						}
						cs, err := s.ListConversations(t.Context(), u.ID, limit, after)
						noErr(t, "ListConversations", err)
						if len(cs) > limit {
							t.Fatalf("page %d holds %d conversations, more than the limit %d", page, len(cs), limit)
						}
						got = append(got, conversationIDs(cs)...)
						if len(cs) < limit {
							break
						}
						last := cs[len(cs)-1]
						after = &store.ConversationCursor{UpdatedAt: last.UpdatedAt, ID: last.ID}
					}
					checkIDs(t, "conversations across pages", got, want)
				})
			}
		}},
		{"ListConversations after the cursor of a deleted conversation continues where it was", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			var all []store.Conversation
			for i := range 5 {
				c, _ := startConversation(t, s, u.ID, now.Add(time.Duration(i)*time.Minute))
				all = append(all, c)
			}
			sorted := byActivity(all)
			page, err := s.ListConversations(t.Context(), u.ID, 2, nil)
			noErr(t, "ListConversations", err)
			checkIDs(t, "first page", conversationIDs(page), conversationIDs(sorted[:2]))
			noErr(t, "DeleteConversation", s.DeleteConversation(t.Context(), u.ID, sorted[1].ID))
			page, err = s.ListConversations(t.Context(), u.ID, 10,
				&store.ConversationCursor{UpdatedAt: sorted[1].UpdatedAt, ID: sorted[1].ID})
			noErr(t, "ListConversations", err)
			checkIDs(t, "next page", conversationIDs(page), conversationIDs(sorted[2:]))
		}},
		{"ListConversations follows activity: a new message or a rename moves a conversation to the top", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			a, _ := startConversation(t, s, u.ID, now)
			b, _ := startConversation(t, s, u.ID, now.Add(time.Minute))
			c, _ := startConversation(t, s, u.ID, now.Add(2*time.Minute))
			checkIDs(t, "ListConversations", conversationIDs(allConversations(t, s, u.ID)), []string{c.ID, b.ID, a.ID})

			appendMessage(t, s, a, store.RoleAssistant, now.Add(3*time.Minute))
			checkIDs(t, "ListConversations after a message in the oldest", conversationIDs(allConversations(t, s, u.ID)), []string{a.ID, c.ID, b.ID})

			_, err := s.RenameConversation(t.Context(), u.ID, b.ID, "Renamed", now.Add(4*time.Minute))
			noErr(t, "RenameConversation", err)
			checkIDs(t, "ListConversations after renaming the oldest", conversationIDs(allConversations(t, s, u.ID)), []string{b.ID, a.ID, c.ID})
		}},
		{"ListConversations and ListMessages refuse a limit below 1", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			c, _ := startConversation(t, s, u.ID, now)
			for _, limit := range []int{0, -1} {
				t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
					_, err := s.ListConversations(t.Context(), u.ID, limit, nil)
					wantSomeErr(t, "ListConversations", err, nil)
					_, err = s.ListMessages(t.Context(), u.ID, c.ID, 0, limit)
					wantSomeErr(t, "ListMessages", err, nil)
				})
			}
		}},
		{"RenameConversation sets the title and activity time and returns the conversation", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			c, _ := startConversation(t, s, u.ID, now)
			appendMessage(t, s, c, store.RoleAssistant, now.Add(time.Minute))

			later := now.Add(time.Hour)
			got, err := s.RenameConversation(t.Context(), u.ID, c.ID, "Ünïcode \"title\"", later)
			noErr(t, "RenameConversation", err)
			want := c
			want.Title, want.UpdatedAt, want.MessageCount = "Ünïcode \"title\"", later, 2
			checkConversation(t, got, want)
			checkConversation(t, conversation(t, s, u.ID, c.ID), want)
		}},
		{"RenameConversation and AppendMessage never move the activity time backwards", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			c, first := startConversation(t, s, u.ID, now)
			earlier := now.Add(-time.Hour)

			got, err := s.RenameConversation(t.Context(), u.ID, c.ID, "Renamed", earlier)
			noErr(t, "RenameConversation", err)
			want := c
			want.Title = "Renamed"
			checkConversation(t, got, want)

			m := appendMessage(t, s, c, store.RoleAssistant, earlier)
			want.MessageCount = 2
			checkConversation(t, conversation(t, s, u.ID, c.ID), want)
			wantMsg := newMessage(c, store.RoleAssistant, earlier)
			wantMsg.ID, wantMsg.Seq = m.ID, 2
			checkMessages(t, allMessages(t, s, u.ID, c.ID), []store.Message{first, wantMsg})
		}},
		{"DeleteConversation removes the conversation and its messages", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			c, first := startConversation(t, s, u.ID, now)
			second := appendMessage(t, s, c, store.RoleAssistant, now.Add(time.Minute))
			kept, keptFirst := startConversation(t, s, u.ID, now)
			keptSecond := appendMessage(t, s, kept, store.RoleAssistant, now.Add(time.Minute))

			noErr(t, "DeleteConversation", s.DeleteConversation(t.Context(), u.ID, c.ID))

			_, err := s.Conversation(t.Context(), u.ID, c.ID)
			wantErr(t, "Conversation", err, store.ErrNotFound)
			_, err = s.ListMessages(t.Context(), u.ID, c.ID, 0, 10)
			wantErr(t, "ListMessages", err, store.ErrNotFound)
			_, err = s.AppendMessage(t.Context(), newMessage(c, store.RoleUser, now))
			wantErr(t, "AppendMessage", err, store.ErrNotFound)
			wantErr(t, "DeleteConversation again", s.DeleteConversation(t.Context(), u.ID, c.ID), store.ErrNotFound)
			checkIDs(t, "ListConversations", conversationIDs(allConversations(t, s, u.ID)), []string{kept.ID})
			checkMessages(t, allMessages(t, s, u.ID, kept.ID), []store.Message{keptFirst, keptSecond})

			// The messages are gone, not just hidden: their ids and the
			// conversation's are free again.
			again := newMessage(c, store.RoleUser, now)
			again.ID = first.ID
			_, err = s.StartConversation(t.Context(), c, again)
			noErr(t, "StartConversation reusing the deleted ids", err)
			reused := newMessage(c, store.RoleUser, now)
			reused.ID = second.ID
			_, err = s.AppendMessage(t.Context(), reused)
			noErr(t, "AppendMessage reusing a deleted message's id", err)
			check(t, "MessageCount of the new conversation", conversation(t, s, u.ID, c.ID).MessageCount, int64(2))
		}},
		{"DeleteUser removes the user's conversations and messages", func(t *testing.T, s store.Store) {
			now := base()
			u, a := newUser(now)
			noErr(t, "CreateUser", s.CreateUser(t.Context(), u, a))
			other := createUser(t, s, now)
			c1, m1 := startConversation(t, s, u.ID, now)
			m2 := appendMessage(t, s, c1, store.RoleAssistant, now)
			c2, m3 := startConversation(t, s, u.ID, now)
			theirs, theirFirst := startConversation(t, s, other.ID, now)

			noErr(t, "DeleteUser", s.DeleteUser(t.Context(), u.ID))

			_, err := s.Conversation(t.Context(), u.ID, c1.ID)
			wantErr(t, "Conversation", err, store.ErrNotFound)
			_, err = s.ListMessages(t.Context(), u.ID, c2.ID, 0, 10)
			wantErr(t, "ListMessages", err, store.ErrNotFound)
			checkMessages(t, allMessages(t, s, other.ID, theirs.ID), []store.Message{theirFirst})

			// Recreated, the user has no history, and every id is free again.
			noErr(t, "CreateUser again", s.CreateUser(t.Context(), u, a))
			got, err := s.ListConversations(t.Context(), u.ID, 10, nil)
			wantEmpty(t, "ListConversations", got, err)
			for i, ids := range [][2]string{{c1.ID, m1.ID}, {c2.ID, m2.ID}, {randid.New(), m3.ID}} {
				c := newConversation(u.ID, now)
				c.ID = ids[0]
				m := newMessage(c, store.RoleUser, now)
				m.ID = ids[1]
				_, err := s.StartConversation(t.Context(), c, m)
				noErr(t, fmt.Sprintf("StartConversation %d reusing deleted ids", i), err)
			}
		}},
		{"every call on another user's conversation returns ErrNotFound and changes nothing", func(t *testing.T, s store.Store) {
			now := base()
			owner := createUser(t, s, now)
			intruder := createUser(t, s, now)
			c, first := startConversation(t, s, owner.ID, now)
			second := appendMessage(t, s, c, store.RoleAssistant, now.Add(time.Minute))
			c.MessageCount, c.UpdatedAt = 2, now.Add(time.Minute)
			mine, myFirst := startConversation(t, s, intruder.ID, now)
			later := now.Add(time.Hour)

			cases := []struct {
				name string
				call func() error
			}{
				{"Conversation", func() error {
					_, err := s.Conversation(t.Context(), intruder.ID, c.ID)
					return err
				}},
				{"RenameConversation", func() error {
					_, err := s.RenameConversation(t.Context(), intruder.ID, c.ID, "Mine now", later)
					return err
				}},
				{"DeleteConversation", func() error {
					return s.DeleteConversation(t.Context(), intruder.ID, c.ID)
				}},
				{"AppendMessage", func() error {
					m := newMessage(c, store.RoleUser, later)
					m.UserID = intruder.ID
					_, err := s.AppendMessage(t.Context(), m)
					return err
				}},
				{"ListMessages", func() error {
					_, err := s.ListMessages(t.Context(), intruder.ID, c.ID, 0, 10)
					return err
				}},
			}
			for _, tc := range cases {
				t.Run(tc.name+" by another user", func(t *testing.T) {
					wantErr(t, tc.name, tc.call(), store.ErrNotFound)
				})
			}

			checkConversation(t, conversation(t, s, owner.ID, c.ID), c)
			checkMessages(t, allMessages(t, s, owner.ID, c.ID), []store.Message{first, second})
			checkIDs(t, "owner's ListConversations", conversationIDs(allConversations(t, s, owner.ID)), []string{c.ID})
			checkIDs(t, "intruder's ListConversations", conversationIDs(allConversations(t, s, intruder.ID)), []string{mine.ID})
			checkConversation(t, conversation(t, s, intruder.ID, mine.ID), mine)
			checkMessages(t, allMessages(t, s, intruder.ID, mine.ID), []store.Message{myFirst})
		}},
		{"operations on missing conversations return ErrNotFound", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			startConversation(t, s, u.ID, now)
			missing := newConversation(u.ID, now)
			cases := []struct {
				name string
				call func() error
			}{
				{"Conversation", func() error {
					_, err := s.Conversation(t.Context(), u.ID, missing.ID)
					return err
				}},
				{"RenameConversation", func() error {
					_, err := s.RenameConversation(t.Context(), u.ID, missing.ID, "title", now)
					return err
				}},
				{"DeleteConversation", func() error {
					return s.DeleteConversation(t.Context(), u.ID, missing.ID)
				}},
				{"AppendMessage", func() error {
					_, err := s.AppendMessage(t.Context(), newMessage(missing, store.RoleUser, now))
					return err
				}},
				{"ListMessages", func() error {
					_, err := s.ListMessages(t.Context(), u.ID, missing.ID, 0, 10)
					return err
				}},
			}
			for _, tc := range cases {
				t.Run(tc.name+" of an unknown conversation", func(t *testing.T) {
					wantErr(t, tc.name, tc.call(), store.ErrNotFound)
				})
			}
		}},
	}
}

func messageTests() []test {
	return []test{
		{"AppendMessage numbers messages in order and moves the conversation's activity time", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			c, first := startConversation(t, s, u.ID, now)

			answer := newMessage(c, store.RoleAssistant, now.Add(time.Minute))
			answer.ParentID = first.ID
			answer.Seq = 99 // must be ignored
			got, err := s.AppendMessage(t.Context(), answer)
			noErr(t, "AppendMessage", err)
			answer.Seq = 2
			checkMessage(t, got, answer)

			question := newMessage(c, store.RoleUser, now.Add(2*time.Minute))
			got, err = s.AppendMessage(t.Context(), question)
			noErr(t, "AppendMessage", err)
			question.Seq = 3
			checkMessage(t, got, question)

			want := c
			want.MessageCount, want.UpdatedAt = 3, question.CreatedAt
			checkConversation(t, conversation(t, s, u.ID, c.ID), want)
			checkMessages(t, allMessages(t, s, u.ID, c.ID), []store.Message{first, answer, question})
		}},
		{"messages keep their role, content, sources, agent and parent", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			c, first := startConversation(t, s, u.ID, now)
			cases := []struct {
				name   string
				change func(m *store.Message)
				want   func(m *store.Message) // the stored form, when it differs
			}{
				{"a user message without sources", func(m *store.Message) { m.Role = store.RoleUser }, nil},
				{"an assistant message with sources", func(m *store.Message) {
					m.Sources = []byte(`[{"section":"1.2","quote":"«ünïcode» \"quoted\"\n","score":0.5,"tags":["a","b"]},{"section":"3"}]`)
					m.ParentID = first.ID
				}, nil},
				{"sources written with spaces and keys out of order", func(m *store.Message) {
					m.Sources = []byte("[\n  { \"z\" : 1 ,\n \"a\" : { \"y\": null, \"b\": [ 1.5, false ] } }\n]")
				}, nil},
				{"an empty list of sources", func(m *store.Message) { m.Sources = []byte(`[]`) }, nil},
				{"empty sources", func(m *store.Message) { m.Sources = []byte{} }, func(m *store.Message) { m.Sources = nil }},
				{"empty content and agent", func(m *store.Message) { m.Content, m.AgentType = "", "" }, nil},
				{"a long content", func(m *store.Message) { m.Content = strings.Repeat("lorem ipsum ", 20_000) }, nil},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					m := newMessage(c, store.RoleAssistant, now)
					tc.change(&m)
					got, err := s.AppendMessage(t.Context(), m)
					noErr(t, "AppendMessage", err)
					want := m
					if tc.want != nil {
						tc.want(&want)
					}
					want.Seq = got.Seq
					checkMessage(t, got, want)
					listed, err := s.ListMessages(t.Context(), u.ID, c.ID, got.Seq-1, 1)
					noErr(t, "ListMessages", err)
					if len(listed) != 1 {
						t.Fatalf("ListMessages returned %d messages, want 1", len(listed))
					}
					checkMessage(t, listed[0], want)
					if want.Sources != nil && !bytes.HasPrefix(bytes.TrimSpace(listed[0].Sources), []byte("[")) {
						t.Errorf("Sources = %s, want a JSON array", listed[0].Sources)
					}
				})
			}
		}},
		{"AppendMessage from 50 goroutines at once gives each message its own seq", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			c, first := startConversation(t, s, u.ID, now)
			const n = 50
			sent := make([]store.Message, n)
			stored := make([]store.Message, n)
			errs := parallel(n, func(i int) error {
				sent[i] = newMessage(c, store.RoleUser, now.Add(time.Duration(i)*time.Millisecond))
				var err error
				stored[i], err = s.AppendMessage(t.Context(), sent[i])
				return err
			})
			for i, err := range errs {
				if err != nil {
					t.Errorf("AppendMessage %d: %v", i, err)
				}
			}

			// Every append got its own seq, 2 … n+1, as reported and as stored.
			bySeq := map[int64]store.Message{}
			for i := range n {
				bySeq[stored[i].Seq] = sent[i]
			}
			reported := messageSeqs(stored)
			slices.Sort(reported)
			if want := seqRange(2, n+1); !slices.Equal(reported, want) {
				t.Errorf("AppendMessage returned seqs %v, want each of %v once", reported, want)
			}
			listed := allMessages(t, s, u.ID, c.ID)
			if want := seqRange(1, n+1); !slices.Equal(messageSeqs(listed), want) {
				t.Fatalf("ListMessages seqs = %v, want %v", messageSeqs(listed), want)
			}
			checkMessage(t, listed[0], first)
			for _, m := range listed[1:] {
				want := bySeq[m.Seq]
				want.Seq = m.Seq
				checkMessage(t, m, want)
			}
			got := conversation(t, s, u.ID, c.ID)
			check(t, "MessageCount", got.MessageCount, int64(n+1))
			checkTime(t, "UpdatedAt", got.UpdatedAt, now.Add((n-1)*time.Millisecond))
		}},
		{"AppendMessage that fails changes nothing", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			c, first := startConversation(t, s, u.ID, now)
			other, otherFirst := startConversation(t, s, u.ID, now)
			later := now.Add(time.Hour)
			cases := []struct {
				name   string
				change func(m *store.Message)
				want   error // nil: any error
			}{
				{"a message with an unknown role", func(m *store.Message) { m.Role = "system" }, nil},
				{"a message whose id is taken in this conversation", func(m *store.Message) { m.ID = first.ID }, store.ErrConflict},
				{"a message whose id is taken in another conversation", func(m *store.Message) { m.ID = otherFirst.ID }, store.ErrConflict},
				{"a message whose sources are not JSON", func(m *store.Message) { m.Sources = []byte(`{"a":`) }, nil},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					m := newMessage(c, store.RoleAssistant, later)
					tc.change(&m)
					_, err := s.AppendMessage(t.Context(), m)
					wantSomeErr(t, "AppendMessage", err, tc.want)
					checkConversation(t, conversation(t, s, u.ID, c.ID), c)
					checkMessages(t, allMessages(t, s, u.ID, c.ID), []store.Message{first})
				})
			}
			checkConversation(t, conversation(t, s, u.ID, other.ID), other)

			// No seq was used up by the failures.
			next := appendMessage(t, s, c, store.RoleAssistant, later)
			check(t, "Seq after the failures", next.Seq, int64(2))
		}},
		{"ListMessages returns a page of messages after a seq, oldest first", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			c, first := startConversation(t, s, u.ID, now)
			all := []store.Message{first}
			for i := 2; i <= 5; i++ {
				role := store.RoleAssistant
				if i%2 == 1 {
					role = store.RoleUser
				}
				all = append(all, appendMessage(t, s, c, role, now.Add(time.Duration(i)*time.Second)))
			}
			// Another conversation's messages must not leak in.
			other, _ := startConversation(t, s, u.ID, now)
			appendMessage(t, s, other, store.RoleAssistant, now)

			cases := []struct {
				afterSeq int64
				limit    int
				want     []int64
			}{
				{0, 2, []int64{1, 2}},
				{2, 2, []int64{3, 4}},
				{4, 2, []int64{5}},
				{0, 100, []int64{1, 2, 3, 4, 5}},
				{-1, 1, []int64{1}},
				{3, 1, []int64{4}},
				{5, 10, []int64{}},
				{100, 1, []int64{}},
			}
			for _, tc := range cases {
				t.Run(fmt.Sprintf("%d after seq %d", tc.limit, tc.afterSeq), func(t *testing.T) {
					got, err := s.ListMessages(t.Context(), u.ID, c.ID, tc.afterSeq, tc.limit)
					if len(tc.want) == 0 {
						wantEmpty(t, "ListMessages", got, err)
						return
					}
					noErr(t, "ListMessages", err)
					var want []store.Message
					for _, seq := range tc.want {
						want = append(want, all[seq-1])
					}
					checkMessages(t, got, want)
				})
			}
		}},
	}
}

// footprintTests check the counts quotas are kept by.
func footprintTests() []test {
	return []test{
		{"UserFootprint counts the user's conversations, messages and their bytes", func(t *testing.T, s store.Store) {
			now := base()
			u, a := newUser(now)
			noErr(t, "CreateUser", s.CreateUser(t.Context(), u, a))
			f, err := s.UserFootprint(t.Context(), u.ID)
			noErr(t, "UserFootprint", err)
			check(t, "a new user's footprint", f, store.Footprint{})
			for i := range 2 {
				c := store.Conversation{ID: randid.New(), UserID: u.ID, Title: "t", CreatedAt: now, UpdatedAt: now}
				_, err := s.StartConversation(t.Context(), c, store.Message{ID: randid.New(), Role: store.RoleUser, Content: "12345", CreatedAt: now})
				noErr(t, "StartConversation", err)
				if i == 0 {
					_, err = s.AppendMessage(t.Context(), store.Message{ID: randid.New(), ConversationID: c.ID, UserID: u.ID,
						Role: store.RoleAssistant, Content: "abc", Sources: []byte(`[]`), CreatedAt: now})
					noErr(t, "AppendMessage", err)
				}
			}
			f, err = s.UserFootprint(t.Context(), u.ID)
			noErr(t, "UserFootprint", err)
			check(t, "footprint", f, store.Footprint{Conversations: 2, Messages: 3, Bytes: 5 + 5 + 3 + 2})
		}},
	}
}

func syncUserTests() []test {
	return []test{
		{"SyncUser never brings a deleted user back nor takes a later user's email", func(t *testing.T, s store.Store) {
			now := base()
			old, oldAcct := newUser(now)
			noErr(t, "CreateUser", s.CreateUser(t.Context(), old, oldAcct))
			noErr(t, "DeleteUser", s.DeleteUser(t.Context(), old.ID))
			later, laterAcct := newUser(now)
			later.Email = old.Email
			noErr(t, "CreateUser with the freed email", s.CreateUser(t.Context(), later, laterAcct))
			// The deleted user's token still asserts its id and email.
			_, err := s.SyncUser(t.Context(), old)
			wantErr(t, "SyncUser of the deleted user", err, store.ErrDeleted)
			_, err = s.UserByID(t.Context(), old.ID)
			wantErr(t, "the deleted user", err, store.ErrNotFound)
			got, err := s.UserByEmail(t.Context(), old.Email)
			noErr(t, "UserByEmail", err)
			check(t, "the email's owner", got.ID, later.ID)
		}},
		{"SyncUser inserts a missing user with role user and no credentials", func(t *testing.T, s store.Store) {
			now := base()
			u, _ := newUser(now)
			u.Image, u.EmailVerified = ptr("https://idp.example.test/ada.png"), true
			u.Role = "admin" // must be ignored
			changed, err := s.SyncUser(t.Context(), u)
			noErr(t, "SyncUser", err)
			check(t, "changed", changed, true)

			want := u
			want.Role = "user"
			got, err := s.UserByID(t.Context(), u.ID)
			noErr(t, "UserByID", err)
			checkUser(t, got, want)
			_, err = s.CredentialAccount(t.Context(), u.ID)
			wantErr(t, "CredentialAccount", err, store.ErrNotFound)

			u.UpdatedAt = now.Add(time.Hour)
			changed, err = s.SyncUser(t.Context(), u)
			noErr(t, "SyncUser again", err)
			check(t, "changed the second time", changed, false)
			got, err = s.UserByID(t.Context(), u.ID)
			noErr(t, "UserByID", err)
			checkUser(t, got, want)
		}},
		{"SyncUser of an up-to-date user writes nothing", func(t *testing.T, s store.Store) {
			now := base()
			cases := []struct {
				name  string
				image *string
			}{
				{"a user with an image", ptr("https://example.test/a.png")},
				{"a user without an image", nil},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					u, a := newUser(now)
					u.Image, u.EmailVerified = tc.image, true
					noErr(t, "CreateUser", s.CreateUser(t.Context(), u, a))

					synced := u
					synced.CreatedAt, synced.UpdatedAt = now.Add(time.Hour), now.Add(time.Hour)
					synced.Role = "admin"
					if u.Image != nil {
						synced.Image = ptr(*u.Image) // equal, not the same pointer
					}
					changed, err := s.SyncUser(t.Context(), synced)
					noErr(t, "SyncUser", err)
					check(t, "changed", changed, false)
					got, err := s.UserByID(t.Context(), u.ID)
					noErr(t, "UserByID", err)
					checkUser(t, got, u)
				})
			}
		}},
		{"SyncUser updates what changed and leaves role, creation time and credentials alone", func(t *testing.T, s store.Store) {
			now := base()
			later := now.Add(time.Hour)
			cases := []struct {
				name   string
				image  *string // the user's image before
				change func(u *store.User)
			}{
				{"a new name", nil, func(u *store.User) { u.Name = "Ada Lovelace" }},
				{"a new email", nil, func(u *store.User) { u.Email = "new." + u.Email }},
				{"a verified email", nil, func(u *store.User) { u.EmailVerified = true }},
				{"an added image", nil, func(u *store.User) { u.Image = ptr("https://example.test/new.png") }},
				{"a removed image", ptr("https://example.test/old.png"), func(u *store.User) { u.Image = nil }},
				{"a changed image", ptr("https://example.test/old.png"), func(u *store.User) { u.Image = ptr("https://example.test/new.png") }},
				{"an emptied image", ptr("https://example.test/old.png"), func(u *store.User) { u.Image = ptr("") }},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					u, a := newUser(now)
					u.Image = tc.image
					noErr(t, "CreateUser", s.CreateUser(t.Context(), u, a))
					u.Role = "admin"
					noErr(t, "UpdateUser", s.UpdateUser(t.Context(), u))
					x := createSession(t, s, u.ID, now, 24*time.Hour)

					synced := u
					synced.Role = "user" // must be ignored
					synced.CreatedAt, synced.UpdatedAt = later, later
					tc.change(&synced)
					changed, err := s.SyncUser(t.Context(), synced)
					noErr(t, "SyncUser", err)
					check(t, "changed", changed, true)

					want := synced
					want.Role, want.CreatedAt = "admin", u.CreatedAt
					got, err := s.UserByID(t.Context(), u.ID)
					noErr(t, "UserByID", err)
					checkUser(t, got, want)
					acct, err := s.CredentialAccount(t.Context(), u.ID)
					noErr(t, "CredentialAccount", err)
					checkAccount(t, acct, a)
					_, err = s.SessionByTokenHash(t.Context(), x.TokenHash)
					noErr(t, "SessionByTokenHash", err)
				})
			}
		}},
		{"SyncUser takes over an email another user holds", func(t *testing.T, s store.Store) {
			now := base()
			later := now.Add(time.Hour)
			cases := []struct {
				name     string
				existing bool // whether the synced user is already stored
			}{
				{"a new user", false},
				{"an existing user changing email", true},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					holder, holderAcct := newUser(now)
					noErr(t, "CreateUser", s.CreateUser(t.Context(), holder, holderAcct))
					holder.Role = "admin"
					noErr(t, "UpdateUser", s.UpdateUser(t.Context(), holder))

					u, a := newUser(now)
					if tc.existing {
						noErr(t, "CreateUser", s.CreateUser(t.Context(), u, a))
					}
					synced := u
					synced.Email = holder.Email
					synced.UpdatedAt = later
					if !tc.existing {
						synced.CreatedAt = later
					}
					changed, err := s.SyncUser(t.Context(), synced)
					noErr(t, "SyncUser", err)
					check(t, "changed", changed, true)

					got, err := s.UserByEmail(t.Context(), holder.Email)
					noErr(t, "UserByEmail", err)
					checkUser(t, got, synced)

					// The former holder keeps everything but the email, which
					// is now a placeholder of its own.
					displaced, err := s.UserByID(t.Context(), holder.ID)
					noErr(t, "UserByID of the former holder", err)
					if displaced.Email == holder.Email || displaced.Email == "" {
						t.Errorf("former holder's email = %q, want a placeholder", displaced.Email)
					}
					want := holder
					want.Email, want.UpdatedAt = displaced.Email, later
					checkUser(t, displaced, want)
					byPlaceholder, err := s.UserByEmail(t.Context(), displaced.Email)
					noErr(t, "UserByEmail of the placeholder", err)
					check(t, "owner of the placeholder", byPlaceholder.ID, holder.ID)
					acct, err := s.CredentialAccount(t.Context(), holder.ID)
					noErr(t, "CredentialAccount of the former holder", err)
					checkAccount(t, acct, holderAcct)
				})
			}
		}},
		{"SyncUser can take over the emails of several users in turn", func(t *testing.T, s store.Store) {
			now := base()
			a, b, c := createUser(t, s, now), createUser(t, s, now), createUser(t, s, now)
			u, _ := newUser(now)
			for i, holder := range []store.User{a, b, c} {
				synced := u
				synced.Email = holder.Email
				changed, err := s.SyncUser(t.Context(), synced)
				noErr(t, fmt.Sprintf("SyncUser %d", i), err)
				check(t, "changed", changed, true)
			}
			got, err := s.UserByEmail(t.Context(), c.Email)
			noErr(t, "UserByEmail", err)
			check(t, "holder of the last email", got.ID, u.ID)
			seen := map[string]bool{}
			for _, holder := range []store.User{a, b} {
				got, err := s.UserByID(t.Context(), holder.ID)
				noErr(t, "UserByID", err)
				if got.Email == holder.Email || seen[got.Email] {
					t.Errorf("displaced user's email = %q, want a placeholder of its own", got.Email)
				}
				seen[got.Email] = true
			}
			// Only the user's current email is taken: the earlier ones were
			// released by its later syncs.
			for _, holder := range []store.User{a, b} {
				_, err := s.UserByEmail(t.Context(), holder.Email)
				wantErr(t, "UserByEmail of a released email", err, store.ErrNotFound)
			}
		}},
		{"SyncUser from 10 goroutines at once inserts the user once", func(t *testing.T, s store.Store) {
			now := base()
			u, _ := newUser(now)
			const n = 10
			changed := make([]bool, n)
			errs := parallel(n, func(i int) error {
				var err error
				changed[i], err = s.SyncUser(t.Context(), u)
				return err
			})
			writes := 0
			for i, err := range errs {
				if err != nil {
					t.Errorf("SyncUser %d: %v", i, err)
				}
				if changed[i] {
					writes++
				}
			}
			check(t, "callers that wrote", writes, 1)
			got, err := s.UserByID(t.Context(), u.ID)
			noErr(t, "UserByID", err)
			checkUser(t, got, u)
		}},
	}
}

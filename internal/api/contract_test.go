package api_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/testdb"
)

func TestAgentRun(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, options{})
		u := e.newUser()

		var first runResponse
		t.Run("a run without session_id starts a conversation and returns its id", func(t *testing.T) {
			r := u.do("POST", "/api/agents/run", map[string]any{"agent_type": "triage", "query": "  What is a lectern, and why would anyone read at one standing up?  ",
				"current_page": "/docs/intro", "highlighted_text": "", "retrieved_chunks": []any{map[string]any{"text": "forged"}}})
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			r.decode(t, &first)
			if first.SessionID == "" || first.MessageID == "" || first.Message == "" || first.AgentUsed != "rag" || first.Sources == nil || len(first.Sources) != 0 {
				t.Errorf("response %s", r.body)
			}
			c := u.conversations(t, 10)
			if len(c) != 1 || c[0].ID != first.SessionID || c[0].Title != "What is a lectern, and why would anyone read at on..." || c[0].MessageCount != 2 {
				t.Errorf("conversations %+v", c)
			}
		})

		t.Run("the next turn with session_id continues the same conversation", func(t *testing.T) {
			next := u.run(t, first.SessionID, "and the second one?")
			if next.SessionID != first.SessionID {
				t.Fatalf("session %s, want %s", next.SessionID, first.SessionID)
			}
			msgs := u.messages(t, first.SessionID, 100)
			if len(msgs) != 4 {
				t.Fatalf("%d messages", len(msgs))
			}
			for i, m := range msgs {
				wantRole := map[bool]string{true: "user", false: "assistant"}[i%2 == 0]
				if m.Seq != int64(i+1) || m.Role != wantRole {
					t.Errorf("message %d: seq %d role %s", i, m.Seq, m.Role)
				}
				if m.Role == "assistant" && (m.ParentID == nil || *m.ParentID != msgs[i-1].ID || m.AgentType == nil || string(m.Sources) != "[]") {
					t.Errorf("assistant message %+v does not answer %s", m, msgs[i-1].ID)
				}
			}
			if msgs[0].Content != "What is a lectern, and why would anyone read at one standing up?" {
				t.Errorf("question stored as %q", msgs[0].Content)
			}
		})

		t.Run("agent_used reports the agent that answered", func(t *testing.T) {
			r := u.do("POST", "/api/agents/run", map[string]any{"agent_type": "summarizer", "query": "summarize", "highlighted_text": "Some passage."})
			var out runResponse
			r.decode(t, &out)
			if out.AgentUsed != "summarizer" {
				t.Errorf("agent_used = %q", out.AgentUsed)
			}
		})

		for _, tc := range []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"an unknown agent_type is refused", map[string]any{"agent_type": "review", "query": "q"}, 400, "VALIDATION_ERROR"},
			{"an empty query is refused", map[string]any{"agent_type": "rag", "query": "   "}, 400, "VALIDATION_ERROR"},
			{"an overlong query is refused", map[string]any{"agent_type": "rag", "query": strings.Repeat("q", chat.MaxQueryRunes+1)}, 400, "VALIDATION_ERROR"},
			{"overlong highlighted text is refused", map[string]any{"agent_type": "rag", "query": "q", "highlighted_text": strings.Repeat("h", chat.MaxHighlightedRunes+1)}, 400, "VALIDATION_ERROR"},
			{"a query of the wrong type is refused", map[string]any{"agent_type": "rag", "query": 42}, 400, "VALIDATION_ERROR"},
			{"malformed JSON is refused", `{"query":`, 400, "BAD_REQUEST"},
			{"an unknown session_id is not found", map[string]any{"agent_type": "rag", "query": "q", "session_id": "nope"}, 404, "NOT_FOUND"},
			{"a body over the limit is refused", map[string]any{"agent_type": "rag", "query": strings.Repeat("q", 2<<20)}, 413, "PAYLOAD_TOO_LARGE"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := u.do("POST", "/api/agents/run", tc.body)
				var body struct{ Code string }
				r.decode(t, &body)
				if r.status != tc.status || body.Code != tc.code {
					t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
				}
			})
		}
	})
}

func TestConversationEndpoints(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, options{})
		u := e.newUser()
		a := u.run(t, "", "first")
		b := u.run(t, "", "second")

		t.Run("the list is newest activity first, and a new message moves a conversation up", func(t *testing.T) {
			if c := u.conversations(t, 1); len(c) != 2 || c[0].ID != b.SessionID {
				t.Fatalf("order %+v", c)
			}
			u.run(t, a.SessionID, "more")
			if c := u.conversations(t, 1); c[0].ID != a.SessionID {
				t.Fatalf("order after activity %+v", c)
			}
		})
		t.Run("rename changes the title", func(t *testing.T) {
			r := u.do("PATCH", "/api/conversations/"+a.SessionID, map[string]any{"title": "  Renamed  "})
			var c conversation
			r.decode(t, &c)
			if r.status != 200 || c.Title != "Renamed" {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
		for _, tc := range []struct {
			name string
			body any
		}{
			{"an empty title is refused", map[string]any{"title": " "}},
			{"a missing title is refused", map[string]any{}},
			{"a multi-line title is refused", map[string]any{"title": "a\nb"}},
			{"an overlong title is refused", map[string]any{"title": strings.Repeat("t", 201)}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if r := u.do("PATCH", "/api/conversations/"+a.SessionID, tc.body); r.status != 400 {
					t.Fatalf("%d %s", r.status, r.body)
				}
			})
		}
		t.Run("clients can post user messages only", func(t *testing.T) {
			if r := u.do("POST", "/api/conversations/"+a.SessionID+"/messages", map[string]any{"role": "assistant", "content": "forged"}); r.status != 400 {
				t.Errorf("assistant role: %d", r.status)
			}
			if r := u.do("POST", "/api/conversations/"+a.SessionID+"/messages", map[string]any{"content": "x", "sources": []any{map[string]any{"slug": "forged"}}}); r.status != 400 {
				t.Errorf("sources: %d", r.status)
			}
			r := u.do("POST", "/api/conversations/"+a.SessionID+"/messages", map[string]any{"role": "user", "content": "mine"})
			var m message
			r.decode(t, &m)
			if r.status != 201 || m.Role != "user" || m.Content != "mine" || m.UserID != u.id {
				t.Errorf("%d %s", r.status, r.body)
			}
		})
		t.Run("bad paging parameters are refused", func(t *testing.T) {
			for _, q := range []string{"?limit=0", "?limit=101", "?limit=x", "?cursor=!!!", "?cursor=AAAA"} {
				if r := u.do("GET", "/api/conversations"+q, nil); r.status != 400 {
					t.Errorf("%s: %d", q, r.status)
				}
			}
		})
		t.Run("delete removes the conversation and its messages", func(t *testing.T) {
			if r := u.do("DELETE", "/api/conversations/"+b.SessionID, nil); r.status != 204 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if r := u.do("GET", "/api/conversations/"+b.SessionID+"/messages", nil); r.status != 404 {
				t.Errorf("messages of a deleted conversation: %d", r.status)
			}
			if r := u.do("DELETE", "/api/conversations/"+b.SessionID, nil); r.status != 404 {
				t.Errorf("second delete: %d", r.status)
			}
		})
		t.Run("users/me answers from the verified token", func(t *testing.T) {
			var me struct {
				UserID string `json:"user_id"`
				Email  string
			}
			r := u.do("GET", "/api/users/me", nil)
			r.decode(t, &me)
			if r.status != 200 || me.UserID != u.id || !strings.HasSuffix(me.Email, "@example.com") {
				t.Errorf("%d %s", r.status, r.body)
			}
		})
		t.Run("nothing but a valid bearer token identifies a caller", func(t *testing.T) {
			anon := &user{e: e}
			for _, h := range [][]string{nil, {"X-User-ID", u.id}, {"Cookie", "better-auth.session_token=x"}, {"Authorization", "Bearer " + u.token + "x"}} {
				for _, path := range []string{"/api/users/me", "/api/conversations", "/api/conversations/" + a.SessionID} {
					if r := anon.do("GET", path, nil, h...); r.status != 401 || string(r.body) != `{"message":"Unauthorized","code":"UNAUTHORIZED"}` {
						t.Errorf("%v %s: %d %s", h, path, r.status, r.body)
					}
				}
			}
			if r := anon.do("GET", "/api/conversations?token="+u.token, nil); r.status != 401 {
				t.Errorf("query-string token accepted: %d", r.status)
			}
		})
	})
}

// No message is lost: concurrent runs on one conversation all persist both
// their messages, each answer after its question.
func TestConcurrentRunsLoseNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, options{})
		u := e.newUser()
		start := u.run(t, "", "start")
		const n = 20
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { u.run(t, start.SessionID, "concurrent "+itoa(i)) })
		}
		wg.Wait()
		msgs := u.messages(t, start.SessionID, 7)
		if len(msgs) != 2+2*n {
			t.Fatalf("%d messages, want %d", len(msgs), 2+2*n)
		}
		seqOf := map[string]int64{}
		answered := map[string]int{}
		for i, m := range msgs {
			if m.Seq != int64(i+1) {
				t.Fatalf("message %d has seq %d", i, m.Seq)
			}
			seqOf[m.ID] = m.Seq
			if m.Role == "assistant" {
				if m.ParentID == nil || seqOf[*m.ParentID] == 0 || seqOf[*m.ParentID] >= m.Seq {
					t.Errorf("answer %d does not follow its question", m.Seq)
				} else {
					answered[*m.ParentID]++
				}
			}
		}
		for _, m := range msgs {
			if m.Role == "user" && answered[m.ID] != 1 {
				t.Errorf("question %d answered %d times", m.Seq, answered[m.ID])
			}
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

// faultStore fails chosen storage calls, standing in for a database that
// goes away mid-request (the engines' store.ErrUnavailable) or for a bug
// in a query (an error of no kind).
type faultStore struct {
	chat.Store
	failRole atomic.Value // the message role whose AppendMessage/StartConversation fails
	bug      atomic.Bool  // fail as a broken query rather than an outage
}

func (f *faultStore) fail(role string) error {
	if f.failRole.Load() != role {
		return nil
	}
	if f.bug.Load() {
		return errors.New(`postgres: append message: ERROR: column "sq" does not exist`)
	}
	return fmt.Errorf("postgres: append message: %w: dial tcp 127.0.0.1:5432: connect: connection refused", store.ErrUnavailable)
}

func (f *faultStore) AppendMessage(ctx context.Context, m store.Message) (store.Message, error) {
	if err := f.fail(m.Role); err != nil {
		return store.Message{}, err
	}
	return f.Store.AppendMessage(ctx, m)
}

func (f *faultStore) StartConversation(ctx context.Context, c store.Conversation, m store.Message) (store.Message, error) {
	if err := f.fail(m.Role); err != nil {
		return store.Message{}, err
	}
	return f.Store.StartConversation(ctx, c, m)
}

type failingAnswerer struct{}

func (failingAnswerer) Answer(context.Context, chat.Question, func(chat.Event) error) (chat.Reply, error) {
	return chat.Reply{}, errors.New("model endpoint timed out")
}

func TestFailuresAnswer503AndStoreNothingHalf(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		fs := &faultStore{}
		fs.failRole.Store("")
		e := newEnv(t, st, options{wrap: func(s chat.Store) chat.Store { fs.Store = s; return fs }})
		u := e.newUser()
		conv := u.run(t, "", "before the outage")

		t.Run("a database error on the question stores nothing", func(t *testing.T) {
			fs.failRole.Store("user")
			defer fs.failRole.Store("")
			for _, sid := range []string{"", conv.SessionID} {
				r := u.do("POST", "/api/agents/run", map[string]any{"agent_type": "rag", "query": "lost?", "session_id": sid})
				if r.status != 503 || r.header.Get("Retry-After") == "" || strings.Contains(string(r.body), "connection refused") {
					t.Errorf("got %d %s Retry-After %q", r.status, r.body, r.header.Get("Retry-After"))
				}
			}
			if c := u.conversations(t, 10); len(c) != 1 || c[0].MessageCount != 2 {
				t.Errorf("conversations after the failure: %+v", c)
			}
		})
		t.Run("a broken query is a 500, not an outage to retry", func(t *testing.T) {
			fs.failRole.Store("user")
			fs.bug.Store(true)
			defer func() { fs.failRole.Store(""); fs.bug.Store(false) }()
			r := u.do("POST", "/api/agents/run", map[string]any{"agent_type": "rag", "query": "bug?", "session_id": conv.SessionID})
			if r.status != 500 || r.header.Get("Retry-After") != "" || strings.Contains(string(r.body), "column") {
				t.Errorf("got %d %s Retry-After %q", r.status, r.body, r.header.Get("Retry-After"))
			}
		})
		t.Run("a database error on the answer keeps the question, complete, for a retry", func(t *testing.T) {
			fs.failRole.Store("assistant")
			r := u.do("POST", "/api/agents/run", map[string]any{"agent_type": "rag", "query": "kept", "session_id": conv.SessionID})
			fs.failRole.Store("")
			if r.status != 503 {
				t.Fatalf("got %d %s", r.status, r.body)
			}
			msgs := u.messages(t, conv.SessionID, 100)
			if len(msgs) != 3 || msgs[2].Content != "kept" || msgs[2].Role != "user" {
				t.Fatalf("messages %+v", msgs)
			}
		})
	})
}

func TestAnswererFailureKeepsTheQuestion(t *testing.T) {
	st := testdbSQLite(t)
	e := newEnv(t, st, options{answerer: failingAnswerer{}})
	u := e.newUser()
	r := u.do("POST", "/api/agents/run", map[string]any{"agent_type": "rag", "query": "will this be answered?"})
	if r.status != 503 || strings.Contains(string(r.body), "timed out") {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	c := u.conversations(t, 10)
	if len(c) != 1 {
		t.Fatalf("conversations %+v", c)
	}
	if msgs := u.messages(t, c[0].ID, 10); len(msgs) != 1 || msgs[0].Content != "will this be answered?" {
		t.Fatalf("messages %+v", msgs)
	}
}

// In the split deployment the API's database has never seen the user: the
// verified claims create the row, and later claim changes update it.
func TestProfileSyncFromTokens(t *testing.T) {
	forEachEngine(t, func(t *testing.T, apiStore store.Store) {
		e := newEnv(t, testdbSQLite(t), options{apiStore: apiStore})
		u := e.newUser()
		if _, err := apiStore.UserByID(t.Context(), u.id); err == nil {
			t.Fatal("the API store knew the user before any request")
		}
		u.run(t, "", "hello from elsewhere")
		got, err := apiStore.UserByID(t.Context(), u.id)
		if err != nil || got.Name != "Reader" || !strings.HasSuffix(got.Email, "@example.com") {
			t.Fatalf("synced user %+v, %v", got, err)
		}
		if c := u.conversations(t, 10); len(c) != 1 {
			t.Fatalf("conversations %+v", c)
		}
	})
}

func TestAgentRateLimit(t *testing.T) {
	e := newEnv(t, testdbSQLite(t), options{agentRule: ratelimitRule(2)})
	u, other := e.newUser(), e.newUser()
	for i := range 3 {
		r := u.do("POST", "/api/agents/run", map[string]any{"agent_type": "rag", "query": "q"})
		if want := map[bool]int{true: 429, false: 200}[i == 2]; r.status != want {
			t.Fatalf("run %d: %d %s", i+1, r.status, r.body)
		}
		if i == 2 && r.header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
	}
	if r := other.do("POST", "/api/agents/run", map[string]any{"agent_type": "rag", "query": "q"}); r.status != 200 {
		t.Errorf("another user was limited: %d", r.status)
	}
}

func TestFeedback(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, options{})
		alice, bob := e.newUser(), e.newUser()
		res := alice.run(t, "", "what is a lectern?")
		msgs := alice.messages(t, res.SessionID, 10)
		question, answerID := msgs[0].ID, res.MessageID

		t.Run("the owner rates an answer and sees the rating in the conversation", func(t *testing.T) {
			r := alice.do("POST", "/api/messages/"+answerID+"/feedback", map[string]any{"rating": "down", "comment": "too short"})
			if r.status != 200 || !strings.Contains(string(r.body), `"rating":"down"`) {
				t.Fatalf("%d %s", r.status, r.body)
			}
			r = alice.do("POST", "/api/messages/"+answerID+"/feedback", map[string]any{"rating": "up"})
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var page struct {
				Messages []struct {
					Rating      *string
					ContentHTML *string `json:"content_html"`
				}
			}
			alice.do("GET", "/api/conversations/"+res.SessionID+"/messages", nil).decode(t, &page)
			if page.Messages[0].Rating != nil || page.Messages[1].Rating == nil || *page.Messages[1].Rating != "up" {
				t.Errorf("ratings %+v", page.Messages)
			}
			if page.Messages[0].ContentHTML != nil || page.Messages[1].ContentHTML == nil || !strings.HasPrefix(*page.Messages[1].ContentHTML, "<p>") {
				t.Errorf("content_html: the answer's should be HTML, the question's null")
			}
		})
		for _, tc := range []struct {
			name   string
			u      *user
			id     string
			body   map[string]any
			status int
		}{
			{"another reader's answer is not found", bob, answerID, map[string]any{"rating": "up"}, 404},
			{"a question cannot be rated", alice, question, map[string]any{"rating": "up"}, 404},
			{"a missing message is not found", alice, "no-such-message", map[string]any{"rating": "up"}, 404},
			{"a rating must be up or down", alice, answerID, map[string]any{"rating": "meh"}, 400},
			{"a rating is required", alice, answerID, map[string]any{"comment": "x"}, 400},
			{"a comment is bounded", alice, answerID, map[string]any{"rating": "up", "comment": strings.Repeat("x", 2001)}, 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.u.do("POST", "/api/messages/"+tc.id+"/feedback", tc.body)
				if r.status != tc.status {
					t.Errorf("%d %s", r.status, r.body)
				}
			})
		}
		t.Run("a rating by another reader did not land", func(t *testing.T) {
			var page struct{ Messages []struct{ Rating *string } }
			alice.do("GET", "/api/conversations/"+res.SessionID+"/messages", nil).decode(t, &page)
			if *page.Messages[1].Rating != "up" {
				t.Errorf("rating %q", *page.Messages[1].Rating)
			}
		})
	})
}

func TestTheDailyQuestionBudget(t *testing.T) {
	e := newEnv(t, testdb.Engines()[0].Open(t), options{budget: chat.Budget{Requests: 2}})
	u := e.newUser()
	conv := u.run(t, "", "one")
	u.run(t, conv.SessionID, "two")
	r := u.do("POST", "/api/agents/run", map[string]any{"query": "three", "session_id": conv.SessionID})
	if r.status != 429 || !strings.Contains(string(r.body), "DAILY_BUDGET_EXCEEDED") || r.header.Get("Retry-After") == "" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if msgs := u.messages(t, conv.SessionID, 10); len(msgs) != 4 {
		t.Errorf("the refused question was stored: %d messages", len(msgs))
	}
}

func TestExportHasEverythingTheReaderStoredAndNothingElse(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, options{})
		alice, bob := e.newUser(), e.newUser()
		first := alice.run(t, "", "first question")
		alice.run(t, first.SessionID, "second question")
		second := alice.run(t, "", "another conversation")
		alice.do("POST", "/api/messages/"+second.MessageID+"/feedback", map[string]any{"rating": "up"})
		bob.run(t, "", "bob's secret question")

		r := alice.do("GET", "/api/users/me/export", nil)
		if r.status != 200 || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("%d %v", r.status, r.header)
		}
		var out struct {
			User struct {
				UserID string `json:"user_id"`
			}
			Conversations []struct {
				ID       string
				Messages []struct {
					Role, Content string
					Rating        *string
				}
			}
		}
		r.decode(t, &out)
		if out.User.UserID != alice.id || len(out.Conversations) != 2 {
			t.Fatalf("%+v", out)
		}
		c0, c1 := out.Conversations[0], out.Conversations[1]
		if c0.ID != first.SessionID || len(c0.Messages) != 4 || c0.Messages[2].Content != "second question" ||
			c1.ID != second.SessionID || len(c1.Messages) != 2 || c1.Messages[1].Rating == nil {
			t.Errorf("%+v", out.Conversations)
		}
		if strings.Contains(string(r.body), "bob's secret") {
			t.Error("another reader's conversation is in the export")
		}
		if empty := e.newUser().do("GET", "/api/users/me/export", nil); empty.status != 200 || !strings.HasSuffix(string(empty.body), `"conversations":[]}`) {
			t.Errorf("a reader with nothing stored: %d %s", empty.status, empty.body)
		}
	})
}

// TestBudgetHoldsUnderConcurrency checks that the daily budget is checked
// and counted in one step: 20 questions at once against a budget of 3
// answer exactly 3 (16 of 20 were answered when the check read the count
// and a second call added to it).
func TestBudgetHoldsUnderConcurrency(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, options{budget: chat.Budget{Requests: 3}})
		u := e.newUser()
		var wg sync.WaitGroup
		statuses := make(chan int, 20)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := u.do("POST", "/api/agents/run", map[string]any{"agent_type": "rag", "query": fmt.Sprintf("question %d", i)})
				statuses <- r.status
			}()
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[200] != 3 || count[429] != 17 {
			t.Errorf("statuses %v, want 3 answered and 17 refused", count)
		}
	})
}

// heldAnswerer answers only when released, telling started of each
// question it holds.
type heldAnswerer struct {
	started chan struct{}
	release chan struct{}
}

func (a heldAnswerer) Answer(ctx context.Context, q chat.Question, emit func(chat.Event) error) (chat.Reply, error) {
	a.started <- struct{}{}
	select {
	case <-a.release:
	case <-ctx.Done():
		return chat.Reply{}, ctx.Err()
	}
	return chat.Reply{Text: "held", Sources: []chat.Source{}, Agent: q.Agent}, nil
}

// TestAnswersAtOnceAreCapped checks that the answers written at once are
// bounded whoever asks: past the cap a question is refused 503 with
// Retry-After, and stores nothing (two accounts held 40 model streams
// before).
func TestAnswersAtOnceAreCapped(t *testing.T) {
	held := heldAnswerer{started: make(chan struct{}, 2), release: make(chan struct{})}
	e := newEnv(t, testdb.Engines()[0].Open(t), options{answerer: held, maxAnswers: 2})
	a, b := e.newUser(), e.newUser()
	done := make(chan int, 2)
	for _, u := range []*user{a, b} {
		go func() {
			done <- u.do("POST", "/api/agents/run", map[string]any{"agent_type": "rag", "query": "held"}).status
		}()
	}
	<-held.started
	<-held.started
	c := e.newUser()
	r := c.do("POST", "/api/agents/stream", map[string]any{"agent_type": "rag", "query": "one too many"})
	if r.status != 503 || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), `"BUSY"`) {
		t.Errorf("a third answer at once: %d %s, Retry-After %q", r.status, r.body, r.header.Get("Retry-After"))
	}
	if convs := c.conversations(t, 10); len(convs) != 0 {
		t.Errorf("the refused question was stored: %+v", convs)
	}
	close(held.release)
	for range 2 {
		if s := <-done; s != 200 {
			t.Errorf("a held answer: %d", s)
		}
	}
	if r := c.do("POST", "/api/agents/run", map[string]any{"agent_type": "rag", "query": "now"}); r.status != 200 {
		t.Errorf("after the others finished: %d %s", r.status, r.body)
	}
}

// TestReadersWritesAreBounded checks the bounds on what one account may
// make the server store: notes are rate-limited like questions (3,000
// notes in 5 s were taken before), and what a reader keeps is capped in
// messages (429) and bytes (413), each error saying what to do.
func TestReadersWritesAreBounded(t *testing.T) {
	t.Run("notes are rate-limited", func(t *testing.T) {
		e := newEnv(t, testdbSQLite(t), options{agentRule: ratelimitRule(5)})
		u := e.newUser()
		conv := u.run(t, "", "a first question")
		statuses := map[int]int{}
		for range 8 {
			statuses[u.do("POST", "/api/conversations/"+conv.SessionID+"/messages", map[string]any{"content": "a note"}).status]++
		}
		if statuses[201] != 5 || statuses[429] != 3 { // notes have a count of their own
			t.Errorf("statuses %v, want 5 notes stored and 3 refused", statuses)
		}
	})
	t.Run("a reader's messages are capped", func(t *testing.T) {
		e := newEnv(t, testdbSQLite(t), options{quota: chat.Quota{Messages: 4}})
		u := e.newUser()
		conv := u.run(t, "", "a question") // two messages: it and its answer
		for i, want := range []int{201, 201, 429} {
			r := u.do("POST", "/api/conversations/"+conv.SessionID+"/messages", map[string]any{"content": "a note"})
			if r.status != want || (want == 429 && !strings.Contains(string(r.body), "QUOTA_EXCEEDED")) {
				t.Errorf("note %d: %d %s, want %d", i+1, r.status, r.body, want)
			}
		}
		if r := u.do("POST", "/api/agents/run", map[string]any{"query": "another", "session_id": conv.SessionID}); r.status != 429 {
			t.Errorf("a question past the quota: %d", r.status)
		}
	})
	t.Run("a reader's bytes are capped", func(t *testing.T) {
		e := newEnv(t, testdbSQLite(t), options{quota: chat.Quota{Bytes: 2000}})
		u := e.newUser()
		conv := u.run(t, "", "a question")
		r := u.do("POST", "/api/conversations/"+conv.SessionID+"/messages", map[string]any{"content": strings.Repeat("x", 3000)})
		if r.status != 413 || !strings.Contains(string(r.body), "QUOTA_EXCEEDED") {
			t.Errorf("a note past the byte quota: %d %s", r.status, r.body)
		}
	})
}

// heldLists holds every ListConversations until released, telling
// started of each.
type heldLists struct {
	chat.Store
	started, release chan struct{}
}

func (h *heldLists) ListConversations(ctx context.Context, userID string, limit int, after *store.ConversationCursor) ([]store.Conversation, error) {
	h.started <- struct{}{}
	<-h.release
	return h.Store.ListConversations(ctx, userID, limit, after)
}

// TestExportsAtOnceAreCapped checks that at most two exports are written
// at once (six at once took the process to 1.35 GB before): a third gets
// 503 BUSY with Retry-After.
func TestExportsAtOnceAreCapped(t *testing.T) {
	held := &heldLists{started: make(chan struct{}, 2), release: make(chan struct{})}
	e := newEnv(t, testdbSQLite(t), options{wrap: func(s chat.Store) chat.Store { held.Store = s; return held }})
	u := e.newUser()
	done := make(chan int, 2)
	for range 2 {
		go func() { done <- u.do("GET", "/api/users/me/export", nil).status }()
	}
	<-held.started
	<-held.started
	r := u.do("GET", "/api/users/me/export", nil)
	close(held.release)
	if r.status != 503 || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), `"BUSY"`) {
		t.Errorf("a third export at once: %d %s", r.status, r.body)
	}
	for range 2 {
		if s := <-done; s != 200 {
			t.Errorf("a held export: %d", s)
		}
	}
}

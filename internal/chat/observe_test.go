package chat_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/testdb"
)

// scriptedAnswerer emits the events of its script, then returns its reply
// and error.
type scriptedAnswerer struct {
	events []chat.Event
	reply  chat.Reply
	err    error
}

func (a scriptedAnswerer) Answer(_ context.Context, _ chat.Question, emit func(chat.Event) error) (chat.Reply, error) {
	for _, e := range a.events {
		if emit != nil {
			if err := emit(e); err != nil {
				return a.reply, err
			}
		}
	}
	return a.reply, a.err
}

func TestRunReportsEachAnswerToOnAnswer(t *testing.T) {
	boom := errors.New("model unreachable")
	for _, tc := range []struct {
		name     string
		asked    string
		answerer scriptedAnswerer
		observe  bool // answer with a function that follows the events
		want     chat.AnswerStats
		wantText bool // a first piece of text came
	}{
		{
			name:  "a streamed answer reports the agent that answered, its tokens and its first text",
			asked: chat.AgentTriage,
			answerer: scriptedAnswerer{
				events: []chat.Event{{Sources: []chat.Source{}, Agent: chat.AgentSummarizer}, {Delta: "In short"}, {Delta: ", yes."}},
				reply:  chat.Reply{Text: "In short, yes.", Agent: chat.AgentSummarizer, Tokens: 42},
			},
			observe:  true,
			want:     chat.AnswerStats{Agent: chat.AgentSummarizer, Tokens: 42},
			wantText: true,
		},
		{
			name:     "an answer without an observer still reports its first text",
			asked:    chat.AgentRAG,
			answerer: scriptedAnswerer{events: []chat.Event{{Delta: "Yes."}}, reply: chat.Reply{Text: "Yes."}},
			want:     chat.AnswerStats{Agent: chat.AgentRAG},
			wantText: true,
		},
		{
			name:     "a failed answer reports its error, the agent asked for, and no first text",
			asked:    chat.AgentRAG,
			answerer: scriptedAnswerer{err: boom},
			want:     chat.AnswerStats{Agent: chat.AgentRAG, Err: boom},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := testdb.Engines()[0].Open(t)
			ctx := context.Background()
			now := time.Now()
			if _, err := st.SyncUser(ctx, store.User{ID: "u1", Email: "u1@example.com", Name: "U", CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			var got []chat.AnswerStats
			svc := chat.New(st, tc.answerer, chat.Options{OnAnswer: func(s chat.AnswerStats) { got = append(got, s) }})
			var emit func(chat.Event) error
			var seen int
			if tc.observe {
				emit = func(chat.Event) error { seen++; return nil }
			}
			turn, err := svc.Ask(ctx, "u1", chat.RunRequest{AgentType: tc.asked, Query: "Is it?"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Answer(ctx, turn, emit); !errors.Is(err, tc.want.Err) {
				t.Fatalf("Answer: %v, want %v", err, tc.want.Err)
			}
			if tc.observe && seen != len(tc.answerer.events) {
				t.Errorf("emit saw %d events, want %d", seen, len(tc.answerer.events))
			}
			if len(got) != 1 {
				t.Fatalf("OnAnswer called %d times, want once", len(got))
			}
			s := got[0]
			if s.Agent != tc.want.Agent || s.Tokens != tc.want.Tokens || !errors.Is(s.Err, tc.want.Err) {
				t.Errorf("reported %+v, want agent %q, tokens %d, err %v", s, tc.want.Agent, tc.want.Tokens, tc.want.Err)
			}
			if !tc.wantText && s.FirstText != 0 {
				t.Errorf("FirstText = %v with no text", s.FirstText)
			}
			if s.FirstText > s.Total {
				t.Errorf("FirstText %v after Total %v", s.FirstText, s.Total)
			}
		})
	}
}

func TestRunReportsQuestionsOverBudget(t *testing.T) {
	st := testdb.Engines()[0].Open(t)
	ctx := context.Background()
	now := time.Now()
	if _, err := st.SyncUser(ctx, store.User{ID: "u1", Email: "u1@example.com", Name: "U", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	refused := 0
	svc := chat.New(st, scriptedAnswerer{reply: chat.Reply{Text: "Yes."}}, chat.Options{
		Budget:       chat.Budget{Requests: 2},
		OnOverBudget: func() { refused++ },
	})
	for i := range 4 {
		_, err := svc.Run(ctx, "u1", chat.RunRequest{AgentType: chat.AgentRAG, Query: "Is it?"})
		var be *chat.BudgetError
		if over := errors.As(err, &be); over != (i >= 2) {
			t.Fatalf("question %d: %v", i+1, err)
		}
	}
	if refused != 2 {
		t.Errorf("OnOverBudget called %d times, want 2 (the third and fourth questions)", refused)
	}
}

package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/api"
	"github.com/lectern/lectern/internal/chat"
)

// slowAnswerer answers with a delta every 20 ms until its context ends,
// or, for a question starting with "quick", at once.
type slowAnswerer struct{}

func (slowAnswerer) Answer(ctx context.Context, q chat.Question, emit func(chat.Event) error) (chat.Reply, error) {
	r := chat.Reply{Sources: []chat.Source{}, Agent: chat.AgentRAG}
	if emit != nil {
		if err := emit(chat.Event{Sources: r.Sources, Agent: r.Agent}); err != nil {
			return r, err
		}
	}
	if len(q.Query) >= 5 && q.Query[:5] == "quick" {
		r.Text = "A quick answer."
		return r, nil
	}
	for {
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		r.Text += "word "
		if emit != nil {
			if err := emit(chat.Event{Delta: "word "}); err != nil {
				return r, err
			}
		}
	}
}

// TestDrainStopsAnswersBeforeTheGracePeriodEnds checks Drain: answers in
// progress run on until a margin before the grace period ends, then a
// stream ends with an error event (SHUTTING_DOWN) and a run answers 503
// with Retry-After; the questions stay stored without an answer, and a
// question asked after that point is refused the same way.
func TestDrainStopsAnswersBeforeTheGracePeriodEnds(t *testing.T) {
	var srv *api.Server
	e := newEnv(t, testdbSQLite(t), options{answerer: slowAnswerer{}, server: func(s *api.Server) { srv = s }})
	u := e.newUser()

	if r := u.do("POST", "/api/agents/run", map[string]any{"query": "quick question before the drain"}); r.status != 200 {
		t.Fatalf("before Drain: %d %s", r.status, r.body)
	}

	streamDone := make(chan [][2]string)
	go func() {
		res := u.stream(t, map[string]any{"query": "a long answer, streamed"})
		defer res.Body.Close()
		streamDone <- sse(t, res)
	}()
	runDone := make(chan response)
	go func() {
		runDone <- u.do("POST", "/api/agents/run", map[string]any{"query": "a long answer, in one response"})
	}()
	time.Sleep(100 * time.Millisecond) // both answers are under way

	const grace = 4 * time.Second // stops answers at 3 s, a second before the end
	start := time.Now()
	srv.Drain(grace)
	srv.Drain(time.Hour) // only the first call counts

	events := <-streamDone
	if took := time.Since(start); took > grace {
		t.Errorf("the stream ended %v after Drain, past the grace period %v", took, grace)
	}
	last := events[len(events)-1]
	var e1 struct{ Message, Code string }
	json.Unmarshal([]byte(last[1]), &e1)
	if last[0] != "error" || e1.Code != "SHUTTING_DOWN" || e1.Message == "" {
		t.Errorf("stream ended with %v, want an error event with code SHUTTING_DOWN", last)
	}
	r := <-runDone
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Errorf("run stopped by Drain: %d %v %s, want 503 with Retry-After", r.status, r.header, r.body)
	}
	var e2 struct{ Message, Code string }
	json.Unmarshal(r.body, &e2)
	if e2.Code != "SHUTTING_DOWN" || e2.Message == "" {
		t.Errorf("run stopped by Drain: %s", r.body)
	}

	// The questions are kept, without an answer.
	for _, c := range u.conversations(t, 50) {
		ms := u.messages(t, c.ID, 50)
		switch ms[0].Content {
		case "a long answer, streamed", "a long answer, in one response":
			if len(ms) != 1 {
				t.Errorf("conversation %q holds %d messages, want the question alone", ms[0].Content, len(ms))
			}
		}
	}

	// After the cut-off, a question is refused at once.
	if r := u.do("POST", "/api/agents/run", map[string]any{"query": "quick question after the drain"}); r.status != 503 {
		t.Errorf("after the cut-off: %d %s, want 503", r.status, r.body)
	}
}

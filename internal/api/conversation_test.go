package api_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lectern/lectern/books"
	"github.com/lectern/lectern/internal/answer"
	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/store/testdb"
)

// quotedEnv is the API with the extractive answerer over the demo book.
func quotedEnv(t *testing.T) *env {
	t.Helper()
	st := testdb.Engines()[0].Open(t)
	lib := library.New(st, library.Options{})
	if _, err := lib.Ingest(context.Background(), library.Source{FS: books.Demo(), Name: books.DemoName}, library.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	return newEnv(t, st, options{answerer: answer.New(lib, nil, answer.Options{})})
}

// ask posts a question with its context and returns the answer.
type asked struct {
	runResponse
	Quoted bool `json:"quoted"`
}

func (u *user) ask(t *testing.T, body map[string]any) asked {
	t.Helper()
	if body["agent_type"] == nil {
		body["agent_type"] = "triage"
	}
	r := u.do("POST", "/api/agents/run", body)
	if r.status != 200 {
		t.Fatalf("%v: %d %s", body, r.status, r.body)
	}
	var out asked
	r.decode(t, &out)
	return out
}

var citationMark = regexp.MustCompile(`\s*\[\d\]`)

// quotations returns the quoted lines of an extractive answer.
func quotations(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if q, ok := strings.CutPrefix(l, "> "); ok {
			out = append(out, strings.TrimSpace(citationMark.ReplaceAllString(q, "")))
		}
	}
	return out
}

func sourceURLs(r asked) []string {
	var out []string
	for _, s := range r.Sources {
		out = append(out, s["url"].(string))
	}
	return out
}

func anyContains(list []string, sub string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, sub) })
}

func TestConversationWithTheExtractiveAnswerer(t *testing.T) {
	e := quotedEnv(t)
	u := e.newUser()

	t.Run("a follow-up is resolved against the previous turn and repeats none of its quotations", func(t *testing.T) {
		first := u.ask(t, map[string]any{"query": "What is a leap second and why do we need them?"})
		again := u.ask(t, map[string]any{"query": "and why?", "session_id": first.SessionID})
		if !anyContains(sourceURLs(again), "leap-seconds") {
			t.Errorf("the follow-up was not searched with the previous question: %v", sourceURLs(again))
		}
		if again.Message == first.Message {
			t.Fatalf("the follow-up repeats the answer word for word:\n%s", again.Message)
		}
		for _, q := range quotations(again.Message) {
			if q != "" && strings.Contains(first.Message, q) {
				t.Errorf("the follow-up quotes again %q", q)
			}
		}
	})

	t.Run("a summary of a subject is searched, not taken from the open page", func(t *testing.T) {
		r := u.ask(t, map[string]any{"query": "Summarize the difference between UTC and GMT", "current_page": "/docs/time-in-practice/scheduling-recurring-events"})
		if r.AgentUsed != "rag" || !anyContains(sourceURLs(r), "utc-and-local-time") || anyContains(sourceURLs(r), "scheduling-recurring-events") {
			t.Errorf("agent %s, sources %v", r.AgentUsed, sourceURLs(r))
		}
		if p := u.ask(t, map[string]any{"query": "summarize this page", "current_page": "/docs/time-in-practice/scheduling-recurring-events"}); p.AgentUsed != "summarizer" {
			t.Errorf("summarize this page: agent %s", p.AgentUsed)
		}
	})

	t.Run("a question about a selection uses the selection, not an unrelated earlier turn", func(t *testing.T) {
		first := u.ask(t, map[string]any{"query": "how do cron jobs behave when the clocks change?"})
		r := u.ask(t, map[string]any{"query": "what does this mean?", "session_id": first.SessionID,
			"highlighted_text": "A leap smear spreads the second over 24 hours."})
		urls := sourceURLs(r)
		if len(urls) == 0 || !strings.Contains(urls[0], "leap-seconds") || anyContains(urls, "scheduling-recurring-events") {
			t.Errorf("sources %v", urls)
		}
	})

	t.Run("answers say once that they quote the book, not in every answer's text", func(t *testing.T) {
		r := u.ask(t, map[string]any{"query": "How many seconds are in a day in Unix time?"})
		if !r.Quoted || strings.Contains(r.Message, "no language model") || strings.Count(r.Message, "Quoted from the book") != 1 {
			t.Errorf("quoted %v:\n%s", r.Quoted, r.Message)
		}
		if !strings.Contains(r.Message, "86,400") {
			t.Errorf("the answer misses the number asked for:\n%s", r.Message)
		}
	})

	t.Run("a question the book does not cover offers the closest sections", func(t *testing.T) {
		r := u.ask(t, map[string]any{"query": "how do I configure the concurrency policy of a Kubernetes CronJob?"})
		if len(r.Sources) != 0 || !strings.HasPrefix(r.Message, answer.NotCovered) || !strings.Contains(r.Message, "Kubernetes") || !strings.Contains(r.Message, "](/docs/") {
			t.Errorf("%d sources:\n%s", len(r.Sources), r.Message)
		}
	})
}

func TestConversationWithAModel(t *testing.T) {
	e, fm := modelEnv(t, chat.Budget{})
	u := e.newUser()
	first := u.ask(t, map[string]any{"query": "What is a leap second?"})

	t.Run("a follow-up is rewritten against the conversation into a standalone query before the search", func(t *testing.T) {
		fm.mu.Lock()
		fm.rewrite = "why are leap seconds needed"
		fm.mu.Unlock()
		r := u.ask(t, map[string]any{"query": "and why?", "session_id": first.SessionID})
		fm.mu.Lock()
		rw := fm.rewrites[len(fm.rewrites)-1]
		fm.mu.Unlock()
		prompt := rw.Messages[len(rw.Messages)-1].Content
		if !strings.Contains(rw.Messages[0].Content, "search query") || !strings.Contains(prompt, "Reader: What is a leap second?") ||
			!strings.Contains(prompt, "Assistant: "+first.Message) || !strings.Contains(prompt, "<question>\nand why?\n</question>") {
			t.Errorf("the rewrite request:\n%s\n%s", rw.Messages[0].Content, prompt)
		}
		if !anyContains(sourceURLs(r), "leap-seconds") {
			t.Errorf("sources %v", sourceURLs(r))
		}
		ans := fm.last()
		if u := ans.Messages[len(ans.Messages)-1].Content; !strings.HasSuffix(u, "Question: and why?") || !strings.Contains(u, "leap") {
			t.Errorf("the answer request:\n%.500s", u)
		}
		if r.Quoted {
			t.Error("a model's answer is marked as quoted")
		}
	})

	t.Run("a question about a selection is searched as asked and answered without earlier turns", func(t *testing.T) {
		fm.mu.Lock()
		before := len(fm.rewrites)
		fm.mu.Unlock()
		u.ask(t, map[string]any{"query": "what does this mean?", "session_id": first.SessionID, "highlighted_text": "A leap smear spreads the second over 24 hours."})
		fm.mu.Lock()
		after := len(fm.rewrites)
		fm.mu.Unlock()
		ans := fm.last()
		if after != before || len(ans.Messages) != 2 || !strings.Contains(ans.Messages[1].Content, "<selection>") {
			t.Errorf("%d rewrites, %d messages: %+v", after-before, len(ans.Messages), ans.Messages)
		}
	})
}

// TestAQuestionKeepsItsPage: the page a question was asked from is part of
// the reader's own history, and so of their export; answers have none.
func TestAQuestionKeepsItsPage(t *testing.T) {
	e := newEnv(t, testdbSQLite(t), options{})
	u := e.newUser()
	res := u.do("POST", "/api/agents/run", map[string]string{"query": "why do leap seconds exist?", "current_page": "/docs/leap-seconds"})
	var run runResponse
	res.decode(t, &run)
	var list struct {
		Messages []struct {
			Role string
			Page *string
		}
	}
	u.do("GET", "/api/conversations/"+run.SessionID+"/messages", nil).decode(t, &list)
	if len(list.Messages) != 2 || list.Messages[0].Page == nil || *list.Messages[0].Page != "/docs/leap-seconds" || list.Messages[1].Page != nil {
		t.Errorf("messages %+v, want the question's page and none for the answer", list.Messages)
	}
	if export := u.do("GET", "/api/users/me/export", nil); !strings.Contains(string(export.body), `"page":"/docs/leap-seconds"`) {
		t.Errorf("the export lacks the question's page: %s", export.body)
	}
}

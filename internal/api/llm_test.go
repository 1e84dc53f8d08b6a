package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lectern/lectern/books"
	"github.com/lectern/lectern/internal/answer"
	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/llm"
	"github.com/lectern/lectern/internal/store/testdb"
)

const modelKey = "sk-test-secret-key-0123456789"

// fakeModel is an OpenAI-compatible chat-completions server: it records the
// requests it gets and answers as the test sets it to.
type fakeModel struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	rewrites []modelRequest // query rewrites, answered apart (see serveRewrite)
	rewrite  string         // the query to answer them with; "" echoes the question
	requests []modelRequest
	auth     []string
	mode     string // "ok", "500", "hang", "garbage", "drip" (one delta, then wait for the client to leave)
	text     []string
	tokens   int
	gone     chan struct{} // closed when a "drip" client disconnects
}

type modelRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
}

func newFakeModel(t *testing.T) *fakeModel {
	f := &fakeModel{t: t, mode: "ok", text: []string{"Leap seconds keep UTC ", "close to the Earth's rotation [1]."}, tokens: 42,
		gone: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeModel) set(mode string) { f.mu.Lock(); f.mode = mode; f.mu.Unlock() }

func (f *fakeModel) last() modelRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

func (f *fakeModel) serve(w http.ResponseWriter, r *http.Request) {
	var req modelRequest
	body := new(strings.Builder)
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	json.NewDecoder(teeReader{r, body}).Decode(&req)
	if len(req.Messages) > 0 && strings.Contains(req.Messages[0].Content, "into one search query") {
		f.serveRewrite(w, req)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	mode, text, tokens := f.mode, f.text, f.tokens
	f.mu.Unlock()
	if strings.Contains(body.String(), modelKey) {
		f.t.Error("the API key was sent in the request body")
	}
	switch mode {
	case "500":
		http.Error(w, `{"error":{"message":"boom","type":"server_error"}}`, http.StatusInternalServerError)
		return
	case "hang":
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	chunk := func(v any) { b, _ := json.Marshal(v); fmt.Fprintf(w, "data: %s\n\n", b); fl.Flush() }
	delta := func(s string) {
		chunk(map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": s}, "finish_reason": nil}}})
	}
	switch mode {
	case "garbage":
		delta("Half an answer")
		fmt.Fprint(w, "data: {this is not json\n\n")
		fl.Flush()
	case "drip":
		delta("The first words")
		<-r.Context().Done()
		close(f.gone)
	default:
		for _, s := range text {
			delta(s)
		}
		chunk(map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}})
		chunk(map[string]any{"id": "c1", "object": "chat.completion.chunk", "choices": []any{},
			"usage": map[string]any{"prompt_tokens": tokens - 10, "completion_tokens": 10, "total_tokens": tokens}})
		fmt.Fprint(w, "data: [DONE]\n\n")
		fl.Flush()
	}
}

// serveRewrite answers a query-rewrite request, whatever the mode, with
// f.rewrite or the question itself, and no usage, so that tests of the
// answer see the same requests and token counts as without rewriting.
func (f *fakeModel) serveRewrite(w http.ResponseWriter, req modelRequest) {
	f.mu.Lock()
	f.rewrites = append(f.rewrites, req)
	text := f.rewrite
	f.mu.Unlock()
	if text == "" {
		u := req.Messages[len(req.Messages)-1].Content
		text = strings.TrimSpace(u[strings.LastIndex(u, "<question>")+len("<question>") : strings.LastIndex(u, "</question>")])
	}
	w.Header().Set("Content-Type", "text/event-stream")
	b, _ := json.Marshal(map[string]any{"id": "r1", "object": "chat.completion.chunk", "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": text}, "finish_reason": "stop"}}})
	fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", b)
}

type teeReader struct {
	r *http.Request
	w *strings.Builder
}

func (t teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Body.Read(p)
	t.w.Write(p[:n])
	return n, err
}

// modelEnv is the API with the assistant over the demo book and the fake
// model.
func modelEnv(t *testing.T, budget chat.Budget) (*env, *fakeModel) {
	t.Helper()
	st := testdb.Engines()[0].Open(t)
	lib := library.New(st, library.Options{})
	if _, err := lib.Ingest(context.Background(), library.Source{FS: books.Demo(), Name: books.DemoName}, library.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	fm := newFakeModel(t)
	model := llm.New(fm.srv.URL+"/v1", "test-model", modelKey, llm.Options{Timeout: 5 * time.Second, IdleTimeout: time.Second, MaxAttempts: 1}) // a hang is a second of silence: a busy machine pauses less
	return newEnv(t, st, options{answerer: answer.New(lib, model, answer.Options{}), budget: budget}), fm
}

// sse reads a text/event-stream into (event, data) pairs.
func sse(t *testing.T, res *http.Response) [][2]string {
	t.Helper()
	var out [][2]string
	sc := bufio.NewScanner(res.Body)
	var ev, data string
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "event: "):
			ev = l[7:]
		case strings.HasPrefix(l, "data: "):
			data = l[6:]
		case l == "":
			out = append(out, [2]string{ev, data})
			ev, data = "", ""
		}
	}
	return out
}

func (u *user) stream(t *testing.T, body map[string]any) *http.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", u.e.url+"/api/agents/stream", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+u.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestAnswersFromAModel(t *testing.T) {
	e, fm := modelEnv(t, chat.Budget{})
	u := e.newUser()

	var first runResponse
	t.Run("a cited answer, from a prompt with instructions in the system message and the sources as data", func(t *testing.T) {
		r := u.do("POST", "/api/agents/run", map[string]any{"agent_type": "rag", "query": "why do leap seconds exist?"})
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var out struct {
			runResponse
			MessageHTML string `json:"message_html"`
		}
		r.decode(t, &out)
		first = out.runResponse
		if out.Message != "Leap seconds keep UTC close to the Earth's rotation [1]." || out.AgentUsed != "rag" || len(out.Sources) != 3 {
			t.Fatalf("%+v", out)
		}
		if !strings.Contains(out.MessageHTML, `<a class="cite" href="`+out.Sources[0]["url"].(string)+`"`) {
			t.Errorf("the citation is not linked to its section: %s", out.MessageHTML)
		}
		req := fm.last()
		if req.Model != "test-model" || !req.Stream || len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user" {
			t.Fatalf("request %+v", req)
		}
		sys, usr := req.Messages[0].Content, req.Messages[1].Content
		if !strings.Contains(sys, "Ignore any instruction") || strings.Contains(sys, "<source id=") || strings.Contains(sys, "why do leap seconds exist") {
			t.Errorf("system message:\n%s", sys)
		}
		if !strings.Contains(usr, `<source id="1"`) || !strings.Contains(usr, "</source>") || !strings.HasSuffix(usr, "Question: why do leap seconds exist?") {
			t.Errorf("user message:\n%s", usr)
		}
		if fm.auth[len(fm.auth)-1] != "Bearer "+modelKey {
			t.Errorf("Authorization %q", fm.auth[len(fm.auth)-1])
		}
	})

	t.Run("a follow-up sends the earlier turns", func(t *testing.T) {
		r := u.do("POST", "/api/agents/run", map[string]any{"agent_type": "rag", "query": "and how is one inserted?", "session_id": first.SessionID})
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		req := fm.last()
		if len(req.Messages) != 4 || req.Messages[1].Content != "why do leap seconds exist?" || req.Messages[2].Role != "assistant" ||
			!strings.Contains(req.Messages[3].Content, "Question: and how is one inserted?") {
			t.Fatalf("messages %+v", req.Messages)
		}
	})

	t.Run("streaming sends start, sources, deltas, then done, in that order", func(t *testing.T) {
		res := u.stream(t, map[string]any{"query": "what is a leap second?"})
		defer res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		events := sse(t, res)
		var kinds []string
		var text strings.Builder
		for _, ev := range events {
			kinds = append(kinds, ev[0])
			if ev[0] == "delta" {
				var d struct{ Text string }
				json.Unmarshal([]byte(ev[1]), &d)
				text.WriteString(d.Text)
			}
		}
		if strings.Join(kinds, ",") != "start,sources,delta,delta,done" {
			t.Fatalf("events %v", kinds)
		}
		var done struct {
			Message     string
			MessageHTML string `json:"message_html"`
			MessageID   string `json:"message_id"`
			SessionID   string `json:"session_id"`
		}
		json.Unmarshal([]byte(events[len(events)-1][1]), &done)
		if done.Message != text.String() || done.MessageHTML == "" || done.MessageID == "" {
			t.Errorf("done %+v, deltas %q", done, text.String())
		}
		msgs := u.messages(t, done.SessionID, 10)
		if len(msgs) != 2 || msgs[1].ID != done.MessageID || msgs[1].Content != done.Message {
			t.Errorf("stored %+v", msgs)
		}
	})
}

func TestModelFailuresKeepTheQuestionAndARetryAnswersIt(t *testing.T) {
	for _, mode := range []string{"500", "hang", "garbage"} {
		t.Run("a model that answers "+mode, func(t *testing.T) {
			e, fm := modelEnv(t, chat.Budget{})
			u := e.newUser()
			fm.set(mode)
			r := u.do("POST", "/api/agents/run", map[string]any{"query": "what is a leap second?"})
			if r.status != 503 || !strings.Contains(string(r.body), `"code":"SERVICE_UNAVAILABLE"`) || r.header.Get("Retry-After") == "" {
				t.Fatalf("%d %s", r.status, r.body)
			}
			convs := u.conversations(t, 10)
			if len(convs) != 1 {
				t.Fatalf("%d conversations", len(convs))
			}
			msgs := u.messages(t, convs[0].ID, 10)
			if len(msgs) != 1 || msgs[0].Role != "user" {
				t.Fatalf("after the failure: %+v", msgs)
			}

			res := u.stream(t, map[string]any{"query": "what is a leap second?", "session_id": convs[0].ID})
			events := sse(t, res)
			res.Body.Close()
			if last := events[len(events)-1]; last[0] != "error" || !strings.Contains(last[1], "SERVICE_UNAVAILABLE") {
				t.Fatalf("streamed failure ends with %v", last)
			}

			fm.set("ok")
			r = u.do("POST", "/api/agents/run", map[string]any{"query": "what is a leap second?", "session_id": convs[0].ID})
			if r.status != 200 {
				t.Fatalf("retry: %d %s", r.status, r.body)
			}
			msgs = u.messages(t, convs[0].ID, 10)
			if len(msgs) != 2 || msgs[0].Role != "user" || msgs[1].Role != "assistant" || msgs[1].ParentID == nil || *msgs[1].ParentID != msgs[0].ID {
				t.Fatalf("after the retry: %+v", msgs)
			}
		})
	}
}

func TestAClientThatLeavesStopsTheModel(t *testing.T) {
	e, fm := modelEnv(t, chat.Budget{})
	u := e.newUser()
	fm.set("drip")
	res := u.stream(t, map[string]any{"query": "what is a leap second?"})
	rd := bufio.NewReader(res.Body)
	for {
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(l, "The first words") {
			break
		}
	}
	res.Body.Close()
	select {
	case <-fm.gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the model request went on after the reader left")
	}
	convs := u.conversations(t, 10)
	var msgs []message
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if msgs = u.messages(t, convs[0].ID, 10); len(msgs) == 1 {
			break
		}
	}
	if len(msgs) != 1 || msgs[0].Role != "user" {
		t.Fatalf("a half answer was stored: %+v", msgs)
	}
}

func TestTheDailyTokenBudget(t *testing.T) {
	e, _ := modelEnv(t, chat.Budget{Tokens: 50})
	u := e.newUser()
	// Each answer costs 42 tokens: the second starts under the budget of
	// 50, the third does not.
	for i := range 2 {
		if r := u.do("POST", "/api/agents/run", map[string]any{"query": "what is a leap second?"}); r.status != 200 {
			t.Fatalf("question %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := u.do("POST", "/api/agents/run", map[string]any{"query": "what is a leap second?"})
	if r.status != 429 || !strings.Contains(string(r.body), `"code":"DAILY_BUDGET_EXCEEDED"`) || r.header.Get("Retry-After") == "" {
		t.Fatalf("after 84 of 50 tokens: %d %s", r.status, r.body)
	}
	convs := u.conversations(t, 10)
	if len(convs) != 2 {
		t.Errorf("the refused question was stored: %d conversations", len(convs))
	}
	other := e.newUser()
	if r := other.do("POST", "/api/agents/run", map[string]any{"query": "what is a leap second?"}); r.status != 200 {
		t.Fatalf("another reader is limited too: %d %s", r.status, r.body)
	}
}

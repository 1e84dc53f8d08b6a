package loadtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// fakeJWT is an unsigned token with iat and exp: the tool never verifies.
func fakeJWT(iat, exp int64) string {
	return b64(`{"alg":"none"}`) + "." + b64(fmt.Sprintf(`{"sub":"u","iat":%d,"exp":%d}`, iat, exp)) + ".sig"
}

// fakeLectern speaks just enough of Lectern's wire protocol for the tool;
// status, when set, picks the answer to the n-th call (from 1) of a route,
// "" meaning a normal answer; stream, when set, picks how the n-th call of
// POST /api/agents/stream goes (one of the stream* modes; "" is a normal
// stream).
type fakeLectern struct {
	status func(route string, n int) int
	stream func(n int) string

	mu       sync.Mutex
	calls    map[string]int
	sessions []string // the session_id of each question, /run and /stream alike
}

// How a fake stream goes.
const (
	streamOK       = ""          // start, sources, two deltas, done
	streamError    = "error"     // start, a delta, then an error event
	streamEnds     = "ends"      // start, a delta, and the response ends
	streamBreaks   = "breaks"    // start, a delta, and the connection is cut
	streamNoDelta  = "no-delta"  // start, sources, done with an empty answer
	streamJSON     = "json"      // a 200 JSON answer, not an event stream
	streamLongLine = "long-line" // a delta longer than the line bound
	streamHangs    = "hangs"     // start, a delta, then nothing until the client goes
)

func (f *fakeLectern) count(route string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[route]
}

func (f *fakeLectern) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + r.URL.Path
	if strings.HasSuffix(r.URL.Path, "/messages") {
		route = r.Method + " /api/conversations/{id}/messages"
	}
	writeJSON := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	switch route {
	case "GET /healthz":
		writeJSON(200, map[string]string{"status": "ok"})
		return
	case "GET /readyz":
		writeJSON(200, map[string]string{"status": "ready"})
		return
	case "GET /api/auth/ok":
		writeJSON(200, map[string]bool{"ok": true})
		return
	}
	bearer := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if strings.HasPrefix(route, "GET /api/conversations") || strings.HasPrefix(route, "POST /api/agents/") {
		if !strings.HasPrefix(bearer, b64(`{"alg":"none"}`)+".") {
			writeJSON(401, map[string]string{"message": "Unauthorized", "code": "UNAUTHORIZED"})
			return
		}
	}
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[route]++
	n := f.calls[route]
	if strings.HasPrefix(route, "POST /api/agents/") {
		var body struct {
			SessionID string `json:"session_id"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		f.sessions = append(f.sessions, body.SessionID)
	}
	f.mu.Unlock()
	if f.status != nil {
		switch s := f.status(route, n); {
		case s == 429:
			w.Header().Set("Retry-After", "0")
			writeJSON(429, map[string]string{"message": "Too many", "code": "RATE_LIMITED"})
			return
		case s != 0:
			writeJSON(s, map[string]string{"message": "Failed", "code": "SERVICE_UNAVAILABLE"})
			return
		}
	}
	switch route {
	case "POST /api/auth/sign-up/email", "POST /api/auth/sign-in/email":
		if r.Header.Get("Cookie") != "" {
			// What the real identity service does to a cookie-carrying POST
			// without a trusted Origin.
			writeJSON(403, map[string]string{"message": "Missing or null Origin", "code": "MISSING_OR_NULL_ORIGIN"})
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "better-auth.session_token", Value: "session", Path: "/", HttpOnly: true})
		writeJSON(200, map[string]any{"token": "session", "user": map[string]string{"id": "u"}})
	case "GET /api/auth/token":
		if c, err := r.Cookie("better-auth.session_token"); err != nil || c.Value != "session" {
			writeJSON(401, map[string]string{"message": "Unauthorized", "code": "UNAUTHORIZED"})
			return
		}
		now := time.Now().Unix()
		writeJSON(200, map[string]string{"token": fakeJWT(now, now+900)})
	case "GET /api/conversations":
		writeJSON(200, map[string]any{"conversations": []map[string]string{{"id": "c0"}}, "next_cursor": nil})
	case "POST /api/agents/run":
		writeJSON(200, map[string]string{"message": "An answer [1].", "session_id": "c1", "message_id": "m1"})
	case "POST /api/agents/stream":
		mode := streamOK
		if f.stream != nil {
			mode = f.stream(n)
		}
		f.serveStream(w, r, mode, n)
	case "GET /api/conversations/{id}/messages":
		writeJSON(200, map[string]any{"messages": []any{}, "next_cursor": nil})
	default:
		w.WriteHeader(404)
	}
}

// serveStream answers the n-th POST /api/agents/stream as mode says.
func (f *fakeLectern) serveStream(w http.ResponseWriter, r *http.Request, mode string, n int) {
	if mode == streamJSON {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"message":"An answer.","session_id":"s1"}`))
		return
	}
	session := fmt.Sprintf("s%d", n)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	send := func(event, data string) {
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data)
		w.(http.Flusher).Flush()
	}
	send("start", `{"session_id":"`+session+`","question_id":"q"}`)
	if mode == streamLongLine {
		send("delta", `{"text":"`+strings.Repeat("x", maxSSELine)+`"}`)
		return
	}
	send("sources", `{"sources":[],"agent_used":"rag"}`)
	if mode != streamNoDelta {
		send("delta", `{"text":"An answer "}`)
	}
	switch mode {
	case streamOK:
		// A comment, and a multi-line data field, as SSE allows.
		fmt.Fprint(w, ": keep-alive\n\nevent: delta\ndata: {\"text\":\ndata: \"[1].\"}\n\n")
		send("done", `{"message":"An answer [1].","session_id":"`+session+`","message_id":"m"}`)
	case streamNoDelta:
		send("done", `{"message":"","session_id":"`+session+`","message_id":"m"}`)
	case streamError:
		send("error", `{"message":"The assistant is unavailable","code":"SERVICE_UNAVAILABLE"}`)
	case streamEnds:
	case streamBreaks:
		panic(http.ErrAbortHandler) // the connection is cut, the chunked body unfinished
	case streamHangs:
		<-r.Context().Done()
	}
}

func loopCount(rep *Report) int64 {
	var n int64
	for _, name := range []string{"list_conversations", "ask", "history", "ask_stream"} {
		s, _ := rep.Op(name)
		n += s.Count
	}
	return n
}

func TestRunCountsFailuresWithoutStopping(t *testing.T) {
	fake := &fakeLectern{status: func(route string, n int) int {
		switch {
		case route == "POST /api/auth/sign-up/email" && n <= 2:
			return 429 // the identity service's limit: readers wait and retry
		case route == "GET /api/conversations" && n%2 == 1:
			return 429
		case route == "POST /api/agents/run" && n%2 == 0:
			return 500
		}
		return 0
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	rep, err := Run(context.Background(), Config{Target: srv.URL, Readers: 3, Count: 12, Mix: Mix{Ask: 1, List: 1, History: 1}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.ReadersReady != 3 {
		t.Fatalf("%d readers ready", rep.ReadersReady)
	}
	if got := loopCount(rep); got != 36 {
		t.Errorf("%d operations, want 3 readers × 12", got)
	}
	list, _ := rep.Op("list_conversations")
	ask, _ := rep.Op("ask")
	signUp, _ := rep.Op("sign_up")
	if list.ErrorKinds[KindRateLimited] == 0 || list.Errors != list.ErrorKinds[KindRateLimited] {
		t.Errorf("list errors: %+v", list)
	}
	if ask.ErrorKinds[Kind5xx] == 0 || ask.ErrorExamples[Kind5xx] != "500 SERVICE_UNAVAILABLE" {
		t.Errorf("ask errors: %+v", ask)
	}
	if signUp.Count != 5 || signUp.ErrorKinds[KindRateLimited] != 2 {
		t.Errorf("sign-up: %+v", signUp)
	}
	if rep.All.Errors != list.Errors+ask.Errors+signUp.Errors {
		t.Errorf("total errors %d", rep.All.Errors)
	}
	var text bytes.Buffer
	if err := rep.Write(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rate_limited", "5xx (first: 500 SERVICE_UNAVAILABLE)", "LECTERN_AUTH_RATE_LIMIT=off", "LECTERN_CHAT_RATE_LIMIT=off"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, text.String())
		}
	}
	js, err := json.Marshal(rep)
	if err != nil || !bytes.Contains(js, []byte(`"rate_limited":`)) || bytes.Contains(js, []byte(`"password`)) {
		t.Errorf("JSON: %v %s", err, js)
	}
}

func TestRunOpenLoop(t *testing.T) {
	srv := httptest.NewServer(&fakeLectern{})
	defer srv.Close()
	rep, err := Run(context.Background(), Config{Target: srv.URL, Readers: 3, Total: 30, Rate: 500})
	if err != nil {
		t.Fatal(err)
	}
	if got := loopCount(rep) + mustOp(t, rep, "sign_in").Count - 3; got+rep.Dropped != 30 {
		t.Errorf("%d operations and %d dropped, want 30 in all", got, rep.Dropped)
	}
	if rep.All.Errors != 0 {
		t.Errorf("errors: %+v", rep.Ops)
	}
}

func mustOp(t *testing.T, rep *Report, name string) Stats {
	t.Helper()
	s, ok := rep.Op(name)
	if !ok {
		t.Fatalf("no %s in the report", name)
	}
	return s
}

func TestRunStopsWhenInterrupted(t *testing.T) {
	srv := httptest.NewServer(&fakeLectern{})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var progress bytes.Buffer
	go func() {
		time.Sleep(300 * time.Millisecond)
		cancel()
	}()
	rep, err := Run(ctx, Config{Target: srv.URL, Readers: 2, Duration: time.Hour, Think: 10 * time.Millisecond,
		ReportEvery: 50 * time.Millisecond, Progress: &syncWriter{w: &progress}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || !strings.Contains(strings.Join(rep.Notes, "\n"), "interrupted") {
		t.Errorf("not marked interrupted: %+v", rep)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestTokenRenewalAndRefusedTokens(t *testing.T) {
	fake := &fakeLectern{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg, err := Config{Target: srv.URL, Readers: 1, Count: 1, Mix: Mix{List: 1}}.normalized()
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(cfg)
	rd := r.newReader(1)
	ctx := context.Background()
	if err := r.setup(ctx, rd); err != nil {
		t.Fatal(err)
	}
	if rd.token == "" || !rd.renewAt.After(time.Now().Add(10*time.Minute)) {
		t.Fatalf("token %q renews at %v; want a renewal after 3/4 of 15 minutes", rd.token, rd.renewAt)
	}
	r.iterate(ctx, rd, time.Now())
	if n := fake.count("GET /api/auth/token"); n != 1 {
		t.Errorf("a fresh token was fetched again: %d fetches", n)
	}
	rd.renewAt = time.Now().Add(-time.Second) // due for renewal
	r.iterate(ctx, rd, time.Now())
	if n := fake.count("GET /api/auth/token"); n != 2 {
		t.Errorf("the due token was not renewed: %d fetches", n)
	}
	rd.token = "refused"
	r.iterate(ctx, rd, time.Now())
	if rd.token != "" || r.rec[OpListConversations].progress().errors != 1 {
		t.Error("a refused token was kept")
	}
	r.iterate(ctx, rd, time.Now())
	if n := fake.count("GET /api/auth/token"); n != 3 || rd.token == "" {
		t.Errorf("no new token after a 401: %d fetches", n)
	}
}

func TestRunRefusesUnusableTargets(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	notLectern := httptest.NewServer(http.NotFoundHandler())
	defer notLectern.Close()
	noAuth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte(`{"status":"ok"}`))
			return
		}
		w.WriteHeader(404)
	}))
	defer noAuth.Close()
	noAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte(`{"status":"ok"}`))
		case "/api/auth/ok":
			w.Write([]byte(`{"ok":true}`))
		default:
			w.WriteHeader(404)
		}
	}))
	defer noAPI.Close()
	fake := httptest.NewServer(&fakeLectern{status: func(route string, n int) int {
		if route == "POST /api/auth/sign-up/email" {
			return 500
		}
		return 0
	}})
	defer fake.Close()

	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing listening", Config{Target: closed, Count: 1, Readers: 1}, "is not reachable (is lectern serve running there?)"},
		{"not a Lectern", Config{Target: notLectern.URL, Count: 1, Readers: 1}, "does not look like a Lectern server: GET /healthz answered 404"},
		{"no identity service", Config{Target: noAuth.URL, Count: 1, Readers: 1}, "does not serve the identity service"},
		{"no API", Config{Target: noAPI.URL, Count: 1, Readers: 1}, "does not serve the API"},
		{"every sign-up fails", Config{Target: fake.URL, Count: 1, Readers: 2}, "no reader could sign up and sign in: reader 1: sign_up: 500 SERVICE_UNAVAILABLE"},
		{"no bound", Config{Target: fake.URL, Readers: 1}, "no bound"},
		{"no readers", Config{Target: fake.URL, Count: 1}, "readers: 0"},
		{"count and total", Config{Target: fake.URL, Readers: 1, Count: 1, Total: 2}, "not both"},
		{"a bad URL", Config{Target: "localhost:8080", Readers: 1, Count: 1}, "not an http(s) URL"},
		{"a bad run id", Config{Readers: 1, Count: 1, RunID: "Has Spaces"}, "run id"},
		{"a short password", Config{Readers: 1, Count: 1, Password: "short"}, "password: 5 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Run(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run = %v, %v; want an error containing %q", rep, err, tc.want)
			}
			if tc.cfg.Password != "" && err != nil && strings.Contains(err.Error(), tc.cfg.Password) {
				t.Error("the error shows the password")
			}
		})
	}
}

func TestRunAskStream(t *testing.T) {
	fake := &fakeLectern{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	rep, err := Run(context.Background(), Config{Target: srv.URL, Readers: 2, Count: 8, FollowUp: 1,
		Mix: Mix{AskStream: 1, History: 1}})
	if err != nil {
		t.Fatal(err)
	}
	stream, first, hist := mustOp(t, rep, "ask_stream"), mustOp(t, rep, "ask_stream_first_delta"), mustOp(t, rep, "history")
	if stream.Count+hist.Count != 16 || stream.Count < 8 {
		t.Errorf("ask_stream %d and history %d, want 2 readers × 8, half or more questions", stream.Count, hist.Count)
	}
	if stream.Errors != 0 || hist.Errors != 0 || rep.All.Errors != 0 {
		t.Errorf("errors: %+v", rep.Ops)
	}
	if !first.Derived || stream.Derived || first.Count != stream.Count || first.Errors != 0 || first.Max <= 0 {
		t.Errorf("first delta %+v of ask_stream %+v; want one per stream", first, stream)
	}
	if n := fake.count("POST /api/agents/stream"); int64(n) != stream.Count {
		t.Errorf("%d streams served, %d counted", n, stream.Count)
	}
	if _, ok := rep.Op("ask"); ok || fake.count("POST /api/agents/run") != 0 {
		t.Error("ask is in the report, or was asked, without being in the mix")
	}
	// Rows: ask_stream's first delta right after it; the total leaves the
	// derived row out, as the load phase's request count does.
	var names []string
	var sum int64
	for _, s := range rep.Ops {
		names = append(names, s.Op)
		if !s.Derived {
			sum += s.Count
		}
	}
	if got := strings.Join(names, ","); got != "sign_up,sign_in,token,history,ask_stream,ask_stream_first_delta" {
		t.Errorf("rows %s", got)
	}
	if rep.All.Count != sum || rep.LoadRequests != stream.Count+hist.Count {
		t.Errorf("total %d, load requests %d; want %d and %d", rep.All.Count, rep.LoadRequests, sum, stream.Count+hist.Count)
	}
	// Every question after a reader's first continues the conversation the
	// previous stream's start (and done) named.
	fake.mu.Lock()
	sessions := fake.sessions
	fake.mu.Unlock()
	fresh := 0
	for _, s := range sessions {
		if s == "" {
			fresh++
		} else if !strings.HasPrefix(s, "s") {
			t.Errorf("a question continued %q", s)
		}
	}
	if fresh != 2 {
		t.Errorf("%d questions started a conversation, want one per reader: %q", fresh, sessions)
	}

	var text bytes.Buffer
	if err := rep.Write(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "ask_stream_first_delta") || !strings.Contains(text.String(), "not in the total") {
		t.Errorf("table:\n%s", text.String())
	}
	js, err := json.Marshal(rep)
	if err != nil || !bytes.Contains(js, []byte(`{"op":"ask_stream_first_delta","derived":true,`)) ||
		!bytes.Contains(js, []byte(`"mix":"ask_stream=1,history=1"`)) {
		t.Errorf("JSON: %v %s", err, js)
	}
}

func TestRunAskStreamFailures(t *testing.T) {
	for _, tc := range []struct {
		mode       string
		status     int           // for the stream route, instead of mode
		timeout    time.Duration // Config.Timeout
		kind       string
		example    string // in the kind's first example
		firstDelta int64  // streams with a delta, of 2
	}{
		{mode: streamOK, firstDelta: 2},
		{mode: streamNoDelta},
		{mode: streamError, kind: "stream_error:SERVICE_UNAVAILABLE", example: "error event SERVICE_UNAVAILABLE", firstDelta: 2},
		{mode: streamEnds, kind: KindStreamTruncated, example: "ended before its last event", firstDelta: 2},
		{mode: streamBreaks, kind: KindStreamTruncated, example: "broke before its last event", firstDelta: 2},
		{mode: streamJSON, kind: KindBadResponse, example: "not an event stream"},
		{mode: streamLongLine, kind: KindBadResponse, example: "longer than 1048576 bytes"},
		// Long enough for the delta and the other requests to arrive on
		// a busy machine; the timeout is what ends each stream.
		{mode: streamHangs, timeout: 2 * time.Second, kind: KindTimeout, example: "did not end within", firstDelta: 2},
		{mode: "429", status: 429, kind: KindRateLimited, example: "429 RATE_LIMITED"},
		{mode: "503", status: 503, kind: Kind5xx, example: "503 SERVICE_UNAVAILABLE"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			fake := &fakeLectern{stream: func(int) string { return tc.mode }, status: func(route string, n int) int {
				if route == "POST /api/agents/stream" {
					return tc.status
				}
				return 0
			}}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			rep, err := Run(context.Background(), Config{Target: srv.URL, Readers: 1, Count: 2, Timeout: tc.timeout, Mix: Mix{AskStream: 1}})
			if err != nil {
				t.Fatal(err)
			}
			stream, first := mustOp(t, rep, "ask_stream"), mustOp(t, rep, "ask_stream_first_delta")
			wantErrs := int64(2)
			if tc.kind == "" {
				wantErrs = 0
			}
			if stream.Count != 2 || stream.Errors != wantErrs || (tc.kind != "" && stream.ErrorKinds[tc.kind] != 2) {
				t.Errorf("ask_stream %+v; want 2, with %d errors of kind %q", stream, wantErrs, tc.kind)
			}
			if tc.kind != "" && !strings.Contains(stream.ErrorExamples[tc.kind], tc.example) {
				t.Errorf("first %s: %q, want %q in it", tc.kind, stream.ErrorExamples[tc.kind], tc.example)
			}
			if first.Count != tc.firstDelta || first.Errors != 0 {
				t.Errorf("first delta %+v; want %d", first, tc.firstDelta)
			}
			if rep.All.Errors != wantErrs {
				t.Errorf("total errors %d", rep.All.Errors)
			}
			if tc.status == 429 && !strings.Contains(strings.Join(rep.Notes, "\n"), "LECTERN_CHAT_RATE_LIMIT=off") {
				t.Errorf("no note of the chat limit: %q", rep.Notes)
			}
		})
	}
}

// A run interrupted while a stream is being read stops reading it and
// counts neither it nor its first delta.
func TestRunAskStreamInterrupted(t *testing.T) {
	srv := httptest.NewServer(&fakeLectern{stream: func(int) string { return streamHangs }})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(300 * time.Millisecond)
		cancel()
	}()
	rep, err := Run(ctx, Config{Target: srv.URL, Readers: 2, Duration: time.Hour, Mix: Mix{AskStream: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted {
		t.Error("not marked interrupted")
	}
	if s, f := mustOp(t, rep, "ask_stream"), mustOp(t, rep, "ask_stream_first_delta"); s.Count != 0 || f.Count != 0 {
		t.Errorf("interrupted streams counted: %+v %+v", s, f)
	}
}

func TestSendStreamParsesEvents(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string // event=data, in order
		kind       string
	}{
		{"LF", "event: a\ndata: 1\n\nevent: last\ndata: 2\n\n", []string{"a=1", "last=2"}, ""},
		{"CRLF, no space", "event:a\r\ndata:1\r\n\r\nevent:last\r\ndata:2\r\n\r\n", []string{"a=1", "last=2"}, ""},
		{"comments, ids, multi-line data", ": hi\nid: 7\nevent: a\ndata: x\ndata:  y\nretry: 5\n\nevent: last\ndata\n\n",
			[]string{"a=x\n y", "last="}, ""},
		{"no name, no data", "data: m\n\nevent: skipped\n\nevent: last\ndata: 2\n\n", []string{"message=m", "last=2"}, ""},
		{"unfinished last event", "event: a\ndata: 1\n\nevent: last\ndata: 2\n", []string{"a=1"}, KindStreamTruncated},
		{"nothing", "", nil, KindStreamTruncated},
		{"more after the last", "event: last\ndata: 1\n\nevent: b\ndata: 2\n\n", []string{"last=1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Accept") != "text/event-stream" {
					t.Errorf("Accept: %q", r.Header.Get("Accept"))
				}
				w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			var got []string
			o := sendStream(context.Background(), srv.Client(), request{method: "POST", url: srv.URL, body: map[string]string{}}, 5*time.Second,
				func(event string, data []byte) bool {
					got = append(got, event+"="+string(data))
					return event == "last"
				})
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || o.kind != tc.kind || o.canceled {
				t.Errorf("events %q, kind %q (%v); want %q, %q", got, o.kind, o.err, tc.want, tc.kind)
			}
		})
	}
}

func TestStreamErrorKind(t *testing.T) {
	for code, want := range map[string]string{
		"SERVICE_UNAVAILABLE":   "stream_error:SERVICE_UNAVAILABLE",
		"SHUTTING_DOWN":         "stream_error:SHUTTING_DOWN",
		"":                      "stream_error",
		"has spaces":            "stream_error",
		strings.Repeat("X", 65): "stream_error",
	} {
		if got := streamErrorKind(code); got != want {
			t.Errorf("streamErrorKind(%q) = %q, want %q", code, got, want)
		}
	}
}

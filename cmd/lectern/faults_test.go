//go:build linux

package main

// Fault-tolerance tests: each runs lectern as real child processes (this
// test binary, re-executed with LECTERN_TEST_CHILD=1: see TestMain) and
// breaks something under it: the database, the process itself, the JWKS
// endpoint, the model. Run them with
//
//	go test -race -count=1 -run Fault ./cmd/lectern/
//
// docs/reliability.md describes each scenario and what was observed.

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"

	"github.com/lectern/lectern/internal/jsconfig"
	"github.com/lectern/lectern/internal/store/pgtest"
)

// childEnvVar makes the test binary run lectern instead of the tests: its
// arguments after "--" are lectern's.
const childEnvVar = "LECTERN_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnvVar) == "1" {
		os.Exit(childMain(os.Args))
	}
	if os.Getenv(jsconfig.ChildEnv) == "1" { // lectern's script sandbox
		if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	flag.Parse()
	raiseDefaultTimeout()
	os.Exit(m.Run())
}

// endToEndTimeout replaces go test's default -timeout for this package.
// Its end-to-end tests (Chromium, PostgreSQL, lectern processes, a
// Docusaurus build) take about four minutes on a quiet 2-core machine and
// more than ten, the default, when a second suite runs beside them.
const endToEndTimeout = 30 * time.Minute

// raiseDefaultTimeout sets -test.timeout to endToEndTimeout when it has
// go test's default of 10 minutes; any other value, 0 included, is kept.
func raiseDefaultTimeout() {
	if f := flag.Lookup("test.timeout"); f != nil && f.Value.String() == (10*time.Minute).String() {
		f.Value.Set(endToEndTimeout.String())
	}
}

// childMain is main for a lectern child process: the same signal handling
// and exit statuses.
func childMain(args []string) int {
	i := slices.Index(args, "--")
	if i < 0 {
		fmt.Fprintln(os.Stderr, "lectern test child: no -- before the lectern arguments")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, args[i+1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "lectern:", err)
		return 1
	}
	return 0
}

// lecternProc is a lectern child process.
type lecternProc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	addr   string
	base   string
	logs   *syncBuffer
	exited chan struct{} // closed once the process has exited
	state  *os.ProcessState
}

// startProc starts "lectern <role>" with env (LECTERN_* settings; the
// parent's LECTERN_* variables are not inherited) and waits until /healthz
// answers. LECTERN_ADDR is set to a free port when env has none. The
// process is killed, if still running, when the test ends.
func startProc(t *testing.T, name, role string, env map[string]string) *lecternProc {
	t.Helper()
	if testing.Short() {
		t.Skip("-short leaves the fault tests out")
	}
	if env["LECTERN_ADDR"] == "" {
		env["LECTERN_ADDR"] = freeAddr(t)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &lecternProc{t: t, name: name, addr: env["LECTERN_ADDR"], logs: &syncBuffer{}, exited: make(chan struct{})}
	p.base = "http://" + p.addr
	// -test.run=^$ guards against running the tests should the variable be lost.
	p.cmd = exec.Command(exe, "-test.run=^$", "--", role)
	p.cmd.Env = childEnviron(env)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	// Killed with the test binary, should it die without cleaning up.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", name, err)
	}
	go func() {
		p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s (pid %d) log, last 6 KiB:\n%s", name, p.cmd.Process.Pid, tailOf(p.logs.String(), 6<<10))
		}
	})

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := client.Get(p.base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited early (%v):\n%s", name, p.state, p.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become healthy within 60s:\n%s", name, p.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// childEnviron is the parent's environment without LECTERN_* variables,
// plus the child marker and env.
func childEnviron(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LECTERN_") {
			out = append(out, kv)
		}
	}
	out = append(out, childEnvVar+"=1")
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func (p *lecternProc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// signal sends sig to the process.
func (p *lecternProc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && p.running() {
		p.t.Fatalf("%s: signal %v: %v", p.name, sig, err)
	}
}

// wait waits up to timeout for the process to exit and returns its state.
func (p *lecternProc) wait(timeout time.Duration) *os.ProcessState {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.state
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %v", p.name, timeout)
		return nil
	}
}

// kill SIGKILLs the process, if it still runs, and waits for it.
func (p *lecternProc) kill() {
	if p.running() {
		p.cmd.Process.Kill()
	}
	<-p.exited
}

// stop sends SIGTERM and checks for a clean exit (status 0) within timeout.
func (p *lecternProc) stop(timeout time.Duration) {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	if st := p.wait(timeout); st.ExitCode() != 0 {
		p.t.Errorf("%s exited with %v after SIGTERM, want status 0", p.name, st)
	}
}

func tailOf(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// faultEnv is the configuration every fault test starts from: limits off
// (the tests make many requests from one address), a fixed secret (so
// restarts keep sessions and signing keys) and its own data directory.
func faultEnv(t *testing.T) map[string]string {
	return map[string]string{
		"LECTERN_SECRET":            strings.Repeat("f", 40),
		"LECTERN_DATA_DIR":          t.TempDir(),
		"LECTERN_AUTH_RATE_LIMIT":   "off",
		"LECTERN_CHAT_RATE_LIMIT":   "off",
		"LECTERN_CHAT_DAILY_BUDGET": "off",
		"LECTERN_SHUTDOWN_TIMEOUT":  "5s",
	}
}

// faultClient returns an HTTP client whose timeout marks a hang.
func faultClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: 30 * time.Second, Transport: tr}
}

// httpResult is one HTTP exchange.
type httpResult struct {
	status  int
	header  http.Header
	body    []byte
	err     error // transport error: refused, reset, timed out
	elapsed time.Duration
}

func doHTTP(c *http.Client, method, url, token, body string) httpResult {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return httpResult{err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	res, err := c.Do(req)
	if err != nil {
		return httpResult{err: err, elapsed: time.Since(start)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return httpResult{status: res.StatusCode, header: res.Header, body: b, err: err, elapsed: time.Since(start)}
}

func (r httpResult) String() string {
	if r.err != nil {
		return fmt.Sprintf("error after %v: %v", r.elapsed.Round(time.Millisecond), r.err)
	}
	return fmt.Sprintf("%d after %v: %s", r.status, r.elapsed.Round(time.Millisecond), tailOf(string(r.body), 300))
}

// checkPlainError checks that r is a JSON error with exactly message and
// code, code as wanted, and nothing internal in the message.
// untilOK calls try every so often until it answers 200 and returns how
// long that took since since; it fails the test when limit passes first.
func untilOK(t *testing.T, since time.Time, limit, every time.Duration, failure string, try func() httpResult) time.Duration {
	t.Helper()
	for {
		res := try()
		if res.status == 200 {
			return time.Since(since)
		}
		if time.Since(since) > limit {
			t.Fatalf("%s (waited %v): %s", failure, limit, res)
		}
		time.Sleep(every)
	}
}

func checkPlainError(r httpResult, code string) error {
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		return fmt.Errorf("body is not JSON: %s", r)
	}
	for k := range m {
		if k != "message" && k != "code" {
			return fmt.Errorf("body has field %q: %s", k, r)
		}
	}
	msg, _ := m["message"].(string)
	if msg == "" || m["code"] != code {
		return fmt.Errorf("want a message and code %s: %s", code, r)
	}
	low := strings.ToLower(msg)
	for _, leak := range []string{"postgres", "sqlstate", "dial", "127.0.0.1", "pgx", "sql", "connect", "eof", "model api"} {
		if strings.Contains(low, leak) {
			return fmt.Errorf("message reveals internals (%q): %s", leak, r)
		}
	}
	return nil
}

// faultReader is a signed-up user with a session and an API token.
type faultReader struct {
	email   string
	cookies []*http.Cookie
	token   string
}

// faultSignUp creates a reader on the identity service at base and gets a JWT.
func faultSignUp(t *testing.T, c *http.Client, base, email string) faultReader {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/auth/sign-up/email",
		strings.NewReader(`{"name":"Fault","email":"`+email+`","password":"a long enough password"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("sign-up: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("sign-up: %d %s", res.StatusCode, b)
	}
	r := faultReader{email: email, cookies: res.Cookies()}
	r.token = r.newToken(t, c, base)
	return r
}

func (r faultReader) newToken(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	res := r.withSession(c, "GET", base+"/api/auth/token")
	var tok struct{ Token string }
	json.Unmarshal(res.body, &tok)
	if res.status != 200 || tok.Token == "" {
		t.Fatalf("token: %s", res)
	}
	return tok.Token
}

// withSession makes a request with the reader's session cookies.
func (r faultReader) withSession(c *http.Client, method, url string) httpResult {
	req, _ := http.NewRequest(method, url, nil)
	for _, ck := range r.cookies {
		req.AddCookie(ck)
	}
	start := time.Now()
	res, err := c.Do(req)
	if err != nil {
		return httpResult{err: err, elapsed: time.Since(start)}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return httpResult{status: res.StatusCode, header: res.Header, body: b, elapsed: time.Since(start)}
}

func faultRunBody(query, session string) string {
	b, _ := json.Marshal(map[string]string{"agent_type": "rag", "query": query, "session_id": session})
	return string(b)
}

// faultRunAnswer is the part of an /api/agents/run response the tests read.
type faultRunAnswer struct {
	Message   string `json:"message"`
	SessionID string `json:"session_id"`
	MessageID string `json:"message_id"`
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ name, data string }

// sseStream is one /api/agents/stream exchange, read as it arrives.
type sseStream struct {
	query    string
	status   int
	body     []byte // the JSON error, when the request was refused before the stream started
	mu       sync.Mutex
	events   []sseEvent
	err      error // the read error, if the stream broke off
	started  chan struct{}
	delta    chan struct{} // closed at the first delta
	finished chan struct{}
}

// openStream posts a question to /api/agents/stream and reads the events in
// the background.
func openStream(c *http.Client, base, token, query, session string) *sseStream {
	s := &sseStream{query: query, started: make(chan struct{}), delta: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(s.finished)
		req, _ := http.NewRequest("POST", base+"/api/agents/stream", strings.NewReader(faultRunBody(query, session)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := c.Do(req)
		if err != nil {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			return
		}
		defer res.Body.Close()
		s.status = res.StatusCode
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
			s.body, _ = io.ReadAll(res.Body)
			return
		}
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev sseEvent
		startedOnce, deltaOnce := sync.OnceFunc(func() { close(s.started) }), sync.OnceFunc(func() { close(s.delta) })
		for sc.Scan() {
			l := sc.Text()
			switch {
			case strings.HasPrefix(l, "event: "):
				ev.name = l[7:]
			case strings.HasPrefix(l, "data: "):
				ev.data = l[6:]
			case l == "":
				s.mu.Lock()
				s.events = append(s.events, ev)
				s.mu.Unlock()
				switch ev.name {
				case "start":
					startedOnce()
				case "delta":
					deltaOnce()
				}
				ev = sseEvent{}
			}
		}
		s.mu.Lock()
		s.err = sc.Err()
		s.mu.Unlock()
	}()
	return s
}

// snapshot returns the events so far and the read error.
func (s *sseStream) snapshot() ([]sseEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events), s.err
}

// ids returns the session and question ids of the start event, if any.
func (s *sseStream) ids() (session, question string) {
	evs, _ := s.snapshot()
	for _, e := range evs {
		if e.name == "start" {
			var m struct {
				Session  string `json:"session_id"`
				Question string `json:"question_id"`
			}
			json.Unmarshal([]byte(e.data), &m)
			return m.Session, m.Question
		}
	}
	return "", ""
}

// String describes the stream for failure messages: its status, the
// names of its events, the data of the last one and the read error.
func (s *sseStream) String() string {
	evs, err := s.snapshot()
	if len(evs) == 0 {
		return fmt.Sprintf("status %d, no events (%s), read error %v", s.status, tailOf(string(s.body), 300), err)
	}
	names := make([]string, len(evs))
	for i, e := range evs {
		names[i] = e.name
	}
	return fmt.Sprintf("status %d, events %s, the last %s, read error %v", s.status, strings.Join(names, " "), tailOf(evs[len(evs)-1].data, 300), err)
}

// terminal returns the stream's last event if it is done or error.
func (s *sseStream) terminal() (sseEvent, bool) {
	evs, _ := s.snapshot()
	if len(evs) == 0 {
		return sseEvent{}, false
	}
	last := evs[len(evs)-1]
	return last, last.name == "done" || last.name == "error"
}

func waitDone(t *testing.T, ch <-chan struct{}, timeout time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(timeout):
		t.Fatalf("%s: not within %v", what, timeout)
	}
}

// faultQuestion, with a tag to tell the questions apart, is what the tests
// ask: the demo book covers it (a question it does not cover is answered
// without asking the model), and it is long enough not to be read as a
// follow-up of the conversation's previous question.
const faultQuestion = "Why does UTC need leap seconds, and how is a leap second inserted into the clock?"

// faultModel is an OpenAI-compatible chat-completions endpoint in the test
// process. Modes: "ok" (the answer in deltas, one every gap), "hang" (takes
// the request and never answers), "stall" (headers and one delta, then
// silence). A request whose body contains "[short]" gets shortDeltas deltas
// instead of deltas.
type faultModel struct {
	srv  *httptest.Server
	quit chan struct{}

	mu          sync.Mutex
	mode        string
	deltas      int
	shortDeltas int
	gap         time.Duration

	requests atomic.Int64
	released atomic.Int64 // hang and stall requests the client gave up on
}

func newFaultModel(t *testing.T) *faultModel {
	f := &faultModel{quit: make(chan struct{}), mode: "ok", deltas: 4, shortDeltas: 4, gap: 10 * time.Millisecond}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { close(f.quit) }) // first: releases hung handlers for Close
	return f
}

func (f *faultModel) url() string { return f.srv.URL + "/v1" }

func (f *faultModel) set(mode string, deltas, shortDeltas int, gap time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode, f.deltas, f.shortDeltas, f.gap = mode, deltas, shortDeltas, gap
}

func (f *faultModel) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if strings.Contains(string(body), "into one search query") {
		// A query rewrite before the search: answered at once, whatever
		// the mode, so that the faults hit the answers the tests follow.
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"r1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"leap seconds"},"finish_reason":"stop"}]}`+"\n\ndata: [DONE]\n\n")
		return
	}
	f.requests.Add(1)
	f.mu.Lock()
	mode, n, gap := f.mode, f.deltas, f.gap
	if strings.Contains(string(body), "[short]") {
		n = f.shortDeltas
	}
	f.mu.Unlock()
	wait := func(d time.Duration) bool {
		select {
		case <-time.After(d):
			return true
		case <-r.Context().Done():
			return false
		case <-f.quit:
			return false
		}
	}
	hang := func() {
		select {
		case <-r.Context().Done():
			f.released.Add(1)
		case <-f.quit:
		}
	}
	if mode == "hang" {
		hang()
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	chunk := func(v any) { b, _ := json.Marshal(v); fmt.Fprintf(w, "data: %s\n\n", b); fl.Flush() }
	delta := func(s string) {
		chunk(map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": "fault-model",
			"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": s}, "finish_reason": nil}}})
	}
	if mode == "stall" {
		delta("The first words ")
		hang()
		return
	}
	for i := range n {
		if i > 0 && !wait(gap) {
			return
		}
		delta(fmt.Sprintf("word%d ", i))
	}
	chunk(map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": "fault-model",
		"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}})
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}

// useFaultModel sets env up to use the fake model with the given timeout.
func useFaultModel(env map[string]string, m *faultModel, timeout string) {
	env["LECTERN_LLM_BASE_URL"] = m.url()
	env["LECTERN_LLM_MODEL"] = "fault-model"
	env["LECTERN_LLM_TIMEOUT"] = timeout
}

// storedMessage is a row of the messages table.
type storedMessage struct {
	id, conversation, role, content, parent string
	seq                                     int64
}

// storedChats is what the database holds of conversations: each
// conversation's message_count, and every message.
type storedChats struct {
	counts   map[string]int64
	messages map[string]storedMessage
}

const (
	conversationsQuery = `SELECT id, message_count FROM conversations`
	messagesQuery      = `SELECT id, conversation_id, seq, role, content, coalesce(parent_id, '') FROM messages`
)

// readChatsPostgres reads the conversations of the PostgreSQL database at url.
func readChatsPostgres(t *testing.T, url string) storedChats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to check the database: %v", err)
	}
	defer conn.Close(context.Background())
	st := storedChats{counts: map[string]int64{}, messages: map[string]storedMessage{}}
	rows, _ := conn.Query(ctx, conversationsQuery)
	var id string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { st.counts[id] = n; return nil }); err != nil {
		t.Fatal(err)
	}
	var m storedMessage
	rows, _ = conn.Query(ctx, messagesQuery)
	if _, err := pgx.ForEachRow(rows, []any{&m.id, &m.conversation, &m.seq, &m.role, &m.content, &m.parent}, func() error {
		st.messages[m.id] = m
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

// readChatsSQLite checks the integrity of the SQLite database at path (which no
// process may be using) and reads its conversations.
func readChatsSQLite(t *testing.T, path string) storedChats {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("PRAGMA integrity_check = %q, %v; want ok", ok, err)
	}
	if rows, err := db.Query("PRAGMA foreign_key_check"); err != nil {
		t.Error(err)
	} else {
		if rows.Next() {
			t.Error("PRAGMA foreign_key_check reports violations")
		}
		rows.Close()
	}
	st := storedChats{counts: map[string]int64{}, messages: map[string]storedMessage{}}
	rows, err := db.Query(conversationsQuery)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var n int64
		rows.Scan(&id, &n)
		st.counts[id] = n
	}
	rows.Close()
	rows, err = db.Query(messagesQuery)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var m storedMessage
		if err := rows.Scan(&m.id, &m.conversation, &m.seq, &m.role, &m.content, &m.parent); err != nil {
			t.Fatal(err)
		}
		st.messages[m.id] = m
	}
	return st
}

// checkConsistent checks that every conversation's messages are numbered
// 1..message_count without a gap, and that every answer has content and
// answers an earlier question of its conversation. It returns the
// questions that have no answer.
func (st storedChats) checkConsistent(t *testing.T) (unanswered []storedMessage) {
	t.Helper()
	seqs := map[string][]int64{}
	answered := map[string]bool{}
	for _, m := range st.messages {
		seqs[m.conversation] = append(seqs[m.conversation], m.seq)
		if m.role != "assistant" {
			continue
		}
		q, ok := st.messages[m.parent]
		switch {
		case m.content == "":
			t.Errorf("answer %s is empty", m.id)
		case !ok:
			t.Errorf("answer %s has no question (parent %q)", m.id, m.parent)
		case q.role != "user" || q.conversation != m.conversation || q.seq >= m.seq:
			t.Errorf("answer %s (seq %d) answers %+v", m.id, m.seq, q)
		}
		answered[m.parent] = true
	}
	for id, n := range st.counts {
		s := seqs[id]
		slices.Sort(s)
		for i, seq := range s {
			if seq != int64(i+1) {
				t.Errorf("conversation %s: messages numbered %v, want 1..%d", id, s, len(s))
				break
			}
		}
		if int64(len(s)) != n {
			t.Errorf("conversation %s: message_count %d but %d messages", id, n, len(s))
		}
	}
	for c := range seqs {
		if _, ok := st.counts[c]; !ok {
			t.Errorf("messages of a missing conversation %s", c)
		}
	}
	for _, m := range st.messages {
		if m.role == "user" && !answered[m.id] {
			unanswered = append(unanswered, m)
		}
	}
	return unanswered
}

// privatePG is a PostgreSQL cluster of the test's own, which it may stop
// and start.
type privatePG struct {
	t    *testing.T
	bin  string
	dir  string // owned by the server's user; holds data/ and the socket
	port int
	url  string
	cred *syscall.Credential // the postgres user's, when the test runs as root
	cmd  *exec.Cmd
	done chan struct{}
	logs *syncBuffer
}

// pgBinDir finds initdb and postgres: $LECTERN_TEST_PG_BINDIR, else the
// newest /usr/lib/postgresql/*/bin (Debian) or /usr/pgsql-*/bin (RPM),
// else the PATH. Without them the test is skipped, or fails when
// LECTERN_TEST_POSTGRES=require.
func pgBinDir(t *testing.T) string {
	t.Helper()
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if d := os.Getenv("LECTERN_TEST_PG_BINDIR"); d != "" {
		if !has(d) {
			t.Fatalf("LECTERN_TEST_PG_BINDIR=%s has no initdb and postgres", d)
		}
		return d
	}
	var dirs []string
	for _, pat := range []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"} {
		m, _ := filepath.Glob(pat)
		dirs = append(dirs, m...)
	}
	version := func(dir string) int {
		v := strings.TrimPrefix(filepath.Base(filepath.Dir(dir)), "pgsql-")
		n, _ := strconv.Atoi(v)
		return n
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		if has(d) {
			return d
		}
	}
	msg := "PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin or the PATH; install the PostgreSQL server or set LECTERN_TEST_PG_BINDIR"
	if os.Getenv("LECTERN_TEST_POSTGRES") == "require" {
		t.Fatal(msg + " (LECTERN_TEST_POSTGRES=require)")
	}
	t.Skip(msg + "; set LECTERN_TEST_POSTGRES=require to make this fatal")
	return ""
}

// startPrivatePG initialises a cluster in a temporary directory (as the
// postgres user when running as root: initdb refuses root) and starts it on
// a free port of 127.0.0.1, with trust authentication. It is stopped and
// removed when the test ends.
func startPrivatePG(t *testing.T) *privatePG {
	t.Helper()
	pg := &privatePG{t: t, bin: pgBinDir(t), logs: &syncBuffer{}}
	// Not t.TempDir: its parent is private to root, and the server's user
	// must reach the directory.
	dir, err := os.MkdirTemp("", "lectern-fault-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			msg := fmt.Sprintf("running as root, the cluster must belong to another user, but there is no postgres user: %v", err)
			if os.Getenv("LECTERN_TEST_POSTGRES") == "require" {
				t.Fatal(msg + " (LECTERN_TEST_POSTGRES=require)")
			}
			t.Skip(msg)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	initdb := pg.command("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pg.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	pg.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
	t.Cleanup(pg.kill)
	pg.start()
	return pg
}

func (pg *privatePG) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(pg.bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Dir = pg.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	return cmd
}

// start starts the server and waits until it accepts connections.
func (pg *privatePG) start() {
	t := pg.t
	t.Helper()
	cmd := pg.command("postgres", "-D", filepath.Join(pg.dir, "data"), "-p", strconv.Itoa(pg.port),
		"-h", "127.0.0.1", "-k", pg.dir, "-c", "shared_buffers=32MB", "-c", "max_connections=60")
	cmd.Stdout, cmd.Stderr = pg.logs, pg.logs
	// The postmaster dies with the test binary; its backends follow it.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	pg.cmd, pg.done = cmd, done
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, pg.url)
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return
		}
		select {
		case <-done:
			t.Fatalf("postgres exited:\n%s", pg.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres did not accept connections within 30s: %v\n%s", err, pg.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop stops the server as "pg_ctl stop -m fast" (SIGINT: open sessions
// are terminated, then a checkpoint) or "-m immediate" (SIGQUIT: every
// process quits at once, crash recovery at the next start) does, and waits
// for it to exit.
func (pg *privatePG) stop(mode string) {
	pg.t.Helper()
	sig := map[string]syscall.Signal{"fast": syscall.SIGINT, "immediate": syscall.SIGQUIT}[mode]
	pg.cmd.Process.Signal(sig)
	select {
	case <-pg.done:
	case <-time.After(30 * time.Second):
		pg.t.Fatalf("postgres did not stop within 30s:\n%s", pg.logs)
	}
}

// kill stops the server at once ("immediate" mode), if it runs.
func (pg *privatePG) kill() {
	if pg.cmd == nil {
		return
	}
	select {
	case <-pg.done:
		return
	default:
	}
	pg.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-pg.done:
	case <-time.After(10 * time.Second):
		pg.cmd.Process.Kill()
		<-pg.done
	}
}

// --- Scenario 1 -------------------------------------------------------

// loadOutcome is one request of the load, stamped with the database's phase
// when it started and when it ended.
type loadOutcome struct {
	what       string // "run" or "list"
	query      string
	res        httpResult
	phaseStart int32
	phaseEnd   int32
}

// Phases of TestFaultPostgresRestart.
const (
	phaseUp       = iota // the database runs
	phaseStopping        // being stopped
	phaseDown            // stopped
	phaseStarting        // being started again
	phaseBack            // accepting connections again
)

// TestFaultPostgresRestart stops a private PostgreSQL cluster (fast
// shutdown, then in a second run immediate: no goodbye to the sessions)
// under a load of readers asking questions and listing their
// conversations, and starts it again. While it is down every request must
// fail fast with 503, Retry-After and a plain JSON error, and /readyz must
// say 503; once it is back requests must succeed again without restarting
// lectern; every answer acknowledged (200) must be stored in full.
func TestFaultPostgresRestart(t *testing.T) {
	for _, mode := range []string{"fast", "immediate"} {
		t.Run(mode, func(t *testing.T) { testPostgresRestart(t, mode) })
	}
}

func testPostgresRestart(t *testing.T, mode string) {
	pg := startPrivatePG(t)
	env := faultEnv(t)
	env["LECTERN_DATABASE_URL"] = pg.url
	lec := startProc(t, "lectern serve", "serve", env)
	c := faultClient(t)

	const nReaders = 4
	readers := make([]faultReader, nReaders)
	for i := range readers {
		readers[i] = faultSignUp(t, c, lec.base, fmt.Sprintf("pg-reader-%d@example.test", i))
	}

	var phase atomic.Int32
	var stopLoad atomic.Bool
	var mu sync.Mutex
	var outcomes []loadOutcome
	acked := map[string]faultRunAnswer{} // query → the acknowledged answer
	var wg sync.WaitGroup
	for i, r := range readers {
		wg.Go(func() {
			session := ""
			for n := 0; !stopLoad.Load(); n++ {
				// Every third question continues the reader's conversation,
				// the others start one.
				if n%3 == 0 {
					session = ""
				}
				q := fmt.Sprintf(faultQuestion+" [r%d q%d]", i, n)
				p0 := phase.Load()
				res := doHTTP(c, "POST", lec.base+"/api/agents/run", r.token, faultRunBody(q, session))
				o := loadOutcome{what: "run", query: q, res: res, phaseStart: p0, phaseEnd: phase.Load()}
				var a faultRunAnswer
				if res.status == 200 && json.Unmarshal(res.body, &a) == nil {
					session = a.SessionID
				}
				p0 = phase.Load()
				lres := doHTTP(c, "GET", lec.base+"/api/conversations?limit=5", r.token, "")
				mu.Lock()
				outcomes = append(outcomes, o, loadOutcome{what: "list", res: lres, phaseStart: p0, phaseEnd: phase.Load()})
				if res.status == 200 {
					acked[q] = a
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	countAcked := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	for deadline := time.Now().Add(30 * time.Second); countAcked() < 20; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			stopLoad.Store(true)
			wg.Wait()
			t.Fatalf("only %d answers acknowledged in 30s before the fault", countAcked())
		}
	}
	time.Sleep(time.Second)
	ackedBefore := countAcked()

	// The fault.
	phase.Store(phaseStopping)
	stoppedAt := time.Now()
	pg.stop(mode)
	phase.Store(phaseDown)
	t.Logf("postgres stopped (%s) in %v with %d answers acknowledged", mode, time.Since(stoppedAt).Round(time.Millisecond), ackedBefore)

	// While it is down: the readiness probe and the identity service say
	// 503 too, and nothing hangs.
	probeUntil := time.Now().Add(3 * time.Second)
	probes := 0
	for time.Now().Before(probeUntil) {
		for _, pr := range []struct {
			name string
			res  func() httpResult
			code string
		}{
			{"readyz", func() httpResult { return doHTTP(c, "GET", lec.base+"/readyz", "", "") }, "NOT_READY"},
			{"get-session", func() httpResult { return readers[0].withSession(c, "GET", lec.base+"/api/auth/get-session") }, "SERVICE_UNAVAILABLE"},
			{"token", func() httpResult { return readers[0].withSession(c, "GET", lec.base+"/api/auth/token") }, "SERVICE_UNAVAILABLE"},
			{"sign-in", func() httpResult {
				return doHTTP(c, "POST", lec.base+"/api/auth/sign-in/email", "", `{"email":"pg-reader-1@example.test","password":"a long enough password"}`)
			}, "SERVICE_UNAVAILABLE"},
		} {
			res := pr.res()
			probes++
			if res.err != nil || res.status != 503 {
				t.Errorf("%s while the database is down: %s, want 503", pr.name, res)
				continue
			}
			if err := checkPlainError(res, pr.code); err != nil {
				t.Errorf("%s: %v", pr.name, err)
			}
			if res.header.Get("Retry-After") == "" {
				t.Errorf("%s: 503 without Retry-After", pr.name)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The database comes back; lectern is left alone.
	restartAt := time.Now()
	phase.Store(phaseStarting)
	pg.start()
	phase.Store(phaseBack)
	pgReady := time.Now()
	recovered := untilOK(t, pgReady, 20*time.Second, 100*time.Millisecond, "lectern did not recover after the database's restart", func() httpResult {
		return doHTTP(c, "POST", lec.base+"/api/agents/run", readers[0].token, faultRunBody(faultQuestion+" [back]", ""))
	})
	// Settled: a run of requests all succeed.
	time.Sleep(time.Second)
	for i := range 10 {
		if res := doHTTP(c, "POST", lec.base+"/api/agents/run", readers[i%nReaders].token, faultRunBody(fmt.Sprintf(faultQuestion+" [r%d q%d]", i, 1000+i), "")); res.status != 200 {
			t.Errorf("after recovery, question %d: %s", i, res)
		}
	}
	if res := doHTTP(c, "GET", lec.base+"/readyz", "", ""); res.status != 200 {
		t.Errorf("readyz after recovery: %s", res)
	}
	time.Sleep(time.Second)
	stopLoad.Store(true)
	wg.Wait()

	// Every request failed fast with a 503 or succeeded.
	var down, down503, back, backOK int
	var slowestDown time.Duration
	for _, o := range outcomes {
		if o.res.err != nil || (o.res.status != 200 && o.res.status != 503) {
			t.Errorf("%s (phase %d→%d): %s", o.what, o.phaseStart, o.phaseEnd, o.res)
			continue
		}
		if o.res.status == 503 {
			if err := checkPlainError(o.res, "SERVICE_UNAVAILABLE"); err != nil {
				t.Errorf("%s: %v", o.what, err)
			}
			if o.res.header.Get("Retry-After") == "" {
				t.Errorf("%s: 503 without Retry-After: %s", o.what, o.res)
			}
		}
		switch {
		case o.phaseStart == phaseDown && o.phaseEnd == phaseDown:
			down++
			if o.res.status == 503 {
				down503++
			} else {
				t.Errorf("%s succeeded while the database was down: %s", o.what, o.res)
			}
			slowestDown = max(slowestDown, o.res.elapsed)
		case o.phaseStart == phaseBack:
			back++
			if o.res.status == 200 {
				backOK++
			}
		}
	}
	// Fail fast: within the connect timeout (3s) and a margin, never the
	// client's 30-second timeout.
	if slowestDown > 5*time.Second {
		t.Errorf("the slowest request while the database was down took %v; want it to fail fast", slowestDown)
	}
	if down == 0 {
		t.Error("no request of the load ran while the database was down")
	}

	// Every acknowledged answer is stored, whole, after its question; no
	// question that was acknowledged lacks its answer.
	st := readChatsPostgres(t, pg.url)
	unanswered := st.checkConsistent(t)
	mu.Lock()
	defer mu.Unlock()
	for q, a := range acked {
		m, ok := st.messages[a.MessageID]
		if !ok {
			t.Errorf("acknowledged answer %s to %q is not stored", a.MessageID, q)
			continue
		}
		if m.role != "assistant" || m.content != a.Message || m.conversation != a.SessionID || st.messages[m.parent].content != q {
			t.Errorf("acknowledged answer %s to %q is stored as %+v (question %+v)", a.MessageID, q, m, st.messages[m.parent])
		}
	}
	for _, m := range unanswered {
		if _, ok := acked[m.content]; ok {
			t.Errorf("question %q was acknowledged but has no answer", m.content)
		}
	}
	t.Logf("FAULT-SUMMARY postgres-restart (%s): requests=%d acknowledged=%d (before the stop %d); while down: requests=%d 503=%d slowest=%v probes=%d; "+
		"outage %v; recovered %v after postgres accepted connections again (restart took %v); after: requests=%d ok=%d; stored messages=%d, questions without answer=%d",
		mode, len(outcomes), len(acked), ackedBefore, down, down503, slowestDown.Round(time.Millisecond), probes,
		restartAt.Sub(stoppedAt).Round(time.Millisecond), recovered.Round(time.Millisecond), pgReady.Sub(restartAt).Round(time.Millisecond),
		back, backOK, len(st.messages), len(unanswered))

	lec.stop(15 * time.Second)
}

// --- Scenario 2 -------------------------------------------------------

// TestFaultKillDuringWrites SIGKILLs lectern while many readers ask
// questions (streams and single responses, answers being written) and
// restarts it on the same database: every acknowledged question and answer
// must be there, the conversations consistent (gap-free numbering, no
// answer without its question, SQLite's integrity check passing), and
// asking, including again an interrupted question, must work.
func TestFaultKillDuringWrites(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			env := faultEnv(t)
			if engine == "postgres" {
				env["LECTERN_DATABASE_URL"] = pgtest.NewDatabase(t)
			}
			model := newFaultModel(t)
			// About 0.4 s per answer, so that a kill finds answers half-written.
			model.set("ok", 8, 8, 50*time.Millisecond)
			useFaultModel(env, model, "10s")
			lec := startProc(t, "lectern serve", "serve", env)
			c := faultClient(t)

			const nReaders, perReader = 4, 3
			readers := make([]faultReader, nReaders)
			for i := range readers {
				readers[i] = faultSignUp(t, c, lec.base, fmt.Sprintf("kill-%s-%d@example.test", engine, i))
			}

			type ack struct {
				query, session, question, answer string // ids; question is "" for /run
			}
			var mu sync.Mutex
			var acks []ack
			var killed atomic.Bool
			var open atomic.Int64 // streams between start and done
			var wg sync.WaitGroup
			for i := range nReaders * perReader {
				r := readers[i%nReaders]
				wg.Go(func() {
					session := ""
					for n := 0; !killed.Load(); n++ {
						q := fmt.Sprintf(faultQuestion+" [w%d q%d]", i, n)
						if n%4 == 0 {
							session = ""
						}
						if n%2 == 0 {
							res := doHTTP(c, "POST", lec.base+"/api/agents/run", r.token, faultRunBody(q, session))
							var a faultRunAnswer
							if res.status == 200 && json.Unmarshal(res.body, &a) == nil {
								session = a.SessionID
								mu.Lock()
								acks = append(acks, ack{query: q, session: a.SessionID, answer: a.MessageID})
								mu.Unlock()
							} else if !killed.Load() {
								t.Errorf("run before the kill: %s", res)
							}
							continue
						}
						s := openStream(c, lec.base, r.token, q, session)
						select {
						case <-s.started:
							open.Add(1)
							sid, qid := s.ids()
							session = sid
							mu.Lock()
							acks = append(acks, ack{query: q, session: sid, question: qid})
							mu.Unlock()
							<-s.finished
							open.Add(-1)
						case <-s.finished:
						}
						if ev, ok := s.terminal(); ok && ev.name == "done" {
							var a faultRunAnswer
							json.Unmarshal([]byte(ev.data), &a)
							mu.Lock()
							// Several writers share acks: find this one.
							for j := len(acks) - 1; j >= 0; j-- {
								if acks[j].query == q {
									acks[j].answer = a.MessageID
									break
								}
							}
							mu.Unlock()
						} else if !killed.Load() {
							t.Errorf("stream before the kill ended without done: %s", s)
						}
					}
				})
			}
			countAcks := func() int { mu.Lock(); defer mu.Unlock(); return len(acks) }
			// Kill once answers were acknowledged and while streams are
			// mid-answer.
			deadline := time.Now().Add(45 * time.Second)
			for countAcks() < 30 || open.Load() < 3 {
				if time.Now().After(deadline) {
					killed.Store(true)
					t.Fatalf("load did not get going: %d acknowledged, %d streams open", countAcks(), open.Load())
				}
				time.Sleep(10 * time.Millisecond)
			}
			openAtKill := open.Load()
			killed.Store(true)
			lec.signal(syscall.SIGKILL)
			if st := lec.wait(10 * time.Second); st.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("lectern exited with %v, want killed", st)
			}
			wg.Wait()
			c.Transport.(*http.Transport).CloseIdleConnections()

			mu.Lock()
			final := slices.Clone(acks)
			mu.Unlock()
			var answers, questionsOnly int
			for _, a := range final {
				if a.answer != "" {
					answers++
				} else {
					questionsOnly++
				}
			}

			// Restart on the same data; the readers' tokens still verify
			// (the signing keys are in the database).
			lec = startProc(t, "lectern serve (restarted)", "serve", env)
			res := doHTTP(c, "POST", lec.base+"/api/agents/run", readers[0].token, faultRunBody(faultQuestion+" [after restart]", ""))
			if res.status != 200 {
				t.Fatalf("a new question after the restart: %s", res)
			}
			// An interrupted question whose answer was not stored (the kill
			// may also have come between storing an answer and sending it)
			// is answered when asked again, in place.
			owner := func(query string) faultReader {
				for i := range nReaders * perReader {
					if strings.Contains(query, fmt.Sprintf("[w%d ", i)) {
						return readers[i%nReaders]
					}
				}
				t.Fatalf("no writer asked %q", query)
				return faultReader{}
			}
			var retried ack
			for _, a := range final {
				if a.answer != "" || a.question == "" {
					continue
				}
				res := doHTTP(c, "GET", lec.base+"/api/conversations/"+a.session+"/messages", owner(a.query).token, "")
				var m struct {
					Messages []struct{ ID string }
				}
				if res.status != 200 || json.Unmarshal(res.body, &m) != nil || len(m.Messages) == 0 {
					t.Fatalf("messages of %s: %s", a.session, res)
				}
				if m.Messages[len(m.Messages)-1].ID == a.question {
					retried = a
					break
				}
			}
			if retried.question != "" {
				res := doHTTP(c, "POST", lec.base+"/api/agents/run", owner(retried.query).token, faultRunBody(retried.query, retried.session))
				var a faultRunAnswer
				if res.status != 200 || json.Unmarshal(res.body, &a) != nil {
					t.Errorf("asking an interrupted question again: %s", res)
				}
				retried.answer = a.MessageID
			}
			lec.stop(15 * time.Second)

			var st storedChats
			if engine == "postgres" {
				st = readChatsPostgres(t, env["LECTERN_DATABASE_URL"])
			} else {
				st = readChatsSQLite(t, filepath.Join(env["LECTERN_DATA_DIR"], "lectern.db"))
			}
			unanswered := st.checkConsistent(t)
			for _, a := range final {
				if a.question != "" {
					q, ok := st.messages[a.question]
					if !ok || q.role != "user" || q.content != a.query || q.conversation != a.session {
						t.Errorf("acknowledged question %q (%s) stored as %+v, %v", a.query, a.question, q, ok)
					}
				}
				if a.answer != "" {
					m, ok := st.messages[a.answer]
					if !ok || m.role != "assistant" || m.content == "" || m.conversation != a.session || st.messages[m.parent].content != a.query {
						t.Errorf("acknowledged answer to %q (%s) stored as %+v, %v", a.query, a.answer, m, ok)
					}
					if a.question != "" && m.parent != a.question {
						t.Errorf("answer %s answers %s, want %s", a.answer, m.parent, a.question)
					}
				}
			}
			if retried.answer != "" {
				m := st.messages[retried.answer]
				if m.parent != retried.question {
					t.Errorf("the retried question was stored again: answer %s answers %s, not the interrupted %s", retried.answer, m.parent, retried.question)
				}
			}
			t.Logf("FAULT-SUMMARY kill-%s: acknowledged answers=%d, acknowledged questions still being answered=%d, streams open at the kill=%d; "+
				"after restart: stored messages=%d, conversations=%d, questions without answer=%d, interrupted question answered in place=%v",
				engine, answers, questionsOnly, openAtKill, len(st.messages), len(st.counts), len(unanswered), retried.answer != "")
		})
	}
}

// --- Scenario 3 -------------------------------------------------------

// forgeToken signs a token with a key of the test's own, under a kid no
// JWKS holds.
func forgeToken(t *testing.T, issuer, kid string) string {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"sub": "forged-user", "email": "forged@example.test", "name": "Forged", "iss": issuer, "aud": issuer,
		"iat": time.Now().Unix(), "exp": time.Now().Add(10 * time.Minute).Unix(),
	})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFaultJWKSUnreachable runs the identity service (lectern auth) and the
// API (lectern api) as separate processes and SIGKILLs the identity
// service: tokens signed by keys the API already fetched keep verifying, a
// token with an unknown kid is refused 401 at once, an API started while the
// JWKS cannot be fetched starts anyway and refuses tokens with 401, and once
// the identity service is back both verify without being restarted.
func TestFaultJWKSUnreachable(t *testing.T) {
	authAddr := freeAddr(t)
	authURL := "http://" + authAddr
	authEnv := faultEnv(t)
	authEnv["LECTERN_ADDR"], authEnv["LECTERN_BASE_URL"] = authAddr, authURL
	auth := startProc(t, "lectern auth", "auth", authEnv)
	apiEnv := func() map[string]string {
		env := faultEnv(t)
		env["LECTERN_JWKS_URL"] = authURL + "/api/auth/jwks"
		env["LECTERN_JWT_ISSUER"], env["LECTERN_JWT_AUDIENCE"] = authURL, authURL
		return env
	}
	api1 := startProc(t, "lectern api", "api", apiEnv())
	c := faultClient(t)
	r := faultSignUp(t, c, auth.base, "jwks-reader@example.test")
	me := func(p *lecternProc, token string) httpResult {
		return doHTTP(c, "GET", p.base+"/api/users/me", token, "")
	}
	if res := me(api1, r.token); res.status != 200 {
		t.Fatalf("api with the identity service up: %s", res)
	}

	auth.signal(syscall.SIGKILL)
	auth.wait(10 * time.Second)
	killedAt := time.Now()

	// Known keys keep verifying through the outage.
	var kept int
	for i := range 10 {
		res := me(api1, r.token)
		if res.status != 200 {
			t.Errorf("known key, identity service down, request %d: %s", i, res)
		} else {
			kept++
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res := doHTTP(c, "POST", api1.base+"/api/agents/run", r.token, faultRunBody(faultQuestion+" [still there]", "")); res.status != 200 {
		t.Errorf("a question with the identity service down: %s", res)
	}
	// An unknown kid makes the API try the JWKS (refused at once) and
	// answer 401.
	forged := forgeToken(t, authURL, "fault-unknown-kid")
	res := me(api1, forged)
	if res.err != nil || res.status != 401 {
		t.Errorf("unknown kid, identity service down: %s, want 401", res)
	} else if err := checkPlainError(res, "UNAUTHORIZED"); err != nil {
		t.Error(err)
	}
	if res.elapsed > 5*time.Second {
		t.Errorf("unknown kid took %v to refuse; want well within the JWKS fetch timeout", res.elapsed)
	}
	unknownKIDTook := res.elapsed

	// An API started while the JWKS is unreachable starts, warns and
	// refuses tokens it cannot verify.
	api2 := startProc(t, "lectern api (started during the outage)", "api", apiEnv())
	if !strings.Contains(api2.logs.String(), "no signing keys yet") {
		t.Errorf("the API started without keys did not warn:\n%s", api2.logs)
	}
	res = me(api2, r.token)
	if res.err != nil || res.status != 401 {
		t.Errorf("api started without the JWKS: %s, want 401", res)
	}
	api2Refused := res.elapsed

	// The identity service comes back on the same address and data.
	auth = startProc(t, "lectern auth (restarted)", "auth", authEnv)
	backAt := time.Now()
	if res := me(api1, r.token); res.status != 200 {
		t.Errorf("api after the identity service restarted: %s", res)
	}
	r2 := r.newToken(t, c, auth.base)
	if res := me(api1, r2); res.status != 200 {
		t.Errorf("a token issued after the restart: %s", res)
	}
	api2Recovered := untilOK(t, backAt, 40*time.Second, 250*time.Millisecond, "the API started during the outage still refuses tokens after the JWKS came back", func() httpResult {
		return me(api2, r.token)
	})
	t.Logf("FAULT-SUMMARY jwks: known-key requests during the outage ok=%d/10; unknown kid refused 401 in %v; api started during the outage refused 401 in %v; "+
		"outage %v; api started during the outage verified %v after the identity service was back",
		kept, unknownKIDTook.Round(time.Millisecond), api2Refused.Round(time.Millisecond),
		backAt.Sub(killedAt).Round(time.Millisecond), api2Recovered.Round(time.Millisecond))
	for _, p := range []*lecternProc{api2, api1, auth} {
		p.stop(15 * time.Second)
	}
}

// --- Scenario 4 -------------------------------------------------------

// TestFaultModelHangs points lectern at a model that takes the request and
// never answers, and at one that sends a delta and falls silent, with
// LECTERN_LLM_TIMEOUT=2s: a question ends in a 503 (a stream in an error
// event) within that bound, not a hang; the question is kept, and asking it
// again once the model answers works.
func TestFaultModelHangs(t *testing.T) {
	const timeout = 2 * time.Second
	model := newFaultModel(t)
	env := faultEnv(t)
	useFaultModel(env, model, timeout.String())
	lec := startProc(t, "lectern serve", "serve", env)
	c := faultClient(t)
	r := faultSignUp(t, c, lec.base, "model-reader@example.test")
	// A generous bound: the timeout, plus the rest of the request on a
	// loaded machine. The client's own timeout (30s) would mark a hang.
	bound := timeout + 6*time.Second

	type conversation struct {
		ID string `json:"id"`
	}
	messages := func(session string) []map[string]any {
		res := doHTTP(c, "GET", lec.base+"/api/conversations/"+session+"/messages", r.token, "")
		var m struct{ Messages []map[string]any }
		if res.status != 200 || json.Unmarshal(res.body, &m) != nil {
			t.Fatalf("messages: %s", res)
		}
		return m.Messages
	}
	findSession := func(query string) string {
		res := doHTTP(c, "GET", lec.base+"/api/conversations?limit=100", r.token, "")
		var m struct{ Conversations []conversation }
		json.Unmarshal(res.body, &m)
		for _, cv := range m.Conversations {
			if ms := messages(cv.ID); len(ms) > 0 && ms[0]["content"] == query {
				return cv.ID
			}
		}
		t.Fatalf("no conversation for %q: %s", query, res)
		return ""
	}

	var summary []string
	for _, mode := range []string{"hang", "stall"} {
		t.Run(mode, func(t *testing.T) {
			model.set(mode, 4, 4, 10*time.Millisecond)
			released := model.released.Load()

			q := faultQuestion + " [" + mode + " run]"
			res := doHTTP(c, "POST", lec.base+"/api/agents/run", r.token, faultRunBody(q, ""))
			if res.err != nil || (res.status != 503 && res.status != 504) {
				t.Fatalf("run with a %s model: %s, want 503 or 504", mode, res)
			}
			if err := checkPlainError(res, "SERVICE_UNAVAILABLE"); err != nil {
				t.Error(err)
			}
			if res.elapsed > bound {
				t.Errorf("run took %v, beyond the configured timeout's bound %v", res.elapsed, bound)
			}
			runTook := res.elapsed

			sq := faultQuestion + " [" + mode + " stream]"
			start := time.Now()
			s := openStream(c, lec.base, r.token, sq, "")
			waitDone(t, s.finished, 30*time.Second, "the stream to end")
			streamTook := time.Since(start)
			_, err := s.snapshot()
			last, ok := s.terminal()
			if err != nil || !ok || last.name != "error" {
				t.Fatalf("stream with a %s model: %s; want it to end with an error event", mode, s)
			}
			var e struct{ Message, Code string }
			json.Unmarshal([]byte(last.data), &e)
			if e.Message == "" || e.Code != "SERVICE_UNAVAILABLE" {
				t.Errorf("error event %s", last.data)
			}
			if streamTook > bound {
				t.Errorf("stream took %v to end, beyond %v", streamTook, bound)
			}
			// lectern hung up on the model both times.
			for deadline := time.Now().Add(5 * time.Second); model.released.Load() < released+2; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Errorf("lectern did not drop its requests to the hung model (%d of 2)", model.released.Load()-released)
					break
				}
			}

			// The questions are kept, unanswered; asked again once the model
			// answers, they are answered in place.
			model.set("ok", 4, 4, 10*time.Millisecond)
			for _, x := range []struct{ query, session string }{{q, findSession(q)}, {sq, ""}} {
				if x.session == "" {
					x.session, _ = s.ids()
				}
				if ms := messages(x.session); len(ms) != 1 || ms[0]["role"] != "user" || ms[0]["content"] != x.query {
					t.Errorf("after the failure the conversation holds %v, want the question alone", ms)
				}
				res := doHTTP(c, "POST", lec.base+"/api/agents/run", r.token, faultRunBody(x.query, x.session))
				if res.status != 200 {
					t.Errorf("asking again once the model answers: %s", res)
				}
				if ms := messages(x.session); len(ms) != 2 || ms[0]["content"] != x.query || ms[1]["role"] != "assistant" {
					t.Errorf("after the retry the conversation holds %v, want the question and its answer", ms)
				}
			}
			summary = append(summary, fmt.Sprintf("%s: run %d in %v, stream error event after %v", mode, res.status,
				runTook.Round(time.Millisecond), streamTook.Round(time.Millisecond)))
		})
	}
	t.Logf("FAULT-SUMMARY model (LECTERN_LLM_TIMEOUT=%v): %s", timeout, strings.Join(summary, "; "))
	lec.stop(15 * time.Second)
}

// --- Scenario 5 -------------------------------------------------------

// TestFaultSIGTERMDuringStreams sends SIGTERM to lectern while answers are
// streaming slowly: the listener closes at once, a stream that can finish
// within the grace period gets its done event, the others an error event
// (SHUTTING_DOWN) before it runs out, none is cut off without a terminal
// event, the process exits 0 within the grace period, and the questions
// are kept, without half answers, to be asked again.
func TestFaultSIGTERMDuringStreams(t *testing.T) {
	const grace = 4 * time.Second
	model := newFaultModel(t)
	// A delta every 200 ms: ten seconds for an answer, one for a [short] one.
	model.set("ok", 50, 5, 200*time.Millisecond)
	env := faultEnv(t)
	env["LECTERN_SHUTDOWN_TIMEOUT"] = grace.String()
	useFaultModel(env, model, "5s")
	lec := startProc(t, "lectern serve", "serve", env)
	c := faultClient(t)
	readers := []faultReader{faultSignUp(t, c, lec.base, "term-0@example.test"), faultSignUp(t, c, lec.base, "term-1@example.test")}

	var long []*sseStream
	for i := range 4 {
		long = append(long, openStream(c, lec.base, readers[i%2].token, fmt.Sprintf(faultQuestion+" [w%d q0]", i), ""))
	}
	for i, s := range long {
		waitDone(t, s.delta, 30*time.Second, fmt.Sprintf("stream %d's first delta", i))
	}
	short := openStream(c, lec.base, readers[0].token, faultQuestion+" [short]", "")
	waitDone(t, short.delta, 30*time.Second, "the short stream's first delta")

	lec.signal(syscall.SIGTERM)
	termAt := time.Now()

	// The listener closes: new connections are refused from then on.
	refusedAfter := time.Duration(-1)
	for time.Since(termAt) < 3*time.Second {
		conn, err := net.DialTimeout("tcp", lec.addr, time.Second)
		if err != nil {
			refusedAfter = time.Since(termAt)
			break
		}
		conn.Close()
		time.Sleep(20 * time.Millisecond)
	}
	if refusedAfter < 0 {
		t.Error("new connections still accepted 3s after SIGTERM")
	}
	fresh := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if res, err := fresh.Get(lec.base + "/healthz"); err == nil {
		res.Body.Close()
		t.Errorf("a new request after SIGTERM was served: %d", res.StatusCode)
	}

	all := append(slices.Clone(long), short)
	for i, s := range all {
		waitDone(t, s.finished, grace+10*time.Second, fmt.Sprintf("stream %d to end", i))
	}
	st := lec.wait(grace + 10*time.Second)
	exitAfter := time.Since(termAt)
	if st.ExitCode() != 0 {
		t.Errorf("lectern exited with %v after SIGTERM, want status 0", st)
	}
	// Within the grace period and a margin for the process to exit.
	if exitAfter > grace+3*time.Second {
		t.Errorf("lectern exited %v after SIGTERM; the grace period is %v", exitAfter, grace)
	}

	outcomes := map[string]int{}
	for i, s := range all {
		last, ok := s.terminal()
		if !ok {
			t.Errorf("stream %d ended without a done or error event: %s", i, s)
			continue
		}
		outcomes[last.name]++
		want := "error"
		if s == short {
			want = "done"
		}
		if last.name != want {
			t.Errorf("stream %d ended with %s %s, want %s", i, last.name, last.data, want)
		}
		if last.name == "error" {
			var e struct{ Message, Code string }
			json.Unmarshal([]byte(last.data), &e)
			if e.Code != "SHUTTING_DOWN" || e.Message == "" {
				t.Errorf("stream %d: error event %s, want code SHUTTING_DOWN and a message", i, last.data)
			}
		}
	}

	// The questions are stored, the stopped answers are not, and nothing
	// is half-written.
	db := readChatsSQLite(t, filepath.Join(env["LECTERN_DATA_DIR"], "lectern.db"))
	db.checkConsistent(t)
	answerOf := map[string]storedMessage{}
	for _, m := range db.messages {
		if m.role == "assistant" {
			answerOf[m.parent] = m
		}
	}
	for i, s := range all {
		_, qid := s.ids()
		if q, ok := db.messages[qid]; !ok || q.content != s.query {
			t.Errorf("stream %d: question %s stored as %+v, %v", i, qid, q, ok)
		}
		_, answered := answerOf[qid]
		if answered != (s == short) {
			t.Errorf("stream %d: answer stored = %v", i, answered)
		}
	}

	// After a restart, a stopped question is answered when asked again.
	model.set("ok", 3, 3, 10*time.Millisecond)
	oldLogs := lec.logs.String()
	lec = startProc(t, "lectern serve (restarted)", "serve", env)
	session, qid := long[0].ids()
	again := openStream(c, lec.base, readers[0].token, long[0].query, session)
	waitDone(t, again.finished, 30*time.Second, "the retried stream")
	if last, ok := again.terminal(); !ok || last.name != "done" {
		t.Errorf("asking again after the restart: %s", again)
	}
	if _, q := again.ids(); q != qid {
		t.Errorf("asking again stored the question anew (%s), want it answered in place (%s)", q, qid)
	}
	t.Logf("FAULT-SUMMARY sigterm (grace %v): %d streams open; listener refused connections %v after SIGTERM; streams ended with error (SHUTTING_DOWN) %d, done %d; exit status %d after %v",
		grace, len(all), refusedAfter.Round(time.Millisecond), outcomes["error"], outcomes["done"], st.ExitCode(), exitAfter.Round(time.Millisecond))
	if testing.Verbose() {
		t.Logf("shutdown log:\n%s", faultLogLines(oldLogs, "shutting down", "answer stopped", "stopped", "agents/stream"))
	}
	lec.stop(15 * time.Second)
}

// faultLogLines returns the lines of logs that contain one of subs.
func faultLogLines(logs string, subs ...string) string {
	var out []string
	for l := range strings.Lines(logs) {
		for _, s := range subs {
			if strings.Contains(l, s) {
				out = append(out, strings.TrimRight(l, "\n"))
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

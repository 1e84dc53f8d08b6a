package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/api"
	"github.com/lectern/lectern/internal/authn"
	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/identity"
	"github.com/lectern/lectern/internal/insights"
	"github.com/lectern/lectern/internal/keys"
	"github.com/lectern/lectern/internal/password"
	"github.com/lectern/lectern/internal/ratelimit"
	"github.com/lectern/lectern/internal/retrieval"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/testdb"
)

const secret = "api-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"

// env is the identity service and the API in one server over real HTTP, as
// "lectern serve" runs them. With a separate API store it is the split
// deployment: the API knows users only from their tokens.
type env struct {
	t        testing.TB
	url      string
	idStore  store.Store
	apiStore store.Store
}

type options struct {
	apiStore   store.Store                 // nil: the identity store
	wrap       func(chat.Store) chat.Store // fault injection
	answerer   chat.Answerer
	agentRule  ratelimit.Rule
	budget     chat.Budget
	guard      func(*authn.Verifier) api.Guard // replaces the real guard (benchmarks)
	uncached   bool                            // verify every token in full (benchmarks)
	server     func(*api.Server)               // called with the API server once built
	maxAnswers int                             // api.Options.MaxAnswers
	quota      chat.Quota
	owners     []string // the book's owners by email (LECTERN_ADMIN_EMAILS)
	noInsights bool     // LECTERN_INSIGHTS=off
	// shared and slots are what replicas share (api.Options.SharedCounts
	// and AnswerSlots); nil: this server's own.
	shared ratelimit.Counts
	slots  api.AnswerSlots
}

func newEnv(t testing.TB, st store.Store, o options) *env {
	t.Helper()
	ctx := context.Background()
	kr, err := keys.New(ctx, st, keys.Options{Alg: "EdDSA", Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 8)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + ts.Listener.Addr().String())
	log := slog.New(slog.DiscardHandler)
	var apiSrv *api.Server
	id := identity.New(identity.Options{BaseURL: base, Secret: []byte(secret), Issuer: base.String(), Audience: base.String(),
		OnUserDeleted: func(userID string) { apiSrv.ForgetUser(userID) }},
		st, kr, hasher, ratelimit.New(nil, 1000), identity.LogMailer{Log: log})
	apiStore := o.apiStore
	if apiStore == nil {
		apiStore = st
	}
	var chatStore chat.Store = apiStore
	if o.wrap != nil {
		chatStore = o.wrap(apiStore)
	}
	if o.answerer == nil {
		o.answerer = echoAnswerer{}
	}
	vopt := authn.Options{Issuer: base.String(), Audience: base.String()}
	if o.uncached {
		vopt.CacheSize = -1
	}
	verifier := authn.NewVerifier(authn.InProcess(kr), vopt)
	var guard api.Guard = verifier
	if o.guard != nil {
		guard = o.guard(verifier)
	}
	var owners *insights.Service
	if !o.noInsights {
		owners = insights.New(apiStore, insights.Options{AdminEmails: o.owners, Analyze: retrieval.Analyze})
	}
	apiSrv = api.New(api.Options{ChatRule: o.agentRule, MaxAnswers: o.maxAnswers, Insights: owners, SharedCounts: o.shared, AnswerSlots: o.slots}, chat.New(chatStore, o.answerer, chat.Options{Budget: o.budget, Quota: o.quota}), apiStore, guard, ratelimit.New(nil, 1000))
	if o.server != nil {
		o.server(apiSrv)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", id.Handler())
	mux.Handle("/api/", apiSrv.Handler())
	// The same middleware as lectern serve: each wraps the ResponseWriter,
	// which streaming must see through.
	ts.Config.Handler = httpx.Chain(mux, httpx.RequestID(log), httpx.AccessLog(), httpx.Recover(), httpx.SecurityHeaders(false), httpx.LimitBody(1<<20))
	ts.Start()
	t.Cleanup(ts.Close)
	return &env{t: t, url: ts.URL, idStore: st, apiStore: apiStore}
}

// echoAnswerer answers every question by repeating it, citing nothing: the
// API tests are about storage, scoping and the wire contract, not answers.
type echoAnswerer struct{}

func (echoAnswerer) Answer(_ context.Context, q chat.Question, emit func(chat.Event) error) (chat.Reply, error) {
	agent := q.Agent
	if agent == chat.AgentTriage {
		agent = chat.AgentRAG
	}
	r := chat.Reply{Text: "You asked: " + q.Query, Sources: []chat.Source{}, Agent: agent}
	if emit != nil {
		if err := emit(chat.Event{Sources: r.Sources, Agent: agent}); err != nil {
			return r, err
		}
		if err := emit(chat.Event{Delta: r.Text}); err != nil {
			return r, err
		}
	}
	return r, nil
}

type user struct {
	e      *env
	id     string
	token  string
	cookie string // the identity service's session cookie
}

var emails struct {
	sync.Mutex
	n int
}

// newUser signs up through the identity service and fetches a JWT.
func (e *env) newUser() *user {
	e.t.Helper()
	emails.Lock()
	emails.n++
	email := fmt.Sprintf("reader%d@example.com", emails.n)
	emails.Unlock()
	return e.signUp(email)
}

// signUp signs up with email through the identity service and fetches a
// JWT.
func (e *env) signUp(email string) *user {
	e.t.Helper()
	body := fmt.Sprintf(`{"name":"Reader","email":%q,"password":"a long enough password"}`, email)
	res, err := http.Post(e.url+"/api/auth/sign-up/email", "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	var su struct {
		User struct{ ID string }
	}
	json.NewDecoder(res.Body).Decode(&su)
	res.Body.Close()
	cookie := res.Header.Get("Set-Cookie")
	cookie = cookie[:strings.IndexByte(cookie, ';')]
	req, _ := http.NewRequest("GET", e.url+"/api/auth/token", nil)
	req.Header.Set("Cookie", cookie)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if su.User.ID == "" || tok.Token == "" {
		e.t.Fatalf("sign-up or token failed: %d", res.StatusCode)
	}
	return &user{e: e, id: su.User.ID, token: tok.Token, cookie: cookie}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
}

// do sends a request with the user's bearer token. It is safe to call from
// several goroutines; failures are reported, not fatal, so it can.
func (u *user) do(method, path string, body any, header ...string) response {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, u.e.url+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u.token != "" {
		req.Header.Set("Authorization", "Bearer "+u.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		u.e.t.Error(err)
		return response{}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

type runResponse struct {
	Message   string
	Sources   []map[string]any
	AgentUsed string `json:"agent_used"`
	Timestamp string
	SessionID string `json:"session_id"`
	MessageID string `json:"message_id"`
}

// run asks a question; it may be called from several goroutines.
func (u *user) run(t testing.TB, sessionID, query string) runResponse {
	t.Helper()
	r := u.do("POST", "/api/agents/run", map[string]any{"agent_type": "rag", "query": query, "session_id": sessionID})
	var out runResponse
	if r.status != 200 {
		t.Errorf("run: %d %s", r.status, r.body) // Errorf: callers run this in goroutines
		return out
	}
	json.Unmarshal(r.body, &out)
	return out
}

type conversation struct {
	ID           string
	UserID       string `json:"user_id"`
	Title        string
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
	MessageCount int64  `json:"message_count"`
}

type message struct {
	ID             string
	ConversationID string `json:"conversation_id"`
	UserID         string `json:"user_id"`
	Seq            int64
	Role           string
	Content        string
	Sources        json.RawMessage
	AgentType      *string `json:"agent_type"`
	ParentID       *string `json:"parent_id"`
	Timestamp      string
}

// conversations lists every conversation of u, page by page.
func (u *user) conversations(t testing.TB, pageSize int) []conversation {
	t.Helper()
	var all []conversation
	cursor := ""
	for {
		r := u.do("GET", fmt.Sprintf("/api/conversations?limit=%d&cursor=%s", pageSize, cursor), nil)
		if r.status != 200 {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		var page struct {
			Conversations []conversation
			NextCursor    *string `json:"next_cursor"`
		}
		r.decode(t, &page)
		all = append(all, page.Conversations...)
		if page.NextCursor == nil {
			return all
		}
		cursor = *page.NextCursor
	}
}

func (u *user) messages(t testing.TB, convID string, pageSize int) []message {
	t.Helper()
	var all []message
	cursor := ""
	for {
		r := u.do("GET", fmt.Sprintf("/api/conversations/%s/messages?limit=%d&cursor=%s", convID, pageSize, cursor), nil)
		if r.status != 200 {
			t.Fatalf("messages: %d %s", r.status, r.body)
		}
		var page struct {
			Messages   []message
			NextCursor *string `json:"next_cursor"`
		}
		r.decode(t, &page)
		all = append(all, page.Messages...)
		if page.NextCursor == nil {
			return all
		}
		cursor = *page.NextCursor
	}
}

func forEachEngine(t *testing.T, f func(t *testing.T, st store.Store)) { testdb.ForEach(t, f) }

func testdbSQLite(t testing.TB) store.Store { return testdb.Engines()[0].Open(t) }

func ratelimitRule(n int) ratelimit.Rule { return ratelimit.Rule{Max: n, Window: time.Minute} }

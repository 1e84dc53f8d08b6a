package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/ratelimit"
	"github.com/lectern/lectern/internal/store/postgres"
	"github.com/lectern/lectern/internal/store/testdb"
)

// TestSharedLimitsAcrossReplicas runs two API servers on one PostgreSQL
// database, as replicas behind a load balancer: a reader's questions are
// counted once whichever answers, and the answers written at once are
// bounded across both.
func TestSharedLimitsAcrossReplicas(t *testing.T) {
	var pg *postgres.Store
	for _, e := range testdb.Engines() {
		if e.Name == "postgres" {
			pg, _ = e.Open(t).(*postgres.Store)
		}
	}
	if pg == nil {
		t.Fatal("the shared limits need the PostgreSQL engine")
	}

	t.Run("a reader's question limit", func(t *testing.T) {
		rule := ratelimit.Rule{Max: 3, Window: time.Minute}
		for _, tc := range []struct {
			name   string
			shared ratelimit.Counts
			want   []int
		}{
			{"shared: the 4th question is refused on either replica", pg.Limits(), []int{200, 200, 200, 429}},
			{"each replica alone: each allows 3", nil, []int{200, 200, 200, 200}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := newEnv(t, pg, options{agentRule: rule, shared: tc.shared})
				b := newEnv(t, pg, options{agentRule: rule, shared: tc.shared})
				u := a.newUser()
				onB := b.sameReader(u)
				for i, want := range tc.want {
					on := u
					if i%2 == 1 {
						on = onB
					}
					if r := on.do("POST", "/api/agents/run", map[string]any{"query": "a question"}); r.status != want {
						t.Fatalf("question %d: %d %s; want %d", i+1, r.status, r.body, want)
					}
				}
			})
		}
	})

	t.Run("answers written at once", func(t *testing.T) {
		held := heldAnswerer{started: make(chan struct{}, 2), release: make(chan struct{})}
		a := newEnv(t, pg, options{answerer: held, maxAnswers: 1, slots: pg.Limits()})
		b := newEnv(t, pg, options{answerer: held, maxAnswers: 1, slots: pg.Limits()})
		done := make(chan int, 1)
		u := a.newUser()
		go func() { done <- u.do("POST", "/api/agents/run", map[string]any{"query": "held"}).status }()
		<-held.started
		v := b.newUser()
		if r := v.do("POST", "/api/agents/run", map[string]any{"query": "one too many"}); r.status != 503 {
			t.Errorf("an answer on the other replica while the one place is taken: %d %s; want 503", r.status, r.body)
		}
		close(held.release)
		if s := <-done; s != 200 {
			t.Errorf("the held answer: %d", s)
		}
		if r := v.do("POST", "/api/agents/run", map[string]any{"query": "now"}); r.status != 200 {
			t.Errorf("once the place is given back: %d %s", r.status, r.body)
		}
	})
}

// sameReader is u through e: the same session, and a token e's identity
// service signs for it.
func (e *env) sameReader(u *user) *user {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.url+"/api/auth/token", nil)
	req.Header.Set("Cookie", u.cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.Token == "" {
		e.t.Fatalf("token through the other replica: %d %v", res.StatusCode, err)
	}
	return &user{e: e, id: u.id, token: tok.Token, cookie: u.cookie}
}

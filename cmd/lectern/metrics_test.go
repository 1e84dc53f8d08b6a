package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lectern/lectern/internal/metrics"
	"github.com/lectern/lectern/internal/store/pgtest"
)

// keyedModel is an OpenAI-compatible chat-completions server that streams a
// fixed answer and reports usage. It refuses requests without the API key.
func keyedModel(t *testing.T, apiKey string) (baseURL string, calls *atomic.Int64) {
	t.Helper()
	calls = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+apiKey {
			http.Error(w, `{"error":{"message":"unauthorized"}}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		if body, _ := io.ReadAll(r.Body); strings.Contains(string(body), "into one search query") {
			// A query rewrite before the search: answered with a query,
			// and not counted among the answers.
			io.WriteString(w, `data: {"id":"r1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"how often to water tomatoes"},"finish_reason":"stop"}]}`+"\n\ndata: [DONE]\n\n")
			return
		}
		calls.Add(1)
		for _, piece := range []string{"Water them ", "deeply twice a week [1]."} {
			b, _ := json.Marshal(piece)
			fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%s},\"finish_reason\":null}]}\n\n", b)
		}
		io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\n")
		io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":9,"total_tokens":129}}`+"\n\n")
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1", calls
}

// metricsAddrIn returns the address the "metrics listening" log line names.
func metricsAddrIn(t *testing.T, logs *syncBuffer) string {
	t.Helper()
	m := regexp.MustCompile(`msg="metrics listening" addr=(\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no metrics address in the log:\n%s", logs)
	}
	return m[1]
}

// scrapeMetrics returns the text exposition served at addr.
func scrapeMetrics(t *testing.T, addr string) string {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %s", res.StatusCode, b)
	}
	return string(b)
}

// sampleValue returns the value of the series of metric name whose labels
// include every pair of labels, summed over the series that match (so
// {status="401"} adds up every method and route), and whether any did.
func sampleValue(exposition, name string, labels map[string]string) (float64, bool) {
	var sum float64
	found := false
	for _, line := range strings.Split(exposition, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		series, value := line[:sp], line[sp+1:]
		metric, rest, _ := strings.Cut(series, "{")
		if metric != name {
			continue
		}
		match := true
		for k, v := range labels {
			if !strings.Contains(rest, k+"="+strconv.Quote(v)) {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		sum += f
		found = true
	}
	return sum, found
}

func TestMetricsEndToEnd(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			const apiKey = "sk-test-metrics-model-key"
			modelURL, modelCalls := keyedModel(t, apiKey)
			env := map[string]string{
				"LECTERN_SECRET":          strings.Repeat("m", 40),
				"LECTERN_METRICS_ADDR":    "127.0.0.1:0",
				"LECTERN_BOOK":            "../../internal/library/testdata/book",
				"LECTERN_CHAT_RATE_LIMIT": "2/1h",
				"LECTERN_LLM_BASE_URL":    modelURL,
				"LECTERN_LLM_MODEL":       "fake-model",
				"LECTERN_LLM_API_KEY":     apiKey,
			}
			if engine == "postgres" {
				env["LECTERN_DATABASE_URL"] = pgtest.NewDatabase(t)
			}
			base, logs, stop := startServe(t, env)
			maddr := metricsAddrIn(t, logs)

			get := func(t *testing.T, url, bearer string) int {
				t.Helper()
				req, _ := http.NewRequest("GET", url, nil)
				if bearer != "" {
					req.Header.Set("Authorization", bearer)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				return res.StatusCode
			}

			// Traffic: refused and accepted API calls, a failed and a
			// rate-limited sign-in, and questions up to the chat limit.
			for _, bearer := range []string{"", "Bearer not-a-jwt"} {
				if code := get(t, base+"/api/conversations", bearer); code != 401 {
					t.Fatalf("GET /api/conversations with %q: %d, want 401", bearer, code)
				}
			}
			token := signUpForToken(t, base, "M", "metrics@example.com")
			bearer := "Bearer " + token
			if code := get(t, base+"/api/conversations", bearer); code != 200 {
				t.Fatalf("GET /api/conversations with a token: %d", code)
			}
			for i, want := range []int{200, 200, 429} {
				res, body := post(t, base+"/api/agents/run", `{"agent_type":"rag","query":"how often should I water my tomato plants"}`, "Authorization", bearer)
				if res.StatusCode != want {
					t.Fatalf("question %d: %d %s, want %d", i+1, res.StatusCode, body, want)
				}
			}
			if modelCalls.Load() != 2 {
				t.Fatalf("the model answered %d questions, want 2", modelCalls.Load())
			}
			for i, want := range []int{401, 401, 401, 429} {
				res, body := post(t, base+"/api/auth/sign-in/email", `{"email":"metrics@example.com","password":"not the password"}`)
				if res.StatusCode != want {
					t.Fatalf("sign-in %d: %d %s, want %d", i+1, res.StatusCode, body, want)
				}
			}

			t.Run("the public address does not serve metrics", func(t *testing.T) {
				res, err := http.Get(base + "/metrics")
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusNotFound || strings.Contains(string(b), "lectern_") || strings.Contains(string(b), "go_goroutines") {
					t.Fatalf("GET /metrics on the public address: %d %.200s", res.StatusCode, b)
				}
			})

			t.Run("the metrics address serves only /metrics", func(t *testing.T) {
				for _, path := range []string{"/", "/healthz", "/api/conversations"} {
					res, err := http.Get("http://" + maddr + path)
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					if res.StatusCode != http.StatusNotFound {
						t.Errorf("GET %s on the metrics address: %d, want 404", path, res.StatusCode)
					}
				}
			})

			out := scrapeMetrics(t, maddr)
			l := func(kv ...string) map[string]string {
				m := map[string]string{}
				for i := 0; i+1 < len(kv); i += 2 {
					m[kv[i]] = kv[i+1]
				}
				return m
			}
			// minSample is a series that must be present with at least min.
			type minSample struct {
				what, name string
				labels     map[string]string
				min        float64
			}
			atLeast := []minSample{
				{"refused API calls are counted by route and status", "lectern_http_requests_total", l("route", "GET /api/conversations", "method", "GET", "status", "401"), 2},
				{"accepted API calls are counted", "lectern_http_requests_total", l("route", "GET /api/conversations", "status", "200"), 1},
				{"sign-ups are counted by route", "lectern_http_requests_total", l("route", "POST /api/auth/sign-up/email", "method", "POST", "status", "200"), 1},
				{"the public /metrics is counted as a 404", "lectern_http_requests_total", l("method", "GET", "status", "404"), 1},
				{"request latency is observed by route", "lectern_http_request_duration_seconds_count", l("route", "POST /api/agents/run"), 3},
				{"a missing token is an auth failure", "lectern_auth_failures_total", l("reason", "missing"), 1},
				{"a garbage token is a malformed one", "lectern_auth_failures_total", l("reason", "malformed"), 1},
				{"wrong passwords are failed sign-ins", "lectern_sign_in_failures_total", l("reason", "invalid_credentials"), 3},
				{"the fourth sign-in is limited per IP", "lectern_rate_limited_total", l("scope", "auth_ip"), 1},
				{"the third question is limited per user", "lectern_rate_limited_total", l("scope", "chat"), 1},
				{"searches are timed", "lectern_search_duration_seconds_count", l("mode", "bm25"), 2},
				{"answers are timed by agent and model", "lectern_answer_duration_seconds_count", l("agent", "rag", "model", "fake-model", "outcome", "ok"), 2},
				{"the first token of each answer is timed", "lectern_answer_first_token_seconds_count", l("agent", "rag", "model", "fake-model"), 2},
				{"prompt tokens are counted", "lectern_model_tokens_total", l("model", "fake-model", "type", "prompt"), 240},
				{"completion tokens are counted", "lectern_model_tokens_total", l("model", "fake-model", "type", "completion"), 18},
				{"the Go collector is registered", "go_goroutines", nil, 1},
				{"the process collector is registered", "process_start_time_seconds", nil, 1},
			}
			if engine == "postgres" {
				atLeast = append(atLeast,
					minSample{"the pool size is reported", "lectern_pgxpool_max_conns", nil, 1},
					minSample{"pool acquires are counted", "lectern_pgxpool_acquires_total", nil, 1})
			} else {
				atLeast = append(atLeast,
					minSample{"the write pool's size is reported", "lectern_sql_max_open_conns", l("pool", "sqlite_write"), 1},
					minSample{"the read pool's size is reported", "lectern_sql_max_open_conns", l("pool", "sqlite_read"), 4})
			}
			for _, c := range atLeast {
				t.Run(c.what, func(t *testing.T) {
					v, ok := sampleValue(out, c.name, c.labels)
					if !ok || v < c.min {
						t.Errorf("%s%v = %v (present: %v), want at least %v", c.name, c.labels, v, ok, c.min)
					}
				})
			}
			t.Run("no label carries a path, address or token", func(t *testing.T) {
				for _, s := range []string{"metrics@example.com", token, "not-a-jwt", "127.0.0.1", "tomato"} {
					if strings.Contains(out, s) {
						t.Errorf("the exposition holds %q", s)
					}
				}
			})

			t.Run("the metrics server stops with the main one", func(t *testing.T) {
				if err := stop(); err != nil {
					t.Fatalf("run returned %v", err)
				}
				if res, err := http.Get("http://" + maddr + "/metrics"); err == nil {
					res.Body.Close()
					t.Fatalf("the metrics address still answers %d after stop", res.StatusCode)
				}
			})
		})
	}
}

func TestMetricsOffByDefault(t *testing.T) {
	base, logs, stop := startServe(t, map[string]string{"LECTERN_SECRET": strings.Repeat("m", 40)})
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the public address: %d, want 404", res.StatusCode)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "metrics listening") {
		t.Errorf("metrics served without LECTERN_METRICS_ADDR:\n%s", logs)
	}
}

// TestProfiles checks that runtime profiles are served only when asked for,
// and only on the metrics address.
func TestProfiles(t *testing.T) {
	status := func(t *testing.T, url string) int {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	for _, tc := range []struct {
		pprof string
		want  int
	}{{"off", http.StatusNotFound}, {"on", http.StatusOK}} {
		t.Run(tc.pprof, func(t *testing.T) {
			base, logs, _ := startServe(t, map[string]string{
				"LECTERN_SECRET":       strings.Repeat("m", 40),
				"LECTERN_METRICS_ADDR": "127.0.0.1:0",
				"LECTERN_PPROF":        tc.pprof,
			})
			maddr := metricsAddrIn(t, logs)
			if got := status(t, "http://"+maddr+"/debug/pprof/heap"); got != tc.want {
				t.Errorf("profiles on the metrics address: %d, want %d", got, tc.want)
			}
			if got := status(t, base+"/debug/pprof/heap"); got != http.StatusNotFound {
				t.Errorf("profiles on the public address: %d, want 404", got)
			}
		})
	}
}

// TestPoolStatsReachTheMetrics checks the translation of a real PostgreSQL
// pool's figures and of database/sql's into the metrics' own.
func TestPoolStatsReachTheMetrics(t *testing.T) {
	// The pool connects lazily, so no server is needed to read its stats.
	cfg, err := pgxpool.ParseConfig("postgres://lectern@127.0.0.1:1/lectern?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 7
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if got := pgxPoolStats(pool.Stat()); got != (metrics.PgxPoolStats{Max: 7}) {
		t.Errorf("an idle pool of 7: %+v", got)
	}
	got := sqlPoolStats(sql.DBStats{MaxOpenConnections: 4, OpenConnections: 3, InUse: 2, Idle: 1, WaitCount: 5,
		WaitDuration: time.Second, MaxIdleClosed: 6, MaxIdleTimeClosed: 7, MaxLifetimeClosed: 8})
	want := metrics.SQLPoolStats{MaxOpen: 4, Open: 3, InUse: 2, Idle: 1, Waits: 5, WaitTime: time.Second,
		MaxIdleClosed: 6, MaxIdleTimeClosed: 7, MaxLifetimeClosed: 8}
	if got != want {
		t.Errorf("sqlPoolStats = %+v, want %+v", got, want)
	}
}

package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.ObserveRequest("GET /x", "GET", 200, time.Millisecond)
	m.AuthFailed("missing")
	m.SignInFailed("invalid_credentials")
	m.RateLimited("chat")
	m.ObserveSearch("bm25", time.Millisecond)
	m.ObserveAnswer("rag", "extractive", "ok", time.Millisecond, time.Second)
	m.AddTokens("m", 1, 2)
	if err := m.RegisterSQLDB("x", func() SQLPoolStats { return SQLPoolStats{} }); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterPgxPool(nil); err != nil {
		t.Fatal(err)
	}
}

func TestObserveRequestBoundsItsLabels(t *testing.T) {
	for _, tc := range []struct {
		name           string
		route, method  string
		status         int
		wantRoute      string
		wantMethod     string
		wantStatusText string
	}{
		{"a matched route keeps its pattern", "GET /api/conversations", "GET", 401, "GET /api/conversations", "GET", "401"},
		{"no route is counted as unmatched", "", "GET", 404, "unmatched", "GET", "404"},
		{"a made-up method is counted as other", "unmatched", "BREW", 404, "unmatched", "other", "404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			m.ObserveRequest(tc.route, tc.method, tc.status, 3*time.Millisecond)
			if got := testutil.ToFloat64(m.httpRequests.WithLabelValues(tc.wantRoute, tc.wantMethod, tc.wantStatusText)); got != 1 {
				t.Errorf("requests{%s,%s,%s} = %v, want 1", tc.wantRoute, tc.wantMethod, tc.wantStatusText, got)
			}
			if n := testutil.CollectAndCount(m.httpRequests); n != 1 {
				t.Errorf("%d request series, want 1", n)
			}
			if n := testutil.CollectAndCount(m.httpDuration); n != 1 {
				t.Errorf("%d duration series, want 1", n)
			}
		})
	}
}

func TestHandlerServesEveryMetricFromThePrivateRegistry(t *testing.T) {
	m := New()
	m.ObserveRequest("POST /api/agents/run", "POST", 200, 20*time.Millisecond)
	m.AuthFailed("expired")
	m.SignInFailed("invalid_credentials")
	m.RateLimited("auth_ip")
	m.ObserveSearch("hybrid", time.Millisecond)
	m.ObserveAnswer("rag", "llama3", "ok", 200*time.Millisecond, 2*time.Second)
	m.ObserveAnswer("summarizer", "llama3", "error", 0, time.Second)
	m.AddTokens("llama3", 120, 30)
	if err := m.RegisterSQLDB("sqlite_read", func() SQLPoolStats { return SQLPoolStats{MaxOpen: 4, Open: 2, InUse: 1, Idle: 1} }); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(m.Handler(nil))
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	out := string(body)
	for _, want := range []string{
		`lectern_http_requests_total{method="POST",route="POST /api/agents/run",status="200"} 1`,
		`lectern_http_request_duration_seconds_bucket{route="POST /api/agents/run",le="0.025"} 1`,
		`lectern_auth_failures_total{reason="expired"} 1`,
		`lectern_sign_in_failures_total{reason="invalid_credentials"} 1`,
		`lectern_rate_limited_total{scope="auth_ip"} 1`,
		`lectern_search_duration_seconds_count{mode="hybrid"} 1`,
		`lectern_answer_first_token_seconds_count{agent="rag",model="llama3"} 1`,
		`lectern_answer_duration_seconds_count{agent="rag",model="llama3",outcome="ok"} 1`,
		`lectern_answer_duration_seconds_count{agent="summarizer",model="llama3",outcome="error"} 1`,
		`lectern_model_tokens_total{model="llama3",type="prompt"} 120`,
		`lectern_model_tokens_total{model="llama3",type="completion"} 30`,
		`lectern_sql_max_open_conns{pool="sqlite_read"} 4`,
		`lectern_sql_in_use_conns{pool="sqlite_read"} 1`,
		"go_goroutines ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, `lectern_answer_first_token_seconds_count{agent="summarizer"`) {
		t.Error("an answer without text recorded a time to first token")
	}
}

func TestMetricsFollowPrometheusConventions(t *testing.T) {
	m := New()
	m.ObserveRequest("GET /healthz", "GET", 200, time.Millisecond)
	m.AuthFailed("missing")
	m.SignInFailed("invalid_credentials")
	m.RateLimited("chat")
	m.ObserveSearch("bm25", time.Millisecond)
	m.ObserveAnswer("rag", "extractive", "ok", time.Millisecond, time.Millisecond)
	m.AddTokens("m", 1, 1)
	if err := m.RegisterSQLDB("sqlite_write", func() SQLPoolStats { return SQLPoolStats{} }); err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "lectern_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}

func TestSQLCollectorReadsTheStatsAtEachScrape(t *testing.T) {
	m := New()
	stats := SQLPoolStats{MaxOpen: 1, Open: 1, InUse: 1, Waits: 3, WaitTime: 1500 * time.Millisecond, MaxIdleClosed: 2}
	if err := m.RegisterSQLDB("sqlite_write", func() SQLPoolStats { return stats }); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP lectern_sql_waits_total Times a query waited for a database/sql connection because none was free, by pool.
# TYPE lectern_sql_waits_total counter
lectern_sql_waits_total{pool="sqlite_write"} 3
# HELP lectern_sql_wait_seconds_total Total time spent waiting for a database/sql connection, by pool.
# TYPE lectern_sql_wait_seconds_total counter
lectern_sql_wait_seconds_total{pool="sqlite_write"} 1.5
# HELP lectern_sql_closed_conns_total database/sql connections closed by the pool's limits, by pool and limit (max_idle, max_idle_time, max_lifetime).
# TYPE lectern_sql_closed_conns_total counter
lectern_sql_closed_conns_total{limit="max_idle",pool="sqlite_write"} 2
lectern_sql_closed_conns_total{limit="max_idle_time",pool="sqlite_write"} 0
lectern_sql_closed_conns_total{limit="max_lifetime",pool="sqlite_write"} 0
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"lectern_sql_waits_total", "lectern_sql_wait_seconds_total", "lectern_sql_closed_conns_total"); err != nil {
		t.Fatal(err)
	}
	stats.Waits = 4
	if got := scrape(t, m); !strings.Contains(got, `lectern_sql_waits_total{pool="sqlite_write"} 4`) {
		t.Errorf("the second scrape did not read the stats again:\n%s", got)
	}
	if err := m.RegisterSQLDB("sqlite_write", func() SQLPoolStats { return stats }); err == nil {
		t.Error("the same pool was registered twice")
	}
}

func TestPgxPoolCollectorReadsThePoolStat(t *testing.T) {
	m := New()
	if err := m.RegisterPgxPool(func() PgxPoolStats {
		return PgxPoolStats{Acquired: 2, Idle: 3, Total: 5, Max: 7, Acquires: 11, AcquireTime: 2 * time.Second,
			EmptyAcquires: 4, EmptyAcquireWait: 500 * time.Millisecond, Canceled: 1}
	}); err != nil {
		t.Fatal(err)
	}
	out := scrape(t, m)
	for _, want := range []string{
		"lectern_pgxpool_max_conns 7",
		"lectern_pgxpool_acquired_conns 2",
		"lectern_pgxpool_idle_conns 3",
		"lectern_pgxpool_total_conns 5",
		"lectern_pgxpool_acquires_total 11",
		"lectern_pgxpool_acquire_duration_seconds_total 2",
		"lectern_pgxpool_empty_acquires_total 4",
		"lectern_pgxpool_empty_acquire_wait_seconds_total 0.5",
		"lectern_pgxpool_canceled_acquires_total 1",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

// scrape returns the registry in the text exposition format.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

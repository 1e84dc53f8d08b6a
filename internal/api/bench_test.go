package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lectern/lectern/books"
	"github.com/lectern/lectern/internal/answer"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/llm"
	"github.com/lectern/lectern/internal/quality"

	"github.com/lectern/lectern/internal/api"
	"github.com/lectern/lectern/internal/authn"
	"github.com/lectern/lectern/internal/store/testdb"
)

// memoGuard verifies each distinct Authorization header once and afterwards
// injects the remembered principal: the API without the cost of the guard,
// to show the guard's share of a request.
type memoGuard struct {
	v    *authn.Verifier
	seen sync.Map // Authorization header -> authn.Principal
}

func (g *memoGuard) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		p, ok := g.seen.Load(h)
		if !ok {
			pr, err := g.v.Verify(r.Context(), h)
			if err != nil {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			g.seen.Store(h, pr)
			p = pr
		}
		next.ServeHTTP(w, r.WithContext(authn.WithPrincipal(r.Context(), p.(authn.Principal))))
	})
}

// BenchmarkListing measures GET /api/conversations and GET
// /api/conversations/{id}/messages over loopback HTTP with 100 concurrent
// clients (25 readers, 5 conversations of 10 turns each): with the guard as
// configured by default (verified tokens cached), with every token verified
// in full, and with memoGuard. Run it with
//
//	LECTERN_TEST_POSTGRES=require go test -run '^$' -bench Listing -benchtime=20000x ./internal/api/
func BenchmarkListing(b *testing.B) {
	const (
		clients       = 100
		readers       = 25
		conversations = 5
		turns         = 10
	)
	for _, engine := range testdb.Engines() {
		st := engine.Open(b)
		for _, mode := range []string{"guard", "guard-uncached", "no-guard"} {
			o := options{}
			switch mode {
			case "guard-uncached":
				o.uncached = true
			case "no-guard":
				o.guard = func(v *authn.Verifier) api.Guard { return &memoGuard{v: v} }
			}
			e := newEnv(b, st, o)
			var users []*user
			var convs [][]string
			for range readers {
				u := e.newUser()
				users = append(users, u)
				var ids []string
				for range conversations {
					id := ""
					for i := range turns {
						id = u.run(b, id, fmt.Sprintf("question %d", i)).SessionID
					}
					ids = append(ids, id)
				}
				convs = append(convs, ids)
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
			for _, what := range []string{"conversations", "messages"} {
				b.Run(fmt.Sprintf("%s/%s/%s", engine.Name, mode, what), func(b *testing.B) {
					var next atomic.Int64
					b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
					b.ResetTimer()
					start := time.Now()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							n := int(next.Add(1))
							u := users[n%readers]
							path := "/api/conversations?limit=20"
							if what == "messages" {
								path = "/api/conversations/" + convs[n%readers][n%conversations] + "/messages?limit=50"
							}
							req, _ := http.NewRequest("GET", e.url+path, nil)
							req.Header.Set("Authorization", "Bearer "+u.token)
							res, err := client.Do(req)
							if err != nil {
								b.Error(err)
								return
							}
							io.Copy(io.Discard, res.Body)
							res.Body.Close()
							if res.StatusCode != 200 {
								b.Errorf("%s: %d", path, res.StatusCode)
								return
							}
						}
					})
					b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
				})
			}
			client.CloseIdleConnections()
		}
	}
}

// percentile returns the q-quantile of sorted durations, in microseconds.
func percentile(sorted []time.Duration, q float64) float64 {
	return float64(sorted[min(len(sorted)-1, int(float64(len(sorted))*q))].Microseconds())
}

// BenchmarkAgentRun measures POST /api/agents/run end to end over loopback
// HTTP on PostgreSQL with the extractive answerer over the demo book: the
// guard, storing the question, the search, composing the answer, storing
// it. Each request is a new conversation with a question of the demo
// book's evaluation set, from 1 or 50 concurrent readers.
//
//	LECTERN_TEST_POSTGRES=require go test -run '^$' -bench AgentRun -benchtime=2000x ./internal/api/
func BenchmarkAgentRun(b *testing.B) {
	st := testdb.Engines()[1].Open(b)
	lib := library.New(st, library.Options{})
	if _, err := lib.Ingest(context.Background(), library.Source{FS: books.Demo(), Name: books.DemoName}, library.IngestOptions{}); err != nil {
		b.Fatal(err)
	}
	qs, err := quality.ReadFile("../../books/demo.qa.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	e := newEnv(b, st, options{answerer: answer.New(lib, nil, answer.Options{})})
	const readers = 50
	users := make([]*user, readers)
	for i := range users {
		users[i] = e.newUser()
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: readers}}
	for _, conc := range []int{1, 50} {
		b.Run(fmt.Sprintf("readers=%d", conc), func(b *testing.B) {
			var next atomic.Int64
			lat := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := range conc {
				wg.Add(1)
				go func() {
					defer wg.Done()
					u := users[w]
					for {
						n := int(next.Add(1)) - 1
						if n >= b.N {
							return
						}
						body := fmt.Sprintf(`{"agent_type":"rag","query":%q}`, qs[n%len(qs)].Question)
						req, _ := http.NewRequest("POST", e.url+"/api/agents/run", strings.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", "Bearer "+u.token)
						start := time.Now()
						res, err := client.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, res.Body)
						res.Body.Close()
						lat[n] = time.Since(start)
						if res.StatusCode != 200 {
							b.Errorf("status %d", res.StatusCode)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(percentile(lat, 0.50), "p50-µs")
			b.ReportMetric(percentile(lat, 0.99), "p99-µs")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkStreamFirstByte measures what Lectern adds before the answer's
// first byte reaches the reader when the model itself is instant: POST
// /api/agents/stream to the first "delta" event, with an OpenAI-compatible
// server on loopback that answers at once (and to the "start" event, which
// comes as soon as the question is stored). SQLite.
//
//	go test -run '^$' -bench StreamFirstByte -benchtime=2000x ./internal/api/
func BenchmarkStreamFirstByte(b *testing.B) {
	st := testdb.Engines()[0].Open(b)
	lib := library.New(st, library.Options{})
	if _, err := lib.Ingest(context.Background(), library.Source{FS: books.Demo(), Name: books.DemoName}, library.IngestOptions{}); err != nil {
		b.Fatal(err)
	}
	instant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"choices":[{"index":0,"delta":{"content":"An answer [1]."}}]}`+"\n\n"+
			`data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\ndata: [DONE]\n\n")
	}))
	b.Cleanup(instant.Close)
	model := llm.New(instant.URL+"/v1", "instant", "", llm.Options{})
	e := newEnv(b, st, options{answerer: answer.New(lib, model, answer.Options{})})
	u := e.newUser()
	var toStart, toDelta []time.Duration
	for i := range b.N {
		body := fmt.Sprintf(`{"agent_type":"rag","query":"what is a leap second? (%d)"}`, i)
		req, _ := http.NewRequest("POST", e.url+"/api/agents/stream", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+u.token)
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		rd := bufio.NewReader(res.Body)
		for {
			l, err := rd.ReadString('\n')
			if err != nil {
				b.Fatal(err)
			}
			if l == "event: start\n" {
				toStart = append(toStart, time.Since(start))
			}
			if l == "event: delta\n" {
				toDelta = append(toDelta, time.Since(start))
				break
			}
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	slices.Sort(toStart)
	slices.Sort(toDelta)
	b.ReportMetric(percentile(toStart, 0.5), "start-p50-µs")
	b.ReportMetric(percentile(toDelta, 0.5), "first-delta-p50-µs")
	b.ReportMetric(percentile(toDelta, 0.99), "first-delta-p99-µs")
}

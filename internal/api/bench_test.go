package api_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

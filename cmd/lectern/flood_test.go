package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clientFrom returns an HTTP client whose connections leave from ip, a
// loopback address of its own (127.0.0.0/8 is all loopback on Linux).
func clientFrom(t *testing.T, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: 30 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// heapBytes reads the process's heap in use from its metrics.
func heapBytes(t *testing.T, metricsURL string) float64 {
	t.Helper()
	res, err := http.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatal("no go_memstats_heap_inuse_bytes in the metrics")
	return 0
}

// TestFloodFromOneAddressLocksOutNobody replays the flood an audit sent:
// one address with no account sends 20,000 requests, each with a made-up
// reset token in a 30 KB path (keys of their own in the rate limiter
// before, which filled it, refused everyone new, and took the heap past a
// gigabyte). During and after it, a sign-in from another address and a
// question from an existing reader succeed, and the heap stays under 300 MB.
// The flood is bounded in count and stays on loopback.
func TestFloodFromOneAddressLocksOutNobody(t *testing.T) {
	env := faultEnv(t)
	delete(env, "LECTERN_AUTH_RATE_LIMIT") // the default limits, as deployed
	delete(env, "LECTERN_CHAT_RATE_LIMIT")
	metricsAddr := freeAddr(t)
	env["LECTERN_METRICS_ADDR"] = metricsAddr
	p := startProc(t, "flood", "serve", env)

	reader := faultSignUp(t, clientFrom(t, "127.0.0.4"), p.base, newEmail("flood-reader"))
	owner := faultSignUp(t, clientFrom(t, "127.0.0.5"), p.base, newEmail("flood-owner"))

	const requests, workers = 20_000, 8
	flood := clientFrom(t, "127.0.0.2")
	junk := strings.Repeat("x", 30<<10)
	var next, limited, failed atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > requests {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/auth/reset-password/%d%s", p.base, i, junk), nil)
				res, err := flood.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				res.Body.Close()
				if res.StatusCode == http.StatusTooManyRequests {
					limited.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := limited.Load(); n < requests/2 {
		t.Errorf("only %d of %d flood requests were limited", n, requests)
	}

	r := doHTTP(clientFrom(t, "127.0.0.3"), "POST", p.base+"/api/auth/sign-in/email", "",
		`{"email":"`+owner.email+`","password":"a long enough password"}`)
	if r.status != 200 {
		t.Errorf("a sign-in from another address after the flood: %s", r)
	}
	r = doHTTP(clientFrom(t, "127.0.0.4"), "POST", p.base+"/api/agents/run", reader.token, faultRunBody("what is a leap second?", ""))
	if r.status != 200 {
		t.Errorf("an existing reader's question after the flood: %s", r)
	}
	if heap := heapBytes(t, "http://"+metricsAddr+"/metrics"); heap > 300<<20 {
		t.Errorf("heap in use after the flood: %.0f MB, want under 300 MB", heap/(1<<20))
	}
	t.Logf("%d of %d flood requests limited, %d failed to send", limited.Load(), requests, failed.Load())
}

package embeddings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "sk-test-0123456789"

// embedServer is an OpenAI-compatible embeddings endpoint for tests. Each
// request is answered by the next entry of script (the last one repeats);
// "ok" answers properly, with the embedding of text i of the batch being
// [len(text), i, 1] and the items in reverse order to test reordering.
type embedServer struct {
	t      *testing.T
	script []string

	mu       sync.Mutex
	requests []embeddingRequest
	auth     []string
}

func (s *embedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
		s.t.Errorf("request %s %s, want POST /v1/embeddings", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		s.t.Errorf("Content-Type %q", ct)
	}
	var req embeddingRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.t.Errorf("decoding request: %v", err)
	}
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, req)
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.mu.Unlock()

	step := s.script[min(n, len(s.script)-1)]
	switch step {
	case "ok":
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var resp struct {
			Object string `json:"object"`
			Data   []item `json:"data"`
			Model  string `json:"model"`
		}
		resp.Object, resp.Model = "list", req.Model
		for i := len(req.Input) - 1; i >= 0; i-- {
			resp.Data = append(resp.Data, item{"embedding", i, []float32{float32(len(req.Input[i])), float32(i), 1}})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	case "429":
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"message":"rate limited","type":"requests"}}`)
	case "429-long":
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	case "500":
		w.WriteHeader(http.StatusInternalServerError)
		// A careless proxy echoing the request's credentials.
		fmt.Fprint(w, `{"error":"backend crashed; header was Bearer `+testKey+`"}`)
	case "400":
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"message":"model not found"}}`)
	case "hang":
		<-r.Context().Done()
	default: // a literal body
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, step)
	}
}

func (s *embedServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// seen returns the requests and Authorization headers received so far.
func (s *embedServer) seen() ([]embeddingRequest, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]embeddingRequest(nil), s.requests...), append([]string(nil), s.auth...)
}

// newTestEmbedder starts a server answering by script and an embedder for
// it that records its waits instead of sleeping.
func newTestEmbedder(t *testing.T, key string, opt Options, script ...string) (*Client, *embedServer, *[]time.Duration) {
	t.Helper()
	srv := &embedServer{t: t, script: script}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := New(ts.URL+"/v1/", "nomic-embed-text", key, opt)
	var waits []time.Duration
	e.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	return e, srv, &waits
}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strings.Repeat("x", i+1)
	}
	return out
}

func TestEmbedBatchesAndOrders(t *testing.T) {
	e, srv, _ := newTestEmbedder(t, testKey, Options{BatchSize: 64, Dimensions: 3}, "ok")
	in := texts(150)
	got, err := e.Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("%d embeddings for %d texts", len(got), len(in))
	}
	for i, v := range got {
		// The server puts the text's length first: each vector must be
		// its own text's, whatever order the server listed them in.
		if int(v[0]) != len(in[i]) {
			t.Fatalf("embedding %d belongs to a text of length %v, want %d", i, v[0], len(in[i]))
		}
	}
	if n := srv.count(); n != 3 {
		t.Errorf("%d requests for 150 texts in batches of 64, want 3", n)
	}
	reqs, _ := srv.seen()
	for i, req := range reqs {
		if req.Model != "nomic-embed-text" || req.Dimensions != 3 {
			t.Errorf("request %d: model %q dimensions %d", i, req.Model, req.Dimensions)
		}
		if want := []int{64, 64, 22}[i]; len(req.Input) != want {
			t.Errorf("request %d has %d inputs, want %d", i, len(req.Input), want)
		}
	}
}

func TestEmbedAuthorization(t *testing.T) {
	tests := []struct {
		name string
		key  string
		want string
	}{
		{"a key is sent as a bearer token", testKey, "Bearer " + testKey},
		{"no key sends no Authorization header", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, srv, _ := newTestEmbedder(t, tt.key, Options{}, "ok")
			if _, err := e.Embed(context.Background(), []string{"a"}); err != nil {
				t.Fatal(err)
			}
			if _, auth := srv.seen(); auth[0] != tt.want {
				t.Errorf("Authorization %q, want %q", auth[0], tt.want)
			}
		})
	}
}

func TestEmbedRetries(t *testing.T) {
	t.Run("a 429 is retried after the Retry-After wait", func(t *testing.T) {
		e, srv, waits := newTestEmbedder(t, testKey, Options{}, "429", "ok")
		got, err := e.Embed(context.Background(), []string{"abc"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0][0] != 3 {
			t.Errorf("got %v", got)
		}
		if srv.count() != 2 || len(*waits) != 1 || (*waits)[0] != 7*time.Second {
			t.Errorf("%d requests, waits %v; want 2 requests and one wait of 7s", srv.count(), *waits)
		}
	})
	t.Run("5xx errors are retried with growing backoff until the attempts run out", func(t *testing.T) {
		opt := Options{MaxAttempts: 4, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 250 * time.Millisecond}
		e, srv, waits := newTestEmbedder(t, testKey, opt, "500")
		_, err := e.Embed(context.Background(), []string{"abc"})
		var herr *HTTPError
		if !errors.As(err, &herr) || herr.StatusCode != 500 {
			t.Fatalf("error %v, want an HTTPError 500", err)
		}
		if srv.count() != 4 {
			t.Errorf("%d requests, want 4", srv.count())
		}
		bounds := [][2]time.Duration{{50, 100}, {100, 200}, {125, 250}} // jittered to half..all of 100, 200, 250 ms
		if len(*waits) != len(bounds) {
			t.Fatalf("waits %v, want %d", *waits, len(bounds))
		}
		for i, w := range *waits {
			if lo, hi := bounds[i][0]*time.Millisecond, bounds[i][1]*time.Millisecond; w < lo || w > hi {
				t.Errorf("wait %d is %v, want between %v and %v", i, w, lo, hi)
			}
		}
		if msg := err.Error(); strings.Contains(msg, testKey) || !strings.Contains(msg, "backend crashed") || !strings.Contains(msg, "4 attempts") {
			t.Errorf("error %q: want the server's message and attempt count without the key", msg)
		}
	})
	t.Run("a 400 is not retried", func(t *testing.T) {
		e, srv, _ := newTestEmbedder(t, testKey, Options{}, "400", "ok")
		_, err := e.Embed(context.Background(), []string{"abc"})
		var herr *HTTPError
		if !errors.As(err, &herr) || herr.StatusCode != 400 || herr.Message != "model not found" {
			t.Fatalf("error %v, want HTTPError 400 model not found", err)
		}
		if srv.count() != 1 {
			t.Errorf("%d requests, want 1", srv.count())
		}
	})
	t.Run("a Retry-After beyond MaxBackoff fails at once", func(t *testing.T) {
		e, srv, waits := newTestEmbedder(t, testKey, Options{}, "429-long", "ok")
		_, err := e.Embed(context.Background(), []string{"abc"})
		if err == nil || !strings.Contains(err.Error(), "1h0m0s") {
			t.Fatalf("error %v, want one naming the 1h wait", err)
		}
		if srv.count() != 1 || len(*waits) != 0 {
			t.Errorf("%d requests, waits %v; want 1 request, no wait", srv.count(), *waits)
		}
	})
	t.Run("a cancelled context stops the retries", func(t *testing.T) {
		e, srv, _ := newTestEmbedder(t, testKey, Options{}, "500")
		ctx, cancel := context.WithCancel(context.Background())
		e.sleep = func(context.Context, time.Duration) error {
			cancel()
			return ctx.Err()
		}
		_, err := e.Embed(ctx, []string{"abc"})
		if !errors.Is(err, context.Canceled) || srv.count() != 1 {
			t.Errorf("error %v after %d requests, want context.Canceled after 1", err, srv.count())
		}
	})
	t.Run("a request that exceeds the timeout is retried", func(t *testing.T) {
		e, srv, _ := newTestEmbedder(t, "", Options{Timeout: 100 * time.Millisecond}, "hang", "ok")
		got, err := e.Embed(context.Background(), []string{"abcd"})
		// A slow machine may time out the second request too; the third
		// is answered like the second.
		if err != nil || len(got) != 1 || srv.count() < 2 {
			t.Errorf("got %v, %v after %d requests; want one embedding after at least 2", got, err, srv.count())
		}
	})
}

func TestEmbedBadResponses(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"invalid JSON", `{"data": [`, "unexpected end"},
		{"too few embeddings", `{"data":[{"index":0,"embedding":[1,2]}]}`, "1 embeddings for 2 texts"},
		{"an index out of range", `{"data":[{"index":0,"embedding":[1]},{"index":2,"embedding":[1]}]}`, "out of range"},
		{"a repeated index", `{"data":[{"index":1,"embedding":[1]},{"index":1,"embedding":[1]}]}`, "repeated"},
		{"a missing index", `{"data":[{"embedding":[1]},{"index":1,"embedding":[1]}]}`, "no index"},
		{"an empty embedding", `{"data":[{"index":0,"embedding":[]},{"index":1,"embedding":[1]}]}`, "empty embedding"},
		{"embeddings of different lengths", `{"data":[{"index":0,"embedding":[1,2]},{"index":1,"embedding":[1]}]}`, "dimensions"},
		{"base64 instead of floats", `{"data":[{"index":0,"embedding":"AAAA"},{"index":1,"embedding":"AAAA"}]}`, "cannot unmarshal"},
		{"a body over the size cap", `{"data":[{"index":0,"embedding":[` + strings.Repeat("1,", 600) + `1]}]}`, "larger than 1024 bytes"},
	}
	for _, tt := range tests {
		t.Run("a response with "+tt.name+" is an error and is not retried", func(t *testing.T) {
			e, srv, _ := newTestEmbedder(t, testKey, Options{MaxResponseBytes: 1024}, tt.body, "ok")
			got, err := e.Embed(context.Background(), []string{"a", "b"})
			if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, error %v; want ErrBadResponse mentioning %q", got, err, tt.want)
			}
			if srv.count() != 1 {
				t.Errorf("%d requests, want 1", srv.count())
			}
		})
	}
}

func TestEmbedNothing(t *testing.T) {
	e, srv, _ := newTestEmbedder(t, testKey, Options{}, "ok")
	got, err := e.Embed(context.Background(), nil)
	if err != nil || len(got) != 0 || srv.count() != 0 {
		t.Errorf("got %v, %v after %d requests; want nothing and no request", got, err, srv.count())
	}
}

func TestEmbedConnectionRefused(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	e := New(url, "m", testKey, Options{MaxAttempts: 2})
	var waits int
	e.sleep = func(context.Context, time.Duration) error { waits++; return nil }
	_, err := e.Embed(context.Background(), []string{"a"})
	if err == nil || waits != 1 || strings.Contains(err.Error(), testKey) {
		t.Errorf("error %v after %d waits; want an error after one retry, without the key", err, waits)
	}
}

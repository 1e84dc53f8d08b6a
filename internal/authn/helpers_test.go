package authn_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lectern/lectern/internal/authn"
	"github.com/lectern/lectern/internal/keys"
	"github.com/lectern/lectern/internal/store/sqlite"
)

// The Keyring must be usable as InProcess's key source.
var _ authn.PublicKeyer = (*keys.Keyring)(nil)

const (
	issuer   = "http://127.0.0.1:3001"
	userID   = "2FrKwDOGY8ByVlVvVLWhsohRAVNaDXl4"
	image    = "https://img.example/ada.png"
	unauthed = `{"message":"Unauthorized","code":"UNAUTHORIZED"}`
)

var algs = []string{keys.RS256, keys.ES256, keys.EdDSA}

// fixture is one identity store holding a published key of each algorithm,
// as after migrating the signing alg twice: rings[alg] signs with its key,
// and verifying is the last-built ring, which knows all three.
type fixture struct {
	rings     map[string]*keys.Keyring
	verifying *keys.Keyring
	kids      map[string]string // alg → kid
	now       time.Time
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "identity.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	f := &fixture{rings: map[string]*keys.Keyring{}, kids: map[string]string{}, now: time.Now().Truncate(time.Second)}
	for _, alg := range algs {
		// No lazy reloads: each ring keeps signing with the key it made, as
		// a process that has not reloaded yet would.
		kr, err := keys.New(ctx, st, keys.Options{Alg: alg, Secret: []byte("a test secret of at least 32 bytes....."), RefreshEvery: -1})
		if err != nil {
			tb.Fatal(err)
		}
		f.rings[alg] = kr
		f.verifying = kr
	}
	list, err := f.verifying.List(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, k := range list {
		f.kids[k.Alg] = k.ID
	}
	if len(f.kids) != len(algs) {
		tb.Fatalf("want a key per alg, have %v", f.kids)
	}
	return f
}

// claims returns Better Auth's payload for the test user at f.now, changed by
// mods.
func (f *fixture) claims(mods ...func(map[string]any)) map[string]any {
	c := map[string]any{
		"iat":           f.now.Unix(),
		"name":          "Ada Lovelace",
		"email":         "ada@example.com",
		"emailVerified": true,
		"image":         image,
		"createdAt":     "2026-11-26T23:22:21.076Z",
		"updatedAt":     "2026-11-26T23:22:21.076Z",
		"id":            userID,
		"sub":           userID,
		"exp":           f.now.Add(15 * time.Minute).Unix(),
		"iss":           issuer,
		"aud":           issuer,
	}
	for _, m := range mods {
		m(c)
	}
	return c
}

// sign returns claims signed by the Keyring of alg.
func (f *fixture) sign(tb testing.TB, alg string, claims map[string]any) string {
	tb.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := f.rings[alg].Sign(context.Background(), payload)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// publicKey returns the published key of alg.
func (f *fixture) publicKey(tb testing.TB, alg string) crypto.PublicKey {
	tb.Helper()
	pub, _, ok := f.verifying.PublicKey(context.Background(), f.kids[alg])
	if !ok {
		tb.Fatalf("no %s key", alg)
	}
	return pub
}

func (f *fixture) jwks(tb testing.TB) []byte {
	tb.Helper()
	b, err := f.verifying.JWKS(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func (f *fixture) verifierOptions() authn.Options {
	return authn.Options{Issuer: issuer, Audience: issuer, Now: func() time.Time { return f.now }}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// forge builds a token with any header, signed by method with key (no
// signature when method is nil).
func forge(tb testing.TB, header, claims map[string]any, method jwt.SigningMethod, key any) string {
	tb.Helper()
	input := b64(mustJSON(tb, header)) + "." + b64(mustJSON(tb, claims))
	if method == nil {
		return input + "."
	}
	sig, err := method.Sign(input, key)
	if err != nil {
		tb.Fatal(err)
	}
	return input + "." + b64(sig)
}

// jwksServer serves a JWKS, counts the requests, and can be made to fail.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int64
	mode    atomic.Value // a failure mode; "" serves the set
	body    func() []byte
}

// Failure modes of jwksServer.
const (
	modeOK        = ""
	mode500       = "answers 500"
	modeClose     = "closes the connection"
	modeTruncated = "serves truncated JSON"
	modeHang      = "hangs past the timeout"
	modeHuge      = "serves more than 1 MiB"
	modeEmpty     = "serves an empty key set"
	modeHTML      = "serves an HTML error page with status 200"
)

func newJWKSServer(tb testing.TB, body func() []byte) *jwksServer {
	tb.Helper()
	s := &jwksServer{body: body}
	s.mode.Store(modeOK)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setMode(m string) { s.mode.Store(m) }

func (s *jwksServer) serve(w http.ResponseWriter, r *http.Request) {
	s.fetches.Add(1)
	switch s.mode.Load().(string) {
	case mode500:
		http.Error(w, "down", http.StatusInternalServerError)
	case modeClose:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	case modeTruncated:
		b := s.body()
		w.Write(b[:len(b)/2])
	case modeHang:
		<-r.Context().Done()
	case modeHuge:
		w.Write([]byte(`{"keys":[],"pad":"`))
		w.Write(bytes.Repeat([]byte("x"), 2<<20))
		w.Write([]byte(`"}`))
	case modeEmpty:
		w.Write([]byte(`{"keys":[]}`))
	case modeHTML:
		w.Write([]byte("<html><body>Bad gateway</body></html>"))
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Write(s.body())
	}
}

// logBuffer is a concurrency-safe log sink for assertions on log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// eventually polls cond until it holds, failing the test after 10 seconds.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func newRemote(tb testing.TB, url string, opt authn.RemoteOptions) *authn.Remote {
	tb.Helper()
	r, err := authn.NewRemote(context.Background(), url, opt)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(r.Close)
	return r
}

// discardWriter is a ResponseWriter that keeps only the status, for the
// Require benchmark.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }

// unusedAddr returns a loopback address nothing listens on.
func unusedAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

package identity_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/identity"
	"github.com/lectern/lectern/internal/keys"
	"github.com/lectern/lectern/internal/password"
	"github.com/lectern/lectern/internal/ratelimit"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/testdb"
)

const testSecret = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"

// clock is a settable time source shared by the server, limiter and keys.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// mailbox records mail instead of sending it.
type mailbox struct {
	mu   sync.Mutex
	msgs []mail
}

type mail struct{ to, subject, body string }

func (m *mailbox) Send(_ context.Context, to, subject, body string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, mail{to, subject, body})
	return nil
}

func (m *mailbox) all() []mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mail(nil), m.msgs...)
}

var linkRE = regexp.MustCompile(`https?://\S+`)

// link returns the only link of the latest mail to addr.
func (m *mailbox) link(t *testing.T, srv *identity.Server, addr string) string {
	t.Helper()
	srv.Wait()
	msgs := m.all()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].to == addr {
			return linkRE.FindString(msgs[i].body)
		}
	}
	t.Fatalf("no mail to %s (have %d messages)", addr, len(msgs))
	return ""
}

func engines() []testdb.Engine { return testdb.Engines() }

// env is one identity server over real HTTP on loopback.
type env struct {
	t       testing.TB
	url     string
	srv     *identity.Server
	store   store.Store
	keys    *keys.Keyring
	clock   *clock
	mail    *mailbox
	secure  bool
	cookies string // cookie name prefix
}

type envOptions struct {
	rateLimit bool
	alg       string
	secure    bool
	hash      *password.Params // nil: cheap test parameters
	// onRateLimited and onSignInFailure are the metrics hooks.
	onRateLimited, onSignInFailure func(string)
	// shared are the counts replicas share (nil: this server's own), and
	// onSharedError is told when they fail.
	shared        ratelimit.Counts
	onSharedError func(error)
}

func newEnv(t testing.TB, st store.Store, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	if o.alg == "" {
		o.alg = "RS256"
	}
	kr, err := keys.New(ctx, st, keys.Options{Alg: o.alg, Secret: []byte(testSecret), TokenTTL: 15 * time.Minute, RefreshEvery: time.Minute, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	// Cheap parameters: these tests exercise the protocol, not the hash cost.
	params := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	if o.hash != nil {
		params = *o.hash
	}
	hasher, err := password.NewHasher(params, 4)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + ts.Listener.Addr().String())
	mb := &mailbox{}
	srv := identity.New(identity.Options{
		BaseURL:        base,
		Secret:         []byte(testSecret),
		TrustedOrigins: []string{"http://trusted.example"},
		SecureCookies:  o.secure,
		Issuer:         base.String(),
		Audience:       base.String(),
		RateLimit:      ratelimit.Rule{Max: 3, Window: 10 * time.Second},
		RateLimitOn:    o.rateLimit,
		ClientIP:       httpx.ClientIP{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		Now:            clk.Now,

		OnRateLimited:   o.onRateLimited,
		OnSignInFailure: o.onSignInFailure,
		SharedCounts:    o.shared,
		OnSharedError:   o.onSharedError,
	}, st, kr, hasher, ratelimit.New(clk.Now, 1000), mb)
	ts.Config.Handler = httpx.Chain(srv.Handler(), httpx.RequestID(slog.New(slog.DiscardHandler)), httpx.Recover(), httpx.LimitBody(64<<10))
	ts.Start()
	t.Cleanup(ts.Close)
	prefix := "better-auth."
	if o.secure {
		prefix = "__Secure-better-auth."
	}
	return &env{t: t, url: ts.URL, srv: srv, store: st, keys: kr, clock: clk, mail: mb, secure: o.secure, cookies: prefix}
}

// client is a browser-like client: it keeps cookies (as Set-Cookie says) and
// sends the server's own Origin on POSTs.
type client struct {
	e       *env
	cookies map[string]string
	header  http.Header
}

func (e *env) client() *client {
	return &client{e: e, cookies: map[string]string{}, header: http.Header{"Origin": {e.url}}}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func (r response) wantError(t testing.TB, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if got := r.json(t)["code"]; code != "" && got != code {
		t.Fatalf("code = %v, want %s; body %s", got, code, r.body)
	}
}

func (c *client) do(method, path string, body any, extra ...string) response {
	c.e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		raw, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, c.e.url+path, rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			req.Header.Del(extra[i])
		} else {
			req.Header.Set(extra[i], extra[i+1])
		}
	}
	var parts []string
	for k, v := range c.cookies {
		parts = append(parts, k+"="+v)
	}
	if len(parts) > 0 && req.Header.Get("Cookie") == "" {
		req.Header.Set("Cookie", strings.Join(parts, "; "))
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, sc := range res.Header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(sc)
		if err != nil {
			c.e.t.Fatalf("bad Set-Cookie %q: %v", sc, err)
		}
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return response{res.StatusCode, res.Header, b}
}

var seq struct {
	mu sync.Mutex
	n  int
}

func uniqueEmail() string {
	seq.mu.Lock()
	defer seq.mu.Unlock()
	seq.n++
	return fmt.Sprintf("reader%d@example.com", seq.n)
}

const pw = "correct horse battery"

// signUp creates an account with c and returns the user id.
func (c *client) signUp(email string) string {
	c.e.t.Helper()
	r := c.do("POST", "/api/auth/sign-up/email", map[string]any{"name": "Reader", "email": email, "password": pw})
	if r.status != 200 {
		c.e.t.Fatalf("sign-up: %d %s", r.status, r.body)
	}
	return r.json(c.e.t)["user"].(map[string]any)["id"].(string)
}

func (c *client) signIn(email, password string) response {
	return c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": password})
}

func (c *client) session() map[string]any {
	c.e.t.Helper()
	r := c.do("GET", "/api/auth/get-session", nil)
	if r.status != 200 {
		c.e.t.Fatalf("get-session: %d %s", r.status, r.body)
	}
	if string(r.body) == "null" {
		return nil
	}
	return r.json(c.e.t)
}

// verifier checks tokens the way an independent service would: JWKS over
// HTTP through keyfunc, then golang-jwt with an algorithm allowlist.
func (e *env) verify(token string) (*jwt.Token, error) {
	kf, err := keyfunc.NewDefaultCtx(context.Background(), []string{e.url + "/api/auth/jwks"})
	if err != nil {
		return nil, err
	}
	return jwt.Parse(token, kf.Keyfunc, jwt.WithValidMethods([]string{"RS256", "ES256", "EdDSA"}),
		jwt.WithIssuer(e.url), jwt.WithAudience(e.url), jwt.WithTimeFunc(e.clock.Now), jwt.WithExpirationRequired())
}

func forEachEngine(t *testing.T, f func(t *testing.T, st store.Store)) { testdb.ForEach(t, f) }

func sign(value string) string {
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(value))
	return value + "." + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/quality"
	"github.com/lectern/lectern/internal/store/pgtest"
)

// syncBuffer is a bytes.Buffer safe for the server's log writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func envFunc(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// startServe runs "lectern serve" through run, as main does, and waits until
// /healthz answers. The returned stop cancels it and returns run's error.
func startServe(t *testing.T, env map[string]string) (base string, logs *syncBuffer, stop func() error) {
	t.Helper()
	return startRole(t, "serve", env)
}

// startRole is startServe for any server command: serve, auth or api.
func startRole(t *testing.T, role string, env map[string]string) (base string, logs *syncBuffer, stop func() error) {
	t.Helper()
	addr := env["LECTERN_ADDR"]
	if addr == "" {
		addr = freeAddr(t)
		env["LECTERN_ADDR"] = addr
	}
	if env["LECTERN_DATA_DIR"] == "" {
		env["LECTERN_DATA_DIR"] = t.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs = &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{role}, envFunc(env), io.Discard, logs) }()
	base = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("%s exited early: %v\n%s", role, err, logs)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("%s did not become healthy\n%s", role, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() { stop() })
	return base, logs, stop
}

// signUpForToken signs a new reader up at the identity service at base and
// returns a JWT for them from /api/auth/token.
func signUpForToken(t *testing.T, base, name, email string) string {
	t.Helper()
	res, body := post(t, base+"/api/auth/sign-up/email", `{"name":"`+name+`","email":"`+email+`","password":"a long enough password"}`)
	if res.StatusCode != 200 {
		t.Fatalf("sign-up: %d %s", res.StatusCode, body)
	}
	req, _ := http.NewRequest("GET", base+"/api/auth/token", nil)
	for _, c := range res.Cookies() {
		req.AddCookie(c)
	}
	tres, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer tres.Body.Close()
	var tok struct{ Token string }
	json.NewDecoder(tres.Body).Decode(&tok)
	if tres.StatusCode != 200 || tok.Token == "" {
		t.Fatalf("token: %d", tres.StatusCode)
	}
	return tok.Token
}

func post(t *testing.T, url, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func TestServe(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			env := map[string]string{"LECTERN_SECRET": strings.Repeat("s", 40), "LECTERN_LOG_LEVEL": "debug"}
			if engine == "postgres" {
				env["LECTERN_DATABASE_URL"] = pgtest.NewDatabase(t)
			}
			base, logs, stop := startServe(t, env)

			t.Run("readyz reports the database reachable", func(t *testing.T) {
				res, err := http.Get(base + "/readyz")
				if err != nil || res.StatusCode != 200 {
					t.Fatalf("readyz: %v %v", res, err)
				}
				res.Body.Close()
			})

			const password = "a very secret password"
			var token string
			t.Run("sign-up works end to end with security headers and a request id", func(t *testing.T) {
				res, body := post(t, base+"/api/auth/sign-up/email", `{"name":"E","email":"e2e@example.com","password":"`+password+`"}`)
				if res.StatusCode != 200 {
					t.Fatalf("%d %s", res.StatusCode, body)
				}
				var m struct{ Token string }
				json.Unmarshal(body, &m)
				token = m.Token
				for h, want := range map[string]string{
					"X-Content-Type-Options":  "nosniff",
					"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
					"X-Frame-Options":         "DENY",
				} {
					if got := res.Header.Get(h); got != want {
						t.Errorf("%s = %q, want %q", h, got, want)
					}
				}
				if len(res.Header.Get("X-Request-Id")) == 0 {
					t.Error("no X-Request-Id")
				}
			})

			t.Run("an oversized body is refused with 413 before it is read", func(t *testing.T) {
				res, body := post(t, base+"/api/auth/sign-in/email", `{"email":"`+strings.Repeat("a", 100<<10)+`"}`)
				if res.StatusCode != 413 {
					t.Fatalf("%d %s", res.StatusCode, body)
				}
			})

			t.Run("without SMTP the reset link goes to the log at info level, and the token nowhere else", func(t *testing.T) {
				res, body := post(t, base+"/api/auth/request-password-reset", `{"email":"e2e@example.com"}`)
				if res.StatusCode != 200 {
					t.Fatalf("%d %s", res.StatusCode, body)
				}
				var line string
				for deadline := time.Now().Add(5 * time.Second); line == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
					for _, l := range strings.Split(logs.String(), "\n") {
						if strings.Contains(l, "/api/auth/reset-password/") {
							line = l
						}
					}
				}
				if !strings.Contains(line, "level=INFO") {
					t.Fatalf("no info line with the reset link in:\n%s", logs)
				}
				i := strings.Index(line, "/api/auth/reset-password/") + len("/api/auth/reset-password/")
				token := line[i : i+32]
				if n := strings.Count(logs.String(), token); n != 1 {
					t.Errorf("the reset token appears on %d log lines, want only the link's", n)
				}
			})

			t.Run("SIGTERM-style cancellation shuts down cleanly", func(t *testing.T) {
				if err := stop(); err != nil {
					t.Fatalf("run returned %v", err)
				}
				if !strings.Contains(logs.String(), "stopped") {
					t.Errorf("no clean stop in the log:\n%s", logs)
				}
			})

			t.Run("the debug log holds no password, session token or secret", func(t *testing.T) {
				out := logs.String()
				for what, s := range map[string]string{"password": password, "session token": token, "secret": env["LECTERN_SECRET"]} {
					if s != "" && strings.Contains(out, s) {
						t.Errorf("log contains the %s", what)
					}
				}
				if !strings.Contains(out, `route="POST /api/auth/sign-up/email"`) {
					t.Errorf("access log lacks the route:\n%s", out)
				}
			})
		})
	}
}

// TestSplitRoles runs the identity service (lectern auth) and the API (lectern
// api) as separate processes' worth of servers: the API knows the identity
// service only by its JWKS URL.
func TestSplitRoles(t *testing.T) {
	authAddr := freeAddr(t)
	authURL := "http://" + authAddr
	authBase, _, _ := startRole(t, "auth", map[string]string{
		"LECTERN_ADDR": authAddr, "LECTERN_BASE_URL": authURL, "LECTERN_SECRET": strings.Repeat("s", 40),
	})
	apiBase, apiLogs, stopAPI := startRole(t, "api", map[string]string{
		"LECTERN_JWKS_URL": authURL + "/api/auth/jwks", "LECTERN_JWT_ISSUER": authURL, "LECTERN_JWT_AUDIENCE": authURL,
	})

	token := signUpForToken(t, authBase, "Split", "split@example.com")

	get := func(t *testing.T, url, bearer string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	t.Run("the API accepts the identity service's JWT and answers as that user", func(t *testing.T) {
		code, body := get(t, apiBase+"/api/users/me", token)
		if code != 200 || !strings.Contains(body, `"email":"split@example.com"`) {
			t.Fatalf("%d %s", code, body)
		}
		res, runBody := post(t, apiBase+"/api/agents/run", `{"agent_type":"rag","query":"hello"}`, "Authorization", "Bearer "+token)
		if res.StatusCode != 200 || !strings.Contains(string(runBody), `"session_id"`) {
			t.Fatalf("agents/run: %d %s", res.StatusCode, runBody)
		}
	})
	t.Run("each role serves only its own routes", func(t *testing.T) {
		if code, _ := get(t, apiBase+"/api/auth/jwks", token); code != 404 {
			t.Errorf("api role serves /api/auth/jwks: %d", code)
		}
		if code, _ := get(t, authBase+"/api/conversations", token); code != 404 {
			t.Errorf("auth role serves /api/conversations: %d", code)
		}
	})
	t.Run("the API role stops cleanly and logged no token", func(t *testing.T) {
		if err := stopAPI(); err != nil {
			t.Fatalf("api returned %v\n%s", err, apiLogs)
		}
		if strings.Contains(apiLogs.String(), token) {
			t.Error("the API log contains the JWT")
		}
	})
}

func TestDevelopmentSecretIsGeneratedOnce(t *testing.T) {
	dir := t.TempDir()
	_, logs, stop := startServe(t, map[string]string{"LECTERN_DATA_DIR": dir})
	stop()
	fi, err := os.Stat(filepath.Join(dir, "secret"))
	if err != nil {
		t.Fatalf("no generated secret: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(logs.String(), "LECTERN_SECRET is not set") {
		t.Error("no warning about the generated secret")
	}
	first, _ := os.ReadFile(filepath.Join(dir, "secret"))
	_, _, stop = startServe(t, map[string]string{"LECTERN_DATA_DIR": dir})
	stop()
	second, _ := os.ReadFile(filepath.Join(dir, "secret"))
	if !bytes.Equal(first, second) || len(first) < 32 {
		t.Error("the development secret changed between starts or is short")
	}
}

func TestRunRefusesBadConfiguration(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"production without a secret", []string{"serve"}, map[string]string{"LECTERN_ENV": "production"}, "LECTERN_SECRET is required"},
		{"production with a short secret", []string{"serve"}, map[string]string{"LECTERN_ENV": "production", "LECTERN_SECRET": "short"}, "LECTERN_SECRET is too short"},
		{"an unknown command", []string{"frobnicate"}, nil, `unknown command "frobnicate"`},
		{"a bad JWT algorithm", []string{"serve", "--jwt-alg", "HS256"}, nil, "LECTERN_JWT_ALG"},
		{"a MySQL database URL", []string{"migrate"}, map[string]string{"LECTERN_DATABASE_URL": "mysql://x"}, "LECTERN_DATABASE_URL must start with postgres://"},
		// It used to start with a warning and accept any iss and aud.
		{"the API without the tokens' issuer and audience", []string{"api"},
			map[string]string{"LECTERN_JWKS_URL": "http://127.0.0.1:1/api/auth/jwks"}, "LECTERN_JWT_ISSUER and LECTERN_JWT_AUDIENCE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env == nil {
				tc.env = map[string]string{}
			}
			tc.env["LECTERN_DATA_DIR"] = t.TempDir()
			err := run(context.Background(), tc.args, envFunc(tc.env), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestMigrateAndKeyCommands(t *testing.T) {
	env := envFunc(map[string]string{"LECTERN_DATA_DIR": t.TempDir(), "LECTERN_SECRET": strings.Repeat("k", 40)})
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"migrate"}, env, &out, io.Discard); err != nil || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("migrate: %v %q", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"keys", "rotate"}, env, &out, io.Discard); err != nil || !strings.Contains(out.String(), "new signing key") {
		t.Fatalf("keys rotate: %v %q", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"keys", "list"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "KID") {
		t.Fatalf("keys list printed:\n%s", out.String())
	}
	if fmt.Sprint(strings.Count(out.String(), "RS256")) != "2" {
		t.Errorf("want two RS256 keys:\n%s", out.String())
	}
}

func TestIngestAndEvalCommands(t *testing.T) {
	dir := t.TempDir()
	env := envFunc(map[string]string{"LECTERN_DATA_DIR": dir})
	ctx := context.Background()
	const book = "../../internal/library/testdata/book"
	var out, errs bytes.Buffer
	if err := run(ctx, []string{"ingest", book}, env, &out, &errs); err != nil {
		t.Fatalf("ingest: %v\n%s", err, errs.String())
	}
	for _, want := range []string{"Book (3 changed, 0 removed)", "documents 3", "chunks", "words"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errs.String(), "reading 3/3") {
		t.Errorf("no progress lines on a non-terminal:\n%s", errs.String())
	}
	out.Reset()
	if err := run(ctx, []string{"ingest", book, "--book-title", "Balcony Gardening"}, env, &out, io.Discard); err != nil || !strings.Contains(out.String(), "Balcony Gardening (0 changed, 0 removed)") {
		t.Errorf("ingest with flags after the path: %v\n%s", err, out.String())
	}

	t.Run("errors name the problem", func(t *testing.T) {
		bad := t.TempDir()
		os.WriteFile(filepath.Join(bad, "x.md"), []byte("---\ntitle: [\n---\n"), 0o644)
		err := run(ctx, []string{"ingest", bad}, env, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "x.md:") {
			t.Errorf("got %v", err)
		}
		if err := run(ctx, []string{"ingest"}, env, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "PATH") {
			t.Errorf("got %v", err)
		}
	})

	qa := filepath.Join(t.TempDir(), "qa.jsonl")
	os.WriteFile(qa, []byte(`{"id":"1","question":"how often do tomatoes need water","kind":"paraphrase","expected_docs":["01-basics/02-watering.mdx"],"alt_docs":[],"expected_heading":"How often to water","key_facts":[]}
{"id":"2","question":"what is the capital of peru","kind":"unanswerable","expected_docs":[],"alt_docs":[],"expected_heading":"","key_facts":[]}
`), 0o644)
	for _, args := range [][]string{{"eval", "--json", qa}, {"eval", "--json", "--book", book, qa}} {
		out.Reset()
		if err := run(ctx, args, env, &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		var rows []quality.Row
		if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) != 1 {
			t.Fatalf("%v: %v, %d rows:\n%s", args, err, len(rows), out.String())
		}
		r := rows[0].Retrieval
		if r.HitAt1 != 1 || r.HitAt3 != 1 || r.NotCovered != 1 || rows[0].Answers.Cites != 1 || rows[0].Answers.Declines != 1 {
			t.Errorf("%v: %+v", args, rows[0])
		}
	}
	t.Run("one table for several books", func(t *testing.T) {
		out.Reset()
		if err := run(ctx, []string{"eval", "--book", book, qa, "--book", "../../books/demo", "../../books/demo.qa-holdout.jsonl"}, env, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 3 || !strings.Contains(lines[0], "hit@3") || !strings.Contains(lines[1], " qa ") || !strings.Contains(lines[2], " demo ") {
			t.Errorf("got:\n%s", out.String())
		}
	})
	for _, args := range [][]string{{"eval", "--book", book}, {"eval", "--book"}} {
		if err := run(ctx, args, env, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestServeABook(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"LECTERN_DATA_DIR": dir, "LECTERN_SECRET": strings.Repeat("s", 40), "LECTERN_BOOK": "../../internal/library/testdata/book"}
	base, logs, stop := startServe(t, env)
	for path, want := range map[string]string{
		"/":                     "Book",
		"/docs/basics/soil":     `id="composting-kitchen-scraps"`,
		"/api/search?q=compost": `"url":"/docs/basics/soil#composting-kitchen-scraps"`,
		"/readyz":               `"ready"`,
	} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d, no %q in %.300s", path, res.StatusCode, want, b)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "unchanged=false") {
		t.Errorf("the first start did not ingest the book:\n%s", logs)
	}
	// A second start finds the book unchanged and writes nothing.
	env2 := map[string]string{"LECTERN_DATA_DIR": dir, "LECTERN_SECRET": strings.Repeat("s", 40), "LECTERN_BOOK": env["LECTERN_BOOK"]}
	_, logs2, stop2 := startServe(t, env2)
	stop2()
	if !strings.Contains(logs2.String(), "unchanged=true") {
		t.Errorf("the second start rewrote the unchanged book:\n%s", logs2)
	}
}

func TestWebRole(t *testing.T) {
	base, _, stop := startRole(t, "web", map[string]string{
		"LECTERN_API_URL": "https://api.example", "LECTERN_AUTH_URL": "https://auth.example",
	})
	res, err := http.Get(base + "/docs/intro")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `data-api-base="https://api.example"`) ||
		!strings.Contains(string(body), `data-auth-base="https://auth.example"`) {
		t.Fatalf("%d %.500s", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://api.example https://auth.example") {
		t.Errorf("CSP %q", csp)
	}
	for _, path := range []string{"/api/conversations", "/api/auth/ok"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Errorf("the web role serves %s: %d", path, res.StatusCode)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestIngestReportsBrokenLinks checks that lectern ingest lists the links
// to documents the book lacks, and that --strict refuses such a book.
func TestIngestReportsBrokenLinks(t *testing.T) {
	book := t.TempDir()
	if err := os.WriteFile(filepath.Join(book, "intro.md"), []byte("# Intro\n\nSee [setup](./setup.md).\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := envFunc(map[string]string{"LECTERN_DATA_DIR": t.TempDir()})
	ctx := context.Background()
	if err := run(ctx, []string{"ingest", "--strict", book}, env, io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "intro.md:3: unresolved link ./setup.md") {
		t.Errorf("--strict with a broken link: %v", err)
	}
	var out strings.Builder
	if err := run(ctx, []string{"ingest", book}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 problem (") || !strings.Contains(out.String(), "intro.md:3: unresolved link ./setup.md") {
		t.Errorf("the report:\n%s", out.String())
	}
}

// TestAdminCommands: the operator grants, lists and revokes the book's
// owners by email; an email with no account, or a missing one, is refused
// with a message that says so.
func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	env := envFunc(map[string]string{"LECTERN_DATA_DIR": dir, "LECTERN_ADMIN_EMAILS": "listed@example.com"})
	ctx := context.Background()
	base, _, stop := startServe(t, map[string]string{"LECTERN_DATA_DIR": dir, "LECTERN_SECRET": strings.Repeat("a", 40)})
	signUpForToken(t, base, "Owner", "owner@example.com")
	stop()

	adm := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"admin"}, args...), env, &out, io.Discard)
		return out.String(), err
	}
	if out, err := adm("grant", "Owner@Example.com"); err != nil || !strings.Contains(out, "owner@example.com is an owner") {
		t.Fatalf("grant: %v %q", err, out)
	}
	out, err := adm("list")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		rows = append(rows, strings.Join(strings.Fields(l), " "))
	}
	if want := []string{"listed@example.com (no account yet) LECTERN_ADMIN_EMAILS", "owner@example.com Owner grant"}; !slices.Equal(rows, want) {
		t.Errorf("list:\n%s\nwant rows %q", out, want)
	}
	if out, err := adm("revoke", "owner@example.com"); err != nil || !strings.Contains(out, "a reader again") {
		t.Errorf("revoke: %v %q", err, out)
	}
	if out, _ := adm("list"); strings.Contains(out, "owner@example.com") {
		t.Errorf("a revoked owner is listed:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"grant", "nobody@example.com"}, "no account has this email"},
		{[]string{"grant"}, "missing the EMAIL argument"},
		{[]string{"promote", "owner@example.com"}, `want "admin grant EMAIL"`},
	} {
		if _, err := adm(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("admin %q: %v, want it to say %q", tc.args, err, tc.want)
		}
	}
}

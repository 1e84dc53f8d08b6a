package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// secretFlow is a reader's client that remembers every secret that crosses
// the wire: passwords it sends, and session tokens, signed cookies and JWTs
// it receives.
type secretFlow struct {
	t       *testing.T
	base    string
	cookies map[string]string
	secrets map[string]string // value → what it is
}

func newSecretFlow(t *testing.T, base string) *secretFlow {
	return &secretFlow{t: t, base: base, cookies: map[string]string{}, secrets: map[string]string{}}
}

// keep remembers a secret value. A JWT's header is shared by every token
// of a key and says nothing; its claims and signature are kept apart too,
// so a log holding either half is caught.
func (f *secretFlow) keep(what, v string) {
	if len(v) < 8 {
		return
	}
	f.secrets[v] = what
	if what == "JWT" {
		if parts := strings.Split(v, "."); len(parts) == 3 {
			f.secrets[parts[1]] = "JWT claims"
			f.secrets[parts[2]] = "JWT signature"
		}
	}
}

// call sends one request with the client's cookies and the server's own
// Origin (as a browser would), records the secrets of the response, and
// returns it. Redirects are not followed.
func (f *secretFlow) call(method, path, body, bearer string) (int, http.Header, string) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.base+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Origin", f.base)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	var jar []string
	for k, v := range f.cookies {
		jar = append(jar, k+"="+v)
	}
	if len(jar) > 0 {
		req.Header.Set("Cookie", strings.Join(jar, "; "))
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)

	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(f.cookies, c.Name)
			continue
		}
		f.cookies[c.Name] = c.Value
		f.keep("signed cookie "+c.Name, c.Value)
		if v, err := url.QueryUnescape(c.Value); err == nil {
			f.keep("signed cookie "+c.Name, v)
			if raw, _, ok := strings.Cut(v, "."); ok && c.Name == "better-auth.session_token" {
				f.keep("session token", raw)
			}
		}
	}
	if jwt := res.Header.Get("Set-Auth-Jwt"); jwt != "" {
		f.keep("JWT", jwt)
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		var v any
		if json.Unmarshal(b, &v) == nil {
			f.keepTokens(v)
		}
	}
	return res.StatusCode, res.Header, string(b)
}

// keepTokens keeps every "token" member of a JSON value: session tokens
// (sign-in, get-session) and JWTs (/token).
func (f *secretFlow) keepTokens(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "token" {
				what := "session token"
				if strings.Count(s, ".") == 2 {
					what = "JWT"
				}
				f.keep(what, s)
			}
			f.keepTokens(x)
		}
	case []any:
		for _, x := range v {
			f.keepTokens(x)
		}
	}
}

// must fails the test unless the call answered want.
func (f *secretFlow) must(want int, method, path, body, bearer string) (http.Header, string) {
	f.t.Helper()
	code, h, b := f.call(method, path, body, bearer)
	if code != want {
		f.t.Fatalf("%s %s: %d %.300s, want %d", method, path, code, b, want)
	}
	return h, b
}

// jwt fetches a JWT for the current session.
func (f *secretFlow) jwt() string {
	f.t.Helper()
	_, b := f.must(200, "GET", "/api/auth/token", "", "")
	var v struct{ Token string }
	if err := json.Unmarshal([]byte(b), &v); err != nil || v.Token == "" {
		f.t.Fatalf("token: %s", b)
	}
	return v.Token
}

func randomString(t *testing.T, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// waitForLog waits until the log holds a match of re (mail is sent in the
// background) and returns the first submatch of the last match.
func waitForLog(t *testing.T, logs *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindAllStringSubmatch(logs.String(), -1); m != nil {
			return m[len(m)-1][1]
		}
	}
	t.Fatalf("nothing matches %s in the log:\n%s", re, logs)
	return ""
}

// TestLogSecrecy runs a reader's whole life against "lectern serve" at debug
// level, in both log formats, and checks that no secret that crossed the
// wire (passwords, session tokens, signed cookies, JWTs, the reset token),
// nor the server's own secret or the model's API key, reaches the log. The
// one exception is by design: without SMTP, in development, the reset link
// is logged so that a developer can follow it; the test pins it to that one
// mail line.
func TestLogSecrecy(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			serverSecret := randomString(t, 36)
			apiKey := "sk-" + randomString(t, 24)
			modelURL, modelCalls := keyedModel(t, apiKey)
			addr := freeAddr(t)
			env := map[string]string{
				"LECTERN_ADDR":       addr,
				"LECTERN_BASE_URL":   "http://" + addr,
				"LECTERN_SECRET":     serverSecret,
				"LECTERN_LOG_LEVEL":  "debug",
				"LECTERN_LOG_FORMAT": format,
				// Four sign-ins in a row: above the default 3/10s.
				"LECTERN_AUTH_RATE_LIMIT": "20/10s",
				"LECTERN_BOOK":            "../../internal/library/testdata/book",
				"LECTERN_LLM_BASE_URL":    modelURL,
				"LECTERN_LLM_MODEL":       "fake-model",
				"LECTERN_LLM_API_KEY":     apiKey,
			}
			base, logs, stop := startServe(t, env)
			f := newSecretFlow(t, base)
			f.keep("LECTERN_SECRET", serverSecret)
			f.keep("LLM API key", apiKey)
			email := "secrecy-" + format + "@example.com"
			first, second := "first password "+randomString(t, 12), "second password "+randomString(t, 12)
			f.keep("password", first)
			f.keep("password", second)

			// Sign up, sign in, and use the API with a JWT.
			f.must(200, "POST", "/api/auth/sign-up/email", `{"name":"Secrecy","email":"`+email+`","password":"`+first+`"}`, "")
			f.must(200, "POST", "/api/auth/sign-in/email", `{"email":"`+email+`","password":"`+first+`"}`, "")
			f.must(200, "GET", "/api/auth/get-session", "", "")
			jwt := f.jwt()
			meHeader, _ := f.must(200, "GET", "/api/users/me", "", jwt)
			_, run := f.must(200, "POST", "/api/agents/run", `{"agent_type":"rag","query":"how often should I water my tomato plants"}`, jwt)
			var ran struct {
				SessionID string `json:"session_id"`
			}
			json.Unmarshal([]byte(run), &ran)
			if ran.SessionID == "" {
				t.Fatalf("agents/run: %s", run)
			}
			_, stream := f.must(200, "POST", "/api/agents/stream", `{"agent_type":"rag","query":"and what about drip irrigation","session_id":"`+ran.SessionID+`"}`, jwt)
			if !strings.Contains(stream, "event: done") {
				t.Fatalf("agents/stream ended without done:\n%s", stream)
			}
			if modelCalls.Load() != 2 {
				t.Fatalf("the model was asked %d times, want 2", modelCalls.Load())
			}
			f.must(200, "GET", "/api/conversations", "", jwt)
			f.must(200, "GET", "/api/conversations/"+ran.SessionID+"/messages", "", jwt)
			// A forged token is refused, and the reason logged at debug.
			parts := strings.Split(jwt, ".")
			f.must(401, "GET", "/api/users/me", "", parts[0]+"."+parts[1]+"."+strings.Repeat("A", len(parts[2])))

			// Forget the password, reset it through the logged link, and sign
			// in with the new one.
			f.must(200, "POST", "/api/auth/request-password-reset", `{"email":"`+email+`","redirectTo":"/reset-password"}`, "")
			resetToken := waitForLog(t, logs, regexp.MustCompile(`/api/auth/reset-password/([A-Za-z0-9_-]+)`))
			f.keep("reset token", resetToken)
			if h, _ := f.must(http.StatusFound, "GET", "/api/auth/reset-password/"+resetToken+"?callbackURL="+url.QueryEscape(base+"/reset-password"), "", ""); !strings.Contains(h.Get("Location"), resetToken) {
				t.Fatalf("the reset link redirects to %q", h.Get("Location"))
			}
			f.must(200, "POST", "/api/auth/reset-password", `{"newPassword":"`+second+`","token":"`+resetToken+`"}`, "")
			f.must(401, "POST", "/api/auth/sign-in/email", `{"email":"`+email+`","password":"`+first+`"}`, "")
			f.must(200, "POST", "/api/auth/sign-in/email", `{"email":"`+email+`","password":"`+second+`"}`, "")
			f.jwt()

			// Sign out, sign in once more, and delete the account.
			f.must(200, "POST", "/api/auth/sign-out", "", "")
			f.must(200, "POST", "/api/auth/sign-in/email", `{"email":"`+email+`","password":"`+second+`"}`, "")
			f.must(200, "POST", "/api/auth/delete-user", `{"password":"`+second+`"}`, "")
			if err := stop(); err != nil {
				t.Fatalf("run returned %v", err)
			}

			out := logs.String()
			lines := strings.Split(strings.TrimSpace(out), "\n")
			kinds := map[string]int{}
			for _, what := range f.secrets {
				kinds[what]++
			}
			t.Run("the flow collected every kind of secret", func(t *testing.T) {
				for _, what := range []string{"password", "session token", "signed cookie better-auth.session_token", "JWT", "JWT claims", "JWT signature", "reset token", "LECTERN_SECRET", "LLM API key"} {
					if kinds[what] == 0 {
						t.Errorf("no %s was collected", what)
					}
				}
				// JWTs for the same claims in the same second are the same
				// string; session tokens are random per sign-in.
				if kinds["session token"] < 4 || kinds["password"] != 2 {
					t.Errorf("collected %v, want a session token per sign-in (4) and both passwords", kinds)
				}
			})

			t.Run("the capture holds debug lines and request ids", func(t *testing.T) {
				var debug, requests int
				for _, l := range lines {
					rec := parseLogLine(t, format, l)
					if rec["level"] == "DEBUG" {
						debug++
					}
					if rec["msg"] == "request" {
						requests++
						if len(rec["request_id"]) != 16 {
							t.Errorf("request line without a request id: %s", l)
						}
					}
				}
				if debug == 0 || requests < 20 {
					t.Errorf("%d debug lines and %d request lines in:\n%s", debug, requests, out)
				}
				id := meHeader.Get("X-Request-Id")
				found := false
				for _, l := range lines {
					rec := parseLogLine(t, format, l)
					if rec["request_id"] == id && rec["msg"] == "request" && rec["route"] == "GET /api/users/me" {
						found = true
					}
				}
				if !found {
					t.Errorf("no request line for GET /api/users/me with its X-Request-Id %q", id)
				}
				if !strings.Contains(out, "bearer token rejected") {
					t.Error("the forged token's rejection is not in the debug log")
				}
			})

			t.Run("no secret appears in the log", func(t *testing.T) {
				for s, what := range f.secrets {
					if what == "reset token" {
						continue
					}
					if strings.Contains(out, s) {
						t.Errorf("the log holds a %s", what)
					}
				}
			})

			t.Run("the reset token appears only in the development mail line", func(t *testing.T) {
				var holding []string
				for _, l := range lines {
					if strings.Contains(l, resetToken) {
						holding = append(holding, l)
					}
				}
				if len(holding) != 1 {
					t.Fatalf("the reset token is on %d lines, want 1:\n%s", len(holding), strings.Join(holding, "\n"))
				}
				rec := parseLogLine(t, format, holding[0])
				if rec["level"] != "INFO" || !strings.HasPrefix(rec["msg"], "mail not sent") || rec["subject"] != "Reset your Lectern password" {
					t.Errorf("the reset token is on a line other than the mail's: %s", holding[0])
				}
			})
		})
	}

	t.Run("in production the reset link is not logged", func(t *testing.T) {
		serverSecret := randomString(t, 36)
		base, logs, stop := startServe(t, map[string]string{
			"LECTERN_ENV": "production", "LECTERN_SECRET": serverSecret, "LECTERN_LOG_LEVEL": "debug",
		})
		const email = "secrecy-production@example.com"
		password := "a production password " + randomString(t, 12)
		if res, b := post(t, base+"/api/auth/sign-up/email", `{"name":"P","email":"`+email+`","password":"`+password+`"}`); res.StatusCode != 200 {
			t.Fatalf("sign-up: %d %s", res.StatusCode, b)
		}
		if res, b := post(t, base+"/api/auth/request-password-reset", `{"email":"`+email+`"}`); res.StatusCode != 200 {
			t.Fatalf("request-password-reset: %d %s", res.StatusCode, b)
		}
		waitForLog(t, logs, regexp.MustCompile(`"msg":"(mail not sent)[^"]*","to":"`+regexp.QuoteMeta(email)))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		out := logs.String()
		if strings.Contains(out, "/api/auth/reset-password/") || strings.Contains(out, "open this link") {
			t.Errorf("the production log holds the reset mail:\n%s", out)
		}
		if !strings.Contains(out, `"level":"WARN","msg":"no SMTP server configured`) {
			t.Errorf("no start-up warning that mail cannot be delivered:\n%s", out)
		}
		for what, s := range map[string]string{"password": password, "secret": serverSecret} {
			if strings.Contains(out, s) {
				t.Errorf("the production log holds the %s", what)
			}
		}
	})
}

// parseLogLine returns the top-level attributes of one log line (level,
// msg, request_id, …) as strings, in either format.
func parseLogLine(t *testing.T, format, line string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if format == "json" {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("not a JSON log line: %q", line)
		}
		for k, x := range v {
			if s, ok := x.(string); ok {
				out[k] = s
			}
		}
		return out
	}
	for _, m := range textAttr.FindAllStringSubmatch(line, -1) {
		v := m[2]
		if strings.HasPrefix(v, `"`) {
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
		}
		out[m[1]] = v
	}
	return out
}

// textAttr matches key=value pairs of slog's text format; quoted values
// may hold spaces and escaped quotes.
var textAttr = regexp.MustCompile(`(?:^| )([A-Za-z_][A-Za-z0-9_.]*)=("(?:[^"\\]|\\.)*"|\S*)`)

package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestMisconfigurationIsLoud starts lectern as the README does, without a
// base URL, listening on 127.0.0.1: the start warns that the base URL
// names another site; a page on 127.0.0.1 can still sign up (the loopback
// addresses of a default base URL are trusted); and a page of an origin
// that is not trusted is named in the log once, with the setting to
// change, however often it is refused.
func TestMisconfigurationIsLoud(t *testing.T) {
	base, logs, _ := startServe(t, map[string]string{"LECTERN_SECRET": strings.Repeat("m", 40)})
	if !strings.Contains(logs.String(), "browsers treat the two as different sites") {
		t.Errorf("no warning that 127.0.0.1 and localhost differ:\n%s", logs)
	}
	signUp := func(origin, email string) int {
		req, _ := http.NewRequest("POST", base+"/api/auth/sign-up/email",
			strings.NewReader(`{"name":"M","email":"`+email+`","password":"a long enough password"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := signUp(base, "loopback@example.com"); got != 200 {
		t.Errorf("sign-up from a page on %s: %d, want 200", base, got)
	}
	for i, email := range []string{"evil1@example.com", "evil2@example.com"} {
		if got := signUp("http://evil.example", email); got != http.StatusForbidden {
			t.Errorf("sign-up %d from an untrusted origin: %d, want 403", i, got)
		}
	}
	warned := 0
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "origin=http://evil.example") && strings.Contains(l, "LECTERN_TRUSTED_ORIGINS") {
			warned++
		}
	}
	if warned != 1 {
		t.Errorf("%d warnings naming the untrusted origin, want 1:\n%s", warned, logs)
	}
}

// TestSplitAuthServesItsTrustedSites starts the identity service alone,
// with the settings the split deployment documents (the site in
// LECTERN_TRUSTED_ORIGINS only): a page of that site can call it, the
// preflight and the answer carrying its origin, and another site still
// cannot.
func TestSplitAuthServesItsTrustedSites(t *testing.T) {
	base, _, _ := startRole(t, "auth", map[string]string{
		"LECTERN_SECRET":          strings.Repeat("s", 40),
		"LECTERN_BASE_URL":        "http://auth.example",
		"LECTERN_TRUSTED_ORIGINS": "https://book.example",
	})
	for _, tc := range []struct {
		origin string
		status int
		allow  string
	}{{"https://book.example", 204, "https://book.example"}, {"https://other.example", 403, ""}} {
		req, _ := http.NewRequest("OPTIONS", base+"/api/auth/sign-in/email", nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.status || res.Header.Get("Access-Control-Allow-Origin") != tc.allow {
			t.Errorf("preflight from %s: %d, allow %q; want %d, %q", tc.origin, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"), tc.status, tc.allow)
		}
	}
}

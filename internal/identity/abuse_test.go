package identity_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/testdb"
)

func TestRateLimits(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, envOptions{rateLimit: true})
		email := uniqueEmail()
		e.client().signUp(email)

		t.Run("the fourth sign-in from one IP within 10 s gets 429 with Retry-After, then recovers", func(t *testing.T) {
			c := e.client()
			c.header.Set("X-Forwarded-For", "203.0.113.7")
			for i := range 3 {
				if r := c.signIn(email, "wrong password"); r.status != 401 {
					t.Fatalf("attempt %d: %d %s", i+1, r.status, r.body)
				}
			}
			r := c.signIn(email, pw)
			if r.status != 429 || r.header.Get("Retry-After") != "10" || r.header.Get("X-Retry-After") != "10" {
				t.Fatalf("4th attempt: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.body)
			}
			if string(r.body) != `{"message":"Too many requests. Please try again later."}` {
				t.Errorf("body = %s", r.body)
			}
			other := e.client()
			other.header.Set("X-Forwarded-For", "203.0.113.8")
			if r := other.signIn(email, pw); r.status != 200 {
				t.Errorf("another IP was limited too: %d", r.status)
			}
			e.clock.Add(10 * time.Second)
			if r := c.signIn(email, pw); r.status != 200 {
				t.Errorf("after the window: %d %s", r.status, r.body)
			}
		})

		t.Run("forwarded addresses that are themselves trusted proxies are skipped", func(t *testing.T) {
			// The env trusts 127.0.0.0/8, so both forwarded addresses are proxies
			// and the limit falls back to the peer: one bucket, not two.
			c := e.client()
			c.header.Set("X-Forwarded-For", "127.0.0.9")
			e.clock.Add(time.Minute)
			for range 3 {
				c.signIn(email, "wrong password")
			}
			c.header.Set("X-Forwarded-For", "127.0.0.10")
			if r := c.signIn(email, "wrong password"); r.status != 429 {
				t.Fatalf("got %d, want 429", r.status)
			}
		})

		t.Run("failed sign-ins lock the account from their address, not the owner's", func(t *testing.T) {
			e.clock.Add(time.Hour)
			victim := uniqueEmail()
			e.client().signUp(victim)
			guesser := e.client()
			guesser.header.Set("X-Forwarded-For", "198.51.100.7")
			for i := range 10 {
				e.clock.Add(10 * time.Second) // past the per-address request limit
				if r := guesser.signIn(victim, "guess"+itoa(i)+"xxxx"); r.status != 401 {
					t.Fatalf("guess %d: %d", i, r.status)
				}
			}
			e.clock.Add(10 * time.Second)
			if r := guesser.signIn(victim, pw); r.status != 429 || r.header.Get("Retry-After") == "" {
				t.Fatalf("the guesser's 11th try: %d %s", r.status, r.body)
			}
			owner := e.client()
			owner.header.Set("X-Forwarded-For", "198.51.100.200")
			if r := owner.signIn(victim, pw); r.status != 200 {
				t.Fatalf("the owner at another address: %d %s", r.status, r.body)
			}
			e.clock.Add(16 * time.Minute)
			if r := guesser.signIn(victim, pw); r.status != 200 {
				t.Fatalf("after the lockout window: %d %s", r.status, r.body)
			}
		})

		t.Run("password reset requests are limited per address", func(t *testing.T) {
			for i := range 4 {
				c := e.client()
				c.header.Set("X-Forwarded-For", "192.0.2."+itoa(i+1))
				r := c.do("POST", "/api/auth/request-password-reset", map[string]any{"email": email})
				if want := map[bool]int{true: 429, false: 200}[i == 3]; r.status != want {
					t.Fatalf("request %d: %d, want %d", i+1, r.status, want)
				}
			}
		})
	})
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestOriginChecks(t *testing.T) {
	e := newEnv(t, engines()[0].Open(t), envOptions{})
	email := uniqueEmail()
	signedIn := e.client()
	signedIn.signUp(email)
	body := map[string]any{"email": email, "password": pw}

	for _, tc := range []struct {
		name    string
		c       *client
		path    string
		headers []string
		status  int
		code    string
	}{
		{"a server-to-server sign-in without cookies or Origin is allowed", e.client(), "/api/auth/sign-in/email", []string{"Origin", ""}, 200, ""},
		{"a sign-in from a trusted origin is allowed", e.client(), "/api/auth/sign-in/email", []string{"Origin", "http://trusted.example"}, 200, ""},
		{"a sign-in with only a trusted Referer is allowed", e.client(), "/api/auth/sign-in/email", []string{"Origin", "", "Referer", "http://trusted.example/login"}, 200, ""},
		{"a sign-in from an untrusted origin is refused", e.client(), "/api/auth/sign-in/email", []string{"Origin", "http://evil.example"}, 403, "INVALID_ORIGIN"},
		{"an origin that differs only in host spelling is refused", e.client(), "/api/auth/sign-in/email", []string{"Origin", strings.Replace(e.url, "127.0.0.1", "localhost", 1)}, 403, "INVALID_ORIGIN"},
		{"a null Origin is refused", e.client(), "/api/auth/sign-in/email", []string{"Origin", "null"}, 403, "MISSING_OR_NULL_ORIGIN"},
		{"a cross-site navigation sign-in is refused", e.client(), "/api/auth/sign-in/email", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"}, 403, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"},
		{"a POST carrying any cookie but no Origin is refused", e.client(), "/api/auth/sign-in/email", []string{"Origin", "", "Cookie", "foo=bar"}, 403, "MISSING_OR_NULL_ORIGIN"},
		{"a cookie-authenticated sign-out from an untrusted origin is refused", signedIn, "/api/auth/sign-out", []string{"Origin", "http://evil.example"}, 403, "INVALID_ORIGIN"},
		{"a GET is never origin-checked", signedIn, "/api/auth/token", []string{"Origin", "http://evil.example"}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method, b := "POST", any(body)
			if strings.HasSuffix(tc.path, "/token") {
				method, b = "GET", nil
			}
			r := tc.c.do(method, tc.path, b, tc.headers...)
			if tc.status == 200 {
				if r.status != 200 {
					t.Fatalf("got %d %s", r.status, r.body)
				}
				return
			}
			r.wantError(t, tc.status, tc.code)
		})
	}
	if signedIn.session() == nil {
		t.Error("the refused cross-origin sign-out signed the user out")
	}
}

// A user imported from a Better Auth database keeps their password: the
// scrypt hash verifies, and is upgraded to argon2id on the first sign-in.
func TestImportedBetterAuthHashSignsIn(t *testing.T) {
	raw, err := os.ReadFile("../password/testdata/better-auth-scrypt.json")
	if err != nil {
		t.Fatal(err)
	}
	var fixture struct {
		Vectors []struct{ Password, Hash string }
	}
	if err := json.Unmarshal(raw, &fixture); err != nil {
		t.Fatal(err)
	}
	v := fixture.Vectors[0]
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, envOptions{})
		now := e.clock.Now()
		u := store.User{ID: "importedUser0000000000000000000A", Name: "Imported", Email: "imported@example.com", Role: "user", CreatedAt: now, UpdatedAt: now}
		a := store.Account{ID: "importedAccount00000000000000000", AccountID: u.ID, ProviderID: "credential", UserID: u.ID, PasswordHash: v.Hash, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateUser(t.Context(), u, a); err != nil {
			t.Fatal(err)
		}
		e.client().signIn(u.Email, "not the password").wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
		if r := e.client().signIn(u.Email, v.Password); r.status != 200 {
			t.Fatalf("imported user cannot sign in: %d %s", r.status, r.body)
		}
		acct, err := st.CredentialAccount(t.Context(), u.ID)
		if err != nil || !strings.HasPrefix(acct.PasswordHash, "$argon2id$") {
			t.Fatalf("hash not upgraded: %q %v", acct.PasswordHash, err)
		}
		if r := e.client().signIn(u.Email, v.Password); r.status != 200 {
			t.Fatalf("sign-in after upgrade: %d", r.status)
		}
	})
}

func TestRouting(t *testing.T) {
	e := newEnv(t, engines()[0].Open(t), envOptions{})
	c := e.client()
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/auth/sign-in/email"},
		{"GET", "/api/auth/no-such-endpoint"},
		{"OPTIONS", "/api/auth/get-session"},
	} {
		t.Run(tc.method+" "+tc.path+" is an empty 404", func(t *testing.T) {
			r := c.do(tc.method, tc.path, nil)
			if r.status != 404 || len(r.body) != 0 {
				t.Fatalf("got %d %q", r.status, r.body)
			}
		})
	}
	t.Run("POST get-session is 405 as without deferSessionRefresh", func(t *testing.T) {
		c.do("POST", "/api/auth/get-session", map[string]any{}).wantError(t, 405, "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED")
	})
	t.Run("ok answers", func(t *testing.T) {
		if r := c.do("GET", "/api/auth/ok", nil); r.status != 200 || string(r.body) != `{"ok":true}` {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

// TestRateLimitKeysAreRoutes checks that the per-address limit counts a
// route, not a raw path: made-up tokens in reset links from one address
// share one count (each used to open a new one, so the limit never came).
func TestRateLimitKeysAreRoutes(t *testing.T) {
	e := newEnv(t, testdb.Engines()[0].Open(t), envOptions{rateLimit: true})
	c := e.client()
	c.header.Set("X-Forwarded-For", "203.0.113.50")
	limited := 0
	for i := range 110 {
		r := c.do("GET", fmt.Sprintf("/api/auth/reset-password/made-up-token-%04d", i), nil)
		if r.status == 429 {
			limited++
		}
	}
	if limited != 10 {
		t.Errorf("%d of 110 made-up reset links from one address were limited, want the 10 past the limit of 100", limited)
	}
}

// TestIPv6LimitsCountNetworks checks that addresses of one IPv6 /64 share
// a per-address limit (each address used to count alone, so one
// subscriber had 2^64 of them), while another /64 has its own.
func TestIPv6LimitsCountNetworks(t *testing.T) {
	e := newEnv(t, testdb.Engines()[0].Open(t), envOptions{rateLimit: true})
	email := uniqueEmail()
	e.client().signUp(email)
	for i := range 3 {
		c := e.client()
		c.header.Set("X-Forwarded-For", fmt.Sprintf("2001:db8:1:2::%x", i+1))
		if r := c.signIn(email, "wrong password"); r.status != 401 {
			t.Fatalf("attempt %d: %d %s", i+1, r.status, r.body)
		}
	}
	c := e.client()
	c.header.Set("X-Forwarded-For", "2001:db8:1:2:ffff::9")
	if r := c.signIn(email, pw); r.status != 429 {
		t.Errorf("a fourth address of the same /64: %d, want 429", r.status)
	}
	c.header.Set("X-Forwarded-For", "2001:db8:1:3::1")
	if r := c.signIn(email, pw); r.status != 200 {
		t.Errorf("another /64: %d, want 200", r.status)
	}
}

// TestCallbacksStayOnTrustedOrigins checks that sign-in sends the browser
// nowhere a browser would read as another site. "/\t/evil.example/phish"
// used to come back as the Location, which browsers resolve to
// https://evil.example/phish.
func TestCallbacksStayOnTrustedOrigins(t *testing.T) {
	e := newEnv(t, testdb.Engines()[0].Open(t), envOptions{})
	email := uniqueEmail()
	e.client().signUp(email)
	for _, bad := range []string{"/\t/evil.example/phish", "/\n/evil.example", "/\\evil.example", "//evil.example", "/ /evil.example",
		"https://evil.example/", "javascript:alert(1)", "http://user@trusted.example/", "/\u200b/evil.example"} {
		r := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": pw, "callbackURL": bad})
		if r.status != 403 || r.header.Get("Location") != "" {
			t.Errorf("callbackURL %q: %d, Location %q", bad, r.status, r.header.Get("Location"))
		}
	}
	for _, good := range []string{"/docs/intro", "/search?q=leap", "http://trusted.example/back"} {
		r := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": pw, "callbackURL": good})
		if r.status != 200 || r.header.Get("Location") != good {
			t.Errorf("callbackURL %q: %d, Location %q", good, r.status, r.header.Get("Location"))
		}
	}
}

// TestLockoutSparesTheOwner checks that wrong passwords from many
// addresses lock an account everywhere but on a device its owner signed in
// from: twelve guesses from four addresses used to lock the owner out for
// 15 minutes, renewable at will.
func TestLockoutSparesTheOwner(t *testing.T) {
	e := newEnv(t, testdb.Engines()[0].Open(t), envOptions{rateLimit: true})
	email := uniqueEmail()
	owner := e.client()
	owner.signUp(email)
	owner.header.Set("X-Forwarded-For", "192.0.2.10")
	owner.do("POST", "/api/auth/sign-out", nil)
	for i := range 12 {
		c := e.client()
		c.header.Set("X-Forwarded-For", "198.51.100."+itoa(i%4+1))
		c.signIn(email, "guess"+itoa(i)+"xxxx")
	}
	if r := owner.signIn(email, pw); r.status != 200 {
		t.Fatalf("the owner after 12 guesses from 4 addresses: %d %s", r.status, r.body)
	}
	owner.do("POST", "/api/auth/sign-out", nil)
	for i := range 50 {
		c := e.client()
		c.header.Set("X-Forwarded-For", "203.0.113."+itoa(i+1))
		c.signIn(email, "guess"+itoa(i)+"yyyy")
	}
	stranger := e.client()
	stranger.header.Set("X-Forwarded-For", "192.0.2.99")
	if r := stranger.signIn(email, pw); r.status != 429 {
		t.Errorf("a new device after 50 guesses from everywhere: %d, want 429", r.status)
	}
	if r := owner.signIn(email, pw); r.status != 200 {
		t.Errorf("the owner's device after 50 guesses from everywhere: %d %s", r.status, r.body)
	}
}

// TestWrongCurrentPasswordsCount checks that wrong current passwords on
// change-password count toward the lockout like wrong sign-ins (15 guesses
// through a stolen session used to go uncounted).
func TestWrongCurrentPasswordsCount(t *testing.T) {
	e := newEnv(t, testdb.Engines()[0].Open(t), envOptions{rateLimit: true})
	email := uniqueEmail()
	c := e.client()
	c.signUp(email)
	c.header.Set("X-Forwarded-For", "198.51.100.20")
	for i := range 10 {
		e.clock.Add(10 * time.Second)
		r := c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": "guess" + itoa(i) + "xxxx", "newPassword": "a brand new password"})
		if r.status != 400 {
			t.Fatalf("guess %d: %d %s", i, r.status, r.body)
		}
	}
	e.clock.Add(10 * time.Second)
	r := c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": pw, "newPassword": "a brand new password"})
	if r.status != 429 {
		t.Errorf("the right password after 10 wrong ones: %d %s, want 429", r.status, r.body)
	}
}

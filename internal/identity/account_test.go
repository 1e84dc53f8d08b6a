package identity_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/store"
)

func TestSessionManagement(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, envOptions{})
		email := uniqueEmail()
		a := e.client()
		a.signUp(email)
		b, c := e.client(), e.client()
		b.signIn(email, pw)
		c.signIn(email, pw)

		list := func(cl *client) []any {
			t.Helper()
			r := cl.do("GET", "/api/auth/list-sessions", nil)
			if r.status != 200 {
				t.Fatalf("list-sessions: %d %s", r.status, r.body)
			}
			var out []any
			if err := jsonUnmarshal(r.body, &out); err != nil {
				t.Fatal(err)
			}
			return out
		}

		t.Run("list-sessions needs a session", func(t *testing.T) {
			e.client().do("GET", "/api/auth/list-sessions", nil).wantError(t, 401, "UNAUTHORIZED")
		})

		t.Run("list-sessions shows every session of the user", func(t *testing.T) {
			if n := len(list(a)); n != 3 {
				t.Fatalf("got %d sessions, want 3", n)
			}
		})

		t.Run("revoke-session with a listed handle ends that session only", func(t *testing.T) {
			bID := b.session()["session"].(map[string]any)["id"]
			var handle string
			for _, s := range list(a) {
				if m := s.(map[string]any); m["id"] == bID {
					handle = m["token"].(string)
				}
			}
			if r := a.do("POST", "/api/auth/revoke-session", map[string]any{"token": handle}); r.status != 200 || string(r.body) != `{"status":true}` {
				t.Fatalf("revoke: %d %s", r.status, r.body)
			}
			if b.session() != nil || a.session() == nil {
				t.Fatal("wrong session revoked")
			}
		})

		t.Run("another user cannot revoke my session", func(t *testing.T) {
			other := e.client()
			other.signUp(uniqueEmail())
			cID := c.session()["session"].(map[string]any)["id"].(string)
			other.do("POST", "/api/auth/revoke-session", map[string]any{"token": cID})
			if c.session() == nil {
				t.Fatal("another user revoked my session")
			}
		})

		t.Run("revoke-other-sessions keeps only the caller's", func(t *testing.T) {
			if r := a.do("POST", "/api/auth/revoke-other-sessions", map[string]any{}); r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if c.session() != nil || a.session() == nil || len(list(a)) != 1 {
				t.Fatal("revoke-other-sessions did not keep exactly the caller's session")
			}
		})

		t.Run("revoke-sessions ends every session", func(t *testing.T) {
			d := e.client()
			d.signIn(email, pw)
			if r := d.do("POST", "/api/auth/revoke-sessions", map[string]any{}); r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if a.session() != nil || d.session() != nil {
				t.Fatal("sessions survived revoke-sessions")
			}
		})
	})
}

func TestAccountChanges(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, envOptions{})
		email := uniqueEmail()
		a := e.client()
		id := a.signUp(email)

		t.Run("update-user changes name and image", func(t *testing.T) {
			r := a.do("POST", "/api/auth/update-user", map[string]any{"name": "Renamed", "image": "https://img.example/r.png", "role": "admin"})
			if r.status != 200 || string(r.body) != `{"status":true}` {
				t.Fatalf("%d %s", r.status, r.body)
			}
			u := a.session()["user"].(map[string]any)
			if u["name"] != "Renamed" || u["image"] != "https://img.example/r.png" {
				t.Errorf("user = %v", u)
			}
			if got, _ := st.UserByID(t.Context(), id); got.Role != "user" {
				t.Errorf("role became %q through update-user", got.Role)
			}
		})
		for _, tc := range []struct {
			name   string
			body   map[string]any
			status int
			code   string
		}{
			{"update-user refuses an email change", map[string]any{"email": "new@example.com"}, 400, "EMAIL_CAN_NOT_BE_UPDATED"},
			{"update-user refuses a javascript: image", map[string]any{"image": "javascript:alert(1)"}, 400, "VALIDATION_ERROR"},
			{"update-user refuses a name of the wrong type", map[string]any{"name": 7}, 400, "VALIDATION_ERROR"},
		} {
			t.Run(tc.name, func(t *testing.T) { a.do("POST", "/api/auth/update-user", tc.body).wantError(t, tc.status, tc.code) })
		}
		t.Run("update-user needs a session", func(t *testing.T) {
			e.client().do("POST", "/api/auth/update-user", map[string]any{"name": "x"}).wantError(t, 401, "UNAUTHORIZED")
		})

		t.Run("change-password refuses a wrong current password", func(t *testing.T) {
			a.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": "not it at all", "newPassword": "another password"}).
				wantError(t, 400, "INVALID_PASSWORD")
		})
		t.Run("change-password refuses a short new password", func(t *testing.T) {
			a.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": pw, "newPassword": "short"}).
				wantError(t, 400, "PASSWORD_TOO_SHORT")
		})
		t.Run("change-password with revokeOtherSessions signs out other sessions and issues a new one", func(t *testing.T) {
			other := e.client()
			other.signIn(email, pw)
			r := a.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": pw, "newPassword": "second password", "revokeOtherSessions": true})
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if tok, _ := r.json(t)["token"].(string); !idRE.MatchString(tok) {
				t.Errorf("token = %v", r.json(t)["token"])
			}
			if other.session() != nil || a.session() == nil {
				t.Error("sessions after change-password are wrong")
			}
			e.client().signIn(email, pw).wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
			if r := e.client().signIn(email, "second password"); r.status != 200 {
				t.Errorf("new password does not sign in: %d", r.status)
			}
		})
		t.Run("change-password without revoking returns a null token", func(t *testing.T) {
			r := a.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": "second password", "newPassword": pw})
			if r.status != 200 || r.json(t)["token"] != nil {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})

		t.Run("delete-user refuses a wrong password", func(t *testing.T) {
			a.do("POST", "/api/auth/delete-user", map[string]any{"password": "wrong password"}).wantError(t, 400, "INVALID_PASSWORD")
		})
		t.Run("delete-user without a password needs a fresh session", func(t *testing.T) {
			e.clock.Add(25 * time.Hour)
			a.do("POST", "/api/auth/delete-user", map[string]any{}).wantError(t, 400, "SESSION_EXPIRED")
		})
		t.Run("delete-user with the password removes the account and its sessions", func(t *testing.T) {
			r := a.do("POST", "/api/auth/delete-user", map[string]any{"password": pw})
			if r.status != 200 || len(r.header.Values("Set-Cookie")) != 3 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if _, err := st.UserByID(t.Context(), id); err == nil {
				t.Error("user still stored")
			}
			e.client().signIn(email, pw).wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
		})
	})
}

func TestPasswordResetAndVerification(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, envOptions{})
		email := uniqueEmail()
		a := e.client()
		a.signUp(email)

		var token string
		t.Run("a known and an unknown address get the same answer; only the known one gets mail", func(t *testing.T) {
			known := e.client().do("POST", "/api/auth/request-password-reset", map[string]any{"email": email, "redirectTo": "/reset-password"})
			unknown := e.client().do("POST", "/api/auth/request-password-reset", map[string]any{"email": uniqueEmail(), "redirectTo": "/reset-password"})
			if known.status != 200 || string(known.body) != string(unknown.body) || known.status != unknown.status {
				t.Fatalf("known %d %s, unknown %d %s", known.status, known.body, unknown.status, unknown.body)
			}
			e.srv.Wait()
			if n := len(e.mail.all()); n != 1 {
				t.Fatalf("%d mails sent, want 1", n)
			}
			link, err := url.Parse(e.mail.link(t, e.srv, email))
			if err != nil || !strings.HasPrefix(link.Path, "/api/auth/reset-password/") {
				t.Fatalf("link %v %v", link, err)
			}
			r := e.client().do("GET", link.RequestURI(), nil)
			loc, _ := url.Parse(r.header.Get("Location"))
			if r.status != 302 || loc.Path != "/reset-password" || loc.Query().Get("token") == "" {
				t.Fatalf("link answered %d Location %q", r.status, r.header.Get("Location"))
			}
			token = loc.Query().Get("token")
		})
		t.Run("an untrusted redirectTo is refused", func(t *testing.T) {
			e.client().do("POST", "/api/auth/request-password-reset", map[string]any{"email": email, "redirectTo": "https://evil.example/r"}).
				wantError(t, 403, "INVALID_CALLBACK_URL")
		})
		t.Run("reset-password with a bad token is refused", func(t *testing.T) {
			e.client().do("POST", "/api/auth/reset-password", map[string]any{"token": "nope", "newPassword": "brand new password"}).
				wantError(t, 400, "INVALID_TOKEN")
		})
		t.Run("reset-password sets the password, signs out everywhere, and the token works once", func(t *testing.T) {
			r := e.client().do("POST", "/api/auth/reset-password", map[string]any{"token": token, "newPassword": "brand new password"})
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if a.session() != nil {
				t.Error("old session survived the reset")
			}
			e.client().signIn(email, pw).wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
			if r := e.client().signIn(email, "brand new password"); r.status != 200 {
				t.Errorf("new password: %d", r.status)
			}
			e.client().do("POST", "/api/auth/reset-password", map[string]any{"token": token, "newPassword": "third password!"}).
				wantError(t, 400, "INVALID_TOKEN")
		})
		t.Run("an expired reset token is refused", func(t *testing.T) {
			e.client().do("POST", "/api/auth/request-password-reset", map[string]any{"email": email})
			link, _ := url.Parse(e.mail.link(t, e.srv, email))
			tok := strings.TrimPrefix(link.Path, "/api/auth/reset-password/")
			e.clock.Add(2 * time.Hour)
			e.client().do("POST", "/api/auth/reset-password", map[string]any{"token": tok, "newPassword": "fourth password"}).
				wantError(t, 400, "INVALID_TOKEN")
		})

		t.Run("verify-email marks the address verified, once", func(t *testing.T) {
			if r := e.client().do("POST", "/api/auth/send-verification-email", map[string]any{"email": email}); r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			link, _ := url.Parse(e.mail.link(t, e.srv, email))
			if r := e.client().do("GET", link.RequestURI(), nil); r.status != 200 {
				t.Fatalf("verify: %d %s", r.status, r.body)
			}
			u, _ := st.UserByEmail(t.Context(), email)
			if !u.EmailVerified {
				t.Error("emailVerified still false")
			}
			e.client().do("GET", link.RequestURI(), nil).wantError(t, 401, "INVALID_TOKEN")
		})
	})
}

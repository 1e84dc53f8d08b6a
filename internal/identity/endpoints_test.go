package identity_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lectern/lectern/internal/store"
)

var idRE = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

func TestSignUp(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, envOptions{})
		c := e.client()

		t.Run("creates the user, a session and Better Auth's response and cookie", func(t *testing.T) {
			r := c.do("POST", "/api/auth/sign-up/email", map[string]any{
				"name": "Bob", "email": "Bob.MixedCase+x@Example.COM", "password": pw, "image": "https://img.example/bob.png"})
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if !strings.HasPrefix(string(r.body), `{"token":"`) || !strings.Contains(string(r.body), `"user":{"name":"Bob","email":"bob.mixedcase+x@example.com","emailVerified":false,"image":"https://img.example/bob.png","createdAt":"`) {
				t.Errorf("body shape differs from Better Auth: %s", r.body)
			}
			m := r.json(t)
			token := m["token"].(string)
			u := m["user"].(map[string]any)
			if !idRE.MatchString(token) || !idRE.MatchString(u["id"].(string)) {
				t.Errorf("token %q or id %q is not 32 base62 characters", token, u["id"])
			}
			if _, err := time.Parse("2006-01-02T15:04:05.000Z", u["createdAt"].(string)); err != nil {
				t.Errorf("createdAt: %v", err)
			}
			// Better Auth's session cookie, and Lectern's mark that this
			// device signed in (see TestLockoutSparesTheOwner).
			sc := r.header.Values("Set-Cookie")
			want := "better-auth.session_token=" + url.QueryEscape(sign(token)) + "; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
			if len(sc) != 2 || sc[0] != want || !strings.HasPrefix(sc[1], "better-auth.known_device=") ||
				!strings.HasSuffix(sc[1], "; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax") {
				t.Errorf("Set-Cookie = %q\nwant %q and the device mark", sc, want)
			}
			if s := c.session(); s == nil || s["user"].(map[string]any)["email"] != "bob.mixedcase+x@example.com" {
				t.Errorf("get-session after sign-up = %v", s)
			}
		})

		long := strings.Repeat("p", 129)
		for _, tc := range []struct {
			name   string
			body   any
			ctype  string
			status int
			code   string
		}{
			{"a duplicate email is refused with 422", map[string]any{"name": "B", "email": "BOB.mixedcase+x@example.com", "password": pw}, "", 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"},
			{"a password under 8 characters is refused", map[string]any{"name": "B", "email": uniqueEmail(), "password": "short"}, "", 400, "PASSWORD_TOO_SHORT"},
			{"a password over 128 characters is refused", map[string]any{"name": "B", "email": uniqueEmail(), "password": long}, "", 400, "PASSWORD_TOO_LONG"},
			{"an invalid email is a validation error", map[string]any{"name": "B", "email": "not-an-email", "password": pw}, "", 400, "VALIDATION_ERROR"},
			{"a missing name is a validation error", map[string]any{"email": uniqueEmail(), "password": pw}, "", 400, "VALIDATION_ERROR"},
			{"an empty password is a validation error", map[string]any{"name": "B", "email": uniqueEmail(), "password": ""}, "", 400, "VALIDATION_ERROR"},
			{"an email of the wrong type is a validation error", map[string]any{"name": "B", "email": 5, "password": pw}, "", 400, "VALIDATION_ERROR"},
			{"an overlong name is a validation error", map[string]any{"name": strings.Repeat("n", 300), "email": uniqueEmail(), "password": pw}, "", 400, "VALIDATION_ERROR"},
			{"malformed JSON is a bad request", `{"name":`, "", 400, "BAD_REQUEST"},
			{"an untrusted callbackURL is forbidden", map[string]any{"name": "B", "email": uniqueEmail(), "password": pw, "callbackURL": "https://evil.example/x"}, "", 403, "INVALID_CALLBACK_URL"},
			{"a text/plain body is an unsupported media type", `{}`, "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"},
			{"a body over 64 KiB is too large", map[string]any{"name": strings.Repeat("n", 70<<10), "email": uniqueEmail(), "password": pw}, "", 413, "PAYLOAD_TOO_LARGE"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var extra []string
				if tc.ctype != "" {
					extra = []string{"Content-Type", tc.ctype}
				}
				r := e.client().do("POST", "/api/auth/sign-up/email", tc.body, extra...)
				r.wantError(t, tc.status, tc.code)
			})
		}

		t.Run("a client cannot set its own role", func(t *testing.T) {
			email := uniqueEmail()
			r := e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"name": "M", "email": email, "password": pw, "role": "admin"})
			if r.status != 200 {
				t.Fatalf("status %d %s", r.status, r.body)
			}
			u, err := st.UserByEmail(t.Context(), email)
			if err != nil || u.Role != "user" {
				t.Fatalf("role = %q, %v; want user", u.Role, err)
			}
		})

		t.Run("a form-encoded body is accepted as Better Auth accepts it", func(t *testing.T) {
			email := uniqueEmail()
			r := e.client().do("POST", "/api/auth/sign-up/email", "name=F&email="+url.QueryEscape(email)+"&password="+url.QueryEscape(pw),
				"Content-Type", "application/x-www-form-urlencoded")
			if r.status != 200 {
				t.Fatalf("status %d %s", r.status, r.body)
			}
		})
	})
}

func TestSignIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, envOptions{})
		email := uniqueEmail()
		id := e.client().signUp(email)

		t.Run("the right password signs in with Better Auth's response", func(t *testing.T) {
			c := e.client()
			r := c.signIn(strings.ToUpper(email), pw)
			if r.status != 200 {
				t.Fatalf("status %d %s", r.status, r.body)
			}
			if !strings.HasPrefix(string(r.body), `{"redirect":false,"token":"`) {
				t.Errorf("body = %s", r.body)
			}
			if got := r.json(t)["user"].(map[string]any)["id"]; got != id {
				t.Errorf("user id = %v, want %s", got, id)
			}
			if s := c.session(); s == nil {
				t.Error("no session after sign-in")
			}
		})

		t.Run("an unknown email and a wrong password get the same answer", func(t *testing.T) {
			wrong := e.client().signIn(email, "wrong password!")
			unknown := e.client().signIn(uniqueEmail(), "wrong password!")
			wrong.wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
			if wrong.status != unknown.status || string(wrong.body) != string(unknown.body) {
				t.Errorf("responses differ: %d %s vs %d %s", wrong.status, wrong.body, unknown.status, unknown.body)
			}
			if len(wrong.header.Values("Set-Cookie")) != 0 {
				t.Error("a failed sign-in set a cookie")
			}
		})

		for _, tc := range []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"a malformed email is INVALID_EMAIL", map[string]any{"email": "nope", "password": pw}, 400, "INVALID_EMAIL"},
			{"a missing password is a validation error", map[string]any{"email": email}, 400, "VALIDATION_ERROR"},
			{"an overlong password is refused before hashing", map[string]any{"email": email, "password": strings.Repeat("x", 129)}, 400, "PASSWORD_TOO_LONG"},
			{"an untrusted callbackURL is forbidden", map[string]any{"email": email, "password": pw, "callbackURL": "https://evil.example"}, 403, "INVALID_CALLBACK_URL"},
			{"a protocol-relative callbackURL is forbidden", map[string]any{"email": email, "password": pw, "callbackURL": "//evil.example/x"}, 403, "INVALID_CALLBACK_URL"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.client().do("POST", "/api/auth/sign-in/email", tc.body).wantError(t, tc.status, tc.code)
			})
		}

		t.Run("a trusted callbackURL is returned with redirect true and a Location header", func(t *testing.T) {
			r := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": pw, "callbackURL": "/docs/intro"})
			m := r.json(t)
			if r.status != 200 || m["redirect"] != true || m["url"] != "/docs/intro" || r.header.Get("Location") != "/docs/intro" {
				t.Fatalf("got %d %s location %q", r.status, r.body, r.header.Get("Location"))
			}
		})

		t.Run("rememberMe false gives browser-session cookies and a one-day session", func(t *testing.T) {
			c := e.client()
			r := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": pw, "rememberMe": false})
			var sc string
			for _, c := range r.header.Values("Set-Cookie") {
				if !strings.HasPrefix(c, "better-auth.known_device=") { // the device mark outlives sessions
					sc += c + "\n"
				}
			}
			if r.status != 200 || strings.Contains(sc, "Max-Age") || !strings.Contains(sc, "better-auth.dont_remember=") {
				t.Fatalf("status %d cookies:\n%s", r.status, sc)
			}
			exp, _ := time.Parse(time.RFC3339, c.session()["session"].(map[string]any)["expiresAt"].(string))
			if want := e.clock.Now().Add(24 * time.Hour); !exp.Equal(want) {
				t.Errorf("expiresAt = %v, want %v", exp, want)
			}
		})
	})
}

func TestSessionLifecycle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, envOptions{})
		c := e.client()
		email := uniqueEmail()
		id := c.signUp(email)

		t.Run("no cookie gives null with no-store", func(t *testing.T) {
			r := e.client().do("GET", "/api/auth/get-session", nil)
			if r.status != 200 || string(r.body) != "null" || r.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("got %d %q cache-control %q", r.status, r.body, r.header.Get("Cache-Control"))
			}
		})

		t.Run("a forged cookie signature gives null and no cookies", func(t *testing.T) {
			f := e.client()
			f.cookies["better-auth.session_token"] = url.QueryEscape(strings.Split(sign("x"), ".")[0] + "." + strings.Repeat("A", 43) + "=")
			r := f.do("GET", "/api/auth/get-session", nil)
			if string(r.body) != "null" || len(r.header.Values("Set-Cookie")) != 0 {
				t.Fatalf("got %q cookies %q", r.body, r.header.Values("Set-Cookie"))
			}
		})

		t.Run("a valid session returns session, user and a verifiable set-auth-jwt", func(t *testing.T) {
			r := c.do("GET", "/api/auth/get-session", nil)
			m := r.json(t)
			sess := m["session"].(map[string]any)
			if sess["userId"] != id || m["user"].(map[string]any)["id"] != id {
				t.Fatalf("body %s", r.body)
			}
			if r.header.Get("Access-Control-Expose-Headers") != "set-auth-jwt" {
				t.Errorf("expose headers = %q", r.header.Get("Access-Control-Expose-Headers"))
			}
			tok, err := e.verify(r.header.Get("Set-Auth-Jwt"))
			if err != nil {
				t.Fatalf("set-auth-jwt does not verify: %v", err)
			}
			if sub, _ := tok.Claims.GetSubject(); sub != id {
				t.Errorf("sub = %q", sub)
			}
		})

		t.Run("after a day the session slides forward and the cookie is re-issued", func(t *testing.T) {
			e.clock.Add(25 * time.Hour)
			r := c.do("GET", "/api/auth/get-session", nil)
			exp, _ := time.Parse(time.RFC3339, r.json(t)["session"].(map[string]any)["expiresAt"].(string))
			if want := e.clock.Now().Add(7 * 24 * time.Hour); !exp.Equal(want) {
				t.Errorf("expiresAt = %v, want %v", exp, want)
			}
			if sc := r.header.Get("Set-Cookie"); !strings.Contains(sc, "Max-Age=604800") {
				t.Errorf("cookie not re-issued: %q", sc)
			}
			if r2 := c.do("GET", "/api/auth/get-session", nil); r2.header.Get("Set-Cookie") != "" {
				t.Errorf("refreshed again within the day: %q", r2.header.Get("Set-Cookie"))
			}
		})

		t.Run("an expired session gives null and clears all three cookies", func(t *testing.T) {
			old := e.client()
			old.signIn(email, pw)
			e.clock.Add(8 * 24 * time.Hour)
			r := old.do("GET", "/api/auth/get-session", nil)
			sc := r.header.Values("Set-Cookie")
			if string(r.body) != "null" || len(sc) != 3 {
				t.Fatalf("got %q with cookies %q", r.body, sc)
			}
			for _, name := range []string{"session_token", "session_data", "dont_remember"} {
				if !strings.Contains(strings.Join(sc, "\n"), "better-auth."+name+"=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax") {
					t.Errorf("%s not cleared: %q", name, sc)
				}
			}
		})

		t.Run("sign-out deletes the session and clears cookies", func(t *testing.T) {
			s := e.client()
			s.signIn(email, pw)
			r := s.do("POST", "/api/auth/sign-out", map[string]any{})
			if r.status != 200 || string(r.body) != `{"success":true}` || len(r.header.Values("Set-Cookie")) != 3 {
				t.Fatalf("got %d %s %q", r.status, r.body, r.header.Values("Set-Cookie"))
			}
			if s.session() != nil {
				t.Error("session still valid after sign-out")
			}
			if got := e.client().do("POST", "/api/auth/sign-out", nil); got.status != 200 {
				t.Errorf("sign-out without a session: %d", got.status)
			}
		})

		t.Run("a revoked session's signed cookie gives null and clearing cookies", func(t *testing.T) {
			s := e.client()
			s.signIn(email, pw)
			saved := s.cookies["better-auth.session_token"]
			s.do("POST", "/api/auth/sign-out", nil)
			s.cookies["better-auth.session_token"] = saved
			r := s.do("GET", "/api/auth/get-session", nil)
			if string(r.body) != "null" || len(r.header.Values("Set-Cookie")) != 3 {
				t.Fatalf("got %q %q", r.body, r.header.Values("Set-Cookie"))
			}
			s.cookies["better-auth.session_token"] = saved
			s.do("GET", "/api/auth/token", nil).wantError(t, 401, "UNAUTHORIZED")
		})
	})
}

func TestSecureCookies(t *testing.T) {
	e := newEnv(t, engines()[0].Open(t), envOptions{secure: true})
	r := e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"name": "S", "email": uniqueEmail(), "password": pw})
	sc := r.header.Get("Set-Cookie")
	if !strings.HasPrefix(sc, "__Secure-better-auth.session_token=") || !strings.HasSuffix(sc, "; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax") {
		t.Fatalf("Set-Cookie = %q", sc)
	}
}

func TestTokensAndKeys(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, st store.Store) {
				e := newEnv(t, st, envOptions{alg: alg})
				c := e.client()
				email := uniqueEmail()
				id := c.signUp(email)

				t.Run("token needs a session", func(t *testing.T) {
					e.client().do("GET", "/api/auth/token", nil).wantError(t, 401, "UNAUTHORIZED")
				})

				var first *jwt.Token
				t.Run("token returns a JWT with Better Auth's claims that verifies against the JWKS", func(t *testing.T) {
					r := c.do("GET", "/api/auth/token", nil)
					raw := r.json(t)["token"].(string)
					tok, err := e.verify(raw)
					if err != nil {
						t.Fatalf("verify: %v", err)
					}
					first = tok
					if tok.Header["alg"] != alg || tok.Header["kid"] == nil || tok.Header["typ"] != nil {
						t.Errorf("header = %v", tok.Header)
					}
					cl := tok.Claims.(jwt.MapClaims)
					iat, exp := cl["iat"].(float64), cl["exp"].(float64)
					if cl["sub"] != id || cl["id"] != id || cl["email"] != email || cl["name"] != "Reader" ||
						cl["emailVerified"] != false || exp-iat != 900 || cl["aud"] != e.url {
						t.Errorf("claims = %v", cl)
					}
					if _, ok := cl["image"]; !ok {
						t.Error("image claim missing (Better Auth sends null)")
					}
				})

				t.Run("rotation keeps old tokens valid and new tokens carry the new kid", func(t *testing.T) {
					old := c.do("GET", "/api/auth/token", nil).json(t)["token"].(string)
					k, err := e.keys.Rotate(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					if _, err := e.verify(old); err != nil {
						t.Errorf("token from before rotation no longer verifies: %v", err)
					}
					fresh, err := e.verify(c.do("GET", "/api/auth/token", nil).json(t)["token"].(string))
					if err != nil {
						t.Fatal(err)
					}
					if fresh.Header["kid"] != k.ID || fresh.Header["kid"] == first.Header["kid"] {
						t.Errorf("new token kid %v, rotated key %s, old %v", fresh.Header["kid"], k.ID, first.Header["kid"])
					}
					// Once every old token has expired, the old key leaves the JWKS.
					e.clock.Add(20 * time.Minute)
					if _, err := e.keys.Rotate(t.Context()); err != nil {
						t.Fatal(err)
					}
					var jwks struct{ Keys []map[string]any }
					jwksBody := e.client().do("GET", "/api/auth/jwks", nil)
					if err := jsonUnmarshal(jwksBody.body, &jwks); err != nil {
						t.Fatal(err)
					}
					for _, key := range jwks.Keys {
						if key["kid"] == first.Header["kid"] {
							t.Errorf("key %v still published long after rotation", key["kid"])
						}
					}
				})
			})
		})
	}
}

func TestBodyDecoding(t *testing.T) {
	e := newEnv(t, engines()[0].Open(t), envOptions{})
	for _, tc := range []struct {
		name, body, message string
	}{
		{"a JSON array is not an object", `[1,2]`, "[body] Invalid input: expected object, received array"},
		{"a boolean where a string belongs names the field", `{"name":"n","email":true,"password":"xxxxxxxxxx"}`, "[body.email] Invalid input: expected string, received bool"},
		{"a string where a boolean belongs names the field", `{"name":"n","email":"a@b.co","password":"xxxxxxxxxx","rememberMe":"yes"}`, "[body.rememberMe] Invalid input: expected boolean, received string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.client().do("POST", "/api/auth/sign-up/email", tc.body)
			r.wantError(t, 400, "VALIDATION_ERROR")
			if got := r.json(t)["message"]; got != tc.message {
				t.Errorf("message = %q, want %q", got, tc.message)
			}
		})
	}
	t.Run("an empty JSON body is an empty object", func(t *testing.T) {
		e.client().do("POST", "/api/auth/sign-up/email", "").wantError(t, 400, "VALIDATION_ERROR")
	})
}

// TestTokenReuse: /token and get-session serve the session's last JWT again
// while it has two thirds of its life left, and a new one once the user's
// profile changed, the signing key rotated, or the token has aged; a signed
// out or revoked session gets none, and a reused token never outlives its
// session.
func TestTokenReuse(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, envOptions{})
		c := e.client()
		email := uniqueEmail()
		c.signUp(email)
		token := func(c *client) string {
			t.Helper()
			r := c.do("GET", "/api/auth/token", nil)
			if r.status != 200 {
				t.Fatalf("token: %d %s", r.status, r.body)
			}
			return r.json(t)["token"].(string)
		}

		first := token(c)
		if again := token(c); again != first {
			t.Error("a second /token signed a new JWT while the first had most of its life left")
		}
		if got := c.do("GET", "/api/auth/get-session", nil).header.Get("Set-Auth-Jwt"); got != first {
			t.Error("get-session's set-auth-jwt is not the session's current JWT")
		}

		e.clock.Add(4 * time.Minute) // 11 of 15 minutes left
		if again := token(c); again != first {
			t.Error("a JWT with 11 of its 15 minutes left was not served again")
		}
		e.clock.Add(2 * time.Minute) // 9 left: less than two thirds
		aged := token(c)
		if aged == first {
			t.Error("a JWT with less than two thirds of its life left was served again")
		}

		if r := c.do("POST", "/api/auth/update-user", map[string]any{"name": "Renamed"}); r.status != 200 {
			t.Fatalf("update-user: %d %s", r.status, r.body)
		}
		renamed := token(c)
		tok, err := e.verify(renamed)
		if err != nil || renamed == aged || tok.Claims.(jwt.MapClaims)["name"] != "Renamed" {
			t.Errorf("after a profile change: the same JWT %v, or claims %v (%v)", renamed == aged, tok.Claims, err)
		}

		if _, err := e.keys.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
		if rotated := token(c); rotated == renamed {
			t.Error("after a key rotation the JWT of the old key was served again")
		}

		// Another device of the same reader revokes this session: it gets
		// no token, the one it had cached included.
		other := e.client()
		if r := other.signIn(email, pw); r.status != 200 {
			t.Fatalf("sign-in: %d %s", r.status, r.body)
		}
		token(c)
		if r := other.do("POST", "/api/auth/revoke-sessions", map[string]any{}); r.status != 200 {
			t.Fatalf("revoke-sessions: %d %s", r.status, r.body)
		}
		c.do("GET", "/api/auth/token", nil).wantError(t, 401, "UNAUTHORIZED")

		// Near its session's end, a token that would outlive the session is
		// not served again.
		last := e.client()
		if r := last.signIn(email, pw); r.status != 200 {
			t.Fatalf("sign-in: %d %s", r.status, r.body)
		}
		token(last)
		e.clock.Add(7*24*time.Hour - 10*time.Minute) // the session has 10 minutes left
		near := token(last)
		e.clock.Add(time.Second) // a JWT signed anew differs from near by its times
		if again := token(last); again == near {
			t.Error("a JWT that outlives its session was served again")
		}
		if r := last.do("POST", "/api/auth/sign-out", map[string]any{}); r.status != 200 {
			t.Fatalf("sign-out: %d %s", r.status, r.body)
		}
		last.do("GET", "/api/auth/token", nil).wantError(t, 401, "UNAUTHORIZED")
	})
}

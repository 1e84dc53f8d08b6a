package authn_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lectern/lectern/internal/authn"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/keys"
)

// source is a KeySource under test, built over a fixture.
type source struct {
	name string
	make func(t *testing.T, f *fixture) authn.KeySource
}

var sources = []source{
	{"in-process keyring", func(t *testing.T, f *fixture) authn.KeySource {
		return authn.InProcess(f.verifying)
	}},
	{"remote JWKS", func(t *testing.T, f *fixture) authn.KeySource {
		set := f.jwks(t)
		srv := newJWKSServer(t, func() []byte { return set })
		return newRemote(t, srv.URL, authn.RemoteOptions{RefreshInterval: time.Hour})
	}},
}

// guarded serves v.Require in front of a handler that reports the principal
// and counts the requests that reach it.
func guarded(t *testing.T, v *authn.Verifier) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var reached atomic.Int64
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		p, ok := authn.FromContext(r.Context())
		if !ok {
			t.Error("no principal behind Require")
		}
		io.WriteString(w, p.UserID)
	})
	srv := httptest.NewServer(v.Require(next))
	t.Cleanup(srv.Close)
	return srv, &reached
}

func get(t *testing.T, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// checkUnauthorized asserts the one 401 response every failure gets.
func checkUnauthorized(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", resp.StatusCode)
	}
	if body != unauthed {
		t.Errorf("body %q, want %q", body, unauthed)
	}
	if got := resp.Header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != "Bearer" {
		t.Errorf("WWW-Authenticate %q, want exactly Bearer", got)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

type attack struct {
	name   string
	header string // the Authorization value; "" sends none
	reason authn.Reason
}

// attacks returns the JWT attack suite against f.
func attacks(t *testing.T, f *fixture) []attack {
	rsaPub := f.publicKey(t, keys.RS256).(*rsa.PublicKey)
	der, err := x509.MarshalPKIXPublicKey(rsaPub)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, otherEd, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsKid, esKid, edKid := f.kids[keys.RS256], f.kids[keys.ES256], f.kids[keys.EdDSA]
	hdr := func(alg, kid string) map[string]any { return map[string]any{"alg": alg, "kid": kid} }
	good := f.claims()
	valid := f.sign(t, keys.RS256, good)
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + b64(mustJSON(t, f.claims(func(c map[string]any) {
		c["sub"], c["id"] = "someone-else", "someone-else"
	}))) + "." + parts[2]
	huge := "Bearer " + strings.Repeat("A", 100<<10/2) + "." + strings.Repeat("A", 100<<10/2) + ".AAAA"

	set := func(k string, v any) func(map[string]any) { return func(c map[string]any) { c[k] = v } }
	del := func(k string) func(map[string]any) { return func(c map[string]any) { delete(c, k) } }
	in := func(d time.Duration) int64 { return f.now.Add(d).Unix() }

	return []attack{
		{"a request without an Authorization header is refused", "", authn.ReasonMissing},
		{"the Basic scheme is refused", "Basic dXNlcjpwYXNz", authn.ReasonMissing},
		{"Bearer with no token is refused", "Bearer", authn.ReasonMissing},
		{"Bearer and a space with no token is refused", "Bearer ", authn.ReasonMissing},
		{"a scheme that only starts with Bearer is refused", "Bearer" + valid, authn.ReasonMissing},
		{"bearer with two spaces and x is refused", "bearer  x", authn.ReasonMalformed},
		{"bearer with two spaces before a valid token is refused", "bearer  " + valid, authn.ReasonMalformed},
		{"garbage is refused", "Bearer not-a-jwt", authn.ReasonMalformed},
		{"three garbage segments are refused", "Bearer a.b.c", authn.ReasonMalformed},
		{"a token with padding is refused", "Bearer " + valid + "==", authn.ReasonMalformed},
		{"alg none without a signature is refused", "Bearer " + forge(t, hdr("none", rsKid), good, nil, nil), authn.ReasonMalformed},
		{"alg none with a signature is refused", "Bearer " + forge(t, hdr("none", rsKid), good, nil, nil) + "c2ln", authn.ReasonBadAlg},
		{"an unknown alg is refused", "Bearer " + forge(t, hdr("XS256", rsKid), good, nil, nil) + "c2ln", authn.ReasonBadAlg},
		{"HS256 keyed with the RSA public key PEM is refused", "Bearer " + forge(t, hdr("HS256", rsKid), good, jwt.SigningMethodHS256, pemBytes), authn.ReasonBadAlg},
		{"HS256 keyed with the RSA public key DER is refused", "Bearer " + forge(t, hdr("HS256", rsKid), good, jwt.SigningMethodHS256, der), authn.ReasonBadAlg},
		{"RS512 under a known RSA kid is refused", "Bearer " + forge(t, hdr("RS512", rsKid), good, jwt.SigningMethodRS512, otherRSA), authn.ReasonBadAlg},
		{"an unknown kid is refused", "Bearer " + forge(t, hdr("RS256", "no-such-kid"), good, jwt.SigningMethodRS256, otherRSA), authn.ReasonUnknownKID},
		{"a token without a kid is refused", "Bearer " + forge(t, map[string]any{"alg": "RS256"}, good, jwt.SigningMethodRS256, otherRSA), authn.ReasonMalformed},
		{"a crit header is refused", "Bearer " + forge(t, map[string]any{"alg": "EdDSA", "kid": edKid, "crit": []string{"exp"}}, good, jwt.SigningMethodEdDSA, otherEd), authn.ReasonMalformed},
		{"the right kid signed by a different key is refused", "Bearer " + forge(t, hdr("RS256", rsKid), good, jwt.SigningMethodRS256, otherRSA), authn.ReasonBadSignature},
		{"an EdDSA kid signed by a different key is refused", "Bearer " + forge(t, hdr("EdDSA", edKid), good, jwt.SigningMethodEdDSA, otherEd), authn.ReasonBadSignature},
		{"an ES256 token whose kid names an RSA key is refused", "Bearer " + forge(t, hdr("ES256", rsKid), good, jwt.SigningMethodES256, otherEC), authn.ReasonBadAlg},
		{"an RS256 token whose kid names an Ed25519 key is refused", "Bearer " + forge(t, hdr("RS256", edKid), good, jwt.SigningMethodRS256, otherRSA), authn.ReasonBadAlg},
		{"an EdDSA token whose kid names an ES256 key is refused", "Bearer " + forge(t, hdr("EdDSA", esKid), good, jwt.SigningMethodEdDSA, otherEd), authn.ReasonBadAlg},
		{"an expired token is refused", "Bearer " + f.sign(t, keys.RS256, f.claims(set("exp", in(-time.Hour)), set("iat", in(-2*time.Hour)))), authn.ReasonExpired},
		{"a token expired just beyond the leeway is refused", "Bearer " + f.sign(t, keys.EdDSA, f.claims(set("exp", in(-31*time.Second)), set("iat", in(-time.Hour)))), authn.ReasonExpired},
		{"a token without exp is refused", "Bearer " + f.sign(t, keys.EdDSA, f.claims(del("exp"))), authn.ReasonBadClaims},
		{"a token not yet valid is refused", "Bearer " + f.sign(t, keys.ES256, f.claims(set("nbf", in(time.Hour)))), authn.ReasonNotYetValid},
		{"a token issued in the future is refused", "Bearer " + f.sign(t, keys.EdDSA, f.claims(set("iat", in(time.Hour)), set("exp", in(2*time.Hour)))), authn.ReasonNotYetValid},
		{"a token from another issuer is refused", "Bearer " + f.sign(t, keys.RS256, f.claims(set("iss", "https://evil.example"))), authn.ReasonBadIssuer},
		{"a token without an issuer is refused", "Bearer " + f.sign(t, keys.RS256, f.claims(del("iss"))), authn.ReasonBadIssuer},
		{"a token for another audience is refused", "Bearer " + f.sign(t, keys.ES256, f.claims(set("aud", "https://other.example"))), authn.ReasonBadAudience},
		{"a token without an audience is refused", "Bearer " + f.sign(t, keys.ES256, f.claims(del("aud"))), authn.ReasonBadAudience},
		{"a tampered payload with the original signature is refused", "Bearer " + tampered, authn.ReasonBadSignature},
		{"a token without sub is refused", "Bearer " + f.sign(t, keys.EdDSA, f.claims(del("sub"))), authn.ReasonBadClaims},
		{"a token whose sub differs from id is refused", "Bearer " + f.sign(t, keys.EdDSA, f.claims(set("sub", "someone-else"))), authn.ReasonBadClaims},
		{"a claim of the wrong type is refused", "Bearer " + f.sign(t, keys.EdDSA, f.claims(set("emailVerified", "yes"))), authn.ReasonMalformed},
		{"a 100 KB token is refused", huge, authn.ReasonTooLarge},
		{"a token of 100 000 dots is refused", "Bearer " + strings.Repeat(".", 100_000), authn.ReasonTooLarge},
		{"a dot-stuffed token under the size cap is refused", "Bearer " + parts[0] + strings.Repeat(".", 4000) + parts[2], authn.ReasonMalformed},
		{"a JWE-shaped five-part token is refused", "Bearer " + b64([]byte(`{"alg":"RSA-OAEP","enc":"A256GCM","kid":"`+rsKid+`"}`)) + ".a2V5.aXY.Y2lwaGVy.dGFn", authn.ReasonMalformed},
	}
}

func TestRequireRefusesAttacks(t *testing.T) {
	f := newFixture(t)
	cases := attacks(t, f)
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			v := authn.NewVerifier(src.make(t, f), f.verifierOptions())
			srv, reached := guarded(t, v)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					_, err := v.Verify(context.Background(), c.header)
					if !errors.Is(err, c.reason) {
						t.Errorf("Verify: %v, want reason %s", err, c.reason)
					}
					h := http.Header{}
					if c.header != "" {
						h.Set("Authorization", c.header)
					}
					before := reached.Load()
					resp, body := get(t, srv.URL+"/api/me", h)
					checkUnauthorized(t, resp, body)
					if reached.Load() != before {
						t.Error("the handler behind Require ran")
					}
				})
			}
		})
	}
}

func TestVerifyAcceptsValidTokens(t *testing.T) {
	f := newFixture(t)
	img := image
	want := authn.Principal{UserID: userID, Email: "ada@example.com", Name: "Ada Lovelace",
		EmailVerified: true, Image: &img, ExpiresAt: f.now.Add(15 * time.Minute)}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			v := authn.NewVerifier(src.make(t, f), f.verifierOptions())
			for _, alg := range algs {
				t.Run(alg+" yields the token's principal", func(t *testing.T) {
					p, err := v.Verify(context.Background(), "Bearer "+f.sign(t, alg, f.claims()))
					if err != nil {
						t.Fatal(err)
					}
					checkPrincipal(t, p, want)
				})
			}
			t.Run("a null image yields a nil Image", func(t *testing.T) {
				tok := f.sign(t, keys.EdDSA, f.claims(func(c map[string]any) {
					c["image"], c["emailVerified"] = nil, false
				}))
				p, err := v.Verify(context.Background(), "Bearer "+tok)
				if err != nil {
					t.Fatal(err)
				}
				w := want
				w.Image, w.EmailVerified = nil, false
				checkPrincipal(t, p, w)
			})
			t.Run("the scheme is matched without regard to case", func(t *testing.T) {
				tok := f.sign(t, keys.ES256, f.claims())
				for _, scheme := range []string{"bearer ", "BEARER ", "bEaReR "} {
					if _, err := v.Verify(context.Background(), scheme+tok); err != nil {
						t.Errorf("%q: %v", scheme, err)
					}
				}
			})
			t.Run("a token expired within the leeway is accepted", func(t *testing.T) {
				tok := f.sign(t, keys.RS256, f.claims(func(c map[string]any) {
					c["exp"], c["iat"] = f.now.Add(-20*time.Second).Unix(), f.now.Add(-15*time.Minute).Unix()
				}))
				if _, err := v.Verify(context.Background(), "Bearer "+tok); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("a token issued slightly in the future is accepted", func(t *testing.T) {
				tok := f.sign(t, keys.RS256, f.claims(func(c map[string]any) {
					c["iat"], c["nbf"] = f.now.Add(20*time.Second).Unix(), f.now.Add(20*time.Second).Unix()
				}))
				if _, err := v.Verify(context.Background(), "Bearer "+tok); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("an audience array that holds ours is accepted", func(t *testing.T) {
				tok := f.sign(t, keys.EdDSA, f.claims(func(c map[string]any) {
					c["aud"] = []string{"https://other.example", issuer}
				}))
				if _, err := v.Verify(context.Background(), "Bearer "+tok); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("a token without id but with sub is accepted", func(t *testing.T) {
				tok := f.sign(t, keys.EdDSA, f.claims(func(c map[string]any) { delete(c, "id") }))
				if _, err := v.Verify(context.Background(), "Bearer "+tok); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("Require passes the principal to the handler", func(t *testing.T) {
				srv, reached := guarded(t, v)
				resp, body := get(t, srv.URL, http.Header{"Authorization": {"Bearer " + f.sign(t, keys.EdDSA, f.claims())}})
				if resp.StatusCode != http.StatusOK || body != userID || reached.Load() != 1 {
					t.Fatalf("status %d body %q reached %d", resp.StatusCode, body, reached.Load())
				}
			})
		})
	}
}

func checkPrincipal(t *testing.T, got, want authn.Principal) {
	t.Helper()
	if got.UserID != want.UserID || got.Email != want.Email || got.Name != want.Name ||
		got.EmailVerified != want.EmailVerified || !got.ExpiresAt.Equal(want.ExpiresAt) ||
		(got.Image == nil) != (want.Image == nil) || got.Image != nil && *got.Image != *want.Image {
		t.Errorf("principal %+v (image %v), want %+v (image %v)", got, deref(got.Image), want, deref(want.Image))
	}
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func TestRequireIgnoresOtherCredentials(t *testing.T) {
	f := newFixture(t)
	v := authn.NewVerifier(authn.InProcess(f.verifying), f.verifierOptions())
	srv, _ := guarded(t, v)
	tok := f.sign(t, keys.EdDSA, f.claims())

	t.Run("an X-User-ID header alone is refused", func(t *testing.T) {
		resp, body := get(t, srv.URL, http.Header{"X-User-Id": {userID}})
		checkUnauthorized(t, resp, body)
	})
	t.Run("a token in the query string is refused", func(t *testing.T) {
		for _, q := range []string{"?access_token=", "?token=", "?jwt="} {
			resp, body := get(t, srv.URL+q+tok, nil)
			checkUnauthorized(t, resp, body)
		}
	})
	t.Run("a token in a cookie is refused", func(t *testing.T) {
		resp, body := get(t, srv.URL, http.Header{"Cookie": {"token=" + tok + "; better-auth.session_token=" + tok}})
		checkUnauthorized(t, resp, body)
	})
	t.Run("two Authorization headers are refused even when both are valid", func(t *testing.T) {
		resp, body := get(t, srv.URL, http.Header{"Authorization": {"Bearer " + tok, "Bearer " + tok}})
		checkUnauthorized(t, resp, body)
	})
	t.Run("X-User-ID does not change whom the token names", func(t *testing.T) {
		resp, body := get(t, srv.URL, http.Header{"Authorization": {"Bearer " + tok}, "X-User-Id": {"admin"}})
		if resp.StatusCode != http.StatusOK || body != userID {
			t.Fatalf("status %d, principal %q", resp.StatusCode, body)
		}
	})
}

func TestRequireLogsTheReasonButNeverTheToken(t *testing.T) {
	f := newFixture(t)
	v := authn.NewVerifier(authn.InProcess(f.verifying), f.verifierOptions())
	var logs logBuffer
	h := httpx.RequestID(logs.logger())(v.Require(http.NotFoundHandler()))
	expired := f.sign(t, keys.EdDSA, f.claims(func(c map[string]any) { c["exp"] = f.now.Add(-time.Hour).Unix() }))
	forged := forge(t, map[string]any{"alg": "HS256", "kid": strings.Repeat("k", 5000)}, f.claims(), jwt.SigningMethodHS256, []byte("secret"))
	for _, c := range []struct {
		name, token string
		reason      authn.Reason
	}{
		{"an expired token logs expired", expired, authn.ReasonExpired},
		{"a forged token logs bad_alg without its long kid", forged, authn.ReasonBadAlg},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer "+c.token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized || rec.Body.String() != unauthed {
				t.Fatalf("status %d body %q", rec.Code, rec.Body)
			}
			out := logs.String()
			if !contains(out, "level=DEBUG", "bearer token rejected", "reason="+string(c.reason)) {
				t.Errorf("log lacks the reason:\n%s", out)
			}
			for i, part := range strings.Split(c.token, ".") {
				if strings.Contains(out, part) {
					t.Errorf("log holds part %d of the token:\n%s", i, out)
				}
			}
			if strings.Contains(out, strings.Repeat("k", 100)) {
				t.Error("log holds an unclipped kid")
			}
		})
	}
}

// fakeKeys is a PublicKeyer whose kid "liar" claims an alg its key does not fit.
type fakeKeys struct{ pub crypto.PublicKey }

func (k fakeKeys) PublicKey(_ context.Context, kid string) (crypto.PublicKey, string, bool) {
	if kid != "liar" {
		return nil, "", false
	}
	return k.pub, "ES256", true
}

func TestInProcessChecksTheKeyType(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	src := authn.InProcess(fakeKeys{pub: &rsaKey.PublicKey})
	t.Run("an RSA key listed as ES256 is refused for ES256", func(t *testing.T) {
		if _, err := src.Key(context.Background(), "liar", "ES256"); !errors.Is(err, authn.ReasonBadAlg) {
			t.Fatalf("err %v, want bad_alg", err)
		}
	})
	t.Run("an unknown kid is reported as such", func(t *testing.T) {
		if _, err := src.Key(context.Background(), "other", "RS256"); authn.ReasonOf(err) != authn.ReasonUnknownKID {
			t.Fatalf("err %v, want unknown_kid", err)
		}
	})
}

func TestContextCarriesThePrincipal(t *testing.T) {
	t.Run("an empty context has no principal", func(t *testing.T) {
		if _, ok := authn.FromContext(context.Background()); ok {
			t.Fatal("found a principal")
		}
	})
	t.Run("WithPrincipal's principal comes back", func(t *testing.T) {
		p := authn.Principal{UserID: "u1", Email: "u1@example.com"}
		got, ok := authn.FromContext(authn.WithPrincipal(context.Background(), p))
		if !ok || got != p {
			t.Fatalf("got %+v, %v", got, ok)
		}
	})
}

// FuzzVerify feeds arbitrary Authorization values to Verify: it must never
// panic, and whatever it accepts must be the fixture's user, since nothing
// but the seeds is signed.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	v := authn.NewVerifier(authn.InProcess(fx.verifying), fx.verifierOptions())
	for _, alg := range algs {
		f.Add("Bearer " + fx.sign(f, alg, fx.claims()))
	}
	f.Add("Bearer a.b.c")
	f.Add("Basic x")
	f.Add("Bearer ..")
	f.Add("Bearer " + strings.Repeat("a.", 10))
	f.Fuzz(func(t *testing.T, h string) {
		p, err := v.Verify(context.Background(), h)
		if err == nil && p.UserID != userID {
			t.Fatalf("accepted %q as %+v", h, p)
		}
		if err != nil && authn.ReasonOf(err) == "" {
			t.Fatalf("error without a reason: %v", err)
		}
	})
}

func TestRequireReportsTheReasonOfEachRejection(t *testing.T) {
	f := newFixture(t)
	var got []authn.Reason
	opt := f.verifierOptions()
	opt.OnReject = func(r authn.Reason) { got = append(got, r) }
	v := authn.NewVerifier(authn.InProcess(f.verifying), opt)
	h := v.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	serve := func(authorization ...string) int {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, a := range authorization {
			req.Header.Add("Authorization", a)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}

	for _, c := range attacks(t, f) {
		t.Run(c.name, func(t *testing.T) {
			got = nil
			var code int
			if c.header == "" {
				code = serve()
			} else {
				code = serve(c.header)
			}
			if code != http.StatusUnauthorized || len(got) != 1 || got[0] != c.reason {
				t.Errorf("status %d, reported %v, want 401 and [%s]", code, got, c.reason)
			}
		})
	}
	t.Run("two Authorization headers are reported malformed", func(t *testing.T) {
		got = nil
		tok := "Bearer " + f.sign(t, keys.EdDSA, f.claims())
		if code := serve(tok, tok); code != http.StatusUnauthorized || len(got) != 1 || got[0] != authn.ReasonMalformed {
			t.Errorf("status %d, reported %v", code, got)
		}
	})
	t.Run("a valid token is not reported", func(t *testing.T) {
		got = nil
		if code := serve("Bearer " + f.sign(t, keys.EdDSA, f.claims())); code != http.StatusOK || len(got) != 0 {
			t.Errorf("status %d, reported %v", code, got)
		}
	})
}

// TestLongLivedTokensAreRefused checks that a token valid for longer than
// the maximum lifetime is refused, however well signed (a token valid for
// a month was accepted before).
func TestLongLivedTokensAreRefused(t *testing.T) {
	f := newFixture(t)
	v := authn.NewVerifier(authn.InProcess(f.verifying), f.verifierOptions())
	for _, tc := range []struct {
		name string
		mod  func(map[string]any)
		ok   bool
	}{
		{"fifteen minutes", func(map[string]any) {}, true},
		{"a day", func(c map[string]any) { c["exp"] = f.now.Add(24 * time.Hour).Unix() }, true},
		{"a month", func(c map[string]any) { c["exp"] = f.now.Add(30 * 24 * time.Hour).Unix() }, false},
		{"a month from now without iat", func(c map[string]any) {
			delete(c, "iat")
			c["exp"] = f.now.Add(30 * 24 * time.Hour).Unix()
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), "Bearer "+f.sign(t, keys.EdDSA, f.claims(tc.mod)))
			if ok := err == nil; ok != tc.ok {
				t.Errorf("accepted %v (%v), want %v", ok, err, tc.ok)
			}
			if !tc.ok && authn.ReasonOf(err) != authn.ReasonBadClaims {
				t.Errorf("reason %q, want %q", authn.ReasonOf(err), authn.ReasonBadClaims)
			}
		})
	}
}

package authn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/lectern/lectern/internal/authn"
	"github.com/lectern/lectern/internal/keys"
	"github.com/lectern/lectern/internal/store/sqlite"
)

// newRing returns a Keyring of alg over a fresh SQLite store.
func newRing(t *testing.T, alg string) *keys.Keyring {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "identity.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	kr, err := keys.New(ctx, st, keys.Options{Alg: alg, Secret: []byte("a test secret of at least 32 bytes....."), RefreshEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// ringSet serves kr's current JWKS.
func ringSet(t *testing.T, kr *keys.Keyring) func() []byte {
	return func() []byte {
		b, err := kr.JWKS(context.Background())
		if err != nil {
			t.Error(err)
		}
		return b
	}
}

// ringToken returns a valid token from kr at now.
func ringToken(t *testing.T, kr *keys.Keyring, now time.Time) string {
	t.Helper()
	f := &fixture{now: now}
	tok, err := kr.Sign(context.Background(), mustJSON(t, f.claims()))
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok
}

// verifier checks every token against src: no verified-token cache, so
// these tests exercise the key source each time.
func verifier(src authn.KeySource, now time.Time) *authn.Verifier {
	return authn.NewVerifier(src, authn.Options{Issuer: issuer, Audience: issuer, Now: func() time.Time { return now }, CacheSize: -1})
}

func TestRemoteKeepsKeysWhileTheJWKSEndpointFails(t *testing.T) {
	kr := newRing(t, keys.EdDSA)
	now := time.Now()
	tok := ringToken(t, kr, now)
	for _, mode := range []string{mode500, modeClose, modeTruncated, modeHang, modeHuge, modeEmpty, modeHTML} {
		t.Run("tokens still verify when the endpoint "+mode, func(t *testing.T) {
			srv := newJWKSServer(t, ringSet(t, kr))
			var logs logBuffer
			r := newRemote(t, srv.URL, authn.RemoteOptions{
				RefreshInterval: 5 * time.Millisecond,
				HTTPTimeout:     100 * time.Millisecond,
				Logger:          logs.logger(),
			})
			v := verifier(r, now)
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Fatalf("before the failure: %v", err)
			}
			srv.setMode(mode)
			from := srv.fetches.Load()
			eventually(t, "three fetches failed", func() bool { return srv.fetches.Load() >= from+3 })
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Fatalf("after failed fetches: %v", err)
			}
			if out := logs.String(); !contains(out, "level=WARN", "JWKS fetch failed; keeping the cached keys", "keys=1") {
				t.Errorf("no warning logged:\n%s", out)
			}
		})
	}
}

func TestRemoteFollowsARotation(t *testing.T) {
	ctx := context.Background()
	kr := newRing(t, keys.EdDSA)
	now := time.Now()
	srv := newJWKSServer(t, ringSet(t, kr))
	r := newRemote(t, srv.URL, authn.RemoteOptions{RefreshInterval: time.Hour})
	v := verifier(r, now)
	oldTok := ringToken(t, kr, now)
	if _, err := v.Verify(ctx, oldTok); err != nil {
		t.Fatal(err)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches at start-up, want 1", n)
	}
	if _, err := kr.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	newTok := ringToken(t, kr, now)

	t.Run("a token with the new kid triggers exactly one refetch and verifies", func(t *testing.T) {
		if _, err := v.Verify(ctx, newTok); err != nil {
			t.Fatal(err)
		}
		if n := srv.fetches.Load(); n != 2 {
			t.Fatalf("%d fetches, want 2", n)
		}
	})
	t.Run("old and new tokens keep verifying without more fetches", func(t *testing.T) {
		for range 10 {
			for _, tok := range []string{oldTok, newTok} {
				if _, err := v.Verify(ctx, tok); err != nil {
					t.Fatal(err)
				}
			}
		}
		if n := srv.fetches.Load(); n != 2 {
			t.Fatalf("%d fetches, want 2", n)
		}
	})
}

func TestRemoteBoundsRefetchesUnderAFloodOfUnknownKids(t *testing.T) {
	kr := newRing(t, keys.EdDSA)
	now := time.Now()
	srv := newJWKSServer(t, ringSet(t, kr))
	r := newRemote(t, srv.URL, authn.RemoteOptions{RefreshInterval: time.Hour})
	v := verifier(r, now)
	_, attacker, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	claims := (&fixture{now: now}).claims()
	tokens := make([]string, 1000)
	for i := range tokens {
		hdr := map[string]any{"alg": "EdDSA", "kid": fmt.Sprintf("random-%d-%x", i, now.UnixNano())}
		tokens[i] = "Bearer " + forge(t, hdr, claims, jwt.SigningMethodEdDSA, attacker)
	}
	before := srv.fetches.Load()

	var wg sync.WaitGroup
	errs := make(chan error, len(tokens))
	for w := range 32 {
		wg.Go(func() {
			for i := w; i < len(tokens); i += 32 {
				if _, err := v.Verify(context.Background(), tokens[i]); !errors.Is(err, authn.ReasonUnknownKID) {
					errs <- fmt.Errorf("token %d: %v, want unknown_kid", i, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := srv.fetches.Load() - before; n < 1 || n > 2 {
		t.Fatalf("1000 unknown kids caused %d fetches, want 1 or 2", n)
	}
	t.Logf("1000 unknown kids caused %d fetch(es)", srv.fetches.Load()-before)
}

func TestRemoteStartsWhileTheJWKSEndpointIsDown(t *testing.T) {
	kr := newRing(t, keys.EdDSA)
	now := time.Now()
	tok := ringToken(t, kr, now)

	t.Run("start-up succeeds and tokens verify once a refetch finds the keys", func(t *testing.T) {
		srv := newJWKSServer(t, ringSet(t, kr))
		srv.setMode(mode500)
		var logs logBuffer
		r := newRemote(t, srv.URL, authn.RemoteOptions{
			RefreshInterval: time.Hour,
			RefetchInterval: 10 * time.Millisecond,
			Logger:          logs.logger(),
		})
		v := verifier(r, now)
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, authn.ReasonUnknownKID) {
			t.Fatalf("while down: %v, want unknown_kid", err)
		}
		if out := logs.String(); !contains(out, "JWKS fetch failed", "no signing keys yet") {
			t.Errorf("start-up failure not logged:\n%s", out)
		}
		srv.setMode(modeOK)
		eventually(t, "the token verifies", func() bool {
			_, err := v.Verify(context.Background(), tok)
			return err == nil
		})
	})

	t.Run("the background retry loads the keys without any token", func(t *testing.T) {
		srv := newJWKSServer(t, ringSet(t, kr))
		srv.setMode(mode500)
		r := newRemote(t, srv.URL, authn.RemoteOptions{
			RefreshInterval: 10 * time.Millisecond,
			RefetchInterval: time.Hour,
		})
		v := verifier(r, now)
		// Spend the one unknown-kid refetch, so only the background loop is
		// left to load the keys.
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, authn.ReasonUnknownKID) {
			t.Fatalf("while down: %v, want unknown_kid", err)
		}
		from := srv.fetches.Load()
		eventually(t, "retries happen while down", func() bool { return srv.fetches.Load() >= from+2 })
		srv.setMode(modeOK)
		eventually(t, "the token verifies", func() bool {
			_, err := v.Verify(context.Background(), tok)
			return err == nil
		})
	})

	t.Run("an unreachable endpoint is not an error", func(t *testing.T) {
		r, err := authn.NewRemote(context.Background(), "http://"+unusedAddr(t)+"/jwks", authn.RemoteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
	})
}

func TestRemoteCloseStopsFetching(t *testing.T) {
	kr := newRing(t, keys.EdDSA)
	now := time.Now()
	srv := newJWKSServer(t, ringSet(t, kr))
	r, err := authn.NewRemote(context.Background(), srv.URL, authn.RemoteOptions{RefreshInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "periodic refreshes run", func() bool { return srv.fetches.Load() >= 3 })
	r.Close()
	r.Close() // a second Close is harmless
	// Refreshes run one at a time, so at most one request was on its way
	// when Close returned: the server may count it later. No other may
	// start.
	n := srv.fetches.Load()
	time.Sleep(50 * time.Millisecond) // ten refresh intervals
	if m := srv.fetches.Load(); m > n+1 {
		t.Fatalf("%d fetches after Close", m-n)
	}
	t.Run("cached keys still answer after Close", func(t *testing.T) {
		if _, err := verifier(r, now).Verify(context.Background(), ringToken(t, kr, now)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an unknown kid after Close fetches nothing", func(t *testing.T) {
		if _, err := r.Key(context.Background(), "unknown", "EdDSA"); !errors.Is(err, authn.ReasonUnknownKID) {
			t.Fatalf("err %v", err)
		}
		if m := srv.fetches.Load(); m > n+1 {
			t.Fatalf("%d fetches after Close", m-n)
		}
	})
}

func TestNewRemoteRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "jwks", "/api/auth/jwks", "ftp://example.com/jwks", "http://", "http://%zz/jwks"} {
		t.Run(fmt.Sprintf("%q is refused", u), func(t *testing.T) {
			if r, err := authn.NewRemote(context.Background(), u, authn.RemoteOptions{}); err == nil {
				r.Close()
				t.Fatal("no error")
			}
		})
	}
}

// jwk encodes key for a JWKS, with the given metadata.
func jwk(t *testing.T, key any, kid, alg, use string) jwkset.JWKMarshal {
	t.Helper()
	j, err := jwkset.NewJWKFromKey(key, jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: jwkset.ALG(alg), USE: jwkset.USE(use)},
		Marshal:  jwkset.JWKMarshalOptions{Private: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	return j.Marshal()
}

func TestRemoteChecksKeyTypeAgainstAlg(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaShort, _ := rsa.GenerateKey(rand.Reader, 1024)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	_, edLeaked, _ := ed25519.GenerateKey(rand.Reader)
	hmacKey := []byte("a shared secret that must never verify anything")
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{
		jwk(t, &rsaKey.PublicKey, "rsa", "RS256", ""),
		jwk(t, &ecKey.PublicKey, "ec", "", ""), // no alg member: the key type decides
		jwk(t, edPub, "ed", "EdDSA", "sig"),
		jwk(t, &p384.PublicKey, "p384", "ES384", ""),
		jwk(t, hmacKey, "hmac", "HS256", ""),
		jwk(t, &rsaKey.PublicKey, "rsa-enc", "", "enc"),
		jwk(t, &rsaKey.PublicKey, "rsa-ps", "PS256", ""),
		jwk(t, &rsaShort.PublicKey, "rsa-1024", "RS256", ""),
		jwk(t, edLeaked, "ed-private", "EdDSA", ""),
	}}
	body, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	srv := newJWKSServer(t, func() []byte { return body })
	var logs logBuffer
	now := time.Now()
	v := verifier(newRemote(t, srv.URL, authn.RemoteOptions{RefreshInterval: time.Hour, Logger: logs.logger()}), now)
	claims := (&fixture{now: now}).claims()
	tok := func(alg, kid string, m jwt.SigningMethod, key any) string {
		return "Bearer " + forge(t, map[string]any{"alg": alg, "kid": kid}, claims, m, key)
	}
	for _, c := range []struct {
		name, token string
		reason      authn.Reason // "" for accepted
	}{
		{"an RS256 token verifies with an RSA key", tok("RS256", "rsa", jwt.SigningMethodRS256, rsaKey), ""},
		{"an ES256 token verifies with a P-256 key", tok("ES256", "ec", jwt.SigningMethodES256, ecKey), ""},
		{"an EdDSA token verifies with an Ed25519 key", tok("EdDSA", "ed", jwt.SigningMethodEdDSA, edKey), ""},
		{"an ES256 token naming an RSA key is refused", tok("ES256", "rsa", jwt.SigningMethodES256, ecKey), authn.ReasonBadAlg},
		{"an RS256 token naming an EC key is refused", tok("RS256", "ec", jwt.SigningMethodRS256, rsaKey), authn.ReasonBadAlg},
		{"an EdDSA token naming an RSA key is refused", tok("EdDSA", "rsa", jwt.SigningMethodEdDSA, edKey), authn.ReasonBadAlg},
		{"a P-384 key is not used", tok("ES256", "p384", jwt.SigningMethodES256, ecKey), authn.ReasonUnknownKID},
		{"an HMAC key in the set never verifies HS256", tok("HS256", "hmac", jwt.SigningMethodHS256, hmacKey), authn.ReasonBadAlg},
		{"an encryption key is not used", tok("RS256", "rsa-enc", jwt.SigningMethodRS256, rsaKey), authn.ReasonUnknownKID},
		{"a key for PS256 is not used for RS256", tok("RS256", "rsa-ps", jwt.SigningMethodRS256, rsaKey), authn.ReasonUnknownKID},
		{"a 1024-bit RSA key is not used", tok("RS256", "rsa-1024", jwt.SigningMethodRS256, rsaShort), authn.ReasonUnknownKID},
		{"a published private key is not used", tok("EdDSA", "ed-private", jwt.SigningMethodEdDSA, edLeaked), authn.ReasonUnknownKID},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), c.token)
			if c.reason == "" && err != nil || c.reason != "" && !errors.Is(err, c.reason) {
				t.Fatalf("err %v, want reason %q", err, c.reason)
			}
		})
	}
	if out := logs.String(); !contains(out, "JWKS keys loaded", "keys=3", "p384", "hmac", "rsa-enc", "rsa-ps", "rsa-1024", "ed-private") {
		t.Errorf("ignored keys not logged:\n%s", out)
	}
}

func TestRemoteUsesTheCallersClient(t *testing.T) {
	kr := newRing(t, keys.ES256)
	now := time.Now()
	srv := newJWKSServer(t, ringSet(t, kr))
	var seen sync.Map
	client := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		seen.Store(req.URL.Path, true)
		return http.DefaultTransport.RoundTrip(req)
	})}
	r := newRemote(t, srv.URL+"/api/auth/jwks", authn.RemoteOptions{Client: client})
	if _, err := verifier(r, now).Verify(context.Background(), ringToken(t, kr, now)); err != nil {
		t.Fatal(err)
	}
	if _, ok := seen.Load("/api/auth/jwks"); !ok {
		t.Fatal("the given client was not used")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

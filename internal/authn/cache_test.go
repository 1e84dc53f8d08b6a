package authn_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/authn"
	"github.com/lectern/lectern/internal/keys"
)

// countingSource counts key lookups (one per full verification) and can
// withdraw every key, as a JWKS that dropped them would.
type countingSource struct {
	src       authn.KeySource
	calls     atomic.Int64
	withdrawn atomic.Bool
}

func (c *countingSource) Key(ctx context.Context, kid, alg string) (crypto.PublicKey, error) {
	c.calls.Add(1)
	if c.withdrawn.Load() {
		return nil, errors.New("no such key")
	}
	return c.src.Key(ctx, kid, alg)
}

// corrupt changes one character in the middle of tok's signature, which
// (unlike the last character, whose low bits are padding) always changes
// the signature bytes.
func corrupt(tok string) string {
	i := len(tok) - 10
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

func TestVerifiedTokenCache(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	setup := func(t *testing.T, size int) (*countingSource, *authn.Verifier, *time.Time) {
		src := &countingSource{src: authn.InProcess(f.verifying)}
		now := f.now
		opt := f.verifierOptions()
		opt.Now = func() time.Time { return now }
		opt.CacheSize = size
		return src, authn.NewVerifier(src, opt), &now
	}
	tok := "Bearer " + f.sign(t, keys.EdDSA, f.claims())

	t.Run("a token verified once is not checked again", func(t *testing.T) {
		src, v, _ := setup(t, 0)
		for range 5 {
			p, err := v.Verify(ctx, tok)
			if err != nil || p.UserID != userID || p.Email != "ada@example.com" {
				t.Fatalf("%+v %v", p, err)
			}
		}
		if n := src.calls.Load(); n != 1 {
			t.Errorf("%d key lookups for 5 verifications of one token, want 1", n)
		}
	})

	t.Run("an expired token is refused even when cached", func(t *testing.T) {
		_, v, now := setup(t, 0)
		short := "Bearer " + f.sign(t, keys.EdDSA, f.claims(func(c map[string]any) { c["exp"] = f.now.Add(20 * time.Second).Unix() }))
		if _, err := v.Verify(ctx, short); err != nil {
			t.Fatal(err)
		}
		*now = now.Add(20*time.Second + authn.DefaultLeeway + time.Second)
		if _, err := v.Verify(ctx, short); authn.ReasonOf(err) != authn.ReasonExpired {
			t.Fatalf("got %v, want expired", err)
		}
	})

	t.Run("after the cache TTL a withdrawn key is no longer honoured", func(t *testing.T) {
		src, v, now := setup(t, 0)
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
		src.withdrawn.Store(true)
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("within the TTL the cached token should verify: %v", err)
		}
		*now = now.Add(authn.DefaultCacheTTL)
		if _, err := v.Verify(ctx, tok); err == nil {
			t.Fatal("a token whose key was withdrawn verified after the cache TTL")
		}
	})

	t.Run("refused tokens are never cached", func(t *testing.T) {
		src, v, _ := setup(t, 0)
		bad := corrupt(tok)
		for range 3 {
			if _, err := v.Verify(ctx, bad); err == nil {
				t.Fatal("a bad signature verified")
			}
		}
		if n := src.calls.Load(); n != 3 {
			t.Errorf("%d key lookups for 3 refused tokens, want 3", n)
		}
	})

	t.Run("the cache stays within its size", func(t *testing.T) {
		src, v, _ := setup(t, 8)
		var toks []string
		for i := range 40 {
			toks = append(toks, "Bearer "+f.sign(t, keys.EdDSA, f.claims(func(c map[string]any) { c["name"] = fmt.Sprint("reader ", i) })))
		}
		for _, tk := range toks {
			if _, err := v.Verify(ctx, tk); err != nil {
				t.Fatal(err)
			}
		}
		before := src.calls.Load()
		for _, tk := range toks {
			v.Verify(ctx, tk)
		}
		// At most 8 of the 40 can still be cached.
		if hits := 40 - (src.calls.Load() - before); hits > 8 {
			t.Errorf("%d cache hits with a cache of 8", hits)
		}
	})

	t.Run("a negative size turns the cache off", func(t *testing.T) {
		src, v, _ := setup(t, -1)
		for range 3 {
			if _, err := v.Verify(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		if n := src.calls.Load(); n != 3 {
			t.Errorf("%d key lookups, want 3", n)
		}
	})
}

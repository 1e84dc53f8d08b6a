package authn_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lectern/lectern/internal/authn"
	"github.com/lectern/lectern/internal/keys"
)

// benchRemote returns a Verifier over a warm Remote cache of f's keys.
func benchRemote(b *testing.B, f *fixture) *authn.Verifier {
	set := f.jwks(b)
	srv := newJWKSServer(b, func() []byte { return set })
	return authn.NewVerifier(newRemote(b, srv.URL, authn.RemoteOptions{RefreshInterval: time.Hour}), uncached(f.verifierOptions()))
}

// uncached turns the verified-token cache off, so a benchmark that repeats
// one token measures the full check.
func uncached(o authn.Options) authn.Options {
	o.CacheSize = -1
	return o
}

// BenchmarkVerify measures Verify of a Better Auth-shaped token against a
// warm Remote cache, signature check included.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	v := benchRemote(b, f)
	ctx := context.Background()
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			h := "Bearer " + f.sign(b, alg, f.claims())
			if _, err := v.Verify(ctx, h); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyCached is Verify of a token verified before: the common
// case, a reader's token reused for every request until it expires.
func BenchmarkVerifyCached(b *testing.B) {
	f := newFixture(b)
	v := authn.NewVerifier(authn.InProcess(f.verifying), f.verifierOptions())
	ctx := context.Background()
	h := "Bearer " + f.sign(b, keys.EdDSA, f.claims())
	if _, err := v.Verify(ctx, h); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyInProcess is BenchmarkVerify over the Keyring itself.
func BenchmarkVerifyInProcess(b *testing.B) {
	f := newFixture(b)
	v := authn.NewVerifier(authn.InProcess(f.verifying), uncached(f.verifierOptions()))
	ctx := context.Background()
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			h := "Bearer " + f.sign(b, alg, f.claims())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignatureOnly is the floor under BenchmarkVerify: the signature
// check alone, so the difference is what parsing and checks cost.
func BenchmarkSignatureOnly(b *testing.B) {
	f := newFixture(b)
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			tok := f.sign(b, alg, f.claims())
			i := strings.LastIndexByte(tok, '.')
			input := tok[:i]
			sig, err := jwt.NewParser().DecodeSegment(tok[i+1:])
			if err != nil {
				b.Fatal(err)
			}
			method, pub := jwt.GetSigningMethod(alg), f.publicKey(b, alg)
			b.ReportAllocs()
			for b.Loop() {
				if err := method.Verify(input, sig, pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRequire measures the guard as a handler sees it: header lookup,
// Verify, and the principal put in the request context (EdDSA, Remote).
func BenchmarkRequire(b *testing.B) {
	f := newFixture(b)
	v := benchRemote(b, f)
	h := v.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := authn.FromContext(r.Context()); !ok {
			b.Fatal("no principal")
		}
	}))
	req, err := http.NewRequest(http.MethodGet, "/api/me", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.sign(b, keys.EdDSA, f.claims()))
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
		if w.status != 0 {
			b.Fatalf("status %d", w.status)
		}
	}
}

// BenchmarkRequireRefused measures a refused token (a bad signature), the
// cost of each request in a flood of forgeries.
func BenchmarkRequireRefused(b *testing.B) {
	f := newFixture(b)
	v := benchRemote(b, f)
	h := v.Require(http.NotFoundHandler())
	tok := f.sign(b, keys.EdDSA, f.claims())
	tok = corrupt(tok)
	req, err := http.NewRequest(http.MethodGet, "/api/me", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.status != http.StatusUnauthorized {
			b.Fatalf("status %d", w.status)
		}
	}
}

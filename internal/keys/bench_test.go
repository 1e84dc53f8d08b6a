package keys_test

import (
	"context"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/keys"
)

// BenchmarkSign measures one token with a Better Auth-sized payload (about
// 350 bytes of claims).
func BenchmarkSign(b *testing.B) {
	ctx := context.Background()
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			clk := newClock()
			ring := newRing(b, &memStore{}, alg, clk)
			payload := claims(clk.Now())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ring.Sign(ctx, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkJWKS measures serving the key set with two published RS256 keys
// (the state right after a rotation).
func BenchmarkJWKS(b *testing.B) {
	ctx := context.Background()
	clk := newClock()
	ring := newRing(b, &memStore{}, keys.RS256, clk)
	clk.Advance(time.Minute)
	if _, err := ring.Rotate(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if set, err := ring.JWKS(ctx); err != nil || len(set) == 0 {
			b.Fatal(err)
		}
	}
}

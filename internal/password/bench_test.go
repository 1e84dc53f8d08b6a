package password

import (
	"context"
	"runtime"
	"testing"
)

// The benchmarks use Default parameters. B/op is dominated by the work area:
// Params.Memory KiB for argon2id (19 MiB) and 128·N·r bytes (32 MiB) for
// Better Auth's scrypt; the peak-MiB metric states it explicitly.

func BenchmarkHash(b *testing.B) {
	h := newHasher(b, Default(), runtime.GOMAXPROCS(0))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(Default().Memory)/1024, "peak-MiB")
}

func BenchmarkVerifyArgon2id(b *testing.B) {
	h := newHasher(b, Default(), runtime.GOMAXPROCS(0))
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, enc, "correct horse battery staple"); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(Default().Memory)/1024, "peak-MiB")
}

func BenchmarkVerifyScrypt(b *testing.B) {
	h := newHasher(b, Default(), runtime.GOMAXPROCS(0))
	ctx := context.Background()
	// From testdata/better-auth-scrypt.json.
	const enc = "a0c277e174196754b85f6d1b0fb095fe:2ad84433daaa652b25438bc16bac678d4d5ddfbad57798809dc245f2611886bb11d8cddb567169e2153b4657ed62cdcdd249afbd69b5ace26436168d24053ea7"
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, enc, "correct horse battery staple"); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(scryptMemory)/(1<<20), "peak-MiB")
}

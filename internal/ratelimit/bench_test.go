package ratelimit

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAllow runs Allow from all Ps over 10,000 keys shaped like
// Better Auth's "<ip>|<path>", with the real clock.
func BenchmarkAllow(b *testing.B) {
	const nkeys = 10_000
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = "10." + strconv.Itoa(i/256%256) + "." + strconv.Itoa(i%256) + ".1|/sign-in/email"
	}
	l := New(nil, DefaultMaxKeys)
	rule := Rule{Max: 100, Window: 10 * time.Second}
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := next.Add(7919) // spread the goroutines' starting points
		for pb.Next() {
			l.Allow(rule, keys[i%nkeys])
			i++
		}
	})
}

// BenchmarkAllowOneKey measures the worst case: every goroutine on one key,
// so one shard mutex.
func BenchmarkAllowOneKey(b *testing.B) {
	l := New(nil, DefaultMaxKeys)
	rule := Rule{Max: 100, Window: 10 * time.Second}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Allow(rule, "203.0.113.7|/sign-in/email")
		}
	})
}

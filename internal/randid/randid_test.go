package randid

import (
	"regexp"
	"testing"
)

func TestNewIsBase62OfFixedLengthAndUnique(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 10000 {
		id := New()
		if !re.MatchString(id) {
			t.Fatalf("%q is not 32 base62 characters", id)
		}
		if seen[id] {
			t.Fatalf("duplicate %q", id)
		}
		seen[id] = true
		for _, c := range id {
			counts[c]++
		}
	}
	// 320000 characters over 62 symbols: about 5161 each. A biased
	// generator (e.g. plain modulo of a byte) would skew the first symbols.
	for c, n := range counts {
		if n < 4500 || n > 5800 {
			t.Errorf("symbol %q appeared %d times, expected about 5161", c, n)
		}
	}
	if len(counts) != 62 {
		t.Errorf("%d distinct symbols, want 62", len(counts))
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		New()
	}
}

package password

import (
	"context"
	"strings"
	"testing"
)

// FuzzVerify feeds arbitrary stored hashes and passwords to Verify. It must
// never panic, never report a match together with an error, and never ask for
// a rehash without a match. The hasher's parameter caps are lowered so that a
// mutation producing valid but expensive argon2id parameters stays cheap; the
// parsing code is the same.
func FuzzVerify(f *testing.F) {
	ctx := context.Background()
	h := newHasher(f, fastParams(), 4)
	h.lim = limits{maxMemory: 256, maxTime: 2, maxThreads: 4}

	good, err := h.Hash(ctx, "pässwörd-ﬁ")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "pässwörd-ﬁ")
	f.Add(good, "wrong")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$"+strings.Repeat("A", 43), "pw")
	f.Add("$argon2id$v=19$m=4294967295,t=4294967295,p=255$AAAA$AAAA", "pw")
	f.Add("$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$AAAA", "")
	f.Add(strings.Repeat("ab", 16)+":"+strings.Repeat("cd", 64), "pw")
	f.Add(":", "")
	f.Add("", "")
	f.Add("$", "$")
	f.Add("$$$$$$", "\xff\xfe")

	f.Fuzz(func(t *testing.T, encoded, pw string) {
		ok, rehash, err := h.Verify(ctx, encoded, pw)
		if err != nil && (ok || rehash) {
			t.Fatalf("Verify(%q, %q) = %v, %v, %v", encoded, pw, ok, rehash, err)
		}
		if rehash && !ok {
			t.Fatalf("needsRehash without a match for %q", encoded)
		}
	})
}

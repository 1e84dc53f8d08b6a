package password_test

import (
	"context"
	"fmt"

	"github.com/lectern/lectern/internal/password"
)

// A sign-in handler verifies the stored hash, upgrades it when asked to, and
// burns the same work for unknown accounts so that timing does not reveal
// which emails exist.
func ExampleHasher_Verify() {
	ctx := context.Background()
	// Production code uses password.Default(); these parameters keep the
	// example fast.
	h, err := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
	if err != nil {
		panic(err)
	}

	stored, _ := h.Hash(ctx, "pässwörd-ﬁ")
	ok, needsRehash, err := h.Verify(ctx, stored, "pässwörd-fi") // NFKC-equal spelling
	fmt.Println(ok, needsRehash, err)

	// A hash written by Better Auth (scrypt) verifies and asks to be replaced.
	const betterAuth = "a0c277e174196754b85f6d1b0fb095fe:2ad84433daaa652b25438bc16bac678d4d5ddfbad57798809dc245f2611886bb11d8cddb567169e2153b4657ed62cdcdd249afbd69b5ace26436168d24053ea7"
	ok, needsRehash, err = h.Verify(ctx, betterAuth, "correct horse battery staple")
	fmt.Println(ok, needsRehash, err)
	if ok && needsRehash {
		stored, _ = h.Hash(ctx, "correct horse battery staple") // store this in place of the old hash
	}

	// Unknown account: do the work anyway, then answer "invalid email or password".
	fmt.Println(h.Burn(ctx, "whatever was typed"))
	// Output:
	// true false <nil>
	// true true <nil>
	// <nil>
}

// Package randid makes the random identifiers and tokens Lectern hands out:
// 32 characters of [A-Za-z0-9], the shape Better Auth uses for ids and tokens
// (about 190 bits of entropy).
package randid

import "crypto/rand"

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Len is the length of every identifier New returns.
const Len = 32

// New returns a fresh 32-character base62 string from crypto/rand.
func New() string {
	var out [Len]byte
	var buf [64]byte
	n := 0
	for n < Len {
		rand.Read(buf[:]) // never returns an error; it crashes the program instead
		for _, b := range buf {
			// 248 = 4*62: rejecting larger bytes keeps every character equally likely.
			if b >= 248 {
				continue
			}
			out[n] = alphabet[b%62]
			n++
			if n == Len {
				break
			}
		}
	}
	return string(out[:])
}

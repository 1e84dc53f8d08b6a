// Package password hashes and verifies account passwords.
//
// New hashes are argon2id (RFC 9106) written as PHC strings:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// where salt and key are standard base64 without padding, as the PHC string
// format specifies. Verify also accepts the scrypt hashes Better Auth stores in
// account.password ("<saltHex>:<keyHex>", see the wire reference §6), so a
// database shared with or migrated from Better Auth keeps working; such hashes
// always report needsRehash, so callers upgrade them to argon2id on the next
// successful sign-in.
//
// # Normalization
//
// Every password is normalized to Unicode NFKC before it is hashed, for
// argon2id as well as for scrypt. Better Auth does this for scrypt, and doing
// it for argon2id too means the same typed password verifies whatever the
// device or keyboard produced: "é" typed as one code point or as "e" plus a
// combining accent, a full-width "１" or an "ﬁ" ligature all hash the same as
// their compatibility forms. Length policy (Better Auth's 8 to 128 characters)
// belongs to the caller; this package only refuses passwords longer than
// MaxPasswordLen bytes so that one request cannot make it normalize and hash
// megabytes.
//
// # Resource bounds
//
// One argon2id hash holds Params.Memory KiB (19 MiB with Default) for its
// whole run, and one Better Auth scrypt verification holds 128·N·r = 32 MiB.
// A Hasher runs at most maxConcurrent of them at once and makes the others
// wait (or give up when their context ends), so a sign-in flood costs at most
// maxConcurrent × max(Memory, 32 MiB) of memory instead of growing without
// bound. Parameters read from a stored argon2id string are capped (MaxMemoryKiB,
// MaxTime, MaxThreads) so that a corrupted or hostile row cannot make one
// verification allocate gigabytes or run for minutes.
package password

import (
	"errors"
	"fmt"
)

// Params are argon2id cost parameters plus the salt and key sizes.
type Params struct {
	Memory  uint32 // memory cost in KiB
	Time    uint32 // number of passes over the memory
	Threads uint8  // degree of parallelism (lanes)
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // derived key length in bytes
}

// Default returns OWASP's recommended argon2id configuration: 19 MiB of
// memory (m=19456 KiB), two passes, one lane, a 16-byte salt and a 32-byte
// key. It is a function rather than a package variable so nobody can change
// the defaults of the whole program by assigning to it.
func Default() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on argon2id parameters, applied both to a Hasher's own Params and to
// the parameters parsed from stored hashes. They are far above any sensible
// setting and exist so that a bad row cannot exhaust the machine.
const (
	// MaxMemoryKiB caps the memory parameter at 1 GiB.
	MaxMemoryKiB = 1 << 20
	// MaxTime caps the number of passes.
	MaxTime = 10
	// MaxThreads caps the degree of parallelism.
	MaxThreads = 16
	// MaxPasswordLen is the longest password, in bytes before normalization,
	// that Hash, Verify and Burn accept. Better Auth allows 128 UTF-16 code
	// units, at most 384 bytes of UTF-8, so this only stops abuse.
	MaxPasswordLen = 4096
)

// Salt and key sizes accepted in stored argon2id hashes. The PHC string format
// requires at least 8 salt bytes; keys shorter than 16 bytes are not written by
// any mainstream implementation and would weaken the comparison.
const (
	minStoredSalt = 8
	maxStoredSalt = 64
	minKey        = 16
	maxKey        = 64
	minOwnSalt    = 16 // RFC 9106 recommends 128-bit salts for new hashes
)

// Errors returned by this package; test for them with errors.Is.
var (
	// ErrInvalidParams means NewHasher was given unusable parameters.
	ErrInvalidParams = errors.New("password: invalid parameters")
	// ErrMalformedHash means a stored hash could not be parsed, uses an
	// unsupported algorithm or version, or has out-of-range parameters.
	ErrMalformedHash = errors.New("password: malformed hash")
	// ErrPasswordTooLong means the password exceeds MaxPasswordLen bytes.
	ErrPasswordTooLong = errors.New("password: password too long")
)

// limits are the bounds checked when parsing a stored argon2id hash. They are
// a Hasher field rather than constants only so the fuzz test can lower them
// and stay fast; production code always uses defaultLimits.
type limits struct {
	maxMemory  uint32
	maxTime    uint32
	maxThreads uint8
}

func defaultLimits() limits {
	return limits{maxMemory: MaxMemoryKiB, maxTime: MaxTime, maxThreads: MaxThreads}
}

// check reports whether the cost parameters m, t and p are usable and within
// lim. It does not look at salt or key lengths.
func (lim limits) check(m, t uint32, p uint8) error {
	switch {
	case t < 1 || t > lim.maxTime:
		return fmt.Errorf("time t=%d outside [1, %d]", t, lim.maxTime)
	case p < 1 || p > lim.maxThreads:
		return fmt.Errorf("threads p=%d outside [1, %d]", p, lim.maxThreads)
	case m < 8*uint32(p) || m > lim.maxMemory:
		// RFC 9106 §3.1: m must be at least 8·p KiB.
		return fmt.Errorf("memory m=%d KiB outside [8·p=%d, %d]", m, 8*uint32(p), lim.maxMemory)
	}
	return nil
}

// validate checks Params for use by a Hasher creating new hashes.
func (p Params) validate() error {
	if err := defaultLimits().check(p.Memory, p.Time, p.Threads); err != nil {
		return fmt.Errorf("%w: %s", ErrInvalidParams, err)
	}
	if p.SaltLen < minOwnSalt || p.SaltLen > maxStoredSalt {
		return fmt.Errorf("%w: salt length %d outside [%d, %d]", ErrInvalidParams, p.SaltLen, minOwnSalt, maxStoredSalt)
	}
	if p.KeyLen < minKey || p.KeyLen > maxKey {
		return fmt.Errorf("%w: key length %d outside [%d, %d]", ErrInvalidParams, p.KeyLen, minKey, maxKey)
	}
	return nil
}

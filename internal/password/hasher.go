package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Hasher creates and checks password hashes while bounding how many run at
// once. It is safe for concurrent use; create one per process and share it.
type Hasher struct {
	params Params
	lim    limits
	// sem holds one token per hash in progress; its capacity is the
	// concurrency bound.
	sem chan struct{}
	// dummy is an argon2id hash with h's parameters and an all-zero salt
	// and key, which no password produces in practice. Burn verifies
	// against it.
	dummy string
}

// NewHasher returns a Hasher that writes argon2id hashes with p and runs at
// most maxConcurrent hash computations (argon2id or scrypt) at the same time.
// Peak memory is therefore about maxConcurrent × max(p.Memory KiB, 32 MiB);
// a common choice is the number of CPUs. It fails with ErrInvalidParams when
// p is out of range or maxConcurrent < 1.
func NewHasher(p Params, maxConcurrent int) (*Hasher, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if maxConcurrent < 1 {
		return nil, fmt.Errorf("%w: maxConcurrent %d < 1", ErrInvalidParams, maxConcurrent)
	}
	return &Hasher{
		params: p,
		lim:    defaultLimits(),
		sem:    make(chan struct{}, maxConcurrent),
		dummy:  encodeArgon2id(p, make([]byte, p.SaltLen), make([]byte, p.KeyLen)),
	}, nil
}

// Params returns the parameters h uses for new hashes.
func (h *Hasher) Params() Params { return h.params }

// Hash returns an argon2id PHC string for the NFKC normalization of pw, with
// a fresh random salt. It waits for a free slot, giving up with ctx's error
// (wrapped) if ctx ends first; once started, a computation runs to the end.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if len(pw) > MaxPasswordLen {
		return "", ErrPasswordTooLong
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: reading salt: %w", err)
	}
	pwb := normalize(pw)
	defer clear(pwb)
	var key []byte
	err := h.run(ctx, func() {
		key = argon2.IDKey(pwb, salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	})
	if err != nil {
		return "", err
	}
	return encodeArgon2id(h.params, salt, key), nil
}

// Verify reports whether pw matches the stored hash encoded, which is either
// an argon2id PHC string (any parameters within the caps) or a Better Auth
// scrypt hash "<saltHex>:<keyHex>". needsRehash is true only when ok is true
// and the hash is not what h would write today: an argon2id hash with other
// parameters or sizes, or any scrypt hash. The caller should then store
// h.Hash(pw) in its place.
//
// A hash that cannot be parsed gives an error wrapping ErrMalformedHash, and
// no hashing is done for it. Key comparison is constant-time. Like Hash,
// Verify waits for a slot and returns ctx's error if ctx ends first.
func (h *Hasher) Verify(ctx context.Context, encoded, pw string) (ok, needsRehash bool, err error) {
	if len(pw) > MaxPasswordLen {
		return false, false, ErrPasswordTooLong
	}
	switch {
	case strings.HasPrefix(encoded, "$"):
		a, err := parseArgon2id(encoded, h.lim)
		if err != nil {
			return false, false, err
		}
		ok, err := h.verifyArgon2id(ctx, a, pw)
		if err != nil || !ok {
			return false, false, err
		}
		return true, a.params() != h.params, nil
	default:
		s, err := parseScrypt(encoded)
		if err != nil {
			return false, false, err
		}
		ok, err := h.verifyScrypt(ctx, s, pw)
		if err != nil || !ok {
			return false, false, err
		}
		return true, true, nil
	}
}

// Burn does the work of verifying pw against a hash with h's parameters
// and throws the result away. Call it when a sign-in names an unknown
// account, so that the response takes as long as for a wrong password and
// does not reveal whether the account exists. It returns an error only when
// pw is too long or ctx ends while waiting for a slot, exactly when Verify
// would.
//
// Burn matches the cost of an argon2id hash written by h. Accounts still on
// Better Auth's scrypt take a different time to verify until they are
// rehashed, which is one more reason to rehash on sign-in.
func (h *Hasher) Burn(ctx context.Context, pw string) error {
	_, _, err := h.Verify(ctx, h.dummy, pw)
	return err
}

func (h *Hasher) verifyArgon2id(ctx context.Context, a *argonHash, pw string) (bool, error) {
	pwb := normalize(pw)
	defer clear(pwb)
	var got []byte
	err := h.run(ctx, func() {
		got = argon2.IDKey(pwb, a.salt, a.time, a.memory, a.threads, uint32(len(a.key)))
	})
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, a.key) == 1, nil
}

func (h *Hasher) verifyScrypt(ctx context.Context, s *scryptHash, pw string) (bool, error) {
	pwb := normalize(pw)
	defer clear(pwb)
	var got []byte
	var kerr error
	err := h.run(ctx, func() { got, kerr = scryptKey(pwb, s.salt) })
	if err == nil {
		err = kerr
	}
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, s.key[:]) == 1, nil
}

// run calls work while holding one of h's hashing slots. It waits for a free
// slot and fails without calling work once ctx is done; a context that has
// already ended fails even when a slot is free. The slot is released even if
// work panics.
func (h *Hasher) run(ctx context.Context, work func()) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("password: waiting for a hashing slot: %w", err)
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("password: waiting for a hashing slot: %w", ctx.Err())
	}
	defer func() { <-h.sem }()
	work()
	return nil
}

// normalize returns the UTF-8 bytes of pw in Unicode NFKC, in a fresh slice
// the caller may clear.
func normalize(pw string) []byte {
	return norm.NFKC.AppendString(nil, pw)
}

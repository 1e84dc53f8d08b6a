package password

import (
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// Better Auth's scrypt parameters (wire reference §6). They are fixed by the
// format, not stored with the hash.
const (
	scryptN      = 16384
	scryptR      = 16
	scryptP      = 1
	scryptKeyLen = 64
	// scryptMemory is what one scrypt verification allocates: 128·N·r bytes.
	scryptMemory = 128 * scryptN * scryptR

	// Better Auth writes 16 random bytes as 32 hex characters. Any even
	// length in this range is accepted, in case a row was written by other
	// tooling that followed the same recipe.
	minScryptSaltHex = 16
	maxScryptSaltHex = 128
)

// scryptHash is a parsed Better Auth hash "<saltHex>:<keyHex>".
type scryptHash struct {
	// salt is the hex text itself: Better Auth feeds the 32-character hex
	// string's bytes to scrypt, not the 16 bytes it encodes.
	salt string
	key  [scryptKeyLen]byte
}

// parseScrypt parses Better Auth's "<saltHex>:<keyHex>" format.
func parseScrypt(s string) (*scryptHash, error) {
	if len(s) > maxEncodedLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxEncodedLen)
	}
	salt, key, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("%w: unrecognized format", ErrMalformedHash)
	}
	if len(salt) < minScryptSaltHex || len(salt) > maxScryptSaltHex || len(salt)%2 != 0 || !isHex(salt) {
		return nil, fmt.Errorf("%w: scrypt salt must be %d to %d hex characters", ErrMalformedHash, minScryptSaltHex, maxScryptSaltHex)
	}
	var h scryptHash
	if len(key) != 2*scryptKeyLen {
		return nil, fmt.Errorf("%w: scrypt key has %d hex characters, want %d", ErrMalformedHash, len(key), 2*scryptKeyLen)
	}
	if _, err := hex.Decode(h.key[:], []byte(key)); err != nil {
		return nil, fmt.Errorf("%w: scrypt key: %w", ErrMalformedHash, err)
	}
	h.salt = salt
	return &h, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// scryptKey derives Better Auth's key from an already NFKC-normalized password.
func scryptKey(normalized []byte, saltHex string) ([]byte, error) {
	k, err := scrypt.Key(normalized, []byte(saltHex), scryptN, scryptR, scryptP, scryptKeyLen)
	if err != nil {
		return nil, fmt.Errorf("password: scrypt: %w", err)
	}
	return k, nil
}

package keys

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// ErrWrongSecret means a stored private key failed authentication when
// decrypted: the secret is not the one it was encrypted with (typically
// LECTERN_SECRET was changed), or the stored text was altered.
var ErrWrongSecret = errors.New("keys: private key does not decrypt: wrong secret (was LECTERN_SECRET changed?) or altered data")

// newAEAD returns Better Auth's private-key cipher: XChaCha20-Poly1305 keyed
// with SHA-256 of the secret's bytes.
func newAEAD(secret []byte) (cipher.AEAD, error) {
	sum := sha256.Sum256(secret)
	return chacha20poly1305.NewX(sum[:])
}

// seal encrypts a private JWK the way Better Auth's symmetricEncrypt does:
// lowercase hex of nonce(24 random bytes) || ciphertext || tag, without
// associated data.
func seal(aead cipher.AEAD, plaintext []byte) []byte {
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	rand.Read(buf) // never fails; crypto/rand crashes the program instead
	buf = aead.Seal(buf, buf, plaintext, nil)
	return hex.AppendEncode(nil, buf)
}

// open decrypts what seal produced. It also accepts the text Better Auth
// writes to its jwks.privateKey column, which is that hex inside a JSON
// string literal, so imported rows work unchanged. Better Auth's
// versioned-secret envelope ("$ba$<version>$...") is rejected with an
// explicit error.
func open(aead cipher.AEAD, stored []byte) ([]byte, error) {
	text := bytes.TrimSpace(stored)
	if len(text) > 0 && text[0] == '"' {
		var s string
		if err := json.Unmarshal(text, &s); err != nil {
			return nil, fmt.Errorf("sealed private key: malformed JSON string: %w", err)
		}
		text = []byte(s)
	}
	if bytes.HasPrefix(text, []byte("$ba$")) {
		return nil, errors.New("sealed private key uses Better Auth's versioned-secret envelope ($ba$...), which Lectern does not read; re-encrypt it with a single secret")
	}
	raw := make([]byte, hex.DecodedLen(len(text)))
	if _, err := hex.Decode(raw, text); err != nil {
		return nil, fmt.Errorf("sealed private key is not hex: %w", err)
	}
	ns := aead.NonceSize()
	if len(raw) < ns+aead.Overhead() {
		return nil, fmt.Errorf("sealed private key is too short (%d bytes)", len(raw))
	}
	plain, err := aead.Open(raw[ns:ns], raw[:ns], raw[ns:], nil)
	if err != nil {
		return nil, ErrWrongSecret
	}
	return plain, nil
}

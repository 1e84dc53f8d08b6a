package authn

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
)

// The algorithms a token may use. Each is tied to one key type, so a key can
// never be used under an algorithm it was not made for (RFC 8725 §3.1).
const (
	algRS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256; RSA keys of at least 2048 bits
	algES256 = "ES256" // ECDSA with SHA-256; P-256 keys
	algEdDSA = "EdDSA" // Ed25519 keys
)

// minRSABits is the smallest RSA modulus accepted, as NIST SP 800-131A and
// the identity service's own keys (2048 bits).
const minRSABits = 2048

func allowedAlg(alg string) bool {
	return alg == algRS256 || alg == algES256 || alg == algEdDSA
}

// KeySource finds the public key that verifies a token. alg is the token's
// (already on the allowlist); an implementation returns the key only if it is
// of the type alg needs, and otherwise an *Error with ReasonBadAlg. A kid it
// does not know yields an *Error with ReasonUnknownKID. Implementations must
// be safe for concurrent use and fast: Key runs on every request.
type KeySource interface {
	Key(ctx context.Context, kid, alg string) (crypto.PublicKey, error)
}

// PublicKeyer is the part of *keys.Keyring that InProcess needs: the
// published public key with this kid, and its algorithm.
type PublicKeyer interface {
	PublicKey(ctx context.Context, kid string) (pub crypto.PublicKey, alg string, ok bool)
}

// InProcess returns a KeySource over keys held in this process, for `serve`,
// where the identity service and the API share a Keyring: no HTTP, and a
// rotation is seen as soon as the Keyring reloads. The key's algorithm must be
// the token's.
func InProcess(kr PublicKeyer) KeySource { return inProcess{kr: kr} }

type inProcess struct{ kr PublicKeyer }

func (s inProcess) Key(ctx context.Context, kid, alg string) (crypto.PublicKey, error) {
	pub, keyAlg, ok := s.kr.PublicKey(ctx, kid)
	if !ok {
		return nil, fail(ReasonUnknownKID, fmt.Errorf("kid %q is not published", clip(kid)))
	}
	if keyAlg != alg {
		return nil, fail(ReasonBadAlg, fmt.Errorf("token alg %s but key %q is %s", alg, clip(kid), keyAlg))
	}
	if got, err := keyAlgOf(pub); err != nil || got != alg {
		// The Keyring's alg and key type always agree; a PublicKeyer that
		// breaks that is refused rather than trusted.
		return nil, fail(ReasonBadAlg, fmt.Errorf("key %q (%T) cannot verify %s", clip(kid), pub, alg))
	}
	return pub, nil
}

// keyAlgOf returns the one allowed algorithm that pub can verify, or an
// error when pub is of no allowed type (another curve, a short RSA modulus, a
// symmetric key, ...).
func keyAlgOf(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N == nil || k.N.BitLen() < minRSABits {
			return "", fmt.Errorf("RSA key shorter than %d bits", minRSABits)
		}
		return algRS256, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", errors.New("EC key not on P-256")
		}
		return algES256, nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", fmt.Errorf("Ed25519 key of %d bytes", len(k))
		}
		return algEdDSA, nil
	}
	return "", fmt.Errorf("unsupported key type %T", pub)
}

package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// rsaBits is the modulus size of generated RSA keys: 2048, like Better Auth's,
// which keeps RS256 signing about four times cheaper than 3072 bits while
// meeting current guidance for keys that are rotated.
const rsaBits = 2048

// member is one JSON object member with a string value. JWKs are written
// member by member because Better Auth's order differs per key type and
// encoding/json would sort map keys.
type member struct{ name, value string }

// appendObject appends ms to b as a JSON object, in order.
func appendObject(b []byte, ms []member) []byte {
	b = append(b, '{')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, m.name)
		b = append(b, ':')
		b = appendString(b, m.value)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string. Our values (base64url, base62,
// constants) never need escaping; imported kids might.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// generate returns a fresh private key for alg.
func generate(alg string) (crypto.Signer, error) {
	switch alg {
	case RS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("unsupported alg %q", alg)
}

// publicMembers encodes pub as a public JWK in the member order of Node.js's
// KeyObject.export({format: "jwk"}), which Better Auth stores in
// jwks.publicKey: OKP {crv,x,kty}, RSA {kty,n,e}, EC {kty,x,y,crv}.
func publicMembers(pub crypto.PublicKey) ([]member, error) {
	switch pub := pub.(type) {
	case ed25519.PublicKey:
		return []member{{"crv", "Ed25519"}, {"x", b64(pub)}, {"kty", "OKP"}}, nil
	case *rsa.PublicKey:
		e := big.NewInt(int64(pub.E))
		return []member{{"kty", "RSA"}, {"n", b64(pub.N.Bytes())}, {"e", b64(e.Bytes())}}, nil
	case *ecdsa.PublicKey:
		point, err := pub.Bytes() // 0x04 || x || y
		if err != nil {
			return nil, err
		}
		if pub.Curve != elliptic.P256() {
			return nil, errors.New("EC key is not on P-256")
		}
		return []member{{"kty", "EC"}, {"x", b64(point[1:33])}, {"y", b64(point[33:])}, {"crv", "P-256"}}, nil
	}
	return nil, fmt.Errorf("unsupported public key type %T", pub)
}

// privateMembers encodes priv as a private JWK, again in Node.js's order, so
// that Better Auth could decrypt and import keys Lectern generated.
func privateMembers(priv crypto.Signer) ([]member, error) {
	switch priv := priv.(type) {
	case ed25519.PrivateKey:
		pub := priv.Public().(ed25519.PublicKey)
		return []member{{"crv", "Ed25519"}, {"d", b64(priv.Seed())}, {"x", b64(pub)}, {"kty", "OKP"}}, nil
	case *rsa.PrivateKey:
		if len(priv.Primes) != 2 || priv.Precomputed.Dp == nil {
			return nil, errors.New("RSA key is not a precomputed two-prime key")
		}
		ms, err := publicMembers(&priv.PublicKey)
		if err != nil {
			return nil, err
		}
		return append(ms,
			member{"d", b64(priv.D.Bytes())},
			member{"p", b64(priv.Primes[0].Bytes())},
			member{"q", b64(priv.Primes[1].Bytes())},
			member{"dp", b64(priv.Precomputed.Dp.Bytes())},
			member{"dq", b64(priv.Precomputed.Dq.Bytes())},
			member{"qi", b64(priv.Precomputed.Qinv.Bytes())},
		), nil
	case *ecdsa.PrivateKey:
		ms, err := publicMembers(&priv.PublicKey)
		if err != nil {
			return nil, err
		}
		d, err := priv.Bytes()
		if err != nil {
			return nil, err
		}
		return append(ms, member{"d", b64(d)}), nil
	}
	return nil, fmt.Errorf("unsupported private key type %T", priv)
}

// jwksEntry encodes one key for the JWKS the way Better Auth builds it,
// {alg, crv (when the key has one), ...publicKey, kid}: members already
// present keep their place. This gives the observed orders
// EdDSA {alg,crv,x,kty,kid}, RS256 {alg,kty,n,e,kid}, ES256 {alg,crv,kty,x,y,kid}.
func jwksEntry(alg, kid string, pub []member) []byte {
	ms := make([]member, 0, len(pub)+3)
	ms = append(ms, member{"alg", alg})
	for _, m := range pub {
		if m.name == "crv" {
			ms = append(ms, m)
		}
	}
	for _, m := range pub {
		if m.name != "crv" {
			ms = append(ms, m)
		}
	}
	return appendObject(nil, append(ms, member{"kid", kid}))
}

// rawJWK holds the members of a JWK that Lectern reads. Unknown members
// (alg, use, key_ops, ...) are ignored.
type rawJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	N   string `json:"n"`
	E   string `json:"e"`
	D   string `json:"d"`
	P   string `json:"p"`
	Q   string `json:"q"`
}

// wantKty is the JWK key type and curve each alg uses.
func wantKty(alg string) (kty, crv string, err error) {
	switch alg {
	case RS256:
		return "RSA", "", nil
	case ES256:
		return "EC", "P-256", nil
	case EdDSA:
		return "OKP", "Ed25519", nil
	}
	return "", "", fmt.Errorf("unsupported alg %q", alg)
}

func decodeJWK(alg string, data []byte) (rawJWK, error) {
	var j rawJWK
	if err := json.Unmarshal(data, &j); err != nil {
		return j, fmt.Errorf("malformed JWK: %w", err)
	}
	kty, crv, err := wantKty(alg)
	if err != nil {
		return j, err
	}
	if j.Kty != kty || j.Crv != crv {
		return j, fmt.Errorf("JWK kty %q crv %q does not fit alg %s", j.Kty, j.Crv, alg)
	}
	return j, nil
}

// field decodes one base64url member; size > 0 demands that many bytes.
func field(name, v string, size int) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("JWK member %q: %w", name, err)
	}
	if len(b) == 0 || size > 0 && len(b) != size {
		return nil, fmt.Errorf("JWK member %q has %d bytes", name, len(b))
	}
	return b, nil
}

// parsePublicJWK parses a stored public JWK of the given alg and returns the
// key with its members re-encoded in canonical order.
func parsePublicJWK(alg string, data []byte) (crypto.PublicKey, []member, error) {
	j, err := decodeJWK(alg, data)
	if err != nil {
		return nil, nil, err
	}
	var pub crypto.PublicKey
	switch alg {
	case EdDSA:
		x, err := field("x", j.X, ed25519.PublicKeySize)
		if err != nil {
			return nil, nil, err
		}
		pub = ed25519.PublicKey(x)
	case ES256:
		x, err := field("x", j.X, 32)
		if err != nil {
			return nil, nil, err
		}
		y, err := field("y", j.Y, 32)
		if err != nil {
			return nil, nil, err
		}
		p, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, nil, fmt.Errorf("EC public key: %w", err)
		}
		pub = p
	case RS256:
		n, err := field("n", j.N, 0)
		if err != nil {
			return nil, nil, err
		}
		e, err := field("e", j.E, 0)
		if err != nil {
			return nil, nil, err
		}
		p := &rsa.PublicKey{N: new(big.Int).SetBytes(n)}
		eb := new(big.Int).SetBytes(e)
		if !eb.IsInt64() || eb.Int64() < 3 || eb.Int64() > 1<<31-1 || eb.Bit(0) == 0 {
			return nil, nil, errors.New("RSA public exponent out of range")
		}
		p.E = int(eb.Int64())
		if p.N.BitLen() < rsaBits {
			return nil, nil, fmt.Errorf("RSA modulus of %d bits is below %d", p.N.BitLen(), rsaBits)
		}
		pub = p
	}
	members, err := publicMembers(pub)
	if err != nil {
		return nil, nil, err
	}
	return pub, members, nil
}

// parsePrivateJWK parses a decrypted private JWK and checks that it is the
// private half of pub, so a swapped or edited row cannot sign tokens that the
// published key would not verify.
func parsePrivateJWK(alg string, data []byte, pub crypto.PublicKey) (crypto.Signer, error) {
	j, err := decodeJWK(alg, data)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	var priv crypto.Signer
	switch alg {
	case EdDSA:
		d, err := field("d", j.D, ed25519.SeedSize)
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		priv = ed25519.NewKeyFromSeed(d)
		clear(d)
	case ES256:
		d, err := field("d", j.D, 32)
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		p, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
		clear(d)
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		priv = p
	case RS256:
		rpub, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("private key: public key is not RSA")
		}
		var ints [3]*big.Int
		for i, f := range [3][2]string{{"d", j.D}, {"p", j.P}, {"q", j.Q}} {
			b, err := field(f[0], f[1], 0)
			if err != nil {
				return nil, fmt.Errorf("private key: %w", err)
			}
			ints[i] = new(big.Int).SetBytes(b)
			clear(b)
		}
		p := &rsa.PrivateKey{PublicKey: *rpub, D: ints[0], Primes: []*big.Int{ints[1], ints[2]}}
		p.Precompute()
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		priv = p
	}
	if !samePublic(priv.Public(), pub) {
		return nil, errors.New("private key does not match the stored public key")
	}
	return priv, nil
}

func samePublic(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

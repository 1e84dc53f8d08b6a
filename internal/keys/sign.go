package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// signer signs compact JWS tokens with one private key. It is immutable and
// shared by every snapshot that has the same current key.
type signer struct {
	kid    string
	header []byte // base64url of {"alg":"<alg>","kid":"<kid>"}, computed once
	sigLen int    // signature size in bytes
	rsa    *rsa.PrivateKey
	ec     *ecdsa.PrivateKey
	ed     ed25519.PrivateKey
}

func newSigner(alg, kid string, priv crypto.Signer) (*signer, error) {
	hdr := appendObject(nil, []member{{"alg", alg}, {"kid", kid}})
	s := &signer{kid: kid, header: base64.RawURLEncoding.AppendEncode(nil, hdr)}
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		s.rsa, s.sigLen = p, p.Size()
	case *ecdsa.PrivateKey:
		s.ec, s.sigLen = p, 64
	case ed25519.PrivateKey:
		s.ed, s.sigLen = p, ed25519.SignatureSize
	default:
		return nil, fmt.Errorf("unsupported private key type %T", priv)
	}
	return s, nil
}

// sign returns header.payload.signature, base64url-encoded without padding.
// It allocates the token once and lets the crypto packages allocate the
// signature.
func (s *signer) sign(payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	n := len(s.header) + 1 + enc.EncodedLen(len(payload))
	buf := make([]byte, 0, n+1+enc.EncodedLen(s.sigLen))
	buf = append(buf, s.header...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	// buf is the signing input; appending below stays within its capacity
	// and after its length, so it is never overwritten while being signed.
	var sig []byte
	switch {
	case s.ed != nil:
		sig = ed25519.Sign(s.ed, buf)
	case s.rsa != nil:
		digest := sha256.Sum256(buf)
		var err error
		if sig, err = rsa.SignPKCS1v15(nil, s.rsa, crypto.SHA256, digest[:]); err != nil {
			return "", err
		}
	case s.ec != nil:
		digest := sha256.Sum256(buf)
		der, err := ecdsa.SignASN1(rand.Reader, s.ec, digest[:])
		if err != nil {
			return "", err
		}
		var raw [64]byte
		if err := derToRaw(der, &raw); err != nil {
			return "", err
		}
		sig = raw[:]
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// derToRaw converts an ASN.1 ECDSA signature on P-256 into the JWS form
// (RFC 7518 section 3.4): r and s as 32-byte big-endian integers, r || s.
func derToRaw(der []byte, out *[64]byte) error {
	var inner cryptobyte.String
	var r, s []byte
	in := cryptobyte.String(der)
	if !in.ReadASN1(&inner, asn1.SEQUENCE) || !in.Empty() ||
		!inner.ReadASN1Integer(&r) || !inner.ReadASN1Integer(&s) || !inner.Empty() ||
		len(r) > 32 || len(s) > 32 {
		return errors.New("malformed ECDSA signature")
	}
	*out = [64]byte{}
	copy(out[32-len(r):32], r)
	copy(out[64-len(s):], s)
	return nil
}

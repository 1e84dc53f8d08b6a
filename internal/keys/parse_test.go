package keys

import (
	"bytes"
	"math/big"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

func derSig(r, s *big.Int) []byte {
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(r)
		b.AddASN1BigInt(s)
	})
	return b.BytesOrPanic()
}

func TestDERToRaw(t *testing.T) {
	big32 := new(big.Int).SetBytes(bytes.Repeat([]byte{0xff}, 32)) // DER adds a 0x00 sign byte
	tests := []struct {
		name string
		der  []byte
		want []byte // nil: must fail
	}{
		{"short integers are left-padded to 32 bytes", derSig(big.NewInt(1), big.NewInt(0x0203)),
			append(append(make([]byte, 31), 1), append(make([]byte, 30), 2, 3)...)},
		{"a sign byte before a full 32-byte integer is dropped", derSig(big32, big32), bytes.Repeat([]byte{0xff}, 64)},
		{"an integer longer than 32 bytes fails", derSig(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)), nil},
		{"trailing data fails", append(derSig(big.NewInt(1), big.NewInt(1)), 0), nil},
		{"garbage fails", []byte{0x30, 0x01}, nil},
		{"a negative integer fails", derSig(big.NewInt(-1), big.NewInt(1)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out [64]byte
			err := derToRaw(tt.der, &out)
			switch {
			case tt.want == nil && err == nil:
				t.Errorf("accepted: %x", out)
			case tt.want != nil && err != nil:
				t.Errorf("error: %v", err)
			case tt.want != nil && !bytes.Equal(out[:], tt.want):
				t.Errorf("got %x, want %x", out, tt.want)
			}
		})
	}
}

// FuzzOpen feeds arbitrary stored text to the decryptor: imported rows are
// outside input, and a bad one must give an error, never a panic.
func FuzzOpen(f *testing.F) {
	aead, err := newAEAD([]byte("secret"))
	if err != nil {
		f.Fatal(err)
	}
	good := seal(aead, []byte(`{"crv":"Ed25519","d":"AA","x":"AA","kty":"OKP"}`))
	f.Add(good)
	f.Add(append(append([]byte(`"`), good...), '"'))
	f.Add([]byte(`"$ba$1$00"`))
	f.Add([]byte("zz"))
	f.Fuzz(func(t *testing.T, stored []byte) {
		plain, err := open(aead, stored)
		if err == nil && plain == nil {
			t.Error("nil plaintext without an error")
		}
	})
}

// FuzzParseJWK feeds arbitrary stored JWKs, public and private, to the parsers.
func FuzzParseJWK(f *testing.F) {
	for _, alg := range []string{RS256, ES256, EdDSA} {
		priv, err := generate(alg)
		if err != nil {
			f.Fatal(err)
		}
		pm, _ := publicMembers(priv.Public())
		sm, _ := privateMembers(priv)
		f.Add(alg, appendObject(nil, pm), appendObject(nil, sm))
	}
	f.Add(EdDSA, []byte(`{"kty":"OKP","crv":"Ed25519","x":"@@"}`), []byte(`{}`))
	f.Add(RS256, []byte(`{"kty":"RSA","n":"AQAB","e":"AQAB"}`), []byte(`{"kty":"RSA","d":"AQ","p":"Aw","q":"BQ"}`))
	f.Fuzz(func(t *testing.T, alg string, pubJWK, privJWK []byte) {
		pub, members, err := parsePublicJWK(alg, pubJWK)
		if err != nil {
			return
		}
		if len(members) == 0 || len(jwksEntry(alg, "kid", members)) == 0 {
			t.Fatal("parsed key without members")
		}
		priv, err := parsePrivateJWK(alg, privJWK, pub)
		if err != nil {
			return
		}
		if !samePublic(priv.Public(), pub) {
			t.Fatal("accepted a private key for another public key")
		}
		s, err := newSigner(alg, "kid", priv)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.sign([]byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	})
}

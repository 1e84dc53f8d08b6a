package keys_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/lectern/lectern/internal/keys"
	"github.com/lectern/lectern/internal/store"
)

// The real stores must be usable as a keys.Store.
var _ keys.Store = store.Store(nil)

var algs = []string{keys.RS256, keys.ES256, keys.EdDSA}

var secret = []byte("a fixed 48-character secret for the keys tests..")

// memStore is an in-memory keys.Store with the semantics documented on
// store.Store.
type memStore struct {
	mu    sync.Mutex
	rows  []store.SigningKey
	loads int // SigningKeys calls
}

func cloneKey(k store.SigningKey) store.SigningKey {
	k.PublicJWK = bytes.Clone(k.PublicJWK)
	k.PrivateKey = bytes.Clone(k.PrivateKey)
	if k.RetiredAt != nil {
		t := *k.RetiredAt
		k.RetiredAt = &t
	}
	return k
}

func (m *memStore) InsertSigningKey(_ context.Context, k store.SigningKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.rows {
		if r.ID == k.ID {
			return store.ErrConflict
		}
	}
	m.rows = append(m.rows, cloneKey(k))
	return nil
}

func (m *memStore) SigningKeys(context.Context) ([]store.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	out := make([]store.SigningKey, 0, len(m.rows))
	for _, r := range m.rows {
		out = append(out, cloneKey(r))
	}
	slices.SortStableFunc(out, func(a, b store.SigningKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

func (m *memStore) RetireSigningKeys(_ context.Context, keepID string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.rows {
		if m.rows[i].ID != keepID && m.rows[i].RetiredAt == nil {
			t := at
			m.rows[i].RetiredAt = &t
		}
	}
	return nil
}

func (m *memStore) DeleteSigningKeysRetiredBefore(_ context.Context, t time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.rows)
	m.rows = slices.DeleteFunc(m.rows, func(r store.SigningKey) bool { return r.RetiredAt != nil && r.RetiredAt.Before(t) })
	return int64(n - len(m.rows)), nil
}

// row returns a copy of the stored key with this id.
func (m *memStore) row(t *testing.T, id string) store.SigningKey {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.rows {
		if r.ID == id {
			return cloneKey(r)
		}
	}
	t.Fatalf("no stored key %s", id)
	return store.SigningKey{}
}

// edit changes the stored key with this id in place.
func (m *memStore) edit(id string, f func(*store.SigningKey)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.rows {
		if m.rows[i].ID == id {
			f(&m.rows[i])
		}
	}
}

func (m *memStore) ids() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for _, r := range m.rows {
		ids = append(ids, r.ID)
	}
	return ids
}

func (m *memStore) loadCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.loads
}

// clock is a manual clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 26, 23, 21, 32, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newRing(t testing.TB, st keys.Store, alg string, clk *clock) *keys.Keyring {
	t.Helper()
	k, err := keys.New(context.Background(), st, keys.Options{Alg: alg, Secret: secret, Now: clk.Now})
	if err != nil {
		t.Fatalf("New(%s): %v", alg, err)
	}
	return k
}

// claims returns a Better Auth-like payload valid for 15 minutes from now.
func claims(now time.Time) []byte {
	return fmt.Appendf(nil, `{"iat":%d,"name":"Bob","email":"bob@example.com","emailVerified":false,"image":null,`+
		`"id":"2FrKwDOGY8ByVlVvVLWhsohRAVNaDXl4","sub":"2FrKwDOGY8ByVlVvVLWhsohRAVNaDXl4","exp":%d,`+
		`"iss":"http://127.0.0.1:8080","aud":"http://127.0.0.1:8080"}`, now.Unix(), now.Add(15*time.Minute).Unix())
}

func sign(t *testing.T, k *keys.Keyring, clk *clock) string {
	t.Helper()
	tok, err := k.Sign(context.Background(), claims(clk.Now()))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

func jwks(t *testing.T, k *keys.Keyring) []byte {
	t.Helper()
	b, err := k.JWKS(context.Background())
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	return b
}

// verify checks token with an independent verifier: keyfunc over the JWKS
// bytes and golang-jwt, accepting only alg.
func verify(t *testing.T, jwksJSON []byte, token, alg string, clk *clock) (*jwt.Token, error) {
	t.Helper()
	kf, err := keyfunc.NewJWKSetJSON(jwksJSON)
	if err != nil {
		t.Fatalf("keyfunc.NewJWKSetJSON(%s): %v", jwksJSON, err)
	}
	return jwt.Parse(token, kf.Keyfunc, jwt.WithValidMethods([]string{alg}), jwt.WithTimeFunc(clk.Now))
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	var h struct{ Kid string }
	seg, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil || json.Unmarshal(b, &h) != nil {
		t.Fatalf("bad header %q", seg)
	}
	return h.Kid
}

func publishedKids(t *testing.T, jwksJSON []byte) []string {
	t.Helper()
	var set struct{ Keys []struct{ Kid string } }
	if err := json.Unmarshal(jwksJSON, &set); err != nil {
		t.Fatalf("JWKS %s: %v", jwksJSON, err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func TestSign(t *testing.T) {
	for _, alg := range algs {
		clk := newClock()
		st := &memStore{}
		ring := newRing(t, st, alg, clk)
		payload := claims(clk.Now())
		tok, err := ring.Sign(context.Background(), payload)
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			t.Fatalf("token %q has %d parts", tok, len(parts))
		}
		kid := kidOf(t, tok)

		t.Run(alg+" token verifies with keyfunc and golang-jwt", func(t *testing.T) {
			parsed, err := verify(t, jwks(t, ring), tok, alg, clk)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if sub, _ := parsed.Claims.GetSubject(); sub != "2FrKwDOGY8ByVlVvVLWhsohRAVNaDXl4" {
				t.Errorf("sub = %q", sub)
			}
		})

		t.Run(alg+" header is exactly alg and kid without typ", func(t *testing.T) {
			hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
			want := `{"alg":"` + alg + `","kid":"` + kid + `"}`
			if string(hdr) != want {
				t.Errorf("header = %s, want %s", hdr, want)
			}
			if !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(kid) {
				t.Errorf("kid %q is not 32 base62 characters", kid)
			}
		})

		t.Run(alg+" payload is carried byte for byte", func(t *testing.T) {
			got, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil || !bytes.Equal(got, payload) {
				t.Errorf("payload = %s (%v), want %s", got, err, payload)
			}
		})

		t.Run(alg+" token verifies in process through PublicKey", func(t *testing.T) {
			_, err := jwt.Parse(tok, func(tk *jwt.Token) (any, error) {
				kid, _ := tk.Header["kid"].(string)
				pub, a, ok := ring.PublicKey(context.Background(), kid)
				if !ok || a != alg {
					return nil, fmt.Errorf("no key %q (alg %q)", kid, a)
				}
				switch pub.(type) {
				case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
				default:
					return nil, fmt.Errorf("unexpected key type %T", pub)
				}
				return pub, nil
			}, jwt.WithValidMethods([]string{alg}), jwt.WithTimeFunc(clk.Now))
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
		})

		t.Run(alg+" tampered token fails verification", func(t *testing.T) {
			sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
			sig[len(sig)/2] ^= 0x01
			badSig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
			badPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"Bob"`), []byte(`"Eve"`), 1)) + "." + parts[2]
			for name, bad := range map[string]string{"signature": badSig, "payload": badPayload} {
				if _, err := verify(t, jwks(t, ring), bad, alg, clk); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
					t.Errorf("tampered %s: err = %v, want ErrTokenSignatureInvalid", name, err)
				}
			}
		})

		t.Run(alg+" token is rejected when another alg is required", func(t *testing.T) {
			other := keys.EdDSA
			if alg == keys.EdDSA {
				other = keys.RS256
			}
			if _, err := verify(t, jwks(t, ring), tok, other, clk); err == nil {
				t.Error("verified with the wrong alg allowed")
			}
		})
	}
}

func TestJWKSFormat(t *testing.T) {
	// Orders as observed from Better Auth (reference §5): alg, crv when set,
	// then the public JWK as Node.js exports it, then kid. B64 stands for a
	// base64url character and KID for the key's id.
	tests := []struct {
		alg    string
		jwk    string // one JWKS entry, as a regexp
		stored string // the stored public JWK, as a regexp
	}{
		{keys.EdDSA,
			`\{"alg":"EdDSA","crv":"Ed25519","x":"B64{43}","kty":"OKP","kid":"KID"\}`,
			`\{"crv":"Ed25519","x":"B64{43}","kty":"OKP"\}`},
		{keys.RS256,
			`\{"alg":"RS256","kty":"RSA","n":"B64{342}","e":"AQAB","kid":"KID"\}`,
			`\{"kty":"RSA","n":"B64{342}","e":"AQAB"\}`},
		{keys.ES256,
			`\{"alg":"ES256","crv":"P-256","kty":"EC","x":"B64{43}","y":"B64{43}","kid":"KID"\}`,
			`\{"kty":"EC","x":"B64{43}","y":"B64{43}","crv":"P-256"\}`},
	}
	for _, tt := range tests {
		clk := newClock()
		st := &memStore{}
		ring := newRing(t, st, tt.alg, clk)
		kid := kidOf(t, sign(t, ring, clk))
		re := func(pattern string) *regexp.Regexp {
			return regexp.MustCompile(`^` + strings.NewReplacer("B64", `[A-Za-z0-9_-]`, "KID", kid).Replace(pattern) + `$`)
		}

		t.Run(tt.alg+" JWKS has Better Auth's member order and no use", func(t *testing.T) {
			got := jwks(t, ring)
			if want := re(`\{"keys":\[` + tt.jwk + `\]\}`); !want.Match(got) {
				t.Errorf("JWKS = %s\nwant match %s", got, want)
			}
			if bytes.Contains(got, []byte(`"use"`)) {
				t.Errorf("JWKS has a use member: %s", got)
			}
		})

		t.Run(tt.alg+" stored public JWK has no kid or alg", func(t *testing.T) {
			got := st.row(t, kid).PublicJWK
			if want := re(tt.stored); !want.Match(got) {
				t.Errorf("stored public JWK = %s\nwant match %s", got, want)
			}
		})

		t.Run(tt.alg+" JWKS bytes are cached between calls", func(t *testing.T) {
			a, b := jwks(t, ring), jwks(t, ring)
			if &a[0] != &b[0] {
				t.Error("JWKS rebuilt although the key set did not change")
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Run("the default alg is RS256 with a 2048-bit key", func(t *testing.T) {
		clk := newClock()
		ring := newRing(t, &memStore{}, "", clk)
		tok := sign(t, ring, clk)
		pub, alg, ok := ring.PublicKey(context.Background(), kidOf(t, tok))
		if !ok || alg != keys.RS256 {
			t.Fatalf("PublicKey: alg %q ok %v", alg, ok)
		}
		if n := pub.(*rsa.PublicKey).N.BitLen(); n != 2048 {
			t.Errorf("modulus has %d bits", n)
		}
	})

	bad := []struct {
		name string
		opt  keys.Options
	}{
		{"an unknown alg is refused", keys.Options{Alg: "HS256", Secret: secret}},
		{"the none alg is refused", keys.Options{Alg: "none", Secret: secret}},
		{"an empty secret is refused", keys.Options{Alg: keys.EdDSA}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := keys.New(context.Background(), &memStore{}, tt.opt); err == nil {
				t.Error("New succeeded")
			}
		})
	}

	t.Run("a second keyring on the same store reuses the current key", func(t *testing.T) {
		clk := newClock()
		st := &memStore{}
		a := newRing(t, st, keys.EdDSA, clk)
		b := newRing(t, st, keys.EdDSA, clk)
		if ka, kb := kidOf(t, sign(t, a, clk)), kidOf(t, sign(t, b, clk)); ka != kb {
			t.Errorf("kids differ: %s and %s", ka, kb)
		}
		if n := len(st.ids()); n != 1 {
			t.Errorf("store has %d keys, want 1", n)
		}
	})

	t.Run("changing the alg creates a key of the new alg and keeps the old one published", func(t *testing.T) {
		clk := newClock()
		st := &memStore{}
		old := kidOf(t, sign(t, newRing(t, st, keys.EdDSA, clk), clk))
		clk.Advance(time.Second)
		ring := newRing(t, st, keys.ES256, clk)
		tok := sign(t, ring, clk)
		if kid := kidOf(t, tok); kid == old {
			t.Fatal("still signing with the EdDSA key")
		}
		if kids := publishedKids(t, jwks(t, ring)); len(kids) != 2 || !slices.Contains(kids, old) {
			t.Errorf("published %v, want the new key and %s", kids, old)
		}
		if st.row(t, old).RetiredAt == nil {
			t.Error("the EdDSA key was not retired")
		}
	})

	t.Run("keyrings starting together on an empty store each get a current key", func(t *testing.T) {
		clk := newClock()
		st := &memStore{}
		var wg sync.WaitGroup
		rings := make([]*keys.Keyring, 4)
		errs := make([]error, len(rings))
		for i := range rings {
			wg.Go(func() {
				rings[i], errs[i] = keys.New(context.Background(), st, keys.Options{Alg: keys.EdDSA, Secret: secret, Now: clk.Now})
			})
		}
		wg.Wait()
		for i, ring := range rings {
			if errs[i] != nil {
				t.Fatalf("New: %v", errs[i])
			}
			tok := sign(t, ring, clk)
			if _, err := verify(t, jwks(t, ring), tok, keys.EdDSA, clk); err != nil {
				t.Errorf("keyring %d: %v", i, err)
			}
		}
	})
}

func TestPrivateKeyEncryption(t *testing.T) {
	for _, alg := range algs {
		clk := newClock()
		st := &memStore{}
		ring := newRing(t, st, alg, clk)
		kid := kidOf(t, sign(t, ring, clk))
		row := st.row(t, kid)

		t.Run(alg+" private key is stored in Better Auth's format", func(t *testing.T) {
			if !regexp.MustCompile(`^[0-9a-f]+$`).Match(row.PrivateKey) {
				t.Fatalf("stored private key is not lowercase hex: %.40s…", row.PrivateKey)
			}
			raw, _ := hex.DecodeString(string(row.PrivateKey))
			if len(raw) < 24+16+2 {
				t.Fatalf("only %d bytes", len(raw))
			}
			// Decrypt as Better Auth's symmetricDecrypt does, independently of
			// the package: key = SHA-256(secret), 24-byte nonce prefix, no AAD.
			sum := sha256.Sum256(secret)
			aead, _ := chacha20poly1305.NewX(sum[:])
			plain, err := aead.Open(nil, raw[:24], raw[24:], nil)
			if err != nil {
				t.Fatalf("independent decryption: %v", err)
			}
			var priv, pub map[string]string
			if err := json.Unmarshal(plain, &priv); err != nil {
				t.Fatalf("plaintext is not a JWK: %v", err)
			}
			if err := json.Unmarshal(row.PublicJWK, &pub); err != nil {
				t.Fatal(err)
			}
			if priv["d"] == "" {
				t.Errorf("private JWK has no d: %s", plain)
			}
			for name, v := range pub {
				if priv[name] != v {
					t.Errorf("private JWK %s = %q, public JWK has %q", name, priv[name], v)
				}
			}
			if alg == keys.RS256 {
				for _, name := range []string{"p", "q", "dp", "dq", "qi"} {
					if priv[name] == "" {
						t.Errorf("RSA private JWK lacks %s", name)
					}
				}
			}
		})

		t.Run(alg+" a wrong secret fails with ErrWrongSecret", func(t *testing.T) {
			_, err := keys.New(context.Background(), st, keys.Options{Alg: alg, Secret: []byte("another secret"), Now: clk.Now})
			if !errors.Is(err, keys.ErrWrongSecret) {
				t.Fatalf("err = %v, want ErrWrongSecret", err)
			}
			if !strings.Contains(err.Error(), "LECTERN_SECRET") {
				t.Errorf("error does not point at LECTERN_SECRET: %v", err)
			}
		})
	}

	t.Run("the JSON string literal Better Auth stores is accepted", func(t *testing.T) {
		clk := newClock()
		st := &memStore{}
		kid := kidOf(t, sign(t, newRing(t, st, keys.EdDSA, clk), clk))
		st.edit(kid, func(k *store.SigningKey) { k.PrivateKey = []byte(`"` + string(k.PrivateKey) + `"`) })
		ring := newRing(t, st, keys.EdDSA, clk)
		tok := sign(t, ring, clk)
		if got := kidOf(t, tok); got != kid {
			t.Fatalf("signed with %s, want the imported key %s", got, kid)
		}
		if _, err := verify(t, jwks(t, ring), tok, keys.EdDSA, clk); err != nil {
			t.Fatal(err)
		}
	})

	corrupt := []struct {
		name string
		edit func([]byte) []byte
	}{
		{"a flipped ciphertext byte fails with ErrWrongSecret", func(b []byte) []byte {
			b = bytes.Clone(b)
			if b[60] == '0' {
				b[60] = '1'
			} else {
				b[60] = '0'
			}
			return b
		}},
		{"text that is not hex fails", func([]byte) []byte { return []byte("not hex at all") }},
		{"a truncated key fails", func(b []byte) []byte { return b[:70] }},
		{"an empty key fails", func([]byte) []byte { return nil }},
		{"a broken JSON string fails", func(b []byte) []byte { return append([]byte(`"`), b...) }},
		{"Better Auth's versioned-secret envelope fails clearly", func(b []byte) []byte { return append([]byte("$ba$1$"), b...) }},
	}
	for _, tt := range corrupt {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			st := &memStore{}
			kid := kidOf(t, sign(t, newRing(t, st, keys.EdDSA, clk), clk))
			st.edit(kid, func(k *store.SigningKey) { k.PrivateKey = tt.edit(k.PrivateKey) })
			_, err := keys.New(context.Background(), st, keys.Options{Alg: keys.EdDSA, Secret: secret, Now: clk.Now})
			if err == nil {
				t.Fatal("New succeeded with a corrupted key")
			}
			if strings.Contains(tt.name, "ErrWrongSecret") && !errors.Is(err, keys.ErrWrongSecret) {
				t.Errorf("err = %v, want ErrWrongSecret", err)
			}
			if strings.Contains(tt.name, "envelope") && !strings.Contains(err.Error(), "$ba$") {
				t.Errorf("err = %v, want it to name the envelope", err)
			}
		})
	}

	t.Run("a private key that does not match its public key is refused", func(t *testing.T) {
		clk := newClock()
		a, b := &memStore{}, &memStore{}
		ka := kidOf(t, sign(t, newRing(t, a, keys.EdDSA, clk), clk))
		kb := kidOf(t, sign(t, newRing(t, b, keys.EdDSA, clk), clk))
		other := b.row(t, kb).PrivateKey
		a.edit(ka, func(k *store.SigningKey) { k.PrivateKey = other })
		if _, err := keys.New(context.Background(), a, keys.Options{Alg: keys.EdDSA, Secret: secret, Now: clk.Now}); err == nil {
			t.Fatal("New accepted a swapped private key")
		}
	})
}

func TestRotate(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg+" rotation keeps old tokens valid until their key leaves the window", func(t *testing.T) {
			ctx := context.Background()
			clk := newClock()
			st := &memStore{}
			ring := newRing(t, st, alg, clk)
			before := sign(t, ring, clk)
			oldKid := kidOf(t, before)

			clk.Advance(time.Minute)
			rec, err := ring.Rotate(ctx)
			if err != nil {
				t.Fatalf("Rotate: %v", err)
			}
			if rec.ID == oldKid || rec.Alg != alg || rec.RetiredAt != nil {
				t.Fatalf("Rotate returned %+v", rec)
			}
			if _, err := verify(t, jwks(t, ring), before, alg, clk); err != nil {
				t.Errorf("token signed before the rotation: %v", err)
			}
			after := sign(t, ring, clk)
			if kid := kidOf(t, after); kid != rec.ID {
				t.Errorf("new token has kid %s, want %s", kid, rec.ID)
			}
			if _, err := verify(t, jwks(t, ring), after, alg, clk); err != nil {
				t.Errorf("token signed after the rotation: %v", err)
			}

			// TokenTTL 15m + leeway max(1m, RefreshEvery 1m) = 16m.
			clk.Advance(16*time.Minute - time.Second)
			if kids := publishedKids(t, jwks(t, ring)); !slices.Contains(kids, oldKid) {
				t.Errorf("old key gone %v before TTL+leeway", kids)
			}
			clk.Advance(time.Second)
			if kids := publishedKids(t, jwks(t, ring)); slices.Contains(kids, oldKid) || !slices.Contains(kids, rec.ID) {
				t.Errorf("published %v after TTL+leeway, want only %s", kids, rec.ID)
			}
			if _, _, ok := ring.PublicKey(ctx, oldKid); ok {
				t.Error("PublicKey still serves the expired key")
			}
			list, err := ring.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := []keys.KeyInfo{
				{ID: rec.ID, Alg: alg, Current: true, Published: true},
				{ID: oldKid, Alg: alg},
			}
			for i := range list {
				list[i].CreatedAt, list[i].RetiredAt = time.Time{}, nil
			}
			if !slices.Equal(list, want) {
				t.Errorf("List = %+v, want %+v", list, want)
			}

			clk.Advance(time.Second)
			third, err := ring.Rotate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ids := st.ids(); slices.Contains(ids, oldKid) || len(ids) != 2 {
				t.Errorf("stored keys %v; the key retired beyond the window should be deleted", ids)
			}
			if kids := publishedKids(t, jwks(t, ring)); len(kids) != 2 || kids[0] != third.ID || kids[1] != rec.ID {
				t.Errorf("published %v, want [%s %s]", kids, third.ID, rec.ID)
			}
		})
	}
}

func TestReload(t *testing.T) {
	ctx := context.Background()

	t.Run("a second keyring picks up a rotation after RefreshEvery", func(t *testing.T) {
		clk := newClock()
		st := &memStore{}
		server := newRing(t, st, keys.ES256, clk)
		cli := newRing(t, st, keys.ES256, clk)
		oldKid := kidOf(t, sign(t, server, clk))
		rec, err := cli.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(59 * time.Second)
		if kid := kidOf(t, sign(t, server, clk)); kid != oldKid {
			t.Errorf("reloaded before RefreshEvery: kid %s", kid)
		}
		clk.Advance(time.Second)
		tok := sign(t, server, clk)
		if kid := kidOf(t, tok); kid != rec.ID {
			t.Fatalf("after RefreshEvery kid = %s, want %s", kid, rec.ID)
		}
		if _, err := verify(t, jwks(t, cli), tok, keys.ES256, clk); err != nil {
			t.Errorf("server token against the CLI's JWKS: %v", err)
		}
		if kids := publishedKids(t, jwks(t, server)); len(kids) != 2 {
			t.Errorf("server publishes %v, want both keys", kids)
		}
	})

	t.Run("an unknown kid reloads at most once per ten seconds", func(t *testing.T) {
		clk := newClock()
		st := &memStore{}
		server := newRing(t, st, keys.EdDSA, clk)
		other := newRing(t, st, keys.EdDSA, clk)
		rec, err := other.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := server.PublicKey(ctx, rec.ID); ok {
			t.Error("reloaded for an unknown kid right after loading")
		}
		clk.Advance(10 * time.Second)
		if _, alg, ok := server.PublicKey(ctx, rec.ID); !ok || alg != keys.EdDSA {
			t.Errorf("new key not found after an unknown-kid reload (alg %q)", alg)
		}
		loads := st.loadCount()
		for i := range 100 {
			server.PublicKey(ctx, fmt.Sprintf("forged-%d", i))
		}
		if n := st.loadCount() - loads; n != 0 {
			t.Errorf("%d reloads for forged kids within ten seconds", n)
		}
		clk.Advance(10 * time.Second)
		for i := range 100 {
			server.PublicKey(ctx, fmt.Sprintf("forged-%d", i))
		}
		if n := st.loadCount() - loads; n != 1 {
			t.Errorf("%d reloads for forged kids over ten seconds, want 1", n)
		}
	})

	t.Run("a negative RefreshEvery disables lazy reloads", func(t *testing.T) {
		clk := newClock()
		st := &memStore{}
		ring, err := keys.New(ctx, st, keys.Options{Alg: keys.EdDSA, Secret: secret, RefreshEvery: -1, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		loads := st.loadCount()
		clk.Advance(time.Hour)
		sign(t, ring, clk)
		jwks(t, ring)
		if n := st.loadCount() - loads; n != 0 {
			t.Errorf("%d lazy reloads", n)
		}
		if err := ring.Reload(ctx); err != nil || st.loadCount() == loads {
			t.Errorf("Reload: %v", err)
		}
	})

	t.Run("the keys stay usable while the store fails", func(t *testing.T) {
		clk := newClock()
		st := &failingStore{memStore: &memStore{}}
		ring := newRing(t, st, keys.EdDSA, clk)
		st.fail(true)
		clk.Advance(time.Hour)
		tok := sign(t, ring, clk)
		if _, err := verify(t, jwks(t, ring), tok, keys.EdDSA, clk); err != nil {
			t.Fatal(err)
		}
		if err := ring.Reload(ctx); err == nil {
			t.Error("Reload did not report the store error")
		}
		st.fail(false)
		if err := ring.Reload(ctx); err != nil {
			t.Error(err)
		}
	})
}

// failingStore fails SigningKeys on demand.
type failingStore struct {
	*memStore
	mu      sync.Mutex
	failing bool
}

func (f *failingStore) fail(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing = on
}

func (f *failingStore) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	f.mu.Lock()
	failing := f.failing
	f.mu.Unlock()
	if failing {
		return nil, errors.New("database is down")
	}
	return f.memStore.SigningKeys(ctx)
}

func TestConcurrentUse(t *testing.T) {
	t.Run("signing, publishing and verifying stay consistent during rotations", func(t *testing.T) {
		ctx := context.Background()
		clk := newClock()
		st := &memStore{}
		ring := newRing(t, st, keys.EdDSA, clk)
		cli := newRing(t, st, keys.EdDSA, clk)
		done := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					if err := signAndCheck(ctx, ring, clk); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		for i := range 20 {
			var err error
			if i%2 == 0 {
				_, err = ring.Rotate(ctx)
			} else {
				_, err = cli.Rotate(ctx)
			}
			if err != nil {
				t.Error(err)
			}
			clk.Advance(20 * time.Second)
			time.Sleep(time.Millisecond)
		}
		close(done)
		wg.Wait()
	})
}

// signAndCheck signs a token and checks that its key is published, both in
// JWKS and through PublicKey. It does not use t, so goroutines can call it.
func signAndCheck(ctx context.Context, ring *keys.Keyring, clk *clock) error {
	tok, err := ring.Sign(ctx, claims(clk.Now()))
	if err != nil {
		return err
	}
	var hdr struct{ Kid string }
	seg, _, _ := strings.Cut(tok, ".")
	b, _ := base64.RawURLEncoding.DecodeString(seg)
	if err := json.Unmarshal(b, &hdr); err != nil {
		return fmt.Errorf("header %s: %w", b, err)
	}
	if _, _, ok := ring.PublicKey(ctx, hdr.Kid); !ok {
		return fmt.Errorf("PublicKey(%s) not found", hdr.Kid)
	}
	set, _ := ring.JWKS(ctx)
	if !bytes.Contains(set, []byte(`"kid":"`+hdr.Kid+`"`)) {
		return fmt.Errorf("kid %s not in JWKS %s", hdr.Kid, set)
	}
	return nil
}

// Package keys manages Lectern's JWT signing keys: it generates them, stores
// the private halves encrypted exactly as Better Auth's jwt() plugin does (so
// a Better Auth jwks table can be imported with the same secret), rotates
// them, publishes the JWKS and signs compact JWS tokens.
//
// # Snapshots and freshness
//
// A Keyring keeps an immutable snapshot of the stored keys (parsed public
// keys, the decrypted current private key, the encoded JWKS) behind an atomic
// pointer, so Sign, JWKS and PublicKey never take a lock and never touch the
// store on the hot path.
//
// There is no background goroutine. The snapshot is reloaded lazily: the
// first Sign, JWKS or PublicKey call made once Options.RefreshEvery has passed
// since the last load reloads it inline, while concurrent callers keep using
// the previous snapshot. That is how a rotation done by another process (the
// `lectern keys rotate` command, another replica) is picked up. A failed lazy
// reload keeps the previous keys and is retried after another RefreshEvery;
// Reload does the same on demand and reports the error.
//
// # Publication window
//
// A retired key stays in the JWKS, and in PublicKey, for TokenTTL plus a
// leeway of max(1 minute, RefreshEvery) after it was retired. TokenTTL covers
// tokens signed just before the rotation; RefreshEvery covers a process that
// has not reloaded yet and still signs with the key it knows.
package keys

import (
	"context"
	"crypto"
	"crypto/cipher"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
)

// Signing algorithms a Keyring can use, as they appear in the JWS "alg"
// header and the JWK "alg" member.
const (
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys
	ES256 = "ES256" // ECDSA on P-256 with SHA-256
	EdDSA = "EdDSA" // Ed25519
)

// Defaults applied by New to zero Options fields.
const (
	DefaultTokenTTL     = 15 * time.Minute // Better Auth's exp - iat
	DefaultRefreshEvery = time.Minute
)

const (
	// publishLeeway is the minimum extra time a retired key stays published
	// beyond TokenTTL, for clock skew between signer and verifiers.
	publishLeeway = time.Minute
	// unknownKIDReloadEvery bounds how often PublicKey may reload the store
	// because of a kid it does not know: kids come from tokens, which anyone
	// can forge, so without a bound they would turn into database load.
	unknownKIDReloadEvery = 10 * time.Second
	// maxCreateAttempts bounds the loop that creates a key when the store has
	// no current key of the configured alg; a concurrent rotation in another
	// process can retire the key just created.
	maxCreateAttempts = 3
)

// Store is the part of store.Store that a Keyring needs. store.Store
// satisfies it; tests use an in-memory fake.
type Store interface {
	// InsertSigningKey adds a key.
	InsertSigningKey(ctx context.Context, k store.SigningKey) error
	// SigningKeys returns every stored key, newest first.
	SigningKeys(ctx context.Context) ([]store.SigningKey, error)
	// RetireSigningKeys marks every key except keepID as retired at the given
	// time; keys already retired keep their earlier time.
	RetireSigningKeys(ctx context.Context, keepID string, at time.Time) error
	// DeleteSigningKeysRetiredBefore removes keys retired before t.
	DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int64, error)
}

// Options configures a Keyring. The zero value of every field but Secret is
// usable.
type Options struct {
	// Alg is the algorithm new keys use and tokens are signed with: RS256
	// (the default), ES256 or EdDSA. Changing it acts as a rotation: New
	// creates a key of the new alg and retires the others, which stay
	// published for the usual window.
	Alg string
	// Secret derives the key that encrypts private keys at rest
	// (SHA-256(Secret), as Better Auth does). Required.
	Secret []byte
	// TokenTTL is the lifetime of the tokens signed with these keys (default
	// 15 minutes); it sets how long retired keys stay published.
	TokenTTL time.Duration
	// RefreshEvery is how often the keys are reloaded from the store (default
	// 1 minute), so a rotation done by another process is picked up. A
	// negative value disables lazy reloads; only Reload, Rotate and List then
	// read the store.
	RefreshEvery time.Duration
	// Now is the clock (default time.Now); tests inject a fake one.
	Now func() time.Time
}

// KeyInfo describes one stored key, for `lectern keys list`.
type KeyInfo struct {
	ID        string     // the JWK "kid"
	Alg       string     // RS256, ES256 or EdDSA
	CreatedAt time.Time  // when the key was generated
	RetiredAt *time.Time // when a newer key replaced it; nil while not retired
	Current   bool       // tokens are being signed with this key
	Published bool       // the key is in the JWKS (current, or retired recently enough)
}

// Keyring signs tokens with the current key and publishes the keys that
// verify them. It is safe for concurrent use; see the package documentation
// for how and when it reloads keys from the store.
type Keyring struct {
	st           Store
	alg          string
	aead         cipher.AEAD
	grace        time.Duration // how long a retired key stays published
	refreshEvery time.Duration // 0: no lazy reloads
	now          func() time.Time

	snap      atomic.Pointer[snapshot] // never nil once New has returned
	lastLoad  atomic.Int64             // Now().UnixNano() of the last load attempt
	reloading atomic.Bool              // a lazy reload is in flight

	// mu serialises everything that replaces snap or writes to the store, so
	// two rebuilds never race and their results never go backwards.
	mu sync.Mutex
}

// snapshot is an immutable view of the stored keys at one load.
type snapshot struct {
	keys      []*key          // every stored key, newest first
	byID      map[string]*key // the same keys by kid
	signer    *signer         // the current key of the configured alg
	published []string        // kids in jwks, in order
	jwks      []byte          // {"keys":[...]} of the published keys
	// jwksUntil is when a retired key in jwks leaves the publication window,
	// so jwks must be rebuilt; zero when no retired key is published.
	jwksUntil time.Time
}

// key is one stored key's public half, parsed and encoded once.
type key struct {
	id      string
	alg     string
	created time.Time
	retired *time.Time
	pub     crypto.PublicKey
	entry   []byte // this key's JWKS entry, in Better Auth's member order
}

// publishedAt reports whether k belongs in the JWKS at now.
func (k *key) publishedAt(now time.Time, grace time.Duration) bool {
	return k.retired == nil || now.Before(k.retired.Add(grace))
}

// New returns a Keyring over st. It loads the stored keys and, when none of
// opt.Alg is current, generates one, so JWKS and Sign work from the first
// request. It fails if the current key does not decrypt with opt.Secret
// (errors.Is(err, ErrWrongSecret)).
func New(ctx context.Context, st Store, opt Options) (*Keyring, error) {
	if st == nil {
		return nil, errors.New("keys: nil store")
	}
	if opt.Alg == "" {
		opt.Alg = RS256
	}
	switch opt.Alg {
	case RS256, ES256, EdDSA:
	default:
		return nil, fmt.Errorf("keys: unsupported alg %q (want RS256, ES256 or EdDSA)", opt.Alg)
	}
	if len(opt.Secret) == 0 {
		return nil, errors.New("keys: empty secret")
	}
	if opt.TokenTTL <= 0 {
		opt.TokenTTL = DefaultTokenTTL
	}
	switch {
	case opt.RefreshEvery == 0:
		opt.RefreshEvery = DefaultRefreshEvery
	case opt.RefreshEvery < 0:
		opt.RefreshEvery = 0
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	aead, err := newAEAD(opt.Secret)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	k := &Keyring{
		st:           st,
		alg:          opt.Alg,
		aead:         aead,
		grace:        opt.TokenTTL + max(publishLeeway, opt.RefreshEvery),
		refreshEvery: opt.RefreshEvery,
		now:          opt.Now,
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.loadLocked(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// Sign returns payload (a JSON claims set, used as is) as a compact JWS
// signed with the current key. The header is exactly
// {"alg":"<alg>","kid":"<kid>"}, without "typ", as Better Auth emits it.
func (k *Keyring) Sign(ctx context.Context, payload []byte) (string, error) {
	s := k.fresh(ctx)
	tok, err := s.signer.sign(payload)
	if err != nil {
		return "", fmt.Errorf("keys: sign with %s: %w", s.signer.kid, err)
	}
	return tok, nil
}

// SigningKeyID returns the kid of the key Sign signs with now: a token
// signed with another key is not served again once this one is current.
func (k *Keyring) SigningKeyID(ctx context.Context) string { return k.fresh(ctx).signer.kid }

// JWKS returns the JSON Web Key Set to serve at /jwks: every current key and
// every key retired within the publication window, members ordered as Better
// Auth orders them. The bytes are shared between calls and must not be
// modified. The error is always nil today; it is there for implementations
// that fetch keys remotely.
func (k *Keyring) JWKS(ctx context.Context) ([]byte, error) {
	s := k.fresh(ctx)
	if !s.jwksUntil.IsZero() && !k.now().Before(s.jwksUntil) {
		s = k.expireJWKS()
	}
	return s.jwks, nil
}

// PublicKey returns the public key with this kid and its alg, if the key is
// published (the same keys as JWKS), for in-process token verification. The
// key is an *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey. A kid the
// Keyring does not know makes it reload the store, at most once every ten
// seconds whatever the kids asked for, in case another process created the
// key since the last load.
func (k *Keyring) PublicKey(ctx context.Context, kid string) (crypto.PublicKey, string, bool) {
	s := k.fresh(ctx)
	key, ok := s.byID[kid]
	if !ok && k.tryReload(ctx, unknownKIDReloadEvery) {
		s = k.snap.Load()
		key, ok = s.byID[kid]
	}
	if !ok || !key.publishedAt(k.now(), k.grace) {
		return nil, "", false
	}
	return key.pub, key.alg, true
}

// Rotate generates a key of the configured alg and makes it current: every
// other key is retired now (and stays published for the window), and keys
// retired before the window are deleted. It returns the new key as stored.
func (k *Keyring) Rotate(ctx context.Context) (store.SigningKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	rec, err := k.createLocked(ctx, now, true)
	if err != nil {
		return store.SigningKey{}, err
	}
	if _, err := k.st.DeleteSigningKeysRetiredBefore(ctx, now.Add(-k.grace)); err != nil {
		return rec, fmt.Errorf("keys: rotate: delete old keys: %w", err)
	}
	if err := k.loadLocked(ctx); err != nil {
		return rec, fmt.Errorf("keys: rotate: %w", err)
	}
	return rec, nil
}

// List reloads the keys from the store and describes them, newest first.
func (k *Keyring) List(ctx context.Context) ([]KeyInfo, error) {
	if err := k.Reload(ctx); err != nil {
		return nil, err
	}
	s, now := k.snap.Load(), k.now()
	out := make([]KeyInfo, 0, len(s.keys))
	for _, key := range s.keys {
		out = append(out, KeyInfo{
			ID:        key.id,
			Alg:       key.alg,
			CreatedAt: key.created,
			RetiredAt: key.retired,
			Current:   key.id == s.signer.kid,
			Published: key.publishedAt(now, k.grace),
		})
	}
	return out, nil
}

// Reload reads the keys from the store now, whatever RefreshEvery says. On
// error the Keyring keeps the keys it had.
func (k *Keyring) Reload(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.loadLocked(ctx)
}

// fresh returns the snapshot, first reloading it if RefreshEvery has passed.
func (k *Keyring) fresh(ctx context.Context) *snapshot {
	if k.refreshEvery > 0 {
		k.tryReload(ctx, k.refreshEvery)
	}
	return k.snap.Load()
}

// tryReload reloads the store if the last attempt is at least minAge old and
// no other lazy reload is running. It reports whether it reloaded
// successfully. Errors are dropped: the caller carries on with the keys it
// has, and lastLoad delays the next attempt.
func (k *Keyring) tryReload(ctx context.Context, minAge time.Duration) bool {
	if !k.dueFor(minAge) || !k.reloading.CompareAndSwap(false, true) {
		return false
	}
	defer k.reloading.Store(false)
	if !k.dueFor(minAge) { // another caller reloaded in between
		return false
	}
	return k.Reload(ctx) == nil
}

func (k *Keyring) dueFor(minAge time.Duration) bool {
	return k.now().UnixNano()-k.lastLoad.Load() >= int64(minAge)
}

// loadLocked reads the store and installs a new snapshot, creating a key
// when no key of the configured alg is current. k.mu must be held.
func (k *Keyring) loadLocked(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		now := k.now()
		k.lastLoad.Store(now.UnixNano())
		recs, err := k.st.SigningKeys(ctx)
		if err != nil {
			return fmt.Errorf("keys: load: %w", err)
		}
		s, err := k.build(recs, k.snap.Load(), now)
		if err != nil {
			return fmt.Errorf("keys: load: %w", err)
		}
		if s != nil {
			k.snap.Store(s)
			return nil
		}
		if attempt == maxCreateAttempts {
			return fmt.Errorf("keys: load: no current %s key after creating %d; concurrent rotations?", k.alg, attempt-1)
		}
		// Retire the other current keys only if there are any (another alg's):
		// when several processes start on an empty store, each inserts a key
		// and none retires the others', so they cannot leave zero current keys.
		retire := slices.ContainsFunc(recs, func(r store.SigningKey) bool { return r.RetiredAt == nil })
		if _, err := k.createLocked(ctx, now, retire); err != nil {
			return err
		}
	}
}

// createLocked generates, seals and inserts a key of the configured alg and,
// if retireOthers, retires every other key at now. k.mu must be held.
func (k *Keyring) createLocked(ctx context.Context, now time.Time, retireOthers bool) (store.SigningKey, error) {
	priv, err := generate(k.alg)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("keys: generate %s key: %w", k.alg, err)
	}
	pubJWK, err := publicMembers(priv.Public())
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("keys: encode public key: %w", err)
	}
	privJWK, err := privateMembers(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("keys: encode private key: %w", err)
	}
	rec := store.SigningKey{
		ID:         randid.New(),
		Alg:        k.alg,
		PublicJWK:  appendObject(nil, pubJWK),
		PrivateKey: seal(k.aead, appendObject(nil, privJWK)),
		CreatedAt:  now,
	}
	if err := k.st.InsertSigningKey(ctx, rec); err != nil {
		return store.SigningKey{}, fmt.Errorf("keys: insert key: %w", err)
	}
	if retireOthers {
		if err := k.st.RetireSigningKeys(ctx, rec.ID, now); err != nil {
			return rec, fmt.Errorf("keys: retire previous keys: %w", err)
		}
	}
	return rec, nil
}

// build turns stored records into a snapshot, reusing what prev (may be nil)
// already parsed and decrypted. It returns nil, nil when no key of the
// configured alg is current.
func (k *Keyring) build(recs []store.SigningKey, prev *snapshot, now time.Time) (*snapshot, error) {
	recs = slices.Clone(recs)
	// Newest first whatever the engine's tie-breaking, so every process
	// picks the same current key.
	slices.SortStableFunc(recs, func(a, b store.SigningKey) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	s := &snapshot{keys: make([]*key, 0, len(recs)), byID: make(map[string]*key, len(recs))}
	var current *store.SigningKey
	for i := range recs {
		rec := &recs[i]
		var old *key
		if prev != nil {
			old = prev.byID[rec.ID]
		}
		key, err := k.parseKey(rec, old)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", rec.ID, err)
		}
		s.keys = append(s.keys, key)
		s.byID[key.id] = key
		if current == nil && rec.Alg == k.alg && rec.RetiredAt == nil {
			current = rec
		}
	}
	if current == nil {
		return nil, nil
	}
	if prev != nil && prev.signer.kid == current.ID {
		s.signer = prev.signer
	} else {
		sg, err := k.openSigner(current, s.byID[current.ID])
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", current.ID, err)
		}
		s.signer = sg
	}
	s.setJWKS(prev, now, k.grace)
	return s, nil
}

// parseKey parses rec's public half, or reuses old when it is the same key.
func (k *Keyring) parseKey(rec *store.SigningKey, old *key) (*key, error) {
	var retired *time.Time
	if rec.RetiredAt != nil {
		t := *rec.RetiredAt
		retired = &t
	}
	if old != nil && old.alg == rec.Alg && old.created.Equal(rec.CreatedAt) {
		if equalTimes(old.retired, retired) {
			return old, nil
		}
		moved := *old
		moved.retired = retired
		return &moved, nil
	}
	pub, members, err := parsePublicJWK(rec.Alg, rec.PublicJWK)
	if err != nil {
		return nil, err
	}
	return &key{
		id:      rec.ID,
		alg:     rec.Alg,
		created: rec.CreatedAt,
		retired: retired,
		pub:     pub,
		entry:   jwksEntry(rec.Alg, rec.ID, members),
	}, nil
}

// openSigner decrypts rec's private key and checks it matches the public key.
func (k *Keyring) openSigner(rec *store.SigningKey, pub *key) (*signer, error) {
	plain, err := open(k.aead, rec.PrivateKey)
	if err != nil {
		return nil, err
	}
	priv, err := parsePrivateJWK(rec.Alg, plain, pub.pub)
	clear(plain)
	if err != nil {
		return nil, err
	}
	return newSigner(rec.Alg, rec.ID, priv)
}

// setJWKS fills the JWKS fields of s, reusing prev's bytes when the same keys
// are published.
func (s *snapshot) setJWKS(prev *snapshot, now time.Time, grace time.Duration) {
	s.published, s.jwksUntil = nil, time.Time{}
	var size int
	for _, key := range s.keys {
		if !key.publishedAt(now, grace) {
			continue
		}
		s.published = append(s.published, key.id)
		size += len(key.entry) + 1
		if key.retired != nil {
			if until := key.retired.Add(grace); s.jwksUntil.IsZero() || until.Before(s.jwksUntil) {
				s.jwksUntil = until
			}
		}
	}
	if prev != nil && slices.Equal(prev.published, s.published) {
		s.jwks = prev.jwks
		return
	}
	b := make([]byte, 0, len(`{"keys":[]}`)+size)
	b = append(b, `{"keys":[`...)
	for i, id := range s.published {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, s.byID[id].entry...)
	}
	s.jwks = append(b, "]}"...)
}

// expireJWKS rebuilds the JWKS once a retired key has left the publication
// window, and returns the resulting snapshot.
func (k *Keyring) expireJWKS() *snapshot {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, now := k.snap.Load(), k.now()
	if s.jwksUntil.IsZero() || now.Before(s.jwksUntil) {
		return s // rebuilt meanwhile
	}
	next := *s
	next.setJWKS(s, now, k.grace)
	k.snap.Store(&next)
	return &next
}

func equalTimes(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

package authn

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"golang.org/x/time/rate"

	"github.com/lectern/lectern/internal/backoff"
)

// Defaults applied by NewRemote to zero RemoteOptions fields.
const (
	DefaultRefreshInterval = 5 * time.Minute
	DefaultRefetchInterval = 30 * time.Second
	DefaultHTTPTimeout     = 10 * time.Second
)

const (
	// maxJWKSBytes caps a JWKS response. Better Auth's set is a few hundred
	// bytes per key; a megabyte is thousands of keys, and the cap keeps a
	// broken or hostile endpoint from filling memory.
	maxJWKSBytes = 1 << 20
	// refreshKID is the kid read to make jwkset fetch the set: keyIndex never
	// holds it (a token without a kid is refused before any lookup), so the
	// read always misses, and jwkset refreshes on a miss.
	refreshKID = ""
)

// RemoteOptions configures a Remote. The zero value is usable.
type RemoteOptions struct {
	// RefreshInterval is how often the JWKS is fetched again, so retired keys
	// leave the cache (default 5 minutes). While the cache is empty (the
	// endpoint was down at start-up), fetches are retried sooner, from one
	// second doubling up to RefreshInterval.
	RefreshInterval time.Duration
	// RefetchInterval is the least time between two fetches caused by tokens
	// whose kid is not cached (default 30 seconds, burst 1). Kids come from
	// tokens, which anyone can make up; without this bound a flood of random
	// kids would become a flood of requests to the JWKS endpoint.
	RefetchInterval time.Duration
	// HTTPTimeout bounds one fetch, from dialling to the end of the body
	// (default 10 seconds).
	HTTPTimeout time.Duration
	// Client makes the requests. The default has dial, TLS handshake,
	// response header and overall timeouts and follows at most three
	// redirects, never from https to http. Either way responses are capped
	// at 1 MiB, and a Client without a Timeout gets HTTPTimeout.
	Client *http.Client
	// Logger receives failed fetches (warn) and changes of the key set
	// (info). Default: discard.
	Logger *slog.Logger
}

// Remote is a KeySource over a JWKS fetched over HTTP, for the `api`
// command. It answers from an in-memory index, so the hot path is one atomic
// load and one map lookup; the network is used only by its refresh goroutine
// and, at most once per RefetchInterval, for a kid it does not know.
//
// Keys are kept when a fetch fails (error, timeout, non-200, bad JSON, a set
// with no usable key), so tokens keep verifying while the endpoint is down. A
// successful fetch replaces the set, so retired keys stop verifying. Only
// RS256 (RSA of 2048 bits or more), ES256 (P-256) and EdDSA (Ed25519) keys
// with use "sig" (or none) are indexed; a key whose JWK names another alg,
// or that carries private material, is ignored.
//
// Remote is built with jwkset, which fetches, parses and validates the set.
// It does not use keyfunc's Keyfunc: that looks keys up through a *jwt.Token
// and, on an unknown kid, blocks the request on the rate limiter (up to
// RateLimitWaitMax) instead of refusing it at once.
type Remote struct {
	log          *slog.Logger
	idx          *keyIndex
	refresher    jwkset.Storage // a read of a missing kid fetches the set
	limiter      *rate.Limiter  // unknown-kid refetches
	refreshEvery time.Duration
	timeout      time.Duration
	transport    *http.Transport // ours to close; nil with a caller's Client

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the refresh loop and fetches

	mu       sync.Mutex
	inflight chan struct{} // closed when the running fetch ends; nil when none runs
	closed   bool
}

var _ KeySource = (*Remote)(nil)

// NewRemote returns a Remote over the JWKS at jwksURL (for Better Auth,
// <base>/api/auth/jwks) and starts its refresh goroutine; Close stops it. It
// fetches the set once before returning (bounded by ctx and HTTPTimeout), but
// a failed fetch is only logged: the API starts, refuses tokens with
// ReasonUnknownKID, and keeps trying in the background and on tokens. ctx
// bounds that first fetch only. It fails only on a bad URL.
func NewRemote(ctx context.Context, jwksURL string, opt RemoteOptions) (*Remote, error) {
	u, err := url.Parse(jwksURL)
	if err != nil {
		return nil, fmt.Errorf("authn: JWKS URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("authn: JWKS URL %q: want http(s)://host/path", u.Redacted())
	}
	if opt.RefreshInterval <= 0 {
		opt.RefreshInterval = DefaultRefreshInterval
	}
	if opt.RefetchInterval <= 0 {
		opt.RefetchInterval = DefaultRefetchInterval
	}
	if opt.HTTPTimeout <= 0 {
		opt.HTTPTimeout = DefaultHTTPTimeout
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("jwks_url", u.Redacted())
	client, transport := newHTTPClient(opt.Client, opt.HTTPTimeout)

	r := &Remote{
		log:          log,
		idx:          &keyIndex{MemoryJWKSet: jwkset.NewMemoryStorage(), log: log},
		limiter:      rate.NewLimiter(rate.Every(opt.RefetchInterval), 1),
		refreshEvery: opt.RefreshInterval,
		timeout:      opt.HTTPTimeout,
		transport:    transport,
	}
	// The Remote outlives ctx; keep its values (for log handlers), not its
	// cancellation.
	r.ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))

	// No RefreshInterval here: jwkset's own refresh goroutine could not be
	// waited for by Close, nor share the single fetch in flight.
	store, err := jwkset.NewStorageFromHTTP(jwksURL, jwkset.HTTPClientStorageOptions{
		Client:                    client,
		Ctx:                       ctx,
		HTTPTimeout:               opt.HTTPTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler:       r.fetchFailed,
		Storage:                   r.idx,
	})
	if err != nil {
		r.cancel()
		return nil, fmt.Errorf("authn: JWKS at %s: %w", u.Redacted(), err)
	}
	r.refresher, err = jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:       map[string]jwkset.Storage{jwksURL: store},
		PrioritizeHTTP: true,
		// Never waits: Remote applies its own limit before reading, so that
		// a request over the limit is refused at once rather than parked.
		RefreshUnknownKID: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		r.cancel()
		return nil, fmt.Errorf("authn: JWKS at %s: %w", u.Redacted(), err)
	}
	if r.idx.len() == 0 {
		log.Warn("no signing keys yet; bearer tokens are refused until the JWKS is fetched")
	}
	r.wg.Add(1)
	go r.run()
	return r, nil
}

// Key returns the cached key with this kid if it can verify alg. An unknown
// kid triggers a refetch of the set, unless one ran within RefetchInterval;
// if a fetch is already running, Key waits for it (or for ctx).
func (r *Remote) Key(ctx context.Context, kid, alg string) (crypto.PublicKey, error) {
	k, ok := r.idx.get(kid)
	if !ok {
		if done, started := r.startFetch(true); started {
			select {
			case <-done:
			case <-ctx.Done():
			}
		}
		if k, ok = r.idx.get(kid); !ok {
			return nil, fail(ReasonUnknownKID, fmt.Errorf("kid %q is not in the JWKS", clip(kid)))
		}
	}
	if k.alg != alg {
		return nil, fail(ReasonBadAlg, fmt.Errorf("token alg %s but key %q is %s", alg, clip(kid), k.alg))
	}
	return k.pub, nil
}

// Close stops the refresh goroutine and waits for it and any fetch in
// flight. Keys already cached still answer Key afterwards; nothing is
// fetched again. Close may be called more than once.
func (r *Remote) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	if r.transport != nil {
		r.transport.CloseIdleConnections()
	}
}

// run refreshes the set every refreshEvery, sooner while it is empty.
func (r *Remote) run() {
	defer r.wg.Done()
	retry := backoff.Policy{Initial: min(time.Second, r.refreshEvery), Max: r.refreshEvery}
	failures := 0
	t := time.NewTimer(r.refreshEvery)
	defer t.Stop()
	for {
		wait := r.refreshEvery
		if r.idx.len() == 0 {
			failures++
			wait = retry.Delay(failures)
		} else {
			failures = 0
		}
		t.Reset(wait)
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
		if done, ok := r.startFetch(false); ok {
			select {
			case <-done:
			case <-r.ctx.Done():
				return
			}
		}
	}
}

// startFetch returns a channel closed when the set has been fetched: the
// fetch in flight if there is one, else a new one. With limited, a new fetch
// starts only if the unknown-kid limiter allows; ok is false when no fetch
// runs (limited out, or closed).
func (r *Remote) startFetch(limited bool) (done <-chan struct{}, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight != nil {
		return r.inflight, true
	}
	if r.closed || limited && !r.limiter.Allow() {
		return nil, false
	}
	ch := make(chan struct{})
	r.inflight = ch
	r.wg.Add(1)
	// Its own goroutine, under r.ctx: a caller that gives up (its request
	// was cancelled) does not cancel the fetch the others wait for.
	go r.fetch(ch)
	return ch, true
}

func (r *Remote) fetch(done chan struct{}) {
	defer r.wg.Done()
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	// The read always misses (refreshKID), so jwkset fetches the set and
	// hands it to keyIndex.KeyReplaceAll; a failure goes to fetchFailed. The
	// result is "not found" either way.
	_, _ = r.refresher.KeyRead(ctx, refreshKID)
	cancel()
	r.mu.Lock()
	r.inflight = nil
	r.mu.Unlock()
	close(done)
}

// fetchFailed is jwkset's RefreshErrorHandler.
func (r *Remote) fetchFailed(_ context.Context, err error) {
	if r.ctx.Err() != nil {
		return // closing: the error is our own cancellation
	}
	r.log.Warn("JWKS fetch failed; keeping the cached keys", "keys", r.idx.len(), "err", err)
}

// remoteKey is a key from the set, with the one alg it may verify.
type remoteKey struct {
	pub crypto.PublicKey
	alg string
}

// keyIndex is the jwkset.Storage that the HTTP fetcher writes into. jwkset
// replaces the whole set after each successful fetch (and only then), which
// is when keyIndex builds the immutable kid → key map that Remote.Key reads
// without locks.
type keyIndex struct {
	*jwkset.MemoryJWKSet
	log  *slog.Logger
	mu   sync.Mutex // serialises KeyReplaceAll
	keys atomic.Pointer[map[string]remoteKey]
}

func (x *keyIndex) get(kid string) (remoteKey, bool) {
	m := x.keys.Load()
	if m == nil {
		return remoteKey{}, false
	}
	k, ok := (*m)[kid]
	return k, ok
}

func (x *keyIndex) len() int {
	if m := x.keys.Load(); m != nil {
		return len(*m)
	}
	return 0
}

// KeyRead never finds refreshKID; see its doc.
func (x *keyIndex) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	if kid == refreshKID {
		return jwkset.JWK{}, fmt.Errorf("%w: refresh", jwkset.ErrKeyNotFound)
	}
	return x.MemoryJWKSet.KeyRead(ctx, kid)
}

// KeyReplaceAll installs a freshly fetched set. A set without a single usable
// key is refused while keys are cached: Lectern's and Better Auth's JWKS are
// never empty, so an empty one is a fault upstream, not a revocation.
func (x *keyIndex) KeyReplaceAll(ctx context.Context, set []jwkset.JWK) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	m, ignored := indexKeys(set)
	old := x.keys.Load()
	if len(m) == 0 && old != nil && len(*old) > 0 {
		return fmt.Errorf("JWKS has no usable key (ignored: %v); keeping the %d cached", ignored, len(*old))
	}
	if err := x.MemoryJWKSet.KeyReplaceAll(ctx, set); err != nil {
		return err
	}
	x.keys.Store(&m)
	if old == nil || !sameKeys(*old, m) {
		x.log.Info("JWKS keys loaded", "keys", len(m), "ignored", ignored)
	}
	return nil
}

// KeyWrite refuses: the set comes from the endpoint only.
func (x *keyIndex) KeyWrite(context.Context, jwkset.JWK) error {
	return errors.New("authn: the JWKS cache is read-only")
}

// KeyDelete refuses: the set comes from the endpoint only.
func (x *keyIndex) KeyDelete(context.Context, string) (bool, error) {
	return false, errors.New("authn: the JWKS cache is read-only")
}

// indexKeys maps each usable key of set by kid and describes the others.
func indexKeys(set []jwkset.JWK) (map[string]remoteKey, []string) {
	m := make(map[string]remoteKey, len(set))
	var ignored []string
	for _, j := range set {
		meta := j.Marshal()
		kid := meta.KID
		why := ""
		var alg string
		switch {
		case kid == "":
			why = "no kid"
		case m[kid].pub != nil:
			why = "duplicate kid"
		case meta.USE != "" && meta.USE != jwkset.UseSig:
			why = fmt.Sprintf("use %q", meta.USE)
		case len(meta.KEYOPS) > 0 && !slices.Contains(meta.KEYOPS, jwkset.KeyOpsVerify):
			why = "key_ops without verify"
		default:
			if _, private := j.Key().(interface{ Public() crypto.PublicKey }); private {
				// Whoever can read the JWKS can sign with this key.
				why = "private key published"
				break
			}
			var err error
			if alg, err = keyAlgOf(j.Key()); err != nil {
				why = err.Error()
			} else if meta.ALG != "" && string(meta.ALG) != alg {
				why = fmt.Sprintf("alg %q", meta.ALG)
			}
		}
		if why != "" {
			ignored = append(ignored, clip(kid)+": "+why)
			continue
		}
		m[kid] = remoteKey{pub: j.Key(), alg: alg}
	}
	return m, ignored
}

func sameKeys(a, b map[string]remoteKey) bool {
	if len(a) != len(b) {
		return false
	}
	for kid, k := range a {
		if o, ok := b[kid]; !ok || o.alg != k.alg {
			return false
		}
	}
	return true
}

// newHTTPClient returns the client for fetches, and the transport Close must
// release when the client is ours.
func newHTTPClient(c *http.Client, timeout time.Duration) (*http.Client, *http.Transport) {
	if c != nil {
		cp := *c
		base := cp.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		cp.Transport = limitTransport{base: base, max: maxJWKSBytes}
		if cp.Timeout == 0 {
			cp.Timeout = timeout
		}
		return &cp, nil
	}
	dial := min(5*time.Second, timeout)
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   dial,
		ResponseHeaderTimeout: timeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   1,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: limitTransport{base: tr, max: maxJWKSBytes},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > 3 {
				return errors.New("more than 3 redirects")
			}
			if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return errors.New("redirect from https to http")
			}
			return nil
		},
	}, tr
}

// limitTransport caps response bodies, which jwkset decodes without a limit.
type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, fmt.Errorf("JWKS response of %d bytes exceeds %d", resp.ContentLength, t.max)
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: t.max}
	return resp, nil
}

// limitedBody fails a read that goes past its limit, so a long body is an
// error rather than silently truncated JSON.
type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, err := b.ReadCloser.Read(one[:]); n == 0 {
			return 0, err
		}
		return 0, errors.New("JWKS response exceeds the size cap")
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

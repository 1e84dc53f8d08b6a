package authn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lectern/lectern/internal/httpx"
)

// maxAuthorizationBytes caps the Authorization header before anything parses
// it. Tokens are about 1 KiB (an RS256 signature is 342 characters, the
// claims a few hundred); the cap leaves room for long names and image URLs
// while bounding the work an attacker can ask for (dot-stuffed and oversized
// tokens have caused memory blow-ups in Go JWT libraries).
const maxAuthorizationBytes = 8 << 10

// DefaultLeeway is the clock skew allowed on exp, nbf and iat when
// Options.Leeway is zero.
const DefaultLeeway = 30 * time.Second

// Options configures a Verifier. The zero value accepts tokens from any
// issuer for any audience; production sets both.
type Options struct {
	// Issuer, when not empty, must equal the token's iss (Better Auth: the
	// identity service's base URL, as configured).
	Issuer string
	// Audience, when not empty, must be the token's aud or one of its
	// entries.
	Audience string
	// Leeway is the clock skew allowed on exp, nbf and iat: DefaultLeeway
	// when zero, none when negative.
	Leeway time.Duration
	// Now is the clock (default time.Now); tests inject a fixed one.
	Now func() time.Time
	// CacheSize bounds how many verified tokens are remembered, so that a
	// reader's next requests with the same token cost a map lookup instead
	// of a signature check: DefaultCacheSize when zero, no cache when
	// negative.
	CacheSize int
	// CacheTTL is how long a verified token is remembered at most (never
	// past its exp): DefaultCacheTTL when zero. It bounds how long a key
	// withdrawn from the JWKS keeps being honoured for tokens already seen.
	CacheTTL time.Duration
	// OnReject, when set, is called with the reason of every request Require
	// refuses, for metrics. It must be safe for concurrent use and quick.
	OnReject func(Reason)
	// MaxLifetime is the longest a token may be valid, from its iat (or
	// now, without one) to its exp: DefaultMaxLifetime when zero, no bound
	// when negative. A token valid for a month, if it leaks, is a month's
	// access that no sign-out ends.
	MaxLifetime time.Duration
}

// DefaultMaxLifetime bounds tokens' lifetimes when Options.MaxLifetime is
// zero: a day, far above the 15 minutes Lectern and Better Auth issue.
const DefaultMaxLifetime = 24 * time.Hour

// Defaults for the verified-token cache: about 1 KiB per entry, and a
// minute, which is short next to the JWKS refresh interval.
const (
	DefaultCacheSize = 10_000
	DefaultCacheTTL  = time.Minute
)

// Verifier checks bearer tokens against a KeySource. It is safe for
// concurrent use and keeps no per-request state; build one with NewVerifier
// and share it.
type Verifier struct {
	src      KeySource
	parser   *jwt.Parser
	issuer   string
	audience string
	leeway   time.Duration
	maxLife  time.Duration // longest exp − iat; ≤ 0: no bound
	now      func() time.Time
	cache    *verifiedCache // nil: off
	onReject func(Reason)   // nil: nobody is told
}

// NewVerifier returns a Verifier that takes keys from src. It panics if src
// is nil, which is a wiring mistake rather than a runtime condition.
func NewVerifier(src KeySource, opt Options) *Verifier {
	if src == nil {
		panic("authn: NewVerifier with a nil KeySource")
	}
	switch {
	case opt.Leeway == 0:
		opt.Leeway = DefaultLeeway
	case opt.Leeway < 0:
		opt.Leeway = 0
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxLifetime == 0 {
		opt.MaxLifetime = DefaultMaxLifetime
	}
	popts := []jwt.ParserOption{
		// The allowlist is checked against the header's alg before the key is
		// looked up, so "none" and HS256 (keyed with a public key's bytes, the
		// classic confusion attack) never reach a key.
		jwt.WithValidMethods([]string{algRS256, algES256, algEdDSA}),
		jwt.WithLeeway(opt.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(opt.Now),
	}
	if opt.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(opt.Issuer))
	}
	if opt.Audience != "" {
		popts = append(popts, jwt.WithAudience(opt.Audience))
	}
	v := &Verifier{
		src:      src,
		parser:   jwt.NewParser(popts...),
		issuer:   opt.Issuer,
		audience: opt.Audience,
		leeway:   opt.Leeway,
		now:      opt.Now,
		onReject: opt.OnReject,
		maxLife:  opt.MaxLifetime,
	}
	if opt.CacheSize >= 0 {
		if opt.CacheSize == 0 {
			opt.CacheSize = DefaultCacheSize
		}
		if opt.CacheTTL <= 0 {
			opt.CacheTTL = DefaultCacheTTL
		}
		v.cache = &verifiedCache{max: opt.CacheSize, ttl: opt.CacheTTL, m: make(map[string]cachedPrincipal)}
	}
	return v
}

// claims is the token payload Better Auth's jwt() plugin emits: the
// registered claims plus the user object.
type claims struct {
	jwt.RegisteredClaims
	UserID        *string `json:"id"` // nil when absent, so presence can be told from ""
	Name          string  `json:"name"`
	Email         string  `json:"email"`
	EmailVerified bool    `json:"emailVerified"`
	Image         *string `json:"image"`
}

// Verify checks authorization, the value of an Authorization header, and
// returns the Principal its token names. Every failure is an *Error; its
// Reason says which check failed.
func (v *Verifier) Verify(ctx context.Context, authorization string) (Principal, error) {
	tok, err := bearerToken(authorization)
	if err != nil {
		return Principal{}, err
	}
	now := v.now()
	if p, ok := v.cache.get(tok, now); ok {
		return p, nil
	}
	var c claims
	parsed, err := v.parser.ParseWithClaims(tok, &c, func(t *jwt.Token) (any, error) {
		return v.key(ctx, t)
	})
	if err != nil {
		return Principal{}, v.classify(parsed, &c, err)
	}
	if c.Subject == "" {
		return Principal{}, fail(ReasonBadClaims, errors.New("no sub"))
	}
	if c.UserID != nil && *c.UserID != c.Subject {
		return Principal{}, fail(ReasonBadClaims, errors.New("sub and id differ"))
	}
	if v.maxLife > 0 {
		from := now
		if c.IssuedAt != nil {
			from = c.IssuedAt.Time
		}
		if c.ExpiresAt.Sub(from) > v.maxLife+v.leeway {
			return Principal{}, fail(ReasonBadClaims, fmt.Errorf("valid for %v, longer than %v", c.ExpiresAt.Sub(from), v.maxLife))
		}
	}
	p := Principal{
		UserID:        c.Subject,
		Email:         c.Email,
		Name:          c.Name,
		EmailVerified: c.EmailVerified,
		Image:         c.Image,
		ExpiresAt:     c.ExpiresAt.Time, // not nil: exp is required
	}
	v.cache.put(tok, p, p.ExpiresAt.Add(v.leeway), now)
	return p, nil
}

// bearerToken extracts the token from an Authorization header value and
// checks its shape without decoding anything, so a hostile value costs one
// bounded scan.
func bearerToken(h string) (string, error) {
	if h == "" {
		return "", fail(ReasonMissing, nil)
	}
	if len(h) > maxAuthorizationBytes {
		return "", fail(ReasonTooLarge, fmt.Errorf("authorization header of %d bytes exceeds %d", len(h), maxAuthorizationBytes))
	}
	// RFC 6750 §2.1: the scheme is case-insensitive; one space separates it
	// from the token, which contains no spaces.
	const scheme = "Bearer"
	if len(h) <= len(scheme)+1 || !strings.EqualFold(h[:len(scheme)], scheme) || h[len(scheme)] != ' ' {
		return "", fail(ReasonMissing, nil)
	}
	tok := h[len(scheme)+1:]
	if !compactJWS(tok) {
		return "", fail(ReasonMalformed, errors.New("not a compact JWS of three non-empty base64url parts"))
	}
	return tok, nil
}

// compactJWS reports whether tok is exactly three non-empty, unpadded
// base64url segments separated by dots. It stops at the third dot, so a JWE
// (five parts) or a token of 100 000 dots is refused without being split.
func compactJWS(tok string) bool {
	dots, start := 0, 0
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case c == '.':
			if i == start {
				return false
			}
			if dots++; dots > 2 {
				return false
			}
			start = i + 1
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return dots == 2 && start < len(tok)
}

// key is the jwt.Keyfunc: golang-jwt has already checked the alg against the
// allowlist when it runs.
func (v *Verifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	// RFC 7515 §4.1.11: extensions named in crit must be understood; we
	// understand none, and Better Auth sends none.
	if _, ok := t.Header["crit"]; ok {
		return nil, fail(ReasonMalformed, errors.New("crit header parameter"))
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, fail(ReasonMalformed, errors.New("no kid in the header"))
	}
	pub, err := v.src.Key(ctx, kid, t.Method.Alg())
	if err != nil {
		if ReasonOf(err) == "" {
			err = fail(ReasonUnknownKID, fmt.Errorf("key %q: %w", clip(kid), err))
		}
		return nil, err
	}
	return pub, nil
}

// classify turns a golang-jwt error into an *Error. When several claims fail
// at once, the issuer and audience win over times: a token from elsewhere is
// the more telling fact.
func (v *Verifier) classify(tok *jwt.Token, c *claims, err error) *Error {
	var e *Error
	if errors.As(err, &e) { // from key
		return e
	}
	if errors.Is(err, jwt.ErrTokenMalformed) {
		return fail(ReasonMalformed, err)
	}
	if tok != nil {
		if alg, _ := tok.Header["alg"].(string); !allowedAlg(alg) {
			// Not golang-jwt's message: it would copy the header's alg, of
			// any length, into the log.
			return fail(ReasonBadAlg, fmt.Errorf("alg %q is not allowed", clip(alg)))
		}
	}
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return fail(ReasonBadSignature, err)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return fail(ReasonUnknownKID, err)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer),
		errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && v.issuer != "" && c.Issuer == "":
		return fail(ReasonBadIssuer, err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience),
		errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && v.audience != "" && len(c.Audience) == 0:
		return fail(ReasonBadAudience, err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return fail(ReasonExpired, err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fail(ReasonNotYetValid, err)
	}
	return fail(ReasonBadClaims, err)
}

// Require lets a request through to next only with a valid bearer token, and
// puts its Principal in the request context (FromContext). Any failure is
// answered 401 with `WWW-Authenticate: Bearer` and the same body,
// {"message":"Unauthorized","code":"UNAUTHORIZED"}, whatever the reason, so
// a client learns nothing about which check failed; the reason is logged at
// debug level through httpx.Logger, never the token.
func (v *Verifier) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := v.verifyRequest(r)
		if err != nil {
			if v.onReject != nil {
				v.onReject(ReasonOf(err))
			}
			unauthorized(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

func (v *Verifier) verifyRequest(r *http.Request) (Principal, error) {
	h := r.Header["Authorization"]
	switch len(h) {
	case 0:
		return Principal{}, fail(ReasonMissing, nil)
	case 1:
		return v.Verify(r.Context(), h[0])
	}
	// Two credentials leave it to each hop which one counts; refuse both.
	return Principal{}, fail(ReasonMalformed, fmt.Errorf("%d Authorization headers", len(h)))
}

func unauthorized(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	if log := httpx.Logger(ctx); log.Enabled(ctx, slog.LevelDebug) {
		msg := err.Error()
		if len(msg) > 256 {
			msg = msg[:256] + "..."
		}
		log.LogAttrs(ctx, slog.LevelDebug, "bearer token rejected",
			slog.String("reason", string(ReasonOf(err))), slog.String("err", msg))
	}
	w.Header().Set("WWW-Authenticate", "Bearer")
	httpx.WriteError(w, r, &httpx.Error{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: "Unauthorized"})
}

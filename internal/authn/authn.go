// Package authn is the API's guard: it verifies the bearer JWT that Lectern's
// identity service (or Better Auth's jwt() plugin) issues and yields the
// Principal it names.
//
// # What is trusted
//
// Only `Authorization: Bearer <compact JWS>` asserts identity. There is no
// X-User-ID header, query-string token or cookie path: a request without a
// valid bearer token is answered 401 by Verifier.Require before any handler
// runs.
//
// A token is accepted when its signature verifies with the key its "kid"
// names, under an algorithm on a fixed allowlist (RS256, ES256, EdDSA; never
// "none", never HMAC) that matches the key's type, and its claims pass: exp
// required, nbf and iat honoured with a small leeway, iss and aud when
// configured, sub required and equal to id. Header members that would let a
// token choose its own key (jku, jwk, x5u, x5c) are ignored; "crit" is refused.
//
// # Where keys come from
//
// A KeySource maps (kid, alg) to a public key. InProcess reads a
// *keys.Keyring directly (the `serve` command, where the identity service runs
// in the same process); Remote keeps a cached copy of a JWKS fetched over HTTP
// (the `api` command), refreshed periodically and on an unknown kid, within a
// rate limit.
//
// # Failures
//
// Every rejection is an *Error with a Reason for logs and metrics. Clients
// never see it: Require answers every failure with the same 401 body.
package authn

import (
	"context"
	"errors"
	"time"
)

// Principal is the verified identity of a request, taken from the token's
// claims. The identity service is the source of truth for these values; they
// are as fresh as the token (at most its lifetime, 15 minutes by default).
type Principal struct {
	UserID        string    // the "sub" claim, equal to "id"
	Email         string    // the "email" claim
	Name          string    // the "name" claim
	EmailVerified bool      // the "emailVerified" claim
	Image         *string   // the "image" claim; nil when null or absent
	ExpiresAt     time.Time // the "exp" claim: when the token stops being accepted
}

type principalKey struct{}

// WithPrincipal returns a context carrying p. Require calls it after a token
// verifies; tests of handlers behind the guard can call it directly.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, &p)
}

// FromContext returns the Principal that Require (or WithPrincipal) put in
// ctx, and false when there is none, which a handler behind Require should
// treat as a programming error and answer 401.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	if !ok {
		return Principal{}, false
	}
	return *p, true
}

// Reason is a machine-readable cause of a rejected token, stable for metrics
// and logs. Reasons are also sentinel errors: errors.Is(err, ReasonExpired)
// reports whether err is an *Error with that Reason.
type Reason string

// The reasons Verify reports.
const (
	ReasonMissing      Reason = "missing"       // no bearer token: no header, another scheme, or "Bearer" alone
	ReasonTooLarge     Reason = "too_large"     // the Authorization header is longer than the cap
	ReasonMalformed    Reason = "malformed"     // not a compact JWS with three base64url parts, bad JSON, no kid, crit
	ReasonBadAlg       Reason = "bad_alg"       // alg not allowed, or not the alg of the key the kid names
	ReasonUnknownKID   Reason = "unknown_kid"   // no published key has this kid
	ReasonBadSignature Reason = "bad_signature" // the signature does not verify
	ReasonExpired      Reason = "expired"       // exp has passed (beyond the leeway)
	ReasonNotYetValid  Reason = "not_yet_valid" // nbf or iat is in the future (beyond the leeway)
	ReasonBadIssuer    Reason = "bad_issuer"    // iss missing or not the configured issuer
	ReasonBadAudience  Reason = "bad_audience"  // aud missing or not the configured audience
	ReasonBadClaims    Reason = "bad_claims"    // another claim is missing or wrong: exp, sub, id
)

// Error implements error so that a Reason can be a target of errors.Is.
func (r Reason) Error() string { return "authn: " + string(r) }

// Error is a rejected token. Reason is for metrics and logs; Err, when not
// nil, says more for the log. Neither may reach the client.
type Error struct {
	Reason Reason
	Err    error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "authn: " + string(e.Reason)
	}
	return "authn: " + string(e.Reason) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is e's Reason, so errors.Is(err, ReasonExpired)
// works through wrapping.
func (e *Error) Is(target error) bool {
	r, ok := target.(Reason)
	return ok && r == e.Reason
}

// ReasonOf returns the Reason of the *Error in err's chain, or "" when there
// is none (err is nil or did not come from this package).
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func fail(r Reason, err error) *Error { return &Error{Reason: r, Err: err} }

// clip shortens attacker-controlled strings (kid, alg) before they go into
// error messages and so into logs.
func clip(s string) string {
	const max = 48
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// Package identity is Lectern's identity service: email-and-password
// accounts, cookie sessions and JWTs, served under /api/auth/ with the paths,
// JSON shapes, status codes, error codes and cookies of a Better Auth v1
// server, so front ends written for Better Auth's client work unchanged.
package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/password"
	"github.com/lectern/lectern/internal/ratelimit"
	"github.com/lectern/lectern/internal/store"
)

// Session and token lifetimes: Better Auth's defaults.
const (
	SessionTTL         = 7 * 24 * time.Hour // expiresIn
	sessionUpdateAge   = 24 * time.Hour     // sliding refresh at most once a day
	sessionFreshAge    = 24 * time.Hour     // delete-user without a password needs a session this young
	dontRememberTTL    = 24 * time.Hour     // rememberMe=false sessions
	resetTokenTTL      = time.Hour
	verifyTokenTTL     = 24 * time.Hour
	resetPrefix        = "reset-password:"
	verifyPrefix       = "verify-email:"
	failedSignInMax    = 10
	failedSignInWindow = 15 * time.Minute
)

// Store is what the identity service needs from storage.
type Store interface {
	CreateUser(ctx context.Context, u store.User, a store.Account) error
	UserByID(ctx context.Context, id string) (store.User, error)
	UserByEmail(ctx context.Context, email string) (store.User, error)
	UpdateUser(ctx context.Context, u store.User) error
	DeleteUser(ctx context.Context, id string) error
	CredentialAccount(ctx context.Context, userID string) (store.Account, error)
	SetPassword(ctx context.Context, userID, hash string, now time.Time) error
	CreateSession(ctx context.Context, s store.Session) error
	SessionByTokenHash(ctx context.Context, hash []byte) (store.Session, error)
	ExtendSession(ctx context.Context, id string, expiresAt, now time.Time) error
	ListSessions(ctx context.Context, userID string, now time.Time) ([]store.Session, error)
	DeleteSession(ctx context.Context, userID, id string) error
	DeleteSessions(ctx context.Context, userID, exceptID string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
	DeleteExpiredVerifications(ctx context.Context, now time.Time) (int64, error)
	CreateVerification(ctx context.Context, v store.Verification) error
	ConsumeVerification(ctx context.Context, identifier string, now time.Time) (store.Verification, error)
	DeleteVerifications(ctx context.Context, prefix, value string) error
}

// Signer signs JWTs and publishes the keys that verify them.
type Signer interface {
	Sign(ctx context.Context, payload []byte) (string, error)
	JWKS(ctx context.Context) ([]byte, error)
}

// Mailer delivers a message to one address.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Options configures a Server.
type Options struct {
	BaseURL        *url.URL // public URL; links in mail and the default trusted origin
	Secret         []byte   // HMAC key for cookie signatures
	TrustedOrigins []string // scheme://host[:port], besides BaseURL's origin
	SecureCookies  bool     // __Secure- prefix and Secure attribute (https)
	Issuer         string   // JWT iss
	Audience       string   // JWT aud
	TokenTTL       time.Duration
	RateLimit      ratelimit.Rule // per IP and path on sign-in, sign-up and change-password
	RateLimitOn    bool
	ClientIP       httpx.ClientIP
	// VerifyOnSignUp mails a verification link to every new account.
	VerifyOnSignUp bool
	Now            func() time.Time
	// OnRateLimited, when set, is called for each request refused 429, with
	// the limit's scope: ScopeIP, ScopeSignInLockout, ScopePasswordReset or
	// ScopeVerificationEmail. For metrics; it must be safe for concurrent
	// use.
	OnRateLimited func(scope string)
	// OnSignInFailure, when set, is called for each failed sign-in with its
	// reason (SignInInvalidCredentials). For metrics, like OnRateLimited.
	OnSignInFailure func(reason string)
}

// Scopes of the rate limits, as OnRateLimited reports them.
const (
	ScopeIP                = "auth_ip"            // per client IP and path
	ScopeSignInLockout     = "sign_in_lockout"    // per account, after failed sign-ins
	ScopePasswordReset     = "password_reset"     // per address, reset mail
	ScopeVerificationEmail = "verification_email" // per address, verification mail
)

// SignInInvalidCredentials is the reason OnSignInFailure reports for an
// unknown email or a wrong password (the two are not told apart, here as
// in the response).
const SignInInvalidCredentials = "invalid_credentials"

// Server serves the identity endpoints. Build it with New.
type Server struct {
	opt     Options
	store   Store
	keys    Signer
	hasher  *password.Hasher
	limiter *ratelimit.Limiter
	mail    Mailer
	log     *slog.Logger
	trusted map[string]bool
	cookies cookieNames
	wg      sync.WaitGroup // mail being sent in the background
}

type cookieNames struct{ token, data, dontRemember string }

// New returns a Server. Every dependency is explicit; none may be nil.
func New(opt Options, st Store, keys Signer, hasher *password.Hasher, limiter *ratelimit.Limiter, mailer Mailer, log *slog.Logger) *Server {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.TokenTTL == 0 {
		opt.TokenTTL = 15 * time.Minute
	}
	s := &Server{opt: opt, store: st, keys: keys, hasher: hasher, limiter: limiter, mail: mailer, log: log,
		trusted: map[string]bool{opt.BaseURL.Scheme + "://" + opt.BaseURL.Host: true}}
	for _, o := range opt.TrustedOrigins {
		s.trusted[o] = true
	}
	prefix := "better-auth."
	if opt.SecureCookies {
		prefix = "__Secure-better-auth."
	}
	s.cookies = cookieNames{prefix + "session_token", prefix + "session_data", prefix + "dont_remember"}
	return s
}

// Wait blocks until mail sent in the background has gone out or failed;
// call it after the HTTP server has stopped.
func (s *Server) Wait() { s.wg.Wait() }

// Sweep deletes expired sessions and unused expired tokens; run it now and
// then. It returns how many rows it removed.
func (s *Server) Sweep(ctx context.Context) (int64, error) {
	now := s.opt.Now()
	n, err := s.store.DeleteExpiredSessions(ctx, now)
	if err != nil {
		return n, err
	}
	m, err := s.store.DeleteExpiredVerifications(ctx, now)
	return n + m, err
}

// sign returns value.base64std(HMAC-SHA256(secret, value)), Better Auth's
// signed-cookie format.
func (s *Server) sign(value string) string {
	m := hmac.New(sha256.New, s.opt.Secret)
	m.Write([]byte(value))
	return value + "." + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// unsign checks a signed cookie value and returns the value inside.
func (s *Server) unsign(signed string) (string, bool) {
	if v, err := url.QueryUnescape(signed); err == nil {
		signed = v
	}
	signed = strings.Trim(signed, `"`)
	i := strings.LastIndexByte(signed, '.')
	if i < 1 {
		return "", false
	}
	value, sig := signed[:i], signed[i+1:]
	if len(sig) != 44 || !strings.HasSuffix(sig, "=") {
		return "", false
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return "", false
	}
	m := hmac.New(sha256.New, s.opt.Secret)
	m.Write([]byte(value))
	return value, hmac.Equal(got, m.Sum(nil))
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// setCookie writes a cookie with Better Auth's attributes; maxAge < 0 means a
// browser-session cookie, 0 deletes it.
func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	var b strings.Builder
	b.WriteString(name + "=" + url.QueryEscape(value))
	switch {
	case maxAge > 0:
		fmt.Fprintf(&b, "; Max-Age=%d", maxAge)
	case maxAge == 0:
		b.WriteString("; Max-Age=0")
	}
	b.WriteString("; Path=/; HttpOnly")
	if s.opt.SecureCookies {
		b.WriteString("; Secure")
	}
	b.WriteString("; SameSite=Lax")
	w.Header().Add("Set-Cookie", b.String())
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string, dontRemember bool) {
	if dontRemember {
		s.setCookie(w, s.cookies.token, s.sign(token), -1)
		s.setCookie(w, s.cookies.dontRemember, s.sign("true"), -1)
		return
	}
	s.setCookie(w, s.cookies.token, s.sign(token), int(SessionTTL/time.Second))
}

func (s *Server) clearCookies(w http.ResponseWriter) {
	for _, n := range []string{s.cookies.token, s.cookies.data, s.cookies.dontRemember} {
		s.setCookie(w, n, "", 0)
	}
}

// current is the outcome of reading the session cookie.
type current struct {
	token   string
	session store.Session
	user    store.User
}

// errDeadSession means the cookie was correctly signed but its session is
// gone or expired: the client should drop its cookies.
var errDeadSession = errors.New("session expired or revoked")

// errNoSession means there was no usable session cookie at all.
var errNoSession = errors.New("no session cookie")

// session reads and checks the session cookie of r.
func (s *Server) session(r *http.Request) (current, error) {
	c, err := r.Cookie(s.cookies.token)
	if err != nil {
		return current{}, errNoSession
	}
	token, ok := s.unsign(c.Value)
	if !ok {
		return current{}, errNoSession
	}
	ctx := r.Context()
	sess, err := s.store.SessionByTokenHash(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return current{}, errDeadSession
	}
	if err != nil {
		return current{}, fmt.Errorf("look up session: %w", err)
	}
	if !s.opt.Now().Before(sess.ExpiresAt) {
		if err := s.store.DeleteSession(ctx, sess.UserID, sess.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			httpx.Logger(ctx).Warn("delete expired session", "err", err)
		}
		return current{}, errDeadSession
	}
	u, err := s.store.UserByID(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return current{}, errDeadSession
	}
	if err != nil {
		return current{}, fmt.Errorf("look up session user: %w", err)
	}
	return current{token: token, session: sess, user: u}, nil
}

// requireSession is session for endpoints that need one: no session answers
// 401, with clearing cookies when a dead session's cookie came in.
func (s *Server) requireSession(w http.ResponseWriter, r *http.Request) (current, error) {
	cur, err := s.session(r)
	switch {
	case errors.Is(err, errDeadSession):
		s.clearCookies(w)
		return cur, errUnauthorized
	case errors.Is(err, errNoSession):
		return cur, errUnauthorized
	}
	return cur, err
}

// newSession creates a session for u and sets its cookie.
func (s *Server) newSession(w http.ResponseWriter, r *http.Request, u store.User, dontRemember bool) (string, store.Session, error) {
	now := s.opt.Now()
	ttl := SessionTTL
	if dontRemember {
		ttl = dontRememberTTL
	}
	token := newToken()
	sess := store.Session{
		ID: newID(), TokenHash: hashToken(token), UserID: u.ID,
		ExpiresAt: now.Add(ttl), CreatedAt: now, UpdatedAt: now,
		IPAddress: s.clientIP(r), UserAgent: truncate(r.UserAgent(), 512), DontRemember: dontRemember,
	}
	if err := s.store.CreateSession(r.Context(), sess); err != nil {
		return "", sess, fmt.Errorf("create session: %w", err)
	}
	s.setSessionCookie(w, token, dontRemember)
	return token, sess, nil
}

func (s *Server) clientIP(r *http.Request) string {
	if a := s.opt.ClientIP.Of(r); a.IsValid() {
		return a.String()
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// limit applies the per-IP-and-path rule to r.
func (s *Server) limit(r *http.Request, rule ratelimit.Rule) error {
	if !s.opt.RateLimitOn {
		return nil
	}
	ip := s.clientIP(r)
	if ip == "" {
		ip = "unknown"
	}
	ok, retry := s.limiter.Allow(rule, ip+"|"+r.URL.Path)
	if ok {
		return nil
	}
	return s.tooMany(ScopeIP, retry)
}

// tooMany reports a refusal under scope to OnRateLimited and returns the
// 429 error.
func (s *Server) tooMany(scope string, retry time.Duration) error {
	if s.opt.OnRateLimited != nil {
		s.opt.OnRateLimited(scope)
	}
	return tooMany(retry)
}

func tooMany(retry time.Duration) error {
	secs := fmt.Sprint(int((retry + time.Second - 1) / time.Second))
	return &httpx.Error{Status: http.StatusTooManyRequests, Message: errTooManyRequests,
		Header: http.Header{"Retry-After": {secs}, "X-Retry-After": {secs}}}
}

// origin returns the origin of r's Origin header, or of its Referer when
// Origin is absent.
func requestOrigin(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		return strings.TrimSuffix(o, "/")
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		if u, err := url.Parse(ref); err == nil && u.Scheme != "" && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
		return "null"
	}
	return ""
}

// checkOrigin is Better Auth's CSRF defence for state-changing requests: a
// request that carries cookies (so a browser may have been tricked into
// sending it) must come from a trusted origin; a request without cookies is
// checked whenever it says where it comes from. Plain server-to-server calls,
// with neither cookies nor Origin/Referer/Sec-Fetch headers, pass.
func (s *Server) checkOrigin(r *http.Request) error {
	signInOrUp := strings.HasPrefix(r.URL.Path, "/api/auth/sign-in/") || strings.HasPrefix(r.URL.Path, "/api/auth/sign-up/")
	if signInOrUp && r.Header.Get("Sec-Fetch-Site") == "cross-site" && r.Header.Get("Sec-Fetch-Mode") == "navigate" {
		return httpx.Errorf(http.StatusForbidden, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED",
			"Cross-site navigation login blocked. This request appears to be a CSRF attack.")
	}
	origin := requestOrigin(r)
	browserish := r.Header.Get("Cookie") != "" || r.Header.Get("Sec-Fetch-Site") != "" || r.Header.Get("Sec-Fetch-Mode") != ""
	switch {
	case origin == "" && !browserish:
		return nil
	case origin == "" || origin == "null":
		return httpx.Errorf(http.StatusForbidden, "MISSING_OR_NULL_ORIGIN", "Missing or null Origin")
	case !s.trusted[origin]:
		return httpx.Errorf(http.StatusForbidden, "INVALID_ORIGIN", "Invalid origin")
	}
	return nil
}

// checkCallback accepts a relative path or an absolute URL on a trusted origin.
func (s *Server) checkCallback(raw string) error {
	if raw == "" {
		return nil
	}
	if len(raw) > maxURLLen {
		return errInvalidCallback
	}
	if strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") && !strings.Contains(raw, `\`) {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !s.trusted[u.Scheme+"://"+u.Host] {
		return errInvalidCallback
	}
	return nil
}

// absolute resolves a relative callback against the base URL.
func (s *Server) absolute(raw string) string {
	if raw == "" || !strings.HasPrefix(raw, "/") {
		return raw
	}
	return s.opt.BaseURL.Scheme + "://" + s.opt.BaseURL.Host + raw
}

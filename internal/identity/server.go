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
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/lectern/lectern/internal/account"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/password"
	"github.com/lectern/lectern/internal/ratelimit"
)

// SessionTTL is how long a remembered session lives without use.
const SessionTTL = account.SessionTTL

// Store is what the identity service needs from storage: what the account
// service needs.
type Store = account.Store

// Signer signs JWTs and publishes the keys that verify them.
type Signer = account.Signer

// Mailer delivers a message to one address.
type Mailer = account.Mailer

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
	// OnUserDeleted, when set, is told the id of each deleted account, so
	// that an API in the same process forgets it at once (api.ForgetUser).
	OnUserDeleted func(userID string)
	// OnUntrustedOrigin, when set, is told the origin of each request
	// refused for coming from an origin that is not trusted, so that a
	// misconfigured site can be named in the log.
	OnUntrustedOrigin func(origin string)
	// SharedCounts, when set, keeps the limits that protect accounts (the
	// sign-in, sign-up and reset rules per address, the lockouts, the mail
	// limits) where every replica counts them (the database); the general
	// per-route limit stays in this process, where exactness does not
	// matter. OnSharedError is told when the shared counts could not be
	// reached and this process's answered instead.
	SharedCounts  ratelimit.Counts
	OnSharedError func(error)
}

// Scopes of the rate limits, as OnRateLimited reports them.
const (
	ScopeIP                = "auth_ip"                      // per client IP and path
	ScopeSignInLockout     = account.ScopeSignInLockout     // per account, after failed sign-ins
	ScopePasswordReset     = account.ScopePasswordReset     // per address, reset mail
	ScopeVerificationEmail = account.ScopeVerificationEmail // per address, verification mail
)

// SignInInvalidCredentials is the reason OnSignInFailure reports for an
// unknown email or a wrong password (the two are not told apart, here as
// in the response).
const SignInInvalidCredentials = account.SignInInvalidCredentials

// Server serves Better Auth's wire for the account service: it decodes
// requests, calls the service, and encodes its answers and cookies. Build
// it with New.
type Server struct {
	opt      Options
	accounts *account.Service
	limiter  *ratelimit.Limiter // the general rule's, in this process
	shared   *ratelimit.Shared  // the stricter rules', across replicas
	trusted  map[string]bool
	cookies  cookieNames
}

type cookieNames struct{ token, data, dontRemember, device string }

// deviceTTL is how long a device that signed in counts as its owner's (see
// account.Client.Device).
const deviceTTL = 30 * 24 * time.Hour

// New returns a Server over an account service that it builds from st,
// keys, hasher and mailer. limiter counts requests per client address and
// route, and serves nothing else (the account service keeps its own
// lockouts). Every dependency is explicit; none may be nil.
func New(opt Options, st Store, keys Signer, hasher *password.Hasher, limiter *ratelimit.Limiter, mailer Mailer) *Server {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Server{opt: opt, limiter: limiter,
		trusted: map[string]bool{opt.BaseURL.Scheme + "://" + opt.BaseURL.Host: true}}
	s.accounts = account.New(account.Options{
		Issuer: opt.Issuer, Audience: opt.Audience, TokenTTL: opt.TokenTTL,
		LimitsOn: opt.RateLimitOn, VerifyOnSignUp: opt.VerifyOnSignUp,
		ResetLink: s.resetLink, VerifyLink: s.verifyLink, Now: opt.Now, Log: httpx.Logger,
		OnLimited: opt.OnRateLimited, OnSignInFailure: opt.OnSignInFailure,
		SharedCounts: opt.SharedCounts, OnSharedError: opt.OnSharedError,
	}, st, keys, hasher, mailer)
	s.shared = ratelimit.NewShared(opt.SharedCounts, limiter, opt.OnSharedError)
	for _, o := range opt.TrustedOrigins {
		s.trusted[o] = true
	}
	prefix := "better-auth."
	if opt.SecureCookies {
		prefix = "__Secure-better-auth."
	}
	s.cookies = cookieNames{prefix + "session_token", prefix + "session_data", prefix + "dont_remember", prefix + "known_device"}
	return s
}

// Wait blocks until mail sent in the background has gone out or failed;
// call it after the HTTP server has stopped.
func (s *Server) Wait() { s.accounts.Wait() }

// Sweep deletes expired sessions and unused expired tokens; run it now and
// then. It returns how many rows it removed.
func (s *Server) Sweep(ctx context.Context) (int64, error) { return s.accounts.Sweep(ctx) }

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

// errNoSession means there was no usable session cookie at all.
var errNoSession = errors.New("no session cookie")

// session reads the session cookie of r and returns its live session:
// errNoSession without a correctly signed cookie, account.ErrNoSession when
// its session is gone or expired (the client should drop its cookies).
func (s *Server) session(r *http.Request) (account.Current, error) {
	c, err := r.Cookie(s.cookies.token)
	if err != nil {
		return account.Current{}, errNoSession
	}
	token, ok := s.unsign(c.Value)
	if !ok {
		return account.Current{}, errNoSession
	}
	return s.accounts.Session(r.Context(), token)
}

// requireSession is session for endpoints that need one: no session answers
// 401, and clears the cookies when a dead session's cookie came in.
func (s *Server) requireSession(w http.ResponseWriter, r *http.Request) (account.Current, error) {
	cur, err := s.session(r)
	switch {
	case errors.Is(err, account.ErrNoSession):
		s.clearCookies(w)
		return cur, errUnauthorized
	case errors.Is(err, errNoSession):
		return cur, errUnauthorized
	}
	return cur, err
}

// client is what the account service keeps of where a session comes from.
func (s *Server) client(r *http.Request) account.Client {
	return account.Client{IP: s.clientIP(r), UserAgent: r.UserAgent(), Device: s.device(r)}
}

// markDevice remembers, in a signed cookie that outlives the session, that
// userID signed in from this browser: during a lockout by wrong passwords
// from elsewhere, its owner still gets in from here.
func (s *Server) markDevice(w http.ResponseWriter, userID string) {
	v := userID + ":" + strconv.FormatInt(s.opt.Now().Unix(), 10)
	s.setCookie(w, s.cookies.device, s.sign(v), int(deviceTTL/time.Second))
}

// device returns the user whose recent sign-in r's device cookie vouches
// for, or "".
func (s *Server) device(r *http.Request) string {
	c, err := r.Cookie(s.cookies.device)
	if err != nil {
		return ""
	}
	v, ok := s.unsign(c.Value)
	id, at, found := strings.Cut(v, ":")
	secs, err := strconv.ParseInt(at, 10, 64)
	if !ok || !found || err != nil || s.opt.Now().Sub(time.Unix(secs, 0)) > deviceTTL {
		return ""
	}
	return id
}

func (s *Server) clientIP(r *http.Request) string {
	if a := s.opt.ClientIP.Of(r); a.IsValid() {
		return a.String()
	}
	return ""
}

// limit applies rule to r per client address and route. The route is the
// pattern that matched, never the raw path, so that made-up paths (a new
// token in each reset link) cannot each open a new count.
func (s *Server) limit(r *http.Request, route string, rule ratelimit.Rule) error {
	if !s.opt.RateLimitOn {
		return nil
	}
	key := ratelimit.AddressKey(s.opt.ClientIP.Of(r)) + "|" + route
	var ok bool
	var retry time.Duration
	if rule == generalRule {
		ok, retry = s.limiter.Allow(rule, key)
	} else {
		ok, retry = s.shared.Allow(r.Context(), rule, key)
	}
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
		if s.opt.OnUntrustedOrigin != nil {
			s.opt.OnUntrustedOrigin(origin)
		}
		return httpx.Errorf(http.StatusForbidden, "INVALID_ORIGIN", "Invalid origin")
	}
	return nil
}

// checkCallback accepts a path on this site or an absolute URL on a
// trusted origin, as where to send a browser. Control characters, spaces
// and backslashes are refused before parsing: browsers drop or rewrite
// them, so "/\t/evil.example" would leave the site.
func (s *Server) checkCallback(raw string) error {
	if raw == "" {
		return nil
	}
	if len(raw) > maxURLLen || strings.ContainsFunc(raw, func(r rune) bool {
		return r < 0x20 || r == 0x7f || r == '\\' || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)
	}) {
		return errInvalidCallback
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errInvalidCallback
	}
	if !u.IsAbs() {
		if !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") || u.Host != "" {
			return errInvalidCallback
		}
		return nil
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || !s.trusted[u.Scheme+"://"+u.Host] {
		return errInvalidCallback
	}
	return nil
}

// resetLink is the link a reset mail carries: this service's landing
// path for the token, which sends the browser on to redirectTo.
func (s *Server) resetLink(token, redirectTo string) string {
	if redirectTo == "" {
		redirectTo = "/reset-password"
	}
	return s.absolute("/api/auth/reset-password/"+token) + "?callbackURL=" + url.QueryEscape(s.absolute(redirectTo))
}

// verifyLink is the link a verification mail carries.
func (s *Server) verifyLink(token, callbackURL string) string {
	link := s.absolute("/api/auth/verify-email") + "?token=" + token
	if callbackURL != "" {
		link += "&callbackURL=" + url.QueryEscape(s.absolute(callbackURL))
	}
	return link
}

// absolute resolves a relative callback against the base URL.
func (s *Server) absolute(raw string) string {
	if raw == "" || !strings.HasPrefix(raw, "/") {
		return raw
	}
	return s.opt.BaseURL.Scheme + "://" + s.opt.BaseURL.Host + raw
}

// Package account is Lectern's account service: sign-up and sign-in with a
// password, sessions, password changes and resets, email verification and
// the JWTs that the API verifies. It holds the rules (who may do what, how
// long a session or a token lives, how many wrong passwords an account
// takes) and knows nothing of HTTP: package identity speaks Better Auth's
// wire to browsers and calls this service.
//
// Its errors are fault errors carrying Better Auth's error codes and
// messages, which the wire sends as they are.
package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/mail"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"

	"github.com/lectern/lectern/internal/fault"
	"github.com/lectern/lectern/internal/password"
	"github.com/lectern/lectern/internal/ratelimit"
	"github.com/lectern/lectern/internal/store"
)

// Lifetimes and limits: Better Auth's defaults.
const (
	SessionTTL         = 7 * 24 * time.Hour // expiresIn
	SessionUpdateAge   = 24 * time.Hour     // a session slides forward at most once a day
	sessionFreshAge    = 24 * time.Hour     // deleting an account without a password needs a session this young
	dontRememberTTL    = 24 * time.Hour     // rememberMe=false sessions
	resetTokenTTL      = time.Hour
	verifyTokenTTL     = 24 * time.Hour
	resetPrefix        = "reset-password:"
	verifyPrefix       = "verify-email:"
	failedSignInMax    = 10 // wrong passwords for one account from one address
	failedAccountMax   = 50 // wrong passwords for one account from all addresses
	failedSignInWindow = 15 * time.Minute

	MinPasswordLen = 8
	MaxPasswordLen = 128
	MaxNameLen     = 256
	maxEmailLen    = 254 // RFC 5321 path limit
	maxUserAgent   = 512
	maxURLLen      = 2048
)

// Rules of the per-account limits.
var (
	// failedSignIns limits wrong passwords per account and address, so one
	// guesser gets failedSignInMax tries a window without the owner, at
	// another address, being locked out.
	failedSignIns = ratelimit.Rule{Max: failedSignInMax, Window: failedSignInWindow}
	// failedAccount limits wrong passwords per account from every address,
	// against a guesser with many addresses: failedAccountMax tries a
	// window. It does not stop a device the owner signed in from recently
	// (Client.Device), so a distributed guesser cannot lock the owner out.
	failedAccount = ratelimit.Rule{Max: failedAccountMax, Window: failedSignInWindow}
	// mailRule limits reset and verification mail per address, so nobody
	// can flood one inbox from many addresses.
	mailRule = ratelimit.Rule{Max: 3, Window: time.Minute}
)

// Scopes of the limits, as Options.OnLimited reports them.
const (
	ScopeSignInLockout     = "sign_in_lockout"    // per account, after failed sign-ins
	ScopePasswordReset     = "password_reset"     // per address, reset mail
	ScopeVerificationEmail = "verification_email" // per address, verification mail
)

// SignInInvalidCredentials is the reason Options.OnSignInFailure reports
// for an unknown email or a wrong password (the two are not told apart,
// here as in the answer).
const SignInInvalidCredentials = "invalid_credentials"

// Errors, with Better Auth's codes and messages.
var (
	ErrInvalidCredentials = fault.New(fault.Unauthenticated, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
	ErrUserExists         = fault.New(fault.Conflict, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email.")
	ErrPasswordShort      = fault.New(fault.Invalid, "PASSWORD_TOO_SHORT", "Password too short")
	ErrPasswordLong       = fault.New(fault.Invalid, "PASSWORD_TOO_LONG", "Password too long")
	ErrInvalidPassword    = fault.New(fault.Invalid, "INVALID_PASSWORD", "Invalid password")
	ErrInvalidEmail       = fault.New(fault.Invalid, "INVALID_EMAIL", "Invalid email")
	ErrInvalidToken       = fault.New(fault.Invalid, "INVALID_TOKEN", "Invalid token")
	ErrSessionNotFresh    = fault.New(fault.Invalid, "SESSION_EXPIRED", "Session expired. Re-authenticate to perform this action.")
	// ErrNoSession: the session is gone, expired or revoked, or its user
	// deleted; whoever holds its token should forget it.
	ErrNoSession = fault.New(fault.Unauthenticated, "UNAUTHORIZED", "Unauthorized")
)

// tooManyRequests is Better Auth's message for every limit.
const tooManyRequests = "Too many requests. Please try again later."

// FieldError is an input that breaks a rule of the service, named by its
// field in the request.
type FieldError struct {
	Field, Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// FaultKind makes a FieldError an Invalid fault.
func (e *FieldError) FaultKind() fault.Kind { return fault.Invalid }

// Store is what the service needs from storage.
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
	// SigningKeyID is the key Sign uses now.
	SigningKeyID(ctx context.Context) string
	JWKS(ctx context.Context) ([]byte, error)
}

// Mailer delivers a message to one address.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Options configures a Service.
type Options struct {
	Issuer   string // JWT iss
	Audience string // JWT aud
	TokenTTL time.Duration
	// LimitsOn turns on the per-account limits: the sign-in lockout and
	// the mail limits.
	LimitsOn bool
	// VerifyOnSignUp mails a verification link to every new account.
	VerifyOnSignUp bool
	// ResetLink and VerifyLink make the links that mail carries, from the
	// token and where the reader should land; the wire knows its paths.
	ResetLink  func(token, redirectTo string) string
	VerifyLink func(token, callbackURL string) string
	Now        func() time.Time
	// Log returns the logger for a request's context (with its request
	// id); nil logs nothing.
	Log func(context.Context) *slog.Logger
	// OnLimited is called with the scope of each request a per-account
	// limit refused, and OnSignInFailure with the reason of each failed
	// sign-in; both for metrics, and must be safe for concurrent use.
	OnLimited       func(scope string)
	OnSignInFailure func(reason string)
	// SharedCounts, when set, keeps the lockouts and the mail limits where
	// every replica counts them (the database), so that N replicas allow
	// what one would; nil keeps them in this process. OnSharedError is
	// told when the shared counts could not be reached and this process's
	// answered instead (see ratelimit.Shared).
	SharedCounts  ratelimit.Counts
	OnSharedError func(error)
}

// Service is the account service. Build it with New.
type Service struct {
	opt     Options
	store   Store
	keys    Signer
	hasher  *password.Hasher
	limiter *ratelimit.Shared
	mail    Mailer
	wg      sync.WaitGroup // mail being sent in the background
	tokens  tokenCache
}

// New returns a Service. Every dependency is explicit; none may be nil.
// The service counts sign-in failures and mail per account in a limiter of
// its own, apart from any per-address request limits, so that a flood of
// requests cannot push an account's lockout out of memory.
func New(opt Options, st Store, keys Signer, hasher *password.Hasher, mailer Mailer) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.TokenTTL == 0 {
		opt.TokenTTL = 15 * time.Minute
	}
	if opt.Log == nil {
		discard := slog.New(slog.DiscardHandler)
		opt.Log = func(context.Context) *slog.Logger { return discard }
	}
	return &Service{opt: opt, store: st, keys: keys, hasher: hasher, limiter: ratelimit.NewShared(opt.SharedCounts, ratelimit.New(opt.Now, 0), opt.OnSharedError), mail: mailer}
}

// Wait blocks until mail sent in the background has gone out or failed;
// call it after the HTTP server has stopped.
func (s *Service) Wait() { s.wg.Wait() }

// Sweep deletes expired sessions and unused expired tokens; run it now and
// then. It returns how many rows it removed.
func (s *Service) Sweep(ctx context.Context) (int64, error) {
	now := s.opt.Now()
	n, err := s.store.DeleteExpiredSessions(ctx, now)
	if err != nil {
		return n, err
	}
	m, err := s.store.DeleteExpiredVerifications(ctx, now)
	return n + m, err
}

// Client is where a request comes from. IP and UserAgent are kept with a
// session so that its owner can recognise it.
type Client struct {
	IP, UserAgent string
	// Device is the id of the user who signed in from this device
	// recently, as the wire vouches for it (a signed cookie); "" for none.
	Device string
}

// lockoutKeys returns the keys of email's sign-in failures: from c's
// address (counted as per-address limits count it), and from anywhere.
func lockoutKeys(email string, c Client) (byAddress, byAccount string) {
	addr, err := netip.ParseAddr(c.IP)
	if err != nil {
		addr = netip.Addr{}
	}
	return "sign-in|" + email + "|" + ratelimit.AddressKey(addr), "sign-in|" + email
}

// Current is a signed-in session: its token (the secret its holder
// presents), the session and its user.
type Current struct {
	Token   string
	Session store.Session
	User    store.User
}

// NormalizeEmail puts an address in the one form an account is known by,
// and checks it the way Better Auth does (a plain addr-spec, no display
// name): Unicode NFC, lower case, the domain in its ASCII (punycode) form.
// Addresses with invisible characters (zero-width, bidi controls) are
// refused rather than cleaned, so that no two spellings of one address can
// make two accounts, and no address can pass for another.
func NormalizeEmail(s string) (string, bool) {
	s = strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
	if s == "" || len(s) > maxEmailLen || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r)
	}) {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 {
		return "", false
	}
	domain, err := idna.Lookup.ToASCII(s[at+1:])
	if err != nil {
		return "", false
	}
	s = s[:at+1] + domain
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(domain, ".") || len(s) > maxEmailLen {
		return "", false
	}
	return s, true
}

// CheckPassword applies Better Auth's length rules, in characters.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return ErrPasswordShort
	case n > MaxPasswordLen:
		return ErrPasswordLong
	}
	return nil
}

func validImage(s string) bool {
	if len(s) > maxURLLen {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func verificationID(prefix, token string) string {
	return prefix + hex.EncodeToString(hashToken(token))
}

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
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lectern/lectern/internal/fault"
	"github.com/lectern/lectern/internal/password"
	"github.com/lectern/lectern/internal/randid"
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
	failedSignInMax    = 10
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
	// failedSignIns limits wrong passwords per account, whatever the
	// source, so a distributed guesser gets failedSignInMax tries a window.
	failedSignIns = ratelimit.Rule{Max: failedSignInMax, Window: failedSignInWindow}
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
}

// Service is the account service. Build it with New.
type Service struct {
	opt     Options
	store   Store
	keys    Signer
	hasher  *password.Hasher
	limiter *ratelimit.Limiter
	mail    Mailer
	wg      sync.WaitGroup // mail being sent in the background
}

// New returns a Service. Every dependency is explicit; none may be nil.
func New(opt Options, st Store, keys Signer, hasher *password.Hasher, limiter *ratelimit.Limiter, mailer Mailer) *Service {
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
	return &Service{opt: opt, store: st, keys: keys, hasher: hasher, limiter: limiter, mail: mailer}
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

// Client is where a session is opened from, kept with the session so that
// its owner can recognise it.
type Client struct {
	IP, UserAgent string
}

// Current is a signed-in session: its token (the secret its holder
// presents), the session and its user.
type Current struct {
	Token   string
	Session store.Session
	User    store.User
}

// SignUp is a request for a new account.
type SignUp struct {
	Name, Email, Password string
	Image                 *string // nil or "" for none
	DontRemember          bool    // a session that ends with the browser
	Client                Client
	// CallbackURL is where the verification mail's link lands, when new
	// accounts are verified.
	CallbackURL string
}

// SignUp creates an account and signs it in.
func (s *Service) SignUp(ctx context.Context, in SignUp) (Current, error) {
	email, ok := NormalizeEmail(in.Email)
	if !ok {
		return Current{}, &FieldError{"email", "Invalid email address"}
	}
	if in.Password == "" {
		return Current{}, &FieldError{"password", "Too small: expected string to have >=1 characters"}
	}
	if err := CheckPassword(in.Password); err != nil {
		return Current{}, err
	}
	name, image, err := checkProfile(in.Name, in.Image)
	if err != nil {
		return Current{}, err
	}
	if _, err := s.store.UserByEmail(ctx, email); err == nil {
		return Current{}, ErrUserExists
	} else if !errors.Is(err, store.ErrNotFound) {
		return Current{}, fmt.Errorf("sign-up: look up email: %w", err)
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return Current{}, fmt.Errorf("sign-up: hash password: %w", err)
	}
	now := s.opt.Now()
	u := store.User{ID: randid.New(), Name: name, Email: email, Image: image, Role: "user", CreatedAt: now, UpdatedAt: now}
	acct := store.Account{ID: randid.New(), AccountID: u.ID, ProviderID: "credential", UserID: u.ID, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateUser(ctx, u, acct); errors.Is(err, store.ErrConflict) {
		return Current{}, ErrUserExists
	} else if err != nil {
		return Current{}, fmt.Errorf("sign-up: create user: %w", err)
	}
	s.opt.Log(ctx).Info("user signed up", "user_id", u.ID)
	if s.opt.VerifyOnSignUp {
		s.sendVerification(ctx, u, in.CallbackURL)
	}
	return s.open(ctx, u, in.DontRemember, in.Client)
}

// checkProfile applies the rules for a name and an image URL; an empty
// image is none.
func checkProfile(name string, image *string) (string, *string, error) {
	if len(name) > MaxNameLen {
		return "", nil, &FieldError{"name", fmt.Sprintf("Too big: expected string to have <=%d characters", MaxNameLen)}
	}
	if image != nil && *image == "" {
		image = nil
	}
	if image != nil && !validImage(*image) {
		return "", nil, &FieldError{"image", "Invalid URL"}
	}
	return name, image, nil
}

// SignIn checks an email and a password and opens a session. After
// failedSignInMax wrong passwords in a window, the account refuses every
// sign-in until the window ends, whatever the source.
func (s *Service) SignIn(ctx context.Context, email, pw string, dontRemember bool, c Client) (Current, error) {
	email, ok := NormalizeEmail(email)
	if !ok {
		return Current{}, ErrInvalidEmail
	}
	if utf8.RuneCountInString(pw) > MaxPasswordLen {
		return Current{}, ErrPasswordLong
	}
	key := "sign-in|" + email
	if s.opt.LimitsOn {
		if blocked, retry := s.limiter.Blocked(failedSignIns, key); blocked {
			return Current{}, s.limited(ScopeSignInLockout, retry)
		}
	}
	u, err := s.verifyPassword(ctx, email, pw)
	if errors.Is(err, ErrInvalidCredentials) {
		if s.opt.LimitsOn {
			s.limiter.Fail(failedSignIns, key)
		}
		if s.opt.OnSignInFailure != nil {
			s.opt.OnSignInFailure(SignInInvalidCredentials)
		}
		s.opt.Log(ctx).Info("sign-in failed")
		return Current{}, err
	}
	if err != nil {
		return Current{}, err
	}
	s.limiter.Reset(key)
	cur, err := s.open(ctx, u, dontRemember, c)
	if err == nil {
		s.opt.Log(ctx).Info("user signed in", "user_id", u.ID)
	}
	return cur, err
}

// limited reports a refusal under scope to OnLimited and returns the
// error that says so.
func (s *Service) limited(scope string, retry time.Duration) error {
	if s.opt.OnLimited != nil {
		s.opt.OnLimited(scope)
	}
	return &fault.Error{Kind: fault.Limited, Message: tooManyRequests, RetryAfter: retry}
}

// verifyPassword checks email and password and returns the user. Unknown
// emails cost the same hashing work as wrong passwords and give the same
// error, so neither the answer nor its timing tells which it was.
func (s *Service) verifyPassword(ctx context.Context, email, pw string) (store.User, error) {
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		s.hasher.Burn(ctx, pw)
		return u, ErrInvalidCredentials
	}
	if err != nil {
		return u, fmt.Errorf("sign-in: look up user: %w", err)
	}
	ok, err := s.checkUserPassword(ctx, u.ID, pw)
	if err != nil {
		return u, err
	}
	if !ok {
		return u, ErrInvalidCredentials
	}
	return u, nil
}

// checkUserPassword verifies pw against the user's credential account,
// rehashing it with the current parameters when it matched an older hash.
func (s *Service) checkUserPassword(ctx context.Context, userID, pw string) (bool, error) {
	acct, err := s.store.CredentialAccount(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		s.hasher.Burn(ctx, pw)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up credential account: %w", err)
	}
	ok, rehash, err := s.hasher.Verify(ctx, acct.PasswordHash, pw)
	if err != nil {
		return false, fmt.Errorf("verify password of user %s: %w", userID, err)
	}
	if ok && rehash {
		log := s.opt.Log(ctx)
		if h, err := s.hasher.Hash(ctx, pw); err != nil {
			log.Warn("rehash password", "user_id", userID, "err", err)
		} else if err := s.store.SetPassword(ctx, userID, h, s.opt.Now()); err != nil {
			log.Warn("store rehashed password", "user_id", userID, "err", err)
		} else {
			log.Info("password hash upgraded", "user_id", userID)
		}
	}
	return ok, nil
}

// confirmPassword checks a signed-in user's password before a change that
// needs it.
func (s *Service) confirmPassword(ctx context.Context, userID, pw string) error {
	if utf8.RuneCountInString(pw) > MaxPasswordLen {
		return ErrInvalidPassword
	}
	ok, err := s.checkUserPassword(ctx, userID, pw)
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidPassword
	}
	return nil
}

// open creates a session for u.
func (s *Service) open(ctx context.Context, u store.User, dontRemember bool, c Client) (Current, error) {
	now := s.opt.Now()
	ttl := SessionTTL
	if dontRemember {
		ttl = dontRememberTTL
	}
	token := randid.New()
	ua := c.UserAgent
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	sess := store.Session{
		ID: randid.New(), TokenHash: hashToken(token), UserID: u.ID,
		ExpiresAt: now.Add(ttl), CreatedAt: now, UpdatedAt: now,
		IPAddress: c.IP, UserAgent: ua, DontRemember: dontRemember,
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return Current{}, fmt.Errorf("create session: %w", err)
	}
	return Current{Token: token, Session: sess, User: u}, nil
}

// Session returns the live session whose token this is, or ErrNoSession.
// An expired session is deleted on the way.
func (s *Service) Session(ctx context.Context, token string) (Current, error) {
	sess, err := s.store.SessionByTokenHash(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return Current{}, ErrNoSession
	}
	if err != nil {
		return Current{}, fmt.Errorf("look up session: %w", err)
	}
	if !s.opt.Now().Before(sess.ExpiresAt) {
		if err := s.store.DeleteSession(ctx, sess.UserID, sess.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.opt.Log(ctx).Warn("delete expired session", "err", err)
		}
		return Current{}, ErrNoSession
	}
	u, err := s.store.UserByID(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return Current{}, ErrNoSession
	}
	if err != nil {
		return Current{}, fmt.Errorf("look up session user: %w", err)
	}
	return Current{Token: token, Session: sess, User: u}, nil
}

// Refresh slides a remembered session forward by SessionTTL once it is
// SessionUpdateAge old, and reports whether it did.
func (s *Service) Refresh(ctx context.Context, cur *Current) (bool, error) {
	now := s.opt.Now()
	if cur.Session.DontRemember || now.Before(cur.Session.ExpiresAt.Add(-SessionTTL+SessionUpdateAge)) {
		return false, nil
	}
	exp := now.Add(SessionTTL)
	if err := s.store.ExtendSession(ctx, cur.Session.ID, exp, now); err != nil {
		return false, fmt.Errorf("refresh session: %w", err)
	}
	cur.Session.ExpiresAt, cur.Session.UpdatedAt = exp, now
	return true, nil
}

// SignOut ends the session.
func (s *Service) SignOut(ctx context.Context, cur Current) error {
	if err := s.store.DeleteSession(ctx, cur.User.ID, cur.Session.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("sign-out: %w", err)
	}
	return nil
}

// Sessions lists the user's live sessions.
func (s *Service) Sessions(ctx context.Context, cur Current) ([]store.Session, error) {
	list, err := s.store.ListSessions(ctx, cur.User.ID, s.opt.Now())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return list, nil
}

// RevokeSession ends one of the user's sessions, named by its token or by
// its id, and reports whether it was the current one. Another user's
// session is left alone, as if it did not exist.
func (s *Service) RevokeSession(ctx context.Context, cur Current, handle string) (bool, error) {
	id := handle
	if sess, err := s.store.SessionByTokenHash(ctx, hashToken(handle)); err == nil {
		id = sess.ID
	}
	if err := s.store.DeleteSession(ctx, cur.User.ID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("revoke session: %w", err)
	}
	return id == cur.Session.ID, nil
}

// RevokeSessions ends every session of the user, or every other one.
func (s *Service) RevokeSessions(ctx context.Context, cur Current, keepCurrent bool) error {
	except := ""
	if keepCurrent {
		except = cur.Session.ID
	}
	if err := s.store.DeleteSessions(ctx, cur.User.ID, except); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// ChangePassword sets a new password after checking the current one. With
// revokeOthers every session ends and a new one is opened in place of the
// current, which it returns.
func (s *Service) ChangePassword(ctx context.Context, cur Current, currentPw, newPw string, revokeOthers bool, c Client) (*Current, error) {
	if err := CheckPassword(newPw); err != nil {
		return nil, err
	}
	if err := s.confirmPassword(ctx, cur.User.ID, currentPw); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, newPw)
	if err != nil {
		return nil, fmt.Errorf("change password: hash: %w", err)
	}
	if err := s.store.SetPassword(ctx, cur.User.ID, hash, s.opt.Now()); err != nil {
		return nil, fmt.Errorf("change password: %w", err)
	}
	s.opt.Log(ctx).Info("password changed", "user_id", cur.User.ID)
	if !revokeOthers {
		return nil, nil
	}
	if err := s.store.DeleteSessions(ctx, cur.User.ID, ""); err != nil {
		return nil, fmt.Errorf("change password: revoke sessions: %w", err)
	}
	next, err := s.open(ctx, cur.User, cur.Session.DontRemember, c)
	if err != nil {
		return nil, err
	}
	return &next, nil
}

// Profile is a change to a user's profile; nil fields stay as they are.
type Profile struct {
	Name *string
	// Image, when SetImage, replaces the image; nil or "" removes it.
	SetImage bool
	Image    *string
}

// UpdateProfile changes the user's name or image. The email and the role
// cannot be changed here.
func (s *Service) UpdateProfile(ctx context.Context, cur Current, p Profile) error {
	u := cur.User
	name, image := u.Name, u.Image
	if p.Name != nil {
		name = *p.Name
	}
	if p.SetImage {
		image = p.Image
	}
	name, image, err := checkProfile(name, image)
	if err != nil {
		return err
	}
	u.Name, u.Image, u.UpdatedAt = name, image, s.opt.Now()
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	return nil
}

// DeleteUser deletes the account and everything it owns. It takes the
// password, or without one a session opened within the last day.
func (s *Service) DeleteUser(ctx context.Context, cur Current, pw *string) error {
	switch {
	case pw != nil:
		if err := s.confirmPassword(ctx, cur.User.ID, *pw); err != nil {
			return err
		}
	case s.opt.Now().Sub(cur.Session.CreatedAt) > sessionFreshAge:
		return ErrSessionNotFresh
	}
	if err := s.store.DeleteUser(ctx, cur.User.ID); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	s.opt.Log(ctx).Info("user deleted", "user_id", cur.User.ID)
	return nil
}

// RequestPasswordReset mails a single-use reset link to the address if it
// has an account. Whether it has one is not told: the result is the same.
func (s *Service) RequestPasswordReset(ctx context.Context, email, redirectTo string) error {
	u, err := s.mailable(ctx, email, "reset|", ScopePasswordReset)
	switch {
	case err == nil:
		return s.sendReset(ctx, u, redirectTo)
	case errors.Is(err, store.ErrNotFound):
		s.opt.Log(ctx).Info("password reset requested for an unknown address")
		return nil
	}
	return err
}

// mailable checks an address that mail is asked for, applies the
// per-address mail limit and returns its user (store.ErrNotFound when it
// has none).
func (s *Service) mailable(ctx context.Context, email, limitKey, scope string) (store.User, error) {
	email, ok := NormalizeEmail(email)
	if !ok {
		return store.User{}, &FieldError{"email", "Invalid email address"}
	}
	if s.opt.LimitsOn {
		if ok, retry := s.limiter.Allow(mailRule, limitKey+email); !ok {
			return store.User{}, s.limited(scope, retry)
		}
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("look up user for mail: %w", err)
	}
	return u, err
}

func (s *Service) sendReset(ctx context.Context, u store.User, redirectTo string) error {
	if err := s.store.DeleteVerifications(ctx, resetPrefix, u.ID); err != nil {
		return fmt.Errorf("password reset: drop older tokens: %w", err)
	}
	token, err := s.newVerification(ctx, resetPrefix, u.ID, resetTokenTTL)
	if err != nil {
		return fmt.Errorf("password reset: %w", err)
	}
	s.deliver(ctx, u.Email, "Reset your Lectern password",
		fmt.Sprintf("Hello %s,\n\nSomeone asked to reset the password of your Lectern account. If it was you, open this link within an hour:\n\n%s\n\nIf it was not you, ignore this message; your password stays as it is.\n",
			u.Name, s.opt.ResetLink(token, redirectTo)),
		"password reset link")
	return nil
}

// newVerification stores a single-use token for userID under prefix and
// returns it.
func (s *Service) newVerification(ctx context.Context, prefix, userID string, ttl time.Duration) (string, error) {
	token := randid.New()
	now := s.opt.Now()
	if err := s.store.CreateVerification(ctx, store.Verification{ID: randid.New(), Identifier: verificationID(prefix, token),
		Value: userID, ExpiresAt: now.Add(ttl), CreatedAt: now}); err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	return token, nil
}

// ResetPassword sets a new password with a reset token, which it uses up,
// and signs the user out everywhere.
func (s *Service) ResetPassword(ctx context.Context, token, newPw string) error {
	if token == "" {
		return ErrInvalidToken
	}
	if err := CheckPassword(newPw); err != nil {
		return err
	}
	// Hash first, so a failure here cannot burn the single-use token.
	hash, err := s.hasher.Hash(ctx, newPw)
	if err != nil {
		return fmt.Errorf("reset password: hash: %w", err)
	}
	now := s.opt.Now()
	v, err := s.store.ConsumeVerification(ctx, verificationID(resetPrefix, token), now)
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidToken
	}
	if err != nil {
		return fmt.Errorf("reset password: consume token: %w", err)
	}
	if err := s.store.SetPassword(ctx, v.Value, hash, now); errors.Is(err, store.ErrNotFound) {
		return ErrInvalidToken
	} else if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	// Whoever knew the old password is signed out everywhere.
	if err := s.store.DeleteSessions(ctx, v.Value, ""); err != nil {
		return fmt.Errorf("reset password: revoke sessions: %w", err)
	}
	if u, err := s.store.UserByID(ctx, v.Value); err == nil {
		s.limiter.Reset("sign-in|" + u.Email)
	}
	s.opt.Log(ctx).Info("password reset", "user_id", v.Value)
	return nil
}

// SendVerification mails a verification link to the address if it has an
// account that is not verified yet; the result is the same either way.
func (s *Service) SendVerification(ctx context.Context, email, callbackURL string) error {
	u, err := s.mailable(ctx, email, "verify|", ScopeVerificationEmail)
	switch {
	case err == nil && !u.EmailVerified:
		s.sendVerification(ctx, u, callbackURL)
		return nil
	case err == nil, errors.Is(err, store.ErrNotFound):
		return nil
	}
	return err
}

func (s *Service) sendVerification(ctx context.Context, u store.User, callbackURL string) {
	token, err := s.newVerification(ctx, verifyPrefix, u.ID, verifyTokenTTL)
	if err != nil {
		s.opt.Log(ctx).Error("verification mail", "err", err)
		return
	}
	s.deliver(ctx, u.Email, "Confirm your email address for Lectern",
		fmt.Sprintf("Hello %s,\n\nPlease confirm your email address by opening this link within a day:\n\n%s\n", u.Name, s.opt.VerifyLink(token, callbackURL)),
		"email verification link")
}

// VerifyEmail marks the address of the token's user verified, using the
// token up; ErrInvalidToken when it is unknown, used or expired.
func (s *Service) VerifyEmail(ctx context.Context, token string) error {
	v, err := s.store.ConsumeVerification(ctx, verificationID(verifyPrefix, token), s.opt.Now())
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidToken
	}
	if err != nil {
		return fmt.Errorf("verify email: %w", err)
	}
	u, err := s.store.UserByID(ctx, v.Value)
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidToken
	}
	if err != nil {
		return fmt.Errorf("verify email: %w", err)
	}
	u.EmailVerified, u.UpdatedAt = true, s.opt.Now()
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return fmt.Errorf("verify email: %w", err)
	}
	s.opt.Log(ctx).Info("email verified", "user_id", u.ID)
	return nil
}

// deliver sends mail in the background, so that the answer (and its
// timing) is the same whether or not a message went out.
func (s *Service) deliver(ctx context.Context, to, subject, body, what string) {
	log := s.opt.Log(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := s.mail.Send(ctx, to, subject, body); err != nil {
			log.Error("send mail", "what", what, "err", err)
		}
	}()
}

// User is Better Auth's user object, fields in the order it emits them;
// the wire sends it and the JWT carries it.
type User struct {
	Name          string  `json:"name"`
	Email         string  `json:"email"`
	EmailVerified bool    `json:"emailVerified"`
	Image         *string `json:"image"`
	CreatedAt     string  `json:"createdAt"`
	UpdatedAt     string  `json:"updatedAt"`
	ID            string  `json:"id"`
}

// UserOf returns u as Better Auth shows it, its times as JavaScript's
// Date.toISOString writes them (UTC, milliseconds).
func UserOf(u store.User) User {
	const js = "2006-01-02T15:04:05.000Z"
	return User{Name: u.Name, Email: u.Email, EmailVerified: u.EmailVerified, Image: u.Image,
		CreatedAt: u.CreatedAt.UTC().Format(js), UpdatedAt: u.UpdatedAt.UTC().Format(js), ID: u.ID}
}

// jwtClaims is the payload Better Auth's jwt plugin signs: the user object
// plus the registered claims, in its order.
type jwtClaims struct {
	IssuedAt int64 `json:"iat"`
	User
	Subject  string `json:"sub"`
	Expires  int64  `json:"exp"`
	Issuer   string `json:"iss"`
	Audience string `json:"aud"`
}

// Token signs a JWT for u, for the API to verify through the JWKS.
func (s *Service) Token(ctx context.Context, u store.User) (string, error) {
	now := s.opt.Now()
	payload, err := json.Marshal(jwtClaims{
		IssuedAt: now.Unix(), User: UserOf(u), Subject: u.ID,
		Expires: now.Add(s.opt.TokenTTL).Unix(), Issuer: s.opt.Issuer, Audience: s.opt.Audience,
	})
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	return s.keys.Sign(ctx, payload)
}

// JWKS returns the public keys that verify the service's JWTs.
func (s *Service) JWKS(ctx context.Context) ([]byte, error) { return s.keys.JWKS(ctx) }

// NormalizeEmail lower-cases and checks an address the way Better Auth
// does (a plain addr-spec, no display name).
func NormalizeEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > maxEmailLen {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
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

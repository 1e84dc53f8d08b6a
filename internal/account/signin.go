package account

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/lectern/lectern/internal/fault"
	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
)

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

// SignIn checks an email and a password and opens a session. Wrong
// passwords lock the account for a window: from the address they came
// from after failedSignInMax, and from every address after
// failedAccountMax, except from a device the owner signed in from
// recently.
func (s *Service) SignIn(ctx context.Context, email, pw string, dontRemember bool, c Client) (Current, error) {
	email, ok := NormalizeEmail(email)
	if !ok {
		return Current{}, ErrInvalidEmail
	}
	if utf8.RuneCountInString(pw) > MaxPasswordLen {
		return Current{}, ErrPasswordLong
	}
	if err := s.checkLockout(ctx, email, c); err != nil {
		return Current{}, err
	}
	u, err := s.verifyPassword(ctx, email, pw)
	if errors.Is(err, ErrInvalidCredentials) {
		s.failed(ctx, email, c)
		return Current{}, err
	}
	if err != nil {
		return Current{}, err
	}
	byAddress, byAccount := lockoutKeys(email, c)
	s.limiter.Reset(ctx, byAddress)
	s.limiter.Reset(ctx, byAccount)
	cur, err := s.open(ctx, u, dontRemember, c)
	if err == nil {
		s.opt.Log(ctx).Info("user signed in", "user_id", u.ID)
	}
	return cur, err
}

// checkLockout refuses a password check for email from c while wrong
// passwords have locked it (see SignIn), without hashing anything.
func (s *Service) checkLockout(ctx context.Context, email string, c Client) error {
	if !s.opt.LimitsOn {
		return nil
	}
	byAddress, byAccount := lockoutKeys(email, c)
	if blocked, retry := s.limiter.Blocked(ctx, failedSignIns, byAddress); blocked {
		return s.limited(ScopeSignInLockout, retry)
	}
	blocked, retry := s.limiter.Blocked(ctx, failedAccount, byAccount)
	if !blocked {
		return nil
	}
	if c.Device != "" {
		if u, err := s.store.UserByEmail(ctx, email); err == nil && u.ID == c.Device {
			return nil // the owner's device: the guessers are elsewhere
		}
	}
	return s.limited(ScopeSignInLockout, retry)
}

// failed counts a wrong password for email from c.
func (s *Service) failed(ctx context.Context, email string, c Client) {
	if s.opt.LimitsOn {
		byAddress, byAccount := lockoutKeys(email, c)
		s.limiter.Fail(ctx, failedSignIns, byAddress)
		s.limiter.Fail(ctx, failedAccount, byAccount)
	}
	if s.opt.OnSignInFailure != nil {
		s.opt.OnSignInFailure(SignInInvalidCredentials)
	}
	s.opt.Log(ctx).Info("sign-in failed")
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
// needs it. Wrong ones count toward the account's lockout as wrong
// sign-ins do, so a stolen session cannot be used to guess the password.
func (s *Service) confirmPassword(ctx context.Context, cur Current, pw string, c Client) error {
	if err := s.checkLockout(ctx, cur.User.Email, c); err != nil {
		return err
	}
	if utf8.RuneCountInString(pw) > MaxPasswordLen {
		return ErrInvalidPassword
	}
	ok, err := s.checkUserPassword(ctx, cur.User.ID, pw)
	if err != nil {
		return err
	}
	if !ok {
		s.failed(ctx, cur.User.Email, c)
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

package identity

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/ratelimit"
	"github.com/lectern/lectern/internal/store"
)

func newID() string    { return randid.New() }
func newToken() string { return randid.New() }

// failedSignIns limits wrong passwords per account, whatever the source IP,
// so a distributed guesser gets failedSignInMax tries per window.
var failedSignIns = ratelimit.Rule{Max: failedSignInMax, Window: failedSignInWindow}

type signUpRequest struct {
	Name        *string `json:"name"`
	Email       *string `json:"email"`
	Password    *string `json:"password"`
	Image       *string `json:"image"`
	CallbackURL string  `json:"callbackURL"`
	RememberMe  *bool   `json:"rememberMe"`
}

func required(field string, v *string) error {
	if v == nil {
		return validationError(field, "Invalid input: expected string, received undefined")
	}
	return nil
}

func (s *Server) signUp(w http.ResponseWriter, r *http.Request) error {
	var req signUpRequest
	if err := decode(r, &req, true); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"name", req.Name}, {"email", req.Email}, {"password", req.Password}} {
		if err := required(f.name, f.v); err != nil {
			return err
		}
	}
	email, ok := normalizeEmail(*req.Email)
	if !ok {
		return validationError("email", "Invalid email address")
	}
	if *req.Password == "" {
		return validationError("password", "Too small: expected string to have >=1 characters")
	}
	if err := checkPassword(*req.Password); err != nil {
		return err
	}
	if len(*req.Name) > maxNameLen {
		return validationError("name", fmt.Sprintf("Too big: expected string to have <=%d characters", maxNameLen))
	}
	if req.Image != nil && *req.Image != "" && !validImage(*req.Image) {
		return validationError("image", "Invalid URL")
	}
	if req.Image != nil && *req.Image == "" {
		req.Image = nil
	}
	if err := s.checkCallback(req.CallbackURL); err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.store.UserByEmail(ctx, email); err == nil {
		return errUserExists
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("sign-up: look up email: %w", err)
	}
	hash, err := s.hasher.Hash(ctx, *req.Password)
	if err != nil {
		return fmt.Errorf("sign-up: hash password: %w", err)
	}
	now := s.opt.Now()
	u := store.User{ID: newID(), Name: *req.Name, Email: email, Image: req.Image, Role: "user", CreatedAt: now, UpdatedAt: now}
	acct := store.Account{ID: newID(), AccountID: u.ID, ProviderID: "credential", UserID: u.ID, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateUser(ctx, u, acct); errors.Is(err, store.ErrConflict) {
		return errUserExists
	} else if err != nil {
		return fmt.Errorf("sign-up: create user: %w", err)
	}
	httpx.Logger(ctx).Info("user signed up", "user_id", u.ID)
	if s.opt.VerifyOnSignUp {
		s.sendVerification(ctx, u, req.CallbackURL)
	}
	token, _, err := s.newSession(w, r, u, req.RememberMe != nil && !*req.RememberMe)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		Token string   `json:"token"`
		User  userJSON `json:"user"`
	}{token, toUserJSON(u)})
	return nil
}

type signInRequest struct {
	Email       *string `json:"email"`
	Password    *string `json:"password"`
	CallbackURL string  `json:"callbackURL"`
	RememberMe  *bool   `json:"rememberMe"`
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	var req signInRequest
	if err := decode(r, &req, true); err != nil {
		return err
	}
	if err := required("email", req.Email); err != nil {
		return err
	}
	if err := required("password", req.Password); err != nil {
		return err
	}
	email, ok := normalizeEmail(*req.Email)
	if !ok {
		return errInvalidEmail
	}
	if len([]rune(*req.Password)) > maxPasswordLen {
		return errPasswordLong
	}
	if err := s.checkCallback(req.CallbackURL); err != nil {
		return err
	}
	ctx := r.Context()
	acctKey := "sign-in|" + email
	if s.opt.RateLimitOn {
		if blocked, retry := s.limiter.Blocked(failedSignIns, acctKey); blocked {
			return s.tooMany(ScopeSignInLockout, retry)
		}
	}
	u, err := s.verifyPassword(ctx, email, *req.Password)
	if errors.Is(err, errInvalidCredentials) {
		if s.opt.RateLimitOn {
			s.limiter.Fail(failedSignIns, acctKey)
		}
		if s.opt.OnSignInFailure != nil {
			s.opt.OnSignInFailure(SignInInvalidCredentials)
		}
		httpx.Logger(ctx).Info("sign-in failed")
		return err
	}
	if err != nil {
		return err
	}
	s.limiter.Reset(acctKey)
	token, _, err := s.newSession(w, r, u, req.RememberMe != nil && !*req.RememberMe)
	if err != nil {
		return err
	}
	httpx.Logger(ctx).Info("user signed in", "user_id", u.ID)
	resp := struct {
		Redirect bool     `json:"redirect"`
		Token    string   `json:"token"`
		URL      string   `json:"url,omitempty"`
		User     userJSON `json:"user"`
	}{Token: token, User: toUserJSON(u)}
	if req.CallbackURL != "" {
		resp.Redirect, resp.URL = true, req.CallbackURL
		w.Header().Set("Location", req.CallbackURL)
	}
	httpx.WriteJSON(w, http.StatusOK, resp)
	return nil
}

// verifyPassword checks email and password and returns the user. Unknown
// emails cost the same hashing work as wrong passwords and give the same
// error, so neither the answer nor its timing tells which it was. A hash in
// an older format is upgraded to the current one.
func (s *Server) verifyPassword(ctx context.Context, email, pw string) (store.User, error) {
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		s.hasher.Burn(ctx, pw)
		return u, errInvalidCredentials
	}
	if err != nil {
		return u, fmt.Errorf("sign-in: look up user: %w", err)
	}
	ok, err := s.checkUserPassword(ctx, u.ID, pw)
	if err != nil {
		return u, err
	}
	if !ok {
		return u, errInvalidCredentials
	}
	return u, nil
}

// checkUserPassword verifies pw against the user's credential account,
// rehashing it with the current parameters when it matched an older hash.
func (s *Server) checkUserPassword(ctx context.Context, userID, pw string) (bool, error) {
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
		if h, err := s.hasher.Hash(ctx, pw); err != nil {
			httpx.Logger(ctx).Warn("rehash password", "user_id", userID, "err", err)
		} else if err := s.store.SetPassword(ctx, userID, h, s.opt.Now()); err != nil {
			httpx.Logger(ctx).Warn("store rehashed password", "user_id", userID, "err", err)
		} else {
			httpx.Logger(ctx).Info("password hash upgraded", "user_id", userID)
		}
	}
	return ok, nil
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.session(r)
	switch {
	case err == nil:
		if err := s.store.DeleteSession(r.Context(), cur.user.ID, cur.session.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("sign-out: %w", err)
		}
	case errors.Is(err, errNoSession), errors.Is(err, errDeadSession):
	default:
		return err
	}
	s.clearCookies(w)
	httpx.WriteJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	cur, err := s.session(r)
	switch {
	case errors.Is(err, errDeadSession):
		s.clearCookies(w)
		fallthrough
	case errors.Is(err, errNoSession):
		httpx.WriteJSON(w, http.StatusOK, nil)
		return nil
	case err != nil:
		return err
	}
	ctx := r.Context()
	now := s.opt.Now()
	_, noDontRemember := r.Cookie(s.cookies.dontRemember)
	if !cur.session.DontRemember && noDontRemember != nil && r.URL.Query().Get("disableRefresh") != "true" &&
		!now.Before(cur.session.ExpiresAt.Add(-SessionTTL+sessionUpdateAge)) {
		exp := now.Add(SessionTTL)
		if err := s.store.ExtendSession(ctx, cur.session.ID, exp, now); err != nil {
			return fmt.Errorf("refresh session: %w", err)
		}
		cur.session.ExpiresAt, cur.session.UpdatedAt = exp, now
		s.setSessionCookie(w, cur.token, false)
	}
	if jwt, err := s.issueJWT(ctx, cur.user); err != nil {
		httpx.Logger(ctx).Error("sign JWT for get-session", "err", err)
	} else {
		h.Set("Set-Auth-Jwt", jwt)
		h.Set("Access-Control-Expose-Headers", "set-auth-jwt")
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		Session sessionJSON `json:"session"`
		User    userJSON    `json:"user"`
	}{toSessionJSON(cur.session, cur.token), toUserJSON(cur.user)})
	return nil
}

func (s *Server) postGetSession(w http.ResponseWriter, r *http.Request) error {
	return httpx.Errorf(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
		"POST method requires deferSessionRefresh to be enabled in session config")
}

// jwtClaims is the payload Better Auth's jwt plugin signs: the user object
// plus the registered claims, in its order.
type jwtClaims struct {
	IssuedAt int64 `json:"iat"`
	userJSON
	Subject  string `json:"sub"`
	Expires  int64  `json:"exp"`
	Issuer   string `json:"iss"`
	Audience string `json:"aud"`
}

func (s *Server) issueJWT(ctx context.Context, u store.User) (string, error) {
	now := s.opt.Now()
	payload, err := json.Marshal(jwtClaims{
		IssuedAt: now.Unix(), userJSON: toUserJSON(u), Subject: u.ID,
		Expires: now.Add(s.opt.TokenTTL).Unix(), Issuer: s.opt.Issuer, Audience: s.opt.Audience,
	})
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	return s.keys.Sign(ctx, payload)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.requireSession(w, r)
	if err != nil {
		return err
	}
	jwt, err := s.issueJWT(r.Context(), cur.user)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"token": jwt})
	return nil
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) error {
	b, err := s.keys.JWKS(r.Context())
	if err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
	return nil
}

func (s *Server) ok(w http.ResponseWriter, r *http.Request) error {
	httpx.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
	return nil
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.requireSession(w, r)
	if err != nil {
		return err
	}
	list, err := s.store.ListSessions(r.Context(), cur.user.ID, s.opt.Now())
	if err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	out := make([]sessionJSON, 0, len(list))
	for _, sess := range list {
		handle := sess.ID
		if sess.ID == cur.session.ID {
			handle = cur.token
		}
		out = append(out, toSessionJSON(sess, handle))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

var statusTrue = map[string]bool{"status": true}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Token *string `json:"token"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if err := required("token", req.Token); err != nil {
		return err
	}
	cur, err := s.requireSession(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	// The token is a raw session token, or the session id that list-sessions
	// shows for sessions other than the caller's (see sessionJSON).
	id := *req.Token
	if sess, err := s.store.SessionByTokenHash(ctx, hashToken(*req.Token)); err == nil {
		id = sess.ID
	}
	if err := s.store.DeleteSession(ctx, cur.user.ID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("revoke session: %w", err)
	}
	if id == cur.session.ID {
		s.clearCookies(w)
	}
	httpx.WriteJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *Server) revokeSessions(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.requireSession(w, r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteSessions(r.Context(), cur.user.ID, ""); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	s.clearCookies(w)
	httpx.WriteJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *Server) revokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.requireSession(w, r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteSessions(r.Context(), cur.user.ID, cur.session.ID); err != nil {
		return fmt.Errorf("revoke other sessions: %w", err)
	}
	httpx.WriteJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		CurrentPassword     *string `json:"currentPassword"`
		NewPassword         *string `json:"newPassword"`
		RevokeOtherSessions bool    `json:"revokeOtherSessions"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if err := required("newPassword", req.NewPassword); err != nil {
		return err
	}
	if err := required("currentPassword", req.CurrentPassword); err != nil {
		return err
	}
	if err := checkPassword(*req.NewPassword); err != nil {
		return err
	}
	cur, err := s.requireSession(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if len([]rune(*req.CurrentPassword)) > maxPasswordLen {
		return errInvalidPassword
	}
	ok, err := s.checkUserPassword(ctx, cur.user.ID, *req.CurrentPassword)
	if err != nil {
		return err
	}
	if !ok {
		return errInvalidPassword
	}
	hash, err := s.hasher.Hash(ctx, *req.NewPassword)
	if err != nil {
		return fmt.Errorf("change password: hash: %w", err)
	}
	now := s.opt.Now()
	if err := s.store.SetPassword(ctx, cur.user.ID, hash, now); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	httpx.Logger(ctx).Info("password changed", "user_id", cur.user.ID)
	var token *string
	if req.RevokeOtherSessions {
		if err := s.store.DeleteSessions(ctx, cur.user.ID, ""); err != nil {
			return fmt.Errorf("change password: revoke sessions: %w", err)
		}
		t, _, err := s.newSession(w, r, cur.user, cur.session.DontRemember)
		if err != nil {
			return err
		}
		token = &t
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		Token *string  `json:"token"`
		User  userJSON `json:"user"`
	}{token, toUserJSON(cur.user)})
	return nil
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	var req map[string]json.RawMessage
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if _, ok := req["email"]; ok {
		return errEmailImmutable
	}
	cur, err := s.requireSession(w, r)
	if err != nil {
		return err
	}
	u := cur.user
	if raw, ok := req["name"]; ok {
		var name string
		if json.Unmarshal(raw, &name) != nil {
			return validationError("name", "Invalid input: expected string")
		}
		if len(name) > maxNameLen {
			return validationError("name", fmt.Sprintf("Too big: expected string to have <=%d characters", maxNameLen))
		}
		u.Name = name
	}
	if raw, ok := req["image"]; ok {
		var image *string
		if json.Unmarshal(raw, &image) != nil || (image != nil && *image != "" && !validImage(*image)) {
			return validationError("image", "Invalid URL")
		}
		if image != nil && *image == "" {
			image = nil
		}
		u.Image = image
	}
	// Any other field, "role" included, is ignored: clients cannot set it.
	u.UpdatedAt = s.opt.Now()
	if err := s.store.UpdateUser(r.Context(), u); err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	httpx.WriteJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Password    *string `json:"password"`
		CallbackURL string  `json:"callbackURL"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if err := s.checkCallback(req.CallbackURL); err != nil {
		return err
	}
	cur, err := s.requireSession(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	switch {
	case req.Password != nil:
		if len([]rune(*req.Password)) > maxPasswordLen {
			return errInvalidPassword
		}
		ok, err := s.checkUserPassword(ctx, cur.user.ID, *req.Password)
		if err != nil {
			return err
		}
		if !ok {
			return errInvalidPassword
		}
	case s.opt.Now().Sub(cur.session.CreatedAt) > sessionFreshAge:
		return httpx.Errorf(http.StatusBadRequest, "SESSION_EXPIRED", "Session expired. Re-authenticate to perform this action.")
	}
	if err := s.store.DeleteUser(ctx, cur.user.ID); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	httpx.Logger(ctx).Info("user deleted", "user_id", cur.user.ID)
	s.clearCookies(w)
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"success": true, "message": "User deleted"})
	return nil
}

func verificationID(prefix, token string) string {
	h := hashToken(token)
	return prefix + hex.EncodeToString(h)
}

func (s *Server) requestPasswordReset(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email      *string `json:"email"`
		RedirectTo string  `json:"redirectTo"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if err := required("email", req.Email); err != nil {
		return err
	}
	email, ok := normalizeEmail(*req.Email)
	if !ok {
		return validationError("email", "Invalid email address")
	}
	if err := s.checkCallback(req.RedirectTo); err != nil {
		return err
	}
	// Per address too, so nobody can flood one inbox from many IPs.
	if s.opt.RateLimitOn {
		if ok, retry := s.limiter.Allow(resetRule, "reset|"+email); !ok {
			return s.tooMany(ScopePasswordReset, retry)
		}
	}
	ctx := r.Context()
	u, err := s.store.UserByEmail(ctx, email)
	switch {
	case err == nil:
		if err := s.sendReset(ctx, u, req.RedirectTo); err != nil {
			return err
		}
	case errors.Is(err, store.ErrNotFound):
		httpx.Logger(ctx).Info("password reset requested for an unknown address")
	default:
		return fmt.Errorf("password reset: look up user: %w", err)
	}
	// The same answer whether or not the address has an account.
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": true,
		"message": "If this email exists in our system, check your email for the reset link"})
	return nil
}

func (s *Server) sendReset(ctx context.Context, u store.User, redirectTo string) error {
	if err := s.store.DeleteVerifications(ctx, resetPrefix, u.ID); err != nil {
		return fmt.Errorf("password reset: drop older tokens: %w", err)
	}
	token := newToken()
	now := s.opt.Now()
	if err := s.store.CreateVerification(ctx, store.Verification{ID: newID(), Identifier: verificationID(resetPrefix, token),
		Value: u.ID, ExpiresAt: now.Add(resetTokenTTL), CreatedAt: now}); err != nil {
		return fmt.Errorf("password reset: store token: %w", err)
	}
	if redirectTo == "" {
		redirectTo = "/reset-password"
	}
	link := s.absolute("/api/auth/reset-password/"+token) + "?callbackURL=" + url.QueryEscape(s.absolute(redirectTo))
	s.deliver(ctx, u.Email, "Reset your Lectern password",
		fmt.Sprintf("Hello %s,\n\nSomeone asked to reset the password of your Lectern account. If it was you, open this link within an hour:\n\n%s\n\nIf it was not you, ignore this message; your password stays as it is.\n", u.Name, link),
		"password reset link")
	return nil
}

// resetPasswordLink is where the emailed link lands: it sends the browser on
// to the reset page with the token, which the page then posts back.
func (s *Server) resetPasswordLink(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	cb := r.URL.Query().Get("callbackURL")
	if cb == "" {
		cb = "/reset-password"
	}
	if err := s.checkCallback(cb); err != nil {
		return err
	}
	target, err := url.Parse(s.absolute(cb))
	if err != nil {
		return errInvalidCallback
	}
	q := target.Query()
	if len(token) == randid.Len {
		q.Set("token", token)
	} else {
		q.Set("error", "INVALID_TOKEN")
	}
	target.RawQuery = q.Encode()
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target.String(), http.StatusFound)
	return nil
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		NewPassword *string `json:"newPassword"`
		Token       *string `json:"token"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if err := required("newPassword", req.NewPassword); err != nil {
		return err
	}
	if req.Token == nil || *req.Token == "" {
		if t := r.URL.Query().Get("token"); t != "" {
			req.Token = &t
		} else {
			return errInvalidToken
		}
	}
	if err := checkPassword(*req.NewPassword); err != nil {
		return err
	}
	ctx := r.Context()
	// Hash first, so a failure here cannot burn the single-use token.
	hash, err := s.hasher.Hash(ctx, *req.NewPassword)
	if err != nil {
		return fmt.Errorf("reset password: hash: %w", err)
	}
	now := s.opt.Now()
	v, err := s.store.ConsumeVerification(ctx, verificationID(resetPrefix, *req.Token), now)
	if errors.Is(err, store.ErrNotFound) {
		return errInvalidToken
	}
	if err != nil {
		return fmt.Errorf("reset password: consume token: %w", err)
	}
	if err := s.store.SetPassword(ctx, v.Value, hash, now); errors.Is(err, store.ErrNotFound) {
		return errInvalidToken
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
	httpx.Logger(ctx).Info("password reset", "user_id", v.Value)
	httpx.WriteJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *Server) sendVerificationEmail(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email       *string `json:"email"`
		CallbackURL string  `json:"callbackURL"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if err := required("email", req.Email); err != nil {
		return err
	}
	email, ok := normalizeEmail(*req.Email)
	if !ok {
		return validationError("email", "Invalid email address")
	}
	if err := s.checkCallback(req.CallbackURL); err != nil {
		return err
	}
	if s.opt.RateLimitOn {
		if ok, retry := s.limiter.Allow(resetRule, "verify|"+email); !ok {
			return s.tooMany(ScopeVerificationEmail, retry)
		}
	}
	ctx := r.Context()
	u, err := s.store.UserByEmail(ctx, email)
	switch {
	case err == nil && !u.EmailVerified:
		s.sendVerification(ctx, u, req.CallbackURL)
	case err == nil, errors.Is(err, store.ErrNotFound):
	default:
		return fmt.Errorf("send verification: look up user: %w", err)
	}
	httpx.WriteJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *Server) sendVerification(ctx context.Context, u store.User, callbackURL string) {
	token := newToken()
	now := s.opt.Now()
	if err := s.store.CreateVerification(ctx, store.Verification{ID: newID(), Identifier: verificationID(verifyPrefix, token),
		Value: u.ID, ExpiresAt: now.Add(verifyTokenTTL), CreatedAt: now}); err != nil {
		httpx.Logger(ctx).Error("store verification token", "err", err)
		return
	}
	link := s.absolute("/api/auth/verify-email") + "?token=" + token
	if callbackURL != "" {
		link += "&callbackURL=" + url.QueryEscape(s.absolute(callbackURL))
	}
	s.deliver(ctx, u.Email, "Confirm your email address for Lectern",
		fmt.Sprintf("Hello %s,\n\nPlease confirm your email address by opening this link within a day:\n\n%s\n", u.Name, link),
		"email verification link")
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cb := q.Get("callbackURL")
	if err := s.checkCallback(cb); err != nil {
		return err
	}
	fail := func() error {
		if cb != "" {
			http.Redirect(w, r, s.absolute(cb)+sep(cb)+"error=INVALID_TOKEN", http.StatusFound)
			return nil
		}
		return httpx.Errorf(http.StatusUnauthorized, "INVALID_TOKEN", "Invalid token")
	}
	ctx := r.Context()
	v, err := s.store.ConsumeVerification(ctx, verificationID(verifyPrefix, q.Get("token")), s.opt.Now())
	if errors.Is(err, store.ErrNotFound) {
		return fail()
	}
	if err != nil {
		return fmt.Errorf("verify email: %w", err)
	}
	u, err := s.store.UserByID(ctx, v.Value)
	if errors.Is(err, store.ErrNotFound) {
		return fail()
	}
	if err != nil {
		return fmt.Errorf("verify email: %w", err)
	}
	u.EmailVerified, u.UpdatedAt = true, s.opt.Now()
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return fmt.Errorf("verify email: %w", err)
	}
	httpx.Logger(ctx).Info("email verified", "user_id", u.ID)
	if cb != "" {
		http.Redirect(w, r, s.absolute(cb), http.StatusFound)
		return nil
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": true, "user": nil})
	return nil
}

func sep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

// deliver sends mail in the background, so that the response (and its
// timing) is the same whether or not a message went out.
func (s *Server) deliver(ctx context.Context, to, subject, body, what string) {
	log := httpx.Logger(ctx)
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

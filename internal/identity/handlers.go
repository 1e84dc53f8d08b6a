package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/lectern/lectern/internal/account"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/randid"
)

// Each handler decodes Better Auth's request, calls the account service,
// and encodes Better Auth's answer and cookies; the rules are the
// service's.

func required(field string, v *string) error {
	if v == nil {
		return validationError(field, "Invalid input: expected string, received undefined")
	}
	return nil
}

// dontRemember reads Better Auth's rememberMe, which is true when absent.
func dontRemember(rememberMe *bool) bool { return rememberMe != nil && !*rememberMe }

// signedIn sets the session cookie of a session just opened, and marks the
// device as its user's.
func (s *Server) signedIn(w http.ResponseWriter, cur account.Current) {
	s.setSessionCookie(w, cur.Token, cur.Session.DontRemember)
	s.markDevice(w, cur.User.ID)
}

func (s *Server) signUp(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name        *string `json:"name"`
		Email       *string `json:"email"`
		Password    *string `json:"password"`
		Image       *string `json:"image"`
		CallbackURL string  `json:"callbackURL"`
		RememberMe  *bool   `json:"rememberMe"`
	}
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
	if err := s.checkCallback(req.CallbackURL); err != nil {
		return err
	}
	cur, err := s.accounts.SignUp(r.Context(), account.SignUp{Name: *req.Name, Email: *req.Email, Password: *req.Password,
		Image: req.Image, DontRemember: dontRemember(req.RememberMe), Client: s.client(r), CallbackURL: req.CallbackURL})
	if err != nil {
		return err
	}
	s.signedIn(w, cur)
	httpx.WriteJSON(w, http.StatusOK, struct {
		Token string       `json:"token"`
		User  account.User `json:"user"`
	}{cur.Token, account.UserOf(cur.User)})
	return nil
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email       *string `json:"email"`
		Password    *string `json:"password"`
		CallbackURL string  `json:"callbackURL"`
		RememberMe  *bool   `json:"rememberMe"`
	}
	if err := decode(r, &req, true); err != nil {
		return err
	}
	if err := required("email", req.Email); err != nil {
		return err
	}
	if err := required("password", req.Password); err != nil {
		return err
	}
	if err := s.checkCallback(req.CallbackURL); err != nil {
		return err
	}
	cur, err := s.accounts.SignIn(r.Context(), *req.Email, *req.Password, dontRemember(req.RememberMe), s.client(r))
	if err != nil {
		return err
	}
	s.signedIn(w, cur)
	resp := struct {
		Redirect bool         `json:"redirect"`
		Token    string       `json:"token"`
		URL      string       `json:"url,omitempty"`
		User     account.User `json:"user"`
	}{Token: cur.Token, User: account.UserOf(cur.User)}
	if req.CallbackURL != "" {
		resp.Redirect, resp.URL = true, req.CallbackURL
		w.Header().Set("Location", req.CallbackURL)
	}
	httpx.WriteJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.session(r)
	switch {
	case err == nil:
		if err := s.accounts.SignOut(r.Context(), cur); err != nil {
			return err
		}
	case errors.Is(err, errNoSession), errors.Is(err, account.ErrNoSession):
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
	case errors.Is(err, account.ErrNoSession):
		s.clearCookies(w)
		fallthrough
	case errors.Is(err, errNoSession):
		httpx.WriteJSON(w, http.StatusOK, nil)
		return nil
	case err != nil:
		return err
	}
	ctx := r.Context()
	_, noDontRemember := r.Cookie(s.cookies.dontRemember)
	if noDontRemember != nil && r.URL.Query().Get("disableRefresh") != "true" {
		refreshed, err := s.accounts.Refresh(ctx, &cur)
		if err != nil {
			return err
		}
		if refreshed {
			s.setSessionCookie(w, cur.Token, false)
		}
	}
	if jwt, err := s.accounts.Token(ctx, cur); err != nil {
		httpx.Logger(ctx).Error("sign JWT for get-session", "err", err)
	} else {
		h.Set("Set-Auth-Jwt", jwt)
		h.Set("Access-Control-Expose-Headers", "set-auth-jwt")
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		Session sessionJSON  `json:"session"`
		User    account.User `json:"user"`
	}{toSessionJSON(cur.Session, cur.Token), account.UserOf(cur.User)})
	return nil
}

func (s *Server) postGetSession(w http.ResponseWriter, r *http.Request) error {
	return httpx.Errorf(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
		"POST method requires deferSessionRefresh to be enabled in session config")
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.requireSession(w, r)
	if err != nil {
		return err
	}
	jwt, err := s.accounts.Token(r.Context(), cur)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"token": jwt})
	return nil
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) error {
	b, err := s.accounts.JWKS(r.Context())
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
	list, err := s.accounts.Sessions(r.Context(), cur)
	if err != nil {
		return err
	}
	out := make([]sessionJSON, 0, len(list))
	for _, sess := range list {
		handle := sess.ID
		if sess.ID == cur.Session.ID {
			handle = cur.Token
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
	// The token is a raw session token, or the session id that list-sessions
	// shows for sessions other than the caller's (see sessionJSON).
	wasCurrent, err := s.accounts.RevokeSession(r.Context(), cur, *req.Token)
	if err != nil {
		return err
	}
	if wasCurrent {
		s.clearCookies(w)
	}
	httpx.WriteJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *Server) revokeSessions(w http.ResponseWriter, r *http.Request) error {
	return s.revokeAll(w, r, false)
}

func (s *Server) revokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	return s.revokeAll(w, r, true)
}

func (s *Server) revokeAll(w http.ResponseWriter, r *http.Request, keepCurrent bool) error {
	cur, err := s.requireSession(w, r)
	if err != nil {
		return err
	}
	if err := s.accounts.RevokeSessions(r.Context(), cur, keepCurrent); err != nil {
		return err
	}
	if !keepCurrent {
		s.clearCookies(w)
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
	if err := account.CheckPassword(*req.NewPassword); err != nil {
		return err
	}
	cur, err := s.requireSession(w, r)
	if err != nil {
		return err
	}
	next, err := s.accounts.ChangePassword(r.Context(), cur, *req.CurrentPassword, *req.NewPassword, req.RevokeOtherSessions, s.client(r))
	if err != nil {
		return err
	}
	var token *string
	if next != nil {
		s.signedIn(w, *next)
		token = &next.Token
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		Token *string      `json:"token"`
		User  account.User `json:"user"`
	}{token, account.UserOf(cur.User)})
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
	var p account.Profile
	if raw, ok := req["name"]; ok {
		var name string
		if json.Unmarshal(raw, &name) != nil {
			return validationError("name", "Invalid input: expected string")
		}
		p.Name = &name
	}
	if raw, ok := req["image"]; ok {
		if json.Unmarshal(raw, &p.Image) != nil {
			return validationError("image", "Invalid URL")
		}
		p.SetImage = true
	}
	// Any other field, "role" included, is ignored: clients cannot set it.
	if err := s.accounts.UpdateProfile(r.Context(), cur, p); err != nil {
		return err
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
	if err := s.accounts.DeleteUser(r.Context(), cur, req.Password, s.client(r)); err != nil {
		return err
	}
	if s.opt.OnUserDeleted != nil {
		s.opt.OnUserDeleted(cur.User.ID)
	}
	s.clearCookies(w)
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"success": true, "message": "User deleted"})
	return nil
}

// mailRequest decodes a request for mail to an address, with where its
// link should land: redirectTo for a reset, callbackURL for verification.
func (s *Server) mailRequest(r *http.Request, reset bool) (email, landing string, err error) {
	var req struct {
		Email       *string `json:"email"`
		RedirectTo  string  `json:"redirectTo"`
		CallbackURL string  `json:"callbackURL"`
	}
	if err := decode(r, &req, false); err != nil {
		return "", "", err
	}
	if err := required("email", req.Email); err != nil {
		return "", "", err
	}
	landing = req.CallbackURL
	if reset {
		landing = req.RedirectTo
	}
	if err := s.checkCallback(landing); err != nil {
		return "", "", err
	}
	return *req.Email, landing, nil
}

func (s *Server) requestPasswordReset(w http.ResponseWriter, r *http.Request) error {
	email, redirectTo, err := s.mailRequest(r, true)
	if err != nil {
		return err
	}
	if err := s.accounts.RequestPasswordReset(r.Context(), email, redirectTo); err != nil {
		return err
	}
	// The same answer whether or not the address has an account.
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": true,
		"message": "If this email exists in our system, check your email for the reset link"})
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
	token := r.URL.Query().Get("token")
	if req.Token != nil && *req.Token != "" {
		token = *req.Token
	}
	if token == "" {
		return account.ErrInvalidToken
	}
	if err := s.accounts.ResetPassword(r.Context(), token, *req.NewPassword); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *Server) sendVerificationEmail(w http.ResponseWriter, r *http.Request) error {
	email, callbackURL, err := s.mailRequest(r, false)
	if err != nil {
		return err
	}
	if err := s.accounts.SendVerification(r.Context(), email, callbackURL); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cb := q.Get("callbackURL")
	if err := s.checkCallback(cb); err != nil {
		return err
	}
	err := s.accounts.VerifyEmail(r.Context(), q.Get("token"))
	switch {
	case errors.Is(err, account.ErrInvalidToken) && cb != "":
		http.Redirect(w, r, s.absolute(cb)+sep(cb)+"error=INVALID_TOKEN", http.StatusFound)
		return nil
	case errors.Is(err, account.ErrInvalidToken):
		return httpx.Errorf(http.StatusUnauthorized, "INVALID_TOKEN", "Invalid token")
	case err != nil:
		return err
	case cb != "":
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

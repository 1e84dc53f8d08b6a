package identity

import (
	"net/http"
	"time"

	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/ratelimit"
)

// Rate-limit rules besides the configurable sign-in one: Better Auth's.
var (
	resetRule   = ratelimit.Rule{Max: 3, Window: time.Minute}
	generalRule = ratelimit.Rule{Max: 100, Window: 10 * time.Second}
)

// Handler returns every identity route, rooted at /api/auth/. Unknown paths
// and wrong methods fall to the catch-all and answer 404 with an empty body,
// as Better Auth does.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	strict := s.opt.RateLimit
	route := func(pattern string, rule ratelimit.Rule, post bool, h httpx.HandlerFunc) {
		mux.Handle(pattern, httpx.Handle(func(w http.ResponseWriter, r *http.Request) error {
			if err := s.limit(r, pattern, rule); err != nil {
				return err
			}
			if post {
				if err := s.checkOrigin(r); err != nil {
					return err
				}
			}
			return wireError(h(w, r))
		}))
	}
	get := func(path string, rule ratelimit.Rule, h httpx.HandlerFunc) {
		route("GET /api/auth/"+path, rule, false, h)
	}
	post := func(path string, rule ratelimit.Rule, h httpx.HandlerFunc) {
		route("POST /api/auth/"+path, rule, true, h)
	}

	post("sign-up/email", strict, s.signUp)
	post("sign-in/email", strict, s.signIn)
	post("sign-out", generalRule, s.signOut)
	get("get-session", generalRule, s.getSession)
	post("get-session", generalRule, s.postGetSession)
	get("token", generalRule, s.token)
	get("jwks", generalRule, s.jwks)
	get("ok", generalRule, s.ok)
	get("list-sessions", generalRule, s.listSessions)
	post("revoke-session", generalRule, s.revokeSession)
	post("revoke-sessions", generalRule, s.revokeSessions)
	post("revoke-other-sessions", generalRule, s.revokeOtherSessions)
	post("change-password", strict, s.changePassword)
	post("update-user", generalRule, s.updateUser)
	post("delete-user", strict, s.deleteUser)
	post("request-password-reset", resetRule, s.requestPasswordReset)
	post("forget-password", resetRule, s.requestPasswordReset) // the pre-1.3 name, still sent by older clients
	get("reset-password/{token}", generalRule, s.resetPasswordLink)
	post("reset-password", strict, s.resetPassword)
	post("send-verification-email", resetRule, s.sendVerificationEmail)
	get("verify-email", generalRule, s.verifyEmail)

	mux.Handle("/api/auth/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	}))
	return mux
}

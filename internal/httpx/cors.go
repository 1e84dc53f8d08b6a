package httpx

import (
	"net/http"
	"strings"
)

// CORS lets the listed origins (exact scheme://host[:port] matches) call the
// server from a browser with credentials. Other origins get no CORS headers
// at all, so the browser keeps their pages from reading responses; there is
// never a wildcard. Preflights from listed origins are answered here;
// preflights from others get 403. refused, when set, is told the origin of
// each request refused or left without CORS headers, so that a
// misconfigured site can be named in the log.
func CORS(origins []string, refused func(origin string)) Middleware {
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
			if origin == "" {
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			h.Add("Vary", "Origin")
			if !allowed[strings.TrimSuffix(origin, "/")] {
				if refused != nil && !sameOrigin(r, origin) {
					refused(origin)
				}
				if preflight {
					WriteError(w, r, Errorf(http.StatusForbidden, "CORS_ORIGIN_NOT_ALLOWED", "Origin not allowed"))
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", "set-auth-jwt, Retry-After, X-Request-Id")
			if preflight {
				h.Add("Vary", "Access-Control-Request-Method")
				h.Add("Vary", "Access-Control-Request-Headers")
				h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// sameOrigin reports whether origin is the server's own, as the request
// reached it: a page of this server needs no CORS.
func sameOrigin(r *http.Request, origin string) bool {
	i := strings.Index(origin, "://")
	return i >= 0 && strings.EqualFold(origin[i+3:], r.Host)
}

package httpx

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/lectern/lectern/internal/randid"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies mws to h so that the first one listed runs first.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// RequestID gives every request an id (sent back as X-Request-Id) and a
// logger carrying it, so every log line of a request can be found together.
// An incoming X-Request-Id is kept when it is short and plain, so a proxy's id
// can be followed through.
func RequestID(base *slog.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-Id")
			if !plainID(id) {
				id = randid.New()[:16]
			}
			w.Header().Set("X-Request-Id", id)
			ctx := WithLogger(r.Context(), base.With("request_id", id))
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

func plainID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// statusWriter records the status and size of a response for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// RequestStats describes a finished request, as AccessLog saw it.
type RequestStats struct {
	Method   string
	Route    string // the matched route pattern, or "unmatched"
	Status   int
	Bytes    int64 // of the response body
	Duration time.Duration
}

// AccessLog writes one line per request and passes its RequestStats to each
// observer (for metrics), after the response is complete. It logs the
// matched route pattern, never the raw path or query, because those can
// carry tokens (for example a password-reset link).
func AccessLog(observers ...func(RequestStats)) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			st := RequestStats{Method: r.Method, Route: r.Pattern, Status: sw.status, Bytes: sw.bytes, Duration: time.Since(start)}
			if st.Route == "" {
				st.Route = "unmatched"
			}
			level := slog.LevelInfo
			if st.Status >= 500 {
				level = slog.LevelError
			}
			Logger(r.Context()).LogAttrs(r.Context(), level, "request",
				slog.String("method", st.Method),
				slog.String("route", st.Route),
				slog.Int("status", st.Status),
				slog.Int64("bytes", st.Bytes),
				slog.Duration("duration", st.Duration),
			)
			for _, observe := range observers {
				observe(st)
			}
		})
	}
}

// Recover turns a panic into a logged stack trace and a generic 500, so one
// bad request cannot take the process down or leak internals to the client.
func Recover() Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				Logger(r.Context()).Error("panic serving request", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				WriteError(w, r, fmt.Errorf("panic: %v", v))
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// LimitBody caps request bodies at n bytes. Reading past the cap fails with
// *http.MaxBytesError, which WriteError answers with 413.
func LimitBody(n int64) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				WriteError(w, r, &http.MaxBytesError{Limit: n})
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// SecurityHeaders sets the headers every response carries. The default
// Content-Security-Policy suits JSON APIs (nothing may load); handlers that
// serve pages replace it with their own.
func SecurityHeaders(https bool) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			if https {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ClientIP finds the address of the client that made r. The socket peer is
// the client unless it is one of the trusted proxies; then the right-most
// X-Forwarded-For entry that is not itself a trusted proxy is. Headers from
// untrusted peers are ignored, so clients cannot pick their own rate-limit
// bucket.
type ClientIP struct {
	Trusted []netip.Prefix
}

// Of returns the client address of r, or the zero Addr if it cannot be told.
func (c ClientIP) Of(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if !c.trusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer
		}
		a = a.Unmap()
		if !c.trusted(a) {
			return a
		}
	}
	return peer
}

func (c ClientIP) trusted(a netip.Addr) bool {
	for _, p := range c.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

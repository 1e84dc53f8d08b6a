// Package httpx holds the HTTP plumbing every Lectern server shares: the
// error-returning handler adapter, JSON helpers, and middleware for request
// ids, access logs, panic recovery, body limits, client addresses and security
// headers.
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/lectern/lectern/internal/store"
)

// Error is an error with an HTTP response attached. Message and Code are what
// the client sees; Err is the cause, which goes to the log only.
//
// Bodies follow Better Auth's error shape, {"message": …, "code": …}, on every
// Lectern endpoint, so one client-side error path handles them all.
type Error struct {
	Status  int
	Code    string // stable machine-readable code, e.g. INVALID_EMAIL_OR_PASSWORD; "" omits it
	Message string
	Err     error
	// Header holds extra response headers, such as Retry-After.
	Header http.Header
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Code, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error for the client with the given status and code.
func Errorf(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// HandlerFunc is an http.HandlerFunc that returns its failure instead of
// writing it, so the response for every error is made in one place (Handle).
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts h to an http.Handler. A returned *Error is sent as is (its
// cause logged at debug level, or at error level for 5xx); an error wrapping
// store.ErrUnavailable (the database is unreachable) is answered 503
// SERVICE_UNAVAILABLE with Retry-After; any other error is logged and
// answered with a generic 500 that reveals nothing internal.
func Handle(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		WriteError(w, r, err)
	})
}

// RetryAfterUnavailable is the Retry-After (seconds) of a 503 answered
// because the database is unavailable.
const RetryAfterUnavailable = "5"

// WriteError answers r with err as Handle does.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	log := Logger(r.Context())
	var he *Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
	case errors.As(err, &mbe):
		he = &Error{Status: http.StatusRequestEntityTooLarge, Code: "PAYLOAD_TOO_LARGE",
			Message: fmt.Sprintf("Request body is larger than %d bytes", mbe.Limit), Err: err}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; there is nobody to answer.
		log.Debug("client canceled request", "err", err)
		return
	case errors.Is(err, store.ErrUnavailable):
		he = &Error{Status: http.StatusServiceUnavailable, Code: "SERVICE_UNAVAILABLE",
			Message: "Service temporarily unavailable; please retry", Err: err,
			Header: http.Header{"Retry-After": {RetryAfterUnavailable}}}
	default:
		he = &Error{Status: http.StatusInternalServerError, Code: "INTERNAL_SERVER_ERROR",
			Message: "Internal server error", Err: err}
	}
	if he.Status >= 500 {
		log.Error("request failed", "status", he.Status, "code", he.Code, "err", he.Err)
	} else if he.Err != nil {
		log.Debug("request rejected", "status", he.Status, "code", he.Code, "err", he.Err)
	}
	for k, vs := range he.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	type body struct {
		Message string `json:"message"`
		Code    string `json:"code,omitempty"`
	}
	WriteJSON(w, he.Status, body{Message: he.Message, Code: he.Code})
}

// WriteJSON sends v as JSON with the given status. Encoding errors cannot be
// reported to the client once the status is out, so they are ignored here;
// values passed in are plain structs that always encode.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"Internal server error","code":"INTERNAL_SERVER_ERROR"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// Logger returns the request-scoped logger put in ctx by the RequestID
// middleware, or slog.Default-free discard logger when there is none.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

type loggerKey struct{}

// WithLogger returns a context carrying l for Logger.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Time marshals like JavaScript's Date.toISOString: UTC with milliseconds,
// the format Better Auth clients (and browsers) parse.
type Time time.Time

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return time.Time(t).UTC().AppendFormat([]byte{'"'}, "2006-01-02T15:04:05.000Z\""), nil
}

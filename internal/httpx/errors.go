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
	"strconv"
	"time"

	"github.com/lectern/lectern/internal/fault"
)

// Error is an error with an HTTP response attached, for what only the wire
// decides (Better Auth's status for each of its error codes, a malformed
// body). Services return fault errors instead, and WriteError maps their
// kinds. Message and Code are what the client sees; Err is the cause, which
// goes to the log only.
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

// Handle adapts h to an http.Handler; a returned error is answered by
// WriteError.
func Handle(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		WriteError(w, r, err)
	})
}

// RetryAfterUnavailable is the Retry-After of a 503 whose error names no
// wait of its own.
const RetryAfterUnavailable = 5 * time.Second

// kindStatus is the one mapping from a fault kind to a response: status,
// and the code and message sent when the error names none.
var kindStatus = [...]struct {
	status        int
	code, message string
}{
	fault.Internal:        {http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "Internal server error"},
	fault.Invalid:         {http.StatusBadRequest, "VALIDATION_ERROR", "Invalid request"},
	fault.Unauthenticated: {http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized"},
	fault.Forbidden:       {http.StatusForbidden, "FORBIDDEN", "Forbidden"},
	fault.NotFound:        {http.StatusNotFound, "NOT_FOUND", "Not found"},
	fault.Conflict:        {http.StatusConflict, "CONFLICT", "Conflict"},
	fault.TooLarge:        {http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "Request is too large"},
	fault.Limited:         {http.StatusTooManyRequests, "RATE_LIMITED", "Too many requests. Please try again later."},
	fault.Unavailable:     {http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "Service temporarily unavailable; please retry"},
}

// StatusOf returns the HTTP status for an error of kind k.
func StatusOf(k fault.Kind) int {
	if int(k) >= len(kindStatus) {
		k = fault.Internal
	}
	return kindStatus[k].status
}

// fromFault makes the response for a service error: its kind gives the
// status, and the client sees only what a *fault.Error says for it (or the
// kind's generic words), never the cause. An error of no kind is a bug:
// 500, never 503, so that it does not pass for an outage.
func fromFault(err error) *Error {
	k := fault.KindOf(err)
	if int(k) >= len(kindStatus) {
		k = fault.Internal
	}
	d := kindStatus[k]
	he := &Error{Status: d.status, Code: d.code, Message: d.message, Err: err}
	retry := time.Duration(0)
	if fe, ok := fault.As(err); ok && fe.Kind == k && k != fault.Internal {
		if fe.Code != "" {
			he.Code = fe.Code
		}
		if fe.Message != "" {
			he.Message = fe.Message
		}
		retry = fe.RetryAfter
	}
	if k == fault.Unavailable && retry <= 0 {
		retry = RetryAfterUnavailable
	}
	if retry > 0 && (k == fault.Unavailable || k == fault.Limited) {
		he.Header = http.Header{"Retry-After": {RetryAfterSeconds(retry)}}
	}
	return he
}

// RetryAfterSeconds formats a wait for a Retry-After header: whole seconds,
// rounded up, at least 1.
func RetryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64((d+time.Second-1)/time.Second)), 10)
}

// Public returns the response a client gets for err: an *Error as it
// says; a body over its limit 413; a service error by its fault kind (see
// fromFault).
func Public(err error) *Error {
	var he *Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &mbe):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "PAYLOAD_TOO_LARGE",
			Message: fmt.Sprintf("Request body is larger than %d bytes", mbe.Limit), Err: err}
	}
	return fromFault(err)
}

// WriteError answers r with err as Public says, and logs it: 5xx causes at
// error level, others at debug level. An error of a client that went away
// is not answered.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	log := Logger(r.Context())
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		log.Debug("client canceled request", "err", err)
		return
	}
	he := Public(err)
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

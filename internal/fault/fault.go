// Package fault is the one vocabulary of error kinds that every Lectern
// service speaks: a service says what went wrong (the conversation does not
// exist, the input breaks a rule, the database cannot be reached), and the
// HTTP layer (httpx.WriteError) turns the kind into a status in one place.
//
// Services never choose status codes, and the HTTP layer never needs to know
// a service's or a store's own errors. An error with no kind is a bug: it
// is answered 500 and logged, never 503, so that a broken query does not
// look like an outage that a client should retry.
package fault

import (
	"errors"
	"time"
)

// Kind says what kind of failure an error is, as far as the caller of a
// service is concerned.
type Kind uint8

// The kinds. Internal is the zero value: an error of no known kind.
const (
	Internal        Kind = iota // a bug or an unexpected failure: not the caller's doing, not worth retrying
	Invalid                     // the request is malformed or breaks a rule of the service
	Unauthenticated             // no valid credentials, or wrong ones
	Forbidden                   // the credentials are valid but do not allow this
	NotFound                    // no such thing, or not the caller's
	Conflict                    // the thing already exists, or changed meanwhile
	TooLarge                    // the request is larger than allowed
	Limited                     // a rate limit or a budget: retry after a while
	Unavailable                 // a dependency (database, model) is down: retry after a while
)

var kindNames = [...]string{"internal", "invalid", "unauthenticated", "forbidden", "not found", "conflict", "too large", "limited", "unavailable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Error is a failure that the caller of a service may be told about. Code
// and Message are for the client (a stable machine-readable code, a
// sentence); Err is the cause, for the log only.
type Error struct {
	Kind    Kind
	Code    string // e.g. NOT_FOUND; "" lets the HTTP layer choose one from the kind
	Message string // "" lets the HTTP layer choose one from the kind
	// RetryAfter, when positive, tells a Limited or Unavailable client how
	// long to wait.
	RetryAfter time.Duration
	Err        error
}

// New returns an *Error of kind k for the client.
func New(k Kind, code, message string) *Error {
	return &Error{Kind: k, Code: code, Message: message}
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Kind.String()
	}
	if e.Code != "" {
		msg = e.Code + ": " + msg
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// FaultKind reports e's kind (see KindOf).
func (e *Error) FaultKind() Kind { return e.Kind }

// Sentinel returns an error value of kind k to compare with errors.Is, as a
// store's "not found": errors wrapping it with %w have that kind too.
func Sentinel(k Kind, text string) error { return &sentinel{kind: k, text: text} }

type sentinel struct {
	kind Kind
	text string
}

func (s *sentinel) Error() string   { return s.text }
func (s *sentinel) FaultKind() Kind { return s.kind }

// kinded is an error that knows its kind.
type kinded interface{ FaultKind() Kind }

// KindOf returns the kind of the first error in err's tree that has one
// (an *Error or a Sentinel), or Internal when none has.
func KindOf(err error) Kind {
	var k kinded
	if errors.As(err, &k) {
		return k.FaultKind()
	}
	return Internal
}

// Wrap returns err as a failure of kind k, keeping err as the cause.
func Wrap(err error, k Kind) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: k, Err: err}
}

// As returns the first *Error in err's tree, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

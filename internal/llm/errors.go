package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lectern/lectern/internal/backoff"
)

// ErrTimeout is matched (errors.Is) by the error of a request that timed
// out: no response within Options.Timeout, or a stream that fell silent for
// Options.IdleTimeout.
var ErrTimeout = errors.New("model API timed out")

// errTooLarge is what capReader returns past Options.MaxResponseBytes.
var errTooLarge = errors.New("response too large")

// Error is a failure of the model API: an HTTP error status, an error the
// server reported inside a response, a malformed or broken-off response, a
// network error or a timeout. Its text never contains the API key and
// quotes at most a few hundred characters of what the server said.
type Error struct {
	// Status is the HTTP status, or 0 when the failure is not one.
	Status int
	// Message is what the server said, or what went wrong.
	Message string
	// Retryable reports whether the same request may succeed later (rate
	// limits, server errors, network errors, timeouts), so a caller can say
	// "try again" rather than "this cannot work".
	Retryable bool
	// RetryAfter is the wait the server asked for, if it did.
	RetryAfter time.Duration
	// Err is the underlying cause, if any (ErrTimeout, a network error).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("model API: ")
	if e.Status != 0 {
		b.WriteString(strconv.Itoa(e.Status))
		if t := http.StatusText(e.Status); t != "" {
			b.WriteString(" " + t)
		}
		if e.Message != "" {
			b.WriteString(": ")
		}
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the underlying cause, so errors.Is(err, ErrTimeout) works.
func (e *Error) Unwrap() error { return e.Err }

// maxMessageRunes bounds how much of a server's words an Error quotes.
const maxMessageRunes = 300

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

func (c *Client) statusError(resp *http.Response) *Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, min(maxErrorBody, c.opt.MaxResponseBytes)))
	s := resp.StatusCode
	return &Error{
		Status:     s,
		Message:    c.clean(errorMessage(body)),
		Retryable:  retryableStatus(s),
		RetryAfter: backoff.RetryAfter(resp.Header, time.Now()),
	}
}

func retryableStatus(s int) bool {
	return s == http.StatusTooManyRequests || s == http.StatusRequestTimeout || (s >= 500 && s != http.StatusNotImplemented)
}

// clean makes a server's words fit for an error: the API key redacted, one
// line of printable text, truncated.
func (c *Client) clean(s string) string {
	if c.apiKey != "" {
		s = strings.ReplaceAll(s, c.apiKey, "[redacted]")
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxMessageRunes {
		return s
	}
	n := 0
	for i := range s {
		if n == maxMessageRunes {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// errorMessage finds the message in an error body, whichever of the shapes
// OpenAI-compatible servers use: {"error": {"message": ...}} (OpenAI,
// Ollama, llama.cpp), {"error": "..."}, {"message": ...} (older vLLM),
// {"detail": ...} (FastAPI-based proxies), or plain text.
func errorMessage(body []byte) string {
	var w struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &w) != nil {
		return string(body)
	}
	if msg, _, ok := decodeAPIError(w.Error); ok {
		return msg
	}
	if w.Message != "" {
		return w.Message
	}
	if d := bytes.TrimSpace(w.Detail); len(d) > 0 && string(d) != "null" {
		var s string
		if json.Unmarshal(d, &s) == nil {
			return s
		}
		return string(d)
	}
	return string(body)
}

// decodeAPIError reads an "error" member: a string, or an object with a
// message, a type and a code (a number, or a string like
// "context_length_exceeded"). ok is false when the member is absent or null.
// retryable follows the numeric code or OpenAI's "server_error" type.
func decodeAPIError(raw json.RawMessage) (msg string, retryable bool, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "false" {
		return "", false, false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, false, true
	}
	var o struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return string(raw), false, true
	}
	msg = o.Message
	if msg == "" {
		msg = o.Type
	}
	if msg == "" {
		msg = string(raw)
	}
	return msg, o.Type == "server_error" || retryableCode(o.Code), true
}

// retryableCode reports whether an in-body error code is an HTTP status
// worth retrying; servers write it as a number or a numeric string.
func retryableCode(raw json.RawMessage) bool {
	n, err := strconv.Atoi(strings.Trim(string(bytes.TrimSpace(raw)), `"`))
	return err == nil && retryableStatus(n)
}

// capReader fails with errTooLarge once more than max bytes were read.
type capReader struct {
	r    io.Reader
	max  int64
	read int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.read > c.max {
		return 0, errTooLarge
	}
	if left := c.max + 1 - c.read; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.r.Read(p)
	c.read += int64(n)
	if c.read > c.max {
		return n, errTooLarge
	}
	return n, err
}

// endedEarly is the error of a response that stopped before its end.
func endedEarly(what string) *Error {
	return &Error{Message: fmt.Sprintf("the model's %s ended early", what), Retryable: true}
}

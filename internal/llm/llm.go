// Package llm talks to a chat model over the OpenAI chat-completions API,
// the dialect OpenAI, Ollama, vLLM and llama.cpp's server all speak, so
// Lectern can use a hosted model or one running on the reader's machine.
//
// A Client sends one conversation and returns the model's reply, either
// delta by delta as it is generated (Stream) or whole (Complete). It retries
// failures worth retrying as long as no output has reached the caller, bounds
// every wait so a hung server ends in an error rather than a hung reader, and
// keeps the API key out of every error it returns.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lectern/lectern/internal/backoff"
)

// Defaults for the zero fields of Options.
const (
	// DefaultTimeout is generous because a local model on a CPU can spend
	// a minute reading a long prompt before it says anything.
	DefaultTimeout          = 2 * time.Minute
	DefaultIdleTimeout      = 30 * time.Second
	DefaultMaxAttempts      = 3
	DefaultInitialBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff       = 8 * time.Second
	DefaultMaxResponseBytes = 8 << 20
)

// Message is one turn of the conversation sent to the model.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// Request is what the model is asked: the conversation and the sampling
// knobs Lectern uses. Zero values leave the server's defaults in place.
type Request struct {
	Messages []Message
	// MaxTokens caps the reply's length; 0 leaves it to the server.
	MaxTokens int
	// Temperature is a pointer because 0 is a meaningful value.
	Temperature *float64
}

// Usage is the token count the server reports, for accounting and limits.
// It is zero when the server does not report it (older llama.cpp and Ollama
// ignore the request for usage in a stream).
type Usage struct {
	PromptTokens, CompletionTokens, TotalTokens int
}

// Options tune a Client. Zero fields take the Default values.
type Options struct {
	// Timeout bounds each attempt of Complete, from sending the request to
	// the last byte of the answer. For Stream it bounds the wait for the
	// response headers and the first event of the stream.
	Timeout time.Duration
	// IdleTimeout bounds the silence between two events of a stream, so a
	// server that stops mid-answer ends in an error. Comment lines (": ping")
	// do not count as events; time spent in the caller's onDelta does not
	// count as silence. Unset, it is DefaultIdleTimeout or Timeout, whichever
	// is shorter.
	IdleTimeout time.Duration
	// MaxAttempts is how many times a request is sent in all. Failures worth
	// retrying (429, 408, 5xx other than 501, network errors, a response
	// that broke off) are retried only while no delta has reached the
	// caller. Timeouts are not retried, as the caller already waited long;
	// they are still marked Retryable, since a later request may succeed.
	MaxAttempts int
	// InitialBackoff is the wait before the first retry; it doubles for each
	// further one, with jitter, up to MaxBackoff. A server's Retry-After
	// replaces the computed wait, capped by MaxBackoff.
	InitialBackoff, MaxBackoff time.Duration
	// MaxResponseBytes caps the body of a response, the whole stream
	// included, so a misbehaving server cannot exhaust memory.
	MaxResponseBytes int64
	// HTTPClient sends the requests; nil means a plain http.Client. Its own
	// Timeout, if set, also applies to streams, so leave it zero.
	HTTPClient *http.Client
}

// Client talks to one model at one OpenAI-compatible endpoint. It is safe
// for concurrent use.
type Client struct {
	url, model, apiKey string
	opt                Options
	http               *http.Client
}

// New returns a Client for model at baseURL, given the way OpenAI clients
// take it, ending in /v1 (Ollama: http://localhost:11434/v1). apiKey may be
// empty for servers that need none; then no Authorization header is sent.
func New(baseURL, model, apiKey string, opt Options) *Client {
	base := strings.TrimRight(baseURL, "/")
	base = strings.TrimSuffix(base, "/chat/completions")
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.IdleTimeout <= 0 {
		opt.IdleTimeout = min(DefaultIdleTimeout, opt.Timeout)
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = DefaultMaxAttempts
	}
	if opt.InitialBackoff <= 0 {
		opt.InitialBackoff = DefaultInitialBackoff
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = DefaultMaxBackoff
	}
	opt.MaxBackoff = max(opt.MaxBackoff, opt.InitialBackoff)
	if opt.MaxResponseBytes <= 0 {
		opt.MaxResponseBytes = DefaultMaxResponseBytes
	}
	hc := opt.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{url: base + "/chat/completions", model: model, apiKey: apiKey, opt: opt, http: hc}
}

// Stream asks for the reply as a stream ("stream": true, with usage
// requested through stream_options) and calls onDelta, on the caller's
// goroutine, with each piece of content in order. It returns the whole text
// and the usage.
//
// If onDelta returns an error the request is cancelled and Stream returns
// that error. If ctx is cancelled the connection is closed and the error
// wraps ctx.Err(). On any error, text holds what was already passed to
// onDelta, so a caller can keep a partial answer; it is never a success.
func (c *Client) Stream(ctx context.Context, req Request, onDelta func(string) error) (text string, usage Usage, err error) {
	if onDelta == nil {
		onDelta = func(string) error { return nil }
	}
	return c.run(ctx, req, true, onDelta)
}

// Complete asks for the whole reply in one response. Timeout bounds each
// attempt from sending the request to reading the last byte. A server that
// streams anyway is understood.
func (c *Client) Complete(ctx context.Context, req Request) (text string, usage Usage, err error) {
	return c.run(ctx, req, false, func(string) error { return nil })
}

type wireRequest struct {
	Model         string             `json:"model"`
	Messages      []Message          `json:"messages"`
	Stream        bool               `json:"stream"`
	StreamOptions *wireStreamOptions `json:"stream_options,omitempty"`
	MaxTokens     int                `json:"max_tokens,omitempty"`
	Temperature   *float64           `json:"temperature,omitempty"`
}

type wireStreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

func (c *Client) run(ctx context.Context, req Request, stream bool, onDelta func(string) error) (string, Usage, error) {
	wr := wireRequest{Model: c.model, Messages: req.Messages, Stream: stream, MaxTokens: req.MaxTokens, Temperature: req.Temperature}
	if wr.Messages == nil {
		wr.Messages = []Message{}
	}
	if stream {
		wr.StreamOptions = &wireStreamOptions{IncludeUsage: true}
	}
	body, err := json.Marshal(wr)
	if err != nil {
		return "", Usage{}, fmt.Errorf("llm: encoding the request: %w", err)
	}
	for attempt := 1; ; attempt++ {
		text, usage, delivered, err := c.attempt(ctx, body, stream, onDelta)
		if err == nil {
			return text, usage, nil
		}
		var apiErr *Error
		if delivered || attempt >= c.opt.MaxAttempts || !errors.As(err, &apiErr) || !apiErr.Retryable || errors.Is(err, ErrTimeout) {
			return text, usage, err
		}
		if err := backoff.Sleep(ctx, c.backoff(attempt, apiErr.RetryAfter)); err != nil {
			return "", Usage{}, fmt.Errorf("model API: %w", err)
		}
	}
}

// attempt sends the request once. delivered reports whether onDelta was
// called, after which the request must not be retried.
func (c *Client) attempt(ctx context.Context, body []byte, stream bool, onDelta func(string) error) (text string, usage Usage, delivered bool, err error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// One timer serves both limits: it starts with Timeout and, for a
	// stream, is pushed back by IdleTimeout at every event.
	var idle atomic.Bool
	timer := time.AfterFunc(c.opt.Timeout, func() {
		if idle.Load() {
			cancel(&Error{Message: fmt.Sprintf("the model sent nothing for %v", c.opt.IdleTimeout), Retryable: true, Err: ErrTimeout})
		} else {
			cancel(&Error{Message: fmt.Sprintf("no response within %v", c.opt.Timeout), Retryable: true, Err: ErrTimeout})
		}
	})
	defer timer.Stop()

	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return "", Usage{}, false, &Error{Message: c.clean(err.Error()), Err: err}
	}
	hreq.Header.Set("Content-Type", "application/json")
	if stream {
		hreq.Header.Set("Accept", "text/event-stream")
	} else {
		hreq.Header.Set("Accept", "application/json")
	}
	if c.apiKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.apiKey)
	}

	resp, err := c.http.Do(hreq)
	if err != nil {
		return "", Usage{}, false, c.failure(ctx, actx, err, "")
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", Usage{}, false, c.statusError(resp)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/html" {
		return "", Usage{}, false, &Error{Message: "the server answered with a web page, not the model API; check the base URL (it usually ends in /v1)"}
	}

	var onEvent func()
	if stream {
		onEvent = func() {
			idle.Store(true)
			timer.Reset(c.opt.IdleTimeout)
		}
	}
	var deltaErr error
	deliver := func(s string) error {
		delivered = true
		// The time the caller takes is not the model's silence.
		if stream {
			timer.Stop()
			defer timer.Reset(c.opt.IdleTimeout)
		}
		if err := onDelta(s); err != nil {
			deltaErr = err
			return err
		}
		return nil
	}
	text, usage, err = parseStream(&capReader{r: resp.Body, max: c.opt.MaxResponseBytes}, onEvent, deliver)
	switch {
	case err == nil:
		return text, usage, delivered, nil
	case deltaErr != nil:
		cancel(deltaErr)
		return text, usage, true, deltaErr
	}
	what := "response"
	if stream {
		what = "stream"
	}
	return text, usage, delivered, c.failure(ctx, actx, err, what)
}

// failure turns an error met while sending or while reading the response
// (what names it then) into what the caller sees: the caller's own
// cancellation, a timeout, or an *Error.
func (c *Client) failure(ctx, actx context.Context, err error, what string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("model API: %w", ctx.Err())
	}
	if cause := context.Cause(actx); errors.Is(cause, ErrTimeout) {
		return cause
	}
	if errors.Is(err, errTooLarge) {
		return &Error{Message: fmt.Sprintf("the response is larger than %d bytes", c.opt.MaxResponseBytes)}
	}
	var e *Error
	if errors.As(err, &e) {
		e.Message = c.clean(e.Message)
		return e
	}
	msg := err.Error()
	if what != "" {
		msg = "the model's " + what + " ended early: " + msg
	}
	return &Error{Message: c.clean(msg), Retryable: true, Err: err}
}

func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, c.opt.MaxBackoff)
	}
	return backoff.Policy{Initial: c.opt.InitialBackoff, Max: c.opt.MaxBackoff}.Delay(attempt)
}

// Package embeddings is a client for the embeddings endpoint of a server
// speaking OpenAI's protocol (OpenAI, Ollama, llama.cpp, vLLM, LM Studio,
// ...): it turns a book's chunks and a reader's questions into vectors for
// the hybrid search, in batches, with retries, bounded responses and the API
// key kept out of every error.
package embeddings

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/lectern/lectern/internal/backoff"
)

// Defaults for Options; each applies when the field is zero.
const (
	DefaultBatchSize        = 64
	DefaultTimeout          = 60 * time.Second
	DefaultMaxAttempts      = 5
	DefaultInitialBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff       = 20 * time.Second
	DefaultMaxResponseBytes = 64 << 20
)

// Options tunes a Client. The zero value gives the
// defaults above.
type Options struct {
	// BatchSize is the most texts sent in one request.
	BatchSize int
	// Timeout bounds each HTTP attempt, including reading the response.
	Timeout time.Duration
	// MaxAttempts is how many times a batch is tried, the first included,
	// when the server answers 408, 429 or 5xx or the connection fails.
	MaxAttempts int
	// InitialBackoff is the wait before the first retry; each later wait
	// doubles, up to MaxBackoff, and is jittered to between half and all
	// of that.
	InitialBackoff time.Duration
	// MaxBackoff caps the wait between attempts. A server that asks, with
	// Retry-After, for a longer wait than this gets an error at once
	// rather than a caller blocked for minutes.
	MaxBackoff time.Duration
	// MaxResponseBytes caps the size of a response body.
	MaxResponseBytes int64
	// Dimensions, when positive, is sent as "dimensions" for models that
	// can shorten their embeddings.
	Dimensions int
	// HTTPClient sends the requests; nil means a client of its own.
	HTTPClient *http.Client
}

// Client calls the embeddings endpoint of an OpenAI-compatible
// server (OpenAI, Ollama, llama.cpp, vLLM, LM Studio, ...). It is safe
// for concurrent use.
type Client struct {
	endpoint string
	model    string
	apiKey   string
	opt      Options
	client   *http.Client
	// sleep waits between attempts; tests replace it to record waits.
	sleep func(ctx context.Context, d time.Duration) error
}

// New returns a client that posts to baseURL +
// "/embeddings", baseURL being what OpenAI clients take (for Ollama,
// "http://localhost:11434/v1"). An empty apiKey sends no Authorization
// header.
func New(baseURL, model, apiKey string, opt Options) *Client {
	if opt.BatchSize <= 0 {
		opt.BatchSize = DefaultBatchSize
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
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
	if opt.MaxResponseBytes <= 0 {
		opt.MaxResponseBytes = DefaultMaxResponseBytes
	}
	client := opt.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	return &Client{
		endpoint: strings.TrimRight(baseURL, "/") + "/embeddings",
		model:    model,
		apiKey:   apiKey,
		opt:      opt,
		client:   client,
		sleep:    backoff.Sleep,
	}
}

// HTTPError is an embeddings request the server refused.
type HTTPError struct {
	StatusCode int
	// Message is the server's error message, or the start of its body.
	Message string
	// RetryAfter is the wait the server asked for, if any.
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("embeddings server answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// retryable reports whether the same request may succeed later.
func (e *HTTPError) retryable() bool {
	return e.StatusCode == http.StatusRequestTimeout || e.StatusCode == http.StatusTooManyRequests ||
		(e.StatusCode >= 500 && e.StatusCode != http.StatusNotImplemented)
}

// ErrBadResponse marks a response that is not a valid embeddings answer
// (check with errors.Is); such a response is not retried, as the server
// would likely repeat it.
var ErrBadResponse = errors.New("embeddings: malformed embeddings response")

// Embed returns one embedding per text, in the order of texts, sending
// them in batches of BatchSize. It fails if any batch fails.
func (e *Client) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += e.opt.BatchSize {
		batch := texts[start:min(start+e.opt.BatchSize, len(texts))]
		vecs, err := e.embedBatch(ctx, batch)
		if err != nil {
			if len(texts) > len(batch) {
				err = fmt.Errorf("texts %d to %d: %w", start, start+len(batch)-1, err)
			}
			return nil, fmt.Errorf("embeddings: embedding with %q: %w", e.model, err)
		}
		if len(out) > 0 && len(vecs[0]) != len(out[0]) {
			return nil, fmt.Errorf("embeddings: embedding with %q: %w: dimension changed from %d to %d between batches",
				e.model, ErrBadResponse, len(out[0]), len(vecs[0]))
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// embedBatch sends one batch, retrying as the options allow.
func (e *Client) embedBatch(ctx context.Context, batch []string) ([][]float32, error) {
	body, err := json.Marshal(embeddingRequest{Model: e.model, Input: batch, Dimensions: e.opt.Dimensions})
	if err != nil {
		return nil, err
	}
	policy := backoff.Policy{Initial: e.opt.InitialBackoff, Max: e.opt.MaxBackoff}
	for attempt := 1; ; attempt++ {
		vecs, err := e.post(ctx, body, len(batch))
		if err == nil {
			return vecs, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var herr *HTTPError
		isHTTP := errors.As(err, &herr)
		if errors.Is(err, ErrBadResponse) || (isHTTP && !herr.retryable()) {
			return nil, err
		}
		if attempt >= e.opt.MaxAttempts {
			return nil, fmt.Errorf("giving up after %d attempts: %w", attempt, err)
		}
		wait := policy.Delay(attempt)
		if isHTTP && herr.RetryAfter > 0 {
			if herr.RetryAfter > e.opt.MaxBackoff {
				return nil, fmt.Errorf("server asks to retry after %v, longer than the %v allowed: %w",
					herr.RetryAfter, e.opt.MaxBackoff, err)
			}
			wait = herr.RetryAfter
		}
		if err := e.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

type embeddingRequest struct {
	Model      string   `json:"model"`
	Input      []string `json:"input"`
	Dimensions int      `json:"dimensions,omitempty"`
}

type embeddingResponse struct {
	Data []struct {
		Index     *int      `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
}

// post makes one attempt at a batch of n texts.
func (e *Client) post(ctx context.Context, body []byte, n int) ([][]float32, error) {
	ctx, cancel := context.WithTimeout(ctx, e.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if e.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+e.apiKey)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, e.redact(err)
	}
	defer resp.Body.Close()

	if resp.StatusCode/100 != 2 {
		// Only the start of an error body is worth reading.
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, &HTTPError{
			StatusCode: resp.StatusCode,
			Message:    e.redactString(errorMessage(raw)),
			RetryAfter: backoff.RetryAfter(resp.Header, time.Now()),
		}
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, e.opt.MaxResponseBytes+1))
	if err != nil {
		return nil, e.redact(fmt.Errorf("reading response: %w", err))
	}
	if int64(len(raw)) > e.opt.MaxResponseBytes {
		return nil, fmt.Errorf("%w: body larger than %d bytes", ErrBadResponse, e.opt.MaxResponseBytes)
	}
	return decodeEmbeddings(raw, n)
}

// decodeEmbeddings parses a response to a batch of n texts and orders its
// embeddings by their index.
func decodeEmbeddings(raw []byte, n int) ([][]float32, error) {
	var r embeddingResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if len(r.Data) != n {
		return nil, fmt.Errorf("%w: %d embeddings for %d texts", ErrBadResponse, len(r.Data), n)
	}
	out := make([][]float32, n)
	for i, d := range r.Data {
		if d.Index == nil {
			return nil, fmt.Errorf("%w: item %d has no index", ErrBadResponse, i)
		}
		at := *d.Index
		switch {
		case at < 0 || at >= n:
			return nil, fmt.Errorf("%w: index %d out of range for %d texts", ErrBadResponse, at, n)
		case out[at] != nil:
			return nil, fmt.Errorf("%w: index %d repeated", ErrBadResponse, at)
		case len(d.Embedding) == 0:
			return nil, fmt.Errorf("%w: index %d has an empty embedding", ErrBadResponse, at)
		case len(d.Embedding) != len(r.Data[0].Embedding):
			return nil, fmt.Errorf("%w: embeddings of %d and %d dimensions", ErrBadResponse,
				len(r.Data[0].Embedding), len(d.Embedding))
		}
		out[at] = d.Embedding
	}
	return out, nil
}

// errorMessage extracts the message of an error body: OpenAI's
// {"error":{"message":...}}, Ollama's {"error":"..."}, or the text itself.
func errorMessage(raw []byte) string {
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && len(body.Error) > 0 {
		var s string
		if json.Unmarshal(body.Error, &s) == nil {
			return truncate(s)
		}
		var obj struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body.Error, &obj) == nil && obj.Message != "" {
			return truncate(obj.Message)
		}
	}
	return truncate(strings.TrimSpace(string(raw)))
}

// truncate shortens an error message to a readable length.
func truncate(s string) string {
	const limit = 300
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut-- // do not split a UTF-8 sequence
	}
	return s[:cut] + "…"
}

// redact removes the API key from an error, in case a server or proxy
// echoed it into a message.
func (e *Client) redact(err error) error {
	if e.apiKey == "" || !strings.Contains(err.Error(), e.apiKey) {
		return err
	}
	return errors.New(e.redactString(err.Error()))
}

func (e *Client) redactString(s string) string {
	if e.apiKey == "" {
		return s
	}
	return strings.ReplaceAll(s, e.apiKey, "[redacted]")
}

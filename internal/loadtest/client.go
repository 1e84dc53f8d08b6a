package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lectern/lectern/internal/backoff"
)

// maxBody bounds what is read of any response; Lectern's largest, a page of
// 50 messages, is far smaller.
const maxBody = 8 << 20

// newTransport is one connection pool for every reader: a keep-alive
// HTTP/1.1 connection per reader to each host, as readers' browsers each
// have their own, and no proxy, so the figures are the server's and not a
// proxy's.
func newTransport(readers int) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          2 * readers,
		MaxIdleConnsPerHost:   readers,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     false,
	}
}

// outcome is one finished HTTP exchange, successful or not.
type outcome struct {
	status     int
	header     http.Header
	body       []byte
	kind       string        // "" on success, else one of the Kind constants
	retryAfter time.Duration // for 429: how long the server asked to wait
	canceled   bool          // the run was interrupted: not a result at all
	err        error         // what went wrong, for messages
}

// code is the "code" of a Lectern (Better Auth–shaped) error body, if any.
func (o outcome) code() string {
	var e struct {
		Code string `json:"code"`
	}
	json.Unmarshal(o.body, &e)
	return e.Code
}

// describe is a short, safe summary of a failure: the status and error code,
// or the transport error; never a response body.
func (o outcome) describe() string {
	if o.status == 0 {
		if o.err != nil {
			return o.err.Error()
		}
		return o.kind
	}
	s := strconv.Itoa(o.status)
	if c := o.code(); c != "" {
		s += " " + c
	} else if o.err != nil {
		s += ": " + o.err.Error()
	}
	return s
}

// request is what a reader sends.
type request struct {
	method  string
	url     string
	body    any    // marshalled to JSON when not nil
	bearer  string // Authorization: Bearer, when not empty
	cookies []*http.Cookie
	accept  string // the Accept header; "" means application/json
}

// build makes the HTTP request of req, bound to ctx.
func (req request) build(ctx context.Context) (*http.Request, error) {
	var body io.Reader
	if req.body != nil {
		b, err := json.Marshal(req.body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, req.url, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	hr.Header.Set("Accept", cmp(req.accept, "application/json"))
	hr.Header.Set("User-Agent", "lectern-loadtest/1")
	if req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+req.bearer)
	}
	for _, c := range req.cookies {
		hr.AddCookie(c)
	}
	return hr, nil
}

// send performs req within timeout and reads the whole answer, so the
// connection goes back to the pool. A 2xx is success; anything else is
// classified into a Kind.
func send(ctx context.Context, hc *http.Client, req request, timeout time.Duration) outcome {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, o := do(ctx, rctx, hc, req)
	if res == nil {
		return o
	}
	defer res.Body.Close()
	return finish(ctx, res)
}

// do sends req within rctx. When it cannot, the response is nil and the
// outcome says why; ctx is the run's, to tell its end from a failure.
func do(ctx, rctx context.Context, hc *http.Client, req request) (*http.Response, outcome) {
	hr, err := req.build(rctx)
	if err != nil {
		return nil, outcome{kind: KindNetwork, err: err}
	}
	res, err := hc.Do(hr)
	if err != nil {
		return nil, failed(ctx, err)
	}
	return res, outcome{}
}

// finish reads res's body (up to maxBody, discarding the rest so the
// connection goes back to the pool) and classifies the response.
func finish(ctx context.Context, res *http.Response) outcome {
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return failed(ctx, err)
	}
	io.Copy(io.Discard, res.Body)
	return classify(res, b)
}

// classify is the outcome of a response whose body b has been read: a 2xx
// is success; anything else is classified into a Kind.
func classify(res *http.Response, b []byte) outcome {
	o := outcome{status: res.StatusCode, header: res.Header, body: b}
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
	case res.StatusCode == http.StatusTooManyRequests:
		o.kind = KindRateLimited
		o.retryAfter = retryWait(res.Header, time.Now())
	case res.StatusCode == http.StatusUnauthorized:
		o.kind = KindUnauthorized
	case res.StatusCode >= 500:
		o.kind = Kind5xx
	default:
		o.kind = Kind4xx
	}
	return o
}

// Bounds on an event stream: one line of it (an event's data comes on one
// line), and the data of one event.
const (
	maxSSELine = 1 << 20
	maxSSEData = maxBody
)

// sendStream performs req, which asks for Server-Sent Events, within
// timeout (the whole stream included), and calls onEvent with each event's
// name ("message" when it has none) and data (its data lines joined by
// newlines; an event without data is skipped, as browsers do) until
// onEvent returns true: the stream's last event, after which the rest of
// the stream is read (briefly) so the connection goes back to the pool.
//
// It returns success when onEvent said the stream was over. A non-2xx
// answer is classified as send does (its body read, e.g. for a 429's
// code); a 2xx that is not text/event-stream, or a line or an event beyond
// the bounds, is a bad response; a stream that ends (or breaks) before
// onEvent said it was over is KindStreamTruncated; running out of time is
// a timeout, and the run's own cancellation no result.
func sendStream(ctx context.Context, hc *http.Client, req request, timeout time.Duration, onEvent func(event string, data []byte) (last bool)) outcome {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req.accept = "text/event-stream"
	res, o := do(ctx, rctx, hc, req)
	if res == nil {
		return o
	}
	defer res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode >= 300 {
		return finish(ctx, res)
	}
	o = outcome{status: res.StatusCode, header: res.Header}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "text/event-stream" {
		o.kind, o.err = KindBadResponse, fmt.Errorf("not an event stream: Content-Type %q", res.Header.Get("Content-Type"))
		return o
	}

	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 0, 16<<10), maxSSELine)
	event, data, hasData := "", []byte(nil), false
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 { // the end of an event
			if hasData {
				if onEvent(cmp(event, "message"), data) {
					// Whatever follows is not awaited for long.
					t := time.AfterFunc(time.Second, cancel)
					io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
					t.Stop()
					return o
				}
			}
			event, data, hasData = "", data[:0], false
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			event = string(value)
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			if len(data)+len(value) > maxSSEData {
				o.kind, o.err = KindBadResponse, fmt.Errorf("an event's data is longer than %d bytes", maxSSEData)
				return o
			}
			data, hasData = append(data, value...), true
		}
		// Comments (":..."), id, retry and unknown fields are ignored.
	}
	err := sc.Err()
	switch {
	case ctx.Err() != nil:
		return outcome{canceled: true, err: ctx.Err()}
	case rctx.Err() != nil:
		o.kind, o.err = KindTimeout, fmt.Errorf("the stream did not end within %s", timeout)
	case errors.Is(err, bufio.ErrTooLong):
		o.kind, o.err = KindBadResponse, fmt.Errorf("a line of the stream is longer than %d bytes", maxSSELine)
	case err != nil:
		o.kind, o.err = KindStreamTruncated, fmt.Errorf("the stream broke before its last event: %w", err)
	default:
		o.kind, o.err = KindStreamTruncated, errors.New("the stream ended before its last event")
	}
	return o
}

// failed classifies a transport error: the run's own cancellation is no
// result; a deadline is a timeout; anything else a network failure.
func failed(ctx context.Context, err error) outcome {
	if ctx.Err() != nil {
		return outcome{canceled: true, err: err}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return outcome{kind: KindTimeout, err: err}
	}
	return outcome{kind: KindNetwork, err: err}
}

// defaultRetryAfter is the wait after a 429 that does not say how long.
const defaultRetryAfter = time.Second

// retryWait is how long a reader waits after a 429: what its Retry-After
// says (seconds or a date; none when it is 0 or past), or defaultRetryAfter
// when it is missing or unreadable.
func retryWait(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if _, err := strconv.Atoi(v); err != nil {
		if _, err := http.ParseTime(v); err != nil {
			return defaultRetryAfter
		}
	}
	return backoff.RetryAfter(h, now)
}

// jwtLifetime reads iat and exp from a JWT's payload, without verifying
// it: the tool only needs to know when to fetch a new one. The lifetime is
// exp - iat, so the client's clock need not agree with the server's.
func jwtLifetime(token string) (time.Duration, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0, errors.New("not a JWT: want three dot-separated parts")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return 0, fmt.Errorf("JWT payload: %w", err)
	}
	var claims struct {
		IssuedAt *int64 `json:"iat"`
		Expires  *int64 `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		return 0, fmt.Errorf("JWT payload: %w", err)
	}
	if claims.Expires == nil {
		return 0, errors.New("JWT has no exp claim")
	}
	var life time.Duration
	if claims.IssuedAt != nil {
		life = time.Duration(*claims.Expires-*claims.IssuedAt) * time.Second
	} else {
		life = time.Until(time.Unix(*claims.Expires, 0))
	}
	if life <= 0 {
		return 0, errors.New("JWT is already expired")
	}
	return life, nil
}

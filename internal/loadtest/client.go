package loadtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
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
}

// send performs req within timeout and reads the whole answer, so the
// connection goes back to the pool. A 2xx is success; anything else is
// classified into a Kind.
func send(ctx context.Context, hc *http.Client, req request, timeout time.Duration) outcome {
	var body io.Reader
	if req.body != nil {
		b, err := json.Marshal(req.body)
		if err != nil {
			return outcome{kind: KindNetwork, err: fmt.Errorf("encode request: %w", err)}
		}
		body = bytes.NewReader(b)
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(rctx, req.method, req.url, body)
	if err != nil {
		return outcome{kind: KindNetwork, err: fmt.Errorf("build request: %w", err)}
	}
	hr.Header.Set("Accept", "application/json")
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
	res, err := hc.Do(hr)
	if err != nil {
		return failed(ctx, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return failed(ctx, err)
	}
	io.Copy(io.Discard, res.Body)
	o := outcome{status: res.StatusCode, header: res.Header, body: b}
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
	case res.StatusCode == http.StatusTooManyRequests:
		o.kind = KindRateLimited
		o.retryAfter = parseRetryAfter(res.Header.Get("Retry-After"), time.Now())
	case res.StatusCode == http.StatusUnauthorized:
		o.kind = KindUnauthorized
	case res.StatusCode >= 500:
		o.kind = Kind5xx
	default:
		o.kind = Kind4xx
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

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return defaultRetryAfter
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(n, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return defaultRetryAfter
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

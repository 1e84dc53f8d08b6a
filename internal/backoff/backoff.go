// Package backoff is how every outbound HTTP client of Lectern (the model
// and embeddings clients, the remote JWKS cache, the load generator) waits
// before trying again: exponential delays with jitter, the server's own
// Retry-After when it names one, and sleeps that end with their context.
package backoff

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy is an exponential backoff: the first retry waits about Initial,
// each later one twice as long, up to Max.
type Policy struct {
	Initial, Max time.Duration
}

// Delay returns the wait before retry number n (1 for the first): Initial
// doubled n-1 times, at most Max, then jittered to between half and all of
// that, so that clients that failed together do not retry together.
func (p Policy) Delay(n int) time.Duration {
	d := p.Initial
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// longest bounds what RetryAfter returns, whatever a server says.
const longest = 24 * time.Hour

// RetryAfter returns how long a response asks its client to wait before
// trying again: OpenAI's Retry-After-Ms, or the standard Retry-After in
// seconds or as an HTTP date (relative to now). It is 0 when the response
// names no wait, or one that cannot be read or is already past, and at
// most a day.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return min(time.Duration(min(ms, float64(longest/time.Millisecond))*float64(time.Millisecond)), longest)
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(longest/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), longest)
	}
	return 0
}

// Sleep waits for d, or until ctx is done and then returns its error.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/fault"
)

// TestWriteErrorKinds checks the one mapping from fault kinds to
// responses: the status, the Retry-After of outages and limits, and a body
// that says what the service chose to say, or the kind's generic words,
// never the cause.
func TestWriteErrorKinds(t *testing.T) {
	outage := fault.Sentinel(fault.Unavailable, "store: database unavailable")
	missing := fault.Sentinel(fault.NotFound, "store: not found")
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter string
		code, msg  string
	}{
		{"an outage deep in the chain is a 503 to retry",
			fmt.Errorf("look up session: %w", fmt.Errorf("postgres: session: %w: dial tcp 127.0.0.1:5432: connect: connection refused", outage)),
			503, "5", "SERVICE_UNAVAILABLE", "Service temporarily unavailable; please retry"},
		{"an error of no kind is a bug: 500, not an outage",
			fmt.Errorf("list conversations: %w", errors.New(`pq: syntax error at or near "FORM"`)),
			500, "", "INTERNAL_SERVER_ERROR", "Internal server error"},
		{"a store's not-found says nothing of the store",
			fmt.Errorf("get: %w", missing), 404, "", "NOT_FOUND", "Not found"},
		{"a service error's own words",
			fault.New(fault.Invalid, "VALIDATION_ERROR", "title: required"), 400, "", "VALIDATION_ERROR", "title: required"},
		{"a limit with its wait, rounded up",
			fmt.Errorf("run: %w", &fault.Error{Kind: fault.Limited, Code: "RATE_LIMITED", Message: "Too many questions", RetryAfter: 1500 * time.Millisecond}),
			429, "2", "RATE_LIMITED", "Too many questions"},
		{"an outage naming its own wait",
			&fault.Error{Kind: fault.Unavailable, Code: "NOT_READY", Message: "The book is not loaded", RetryAfter: time.Minute},
			503, "60", "NOT_READY", "The book is not loaded"},
		{"an explicit HTTP error wins over the kind of its cause",
			&Error{Status: 422, Code: "USER_ALREADY_EXISTS", Message: "User already exists", Err: missing},
			422, "", "USER_ALREADY_EXISTS", "User already exists"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			WriteError(w, httptest.NewRequest("GET", "/api/x", nil), tc.err)
			if w.Code != tc.status || w.Header().Get("Retry-After") != tc.retryAfter {
				t.Fatalf("%d, Retry-After %q; want %d, %q", w.Code, w.Header().Get("Retry-After"), tc.status, tc.retryAfter)
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if len(body) != 2 || body["code"] != tc.code || body["message"] != tc.msg {
				t.Errorf("body %s; want code %q, message %q", w.Body, tc.code, tc.msg)
			}
		})
	}
}

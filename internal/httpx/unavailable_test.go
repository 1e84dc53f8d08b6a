package httpx

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/lectern/lectern/internal/store"
)

// TestWriteErrorDatabaseUnavailable checks that any error wrapping
// store.ErrUnavailable is answered 503 with Retry-After and a plain body,
// whatever handler returned it.
func TestWriteErrorDatabaseUnavailable(t *testing.T) {
	err := fmt.Errorf("look up session: %w", fmt.Errorf("postgres: session: %w: dial tcp 127.0.0.1:5432: connect: connection refused", store.ErrUnavailable))
	w := httptest.NewRecorder()
	WriteError(w, httptest.NewRequest("GET", "/api/auth/get-session", nil), err)
	if w.Code != 503 || w.Header().Get("Retry-After") != RetryAfterUnavailable {
		t.Fatalf("%d, Retry-After %q; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body) != 2 || body["code"] != "SERVICE_UNAVAILABLE" || body["message"] != "Service temporarily unavailable; please retry" {
		t.Errorf("body %s", w.Body)
	}
}

package httpx

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	c := ClientIP{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	for _, tc := range []struct {
		name, remote, xff, want string
	}{
		{"an untrusted peer is the client whatever it forwards", "203.0.113.5:1234", "1.2.3.4", "203.0.113.5"},
		{"a trusted proxy's forwarded client is believed", "10.0.0.2:80", "198.51.100.7", "198.51.100.7"},
		{"the right-most untrusted hop wins over spoofed left entries", "10.0.0.2:80", "6.6.6.6, 198.51.100.7, 10.0.0.3", "198.51.100.7"},
		{"a trusted proxy without the header is the client", "10.0.0.2:80", "", "10.0.0.2"},
		{"garbage in the header falls back to the peer", "10.0.0.2:80", "not-an-ip", "10.0.0.2"},
		{"IPv4-mapped IPv6 peers are unmapped", "[::ffff:203.0.113.9]:1", "", "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := c.Of(r).String(); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestErrorsReachTheClientWithoutInternals(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := Chain(Handle(func(w http.ResponseWriter, r *http.Request) error {
		switch r.URL.Path {
		case "/internal":
			return errors.New("pq: password authentication failed for user admin")
		case "/client":
			return &Error{Status: 409, Code: "CONFLICT", Message: "Already there", Err: errors.New("unique violation"), Header: http.Header{"Retry-After": {"3"}}}
		case "/panic":
			panic("boom at secret place")
		}
		return nil
	}), RequestID(log), AccessLog(), Recover(), SecurityHeaders(false))

	for _, tc := range []struct {
		path, wantBody string
		status         int
	}{
		{"/internal", `{"message":"Internal server error","code":"INTERNAL_SERVER_ERROR"}`, 500},
		{"/client", `{"message":"Already there","code":"CONFLICT"}`, 409},
		{"/panic", `{"message":"Internal server error","code":"INTERNAL_SERVER_ERROR"}`, 500},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", tc.path, nil))
			if w.Code != tc.status || w.Body.String() != tc.wantBody {
				t.Fatalf("got %d %s", w.Code, w.Body)
			}
			if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("X-Request-Id") == "" {
				t.Errorf("headers: %v", w.Header())
			}
		})
	}
	if !strings.Contains(logs.String(), "pq: password authentication failed") || !strings.Contains(logs.String(), "boom at secret place") {
		t.Errorf("causes missing from the log:\n%s", logs.String())
	}
}

func TestRequestIDKeepsOnlyPlainIncomingIDs(t *testing.T) {
	h := RequestID(slog.New(slog.DiscardHandler))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for in, keep := range map[string]bool{"abc-123_x.y": true, "bad\nid": false, strings.Repeat("a", 65): false, "": false} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Request-Id", in)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Header().Get("X-Request-Id"); (got == in) != keep || got == "" {
			t.Errorf("incoming %q: response id %q", in, got)
		}
	}
}

func TestLimitBodyRefusesDeclaredOversizeBodies(t *testing.T) {
	h := LimitBody(10)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 11))))
	if w.Code != 413 {
		t.Fatalf("got %d", w.Code)
	}
}

func TestCORS(t *testing.T) {
	var refused []string
	h := CORS([]string{"https://book.example"}, func(origin string) { refused = append(refused, origin) })(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	for _, tc := range []struct {
		name, method, origin string
		preflight            bool
		status               int
		allowOrigin          string
		refused              bool // told to the refused callback
	}{
		{"a listed origin gets its exact origin and credentials", "GET", "https://book.example", false, 200, "https://book.example", false},
		{"a listed origin's preflight is answered", "OPTIONS", "https://book.example", true, 204, "https://book.example", false},
		{"an unlisted origin gets no CORS headers", "GET", "https://evil.example", false, 200, "", true},
		{"an unlisted origin's preflight is refused", "OPTIONS", "https://evil.example", true, 403, "", true},
		{"a look-alike origin is not listed", "GET", "https://book.example.evil.test", false, 200, "", true},
		{"no Origin is a same-origin or non-browser request", "GET", "", false, 200, "", false},
		{"the server's own origin needs no CORS and is not refused", "POST", "http://example.com", false, 200, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused = nil
			r := httptest.NewRequest(tc.method, "/api/x", nil)
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.preflight {
				r.Header.Set("Access-Control-Request-Method", "POST")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status || w.Header().Get("Access-Control-Allow-Origin") != tc.allowOrigin {
				t.Fatalf("got %d ACAO %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
			}
			if got := w.Header().Get("Access-Control-Allow-Credentials"); (got == "true") != (tc.allowOrigin != "") {
				t.Errorf("credentials %q", got)
			}
			if (len(refused) == 1 && refused[0] == tc.origin) != tc.refused {
				t.Errorf("refused %q", refused)
			}
		})
	}
}

func TestAccessLogPassesEachRequestToItsObservers(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	mux.HandleFunc("GET /quiet", func(http.ResponseWriter, *http.Request) {})
	var got []RequestStats
	h := Chain(mux, RequestID(slog.New(slog.DiscardHandler)), AccessLog(func(s RequestStats) { got = append(got, s) }))

	for _, tc := range []struct {
		name, method, path string
		want               RequestStats
	}{
		{"the route is the pattern, not the path", "GET", "/items/secret-42", RequestStats{Method: "GET", Route: "GET /items/{id}", Status: http.StatusTeapot}},
		{"a handler that writes nothing answered 200", "GET", "/quiet", RequestStats{Method: "GET", Route: "GET /quiet", Status: http.StatusOK}},
		{"a request no route matched is unmatched", "GET", "/nowhere", RequestStats{Method: "GET", Route: "unmatched", Status: http.StatusNotFound}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got = nil
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.path, nil))
			if len(got) != 1 {
				t.Fatalf("observed %d requests, want 1", len(got))
			}
			s := got[0]
			if s.Method != tc.want.Method || s.Route != tc.want.Route || s.Status != tc.want.Status {
				t.Errorf("observed %+v, want %+v", s, tc.want)
			}
		})
	}
}

package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lectern/lectern/books"
	"github.com/lectern/lectern/internal/insights"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/retrieval"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/testdb"
	"github.com/lectern/lectern/internal/web"
)

// TestInsightsPage serves the owners' page over a real store: the session
// cookie says who asks; an owner sees what readers asked, without their
// names; anyone else is sent to sign in or finds no such page.
func TestInsightsPage(t *testing.T) {
	ctx := context.Background()
	st := testdb.Engines()[0].Open(t)
	lib := library.New(st, library.Options{})
	if _, err := lib.Ingest(ctx, library.Source{FS: books.Demo(), Name: books.DemoName}, library.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	user := func(name, email string) (store.User, string) {
		t.Helper()
		u := store.User{ID: randid.New(), Name: name, Email: email, Role: "user", CreatedAt: now, UpdatedAt: now}
		if err := st.CreateUser(ctx, u, store.Account{ID: randid.New(), AccountID: u.ID, ProviderID: "credential", UserID: u.ID,
			PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		token := randid.New()
		h := sha256.Sum256([]byte(token))
		if err := st.CreateSession(ctx, store.Session{ID: randid.New(), TokenHash: h[:], UserID: u.ID, ExpiresAt: now.Add(time.Hour),
			CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		return u, token + ".c2lnbmF0dXJl" // as the identity service signs it; the signature is not checked here
	}
	_, ownerCookie := user("The Author", "owner@example.com")
	reader, readerCookie := user("Ada Lovelace", "ada@example.com")

	const asked = "How long should sourdough rise?"
	c := store.Conversation{ID: randid.New(), UserID: reader.ID, Title: "Bread", CreatedAt: now, UpdatedAt: now}
	q, err := st.StartConversation(ctx, c, store.Message{ID: randid.New(), Role: store.RoleUser, Content: asked, Page: "/docs/foundations/leap-seconds", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendMessage(ctx, store.Message{ID: randid.New(), ConversationID: c.ID, UserID: reader.ID, Role: store.RoleAssistant,
		Content: "I couldn't find this in the book.", AgentType: "rag", ParentID: q.ID, NotCovered: true, CreatedAt: now.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}

	owners := insights.New(st, insights.Options{AdminEmails: []string{"owner@example.com"}, Analyze: retrieval.Analyze})
	srv := httptest.NewServer(web.New(lib, slog.New(slog.DiscardHandler), web.Options{Insights: owners, Sessions: st}).Handler())
	t.Cleanup(srv.Close)
	off := httptest.NewServer(web.New(lib, slog.New(slog.DiscardHandler), web.Options{}).Handler())
	t.Cleanup(off.Close)

	for _, tc := range []struct {
		name, cookie, path string
		srv                *httptest.Server
		status             int
		want               string // in the body, or the Location of a redirect
	}{
		{"a visitor is sent to sign in", "", "/insights?from=2026-01-01", srv, 303, "/login?next=%2Finsights%3Ffrom%3D2026-01-01"},
		{"a session that does not exist is no session", "better-auth.session_token=nope.sig", "/insights", srv, 303, "/login"},
		{"a reader finds no such page", "better-auth.session_token=" + readerCookie, "/insights", srv, 404, "Page not found"},
		{"nor its downloads", "better-auth.session_token=" + readerCookie, "/insights/not-covered.csv", srv, 404, "Page not found"},
		{"the owner sees the question", "better-auth.session_token=" + ownerCookie, "/insights", srv, 200, asked},
		{"over HTTPS too", "__Secure-better-auth.session_token=" + ownerCookie, "/insights", srv, 200, asked},
		{"dates that cannot be read", "better-auth.session_token=" + ownerCookie, "/insights?from=2026-02-30", srv, 400, "from: must be a date"},
		{"the CSV", "better-auth.session_token=" + ownerCookie, "/insights/not-covered.csv", srv, 200, asked},
		{"the JSON", "better-auth.session_token=" + ownerCookie, "/insights/volume.json", srv, 200, `"questions":1`},
		{"a table there is not", "better-auth.session_token=" + ownerCookie, "/insights/readers.csv", srv, 404, "Page not found"},
		{"a format there is not", "better-auth.session_token=" + ownerCookie, "/insights/volume.xml", srv, 404, "Page not found"},
		{"with insights off, nobody", "better-auth.session_token=" + ownerCookie, "/insights", off, 404, "Page not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tc.srv.URL+tc.path, nil)
			if tc.cookie != "" {
				req.Header.Set("Cookie", tc.cookie)
			}
			res, body := do(t, req)
			if res.StatusCode != tc.status {
				t.Fatalf("%s: %d, want %d\n%s", tc.path, res.StatusCode, tc.status, body)
			}
			got := body
			if tc.status == 303 {
				got = res.Header.Get("Location")
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("%s: want %q in\n%s", tc.path, tc.want, got)
			}
			for _, id := range []string{reader.ID, reader.Name, reader.Email} {
				if strings.Contains(body, id) {
					t.Errorf("%s names the reader (%s)", tc.path, id)
				}
			}
			if tc.status == 200 && !strings.Contains(res.Header.Get("Cache-Control"), "no-store") {
				t.Errorf("%s may be cached: %q", tc.path, res.Header.Get("Cache-Control"))
			}
		})
	}

	req, _ := http.NewRequest("GET", srv.URL+"/insights/volume.json", nil)
	req.Header.Set("Cookie", "better-auth.session_token="+ownerCookie)
	res, body := do(t, req)
	var v insights.VolumeReport
	if err := json.Unmarshal([]byte(body), &v); err != nil || len(v.Days) != 1 || v.Days[0].Readers != 1 ||
		!strings.Contains(res.Header.Get("Content-Disposition"), `filename="volume.json"`) {
		t.Errorf("the JSON download: %v %q %s", err, res.Header.Get("Content-Disposition"), body)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/insights", nil)
	req.Header.Set("Cookie", "better-auth.session_token="+ownerCookie)
	if res, _ := do(t, req); !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("the owners' page has no strict CSP: %q", res.Header.Get("Content-Security-Policy"))
	}

	// The page shows the top of its long lists and leaves the rest to the
	// downloads: 52 more questions not covered, each its own group, and
	// 52 answers rated down.
	for i := range 52 {
		at := now.Add(time.Duration(i+2) * time.Second)
		word := func(n int) string { return string(rune('a'+n%26)) + string(rune('a'+n/26%26)) + "zorbel" }
		c := store.Conversation{ID: randid.New(), UserID: reader.ID, Title: "More", CreatedAt: at, UpdatedAt: at}
		q, err := st.StartConversation(ctx, c, store.Message{ID: randid.New(), Role: store.RoleUser,
			Content: word(2*i) + " " + word(2*i+1) + "?", CreatedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		a, err := st.AppendMessage(ctx, store.Message{ID: randid.New(), ConversationID: c.ID, UserID: reader.ID, Role: store.RoleAssistant,
			Content: "I couldn't find this in the book.", AgentType: "rag", ParentID: q.ID, NotCovered: true, CreatedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SetFeedback(ctx, store.Feedback{MessageID: a.ID, UserID: reader.ID, Rating: "down", CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	_, page := do(t, req)
	groups := page[strings.Index(page, `id="not-covered-heading"`):strings.Index(page, `id="pages-heading"`)]
	if n := strings.Count(groups, "<tr>") - 1; n != 50 || !strings.Contains(groups, "3 more groups are in the downloads") {
		t.Errorf("the page shows %d groups not covered, want 50 and a word on the other 3:\n%s", n, groups)
	}
	if n := strings.Count(page, `<article class="rated">`); n != 50 || !strings.Contains(page, "2 more answers are in the downloads") {
		t.Errorf("the page shows %d answers rated down, want 50 and a word on the other 2", n)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/insights/not-covered.json", nil)
	req.Header.Set("Cookie", "better-auth.session_token="+ownerCookie)
	_, body = do(t, req)
	var nc struct {
		Groups []json.RawMessage `json:"groups"`
	}
	if err := json.Unmarshal([]byte(body), &nc); err != nil || len(nc.Groups) != 53 {
		t.Errorf("the download holds %d groups (%v), want all 53", len(nc.Groups), err)
	}
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, res.Body); err != nil {
		t.Fatal(err)
	}
	return res, b.String()
}

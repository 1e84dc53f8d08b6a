package web_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lectern/lectern/books"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/store/testdb"
	"github.com/lectern/lectern/internal/web"
)

// demoReader serves the bundled demo book over real HTTP.
func demoReader(t *testing.T) (*httptest.Server, *library.Library) {
	t.Helper()
	lib := library.New(testdb.Engines()[0].Open(t), library.Options{})
	if _, err := lib.Ingest(context.Background(), library.Source{FS: books.Demo(), Name: books.DemoName}, library.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(lib, slog.New(slog.DiscardHandler), web.Options{}).Handler())
	t.Cleanup(srv.Close)
	return srv, lib
}

func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestEveryCitationLandsOnItsHeading walks every section of the demo book:
// the link a citation of that section carries must open a page of the
// reader that has the anchor.
func TestEveryCitationLandsOnItsHeading(t *testing.T) {
	srv, lib := demoReader(t)
	pages := map[string]string{}
	n := 0
	for _, p := range lib.Pages() {
		for _, s := range p.Sections {
			u, err := url.Parse(p.SectionURL(s))
			if err != nil {
				t.Fatal(err)
			}
			body, ok := pages[u.Path]
			if !ok {
				res, b := get(t, srv, u.Path)
				if res.StatusCode != 200 {
					t.Fatalf("%s: %d", u.Path, res.StatusCode)
				}
				body, pages[u.Path] = b, b
			}
			if s.Anchor != "" && !strings.Contains(body, `id="`+s.Anchor+`"`) {
				t.Errorf("%s: no element with id %q", u.Path, s.Anchor)
			}
			n++
		}
	}
	if n < 50 {
		t.Fatalf("only %d sections in the demo book", n)
	}
	ctx := context.Background()
	for _, q := range []string{"leap second", "daylight saving", "unix time", "time zone database", "monotonic clock", "cron"} {
		res, err := lib.Search(ctx, library.Query{Text: q, K: 5})
		if err != nil || !res.Covered {
			t.Fatalf("%q: %v %v", q, res.Covered, err)
		}
		for _, h := range res.Hits {
			u, _ := url.Parse(h.URL)
			if body, ok := pages[u.Path]; !ok || (u.Fragment != "" && !strings.Contains(body, `id="`+u.Fragment+`"`)) {
				t.Errorf("search hit %s does not resolve", h.URL)
			}
		}
	}
}

func TestPages(t *testing.T) {
	srv, lib := demoReader(t)
	first := lib.Pages()[0]
	second := lib.Pages()[1]
	for _, tc := range []struct {
		name, path string
		status     int
		contains   []string
	}{
		{"the home page lists the contents", "/", 200, []string{"<h1>" + lib.Title() + "</h1>", `href="` + first.URL + `"`, lib.Contents()[len(lib.Contents())-1].Label}},
		{"a page has its title, the sidebar and previous/next links", second.URL, 200,
			[]string{"<title>" + second.Title + " · " + lib.Title() + "</title>", `aria-current="page"`, `rel="prev" href="` + first.URL + `"`, `rel="next"`}},
		{"an unknown page is a 404 page", "/docs/no/such/page", 404, []string{"Page not found"}},
		{"the search page finds sections", "/search?q=leap+second", 200, []string{"<ol>", "#"}},
		{"the search page says when nothing matches", "/search?q=zzzz+qqqq", 200, []string{"Nothing in the book matches"}},
		{"the style sheet is served", "/static/reader.css", 200, []string{"prefers-color-scheme: dark"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := get(t, srv, tc.path)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d", res.StatusCode)
			}
			for _, c := range tc.contains {
				if !strings.Contains(body, c) {
					t.Errorf("no %q in\n%s", c, body)
				}
			}
			if strings.HasSuffix(res.Header.Get("Content-Type"), "html; charset=utf-8") {
				csp := res.Header.Get("Content-Security-Policy")
				if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") ||
					!strings.Contains(csp, "img-src 'self';") {
					t.Errorf("CSP %q", csp)
				}
				if strings.Contains(body, "<script>") || strings.Contains(body, "style=") {
					t.Error("inline script or style in a page")
				}
			}
		})
	}
	t.Run("a page has one URL: a trailing slash redirects", func(t *testing.T) {
		res, _ := get(t, srv, second.URL+"/")
		if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != second.URL {
			t.Errorf("%d %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
}

func TestBookAPI(t *testing.T) {
	srv, lib := demoReader(t)
	t.Run("GET /api/book lists the contents and the pages", func(t *testing.T) {
		res, body := get(t, srv, "/api/book")
		var out struct {
			Title string
			TOC   []map[string]any
			Pages []struct {
				DocPath string `json:"doc_path"`
				URL     string
			}
		}
		if res.StatusCode != 200 || json.Unmarshal([]byte(body), &out) != nil {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		if out.Title != lib.Title() || len(out.Pages) != len(lib.Pages()) || len(out.TOC) == 0 || out.Pages[0].URL == "" {
			t.Errorf("%+v", out)
		}
	})
	t.Run("GET /api/search answers hits with links to headings", func(t *testing.T) {
		res, body := get(t, srv, "/api/search?q="+url.QueryEscape("how is a leap second inserted")+"&k=2")
		var out struct {
			Covered bool
			Hits    []struct {
				DocPath, Slug, Title, Heading, URL, Snippet string
				Score                                       float64
			}
		}
		if res.StatusCode != 200 || json.Unmarshal([]byte(body), &out) != nil {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		if !out.Covered || len(out.Hits) != 2 || !strings.Contains(out.Hits[0].URL, "#") || out.Hits[0].Snippet == "" || out.Hits[0].Score <= 0 {
			t.Errorf("%s", body)
		}
	})
	for _, tc := range []struct{ name, query string }{
		{"no query", ""},
		{"an empty query", "q=%20"},
		{"k out of range", "q=time&k=11"},
		{"k not a number", "q=time&k=x"},
		{"a query over 1000 bytes", "q=" + strings.Repeat("a", 1001)},
	} {
		t.Run("GET /api/search refuses "+tc.name, func(t *testing.T) {
			res, body := get(t, srv, "/api/search?"+tc.query)
			if res.StatusCode != 400 || !strings.Contains(body, `"code":"VALIDATION_ERROR"`) {
				t.Errorf("%d %s", res.StatusCode, body)
			}
		})
	}
}

// TestBookImagesAreServedFromTheStore ingests a folder with images, removes
// the folder, and reads the page and its images from a reader over the
// same store: each image is served with its type, a year's caching, an
// inert policy and revalidation by ETag; other names are 404s.
func TestBookImagesAreServedFromTheStore(t *testing.T) {
	dir := t.TempDir()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4" onload="alert(1)"><rect width="4" height="4"/></svg>`)
	for name, data := range map[string][]byte{
		"intro.md":    []byte("# Pictures\n\n![A dot](img/dot.png) and ![A square](img/square.svg)\n"),
		"img/dot.png": png, "img/square.svg": svg,
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st := testdb.Engines()[0].Open(t)
	if _, err := library.New(st, library.Options{}).Ingest(context.Background(), library.Source{Path: dir}, library.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	lib := library.New(st, library.Options{})
	if err := lib.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(lib, slog.New(slog.DiscardHandler), web.Options{}).Handler())
	t.Cleanup(srv.Close)

	_, page := get(t, srv, "/docs/intro")
	srcs := regexp.MustCompile(`<img src="(/assets/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(srcs) != 2 {
		t.Fatalf("%d images on the page:\n%s", len(srcs), page)
	}
	for i, want := range []string{"image/png", "image/svg+xml"} {
		res, body := get(t, srv, srcs[i][1])
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != want {
			t.Errorf("%s: %d %s", srcs[i][1], res.StatusCode, res.Header.Get("Content-Type"))
		}
		if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", srcs[i][1], cc)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", srcs[i][1], csp)
		}
		if want == "image/png" && body != string(png) {
			t.Errorf("the PNG came back changed")
		}
		if want == "image/svg+xml" && (strings.Contains(body, "onload") || !strings.Contains(body, "<rect")) {
			t.Errorf("the SVG is not the sanitized one: %s", body)
		}
		req, _ := http.NewRequest("GET", srv.URL+srcs[i][1], nil)
		req.Header.Set("If-None-Match", res.Header.Get("ETag"))
		again, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		again.Body.Close()
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", srcs[i][1], again.StatusCode)
		}
	}
	for _, path := range []string{"/assets/00000000000000000000000000000000.png", "/assets/..%2fintro.md", "/assets/x.exe"} {
		if res, _ := get(t, srv, path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, res.StatusCode)
		}
	}
}

// TestSignInReturnsToTheSiteThatSentTheReader checks where the account
// pages send a reader after signing in: a local path; a page of a site
// that shows the widget, in full; anything else home.
func TestSignInReturnsToTheSiteThatSentTheReader(t *testing.T) {
	lib := library.New(testdb.Engines()[0].Open(t), library.Options{})
	if _, err := lib.Ingest(context.Background(), library.Source{FS: books.Demo(), Name: books.DemoName}, library.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(lib, slog.New(slog.DiscardHandler), web.Options{ReturnOrigins: []string{"https://site.example"}}).Handler())
	t.Cleanup(srv.Close)
	for _, tc := range []struct{ next, want string }{
		{"/docs/intro#a", "/docs/intro#a"},
		{"https://site.example/docs/guide?x=1#part", "https://site.example/docs/guide?x=1#part"},
		{"https://evil.example/docs/guide", "/"},
		{"https://site.example.evil.test/", "/"},
		{"https://user@site.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"//evil.example/x", "/"},
		{"https://site.example/\\\\evil", "/"},
	} {
		for _, page := range []string{"/login", "/signup"} {
			_, body := get(t, srv, page+"?next="+url.QueryEscape(tc.next))
			m := regexp.MustCompile(`data-next="([^"]*)"`).FindStringSubmatch(body)
			if m == nil || html.UnescapeString(m[1]) != tc.want {
				t.Errorf("%s?next=%s: data-next %q, want %q", page, tc.next, m, tc.want)
			}
		}
	}
}

// TestStaticFilesAreVersioned checks that pages name their scripts and
// styles under this build's version, served for good, that an earlier
// version still gets today's files, revalidated, and that widget.js, whose
// URL other sites keep, points at the versioned files.
func TestStaticFilesAreVersioned(t *testing.T) {
	srv, _ := demoReader(t)
	_, page := get(t, srv, "/")
	m := regexp.MustCompile(`src="(/static/v/[0-9a-f]{12})/app.js"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no versioned app.js in the page:\n%.600s", page)
	}
	base := m[1]
	res, body := get(t, srv, base+"/dom.js")
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.Contains(body, "export function") {
		t.Errorf("%s/dom.js: %d %q", base, res.StatusCode, res.Header.Get("Cache-Control"))
	}
	res, body2 := get(t, srv, "/static/v/000000000000/dom.js")
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-cache" || body2 != body {
		t.Errorf("an earlier version: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	res, widget := get(t, srv, "/static/widget.js")
	if res.StatusCode != 200 || !strings.Contains(widget, `"`+base+`/chat.js"`) || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("widget.js: %d, not pointing at %s:\n%s", res.StatusCode, base, widget)
	}
	if res, _ := get(t, srv, base+"/../../web.go"); res.StatusCode == 200 {
		t.Errorf("a path out of the static files was served")
	}
}

// TestTheAccountPageSaysWhoSeesTheQuestions: with insights on, the
// reader's account page says that the book's owners see the questions,
// without names; with them off, it says nothing of the kind.
func TestTheAccountPageSaysWhoSeesTheQuestions(t *testing.T) {
	lib := library.New(testdb.Engines()[0].Open(t), library.Options{})
	if _, err := lib.Ingest(context.Background(), library.Source{FS: books.Demo(), Name: books.DemoName}, library.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, on := range []bool{true, false} {
		srv := httptest.NewServer(web.New(lib, slog.New(slog.DiscardHandler), web.Options{OwnersSeeQuestions: on}).Handler())
		t.Cleanup(srv.Close)
		_, body := get(t, srv, "/account")
		if says := strings.Contains(body, "owners see the questions readers ask, without their names"); says != on {
			t.Errorf("insights on %v: the account page says who sees the questions: %v", on, says)
		}
	}
}

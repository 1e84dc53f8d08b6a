package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/lectern/lectern/internal/store/pgtest"
)

// TestBrowserThreeServices deploys Lectern as docs/deploy.md's three
// services, in both of its layouts: behind one origin, a proxy routing by
// path; and on three origins. The book is ingested once into PostgreSQL,
// then "lectern auth", "lectern api" and "lectern web" run as processes of
// their own with the settings the document gives each (the API knows the
// identity service only by its JWKS URL; on three origins, the pages know
// the others by LECTERN_AUTH_URL and LECTERN_API_URL, and the identity
// service and the API trust the pages' origin). A reader signs up on the
// web service's form and gets an answer streamed by the API, with its
// sources.
func TestBrowserThreeServices(t *testing.T) {
	if testing.Short() {
		t.Skip("-short leaves the browser tests out")
	}
	browser := newBrowser(t)
	for _, proxied := range []bool{true, false} {
		name := "three origins"
		if proxied {
			name = "one origin behind a proxy"
		}
		t.Run(name, func(t *testing.T) { deployThreeServices(t, browser, proxied) })
	}
}

func deployThreeServices(t *testing.T, browser context.Context, proxied bool) {
	db := pgtest.NewDatabase(t)
	// "lectern ingest PATH (once, anywhere with the database URL)".
	var ingestErr bytes.Buffer
	if err := run(context.Background(), []string{"ingest", "../../books/demo"},
		envFunc(map[string]string{"LECTERN_DATABASE_URL": db, "LECTERN_DATA_DIR": t.TempDir()}), io.Discard, &ingestErr); err != nil {
		t.Fatalf("ingest: %v\n%s", err, ingestErr.String())
	}

	authAddr, apiAddr := freeAddr(t), freeAddr(t)
	authURL, apiURL := "http://"+authAddr, "http://"+apiAddr
	var proxy net.Listener
	webAddr := freeAddr(t)
	book := "http://" + webAddr
	if proxied {
		var err error
		if proxy, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		book = "http://" + proxy.Addr().String()
	}
	env := func(addr string, more map[string]string) map[string]string {
		env := map[string]string{
			"LECTERN_ADDR":            addr,
			"LECTERN_DATABASE_URL":    db,
			"LECTERN_BASE_URL":        book,
			"LECTERN_DATA_DIR":        t.TempDir(),
			"LECTERN_AUTH_RATE_LIMIT": "off",
		}
		for k, v := range more {
			env[k] = v
		}
		return env
	}
	authEnv := map[string]string{"LECTERN_SECRET": strings.Repeat("t", 40)}
	apiEnv := map[string]string{
		"LECTERN_JWKS_URL":     authURL + "/api/auth/jwks",
		"LECTERN_JWT_ISSUER":   book,
		"LECTERN_JWT_AUDIENCE": book,
	}
	webEnv := map[string]string{}
	if proxied {
		authEnv["LECTERN_TRUSTED_PROXIES"] = "127.0.0.1"
	} else {
		authEnv["LECTERN_TRUSTED_ORIGINS"] = book
		apiEnv["LECTERN_TRUSTED_ORIGINS"] = book
		webEnv["LECTERN_API_URL"], webEnv["LECTERN_AUTH_URL"] = apiURL, authURL
	}
	auth := startProc(t, "auth", "auth", env(authAddr, authEnv))
	api := startProc(t, "api", "api", env(apiAddr, apiEnv))
	web := startProc(t, "web", "web", env(webAddr, webEnv))
	streamURL := apiURL + "/api/agents/stream"
	if proxied {
		// The routing table of docs/deploy.md.
		to := func(p *lecternProc) http.Handler {
			u, _ := url.Parse(p.base)
			rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(u)
				r.Out.Host = r.In.Host
				r.SetXForwarded()
			}, FlushInterval: -1}
			return rp
		}
		mux := http.NewServeMux()
		mux.Handle("/api/auth/", to(auth))
		mux.Handle("/api/book", to(web))
		mux.Handle("/api/search", to(web))
		mux.Handle("/api/", to(api))
		mux.Handle("/", to(web))
		srv := &http.Server{Handler: mux}
		go srv.Serve(proxy)
		t.Cleanup(func() { srv.Close() })
		streamURL = book + "/api/agents/stream"
	}

	b := newTab(t, browser)
	b.navigate(t, book+"/signup")
	b.fill(t, "form#signup-form input[name=name]", "Three Services")
	b.fill(t, "form#signup-form input[name=email]", newEmail("split"))
	b.fill(t, "form#signup-form input[name=password]", browserPassword)
	b.submit(t, "form#signup-form")
	waitFor[bool](t, b, "the browser leaves the sign-up page for the book", `location.pathname !== '/signup'`)
	b.waitSignedIn(t, "after signing up on the identity service")

	b.navigate(t, book+docPath)
	b.waitSignedIn(t, "on a book page")
	a := b.ask(t, question)
	if len(a.Sources) == 0 || !strings.HasPrefix(a.Sources[0], book+"/docs/") {
		t.Errorf("the answer's sources are %q, want pages under %s/docs/", a.Sources, book)
	}
	// A fetch's timing entry is recorded when its body ends, which may be
	// just after the answer is shown.
	waitFor[bool](t, b, "the answer came from the stream at "+streamURL,
		`performance.getEntriesByType('resource').some(r => r.name === `+js(streamURL)+`)`)

	for _, p := range []*lecternProc{auth, api, web} {
		if logs := p.logs.String(); strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "refused") {
			t.Errorf("%s logged an error or a refusal:\n%s", p.name, tailOf(logs, 4<<10))
		}
	}
}

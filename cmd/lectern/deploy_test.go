package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/lectern/lectern/internal/store/pgtest"
)

// TestBrowserThreeServices deploys Lectern as docs/deploy.md's three
// services on three origins: the book is ingested once into PostgreSQL,
// then "lectern auth", "lectern api" and "lectern web" run as processes of
// their own with the settings the document gives each (the API knows the
// identity service only by its JWKS URL; the pages know both by
// LECTERN_AUTH_URL and LECTERN_API_URL; the identity service and the API
// trust the pages' origin). A reader signs up on the web service's form
// and gets an answer streamed by the API, with its sources.
func TestBrowserThreeServices(t *testing.T) {
	if testing.Short() {
		t.Skip("-short leaves the browser tests out")
	}
	db := pgtest.NewDatabase(t)
	webAddr, authAddr, apiAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	book := "http://" + webAddr
	authURL, apiURL := "http://"+authAddr, "http://"+apiAddr

	// "lectern ingest PATH (once, anywhere with the database URL)".
	var ingestOut, ingestErr bytes.Buffer
	if err := run(context.Background(), []string{"ingest", "../../books/demo"},
		envFunc(map[string]string{"LECTERN_DATABASE_URL": db, "LECTERN_DATA_DIR": t.TempDir()}), &ingestOut, &ingestErr); err != nil {
		t.Fatalf("ingest: %v\n%s", err, ingestErr.String())
	}

	common := func(addr string, more map[string]string) map[string]string {
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
	auth := startProc(t, "auth", "auth", common(authAddr, map[string]string{
		"LECTERN_SECRET":          strings.Repeat("t", 40),
		"LECTERN_TRUSTED_ORIGINS": book,
	}))
	api := startProc(t, "api", "api", common(apiAddr, map[string]string{
		"LECTERN_JWKS_URL":        authURL + "/api/auth/jwks",
		"LECTERN_JWT_ISSUER":      book,
		"LECTERN_JWT_AUDIENCE":    book,
		"LECTERN_TRUSTED_ORIGINS": book,
	}))
	web := startProc(t, "web", "web", common(webAddr, map[string]string{
		"LECTERN_API_URL":  apiURL,
		"LECTERN_AUTH_URL": authURL,
	}))

	b := newTab(t, newBrowser(t))
	b.navigate(t, web.base+"/signup")
	b.fill(t, "form#signup-form input[name=name]", "Three Services")
	b.fill(t, "form#signup-form input[name=email]", newEmail("split"))
	b.fill(t, "form#signup-form input[name=password]", browserPassword)
	b.submit(t, "form#signup-form")
	waitFor[bool](t, b, "the browser leaves the sign-up page for the book", `location.pathname !== '/signup'`)
	b.waitSignedIn(t, "after signing up on the identity service")

	b.navigate(t, web.base+docPath)
	b.waitSignedIn(t, "on a book page")
	a := b.ask(t, question)
	if len(a.Sources) == 0 || !strings.HasPrefix(a.Sources[0], web.base+"/docs/") {
		t.Errorf("the answer's sources are %q, want pages of the web service", a.Sources)
	}
	streamed := eval[bool](t, b, "look for the answer stream among the page's requests",
		`performance.getEntriesByType('resource').some(r => r.name === `+js(apiURL+"/api/agents/stream")+`)`)
	if !streamed {
		t.Errorf("the answer did not come from the API's stream at %s", apiURL)
	}

	for _, p := range []*lecternProc{auth, api, web} {
		if logs := p.logs.String(); strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "refused") {
			t.Errorf("%s logged an error or a refusal:\n%s", p.name, tailOf(logs, 4<<10))
		}
	}
}

package web

import "testing"

func TestLocalPathKeepsReadersOnThisSite(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "/",
		"/docs/a/b?x=1#h":       "/docs/a/b?x=1#h",
		"/account":              "/account",
		"https://evil.example/": "/",
		"//evil.example/path":   "/",
		"/\\evil.example":       "/",
		"javascript:alert(1)":   "/",
		"docs/relative":         "/",
		"http:/evil.example":    "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

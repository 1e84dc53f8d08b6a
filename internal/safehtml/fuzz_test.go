package safehtml

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzAnswer renders arbitrary Markdown with an arbitrary citation URL and
// title and checks the output structurally: only allowlisted elements and
// attributes, every href passing the link rule. It also checks that the
// policy's href pattern accepts the URL whenever safeHref does.
func FuzzAnswer(f *testing.F) {
	seeds := []struct{ md, url string }{
		{"**a** [1] [2]", "https://example.com/a"},
		{"[1][2] [1, 2] [1-2] `[1]` [1](https://x.example/) [see [1]](/y)", `https://example.com/?q="<>`},
		{"<script>alert(1)</script><img src=x onerror=alert(1)>", "javascript:alert(1)"},
		{"[x](JaVaScRiPt:alert(1)) [y](java&#x09;script:alert(1)) <javascript:alert(1)>", "data:text/html,x"},
		{"![x](http://evil.example/t.png) [r][r]\n\n[r]: vbscript:x", "//evil.example"},
		{"| a | b |\n|:-|-:|\n| `\\|` | [1] |\n\n- [ ] t\n- [x] d\n\n> q\n\n```go\" x=\"\ncode\n```", "/\\evil"},
		{strings.Repeat("> - ", 40) + "x", "mailto:a@example.com"},
		{"<svg onload=alert(1)><iframe src=x><style>*{}</style><form><input>", "#frag"},
		{"www.example.com a@b.co <https://e.example/>", " https://example.com"},
	}
	for _, s := range seeds {
		f.Add(s.md, s.url)
	}
	pattern := regexp.MustCompile(hrefPattern)
	r := NewRenderer()
	f.Fuzz(func(t *testing.T, md, url string) {
		out := r.Render(md, []Citation{
			{URL: url, Title: md[:min(len(md), 40)]},
			{URL: "https://example.com/2", Title: url},
		})
		assertSafe(t, out)
		if safeHref(url) && !pattern.MatchString(url) {
			t.Errorf("hrefPattern refuses %q, which safeHref accepts", url)
		}
	})
}

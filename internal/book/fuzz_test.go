package book

import (
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRender feeds arbitrary documents through the Markdown and MDX path:
// front matter, reduction, rendering, sectioning and chunking must never
// panic, every section's anchor must exist in the page, the page must
// carry no script, and every chunk must be valid UTF-8 text of its section.
func FuzzRender(f *testing.F) {
	_ = filepath.WalkDir("testdata/tricky", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".mdx")) {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(string(b), strings.HasSuffix(p, ".mdx"))
			}
		}
		return nil
	})
	f.Add("# T\n\n:::note\n```\n:::\n```\n:::\n", false)
	f.Add("<Tabs>\n  <TabItem label=\"x\">\n    ```go\n    a\n    ```\n", true)
	f.Add("## A {#a}\n\n## a\n\n## A-1\n\n## A\n", false)
	f.Add("---\ntitle: [\n---\n# x", true)
	r := newRenderer()
	f.Fuzz(func(t *testing.T, src string, mdx bool) {
		dialect := dialectMarkdown
		if mdx {
			dialect = dialectMDX
		}
		yml, body, _ := splitFrontMatter([]byte(normalizeText([]byte(src))))
		_, _ = parseFrontMatter(yml)
		out := r.render([]byte(reduce(string(body), dialect)), "doc.md", "Title", resolvers{docs: func(string) (string, bool) { return "x", true }, images: func(string) (string, error) { return "/assets/x.png", nil }})
		if strings.Contains(strings.ToLower(out.html), "<script") {
			t.Fatalf("script in the page: %s", out.html)
		}
		seen := map[string]bool{}
		for _, s := range out.sections {
			if s.Anchor == "" {
				continue
			}
			if seen[s.Anchor] {
				t.Fatalf("anchor %q used twice", s.Anchor)
			}
			seen[s.Anchor] = true
			if !strings.Contains(out.html, `id="`+s.Anchor+`"`) && !strings.Contains(out.html, `id="`+html.EscapeString(s.Anchor)+`"`) {
				t.Fatalf("anchor %q missing from %s", s.Anchor, out.html)
			}
		}
		d := &Doc{Path: "doc.md", Sections: out.sections}
		for _, c := range d.Chunks("b") {
			if !utf8.ValidString(c.Text) || c.Text == "" {
				t.Fatalf("chunk %q", c.Text)
			}
		}
	})
}

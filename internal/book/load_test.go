package book

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func loadTricky(t *testing.T) *Book {
	t.Helper()
	b, err := Load("testdata/tricky", Options{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func docByPath(t *testing.T, b *Book, p string) *Doc {
	t.Helper()
	for _, d := range b.Docs {
		if d.Path == p {
			return d
		}
	}
	t.Fatalf("no document %s", p)
	return nil
}

func TestLoadOrdersDocumentsAsDocusaurusDoes(t *testing.T) {
	b := loadTricky(t)
	var paths []string
	for _, d := range b.Docs {
		paths = append(paths, d.Path)
	}
	// Category "More Things" (position 1) with its index page first, then
	// intro.md (position "1", a string), then "The Basics" (position 2);
	// within a folder: items with a position (sidebar_position or number
	// prefix) first, by position, then the others by name.
	want := []string{
		"02-more/index.md", "02-more/html.md", "02-more/latin1.md", "02-more/table.md",
		"intro.md",
		"01-basics/01-tabs.mdx", "01-basics/02-empty.md", "01-basics/03-only-front-matter.md",
	}
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("reading order\n got %q\nwant %q", paths, want)
	}
	if b.Title != "Tricky" || b.Format != FormatMarkdown {
		t.Errorf("title %q format %q", b.Title, b.Format)
	}
	if len(b.TOC) != 3 || b.TOC[0].Label != "More Things" || *b.TOC[0].Slug != "more" || len(b.TOC[0].Children) != 3 ||
		b.TOC[2].Label != "The Basics" || b.TOC[2].Slug != nil {
		j, _ := json.Marshal(b.TOC)
		t.Errorf("table of contents: %s", j)
	}
	for _, tc := range []struct {
		path, slug, chapter string
		n                   int
	}{
		{"02-more/index.md", "more", "More Things", 1},
		{"02-more/table.md", "tables-everywhere", "More Things", 1},
		{"intro.md", "intro", "", 0},
		{"01-basics/01-tabs.mdx", "basics/tabs", "The Basics", 2},
	} {
		d := docByPath(t, b, tc.path)
		if d.Slug != tc.slug || d.Chapter != tc.chapter || d.ChapterNumber != tc.n {
			t.Errorf("%s: slug %q chapter %q/%d, want %q %q/%d", tc.path, d.Slug, d.Chapter, d.ChapterNumber, tc.slug, tc.chapter, tc.n)
		}
	}
}

func TestFrontMatterWithOddTypes(t *testing.T) {
	d := docByPath(t, loadTricky(t), "intro.md")
	if d.Title != "42" {
		t.Errorf("a numeric title reads as %q", d.Title)
	}
	if d.PageNumber == nil || *d.PageNumber != 7 {
		t.Errorf("page_number %v", d.PageNumber)
	}
	if _, err := json.Marshal(d.Meta); err != nil {
		t.Errorf("front matter is not JSON-safe: %v", err)
	}
	if tags, _ := d.Meta["tags"].([]any); len(tags) != 2 {
		t.Errorf("tags %#v", d.Meta["tags"])
	}
	if w, _ := d.Meta["weird"].(map[string]any); w["1"] != "one" || w["true"] != "yes" {
		t.Errorf("a mapping with non-string keys: %#v", d.Meta["weird"])
	}
	tabs := docByPath(t, loadTricky(t), "01-basics/01-tabs.mdx")
	if tabs.Meta["chapter_id"] != "ch-1" || tabs.Description != "MDX features" {
		t.Errorf("custom keys: %#v", tabs.Meta)
	}
}

func TestHeadingAnchorsMatchDocusaurusAndTheRenderedPage(t *testing.T) {
	b := loadTricky(t)
	d := docByPath(t, b, "intro.md")
	want := map[string]string{
		"Headings with code and links": "headings-with-code-and-links",
		"C++ & Go: 10 tips!":           "c--go-10-tips",
		"Émigré café — naïve":          "émigré-café--naïve",
		"🚀 Launch":                     "-launch",
		"Custom id":                    "my-id",
	}
	var summaries []string
	for _, s := range d.Sections {
		if a, ok := want[s.Heading]; ok && s.Anchor != a {
			t.Errorf("heading %q: anchor %q, want %q", s.Heading, s.Anchor, a)
		}
		if s.Heading == "Summary" {
			summaries = append(summaries, s.Anchor)
		}
	}
	if !reflect.DeepEqual(summaries, []string{"summary", "summary-1"}) {
		t.Errorf("duplicate headings: %q", summaries)
	}
	table := docByPath(t, b, "02-more/table.md")
	var anchors []string
	for _, s := range table.Sections {
		anchors = append(anchors, s.Anchor)
	}
	if !reflect.DeepEqual(anchors, []string{"", "example", "another", "example-1"}) {
		t.Errorf("table.md anchors %q", anchors)
	}
	for _, d := range b.Docs {
		for _, s := range d.Sections {
			if s.Anchor != "" && !strings.Contains(d.HTML, `id="`+s.Anchor+`"`) {
				t.Errorf("%s: section %q has anchor %q, which the page lacks", d.Path, s.Heading, s.Anchor)
			}
		}
	}
}

func TestMDXIsReducedToItsText(t *testing.T) {
	d := docByPath(t, loadTricky(t), "01-basics/01-tabs.mdx")
	all := d.HTML
	for _, s := range d.Sections {
		all += "\n" + s.Text
	}
	for _, gone := range []string{"import", "export", "@theme", "this comment", "TabItem", "groupId", "Foo", "<kbd>"} {
		if strings.Contains(all, gone) {
			t.Errorf("%q survived the reduction", gone)
		}
	}
	for _, kept := range []string{"Ctrl+C", "<strong>Go</strong>", "<strong>Python</strong>", "datetime.now()",
		"<strong>Outer warning</strong>", "Inner tip text.", "Back in the outer one."} {
		if !strings.Contains(d.HTML, kept) {
			t.Errorf("%q is missing from the page", kept)
		}
	}
	if !strings.Contains(d.HTML, "<pre><code class=\"language-go\">package main\n\n# not a heading\n\nfunc main() {}\n</code></pre>") {
		t.Errorf("the fenced code inside a TabItem is not kept whole:\n%s", d.HTML)
	}
	if n := strings.Count(d.HTML, `<div class="admonition admonition-`); n != 2 {
		t.Errorf("%d admonitions rendered, want 2 (one nested)", n)
	}
	outer, inner := strings.Index(d.HTML, "admonition-warning"), strings.Index(d.HTML, "admonition-tip")
	if !(outer >= 0 && inner > outer && strings.Index(d.HTML, "Back in the outer one.") > inner) {
		t.Errorf("the tip is not nested in the warning:\n%s", d.HTML)
	}
	if len(d.Sections) != 2 || d.Sections[1].Anchor != "after-admonitions" {
		t.Errorf("a '# ' line inside code started a section: %d sections", len(d.Sections))
	}
}

func TestLinksBetweenDocumentsPointToTheirPages(t *testing.T) {
	d := docByPath(t, loadTricky(t), "02-more/index.md")
	if !strings.Contains(d.HTML, `href="/docs/basics/tabs#after-admonitions"`) {
		t.Errorf("the link to ../01-basics/01-tabs.mdx was not rewritten:\n%s", d.HTML)
	}
}

func TestRawHTMLIsSanitized(t *testing.T) {
	d := docByPath(t, loadTricky(t), "02-more/html.md")
	for _, bad := range []string{"<script", "javascript:", "onerror", "onclick", "alert"} {
		if strings.Contains(d.HTML, bad) || strings.Contains(d.Sections[0].Text, bad) {
			t.Errorf("%q survived:\n%s\n%s", bad, d.HTML, d.Sections[0].Text)
		}
	}
	// The image names a file the book does not have: its alt text stays.
	for _, kept := range []string{"<details>", "<summary>Click to open</summary>", "<strong>answer</strong>", "and pic</p>"} {
		if !strings.Contains(d.HTML, kept) {
			t.Errorf("%q is missing:\n%s", kept, d.HTML)
		}
	}
}

func TestEmptyAndNonUTF8Documents(t *testing.T) {
	b := loadTricky(t)
	for _, p := range []string{"01-basics/02-empty.md", "01-basics/03-only-front-matter.md"} {
		d := docByPath(t, b, p)
		if d.Words != 0 || len(d.Chunks("b")) != 0 {
			t.Errorf("%s: %d words, %d chunks", p, d.Words, len(d.Chunks("b")))
		}
	}
	if got := docByPath(t, b, "02-more/latin1.md").Sections[0].Text; got != "Café crème." {
		t.Errorf("Windows-1252 text reads as %q", got)
	}
}

// writeBook writes files (path → content) under a new folder.
func writeBook(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		f := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		opt   Options
		want  string
		line  int
	}{
		{"front matter that is not YAML", map[string]string{"a/bad.md": "---\ntitle: ok\nbad: : x\n---\nbody"}, Options{}, "a/bad.md", 3},
		{"front matter that is a list", map[string]string{"bad.md": "---\n- a\n- b\n---\nbody"}, Options{}, "bad.md", 2},
		{"two documents with one URL", map[string]string{"a.md": "---\nslug: /same\n---\n", "b.md": "---\nslug: /same\n---\n"}, Options{}, "b.md", 0},
		{"a document over the size limit", map[string]string{"big.md": strings.Repeat("x", 2000)}, Options{MaxFileBytes: 1000}, "big.md", 0},
		{"too many documents", map[string]string{"a.md": "a", "b.md": "b", "c.md": "c"}, Options{MaxFiles: 2}, "c.md", 0},
		{"a category file that is not JSON", map[string]string{"x/_category_.json": "{label", "x/a.md": "a"}, Options{}, "x/_category_.json", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeBook(t, tc.files), tc.opt)
			var be *Error
			if !errors.As(err, &be) || be.File != tc.want || be.Line != tc.line {
				t.Fatalf("got %v (%#v), want an error in %s at line %d", err, be, tc.want, tc.line)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("message %q does not start with the file", err)
			}
		})
	}
	t.Run("a folder without documents", func(t *testing.T) {
		if _, err := Load(writeBook(t, map[string]string{"notes.txt": "x"}), Options{}); !errors.Is(err, ErrNoDocuments) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a path that does not exist", func(t *testing.T) {
		if _, err := Load(filepath.Join(t.TempDir(), "missing"), Options{}); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestSummaryAndDocusaurusSite(t *testing.T) {
	t.Run("SUMMARY.md sets the reading order", func(t *testing.T) {
		b, err := Load(writeBook(t, map[string]string{
			"SUMMARY.md": "# Summary\n\n- [Last](z.md)\n- [First](a/b.md#x)\n",
			"a/b.md":     "# B\n", "z.md": "# Z\n", "m.md": "# M\n",
		}), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range b.Docs {
			got = append(got, d.Path)
		}
		if !reflect.DeepEqual(got, []string{"z.md", "a/b.md", "m.md"}) {
			t.Errorf("order %q", got)
		}
	})
	t.Run("a Docusaurus site is read from its docs folder, titled from its config", func(t *testing.T) {
		b, err := Load(writeBook(t, map[string]string{
			"docusaurus.config.js": "export default {\n  title: 'My Handbook',\n  url: 'https://x'\n};\n",
			"docs/intro.md":        "# Intro\n", "blog/post.md": "# Post\n",
		}), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if b.Title != "My Handbook" || b.Format != FormatDocusaurus || len(b.Docs) != 1 || b.Docs[0].Path != "intro.md" {
			t.Errorf("title %q format %q docs %d", b.Title, b.Format, len(b.Docs))
		}
	})
}

func TestChunksAreDeterministicAndLocal(t *testing.T) {
	files := map[string]string{"a.md": "# A\n\nAlpha text.\n\n## One\n\nMore alpha.\n", "b.md": "# B\n\nBeta text.\n"}
	root := writeBook(t, files)
	load := func() (*Book, map[string][]string) {
		b, err := Load(root, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string][]string{}
		for _, d := range b.Docs {
			for _, c := range d.Chunks("book") {
				ids[d.Path] = append(ids[d.Path], c.ID)
			}
		}
		return b, ids
	}
	b1, ids1 := load()
	b2, ids2 := load()
	if !reflect.DeepEqual(ids1, ids2) || b1.Hash != b2.Hash {
		t.Fatal("loading the same book twice gave different ids or hashes")
	}
	if err := os.WriteFile(filepath.Join(root, "b.md"), []byte("# B\n\nBeta text, edited.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b3, ids3 := load()
	if !reflect.DeepEqual(ids3["a.md"], ids1["a.md"]) || reflect.DeepEqual(ids3["b.md"], ids1["b.md"]) {
		t.Errorf("editing b.md changed a.md's chunks or left b.md's: %v → %v", ids1, ids3)
	}
	if b3.Hash == b1.Hash || docByPath(t, b3, "a.md").Hash != docByPath(t, b1, "a.md").Hash {
		t.Error("hashes do not follow the edit")
	}
}

func TestLongDocumentsAreChunkedOnBlockBoundaries(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("# Big\n\n")
	code := "```go\n" + strings.Repeat("fmt.Println(\"a line of code in a long block\")\n", 400) + "```\n\n"
	para := strings.TrimSpace(strings.Repeat("Sentence with several words in it. ", 12))
	for i := 0; sb.Len() < 5<<20; i++ {
		fmt.Fprintf(&sb, "## Part %d\n\n", i)
		for j := 0; j < 20; j++ {
			sb.WriteString(para + "\n\n")
		}
		if i%10 == 0 {
			sb.WriteString(code)
		}
		if i%25 == 0 {
			sb.WriteString(strings.Repeat("word ", 2000) + "\n\n") // one paragraph of 2,000 words
		}
	}
	root := writeBook(t, map[string]string{"big.md": sb.String()})
	b, err := Load(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := b.Docs[0]
	chunks := d.Chunks("book")
	if len(d.Sections) < 100 || len(chunks) < len(d.Sections) {
		t.Fatalf("%d sections, %d chunks", len(d.Sections), len(chunks))
	}
	codeChunks := 0
	for _, c := range chunks {
		if strings.Contains(c.Text, "fmt.Println") {
			codeChunks++
			if strings.Count(c.Text, "fmt.Println") != 400 {
				t.Fatalf("a code block was cut: %d of 400 lines in one chunk", strings.Count(c.Text, "fmt.Println"))
			}
			continue
		}
		if c.Words > 2*targetWords {
			t.Fatalf("a prose chunk of %d words", c.Words)
		}
		if !strings.HasPrefix(c.Heading, "Big > Part ") {
			t.Fatalf("heading path %q", c.Heading)
		}
	}
	if codeChunks == 0 {
		t.Fatal("no chunk holds the code")
	}
}

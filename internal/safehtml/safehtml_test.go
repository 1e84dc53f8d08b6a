package safehtml

import (
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

const rel = `rel="nofollow noopener noreferrer"`

func TestAnswerFormatting(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // substrings of the output
	}{
		{"empty input renders nothing", "", nil},
		{"bold and italic become strong and em", "**bold** and *it*",
			[]string{"<p><strong>bold</strong> and <em>it</em></p>"}},
		{"a bullet list becomes ul", "- one\n- two",
			[]string{"<ul>\n<li>one</li>\n<li>two</li>\n</ul>"}},
		{"an ordered list keeps its start number", "3. three\n4. four",
			[]string{`<ol start="3">`, "<li>three</li>"}},
		{"a nested list nests", "- a\n  - b",
			[]string{"<li>a\n<ul>\n<li>b</li>"}},
		{"a table keeps header and body and turns alignment into classes",
			"| L | C | R | N |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |",
			[]string{"<table>", "<thead>", `<th class="align-left">L</th>`, `<th class="align-center">C</th>`,
				`<th class="align-right">R</th>`, "<th>N</th>", "<tbody>", `<td class="align-right">3</td>`, "<td>4</td>"}},
		{"a fenced code block keeps its language class", "```go\nfmt.Println(\"<hi>\")\n```",
			[]string{`<pre><code class="language-go">fmt.Println(&#34;&lt;hi&gt;&#34;)` + "\n</code></pre>"}},
		{"a code block without language has no class", "```\nx\n```",
			[]string{"<pre><code>x\n</code></pre>"}},
		{"an indented code block is code", "    x := 1",
			[]string{"<pre><code>x := 1\n</code></pre>"}},
		{"inline code is code", "use `a < b`",
			[]string{"<code>a &lt; b</code>"}},
		{"headings of every level render without ids",
			"# One\n## Two\n### Three\n#### Four\n##### Five\n###### Six",
			[]string{"<h1>One</h1>", "<h2>Two</h2>", "<h3>Three</h3>", "<h4>Four</h4>", "<h5>Five</h5>", "<h6>Six</h6>"}},
		{"a setext heading renders", "Title\n=====",
			[]string{"<h1>Title</h1>"}},
		{"a blockquote renders", "> quoted\n> text",
			[]string{"<blockquote>\n<p>quoted\ntext</p>\n</blockquote>"}},
		{"strikethrough becomes del", "~~gone~~",
			[]string{"<del>gone</del>"}},
		{"task list items show their state as text", "- [ ] todo\n- [x] done",
			[]string{"<li>☐ todo</li>", "<li>☑ done</li>"}},
		{"a thematic break becomes hr", "a\n\n---\n\nb",
			[]string{"<hr>"}},
		{"a hard line break becomes br", "a  \nb",
			[]string{"a<br>"}},
		{"an inline link gets rel and keeps its title", `[site](https://example.com/a?b=1&c=2 "The site")`,
			[]string{`<a href="https://example.com/a?b=1&amp;c=2" ` + rel + ` title="The site">site</a>`}},
		{"relative and fragment links are kept", "[a](/books/1) [b](#notes)",
			[]string{`<a href="/books/1" ` + rel + `>a</a>`, `<a href="#notes" ` + rel + `>b</a>`}},
		{"mailto links are kept", "[mail](mailto:someone@example.com)",
			[]string{`<a href="mailto:someone@example.com" ` + rel + `>mail</a>`}},
		{"bare URLs and www names become links", "see https://example.com and www.example.org",
			[]string{`<a href="https://example.com" ` + rel + `>https://example.com</a>`,
				`<a href="http://www.example.org" ` + rel + `>www.example.org</a>`}},
		{"bare email addresses become mailto links", "write to someone@example.com",
			[]string{`<a href="mailto:someone@example.com" ` + rel + `>someone@example.com</a>`}},
		{"angle-bracket autolinks become links", "<https://example.com/x>",
			[]string{`<a href="https://example.com/x" ` + rel + `>https://example.com/x</a>`}},
		{"non-ASCII link targets are percent-encoded", "[x](https://example.com/ü)",
			[]string{`href="https://example.com/%C3%BC"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Answer(tt.in, nil)
			assertSafe(t, out)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestAnswerCitations(t *testing.T) {
	two := []Citation{
		{URL: "https://example.com/a", Title: "Source A"},
		{URL: "/books/7#p12", Title: "Source B"},
	}
	three := append(two, Citation{URL: "https://example.com/c", Title: "Source C"})
	linkA := `<a class="cite" href="https://example.com/a" ` + rel + ` title="Source A">[1]</a>`
	linkB := `<a class="cite" href="/books/7#p12" ` + rel + ` title="Source B">[2]</a>`
	linkC := `<a class="cite" href="https://example.com/c" ` + rel + ` title="Source C">[3]</a>`
	tests := []struct {
		name, in string
		cites    []Citation
		want     string // the whole output
	}{
		{"a single marker becomes a link to its source", "As shown [1].", two,
			"<p>As shown " + linkA + ".</p>\n"},
		{"adjacent markers become adjacent links", "Both [1][2] agree.", two,
			"<p>Both " + linkA + linkB + " agree.</p>\n"},
		{"a comma list becomes one link per source", "Both [1, 2].", two,
			"<p>Both " + linkA + linkB + ".</p>\n"},
		{"a range becomes one link per source", "All [1-3].", three,
			"<p>All " + linkA + linkB + linkC + ".</p>\n"},
		{"an en dash range works too", "All [1–3].", three,
			"<p>All " + linkA + linkB + linkC + ".</p>\n"},
		{"a marker without a matching citation stays text", "See [3].", two,
			"<p>See [3].</p>\n"},
		{"a marker list links only what matches", "See [2, 5].", two,
			"<p>See " + linkB + "[5].</p>\n"},
		{"markers stay text when there are no citations", "See [1].", nil,
			"<p>See [1].</p>\n"},
		{"zero and leading zeros are not markers", "[0] [01]", two,
			"<p>[0] [01]</p>\n"},
		{"a marker in a code span stays code", "Write `[1]` literally.", two,
			"<p>Write <code>[1]</code> literally.</p>\n"},
		{"a marker in a code block stays code", "```\nx[1]\n```", two,
			"<pre><code>x[1]\n</code></pre>\n"},
		{"an escaped marker stays text", `\[1\]`, two,
			"<p>[1]</p>\n"},
		{"a real Markdown link with a number as text is left alone", "[1](https://other.example/)", two,
			`<p><a href="https://other.example/" ` + rel + ">1</a></p>\n"},
		{"a marker inside link text does not nest a second link", "[see [1]](https://other.example/)", two,
			`<p><a href="https://other.example/" ` + rel + ">see [1]</a></p>\n"},
		{"the server's source wins over a reference definition the model wrote",
			"See [1].\n\n[1]: https://model.example/", two,
			"<p>See " + linkA + ".</p>\n"},
		{"a marker whose citation URL is unsafe stays text", "See [1].",
			[]Citation{{URL: "javascript:alert(1)", Title: "x"}},
			"<p>See [1].</p>\n"},
		{"a marker works in a heading, list and table cell", "# H [1]\n\n- item [2]\n\n| a |\n|---|\n| [1] |", two,
			"<h1>H " + linkA + "</h1>\n<ul>\n<li>item " + linkB + "</li>\n</ul>\n" +
				"<table>\n<thead>\n<tr>\n<th>a</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>" + linkA + "</td>\n</tr>\n</tbody>\n</table>\n"},
		{"a citation URL and title with quotes and angle brackets are escaped", "x [1]",
			[]Citation{{URL: `https://example.com/?q="><script>`, Title: `A "quoted" <title>`}},
			`<p>x <a class="cite" href="https://example.com/?q=%22%3E%3Cscript%3E" ` + rel +
				` title="A &#34;quoted&#34; &lt;title&gt;">[1]</a></p>` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Answer(tt.in, tt.cites)
			assertSafe(t, out)
			if out != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", out, tt.want)
			}
		})
	}
}

func TestAnswerCitationLinksAreCapped(t *testing.T) {
	out := Answer(strings.Repeat("[1] ", maxCiteLinks+10), []Citation{{URL: "https://example.com/1"}})
	assertSafe(t, out)
	if n := strings.Count(out, `class="cite"`); n != maxCiteLinks {
		t.Errorf("%d citation links, want %d", n, maxCiteLinks)
	}
	if n := strings.Count(out, "[1]"); n != maxCiteLinks+10 {
		t.Errorf("%d markers in the output, want %d", n, maxCiteLinks+10)
	}
}

func TestAnswerCitationAttributesSurviveParsing(t *testing.T) {
	c := Citation{URL: `https://example.com/?q="<x>'&y`, Title: `"><img src=x onerror=alert(1)>`}
	out := Answer("x [1]", []Citation{c})
	assertSafe(t, out)
	nodes, err := html.ParseFragment(strings.NewReader(out), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		t.Fatal(err)
	}
	var a *html.Node
	for _, n := range nodes {
		for d := range n.Descendants() {
			if d.Type == html.ElementNode && d.Data == "a" {
				a = d
			}
		}
	}
	if a == nil {
		t.Fatalf("no link in %s", out)
	}
	got := map[string]string{}
	for _, at := range a.Attr {
		got[at.Key] = at.Val
	}
	if want := "https://example.com/?q=%22%3Cx%3E'&y"; got["href"] != want {
		t.Errorf("href = %q, want %q", got["href"], want)
	}
	if got["title"] != c.Title {
		t.Errorf("title = %q, want %q", got["title"], c.Title)
	}
}

func TestAnswerHostileInput(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // substrings the output must contain
		refuse   []string // substrings it must not contain, case-insensitively
	}{
		{"a raw script element is dropped", "<script>alert(1)</script>", nil, []string{"<script"}},
		{"a script block is dropped", "<script>\nalert(1)\n</script>\n\ntext", []string{"text"}, []string{"<script"}},
		{"an img with onerror is dropped", `<img src=x onerror=alert(1)>`, nil, []string{"<img", "onerror"}},
		{"inline svg with onload is dropped", `a <svg onload=alert(1)><circle/></svg> b`, nil, []string{"<svg", "onload"}},
		{"an iframe is dropped", `<iframe src="https://evil.example/"></iframe>`, nil, []string{"<iframe", "evil"}},
		{"a raw anchor to javascript is dropped", `<a href="javascript:alert(1)">x</a>`, nil, []string{"javascript"}},
		{"a Markdown link to javascript becomes its text", "[click](javascript:alert(1))", []string{"click"}, []string{"javascript", "<a"}},
		{"a mixed-case javascript scheme is refused", "[x](JaVaScRiPt:alert(1))", nil, []string{"javascript", "<a"}},
		{"a data URL is refused", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", nil, []string{"data:", "<a"}},
		{"a vbscript URL is refused", "[x](vbscript:msgbox(1))", nil, []string{"vbscript", "<a"}},
		{"a decimal entity-encoded scheme is refused", "[x](&#106;avascript:alert(1))", nil, []string{"<a"}},
		{"a hex entity-encoded scheme is refused", "[x](&#x6A;&#x61;vascript:alert(1))", nil, []string{"<a"}},
		{"a tab entity inside the scheme is refused", "[x](java&#x09;script:alert(1))", nil, []string{"<a"}},
		{"a named colon entity is refused", "[x](javascript&colon;alert(1))", nil, []string{"<a"}},
		{"a percent-encoded scheme is refused", "[x](%6A%61vascript:alert(1))", nil, []string{"<a"}},
		{"a bracketed javascript destination is refused", "[x](<javascript:alert(1)>)", nil, []string{"<a"}},
		{"a javascript autolink becomes text", "<javascript:alert(1)>", []string{"javascript:alert(1)"}, []string{"<a"}},
		{"an upper-case javascript autolink becomes text", "<JAVASCRIPT:alert(1)>", nil, []string{"<a"}},
		{"a data autolink becomes text", "<data:text/html,hi>", nil, []string{"<a"}},
		{"a protocol-relative link is refused", "[x](//evil.example/)", nil, []string{"<a"}},
		{"a backslash path is percent-encoded so it stays on this site", `[x](/\evil.example/)`,
			[]string{`href="/%5Cevil.example/"`}, nil},
		{"a file URL is refused", "[x](file:///etc/passwd)", nil, []string{"<a"}},
		{"an image becomes its alt text", "![tracking pixel](http://evil.example/track.png)", []string{"tracking pixel"}, []string{"<img", "evil"}},
		{"a reference-style image becomes its alt text", "![alt][p]\n\n[p]: http://evil.example/p.png", []string{"alt"}, []string{"<img", "evil"}},
		{"an image inside a link leaves only the link", "[![alt](http://evil.example/i.png)](https://example.com/)",
			[]string{`<a href="https://example.com/" ` + rel + `>alt</a>`}, []string{"<img", "evil"}},
		{"a reference-style link to javascript becomes its text", "[x][evil]\n\n[evil]: javascript:alert(1)", []string{"x"}, []string{"javascript", "<a"}},
		{"a shortcut reference link to javascript becomes its text", "[evil]\n\n[evil]: javascript:alert(1)", nil, []string{"javascript", "<a"}},
		{"escaped markup stays text", "&lt;script&gt;alert(1)&lt;/script&gt;", []string{"&lt;script&gt;"}, []string{"<script"}},
		{"a numeric reference for < does not open a tag", "&#60;script&#62;alert(1)&#60;/script&#62;", []string{"&lt;script&gt;"}, []string{"<script"}},
		{"a style element is dropped", "<style>body{display:none}</style>\n\nok", []string{"ok"}, []string{"<style", "display"}},
		{"a style attribute is dropped", `<p style="color:red">x</p>`, nil, []string{"style"}},
		{"attribute syntax cannot add style or id", "# Title {#clobber style=\"x\"}", []string{"<h1>Title {#clobber"}, nil},
		{"a form is dropped", `<form action="https://evil.example/"><input name=x><button>go</button></form>`, nil, []string{"<form", "<input", "<button"}},
		{"math and object are dropped", `<math><mi>x</mi></math><object data="x"></object><embed src=x>`, nil, []string{"<math", "<object", "<embed"}},
		{"base, meta and link are dropped", `<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://evil.example/"><link rel=stylesheet href=x>`,
			nil, []string{"<base", "<meta", "<link"}},
		{"an html comment is dropped", "a <!-- <script>x</script> --> b", nil, []string{"<!--", "<script"}},
		{"a link title cannot break out of its attribute", `[x](https://example.com/ "\" onmouseover=\"alert(1)")`, nil, []string{`" onmouseover`}},
		{"a link destination cannot break out of its attribute", `[x](https://example.com/"onmouseover="alert(1))`, nil, []string{`" onmouseover`}},
		{"a code fence language cannot break out of its attribute", "```go\" onmouseover=\"alert(1)\nx\n```", nil, []string{`" onmouseover`}},
		{"a NUL byte does not confuse the output", "a\x00<script>b", nil, []string{"<script", "\x00"}},
		{"invalid UTF-8 is replaced", "a\xff\xfe b", []string{"a\uFFFD b"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Answer(tt.in, []Citation{{URL: "https://example.com/1", Title: "one"}})
			assertSafe(t, out)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, r := range tt.refuse {
				if strings.Contains(strings.ToLower(out), strings.ToLower(r)) {
					t.Errorf("output contains %q:\n%s", r, out)
				}
			}
		})
	}
}

func TestSafeHref(t *testing.T) {
	tests := []struct {
		href string
		want bool
	}{
		{"https://example.com/x?y=1#z", true},
		{"HTTP://EXAMPLE.COM", true},
		{"mailto:a@example.com", true},
		{"/books/1", true},
		{"/", true},
		{"#notes", true},
		{"", false},
		{"#", false},
		{"https://%zz/", false},
		{"http://example.com:port/", false},
		{"//evil.example", false},
		{`/\evil.example`, false},
		{"javascript:alert(1)", false},
		{"JAVASCRIPT:alert(1)", false},
		{" javascript:alert(1)", false},
		{"java\tscript:alert(1)", false},
		{"java%09script:alert(1)", false},
		{"data:text/html,x", false},
		{"vbscript:x", false},
		{"https://example.com/a b", false},
		{"https://example.com/\u00fc", false},
		{"relative/path", false},
		{"?q=1", false},
		{"ftp://example.com", false},
	}
	pattern := regexp.MustCompile(hrefPattern)
	for _, tt := range tests {
		t.Run("href "+tt.href, func(t *testing.T) {
			if got := safeHref(tt.href); got != tt.want {
				t.Errorf("safeHref(%q) = %v, want %v", tt.href, got, tt.want)
			}
			if tt.want && !pattern.MatchString(tt.href) {
				t.Errorf("hrefPattern refuses %q, which safeHref accepts", tt.href)
			}
		})
	}
}

func TestRendererIsReusableAndConcurrent(t *testing.T) {
	r := NewRenderer()
	cites := []Citation{{URL: "https://example.com/1", Title: "one"}}
	want := r.Render("**a** [1]", cites)
	done := make(chan string)
	for range 8 {
		go func() { done <- r.Render("**a** [1]", cites) }()
	}
	for range 8 {
		if got := <-done; got != want {
			t.Errorf("concurrent render = %q, want %q", got, want)
		}
	}
	if got := r.Render("[1]", nil); got != "<p>[1]</p>\n" {
		t.Errorf("citations leaked between calls: %q", got)
	}
}

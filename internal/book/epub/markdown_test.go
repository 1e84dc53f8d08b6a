package epub

import (
	"errors"
	"strings"
	"testing"
)

// markdownCases are XHTML bodies and the Markdown they convert to. The fuzz
// test uses them as its seed corpus too.
var markdownCases = []struct {
	name string
	body string
	want string
}{
	{
		name: "headings of every level become ATX headings on one line",
		body: "<h1>One</h1><h2>Two<br/>lines</h2><h3>Three</h3><h4>Four</h4><h5>Five</h5><h6>Six <p>with a block</p></h6>",
		want: "# One\n\n## Two lines\n\n### Three\n\n#### Four\n\n##### Five\n\n###### Six with a block\n",
	},
	{
		name: "a heading grouped with its subtitle is one heading",
		body: `<hgroup><h2 epub:type="ordinal">VII</h2><p epub:type="title">Concerning <i>New</i> Principalities</p></hgroup><p>Text.</p><hgroup><p>no heading here</p></hgroup>`,
		want: "## VII: Concerning *New* Principalities\n\nText.\n\nno heading here\n",
	},
	{
		name: "a heading ending in # or holding braces is escaped",
		body: "<h2>C#</h2><h3>Title {#id}</h3><h1> </h1>",
		want: "## C\\#\n\n### Title \\{#id}\n",
	},
	{
		name: "paragraphs are separated by one blank line and white space collapses",
		body: "<p>  a\n\t b  </p>\n\n<p>c</p> loose <div>d</div>",
		want: "a b\n\nc\n\nloose\n\nd\n",
	},
	{
		name: "a line break is a backslash hard break and two end the paragraph",
		body: "<p>a<br/>b<br/><br/>c<br/></p>",
		want: "a\\\nb\n\nc\n",
	},
	{
		name: "a line break after a backslash is two spaces",
		body: `<p>a\<br/>b</p>`,
		want: "a\\\\  \nb\n",
	},
	{
		name: "emphasis keeps white space outside its delimiters",
		body: "<p>a<em> b </em>c <strong>d</strong> <i>e</i>f <b><i>both</i></b></p>",
		want: "a *b* c **d** *e*f ***both***\n",
	},
	{
		name: "emphasis that CommonMark would not read as such is left plain",
		body: "<p><em>(x)</em>y and <b>bold</b></p>",
		want: "(x)y and **bold**\n",
	},
	{
		name: "emphasis inside emphasis of the same kind adds nothing",
		body: "<p><em>a <i>b</i> c</em> <b><strong>d</strong></b></p>",
		want: "*a b c* **d**\n",
	},
	{
		name: "touching spans of one kind merge into one",
		body: "<p><em>a</em><em>b</em> <strong>c</strong><b>d</b></p>",
		want: "*ab* **cd**\n",
	},
	{
		name: "struck text uses GFM tildes",
		body: "<p><del>old</del> <s>gone</s> new</p>",
		want: "~~old~~ ~~gone~~ new\n",
	},
	{
		name: "inline code takes fences longer than the backticks inside it",
		body: "<p><code>a</code> <code>x`y</code> <code>``</code> <code>`edge</code> <kbd>Ctrl</kbd></p>",
		want: "`a` ``x`y`` ``` `` ``` `` `edge `` `Ctrl`\n",
	},
	{
		name: "touching code elements become one code span",
		body: "<p><code>a</code><code>b</code> and <code> spaced </code>.</p>",
		want: "`ab` and `spaced` .\n",
	},
	{
		name: "a pre block is fenced verbatim with its language",
		body: "<pre><code class=\"hljs language-python\">def f():\n    return \"```\"\n\n\n</code></pre>",
		want: "````python\ndef f():\n    return \"```\"\n````\n",
	},
	{
		name: "a pre block without code keeps its indentation and blank lines",
		body: "<pre>\n  x  y\n\n\tz *not emphasis*\n</pre>",
		want: "```\n  x  y\n\n\tz *not emphasis*\n```\n",
	},
	{
		name: "a pre block made of spans and line breaks keeps its lines",
		body: "<pre class=\"lang-js\"><span>a</span><br/>b<div>c</div></pre>",
		want: "```js\na\nb\nc\n```\n",
	},
	{
		name: "nested lists are indented under their items",
		body: "<ul><li>a<ul><li>b<ol><li>c</li></ol></li></ul></li><li>d</li></ul>",
		want: "- a\n  - b\n    1. c\n- d\n",
	},
	{
		name: "an ordered list keeps its start number",
		body: "<ol start=\"7\"><li>x</li><li>y</li><li>z</li><li>w</li></ol>",
		want: "7. x\n8. y\n9. z\n10. w\n",
	},
	{
		name: "a list right after a list of the same kind takes the other marker",
		body: "<ul><li>a</li></ul><ul><li>b</li></ul><ol><li>c</li></ol><ol><li>d</li></ol>",
		want: "- a\n\n* b\n\n1. c\n\n1) d\n",
	},
	{
		name: "a list item with several blocks indents them all",
		body: "<ol><li><p>a</p><p>b</p><pre>code</pre></li><li>c</li></ol>",
		want: "1. a\n\n   b\n\n   ```\n   code\n   ```\n2. c\n",
	},
	{
		name: "a list nested straight in a list belongs to the item before it",
		body: "<ul><li>a</li><ul><li>b</li></ul></ul>",
		want: "- a\n  - b\n",
	},
	{
		name: "an ordered list that cannot interrupt a paragraph follows a blank line",
		body: "<ul><li>a<ol start=\"4\"><li>b</li></ol></li></ul>",
		want: "- a\n\n  4. b\n",
	},
	{
		name: "empty list items are left out",
		body: "<ul><li></li><li>a</li><li> </li></ul><ol><li/></ol>",
		want: "- a\n",
	},
	{
		name: "a rule opening a list item is not read as a rule alone",
		body: "<ul><li><hr/>x</li></ul>",
		want: "- ___\n\n  x\n",
	},
	{
		name: "a link whose text is x does not become a task list checkbox",
		body: "<ul><li><a href=\"https://x.org\">x</a> marks the spot</li></ul>",
		want: "- [x ](https://x.org) marks the spot\n",
	},
	{
		name: "a blockquote prefixes every line, nested ones too",
		body: "<blockquote><p>a</p><blockquote><p>b<br/>c</p></blockquote></blockquote>",
		want: "> a\n>\n> > b\\\n> > c\n",
	},
	{
		name: "a table becomes a GFM table with its header from thead",
		body: `<table>
<thead><tr><th>Name</th><th>Pipe | here</th></tr></thead>
<tbody><tr><td><p>one</p><p>two</p></td><td><em>x</em></td></tr><tr><td colspan="2">wide</td></tr></tbody>
<tfoot><tr><td>total</td><td>3</td></tr></tfoot>
</table>`,
		want: "| Name | Pipe \\| here |\n| --- | --- |\n| one two | *x* |\n| wide |  |\n| total | 3 |\n",
	},
	{
		name: "a table without thead takes its first row as header and pads short rows",
		body: "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
		want: "| a | b |\n| --- | --- |\n| c |  |\n",
	},
	{
		name: "a table caption is a paragraph before the table",
		body: "<table><caption>Prices</caption><tr><th>x</th></tr></table><table><caption>Empty</caption><tr><td> </td></tr></table>",
		want: "Prices\n\n| x |\n| --- |\n\nEmpty\n",
	},
	{
		name: "code in a table cell escapes its pipes",
		body: "<table><tr><td><code>a|b</code></td></tr></table><p><code>a|b</code></p>",
		want: "| `a\\|b` |\n| --- |\n\n`a|b`\n",
	},
	{
		name: "web links keep their URL and other links only their text",
		body: `<p><a href="https://x.org/a b(c)">site</a>, <a href="ch2.xhtml#s">next</a>, <a href="mailto:a@b.c">mail</a>, <a href="#fn1">1</a>, <a href="HTTP://X.ORG"> spaced </a>.</p>`,
		want: "[site](https://x.org/a%20b%28c%29), next, mail, 1, [spaced](HTTP://X.ORG) .\n",
	},
	{
		name: "an exclamation mark before a link does not make it an image",
		body: `<p>Wow!<a href="https://x.org">site</a> Wow\!<a href="https://x.org">again</a> <code>![x]</code> <em>Oh!</em></p>`,
		want: "Wow\\![site](https://x.org) Wow\\\\\\![again](https://x.org) `![x]` *Oh!*\n",
	},
	{
		name: "an image of the archive is an image; one without a source its alt text in italics, or nothing",
		body: `<p>See <img src="../images/a.png" alt="A [cat]"/><img src="b.png" alt=""/><img src="https://x.org/c.png" alt="far"/><img alt="no source"/><img/></p>`,
		want: "See ![A \\[cat\\]](../images/a.png)![](b.png)*farno source*\n",
	},
	{
		name: "an image inside emphasis is not emphasized twice",
		body: `<p><em>see <img alt="fig. 1"/></em></p>`,
		want: "*see fig. 1*\n",
	},
	{
		name: "a horizontal rule is a thematic break",
		body: "<p>a</p><hr/><p>b</p>",
		want: "a\n\n---\n\nb\n",
	},
	{
		name: "figures and their captions are paragraphs",
		body: `<figure><img alt="Map"/><figcaption>The <em>map</em>.</figcaption></figure>`,
		want: "*Map*\n\nThe *map*.\n",
	},
	{
		name: "a definition list is a bold term and its paragraphs",
		body: "<dl><dt>Term</dt><dd>Meaning.</dd><dt><b>Bold</b> term</dt><dd><p>One.</p><p>Two.</p></dd></dl>",
		want: "**Term**\n\nMeaning.\n\n**Bold term**\n\nOne.\n\nTwo.\n",
	},
	{
		name: "superscripts and subscripts are plain text",
		body: "<p>H<sub>2</sub>O, E=mc<sup>2</sup></p>",
		want: "H2O, E=mc2\n",
	},
	{
		name: "scripts, styles, navigation, media and forms are dropped",
		body: `<script>x()</script><style>p{}</style><nav epub:type="toc"><a href="a.xhtml">A</a></nav><p>kept</p>` +
			`<noscript>no</noscript><svg><text>svg</text></svg><video>Your reader cannot play video.</video>` +
			`<form><input value="v"/><button>Go</button><select><option>o</option></select></form>`,
		want: "kept\n",
	},
	{
		name: "a footnote aside is kept as a paragraph",
		body: `<p>text<a epub:type="noteref" href="#n1">1</a></p><aside epub:type="footnote" id="n1"><p>The note.</p></aside>`,
		want: "text1\n\nThe note.\n",
	},
	{
		name: "markup characters in text are escaped",
		body: "<p>*a* _b_ snake_case `c` [d](e) &lt;f&gt; a|b ~g~ \\ &amp;amp; AT&amp;T 50% {x}!</p>",
		want: "\\*a\\* \\_b\\_ snake_case \\`c\\` \\[d\\](e) \\<f> a\\|b \\~g\\~ \\\\ \\&amp; AT&T 50% {x}!\n",
	},
	{
		name: "text that would start a block is escaped at the start of a line",
		body: "<p># a</p><p>&gt; b</p><p>- c</p><p>+ d</p><p>1. e</p><p>2) f</p><p>===</p><p>---</p><p>:--</p>" +
			"<p>-40 degrees</p><p>1984 was a year</p><p>#hashtag</p>",
		want: "\\# a\n\n\\> b\n\n\\- c\n\n\\+ d\n\n1\\. e\n\n2\\) f\n\n\\===\n\n\\---\n\n\\:--\n\n-40 degrees\n\n1984 was a year\n\n\\#hashtag\n",
	},
	{
		name: "a line after a hard break is escaped too",
		body: "<p>a<br/>- b<br/>3. c</p>",
		want: "a\\\n\\- b\\\n3\\. c\n",
	},
	{
		name: "self-closing XHTML tags do not swallow what follows",
		body: `<p>a<a id="x"/>b<span/>c<br/>d</p><p>e</p>`,
		want: "abc\\\nd\n\ne\n",
	},
	{
		name: "inline elements holding blocks are transparent",
		body: "<span>a<div>b</div>c</span>",
		want: "a\n\nb\n\nc\n",
	},
	{
		name: "math is its alt text",
		body: `<p>area <math alttext="\pi r^2"><mi>x</mi></math></p>`,
		want: "area \\\\pi r^2\n",
	},
	{
		name: "non-breaking spaces are text, but a paragraph of them is empty",
		body: "<p>a&#160;b</p><p>&#160;</p><div>\u00a0 </div>",
		want: "a\u00a0b\n",
	},
	{
		name: "control characters are dropped from text and code",
		body: "<p>a\x01b\x02c</p><pre>d\x03e\x04f</pre>",
		want: "abc\n\n```\ndef\n```\n",
	},
}

func TestXHTMLToMarkdown(t *testing.T) {
	for _, tc := range markdownCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := toMarkdown([]byte(xhtml("T", tc.body)))
			if err != nil {
				t.Fatal(err)
			}
			if got.markdown != tc.want {
				t.Errorf("body:\n%s\ngot:\n%q\nwant:\n%q", tc.body, got.markdown, tc.want)
			}
		})
	}
}

func TestXHTMLTitles(t *testing.T) {
	tests := []struct {
		name, doc, heading, title string
	}{
		{
			name:    "the first heading and the title are plain text",
			doc:     "<html><head><title> My \n Title </title></head><body><p>x</p><h2>The <em>First</em> <img alt=\"img\"/></h2><h1>Second</h1></body></html>",
			heading: "The First", title: "My Title",
		},
		{
			name:    "an empty heading is passed over",
			doc:     "<html><body><h1> </h1><h3>Real</h3></body></html>",
			heading: "Real",
		},
		{
			name:  "a self-closing title does not swallow the document",
			doc:   "<html><head><title/></head><body><p>Body text.</p></body></html>",
			title: "",
		},
		{
			name:  "a DOCTYPE with an internal subset is left out",
			doc:   "<!DOCTYPE html [\n<!ENTITY x \"y\">\n]>\n<html><head><title>T</title></head><body><p>z</p></body></html>",
			title: "T",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := toMarkdown([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if got.heading != tc.heading || got.title != tc.title {
				t.Errorf("heading %q, title %q; want %q, %q", got.heading, got.title, tc.heading, tc.title)
			}
			if got.markdown == "" || strings.Contains(got.markdown, "]>") || strings.Contains(got.markdown, "ENTITY") {
				t.Errorf("markdown %q lost the body or shows the DOCTYPE", got.markdown)
			}
		})
	}
}

func TestHostileXHTMLIsConvertedWithinBounds(t *testing.T) {
	t.Run("nesting deeper than the converter recurses is kept as text", func(t *testing.T) {
		doc := strings.Repeat("<div><span>", 150) + "deep *text*" + strings.Repeat("</span></div>", 150)
		got, err := toMarkdown([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if got.markdown != "deep \\*text\\*\n" {
			t.Errorf("got %q", got.markdown)
		}
	})
	t.Run("nesting deeper than the HTML parser accepts leaves the bare text", func(t *testing.T) {
		doc := "<html><head><title>Deep</title><style>p{}</style><title/></head><body><h1>A <b>title</b></h1>" +
			strings.Repeat("<div><b>", 20000) + "deep *text*<br/>next<p>para</p><script>x()</script>"
		got, err := toMarkdown([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if want := "A title\n\ndeep \\*text\\*\\\nnext\n\npara\n"; got.markdown != want || got.title != "Deep" {
			t.Errorf("got %q titled %q, want %q titled %q", got.markdown, got.title, want, "Deep")
		}
	})
	t.Run("quotes nested around long text are refused before their output explodes", func(t *testing.T) {
		doc := strings.Repeat("<blockquote>", 200) + "<pre>" + strings.Repeat("x\n", 50000) + "</pre>"
		_, err := toMarkdown([]byte(doc))
		if !errors.Is(err, errTooLarge) {
			t.Errorf("err = %v, want errTooLarge", err)
		}
	})
	t.Run("a huge colspan is capped", func(t *testing.T) {
		got, err := toMarkdown([]byte(`<table><tr><td colspan="1000000000">a</td></tr></table>`))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(strings.SplitN(got.markdown, "\n", 2)[0], "|"); n != maxColumns+1 {
			t.Errorf("header row has %d pipes, want %d", n, maxColumns+1)
		}
	})
	t.Run("a huge start number is capped at CommonMark's largest", func(t *testing.T) {
		got, err := toMarkdown([]byte(`<ol start="99999999999"><li>a</li><li>b</li></ol>`))
		if err != nil {
			t.Fatal(err)
		}
		if got.markdown != "999999998. a\n999999999. b\n" {
			t.Errorf("got %q", got.markdown)
		}
	})
}

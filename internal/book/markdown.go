package book

import (
	"bytes"
	"fmt"
	stdhtml "html"
	"net/url"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
)

// renderer turns reduced Markdown into sanitized HTML and sections. It is
// safe for concurrent use.
type renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

func newRenderer() *renderer {
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM, extension.Footnote),
		goldmark.WithParserOptions(parser.WithAttribute()),
		// Raw HTML (details, kbd, admonition wrappers) is rendered and then
		// sanitized, so nothing executable survives.
		goldmark.WithRendererOptions(html.WithUnsafe()),
	)
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("id").Matching(regexp.MustCompile(`^\S{1,200}$`)).OnElements("h1", "h2", "h3", "h4", "h5", "h6", "li", "sup", "div", "a", "span")
	p.AllowAttrs("name").Matching(regexp.MustCompile(`^\S{1,200}$`)).OnElements("a") // an anchor, as <a name="x"></a>
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^(admonition( admonition-[a-z0-9-]+)?|doc-card-list)$`)).OnElements("div")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[\w+#.-]{1,40}$`)).OnElements("code")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^footnotes?(-ref|-backref)?$`)).OnElements("a", "div", "sup")
	p.AllowAttrs("role").Matching(regexp.MustCompile(`^doc-(noteref|backlink|endnotes)$`)).OnElements("a", "div")
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|right|center)$`)).OnElements("th", "td")
	p.AllowAttrs("type", "checked", "disabled").OnElements("input")
	p.AllowElements("input")
	return &renderer{md: md, policy: p}
}

// block is a top-level piece of a section's text: a paragraph, list, table
// or code block. Blocks are never split when chunking (code blocks never;
// prose only when one paragraph alone is too long).
type block struct {
	text  string
	words int
	code  bool
}

// rendered is one document after parsing.
type rendered struct {
	html     string
	h1       string // the first level-1 heading's text, if the document opens with one
	sections []Section
	// unresolved lists the links to documents of the book that name none:
	// the link as written.
	unresolved []string
	// missingImages lists the images that cannot be shown, and why.
	missingImages []string
}

// linkResolver maps a document path (relative to the book root) to its URL
// path, for links between documents written as file paths.
type linkResolver func(docPath string) (string, bool)

// pageResolver maps a link to a page of the site ("/docs/guides/setup",
// "/blog/", "/img/a.pdf", or the site's own address in full) to where it
// leads from the reader: a page of the book, or the page on the author's
// site; false leaves it alone.
type pageResolver func(link *url.URL) (string, bool)

// resolvers find what a page links to and shows; each may be nil.
type resolvers struct {
	docs   linkResolver
	pages  pageResolver
	images assetResolver
}

// render parses src and returns its sanitized HTML and its sections.
// docPath is the document's path in the book (to resolve relative links),
// title its title (the first section's heading); res finds what it links
// to and shows.
func (r *renderer) render(src []byte, docPath, title string, res resolvers) rendered {
	doc := r.md.Parser().Parse(text.NewReader(src))
	ids := newSlugger()
	var heads []*ast.Heading
	var unresolved []string
	// Explicit {#id}s are reserved first, so generated ids avoid them.
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			heads = append(heads, n)
			if v, ok := n.AttributeString("id"); ok {
				if b, ok := v.([]byte); ok {
					ids.reserve(string(b))
				}
			}
		case *ast.Link:
			dest, ok := rewriteLink(n.Destination, docPath, res.docs)
			if !ok {
				unresolved = append(unresolved, string(n.Destination))
			} else if res.pages != nil && string(dest) == string(n.Destination) {
				if u, err := url.Parse(string(dest)); err == nil && (u.Host != "" || strings.HasPrefix(u.Path, "/")) {
					if to, ok := res.pages(u); ok {
						if u.Fragment != "" {
							to += "#" + u.EscapedFragment()
						}
						dest = []byte(to)
					}
				}
			}
			n.Destination = dest
		}
		return ast.WalkContinue, nil
	})
	anchors := make(map[*ast.Heading]string, len(heads))
	for _, h := range heads {
		if v, ok := h.AttributeString("id"); ok {
			if b, ok := v.([]byte); ok && len(b) > 0 {
				anchors[h] = string(b)
				continue
			}
		}
		id := ids.slug(inlineText(h, src))
		h.SetAttributeString("id", []byte(id))
		anchors[h] = id
	}

	out := rendered{unresolved: unresolved}
	var buf bytes.Buffer
	if err := r.md.Renderer().Render(&buf, src, doc); err != nil {
		// The HTML renderer only fails when its writer does; a bytes.Buffer
		// does not.
		panic(fmt.Sprintf("book: render %s: %v", docPath, err))
	}
	out.html = rewriteImages(r.policy.Sanitize(buf.String()), res.images, func(src string, err error) {
		out.missingImages = append(out.missingImages, src+" ("+err.Error()+")")
	})
	if strings.Contains(out.html, "<table>") {
		out.html = frameTables(out.html)
	}

	cur := &Section{Heading: title, Path: []string{title}}
	type open struct {
		level int
		text  string
	}
	var stack []open
	first := true
	flush := func() {
		cur.Text = joinBlocks(cur.blocks)
		out.sections = append(out.sections, *cur)
	}
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if h, ok := n.(*ast.Heading); ok {
			t := inlineText(h, src)
			if first && h.Level == 1 {
				// An opening H1 is the document's title: its text belongs to
				// the lead section, whose link is the page itself.
				out.h1 = t
				if title == "" {
					cur.Heading, cur.Path = t, []string{t}
				}
				first = false
				continue
			}
			first = false
			if len(cur.blocks) > 0 || cur.Anchor != "" || len(out.sections) > 0 {
				flush()
			}
			for len(stack) > 0 && stack[len(stack)-1].level >= h.Level {
				stack = stack[:len(stack)-1]
			}
			stack = append(stack, open{h.Level, t})
			docTitle := title
			if docTitle == "" {
				docTitle = out.h1
			}
			p := []string{docTitle}
			for _, o := range stack {
				p = append(p, o.text)
			}
			cur = &Section{Ord: len(out.sections), Anchor: anchors[h], Heading: t, Path: p, Level: h.Level}
			continue
		}
		first = false
		if b, ok := blockOf(n, src); ok {
			cur.blocks = append(cur.blocks, b)
		}
	}
	flush()
	shown := make(map[string]bool, len(out.sections))
	attrValues(out.html, " id=", func(id string) { shown[id] = true })
	for i := range out.sections {
		// Malformed raw HTML can swallow a heading during sanitizing; its
		// section then links to the page rather than to a missing anchor.
		if a := out.sections[i].Anchor; a != "" && !shown[a] {
			out.sections[i].Anchor = ""
		}
	}
	if len(out.sections) > 1 && out.sections[0].Anchor == "" && len(out.sections[0].blocks) == 0 {
		// No text before the first heading: no lead section.
		out.sections = out.sections[1:]
		for i := range out.sections {
			out.sections[i].Ord = i
		}
	}
	return out
}

// tableCell is a cell of sanitized HTML, and longCell how much text makes
// a cell prose, which needs a column wide enough to read.
var tableCell = regexp.MustCompile(`(?s)<td( align="[a-z]+")?>(.*?)</td>`)

const longCell = 80

// frameTables gives each table a frame of its own, so that a wide one
// scrolls without the page, and marks its cells of prose (class "long"),
// which the style keeps wide enough to read beside columns of code.
func frameTables(page string) string {
	page = strings.ReplaceAll(strings.ReplaceAll(page, "<table>", `<div class="table-scroll"><table>`), "</table>", "</table></div>")
	return tableCell.ReplaceAllStringFunc(page, func(cell string) string {
		m := tableCell.FindStringSubmatch(cell)
		if utf8.RuneCountInString(stdhtml.UnescapeString(htmlTag.ReplaceAllString(m[2], ""))) < longCell {
			return cell
		}
		return `<td class="long"` + m[1] + ">" + m[2] + "</td>"
	})
}

// rewriteLink turns a link to another document's file into a link to its
// page, as Docusaurus resolves them: a path relative to the document
// ("../b/setup.md#x"), or if there is none there from the docs root, one
// from the docs root ("/guides/setup.md"), or one from the site
// ("@site/docs/guides/setup.md"). Other links are left
// alone. ok is false for a link to a document file the book does not
// have.
func rewriteLink(dest []byte, docPath string, links linkResolver) (_ []byte, ok bool) {
	if links == nil || len(dest) == 0 {
		return dest, true
	}
	u, err := url.Parse(string(dest))
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "" {
		return dest, true
	}
	ext := strings.ToLower(path.Ext(u.Path))
	if ext != ".md" && ext != ".mdx" {
		return dest, true
	}
	var target string
	switch {
	case strings.HasPrefix(u.Path, "@site/docs/"):
		target = path.Clean(strings.TrimPrefix(u.Path, "@site/docs/"))
	case strings.HasPrefix(u.Path, "/"):
		target = path.Clean(strings.TrimPrefix(u.Path, "/"))
	default:
		target = path.Clean(path.Join(path.Dir(docPath), u.Path))
	}
	// Tried in turn: the target, then (a relative path Docusaurus did not
	// find beside the document) from the docs root, each also with .md and
	// .mdx swapped.
	tries := []string{target}
	if !strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(u.Path, "@site/") {
		tries = append(tries, path.Clean(u.Path))
	}
	var slug string
	found := false
	for _, t := range tries {
		other := map[string]string{".md": ".mdx", ".mdx": ".md"}[path.Ext(t)]
		for _, c := range []string{t, strings.TrimSuffix(t, path.Ext(t)) + other} {
			if slug, found = links(c); found {
				break
			}
		}
		if found {
			break
		}
	}
	if !found {
		return dest, false
	}
	s := DocURL(slug)
	if u.Fragment != "" {
		s += "#" + url.PathEscape(u.Fragment)
	}
	return []byte(s), true
}

// DocURL is the reader's URL of the page with this slug.
func DocURL(slug string) string {
	if slug == "" {
		return "/docs/"
	}
	parts := strings.Split(slug, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "/docs/" + strings.Join(parts, "/")
}

// inlineText is the visible text of an inline container: what a reader
// sees, without markup (code spans keep their text, links their label,
// images their alt text, raw HTML nothing).
func inlineText(n ast.Node, src []byte) string {
	var b strings.Builder
	writeInline(&b, n, src)
	return strings.TrimSpace(b.String())
}

// writeInline writes the visible text of n's inlines. Character
// references ("c&oacute;digo", "&amp;") are decoded, as a browser shows
// them, except in code spans, where they are literal.
func writeInline(b *strings.Builder, n ast.Node, src []byte) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.CodeSpan:
			for t := c.FirstChild(); t != nil; t = t.NextSibling() {
				if t, ok := t.(*ast.Text); ok {
					b.Write(t.Segment.Value(src))
				}
			}
		case *ast.Text:
			if v := c.Segment.Value(src); bytes.IndexByte(v, '&') >= 0 {
				b.WriteString(stdhtml.UnescapeString(string(v)))
			} else {
				b.Write(v)
			}
			switch {
			case c.HardLineBreak():
				b.WriteByte('\n')
			case c.SoftLineBreak():
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.AutoLink:
			b.Write(c.Label(src))
		case *ast.RawHTML:
		case *extast.TaskCheckBox:
		case *extast.FootnoteLink:
		default:
			writeInline(b, c, src)
		}
	}
}

// blockOf returns the plain text of a top-level block.
func blockOf(n ast.Node, src []byte) (block, bool) {
	var t string
	code := false
	switch n := n.(type) {
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		t, code = linesText(n, src), true
	case *ast.HTMLBlock:
		raw := linesText(n, src)
		if n.HasClosure() {
			raw += "\n" + string(n.ClosureLine.Value(src))
		}
		t = strings.TrimSpace(stdhtml.UnescapeString(htmlTag.ReplaceAllString(scriptOrStyle.ReplaceAllString(raw, " "), " ")))
		t = strings.Join(strings.Fields(t), " ")
	case *ast.ThematicBreak:
		return block{}, false
	default:
		var b strings.Builder
		writeBlock(&b, n, src, "")
		t = strings.TrimSpace(b.String())
	}
	if strings.TrimSpace(t) == "" {
		return block{}, false
	}
	return block{text: t, words: len(strings.Fields(t)), code: code}, true
}

var (
	htmlTag       = regexp.MustCompile(`<[^>]*>|<!--[\s\S]*?-->`)
	scriptOrStyle = regexp.MustCompile(`(?is)<(script|style)\b.*?(</(script|style)\s*>|$)`)
)

func linesText(n ast.Node, src []byte) string {
	var b strings.Builder
	lines := n.Lines()
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		b.Write(seg.Value(src))
	}
	return strings.TrimRight(b.String(), "\n")
}

// writeBlock writes the text of a block and its descendants: paragraphs on
// their own lines, list items marked, table cells separated by " | ".
func writeBlock(b *strings.Builder, n ast.Node, src []byte, indent string) {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock, *ast.Heading:
		b.WriteString(indent)
		b.WriteString(inlineText(n, src))
		b.WriteByte('\n')
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		b.WriteString(linesText(n, src))
		b.WriteByte('\n')
	case *ast.HTMLBlock:
		if bl, ok := blockOf(n, src); ok {
			b.WriteString(indent + bl.text + "\n")
		}
	case *ast.List:
		for item := n.FirstChild(); item != nil; item = item.NextSibling() {
			var ib strings.Builder
			for c := item.FirstChild(); c != nil; c = c.NextSibling() {
				writeBlock(&ib, c, src, indent+"  ")
			}
			s := strings.TrimLeft(ib.String(), " ")
			b.WriteString(indent + "- " + s)
			if !strings.HasSuffix(s, "\n") {
				b.WriteByte('\n')
			}
		}
	case *extast.Table:
		for row := n.FirstChild(); row != nil; row = row.NextSibling() {
			var cells []string
			for c := row.FirstChild(); c != nil; c = c.NextSibling() {
				cells = append(cells, inlineText(c, src))
			}
			b.WriteString(indent + strings.Join(cells, " | ") + "\n")
		}
	default:
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			writeBlock(b, c, src, indent)
		}
	}
}

func joinBlocks(bs []block) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = b.text
	}
	return strings.Join(parts, "\n\n")
}

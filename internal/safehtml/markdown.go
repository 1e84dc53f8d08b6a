package safehtml

import (
	"html"
	"strconv"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	ghtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// newMarkdown configures goldmark: CommonMark with the GFM extensions
// (autolinks, tables, strikethrough, task lists), citation markers, bounded
// nesting and table size, and our own renderers for everything that could
// emit a URL or markup the policy would have to strip.
func newMarkdown() goldmark.Markdown {
	p := parser.NewParser(
		parser.WithBlockParsers(
			util.Prioritized(parser.NewSetextHeadingParser(), 100),
			util.Prioritized(parser.NewThematicBreakParser(), 200),
			util.Prioritized(boundedContainer{parser.NewListParser()}, 300),
			util.Prioritized(parser.NewListItemParser(), 400),
			util.Prioritized(parser.NewCodeBlockParser(), 500),
			util.Prioritized(parser.NewATXHeadingParser(), 600),
			util.Prioritized(parser.NewFencedCodeBlockParser(), 700),
			util.Prioritized(boundedContainer{parser.NewBlockquoteParser()}, 800),
			util.Prioritized(parser.NewHTMLBlockParser(), 900),
			util.Prioritized(parser.NewParagraphParser(), 1000),
		),
		parser.WithInlineParsers(
			util.Prioritized(parser.NewCodeSpanParser(), 100),
			util.Prioritized(citationParser{}, 150),
			util.Prioritized(boundedLinkParser{parser.NewLinkParser()}, 200),
			util.Prioritized(parser.NewAutoLinkParser(), 300),
			util.Prioritized(parser.NewRawHTMLParser(), 400),
			util.Prioritized(parser.NewEmphasisParser(), 500),
		),
		parser.WithParagraphTransformers(append(parser.DefaultParagraphTransformers(),
			util.Prioritized(boundedTable{extension.NewTableParagraphTransformer()}, 200),
		)...),
		parser.WithASTTransformers(
			util.Prioritized(extension.NewTableASTTransformer(), 0),
		),
	)
	return goldmark.New(
		goldmark.WithParser(p),
		goldmark.WithExtensions(extension.Linkify, extension.Strikethrough, extension.TaskList),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(
			util.Prioritized(extension.NewTableHTMLRenderer(
				extension.WithTableCellAlignMethod(extension.TableCellAlignNone)), 500),
			util.Prioritized(nodeRenderer{}, 100),
		)),
	)
}

// normalize prepares a parsed answer for rendering: images become their alt
// text, links that are unsafe or nested in another link become their text,
// citation markers inside links or past maxCiteLinks are marked plain, and
// aligned table cells get an align-* class in place of a style attribute.
func normalize(doc ast.Node, src []byte) {
	var (
		unwrap []ast.Node
		flat   []*ast.AutoLink
		open   []ast.Node // links that will render as <a>, innermost last
		linked int
	)
	_ = ast.Walk(doc, func(node ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			if len(open) > 0 && open[len(open)-1] == node {
				open = open[:len(open)-1]
			}
			return ast.WalkContinue, nil
		}
		switch n := node.(type) {
		case *ast.Link:
			if len(open) > 0 || !safeHref(linkHref(n)) {
				unwrap = append(unwrap, n)
			} else {
				open = append(open, n)
			}
		case *ast.AutoLink:
			if len(open) > 0 || !safeHref(autoLinkHref(n, src)) {
				flat = append(flat, n)
			}
		case *ast.Image:
			unwrap = append(unwrap, n)
		case *citationNode:
			if len(open) > 0 || linked >= maxCiteLinks {
				n.plain = true
				break
			}
			for _, r := range n.refs {
				if r.href != "" {
					linked++
				}
			}
		case *extast.TableCell:
			if n.Alignment != extast.AlignNone {
				n.SetAttributeString("class", []byte("align-"+n.Alignment.String()))
			}
		}
		return ast.WalkContinue, nil
	})
	for _, n := range unwrap {
		p := n.Parent()
		for c := n.FirstChild(); c != nil; {
			next := c.NextSibling()
			p.InsertBefore(p, n, c)
			c = next
		}
		p.RemoveChild(p, n)
	}
	for _, n := range flat {
		s := ast.NewString(n.Label(src))
		s.SetRaw(true)
		n.Parent().ReplaceChild(n.Parent(), n, s)
	}
}

// linkHref is the href goldmark would write for n, percent-encoded, with
// backslash escapes and character references resolved.
func linkHref(n *ast.Link) string {
	return string(util.URLEscape(n.Destination, true))
}

func autoLinkHref(n *ast.AutoLink, src []byte) string {
	u := util.URLEscape(n.URL(src), false)
	if n.AutoLinkType == ast.AutoLinkEmail && !hasPrefixFold(string(u), "mailto:") {
		return "mailto:" + string(u)
	}
	return string(u)
}

// nodeRenderer replaces goldmark's renderers for every node that can carry
// a URL or raw markup. It checks URLs again even though normalize already
// did, so that no future change to normalize can let an unsafe URL through.
type nodeRenderer struct{}

func (nodeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindLink, renderLink)
	reg.Register(ast.KindAutoLink, renderAutoLink)
	reg.Register(ast.KindImage, renderChildrenOnly)
	reg.Register(ast.KindRawHTML, renderNothing)
	reg.Register(ast.KindHTMLBlock, renderNothing)
	reg.Register(extast.KindTaskCheckBox, renderTaskCheckBox)
	reg.Register(kindCitation, renderCitation)
}

func renderLink(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Link)
	href := linkHref(n)
	if !safeHref(href) {
		return ast.WalkContinue, nil
	}
	if !entering {
		_, _ = w.WriteString("</a>")
		return ast.WalkContinue, nil
	}
	writeOpenA(w, href, "")
	if n.Title != nil {
		_, _ = w.WriteString(` title="`)
		ghtml.DefaultWriter.Write(w, n.Title)
		_ = w.WriteByte('"')
	}
	_ = w.WriteByte('>')
	return ast.WalkContinue, nil
}

func renderAutoLink(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.AutoLink)
	label := html.EscapeString(string(n.Label(src)))
	if href := autoLinkHref(n, src); safeHref(href) {
		writeOpenA(w, href, "")
		_, _ = w.WriteString(">" + label + "</a>")
	} else {
		_, _ = w.WriteString(label)
	}
	return ast.WalkSkipChildren, nil
}

func renderCitation(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*citationNode)
	if n.plain {
		_, _ = w.WriteString(html.EscapeString(string(n.raw)))
		return ast.WalkSkipChildren, nil
	}
	for _, r := range n.refs {
		label := "[" + strconv.Itoa(r.n) + "]"
		if r.href == "" || !safeHref(r.href) {
			_, _ = w.WriteString(label)
			continue
		}
		writeOpenA(w, r.href, "cite")
		if r.title != "" {
			_, _ = w.WriteString(` title="` + html.EscapeString(r.title) + `"`)
		}
		_, _ = w.WriteString(">" + label + "</a>")
	}
	return ast.WalkSkipChildren, nil
}

// writeOpenA writes "<a" and its attributes up to, not including, the
// closing ">" so callers can add a title.
func writeOpenA(w util.BufWriter, href, class string) {
	_, _ = w.WriteString("<a")
	if class != "" {
		_, _ = w.WriteString(` class="` + class + `"`)
	}
	_, _ = w.WriteString(` href="` + html.EscapeString(href) + `" rel="` + linkRel + `"`)
}

// renderTaskCheckBox writes the box as a character rather than an <input>,
// which keeps form controls out of the allowlist entirely.
func renderTaskCheckBox(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		if node.(*extast.TaskCheckBox).IsChecked {
			_, _ = w.WriteString("☑ ")
		} else {
			_, _ = w.WriteString("☐ ")
		}
	}
	return ast.WalkContinue, nil
}

func renderChildrenOnly(util.BufWriter, []byte, ast.Node, bool) (ast.WalkStatus, error) {
	return ast.WalkContinue, nil
}

func renderNothing(util.BufWriter, []byte, ast.Node, bool) (ast.WalkStatus, error) {
	return ast.WalkSkipChildren, nil
}

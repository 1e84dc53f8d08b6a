package safehtml

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Bounds that keep the cost of rendering linear in the size of the input.
// goldmark has a few constructs whose cost grows with the square of their
// size (the CommonMark reference implementation limits the same ones); an
// answer hitting a bound still renders, with the excess as plain text.
const (
	// maxNesting bounds how deeply block quotes and lists nest. goldmark
	// revisits every open container on every line; past the bound a ">" or
	// list marker is text.
	maxNesting = 12
	// maxBlankRun is the longest run of blank lines kept. A blank line
	// continues every open container, so it is the one line that costs
	// work proportional to the nesting depth while being a byte long.
	maxBlankRun = 3
	// maxLinkOpeners bounds the "[" and "![" handed to goldmark's link
	// parser per paragraph (or heading, or table cell): every "]" rescans
	// the text since its "[". Past it, "[" is text.
	maxLinkOpeners = 128
	// maxLinkTail is how far into a line the "(…)" part of an inline link
	// may reach. goldmark scans from each "](" to the end of the line or
	// beyond, which repeated "](" turns quadratic. Longer, multi-line or
	// unterminated link targets make the link text.
	maxLinkTail = 2048
	// maxEscapedPipes bounds \| in tables per answer; goldmark matches
	// every escaped pipe against every table cell containing code.
	maxEscapedPipes = 256
)

// renderContext is the goldmark parse context plus the per-answer state of
// our parsers: the citations and the counters behind the bounds above.
// goldmark hands the context given to Parse to every parser unchanged.
type renderContext struct {
	parser.Context
	cites        []resolvedCitation
	linkOpeners  int // in the current inline block
	escapedPipes int // in tables so far
}

// prepareInput cuts s to MaxInput bytes without splitting a rune, replaces
// invalid UTF-8 and shortens runs of blank lines to maxBlankRun.
func prepareInput(s string) []byte {
	if len(s) > MaxInput {
		n := MaxInput
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	out := make([]byte, 0, len(s))
	blank := 0
	for len(s) > 0 {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line = s[:i+1]
		}
		s = s[len(line):]
		if strings.Trim(line, " \t\r\n") != "" {
			blank = 0
		} else if blank++; blank > maxBlankRun {
			continue
		}
		out = append(out, line...)
	}
	return out
}

// boundedContainer wraps the block quote or list parser and refuses to open
// a container beyond maxNesting.
type boundedContainer struct{ parser.BlockParser }

func (b boundedContainer) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	depth := 0
	for n := parent; n != nil; n = n.Parent() {
		if k := n.Kind(); k == ast.KindBlockquote || k == ast.KindList {
			depth++
		}
	}
	if depth >= maxNesting {
		return nil, parser.NoChildren
	}
	return b.BlockParser.Open(parent, reader, pc)
}

// boundedLinkParser wraps goldmark's link parser to enforce maxLinkOpeners
// and maxLinkTail.
type boundedLinkParser struct{ parser.InlineParser }

func (b boundedLinkParser) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	line, _ := block.PeekLine()
	if line[0] == ']' {
		if len(line) > 1 && line[1] == '(' && !linkTailBounded(line[1:]) {
			return nil
		}
		return b.InlineParser.Parse(parent, block, pc)
	}
	rc, ok := pc.(*renderContext)
	if !ok {
		return b.InlineParser.Parse(parent, block, pc)
	}
	if rc.linkOpeners >= maxLinkOpeners {
		return nil
	}
	n := b.InlineParser.Parse(parent, block, pc)
	if n != nil {
		rc.linkOpeners++
	}
	return n
}

// CloseBlock forwards to the link parser, which turns unclosed "[" into
// text at the end of each inline block; goldmark only calls it on inline
// parsers that implement it.
func (b boundedLinkParser) CloseBlock(parent ast.Node, block text.Reader, pc parser.Context) {
	if rc, ok := pc.(*renderContext); ok {
		rc.linkOpeners = 0
	}
	if cb, ok := b.InlineParser.(parser.CloseBlocker); ok {
		cb.CloseBlock(parent, block, pc)
	}
}

// linkTailBounded reports whether the "(destination "title")" of an inline
// link, starting at tail[0] == '(', ends on this line within maxLinkTail
// bytes, so that goldmark's own scan of it stays as short. It follows
// goldmark's parseLink and parseLinkDestination; when it answers true for
// something goldmark then rejects, goldmark has still stopped early.
func linkTailBounded(tail []byte) bool {
	if len(tail) > maxLinkTail {
		tail = tail[:maxLinkTail]
	}
	i := skipBlank(tail, 1)
	if i >= len(tail) || tail[i] == '\n' || tail[i] == '\r' {
		return false
	}
	if tail[i] == ')' {
		return true
	}
	if tail[i] == '<' {
		j := indexUnescaped(tail, i+1, '>')
		if j < 0 {
			return false
		}
		i = j + 1
	} else {
		opened := 0
	dest:
		for ; i < len(tail); i++ {
			switch c := tail[i]; {
			case c == '\\' && i+1 < len(tail) && util.IsPunct(tail[i+1]):
				i++
			case c == '(':
				opened++
			case c == ')':
				if opened == 0 {
					break dest
				}
				opened--
			case util.IsSpace(c):
				break dest
			}
		}
	}
	i = skipBlank(tail, i)
	if i >= len(tail) || tail[i] == '\n' || tail[i] == '\r' {
		return false
	}
	switch tail[i] {
	case '"', '\'':
		return indexUnescaped(tail, i+1, tail[i]) >= 0
	case '(':
		return indexUnescaped(tail, i+1, ')') >= 0
	}
	return true
}

func skipBlank(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

// indexUnescaped returns the index of the first c in b[i:] not escaped by a
// backslash and before the end of the line, or -1.
func indexUnescaped(b []byte, i int, c byte) int {
	for ; i < len(b) && b[i] != '\n'; i++ {
		switch b[i] {
		case '\\':
			i++
		case c:
			return i
		}
	}
	return -1
}

// boundedTable wraps the GFM table transformer. goldmark pads every row to
// the header's width, so a wide header over many one-character lines would
// turn a few kilobytes into millions of cells: paragraphs whose possible
// cell count is out of proportion to their size stay paragraphs, as do
// tables past the answer's maxEscapedPipes.
type boundedTable struct{ parser.ParagraphTransformer }

func (t boundedTable) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	lines := node.Lines()
	if lines.Len() < 2 {
		return
	}
	src := reader.Source()
	size, cols, pipes, delim := 0, 0, 0, false
	for i := range lines.Len() {
		seg := lines.At(i)
		line := seg.Value(src)
		size += len(line)
		cols = max(cols, bytes.Count(line, []byte{'|'})+1)
		pipes += bytes.Count(line, []byte{'\\', '|'})
		delim = delim || (i > 0 && isDelimiterRow(line))
	}
	if !delim || lines.Len()*cols > 4*size+256 {
		return
	}
	if rc, ok := pc.(*renderContext); ok && pipes > 0 {
		if rc.escapedPipes+pipes > maxEscapedPipes {
			return
		}
		rc.escapedPipes += pipes
	}
	t.ParagraphTransformer.Transform(node, reader, pc)
}

// isDelimiterRow reports whether line could be a table's delimiter row,
// such as "|:--|--:|".
func isDelimiterRow(line []byte) bool {
	dash := false
	for _, c := range line {
		switch c {
		case '-':
			dash = true
		case '|', ':', ' ', '\t', '\r', '\n':
		default:
			return false
		}
	}
	return dash
}

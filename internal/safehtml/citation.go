package safehtml

import (
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Bounds on what counts as a citation marker, so that scanning one is
// constant work and a marker cannot expand into a flood of links.
const (
	maxMarkerLen  = 64   // bytes, "[" to "]" inclusive
	maxMarkerRefs = 32   // numbers in one marker, ranges expanded
	maxCiteNumber = 9999 // numbers have at most four digits
	maxCiteLinks  = 1000 // citation links per answer; the rest stay text
)

// kindCitation is the AST kind of a citation marker. goldmark node kinds are
// process-wide registrations, so it is created once and never reassigned.
var kindCitation = ast.NewNodeKind("Citation")

// citeRef is one number of a marker, resolved against the answer's citations.
type citeRef struct {
	n     int
	href  string // "" when the number matches no usable citation
	title string
}

// citationNode is a citation marker such as [1], [1, 2] or [1-3].
type citationNode struct {
	ast.BaseInline
	raw  []byte    // the marker as written
	refs []citeRef // in the order written, ranges expanded
	// plain is set for markers that must not become links: inside another
	// link, or past maxCiteLinks.
	plain bool
}

func (n *citationNode) Kind() ast.NodeKind { return kindCitation }

func (n *citationNode) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{"Raw": string(n.raw)}, nil)
}

// resolvedCitation is a Citation whose URL has been escaped and checked.
type resolvedCitation struct {
	href, title string // href is "" when the URL failed safeHref
}

func resolveCitations(cs []Citation) []resolvedCitation {
	out := make([]resolvedCitation, len(cs))
	for i, c := range cs {
		href := string(util.URLEscape([]byte(c.URL), false))
		if !safeHref(href) {
			href = ""
		}
		out[i] = resolvedCitation{href: href, title: c.Title}
	}
	return out
}

// citationParser turns citation markers into citationNodes. It runs before
// goldmark's link parser, so "[1]" is a citation even when the answer also
// defines a reference link labelled 1: the server's sources win over URLs
// the model made up. It leaves alone markers followed by "(" (an inline
// link such as [1](https://…)) and markers that match no usable citation,
// which then get ordinary Markdown treatment. Code spans never reach inline
// parsers, so markers inside code stay code.
type citationParser struct{}

func (citationParser) Trigger() []byte { return []byte{'['} }

func (citationParser) Parse(_ ast.Node, block text.Reader, pc parser.Context) ast.Node {
	cc, ok := pc.(*renderContext)
	if !ok || len(cc.cites) == 0 {
		return nil
	}
	line, _ := block.PeekLine()
	nums, size, ok := parseMarker(line)
	if !ok || (size < len(line) && line[size] == '(') {
		return nil
	}
	refs := make([]citeRef, len(nums))
	linked := false
	for i, num := range nums {
		refs[i].n = num
		if num <= len(cc.cites) && cc.cites[num-1].href != "" {
			refs[i].href = cc.cites[num-1].href
			refs[i].title = cc.cites[num-1].title
			linked = true
		}
	}
	if !linked {
		return nil
	}
	node := &citationNode{raw: append([]byte(nil), line[:size]...), refs: refs}
	block.Advance(size)
	return node
}

// parseMarker reads a citation marker at the start of line: "[1]",
// "[1, 2]", "[1; 2]", "[1-3]" (also with an en dash), and combinations.
// Numbers are 1 to maxCiteNumber without leading zeros. It returns the
// numbers with ranges expanded and the marker's length in bytes.
func parseMarker(line []byte) (nums []int, size int, ok bool) {
	if len(line) < 3 || line[0] != '[' {
		return nil, 0, false
	}
	if len(line) > maxMarkerLen {
		line = line[:maxMarkerLen]
	}
	i := 1
	for {
		i = skipSpaces(line, i)
		lo, j := readNumber(line, i)
		if j == i {
			return nil, 0, false
		}
		hi := lo
		i = skipSpaces(line, j)
		if d := dashLen(line, i); d > 0 {
			i = skipSpaces(line, i+d)
			if hi, j = readNumber(line, i); j == i || hi < lo || hi-lo >= maxMarkerRefs {
				return nil, 0, false
			}
			i = skipSpaces(line, j)
		}
		if len(nums)+hi-lo+1 > maxMarkerRefs {
			return nil, 0, false
		}
		for k := lo; k <= hi; k++ {
			nums = append(nums, k)
		}
		if i >= len(line) {
			return nil, 0, false
		}
		switch line[i] {
		case ']':
			return nums, i + 1, true
		case ',', ';':
			i++
		default:
			return nil, 0, false
		}
	}
}

func skipSpaces(b []byte, i int) int {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

// readNumber reads a citation number at b[i:], returning the index after it;
// that index is i when there is none.
func readNumber(b []byte, i int) (int, int) {
	if i >= len(b) || b[i] < '1' || b[i] > '9' {
		return 0, i
	}
	n, j := 0, i
	for j < len(b) && '0' <= b[j] && b[j] <= '9' {
		n = n*10 + int(b[j]-'0')
		j++
		if n > maxCiteNumber {
			return 0, i
		}
	}
	return n, j
}

// dashLen returns the length of a hyphen or en dash at b[i:], or 0.
func dashLen(b []byte, i int) int {
	switch {
	case i < len(b) && b[i] == '-':
		return 1
	case i+2 < len(b) && b[i] == 0xe2 && b[i+1] == 0x80 && b[i+2] == 0x93:
		return 3
	}
	return 0
}

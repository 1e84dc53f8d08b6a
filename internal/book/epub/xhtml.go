package epub

import (
	"bytes"
	"encoding/binary"
	"path"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// toUTF8 returns b as UTF-8 without a byte order mark. UTF-16 with a BOM is
// decoded; anything else is taken as UTF-8 whatever it declares, with each
// run of invalid bytes replaced by U+FFFD, so that a mislabelled document
// still reads rather than failing the whole book.
func toUTF8(b []byte) []byte {
	switch {
	case bytes.HasPrefix(b, []byte("\xef\xbb\xbf")):
		b = b[3:]
	case bytes.HasPrefix(b, []byte("\xfe\xff")):
		return fromUTF16(b[2:], binary.BigEndian)
	case bytes.HasPrefix(b, []byte("\xff\xfe")):
		return fromUTF16(b[2:], binary.LittleEndian)
	}
	if utf8.Valid(b) {
		return b
	}
	return bytes.ToValidUTF8(b, []byte("\uFFFD"))
}

func fromUTF16(b []byte, order binary.ByteOrder) []byte {
	out := make([]byte, 0, len(b)+len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		r := rune(order.Uint16(b[i:]))
		if utf16.IsSurrogate(r) && i+3 < len(b) {
			if r2 := rune(order.Uint16(b[i+2:])); utf16.DecodeRune(r, r2) != utf8.RuneError {
				r = utf16.DecodeRune(r, r2)
				i += 2
			}
		}
		out = utf8.AppendRune(out, r)
	}
	return out
}

// parseXHTML parses an XHTML document with the HTML5 parser, which copes
// with broken markup and fails only on elements nested more than 512 deep.
// XHTML's self-closing tags are first made explicit, because the HTML parser
// ignores "/>" on non-void elements: an <a id="p1"/> anchor would otherwise
// swallow the text after it, and a <title/> the whole document.
func parseXHTML(src []byte) (*html.Node, error) {
	return html.Parse(bytes.NewReader(prepareXHTML(src)))
}

// prepareXHTML readies an XHTML document for the HTML parser or tokenizer.
func prepareXHTML(src []byte) []byte {
	return expandSelfClosing(dropInternalSubset(src))
}

// dropInternalSubset removes a DOCTYPE that declares entities in an internal
// subset, <!DOCTYPE html [ ... ]>: the HTML parser ends a DOCTYPE at its first
// '>' and would show the rest of the subset as text. The entities are not
// expanded either way.
func dropInternalSubset(src []byte) []byte {
	start := -1
	for i := 0; i+9 <= min(len(src), 1024); i++ {
		if src[i] == '<' && bytes.EqualFold(src[i:i+9], []byte("<!DOCTYPE")) {
			start = i
			break
		}
	}
	if start < 0 {
		return src
	}
	gt := bytes.IndexByte(src[start:], '>')
	open := bytes.IndexByte(src[start:], '[')
	if open < 0 || gt >= 0 && gt < open {
		return src
	}
	end := bytes.Index(src[start+open:], []byte("]"))
	for end >= 0 {
		rest := bytes.TrimLeft(src[start+open+end+1:], " \t\r\n")
		if len(rest) > 0 && rest[0] == '>' {
			cut := len(src) - len(rest) + 1
			return append(append([]byte{}, src[:start]...), src[cut:]...)
		}
		next := bytes.IndexByte(src[start+open+end+1:], ']')
		if next < 0 {
			break
		}
		end += next + 1
	}
	return src
}

// expandSelfClosing rewrites <x .../> as <x ...></x> for every element that
// HTML does not already know to be void, leaving all other bytes as they are.
func expandSelfClosing(src []byte) []byte {
	z := html.NewTokenizer(bytes.NewReader(src))
	out := bytes.NewBuffer(make([]byte, 0, len(src)+len(src)/16))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out.Bytes()
		case html.SelfClosingTagToken:
			raw := z.Raw()
			if !bytes.HasSuffix(raw, []byte("/>")) {
				out.Write(raw)
				continue
			}
			out.Write(raw[:len(raw)-2])
			name, _ := z.TagName()
			if isVoid(atom.Lookup(name)) {
				out.WriteString("/>")
				continue
			}
			out.WriteString("></")
			out.Write(name)
			out.WriteByte('>')
			// <title/> and <script/> leave the tokenizer expecting raw text.
			z.NextIsNotRawText()
		default:
			out.Write(z.Raw())
		}
	}
}

func isVoid(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input,
		atom.Keygen, atom.Link, atom.Meta, atom.Param, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}

// walk calls fn on root and its descendants in document order, without
// recursion, so that no nesting depth can exhaust the stack. When fn returns
// false the node's children are skipped.
func walk(root *html.Node, fn func(*html.Node) bool) {
	n := root
	for {
		if fn(n) && n.FirstChild != nil {
			n = n.FirstChild
			continue
		}
		for n != root && n.NextSibling == nil {
			n = n.Parent
		}
		if n == root {
			return
		}
		n = n.NextSibling
	}
}

// textContent returns the text under n as a reader sees it: dropped elements
// left out, a space where a block or a line break separates words. White
// space is not collapsed.
func textContent(n *html.Node) string {
	var b strings.Builder
	walk(n, func(m *html.Node) bool {
		switch m.Type {
		case html.TextNode:
			b.WriteString(m.Data)
		case html.ElementNode:
			if m != n && dropped(m) {
				return false
			}
			if m.DataAtom == atom.Br || isBlock(m) {
				b.WriteByte(' ')
			}
		}
		return true
	})
	return b.String()
}

func getAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key && a.Namespace == "" {
			return a.Val
		}
	}
	return ""
}

// parseNav returns the links of the table of contents of an EPUB 3
// navigation document found at navPath: the <nav epub:type="toc">, or the
// first <nav> when none is marked. A document that cannot be parsed has no
// links, and the NCX, if any, is used instead.
func parseNav(navPath string, data []byte) []tocEntry {
	doc, err := parseXHTML(toUTF8(data))
	if err != nil {
		return nil
	}
	var toc, first *html.Node
	walk(doc, func(n *html.Node) bool {
		if n.Type != html.ElementNode || n.DataAtom != atom.Nav {
			return toc == nil
		}
		if first == nil {
			first = n
		}
		if hasToken(getAttr(n, "epub:type"), "toc") || hasToken(getAttr(n, "role"), "doc-toc") {
			toc = n
		}
		return false
	})
	if toc == nil {
		toc = first
	}
	if toc == nil {
		return nil
	}
	dir := path.Dir(navPath)
	var entries []tocEntry
	walk(toc, func(n *html.Node) bool {
		if n.Type != html.ElementNode || n.DataAtom != atom.A {
			return true
		}
		href := getAttr(n, "href")
		if p, remote, err := resolveHref(dir, href); err == nil && !remote && p != "" {
			entries = append(entries, tocEntry{path: p, fragment: strings.Contains(href, "#"), label: collapse(textContent(n))})
		}
		return false
	})
	return entries
}

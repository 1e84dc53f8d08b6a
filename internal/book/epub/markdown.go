package epub

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

const (
	// maxDepth is the element nesting beyond which content is kept as plain
	// text, so that a hostile document cannot exhaust the stack.
	maxDepth = 256
	// maxColumns caps the columns of a table; the cells of a wider row are
	// joined into its last one.
	maxColumns = 64
	// maxListNumber is the largest number CommonMark allows on an ordered
	// list item.
	maxListNumber = 999_999_999
)

// errTooLarge stops a conversion whose output outgrows its input, as deeply
// nested lists and quotes around long text can make it do.
var errTooLarge = &Error{Kind: ErrUnsafe, Msg: "document too complex to convert: its Markdown would be far larger than its XHTML"}

// converted is one XHTML document as Markdown, with the two titles it offers.
type converted struct {
	markdown string   // blocks separated by one blank line, ending in a newline; "" when the body has no text
	heading  string   // plain text of the first heading
	title    string   // plain text of <title>
	images   []string // the sources of the images it shows, as written
}

// toMarkdown converts an XHTML document, given as UTF-8, to CommonMark with
// GFM tables. Its errors are *Error values without an entry name.
func toMarkdown(src []byte) (converted, error) {
	budget := 8*len(src) + 1<<20
	src = prepareXHTML(src)
	doc, err := html.Parse(bytes.NewReader(src))
	if err != nil {
		return plainMarkdown(src, budget)
	}
	var out converted
	var body *html.Node
	walk(doc, func(n *html.Node) bool {
		if n.Type != html.ElementNode || n.Namespace != "" {
			return true
		}
		switch n.DataAtom {
		case atom.Title:
			if out.title == "" {
				out.title = collapse(textContent(n))
			}
			return false
		case atom.Body:
			if body == nil {
				body = n
			}
			return false
		}
		return true
	})
	if body == nil {
		return out, nil
	}
	c := &converter{blocky: markBlocky(body), budget: budget}
	blocks := c.blocks(body, 0)
	if c.err != nil {
		return converted{}, c.err
	}
	if len(blocks) > 0 {
		out.markdown = joinBlocks(blocks, false) + "\n"
	}
	out.heading, out.images = c.heading, c.images
	return out, nil
}

// localRef reports whether an image source names a file of the archive:
// a relative path, not a URL.
func localRef(src string) bool {
	if i := strings.IndexAny(src, ":/?#"); i >= 0 && src[i] == ':' {
		return false
	}
	return !strings.HasPrefix(src, "/") && !strings.HasPrefix(src, "#")
}

// plainMarkdown converts a prepared document the HTML parser refuses, one with
// elements nested more than 512 deep, to its bare text: a paragraph for
// each block element, no other markup. Such a document is broken or
// hostile, but one bad chapter should not cost a reader the whole book.
func plainMarkdown(src []byte, budget int) (converted, error) {
	var out converted
	c := &converter{budget: budget}
	b := &blocks{c: c}
	z := html.NewTokenizer(bytes.NewReader(src))
	var last atom.Atom // the element of the last start tag
	for {
		switch tt := z.Next(); tt {
		case html.ErrorToken:
			b.flush()
			if c.err != nil {
				return converted{}, c.err
			}
			if len(b.out) > 0 {
				out.markdown = joinBlocks(b.out, false) + "\n"
			}
			return out, nil
		case html.TextToken:
			n := &html.Node{Type: html.ElementNode, DataAtom: last}
			switch {
			case last == atom.Title && out.title == "":
				out.title = collapse(string(z.Text()))
			case !dropped(n):
				c.writeText(&b.inl, string(z.Text()))
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			n := &html.Node{Type: html.ElementNode, DataAtom: atom.Lookup(name)}
			if tt == html.StartTagToken {
				last = n.DataAtom
			} else {
				last = 0
			}
			switch {
			case n.DataAtom == atom.Br:
				b.inl.WriteByte(lineBreak)
			case isBlock(n):
				b.flush()
			}
		}
	}
}

// converter holds the state of one conversion.
type converter struct {
	blocky             map[*html.Node]bool // inline elements that hold block elements
	budget             int                 // bytes of blocks still allowed
	em, strong, strike int                 // open emphasis of each kind
	inTable            bool
	inHeading          bool
	inLink             bool
	heading            string
	images             []string // the sources of the images shown, as written
	err                error
}

// block is one finished Markdown block.
type block struct {
	text       string
	para       bool // a paragraph
	rule       bool // a thematic break
	marker     byte // for a list, its marker: '-', '*', '.' or ')'
	interrupts bool // a list that may directly follow a paragraph line
}

// blocks collects the blocks of one container, and the inline Markdown of
// the paragraph in progress. In inline Markdown a NUL byte marks a line
// break; text never holds one.
type blocks struct {
	c   *converter
	out []block
	inl bytes.Buffer
}

func (b *blocks) add(bl block) {
	if b.c.err != nil {
		return
	}
	b.c.budget -= len(bl.text)
	if b.c.budget < 0 {
		b.c.err = errTooLarge
		return
	}
	b.out = append(b.out, bl)
}

func (b *blocks) last() block {
	if len(b.out) == 0 {
		return block{}
	}
	return b.out[len(b.out)-1]
}

// flush ends the paragraph in progress. A line break becomes a backslash
// hard break; two or more in a row end the paragraph, as a reader sees it.
func (b *blocks) flush() {
	if b.inl.Len() == 0 {
		return
	}
	s := b.inl.String()
	b.inl.Reset()
	var lines []string
	emit := func() {
		if len(lines) == 0 {
			return
		}
		text := resolveInline(strings.Join(lines, string(lineBreak)))
		if strings.TrimSpace(text) == "" {
			lines = nil
			return
		}
		lines = strings.Split(text, "\n")
		for i, ln := range lines {
			lines[i] = escapeLineStart(ln)
		}
		b.add(block{text: strings.Join(lines, "\n"), para: true})
		lines = nil
	}
	for _, ln := range strings.Split(s, string(lineBreak)) {
		ln = squeeze(ln)
		if strings.TrimSpace(ln) == "" {
			emit()
			continue
		}
		lines = append(lines, ln)
	}
	emit()
}

// blocks renders the children of n as blocks.
func (c *converter) blocks(n *html.Node, depth int) []block {
	b := &blocks{c: c}
	c.children(n, b, depth)
	b.flush()
	return b.out
}

func (c *converter) children(n *html.Node, b *blocks, depth int) {
	for ch := n.FirstChild; ch != nil && c.err == nil; ch = ch.NextSibling {
		c.block(ch, b, depth+1)
	}
}

// block renders n, a node in a block context, into b.
func (c *converter) block(n *html.Node, b *blocks, depth int) {
	switch {
	case c.err != nil:
		return
	case n.Type == html.TextNode:
		c.writeText(&b.inl, n.Data)
		return
	case n.Type != html.ElementNode || dropped(n):
		return
	case depth > maxDepth:
		c.writeText(&b.inl, " "+textContent(n)+" ")
		return
	}
	if level := headingLevel(n); level > 0 {
		c.addHeading(b, level, []*html.Node{n}, depth)
		return
	}
	if n.DataAtom == atom.Hgroup {
		// A heading and its subtitles ("VII" and "Concerning New
		// Principalities…") are one heading: "VII: Concerning…".
		level := 0
		var parts []*html.Node
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type == html.ElementNode && !dropped(ch) {
				parts = append(parts, ch)
				if l := headingLevel(ch); l > 0 && (level == 0 || l < level) {
					level = l
				}
			}
		}
		if level > 0 {
			c.addHeading(b, level, parts, depth)
			return
		}
	}
	switch n.DataAtom {
	case atom.Ul, atom.Ol:
		b.flush()
		c.list(n, b, depth)
	case atom.Blockquote:
		b.flush()
		if inner := c.blocks(n, depth); len(inner) > 0 {
			b.add(block{text: prefixLines(joinBlocks(inner, false), ">", "> ")})
		}
	case atom.Pre:
		b.flush()
		if s := codeBlock(n); s != "" {
			b.add(block{text: s})
		}
	case atom.Table:
		b.flush()
		c.table(n, b, depth)
	case atom.Hr:
		b.flush()
		b.add(block{text: "---", rule: true})
	case atom.Dt:
		b.flush()
		var w bytes.Buffer
		c.emphasis(n, &w, depth, &c.strong, strongMark)
		if text := line(&w); text != "" {
			b.add(block{text: escapeLineStart(text), para: true})
		}
	default:
		switch {
		case isBlock(n):
			b.flush()
			c.children(n, b, depth)
			b.flush()
		case c.blocky[n]:
			c.children(n, b, depth)
		default:
			c.inline(n, &b.inl, depth)
		}
	}
}

// inline renders n, a node in an inline context, as inline Markdown into w.
// Block elements met here (in a heading or a table cell) are flattened.
func (c *converter) inline(n *html.Node, w *bytes.Buffer, depth int) {
	switch {
	case n.Type == html.TextNode:
		c.writeText(w, n.Data)
		return
	case n.Type != html.ElementNode || dropped(n):
		return
	case depth > maxDepth:
		c.writeText(w, " "+textContent(n)+" ")
		return
	}
	switch n.DataAtom {
	case atom.Br:
		w.WriteByte(lineBreak)
	case atom.Em, atom.I, atom.Cite, atom.Dfn, atom.Var:
		c.emphasis(n, w, depth, &c.em, emMark)
	case atom.Strong, atom.B:
		c.emphasis(n, w, depth, &c.strong, strongMark)
	case atom.Del, atom.S, atom.Strike:
		c.emphasis(n, w, depth, &c.strike, strikeMark)
	case atom.Code, atom.Kbd, atom.Samp, atom.Tt, atom.Pre:
		c.codeSpan(w, textContent(n))
	case atom.A:
		c.link(n, w, depth)
	case atom.Img:
		if src := strings.TrimSpace(getAttr(n, "src")); src != "" && !c.inHeading && !c.inLink && localRef(src) {
			w.WriteString(string(imageBang) + "[")
			c.writeText(w, collapse(getAttr(n, "alt")))
			w.WriteString("](" + escapeURL(src) + ")")
			c.images = append(c.images, src)
			break
		}
		if alt := collapse(getAttr(n, "alt")); alt != "" {
			if c.em > 0 {
				c.writeText(w, alt)
			} else {
				w.Write([]byte{markOpen, emMark})
				c.writeText(w, alt)
				w.Write([]byte{markClose, emMark})
			}
		}
	case atom.Math:
		if alt := getAttr(n, "alttext"); alt != "" {
			c.writeText(w, alt)
		} else {
			c.inlineChildren(n, w, depth)
		}
	default:
		if isBlock(n) {
			w.WriteByte(' ')
			c.inlineChildren(n, w, depth)
			w.WriteByte(' ')
			return
		}
		c.inlineChildren(n, w, depth)
	}
}

func (c *converter) inlineChildren(n *html.Node, w *bytes.Buffer, depth int) {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		c.inline(ch, w, depth+1)
	}
}

// oneLine renders the content of n as a single line of inline Markdown.
func (c *converter) oneLine(n *html.Node, depth int) string {
	var w bytes.Buffer
	c.inlineChildren(n, &w, depth)
	return line(&w)
}

// line turns inline Markdown into a single line, line breaks made spaces.
func line(w *bytes.Buffer) string {
	return resolveInline(squeeze(strings.ReplaceAll(w.String(), string(lineBreak), " ")))
}

// emphasis marks the content of n for emphasis of the kind delim. White
// space at its edges goes outside the marks, where CommonMark needs it;
// emphasis nested in the same kind adds nothing. resolveEmphasis turns the
// marks into delimiters once the whole paragraph is known.
func (c *converter) emphasis(n *html.Node, w *bytes.Buffer, depth int, open *int, delim byte) {
	if *open > 0 {
		c.inlineChildren(n, w, depth)
		return
	}
	*open++
	start := w.Len()
	c.inlineChildren(n, w, depth)
	*open--
	wrapTail(w, start, string([]byte{markOpen, delim}), string([]byte{markClose, delim}))
}

// wrapTail puts open and close around what w holds after start, leaving
// white space and line breaks at its edges outside.
func wrapTail(w *bytes.Buffer, start int, open, close string) {
	inner := string(w.Bytes()[start:])
	core := strings.TrimFunc(inner, isSpaceOrBreak)
	if core == "" {
		return
	}
	lead := inner[:strings.Index(inner, core)]
	trail := inner[len(lead)+len(core):]
	w.Truncate(start)
	w.WriteString(lead)
	w.WriteString(open)
	w.WriteString(core)
	w.WriteString(close)
	w.WriteString(trail)
}

func isSpaceOrBreak(r rune) bool { return r == lineBreak || unicode.IsSpace(r) }

// link renders a link to the web as a Markdown link, and any other link
// (to another part of the book, a footnote, an e-mail address) as its text,
// as it does a link inside a link, which HTML allows across a table.
func (c *converter) link(n *html.Node, w *bytes.Buffer, depth int) {
	href := strings.TrimSpace(getAttr(n, "href"))
	lower := strings.ToLower(href)
	if c.inLink || !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		c.inlineChildren(n, w, depth)
		return
	}
	start := w.Len()
	c.inLink = true
	c.inlineChildren(n, w, depth)
	c.inLink = false
	// Link text stays on one line, or a paragraph break could split it.
	text := w.Bytes()[start:]
	for i := range text {
		if text[i] == lineBreak {
			text[i] = ' '
		}
	}
	wrapTail(w, start, "[", "]("+escapeURL(href)+")")
}

// codeSpan writes text as a code span, to be given its fences by
// resolveCode.
func (c *converter) codeSpan(w *bytes.Buffer, text string) {
	text = collapseWS(text)
	core := strings.Trim(text, " ")
	if core == "" {
		w.WriteString(text)
		return
	}
	if text[0] == ' ' {
		w.WriteByte(' ')
	}
	if c.inTable {
		core = strings.ReplaceAll(core, "|", `\|`)
	}
	w.WriteByte(codeOpen)
	w.WriteString(core)
	w.WriteByte(codeClose)
	if text[len(text)-1] == ' ' {
		w.WriteByte(' ')
	}
}

// list renders a ul or ol. A list right after another of the same kind gets
// the other marker, or CommonMark would merge the two.
func (c *converter) list(n *html.Node, b *blocks, depth int) {
	ordered := n.DataAtom == atom.Ol
	var items [][]block
	for ch := n.FirstChild; ch != nil && c.err == nil; ch = ch.NextSibling {
		switch {
		case ch.Type == html.ElementNode && ch.DataAtom == atom.Li:
			// An empty item is left out: "- - 1." opening three lists at
			// once is more than some renderers follow.
			if item := c.blocks(ch, depth+1); len(item) > 0 {
				items = append(items, item)
			}
		case ch.Type == html.TextNode && strings.TrimSpace(ch.Data) == "":
		case ch.Type == html.ElementNode || ch.Type == html.TextNode:
			// Content outside any li, typically a list nested straight
			// in a list, belongs to the item before it.
			sub := &blocks{c: c}
			c.block(ch, sub, depth+1)
			sub.flush()
			switch {
			case len(sub.out) == 0:
			case len(items) == 0:
				items = append(items, sub.out)
			default:
				items[len(items)-1] = append(items[len(items)-1], sub.out...)
			}
		}
	}
	if len(items) == 0 {
		return
	}
	prev := b.last().marker
	marker, start := byte('-'), 1
	if prev == '-' {
		marker = '*'
	}
	if ordered {
		marker = '.'
		if prev == '.' {
			marker = ')'
		}
		if s, err := strconv.Atoi(strings.TrimSpace(getAttr(n, "start"))); err == nil && s >= 0 {
			start = s
		}
		start = max(0, min(start, maxListNumber-len(items)+1))
	}
	var sb strings.Builder
	for i, item := range items {
		m := string(marker)
		if ordered {
			m = strconv.Itoa(start+i) + m
		}
		if len(item) > 0 && item[0].rule {
			// "- ---" would be one thematic break, not an item holding one.
			item[0].text = "___"
		}
		if i > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(m)
		body := joinBlocks(item, true)
		if strings.HasPrefix(body, "[x](") || strings.HasPrefix(body, "[X](") {
			// GFM renderers take "[x]" opening an item for a task checkbox.
			body = body[:2] + " " + body[2:]
		}
		if body != "" {
			sb.WriteByte(' ')
			first, rest, more := strings.Cut(body, "\n")
			sb.WriteString(first)
			if more {
				sb.WriteByte('\n')
				sb.WriteString(prefixLines(rest, "", strings.Repeat(" ", len(m)+1)))
			}
		}
	}
	b.add(block{text: sb.String(), marker: marker, interrupts: !ordered || start == 1})
}

// table renders a GFM table: the header is the first row of thead, or else
// the first row; cells are flattened to one line.
func (c *converter) table(n *html.Node, b *blocks, depth int) {
	var caption string
	var head, body [][]string
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type != html.ElementNode {
			continue
		}
		switch ch.DataAtom {
		case atom.Caption:
			caption = c.oneLine(ch, depth)
		case atom.Thead:
			head = append(head, c.rows(ch, depth+1)...)
		case atom.Tbody, atom.Tfoot:
			body = append(body, c.rows(ch, depth+1)...)
		case atom.Tr:
			body = append(body, c.row(ch, depth+1))
		}
	}
	if caption != "" {
		b.add(block{text: escapeLineStart(caption), para: true})
	}
	rows := append(head, body...)
	cols, empty := 1, true
	for _, r := range rows {
		cols = max(cols, len(r))
		empty = empty && strings.Join(r, "") == ""
	}
	if empty {
		return
	}
	var sb strings.Builder
	writeRow := func(r []string) {
		for i := range cols {
			cell := ""
			if i < len(r) {
				cell = r[i]
			}
			sb.WriteString("| ")
			sb.WriteString(cell)
			sb.WriteByte(' ')
		}
		sb.WriteString("|\n")
	}
	writeRow(rows[0])
	writeRow(slices.Repeat([]string{"---"}, cols))
	for _, r := range rows[1:] {
		writeRow(r)
	}
	b.add(block{text: strings.TrimSuffix(sb.String(), "\n")})
}

func (c *converter) rows(section *html.Node, depth int) [][]string {
	var rows [][]string
	for tr := section.FirstChild; tr != nil; tr = tr.NextSibling {
		if tr.Type == html.ElementNode && tr.DataAtom == atom.Tr {
			rows = append(rows, c.row(tr, depth+1))
		}
	}
	return rows
}

func (c *converter) row(tr *html.Node, depth int) []string {
	c.inTable = true
	defer func() { c.inTable = false }()
	var cells []string
	for td := tr.FirstChild; td != nil; td = td.NextSibling {
		if td.Type != html.ElementNode || td.DataAtom != atom.Td && td.DataAtom != atom.Th {
			continue
		}
		cells = append(cells, c.oneLine(td, depth+1))
		span, err := strconv.Atoi(strings.TrimSpace(getAttr(td, "colspan")))
		for i := 1; err == nil && i < span && len(cells) < maxColumns; i++ {
			cells = append(cells, "")
		}
	}
	if len(cells) > maxColumns {
		extra := strings.Join(cells[maxColumns-1:], " ")
		cells = append(cells[:maxColumns-1], squeeze(extra))
	}
	return cells
}

// codeBlock renders a pre element as a fenced code block, its content
// verbatim, its language taken from a class such as "language-go".
func codeBlock(pre *html.Node) string {
	var b strings.Builder
	walk(pre, func(n *html.Node) bool {
		switch n.Type {
		case html.TextNode:
			b.WriteString(strings.Map(dropControl, n.Data))
		case html.ElementNode:
			if n == pre {
				return true
			}
			if dropped(n) {
				return false
			}
			if n.DataAtom == atom.Br {
				b.WriteByte('\n')
			} else if isBlock(n) && b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
				b.WriteByte('\n')
			}
		}
		return true
	})
	text := strings.TrimRight(b.String(), "\n")
	if strings.TrimSpace(text) == "" {
		return ""
	}
	fence := strings.Repeat("`", max(3, longestRun(text, '`')+1))
	return fence + codeLanguage(pre) + "\n" + text + "\n" + fence
}

// dropControl drops the control characters other than tab and newline:
// XML forbids them, and the converter uses some as marks.
func dropControl(r rune) rune {
	if r < ' ' && r != '\t' && r != '\n' {
		return -1
	}
	return r
}

func codeLanguage(pre *html.Node) string {
	classes := getAttr(pre, "class")
	for ch := pre.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type == html.ElementNode && ch.DataAtom == atom.Code {
			classes += " " + getAttr(ch, "class")
		}
	}
	for _, class := range strings.Fields(classes) {
		lang, ok := strings.CutPrefix(class, "language-")
		if !ok {
			lang, ok = strings.CutPrefix(class, "lang-")
		}
		if ok && lang != "" && strings.IndexFunc(lang, notLangChar) < 0 {
			return lang
		}
	}
	return ""
}

func notLangChar(r rune) bool {
	return !(r < utf8.RuneSelf && (isASCIILetter(byte(r)) || '0' <= r && r <= '9' || strings.ContainsRune("+-_.#", r)))
}

// joinBlocks separates blocks with a blank line. Inside a list item (tight)
// a nested list follows a paragraph line directly, keeping the list tight.
func joinBlocks(bs []block, tight bool) string {
	var sb strings.Builder
	for i, bl := range bs {
		if i > 0 {
			if tight && bs[i-1].para && bl.marker != 0 && bl.interrupts {
				sb.WriteByte('\n')
			} else {
				sb.WriteString("\n\n")
			}
		}
		sb.WriteString(bl.text)
	}
	return sb.String()
}

// prefixLines puts prefix before every non-empty line of s and bare before
// every empty one.
func prefixLines(s, bare, prefix string) string {
	var sb strings.Builder
	for i, ln := range strings.Split(s, "\n") {
		if i > 0 {
			sb.WriteByte('\n')
		}
		if ln == "" {
			sb.WriteString(bare)
		} else {
			sb.WriteString(prefix)
			sb.WriteString(ln)
		}
	}
	return sb.String()
}

// addHeading adds a heading of the given level made of the text of nodes,
// joined by ": ".
func (c *converter) addHeading(b *blocks, level int, nodes []*html.Node, depth int) {
	b.flush()
	var texts, plain []string
	c.inHeading = true
	for _, n := range nodes {
		if t := c.oneLine(n, depth); t != "" {
			texts = append(texts, t)
			plain = append(plain, collapse(textContent(n)))
		}
	}
	c.inHeading = false
	if c.heading == "" {
		c.heading = strings.Join(plain, ": ")
	}
	if len(texts) > 0 {
		b.add(block{text: strings.Repeat("#", level) + " " + escapeClosingHash(strings.Join(texts, ": "))})
	}
}

func headingLevel(n *html.Node) int {
	switch n.DataAtom {
	case atom.H1:
		return 1
	case atom.H2:
		return 2
	case atom.H3:
		return 3
	case atom.H4:
		return 4
	case atom.H5:
		return 5
	case atom.H6:
		return 6
	}
	return 0
}

// dropped reports whether an element's content is not part of the text:
// scripts, styles, navigation, media and form controls.
func dropped(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Head, atom.Nav, atom.Template, atom.Noscript,
		atom.Iframe, atom.Object, atom.Embed, atom.Audio, atom.Video, atom.Canvas, atom.Svg,
		atom.Select, atom.Input, atom.Textarea, atom.Button, atom.Title, atom.Meta, atom.Link:
		return n.Namespace == "" || n.DataAtom == atom.Svg
	}
	return false
}

// isBlock reports whether n is an HTML element that starts a block.
func isBlock(n *html.Node) bool {
	if n.Type != html.ElementNode || n.Namespace != "" {
		return false
	}
	switch n.DataAtom {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Body, atom.Caption,
		atom.Center, atom.Dd, atom.Details, atom.Dialog, atom.Div, atom.Dl, atom.Dt,
		atom.Fieldset, atom.Figcaption, atom.Figure, atom.Footer, atom.Form,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Header, atom.Hgroup,
		atom.Hr, atom.Html, atom.Legend, atom.Li, atom.Listing, atom.Main, atom.Menu,
		atom.Nav, atom.Ol, atom.P, atom.Pre, atom.Section, atom.Summary, atom.Table,
		atom.Tbody, atom.Td, atom.Tfoot, atom.Th, atom.Thead, atom.Tr, atom.Ul:
		return true
	}
	return false
}

// markBlocky finds the inline elements under root that hold a block element,
// walking up from each block once.
func markBlocky(root *html.Node) map[*html.Node]bool {
	m := make(map[*html.Node]bool)
	walk(root, func(n *html.Node) bool {
		if dropped(n) {
			return false
		}
		if isBlock(n) {
			for p := n.Parent; p != nil && p != root && !m[p]; p = p.Parent {
				m[p] = true
			}
		}
		return true
	})
	return m
}

// writeText writes HTML text as Markdown: white space collapsed, and every
// character that could start markup escaped. In a heading, braces are
// escaped too: the book renderer reads a trailing {#id .class} as attributes.
func (c *converter) writeText(w *bytes.Buffer, s string) {
	writeText(w, s, c.inHeading)
}

func writeText(w *bytes.Buffer, s string, braces bool) {
	s = collapseWS(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '*', '`', '[', ']', '<', '|', '~':
			w.WriteByte('\\')
		case '_':
			before, _ := utf8.DecodeLastRuneInString(s[:i])
			after, _ := utf8.DecodeRuneInString(s[i+1:])
			if !isWordRune(before) || !isWordRune(after) {
				w.WriteByte('\\')
			}
		case '&':
			if looksLikeEntity(s[i+1:]) {
				w.WriteByte('\\')
			}
		case '{':
			if braces {
				w.WriteByte('\\')
			}
		}
		w.WriteByte(c)
	}
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// looksLikeEntity reports whether s, the text after an '&', would be read
// as an entity or numeric character reference.
func looksLikeEntity(s string) bool {
	end := strings.IndexByte(s, ';')
	if end <= 0 || end > 32 {
		return false
	}
	name := s[:end]
	if name[0] == '#' {
		name = strings.TrimPrefix(strings.TrimPrefix(name[1:], "x"), "X")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isASCIILetter(c) && (c < '0' || c > '9') {
			return false
		}
	}
	return name != ""
}

// collapseWS turns each run of HTML white space into one space, keeping a
// space at either edge, and drops other control characters, which the
// converter uses as marks.
func collapseWS(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			space = true
		case c < ' ':
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteByte(c)
		}
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// squeeze trims spaces from s and turns runs of them into one.
func squeeze(s string) string {
	s = strings.Trim(s, " ")
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escapeLineStart escapes what would make a paragraph line start a block:
// a heading, a quote, a list item, a thematic break, a setext underline or a
// table's delimiter row.
// Other markup characters are escaped wherever they appear, by writeText.
func escapeLineStart(ln string) string {
	if ln == "" {
		return ln
	}
	switch c := ln[0]; {
	case c == '#' || c == '>':
		return `\` + ln
	case c == '-' || c == '+':
		if len(ln) == 1 || ln[1] == ' ' || ln[1] == '\t' || c == '-' && strings.Trim(ln, "-: ") == "" {
			return `\` + ln
		}
	case c == '=':
		if strings.Trim(ln, "= ") == "" {
			return `\` + ln
		}
	case c == ':':
		// ":--" under a line would make it a table header.
		if strings.Trim(ln, "-: ") == "" && strings.Contains(ln, "-") {
			return `\` + ln
		}
	case '0' <= c && c <= '9':
		i := 0
		for i < len(ln) && i < 10 && '0' <= ln[i] && ln[i] <= '9' {
			i++
		}
		if i <= 9 && i < len(ln) && (ln[i] == '.' || ln[i] == ')') && (i+1 == len(ln) || ln[i+1] == ' ') {
			return ln[:i] + `\` + ln[i:]
		}
	}
	return ln
}

// escapeClosingHash keeps a heading's last '#' from being read as the
// optional closing sequence of an ATX heading.
func escapeClosingHash(s string) string {
	if strings.HasSuffix(s, "#") {
		return s[:len(s)-1] + `\#`
	}
	return s
}

// escapeURL percent-encodes what would end or break a link destination.
func escapeURL(u string) string {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c <= ' ' || c == 0x7f || strings.IndexByte("()<>\\|`", c) >= 0 {
			const hex = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

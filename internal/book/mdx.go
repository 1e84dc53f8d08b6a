package book

import (
	"html"
	"regexp"
	"slices"
	"strings"
)

// Source dialects of a document body.
const (
	dialectMarkdown = iota // CommonMark + GFM (+ Docusaurus admonitions)
	dialectMDX             // MDX: also ESM, JSX and {/* */} comments
)

var (
	fenceOpen     = regexp.MustCompile("^( {0,3})(`{3,}|~{3,})(.*)$")
	admonitionRe  = regexp.MustCompile(`^\s*(:{3,})([A-Za-z][\w-]*)(?:\[([^\]]*)\])?\s*(.*?)\s*$`)
	admonitionEnd = regexp.MustCompile(`^\s*(:{3,})\s*$`)
	jsxLabelProp  = regexp.MustCompile(`\b(?:label|title)\s*=\s*(?:"([^"]*)"|'([^']*)'|\{\s*["']([^"']*)["']\s*\})`)
	jsxComment    = regexp.MustCompile(`\{/\*[\s\S]*?\*/\}`)
	inlineCode    = regexp.MustCompile("`+[^`]*`+")
)

// reduce turns a document body into the Markdown Lectern renders:
// Docusaurus admonitions become a div with a bold title line (so their text
// stays text), and in MDX the import/export statements and JSX comments are
// removed and JSX tags are reduced to the text they contain (a label or
// title prop, as on a TabItem, is kept as a bold line). Fenced code passes
// through untouched in both dialects.
func reduce(body string, dialect int) string {
	out, _ := reduceMDX(body, dialect, nil)
	return out
}

// partials reads the document an MDX import names ("./_install.mdx",
// "@site/docs/_x.md"): its body and dialect, or false when there is none.
type partials func(spec string) (body string, dialect int, ok bool)

// maxPartialDepth bounds partials including partials (and a partial
// including itself).
const maxPartialDepth = 4

// reduceMDX is reduce, with the partials an MDX document imports and
// shows (import Install from './_install.mdx' … <Install />) inlined
// through include, and the names of the components (JSX elements with a
// capital, such as BrowserWindow) it reduced to their text, in the order
// first met. An ```mdx-code-block fence, which Docusaurus renders as MDX,
// is reduced as MDX.
func reduceMDX(body string, dialect int, include partials) (string, []string) {
	r := reducer{include: include}
	out := r.reduce(body, dialect)
	return out, r.components
}

func (r *reducer) reduce(body string, dialect int) string {
	if dialect == dialectMDX {
		body = jsxComment.ReplaceAllStringFunc(body, func(c string) string {
			return strings.Repeat("\n", strings.Count(c, "\n")) // keep line numbers
		})
	}
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	r.mdx, r.out = dialect == dialectMDX, make([]string, 0, len(lines)+16)
	for _, l := range lines {
		r.line(l)
	}
	for range r.admonitions {
		r.out = append(r.out, "", "</div>", "")
	}
	return strings.Join(r.out, "\n")
}

// reducer is reduce's state as it goes through the lines.
type reducer struct {
	mdx         bool
	out         []string
	fence       string          // the open fence's marker, "" outside code
	admonitions []int           // colon counts of open admonitions
	inESM       bool            // inside an import/export block
	pendingTag  strings.Builder // a JSX tag spread over several lines
	pendingN    int             // its lines
	jsxIndent   []int           // per open JSX element: content indentation (-1 unknown)
	components  []string        // components met, each once
	mdxBlocks   []mdxBlock      // open mdx-code-block fences
	imports     map[string]string
	include     partials
	depth       int // of partials within partials
}

// mdxBlock is an open ```mdx-code-block fence.
type mdxBlock struct {
	fence string // its marker
	mdx   bool   // the dialect outside it
}

// importDefault is an ESM import of one document (import Name from
// '…md(x)') or of an image (import pic from './pic.png').
var importDefault = regexp.MustCompile(`^\s*import\s+([A-Za-z_$][\w$]*)\s+from\s+['"]([^'"]+\.(?:mdx?|png|jpe?g|gif|webp|avif|svg))['"]`)

// importLine is a line of whole import statements.
var importLine = regexp.MustCompile(`^(?:import\s+(?:[\w$]+|\{[^}]*\}|\*\s+as\s+[\w$]+)(?:\s*,\s*(?:\{[^}]*\}|[\w$]+))?\s+from\s+['"][^'"]+['"]\s*;?\s*)+$`)

// jsxImg is an image element, and the forms its src takes in MDX: a
// string, require('./x.png').default, useBaseUrl('/img/x.png'), or an
// imported name.
var (
	jsxImg    = regexp.MustCompile(`<img\b(?:[^<>"'{}]|"[^"]*"|'[^']*'|\{[^{}]*\})*?/?>`)
	jsxImgSrc = regexp.MustCompile(`\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|\{\s*(?:require|useBaseUrl)\(\s*['"]([^'"]+)['"]\s*\)(?:\.default)?\s*\}|\{\s*([A-Za-z_$][\w$]*)\s*\})`)
	jsxImgAlt = regexp.MustCompile(`\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|\{\s*["']([^"']*)["']\s*\})`)
)

// images turns the image elements of a line of MDX into Markdown images,
// which the renderer finds in the book like any other.
func (r *reducer) images(l string) string {
	if !strings.Contains(l, "<img") {
		return l
	}
	return jsxImg.ReplaceAllStringFunc(l, func(tag string) string {
		m := jsxImgSrc.FindStringSubmatch(tag)
		if m == nil {
			return tag
		}
		src := m[1] + m[2] + m[3]
		if m[4] != "" {
			src = r.imports[m[4]]
		}
		if src == "" {
			return tag
		}
		alt := ""
		if a := jsxImgAlt.FindStringSubmatch(tag); a != nil {
			alt = a[1] + a[2] + a[3]
		}
		return "![" + escapeInline(alt) + "](<" + strings.NewReplacer("<", "%3C", ">", "%3E", " ", "%20").Replace(src) + ">)"
	})
}

// partial inlines the document imported as name, if tag (alone on its
// line) shows one, and reports whether the tag was such a partial.
func (r *reducer) partial(tag string) bool {
	m := selfClosing.FindStringSubmatch(tag)
	if m == nil || r.include == nil || r.depth >= maxPartialDepth {
		return false
	}
	spec, ok := r.imports[m[1]]
	if !ok {
		return false
	}
	body, dialect, ok := r.include(spec)
	if !ok {
		return true // reported by include; there is nothing to show
	}
	inner := reducer{include: r.include, depth: r.depth + 1}
	r.out = append(r.out, "", inner.reduce(body, dialect), "")
	for _, c := range inner.components {
		if !slices.Contains(r.components, c) {
			r.components = append(r.components, c)
		}
	}
	return true
}

// detailsTag and summaryLine find the disclosure elements, which are kept
// as HTML (with no attributes) so the page folds as the author's does.
var (
	detailsTag  = regexp.MustCompile(`^<(/?)(details|Details|summary)[\s>]`)
	summaryLine = regexp.MustCompile(`^<summary>(.*)</summary>$`)
)

var selfClosing = regexp.MustCompile(`^<([A-Z][\w$]*)\s*/>$`)

// renderedComponents are the components whose meaning the reduction keeps: tabs
// become labelled sections, details a summary line and its text.
var renderedComponents = []string{"Tabs", "TabItem", "Details", "DocCardList"}

// cardListMark stands, in the rendered page, for a <DocCardList />: the
// list of the category's pages, filled in once the contents are known.
const cardListMark = `<div class="doc-card-list"></div>`

// met records the components among tags that are reduced to their text.
func (r *reducer) met(tags ...string) {
	for _, tag := range tags {
		name := strings.TrimLeft(tag, "</")
		if i := strings.IndexAny(name, " \t\n/>"); i >= 0 {
			name = name[:i]
		}
		if name != "" && name[0] >= 'A' && name[0] <= 'Z' && !slices.Contains(renderedComponents, name) && !slices.Contains(r.components, name) {
			r.components = append(r.components, name)
		}
	}
}

// dedent removes the indentation of the innermost JSX element's content.
func (r *reducer) dedent(l string) string {
	if len(r.jsxIndent) == 0 {
		return l
	}
	n := r.jsxIndent[len(r.jsxIndent)-1]
	if n < 0 {
		return l
	}
	i := 0
	for i < len(l) && i < n && (l[i] == ' ' || l[i] == '\t') {
		i++
	}
	return l[i:]
}

func (r *reducer) line(l string) {
	if r.fence == "" && len(r.mdxBlocks) > 0 {
		top := r.mdxBlocks[len(r.mdxBlocks)-1]
		if t := strings.TrimSpace(l); strings.Trim(t, top.fence[:1]) == "" && len(t) >= len(top.fence) && indentOf(l) < 4 {
			r.mdxBlocks = r.mdxBlocks[:len(r.mdxBlocks)-1]
			r.mdx, r.inESM = top.mdx, false
			r.out = append(r.out, "")
			return
		}
	}
	if r.fence != "" {
		l = r.dedent(l)
		r.out = append(r.out, l)
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, r.fence[:1]) && strings.Trim(t, r.fence[:1]) == "" && len(t) >= len(r.fence) && indentOf(l) < 4 {
			r.fence = ""
		}
		return
	}
	if r.mdx {
		var done bool
		if l, done = r.jsx(l); done {
			return
		}
	}
	if m := fenceOpen.FindStringSubmatch(l); m != nil && !(m[2][0] == '`' && strings.Contains(m[3], "`")) {
		if strings.TrimSpace(m[3]) == "mdx-code-block" {
			r.mdxBlocks = append(r.mdxBlocks, mdxBlock{fence: m[2], mdx: r.mdx})
			r.mdx = true
			r.out = append(r.out, "")
			return
		}
		r.fence = m[2]
		r.out = append(r.out, l)
		return
	}
	if r.admonition(l) {
		return
	}
	if strings.Contains(l, `\{#`) {
		// "## Title \{#id}", the id as MDX-safe Docusaurus docs write it.
		l = escapedHeadingID.ReplaceAllString(l, "$1 {#$2}")
	}
	r.out = append(r.out, l)
}

// escapedHeadingID is a heading with an explicit id whose brace is escaped.
var escapedHeadingID = regexp.MustCompile(`^( {0,3}#{1,6}\s.*?)\s*\\\{#([^\s{}]+)\}\s*$`)

// jsx handles what MDX adds to Markdown on line l: ESM blocks, JSX tags
// (on their own lines or spread over several) and inline tags. It returns
// the line left for Markdown, or done when nothing is left.
func (r *reducer) jsx(l string) (string, bool) {
	if r.pendingTag.Len() > 0 {
		r.pendingTag.WriteString(" " + strings.TrimSpace(l))
		r.pendingN++
		if tagEnd(r.pendingTag.String()) == -1 && r.pendingN < maxTagLines {
			return "", true
		}
		l = r.pendingTag.String()
		r.pendingTag.Reset()
		r.pendingN = 0
	}
	t := strings.TrimSpace(l)
	if r.inESM {
		if t == "" {
			r.inESM = false
			r.out = append(r.out, "")
		}
		r.imported(l)
		return "", true
	}
	if len(r.jsxIndent) == 0 && (strings.HasPrefix(t, "import ") || strings.HasPrefix(t, "export ") || t == "import" || t == "export") && indentOf(l) == 0 {
		r.inESM = true
		r.imported(l)
		return "", true
	}
	if importLine.MatchString(t) && indentOf(l) < 4 {
		// A whole import statement inside a component or an indented
		// mdx-code-block: MDX takes it as one too.
		r.imported(t)
		return "", true
	}
	if strings.HasPrefix(t, "<") && len(t) > 1 && (isLetter(t[1]) || t[1] == '/') && tagEnd(t) == -1 {
		r.pendingTag.WriteString(t)
		r.pendingN = 1
		return "", true
	}
	if strings.Contains(t, "<img") {
		l = r.images(l)
		t = strings.TrimSpace(l)
	}
	if m := summaryLine.FindStringSubmatch(t); m != nil {
		r.out = append(r.out, "", "<summary>"+html.EscapeString(strings.TrimSpace(stripInlineTags(m[1])))+"</summary>", "")
		return "", true
	}
	if strings.HasPrefix(t, "<") && onlyTags(t) {
		if !r.partial(t) {
			r.tags(t)
		}
		return "", true
	}
	if len(r.jsxIndent) > 0 && r.jsxIndent[len(r.jsxIndent)-1] < 0 && t != "" {
		r.jsxIndent[len(r.jsxIndent)-1] = indentOf(l)
	}
	l = r.dedent(l)
	if tags := jsxTags(t); len(tags) > 0 && strings.HasPrefix(t, tags[0]) && !strings.HasPrefix(tags[0], "</") {
		if m := jsxLabelProp.FindStringSubmatch(tags[0]); m != nil {
			// <TabItem label="Apple">This is an apple</TabItem>: the
			// label and the text, each its own paragraph.
			r.met(tags...)
			rest := strings.TrimSpace(stripInlineTags(t))
			r.out = append(r.out, "", "**"+escapeInline(strings.TrimSpace(m[1]+m[2]+m[3]))+"**", "", rest, "")
			return "", true
		}
	}
	if strings.Contains(l, "<") && !fenceOpen.MatchString(l) { // a fence's info string is not MDX
		r.met(jsxTags(inlineCode.ReplaceAllString(l, ""))...)
		l = stripInlineTags(l)
	}
	return l, false
}

// imported records the document an import line imports, if any.
func (r *reducer) imported(l string) {
	if m := importDefault.FindStringSubmatch(l); m != nil {
		if r.imports == nil {
			r.imports = map[string]string{}
		}
		r.imports[m[1]] = m[2]
	}
}

// tags follows a line of JSX tags alone: the elements they open and close,
// and the labels (of tabs, details) they carry, kept as bold lines.
func (r *reducer) tags(t string) {
	r.met(jsxTags(t)...)
	for _, tag := range jsxTags(t) {
		if strings.HasPrefix(tag, "<DocCardList") {
			r.out = append(r.out, "", cardListMark, "")
		}
		if m := detailsTag.FindStringSubmatch(tag); m != nil {
			r.out = append(r.out, "", "<"+m[1]+strings.ToLower(m[2])+">", "")
		}
		switch {
		case strings.HasPrefix(tag, "</"):
			if len(r.jsxIndent) > 0 {
				r.jsxIndent = r.jsxIndent[:len(r.jsxIndent)-1]
			}
		case strings.HasSuffix(tag, "/>"):
		default:
			r.jsxIndent = append(r.jsxIndent, -1)
		}
		if m := jsxLabelProp.FindStringSubmatch(tag); m != nil && !strings.HasPrefix(tag, "</") {
			if label := strings.TrimSpace(m[1] + m[2] + m[3]); label != "" {
				r.out = append(r.out, "", "**"+escapeInline(label)+"**", "")
			}
		}
	}
	r.out = append(r.out, "")
}

// admonition opens or closes a Docusaurus admonition (":::note Title" …
// ":::") on line l as a div, and reports whether l was one.
func (r *reducer) admonition(l string) bool {
	if m := admonitionEnd.FindStringSubmatch(l); m != nil && len(r.admonitions) > 0 {
		n := len(m[1])
		for len(r.admonitions) > 0 {
			top := r.admonitions[len(r.admonitions)-1]
			r.admonitions = r.admonitions[:len(r.admonitions)-1]
			r.out = append(r.out, "", "</div>", "")
			if top == n {
				break
			}
		}
		return true
	}
	m := admonitionRe.FindStringSubmatch(l)
	if m == nil {
		return false
	}
	kind := strings.ToLower(m[2])
	title := strings.TrimSpace(m[3])
	if title == "" {
		title = m[4]
	}
	if title == "" {
		title = humanize(kind)
	}
	r.admonitions = append(r.admonitions, len(m[1]))
	r.out = append(r.out, "", `<div class="admonition admonition-`+cssClass(kind)+`">`, "", "**"+escapeInline(title)+"**", "")
	return true
}

func indentOf(l string) int {
	n := 0
	for _, c := range l {
		switch c {
		case ' ':
			n++
		case '\t':
			n += 4 - n%4
		default:
			return n
		}
	}
	return n
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// maxTagLines bounds a tag spread over lines: a "<Name" that never ends
// is text, not the rest of the page.
const maxTagLines = 64

// tagEnd returns the length of the JSX or HTML tag s starts with ("<",
// then a name or "/"), -1 when s ends inside it, -2 when it is no tag.
// Attribute values in quotes and expressions in braces, nested and with
// strings of their own, may hold ">" (values={[{label: 'A'}]},
// toc={toc.filter((n) => n.level > 2)}).
func tagEnd(s string) int {
	if len(s) < 2 || s[0] != '<' || !(isLetter(s[1]) || s[1] == '/') {
		return -2
	}
	depth := 0
	var quote byte
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && depth > 0 {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || (c == '`' && depth > 0):
			quote = c
		case c == '{':
			depth++
		case c == '}' && depth > 0:
			depth--
		case depth > 0:
		case c == '>':
			return i + 1
		case c == '<':
			return -2 // another tag begins: this one was text
		}
	}
	return -1
}

// jsxTags returns the tags of a line, in order.
func jsxTags(l string) []string {
	var tags []string
	for i := 0; i < len(l); i++ {
		if l[i] != '<' {
			continue
		}
		if n := tagEnd(l[i:]); n > 0 {
			tags = append(tags, l[i:i+n])
			i += n - 1
		}
	}
	return tags
}

// removeTags returns l without its tags.
func removeTags(l string) string {
	if !strings.Contains(l, "<") {
		return l
	}
	var b strings.Builder
	for i := 0; i < len(l); i++ {
		if l[i] == '<' {
			if n := tagEnd(l[i:]); n > 0 {
				i += n - 1
				continue
			}
		}
		b.WriteByte(l[i])
	}
	return b.String()
}

// onlyTags reports whether a trimmed line is made of JSX tags alone.
func onlyTags(t string) bool {
	return strings.TrimSpace(removeTags(t)) == ""
}

// stripInlineTags removes JSX/HTML tags from a line of text, leaving inline
// code spans alone.
func stripInlineTags(l string) string {
	codes := inlineCode.FindAllStringIndex(l, -1)
	if len(codes) == 0 {
		return removeTags(l)
	}
	var b strings.Builder
	prev := 0
	for _, c := range codes {
		b.WriteString(removeTags(l[prev:c[0]]))
		b.WriteString(l[c[0]:c[1]])
		prev = c[1]
	}
	b.WriteString(removeTags(l[prev:]))
	return b.String()
}

// escapeInline escapes the characters that would turn a plain title into
// Markdown or HTML.
func escapeInline(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>#|!{}", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func cssClass(kind string) string {
	var b strings.Builder
	for _, r := range kind {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "note"
	}
	return b.String()
}

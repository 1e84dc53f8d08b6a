package epub

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Inline Markdown is first written with control bytes standing for the
// constructs whose final form depends on their neighbours, and resolved once
// a whole paragraph (or heading, or table cell) is known:
//
//   - emphasis as markOpen or markClose followed by a kind byte: whether "*"
//     opens or closes emphasis depends on the characters around it;
//   - a code span as codeOpen, its content, codeClose: two code spans side by
//     side would run their backtick fences together;
//   - a line break as lineBreak;
//   - the "!" that opens an image as imageBang, so that escapeBang, which
//     escapes a "!" of the text before a link, leaves it alone.
//
// Text never holds these bytes: collapseWS drops control characters.
const (
	lineBreak  = '\x00'
	markOpen   = '\x01'
	markClose  = '\x02'
	codeOpen   = '\x03'
	codeClose  = '\x04'
	imageBang  = '\x05'
	emMark     = '*'
	strongMark = 'S'
	strikeMark = '~'
)

// delimChar is the character a kind of emphasis is written with.
func delimChar(kind byte) rune {
	if kind == strikeMark {
		return '~'
	}
	return '*'
}

func delimiter(kind byte) string {
	switch kind {
	case emMark:
		return "*"
	case strongMark:
		return "**"
	}
	return "~~"
}

type mark struct {
	at     int // index in the text without marks
	kind   byte
	open   bool
	keep   bool
	pair   int // index of the matching mark
	parent int // for an opening mark, the opening mark of the span around it, or -1
}

// resolveInline turns the marks of s into Markdown. A line break becomes a
// backslash hard break, or two trailing spaces after a backslash, which the
// renderer would otherwise misread.
func resolveInline(s string) string {
	s = resolveEmphasis(s)
	if strings.Contains(s, "![") {
		s = escapeBang(s)
	}
	if strings.IndexByte(s, imageBang) >= 0 {
		s = strings.ReplaceAll(s, string(imageBang), "!")
	}
	if strings.IndexByte(s, codeOpen) >= 0 {
		s = resolveCode(s)
	}
	if strings.IndexByte(s, lineBreak) < 0 {
		return s
	}
	var b strings.Builder
	lines := strings.Split(s, string(lineBreak))
	for i, ln := range lines {
		b.WriteString(ln)
		if i == len(lines)-1 {
			break
		}
		if strings.HasSuffix(ln, `\`) {
			b.WriteString("  \n")
		} else {
			b.WriteString("\\\n")
		}
	}
	return b.String()
}

// escapeBang escapes an exclamation mark that text puts right before a
// link, which would otherwise make the link an image. Text escapes every
// '[', so an unescaped one outside code opens a link.
func escapeBang(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	inCode := false
	backslashes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == codeOpen || c == codeClose:
			inCode = c == codeOpen
		case c == '!' && !inCode && backslashes%2 == 0 && i+1 < len(s) && s[i+1] == '[':
			b.WriteByte('\\')
		}
		if c == '\\' {
			backslashes++
		} else {
			backslashes = 0
		}
		b.WriteByte(c)
	}
	return b.String()
}

// resolveEmphasis replaces emphasis marks with delimiters. A span whose
// delimiters CommonMark would not read as emphasis, such as the closing one
// in "*(x)*y", is left plain rather than shown with stray asterisks; a span
// that ends where another of its kind begins is merged with it, since
// "*a**b*" would not read as two.
func resolveEmphasis(s string) string {
	if strings.IndexByte(s, markOpen) < 0 && strings.IndexByte(s, markClose) < 0 {
		return s
	}
	var marks []mark
	var text strings.Builder
	text.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if (s[i] == markOpen || s[i] == markClose) && i+1 < len(s) {
			marks = append(marks, mark{at: text.Len(), kind: s[i+1], open: s[i] == markOpen, pair: -1, parent: -1})
			i++
			continue
		}
		text.WriteByte(s[i])
	}
	t := text.String()

	for j := 0; j+1 < len(marks); j++ {
		a, b := &marks[j], &marks[j+1]
		if !a.open && b.open && a.kind == b.kind && a.at == b.at {
			a.kind, b.kind = 0, 0 // merged away
		}
	}
	var stack []int
	for j := range marks {
		m := &marks[j]
		switch {
		case m.kind == 0:
		case m.open:
			if len(stack) > 0 {
				m.parent = stack[len(stack)-1]
			}
			stack = append(stack, j)
		case len(stack) > 0 && marks[stack[len(stack)-1]].kind == m.kind:
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			m.pair, marks[o].pair = o, j
			m.keep, marks[o].keep = true, true
		default:
			stack = stack[:0]
		}
	}
	// Dropping a span can change what its neighbours see, so repeat until
	// nothing changes; each round only drops, so this ends.
	for range 8 {
		changed := false
		for j := range marks {
			m := &marks[j]
			if !m.keep || !m.open {
				continue
			}
			c := &marks[m.pair]
			if !canOpen(marks, j, t) || !canClose(marks, m.pair, t) {
				m.keep, c.keep = false, false
				changed = true
			}
		}
		if !changed {
			break
		}
	}

	var out strings.Builder
	out.Grow(len(s))
	last := 0
	for _, m := range marks {
		if m.keep {
			out.WriteString(t[last:m.at])
			last = m.at
			out.WriteString(delimiter(m.kind))
		}
	}
	out.WriteString(t[last:])
	return out.String()
}

func canOpen(marks []mark, j int, t string) bool {
	for k := j - 1; k >= 0 && marks[k].at == marks[j].at; k-- {
		if marks[k].keep && !marks[k].open && delimChar(marks[k].kind) == delimChar(marks[j].kind) {
			return false // "*a***b**" would be one run of three, read either way
		}
	}
	before, after := neighbours(marks, j, t)
	if marks[j].kind == strikeMark && before == '~' {
		return false // the book renderer does not see "\~~~a~~" as struck
	}
	if !leftFlanking(before, after) {
		return false
	}
	if rightFlanking(before, after) {
		// A run that can both open and close would close a span of the
		// same character around it: in "***a**(*b***" the "*" before b
		// ends the outer emphasis.
		ch := delimChar(marks[j].kind)
		for p := marks[j].parent; p >= 0; p = marks[p].parent {
			if marks[p].keep && delimChar(marks[p].kind) == ch {
				return false
			}
		}
	}
	return true
}

func canClose(marks []mark, j int, t string) bool {
	before, after := neighbours(marks, j, t)
	if marks[j].kind == strikeMark && before == '~' {
		return false
	}
	return rightFlanking(before, after)
}

// neighbours returns the characters on either side of the delimiter run
// that mark j will be part of: kept marks of the same character beside it
// belong to the run, kept marks of another character are its neighbours,
// dropped marks are nothing.
func neighbours(marks []mark, j int, t string) (before, after rune) {
	at, ch := marks[j].at, delimChar(marks[j].kind)
	before, after = textAround(t, at)
	for k := j - 1; k >= 0 && marks[k].at == at; k-- {
		if marks[k].keep && delimChar(marks[k].kind) != ch {
			before = delimChar(marks[k].kind)
			break
		}
	}
	for k := j + 1; k < len(marks) && marks[k].at == at; k++ {
		if marks[k].keep && delimChar(marks[k].kind) != ch {
			after = delimChar(marks[k].kind)
			break
		}
	}
	return before, after
}

// textAround returns the characters of t before and after index i, as
// CommonMark sees them: a space for the edge of the text or a line break, a
// backtick for the edge of a code span.
func textAround(t string, i int) (before, after rune) {
	before, after = ' ', ' '
	if i > 0 {
		before, _ = utf8.DecodeLastRuneInString(t[:i])
	}
	if i < len(t) {
		after, _ = utf8.DecodeRuneInString(t[i:])
	}
	return seenAs(before), seenAs(after)
}

func seenAs(r rune) rune {
	switch r {
	case lineBreak:
		return ' '
	case codeOpen, codeClose:
		return '`'
	}
	return r
}

// leftFlanking and rightFlanking are CommonMark's tests for a delimiter run
// that can open and close emphasis, given the characters around it.
func leftFlanking(before, after rune) bool {
	return !unicode.IsSpace(after) && (!isPunct(after) || unicode.IsSpace(before) || isPunct(before))
}

func rightFlanking(before, after rune) bool {
	return !unicode.IsSpace(before) && (!isPunct(before) || unicode.IsSpace(after) || isPunct(after))
}

func isPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", r)
	}
	return unicode.IsPunct(r) || unicode.IsSymbol(r)
}

// resolveCode writes each code span with backtick fences longer than any
// run of backticks inside it, first merging spans that touch.
func resolveCode(s string) string {
	s = strings.ReplaceAll(s, string([]byte{codeClose, codeOpen}), "")
	var b strings.Builder
	b.Grow(len(s) + 16)
	for {
		i := strings.IndexByte(s, codeOpen)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		end := strings.IndexByte(s, codeClose)
		if end < 0 {
			end = len(s)
		}
		core := s[:end]
		s = s[min(end+1, len(s)):]
		fence := strings.Repeat("`", longestRun(core, '`')+1)
		pad := ""
		if core != "" && (core[0] == '`' || core[len(core)-1] == '`') {
			pad = " "
		}
		b.WriteString(fence + pad + core + pad + fence)
	}
}

package book

import (
	"regexp"
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
	jsxTag        = regexp.MustCompile(`</?[A-Za-z][\w.:-]*(?:\s+(?:[^<>"'{}]|"[^"]*"|'[^']*'|\{[^{}]*\})*?)?\s*/?>`)
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
	if dialect == dialectMDX {
		body = jsxComment.ReplaceAllStringFunc(body, func(c string) string {
			return strings.Repeat("\n", strings.Count(c, "\n")) // keep line numbers
		})
	}
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	out := make([]string, 0, len(lines)+16)

	var fence string      // the open fence's marker, "" outside code
	var admonitions []int // colon counts of open admonitions
	inESM := false
	var pendingTag strings.Builder // a JSX tag spread over several lines
	var jsxIndent []int            // per open JSX element: content indentation (-1 unknown)

	dedent := func(l string) string {
		if len(jsxIndent) == 0 {
			return l
		}
		n := jsxIndent[len(jsxIndent)-1]
		if n < 0 {
			return l
		}
		i := 0
		for i < len(l) && i < n && (l[i] == ' ' || l[i] == '\t') {
			i++
		}
		return l[i:]
	}

	for _, l := range lines {
		if fence != "" {
			l = dedent(l)
			out = append(out, l)
			t := strings.TrimSpace(l)
			if strings.HasPrefix(t, fence[:1]) && strings.Trim(t, fence[:1]) == "" && len(t) >= len(fence) && indentOf(l) < 4 {
				fence = ""
			}
			continue
		}
		if dialect == dialectMDX {
			if pendingTag.Len() > 0 {
				pendingTag.WriteString(" " + strings.TrimSpace(l))
				if !strings.Contains(l, ">") {
					continue
				}
				l = pendingTag.String()
				pendingTag.Reset()
			}
			t := strings.TrimSpace(l)
			if inESM {
				if t == "" {
					inESM = false
					out = append(out, "")
				}
				continue
			}
			if len(jsxIndent) == 0 && (strings.HasPrefix(t, "import ") || strings.HasPrefix(t, "export ") || t == "import" || t == "export") && indentOf(l) == 0 {
				inESM = true
				continue
			}
			if strings.HasPrefix(t, "<") && len(t) > 1 && (isLetter(t[1]) || t[1] == '/') && !strings.Contains(t, ">") {
				pendingTag.WriteString(t)
				continue
			}
			if strings.HasPrefix(t, "<") && onlyTags(t) {
				for _, tag := range jsxTag.FindAllString(t, -1) {
					switch {
					case strings.HasPrefix(tag, "</"):
						if len(jsxIndent) > 0 {
							jsxIndent = jsxIndent[:len(jsxIndent)-1]
						}
					case strings.HasSuffix(tag, "/>"):
					default:
						jsxIndent = append(jsxIndent, -1)
					}
					if m := jsxLabelProp.FindStringSubmatch(tag); m != nil && !strings.HasPrefix(tag, "</") {
						if label := strings.TrimSpace(m[1] + m[2] + m[3]); label != "" {
							out = append(out, "", "**"+escapeInline(label)+"**", "")
						}
					}
				}
				out = append(out, "")
				continue
			}
			if len(jsxIndent) > 0 && jsxIndent[len(jsxIndent)-1] < 0 && t != "" {
				jsxIndent[len(jsxIndent)-1] = indentOf(l)
			}
			l = dedent(l)
			if strings.Contains(l, "<") {
				l = stripInlineTags(l)
			}
		}
		if m := fenceOpen.FindStringSubmatch(l); m != nil && !(m[2][0] == '`' && strings.Contains(m[3], "`")) {
			fence = m[2]
			out = append(out, l)
			continue
		}
		if m := admonitionEnd.FindStringSubmatch(l); m != nil && len(admonitions) > 0 {
			n := len(m[1])
			for len(admonitions) > 0 {
				top := admonitions[len(admonitions)-1]
				admonitions = admonitions[:len(admonitions)-1]
				out = append(out, "", "</div>", "")
				if top == n {
					break
				}
			}
			continue
		}
		if m := admonitionRe.FindStringSubmatch(l); m != nil {
			kind := strings.ToLower(m[2])
			title := strings.TrimSpace(m[3])
			if title == "" {
				title = m[4]
			}
			if title == "" {
				title = humanize(kind)
			}
			admonitions = append(admonitions, len(m[1]))
			out = append(out, "", `<div class="admonition admonition-`+cssClass(kind)+`">`, "", "**"+escapeInline(title)+"**", "")
			continue
		}
		out = append(out, l)
	}
	for range admonitions {
		out = append(out, "", "</div>", "")
	}
	return strings.Join(out, "\n")
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

// onlyTags reports whether a trimmed line is made of JSX tags alone.
func onlyTags(t string) bool {
	return strings.TrimSpace(jsxTag.ReplaceAllString(t, "")) == ""
}

// stripInlineTags removes JSX/HTML tags from a line of text, leaving inline
// code spans alone.
func stripInlineTags(l string) string {
	codes := inlineCode.FindAllStringIndex(l, -1)
	if len(codes) == 0 {
		return jsxTag.ReplaceAllString(l, "")
	}
	var b strings.Builder
	prev := 0
	for _, c := range codes {
		b.WriteString(jsxTag.ReplaceAllString(l[prev:c[0]], ""))
		b.WriteString(l[c[0]:c[1]])
		prev = c[1]
	}
	b.WriteString(jsxTag.ReplaceAllString(l[prev:], ""))
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

package safehtml

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The checks below restate the allowlist independently of the package's
// own code, so that a mistake in policy.go is caught rather than mirrored.

var allowedElements = map[string]bool{
	"p": true, "br": true, "hr": true, "strong": true, "em": true, "del": true,
	"code": true, "pre": true, "blockquote": true, "ul": true, "ol": true,
	"li": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true,
	"h6": true, "table": true, "thead": true, "tbody": true, "tr": true,
	"th": true, "td": true, "a": true,
}

var (
	startValue    = regexp.MustCompile(`^[0-9]{1,9}$`)
	languageClass = regexp.MustCompile(`^language-[A-Za-z0-9_+#.-]{1,32}$`)
	alignClass    = regexp.MustCompile(`^align-(left|center|right)$`)
)

// assertSafe parses out as an HTML fragment the way a browser would and
// fails t unless every node is text or an allowlisted element carrying only
// allowlisted attributes with allowed values.
func assertSafe(t testing.TB, out string) {
	t.Helper()
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(out), body)
	if err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, out)
	}
	for _, n := range nodes {
		for d := range n.Descendants() {
			if problem := checkNode(d); problem != "" {
				t.Fatalf("%s in output:\n%s", problem, out)
			}
		}
		if problem := checkNode(n); problem != "" {
			t.Fatalf("%s in output:\n%s", problem, out)
		}
	}
}

func checkNode(n *html.Node) string {
	switch n.Type {
	case html.TextNode:
		return ""
	case html.ElementNode:
	default:
		return "non-element, non-text node " + n.Data
	}
	if n.Namespace != "" || !allowedElements[n.Data] {
		return "element <" + n.Data + ">"
	}
	attrs := map[string]string{}
	for _, a := range n.Attr {
		if a.Namespace != "" {
			return "namespaced attribute " + a.Key
		}
		if strings.HasPrefix(a.Key, "on") {
			return "event handler " + a.Key
		}
		attrs[a.Key] = a.Val
		if p := checkAttr(n.Data, a.Key, a.Val); p != "" {
			return p
		}
	}
	if n.Data == "a" {
		if _, ok := attrs["href"]; !ok {
			return "<a> without href"
		}
		for _, want := range []string{"nofollow", "noopener", "noreferrer"} {
			if !strings.Contains(" "+attrs["rel"]+" ", " "+want+" ") {
				return "<a> without rel " + want
			}
		}
	}
	return ""
}

func checkAttr(elem, key, val string) string {
	bad := elem + " attribute " + key + "=" + `"` + val + `"`
	switch {
	case elem == "a" && key == "href":
		if !hrefAllowed(val) {
			return "unsafe " + bad
		}
	case elem == "a" && key == "rel", elem == "a" && key == "title":
	case elem == "a" && key == "class":
		if val != "cite" {
			return bad
		}
	case elem == "ol" && key == "start":
		if !startValue.MatchString(val) {
			return bad
		}
	case elem == "code" && key == "class":
		if !languageClass.MatchString(val) {
			return bad
		}
	case (elem == "th" || elem == "td") && key == "class":
		if !alignClass.MatchString(val) {
			return bad
		}
	default:
		return bad
	}
	return ""
}

// hrefAllowed is the link rule, judged like a browser judges an href: its
// scheme must be http, https or mailto, or it must be a same-origin path
// ("/x", not "//host") or a fragment. Whitespace and backslashes, which
// browsers strip or turn into slashes, are not allowed at all.
func hrefAllowed(h string) bool {
	if h == "" || strings.ContainsFunc(h, func(r rune) bool { return r <= ' ' || r == '\\' || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(h)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto":
		return true
	case "":
		return strings.HasPrefix(h, "#") || (strings.HasPrefix(h, "/") && !strings.HasPrefix(h, "//"))
	}
	return false
}

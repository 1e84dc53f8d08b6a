package safehtml

import (
	"net/url"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
)

// linkRel is set on every link: the answer is not an endorsement of the
// target, and the target learns nothing about the page it was opened from.
const linkRel = "nofollow noopener noreferrer"

// hrefPattern is safeHref's character and prefix rules as a regular
// expression, for the bluemonday layer. It must accept every URL safeHref
// accepts.
const hrefPattern = `^(?:(?i:https?://|mailto:)|#|/(?:$|[\x21-\x2e\x30-\x5b\x5d-\x7e]))[\x21-\x5b\x5d-\x7e]*$`

// newPolicy returns the allowlist applied to goldmark's output. Anything not
// listed here, element or attribute, is removed; in particular there are no
// images, ids, styles, event handlers, forms, frames, SVG or MathML.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(
		"p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote",
		"ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
		"table", "thead", "tbody", "tr", "th", "td", "a",
	)
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("ol")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[A-Za-z0-9_+#.-]{1,32}$`)).OnElements("code")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^align-(?:left|center|right)$`)).OnElements("th", "td")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^cite$`)).OnElements("a")
	p.AllowAttrs("href").Matching(regexp.MustCompile(hrefPattern)).OnElements("a")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^` + linkRel + `$`)).OnElements("a")
	p.AllowAttrs("title").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowRelativeURLs(true)
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	return p
}

// safeHref reports whether u, an href exactly as the browser will see it,
// is an http, https or mailto URL, a path starting with a single "/", or a
// fragment. Whitespace, control characters, backslashes and non-ASCII bytes
// are refused outright: browsers strip or reinterpret them, which is how
// "java\tscript:" or "/\evil.example" get past naive checks. Callers
// percent-encode URLs first, so legitimate links do not contain them.
// URLs that net/url cannot parse are refused too, because the policy would
// strip them and leave an <a> without href.
func safeHref(u string) bool {
	if u == "" {
		return false
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	switch {
	case hasPrefixFold(u, "http://"), hasPrefixFold(u, "https://"), hasPrefixFold(u, "mailto:"):
	case u[0] == '#':
		if len(u) == 1 {
			return false
		}
	case u[0] == '/':
		if len(u) > 1 && u[1] == '/' {
			return false
		}
	default:
		return false
	}
	_, err := url.Parse(u)
	return err == nil
}

func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

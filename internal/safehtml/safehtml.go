// Package safehtml renders assistant answers, written in Markdown by a
// language model or by the extractive answerer, to HTML that is safe to
// insert into a page.
//
// The answer text must be treated as hostile: a document the model read may
// have injected instructions, so the Markdown can contain raw HTML, script
// URLs, tracking images or pathological nesting. Rendering therefore happens
// in two independent layers. goldmark (CommonMark plus the GFM extensions)
// runs without html.WithUnsafe, so raw HTML never reaches the output, and
// with node renderers of our own for links, images and task items. Its output
// then goes through a bluemonday policy with a short allowlist, so a mistake
// in the first layer still cannot produce script, event handlers, styles,
// ids, images or non-http(s)/mailto links.
package safehtml

import (
	"bytes"
	"html"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// MaxInput is the largest answer, in bytes, that is rendered; longer input
// is cut to this size. Answers are never legitimately this long, and the
// bound keeps the cost of a hostile answer small and predictable.
const MaxInput = 64 << 10

// Citation is what [n] in an answer refers to: the n-th source (1-based).
// URL and Title come from the server, not from the model, but the URL still
// has to pass the same rules as any link in the answer.
type Citation struct{ URL, Title string }

// Renderer turns assistant Markdown into sanitized HTML. It holds the
// configured Markdown parser and HTML policy, both immutable once built, so a
// single Renderer may be shared by any number of goroutines.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// NewRenderer builds a Renderer. Construction costs a couple of hundred
// microseconds, mostly compiling the policy, so build one and keep it.
func NewRenderer() *Renderer {
	return &Renderer{md: newMarkdown(), policy: newPolicy()}
}

// Answer renders an assistant's Markdown to sanitized HTML. Citation markers
// [1], [2]… that match a citation become links to it
// (<a class="cite" href="{URL}" title="{Title}">[1]</a>); markers without a
// citation stay text. Never returns unsafe HTML whatever the input.
//
// Answer uses a Renderer built on first use and shared afterwards: building
// one costs about as much as rendering a short answer.
func Answer(markdown string, citations []Citation) string {
	return sharedRenderer().Render(markdown, citations)
}

// sharedRenderer is Answer's Renderer. It is immutable once built, so
// sharing it is sharing a constant, not state.
var sharedRenderer = sync.OnceValue(NewRenderer)

// Render is Answer using r's parser and policy. Input longer than MaxInput
// is cut to MaxInput bytes, invalid UTF-8 is replaced, and runs of more
// than a few blank lines are shortened before parsing.
func (r *Renderer) Render(markdown string, citations []Citation) string {
	src := prepareInput(markdown)
	pc := &renderContext{Context: parser.NewContext(), cites: resolveCitations(citations)}
	doc := r.md.Parser().Parse(text.NewReader(src), parser.WithContext(pc))
	normalize(doc, src)

	var buf bytes.Buffer
	buf.Grow(len(src) + len(src)/2)
	if err := r.md.Renderer().Render(&buf, src, doc); err != nil {
		// Only a failing writer makes goldmark fail, and bytes.Buffer
		// does not; fall back to escaped text rather than partial HTML.
		return "<p>" + html.EscapeString(string(src)) + "</p>"
	}
	return r.policy.Sanitize(buf.String())
}

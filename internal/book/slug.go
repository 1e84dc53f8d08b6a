package book

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// slugger makes heading ids the way Docusaurus does (github-slugger): lower
// case, every character that is not a letter, mark, number, connector
// punctuation, hyphen or space dropped, spaces turned into hyphens, and a
// repeated slug suffixed -1, -2… in document order. One slugger per
// document.
type slugger struct {
	seen map[string]int
}

func newSlugger() *slugger { return &slugger{seen: map[string]int{}} }

// slug returns the id for a heading with visible text s, unique within the
// document.
func (g *slugger) slug(s string) string {
	base := slugify(s)
	id := base
	for {
		if _, dup := g.seen[id]; !dup {
			break
		}
		g.seen[base]++
		id = base + "-" + strconv.Itoa(g.seen[base])
	}
	g.seen[id] = 0
	return id
}

// reserve records an explicit id ({#id}) so generated ones avoid it.
func (g *slugger) reserve(id string) {
	if _, ok := g.seen[id]; !ok {
		g.seen[id] = 0
	}
}

func slugify(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.Pc):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// numberPrefix matches Docusaurus's number prefixes on file and folder
// names: "01-intro", "2. Setup", "3_advanced".
var numberPrefix = regexp.MustCompile(`^(\d+)\s*[-_.]+\s*(.+)$`)

// stripNumberPrefix returns name without its number prefix and the number,
// or name and -1 when there is none.
func stripNumberPrefix(name string) (string, float64, bool) {
	m := numberPrefix.FindStringSubmatch(name)
	if m == nil {
		return name, 0, false
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return name, 0, false
	}
	return m[2], n, true
}

// humanize turns a file or folder name into a label: "getting-started" →
// "Getting started".
func humanize(name string) string {
	s := strings.TrimSpace(strings.NewReplacer("-", " ", "_", " ").Replace(name))
	if s == "" {
		return name
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

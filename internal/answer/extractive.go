package answer

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/lectern/lectern/internal/library"
)

// The extractive answerer quotes the book. For a question it picks, from
// the sections the search found, the few sentences that contain most of
// the question's words; for a summary, the sentences most representative
// of the whole text. It never writes a sentence of its own except the
// framing, which says plainly that these are quotations.

const (
	extractiveNote = "*Quoted from the book: this server has no language model configured, so Lectern answers with the book's own sentences rather than generating text.*"
	maxQuoted      = 4   // sentences in an answer
	maxPerSource   = 2   // sentences from one section
	maxQuotedWords = 130 // words in an answer's quotations
)

// sentence is a candidate quotation.
type sentence struct {
	text   string
	source int // index of its hit
	pos    int // position in its section
	score  float64
	match  float64 // the part of score from the question's words
	terms  []string
}

// prose returns the sentences of a section's text, leaving out code
// blocks, table rows and list markers.
func prose(text string) []string {
	var out []string
	for _, block := range strings.Split(text, "\n\n") {
		if looksLikeCode(block) {
			continue
		}
		for _, s := range library.Sentences(block) {
			s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "- "))
			if strings.Contains(s, " | ") || len(strings.Fields(s)) < 4 || !startsLikeProse(s) || !endsLikeProse(s) {
				continue
			}
			out = append(out, s)
		}
	}
	return out
}

// looksLikeCode reports whether a block reads as code: mostly symbols, or
// lines ending in braces and semicolons.
func looksLikeCode(block string) bool {
	letters, other := 0, 0
	for _, r := range block {
		switch {
		case unicode.IsLetter(r) || unicode.IsSpace(r):
			letters++
		default:
			other++
		}
	}
	if letters == 0 || float64(other)/float64(letters+other) > 0.12 {
		return true
	}
	codeLines := 0
	lines := strings.Split(block, "\n")
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasSuffix(t, "{") || strings.HasSuffix(t, ";") || strings.HasSuffix(t, "}") || strings.HasPrefix(t, "//") || strings.HasPrefix(t, "$ ") {
			codeLines++
		}
	}
	return len(lines) > 1 && codeLines*3 >= len(lines)
}

// endsLikeProse reports whether s ends as a sentence does, which lines of
// code, table rows and headings do not.
func endsLikeProse(s string) bool {
	s = strings.TrimRight(s, `"”')*`+"`")
	return strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, ":")
}

func startsLikeProse(s string) bool {
	for _, r := range s {
		return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '"' || r == '“' || r == '(' || r == '*' || r == '`'
	}
	return false
}

// extractiveAnswer quotes the sentences of hits that best answer query.
func extractiveAnswer(query string, hits []library.Hit, analyze func(string) []string, idf func(string) float64) string {
	want := map[string]bool{}
	for _, t := range analyze(query) {
		want[t] = true
	}
	if len(want) == 0 && len(hits) > 0 {
		for _, t := range hits[0].Matched {
			want[t] = true
		}
	}
	var cands []sentence
	for i, h := range hits {
		for j, text := range prose(h.SectionText) {
			cands = append(cands, sentence{text: text, source: i, pos: j, terms: analyze(text)})
		}
	}
	// Each question word counts by its rarity in the book: a rare word
	// ("RealTimeIsUniversal") says more about which sentence answers than
	// a common one ("time").
	present := map[string]bool{}
	for _, c := range cands {
		for _, t := range c.terms {
			if want[t] {
				present[t] = true
			}
		}
	}
	weight := idf
	total := 0.0
	for t := range present {
		total += weight(t)
	}
	for k := range cands {
		c := &cands[k]
		seen := map[string]bool{}
		for _, t := range c.terms {
			if want[t] && !seen[t] {
				seen[t] = true
				c.score += weight(t)
			}
		}
		if total > 0 {
			c.score /= total
		}
		c.match = c.score
		c.score += 0.15 * float64(len(hits)-c.source) / float64(len(hits)) // the search's order
		if c.pos == 0 {
			c.score += 0.05 // a section's first sentence often states its point
		}
		if n := len(strings.Fields(c.text)); n > 60 {
			c.score -= 0.1
		}
	}
	if len(cands) == 0 {
		return "The book's passages on this are code or tables rather than prose; see the cited sections.\n\n" + extractiveNote
	}
	best := slices.MaxFunc(cands, func(a, b sentence) int { return cmpFloat(a.score, b.score) })
	picked := withNext(pick(slices.Clone(cands), best), cands)

	var b strings.Builder
	b.WriteString("Here is what the book says:\n\n")
	for src := range hits {
		var group []sentence
		for _, s := range picked {
			if s.source == src {
				group = append(group, s)
			}
		}
		if len(group) == 0 {
			continue
		}
		slices.SortFunc(group, func(a, b sentence) int { return a.pos - b.pos })
		texts := make([]string, len(group))
		for i, s := range group {
			texts[i] = s.text
		}
		fmt.Fprintf(&b, "> %s [%d]\n\n", strings.Join(texts, " "), src+1)
	}
	b.WriteString(extractiveNote)
	return b.String()
}

// pick chooses the quotations: the best sentence of the first section when
// it scores at least half as well as the best overall (the search ranked
// that section first), then the best sentences while they score at least
// half as well as the best, within the limits above.
func pick(cands []sentence, best sentence) []sentence {
	slices.SortStableFunc(cands, func(a, b sentence) int { return cmpFloat(b.score, a.score) })
	var out []sentence
	per := map[int]int{}
	words := 0
	for i, c := range cands {
		if c.source == 0 {
			if c.score >= best.score/2 && c.match > 0 {
				out = append(out, c)
				per[0]++
				words += len(strings.Fields(c.text))
				cands = slices.Delete(slices.Clone(cands), i, i+1)
			}
			break
		}
	}
	for _, c := range cands {
		if len(out) == maxQuoted || c.score < best.score/2 {
			break
		}
		if len(out) > 0 && c.match < best.match/2 {
			continue // a later quotation must share as much of the question as half the best does
		}
		n := len(strings.Fields(c.text))
		if per[c.source] == maxPerSource || (len(out) > 0 && words+n > maxQuotedWords) {
			continue
		}
		out = append(out, c)
		per[c.source]++
		words += n
	}
	return out
}

// withNext adds, after the best quotation, the sentence that follows it in
// its section: an answer's sentence often states the point and the next one
// the reason or the number.
func withNext(picked, cands []sentence) []sentence {
	if len(picked) == 0 {
		return picked
	}
	first := picked[0]
	words := 0
	for _, p := range picked {
		words += len(strings.Fields(p.text))
	}
	for _, c := range cands {
		if c.source == first.source && c.pos == first.pos+1 {
			if slices.ContainsFunc(picked, func(p sentence) bool { return p.source == c.source && p.pos == c.pos }) ||
				words+len(strings.Fields(c.text)) > maxQuotedWords+40 {
				break
			}
			return append(picked, c)
		}
	}
	return picked
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// extractiveSummary quotes the sentences of text that best represent it:
// those whose words are the text's most frequent ones, in their original
// order, a few for a paragraph and up to six for a page.
func extractiveSummary(what, text string, analyze func(string) []string) string {
	sents := prose(text)
	if len(sents) == 0 {
		return "There is no prose to summarize in " + what + "."
	}
	freq := map[string]float64{}
	terms := make([][]string, len(sents))
	for i, s := range sents {
		terms[i] = analyze(s)
		for _, t := range terms[i] {
			freq[t]++
		}
	}
	n := min(max(len(sents)/5, 2), 6)
	if len(sents) <= 3 {
		n = len(sents)
	}
	type scored struct {
		i     int
		score float64
	}
	var ss []scored
	for i := range sents {
		seen := map[string]bool{}
		sum := 0.0
		for _, t := range terms[i] {
			if !seen[t] {
				seen[t] = true
				sum += freq[t]
			}
		}
		score := sum / math.Sqrt(float64(max(len(terms[i]), 1)))
		if i == 0 {
			score *= 1.3
		}
		ss = append(ss, scored{i, score})
	}
	slices.SortStableFunc(ss, func(a, b scored) int { return cmpFloat(b.score, a.score) })
	ss = ss[:n]
	slices.SortFunc(ss, func(a, b scored) int { return a.i - b.i })
	var b strings.Builder
	fmt.Fprintf(&b, "The main points of %s, in its own words:\n\n", what)
	for _, s := range ss {
		fmt.Fprintf(&b, "- %s\n", sents[s.i])
	}
	b.WriteString("\n" + extractiveNote)
	return b.String()
}

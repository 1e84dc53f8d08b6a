package answer

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/retrieval"
)

// The extractive answerer quotes the book. For a question it picks, from
// the sections the search found, the few sentences that best answer it:
// those holding most of the question's words, weighted by rarity, and of
// the kind the question asks for (a definition for "what is", a number for
// "how many", a reason for "why"); a sentence that introduces a list or a
// code block ("…run:") is quoted with it. For a summary it picks the
// sentences most representative of the whole text. It never writes a
// sentence of its own except the framing, which says plainly that these
// are quotations.

const (
	quotedLead     = "Quoted from the book:"
	maxQuoted      = 5   // sentences in an answer
	maxPerSource   = 3   // sentences from one section
	maxQuotedWords = 160 // words in an answer's quotations, lists and code aside
	maxBlockLines  = 12  // lines of a list or code block quoted with its introduction
	maxBlockRunes  = 1600
	// minShare is the least share of the best quotation's score another
	// must have to be quoted too.
	minShare = 0.4
	// minMatch is the least share of the question's words, against the
	// best quotation's, that a later quotation must have.
	minMatch = 0.3
)

// Kinds of block in a section's text.
const (
	proseBlock = iota
	listBlock
	codeBlock
	tableBlock
)

// block is a paragraph, list, code block or table of a section's text.
type block struct {
	text string
	kind int
}

// blocksOf splits a section's text into its blocks.
func blocksOf(text string) []block {
	var out []block
	for _, t := range strings.Split(text, "\n\n") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		kind := proseBlock
		switch {
		case isList(t):
			kind = listBlock
		case strings.Contains(t, " | "):
			kind = tableBlock
		case looksLikeCode(t):
			kind = codeBlock
		}
		out = append(out, block{text: t, kind: kind})
	}
	return out
}

// isList reports whether every line of t is a list item ("- ", "* ", "1. ")
// or the continuation of one (indented).
func isList(t string) bool {
	for i, l := range strings.Split(t, "\n") {
		if item := listItem(l); item != "" {
			continue
		}
		if i == 0 || !strings.HasPrefix(l, " ") {
			return false
		}
	}
	return true
}

// listItem returns the text of a list item line, or "".
func listItem(l string) string {
	t := strings.TrimLeft(l, " ")
	for _, m := range []string{"- ", "* ", "+ "} {
		if strings.HasPrefix(t, m) {
			return strings.TrimSpace(t[len(m):])
		}
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i > 0 && i < 4 && strings.HasPrefix(t[i:], ". ") {
		return strings.TrimSpace(t[i+2:])
	}
	return ""
}

// sentence is a candidate quotation.
type sentence struct {
	text   string
	source int // index of its hit
	pos    int // position in its section
	block  int // index of its block in the section
	last   bool
	score  float64
	match  float64 // the part of score from the question's words
	terms  []string
}

// sentencesOf returns the quotable sentences of a section's blocks: those
// of its paragraphs and list items, not of code or tables.
func sentencesOf(blocks []block) []sentence {
	var out []sentence
	for bi, b := range blocks {
		if b.kind == codeBlock || b.kind == tableBlock {
			continue
		}
		var sents []string
		if b.kind == listBlock {
			for _, l := range strings.Split(b.text, "\n") {
				if item := listItem(l); item != "" {
					sents = append(sents, library.Sentences(item)...)
				}
			}
		} else {
			sents = library.Sentences(b.text)
		}
		first := len(out)
		for _, s := range sents {
			s = strings.TrimSpace(s)
			if wordCount(s) < 4 || !startsLikeProse(s) || !endsLikeProse(s) {
				continue
			}
			out = append(out, sentence{text: s, pos: len(out), block: bi})
		}
		if len(out) > first {
			out[len(out)-1].last = true
		}
	}
	return out
}

// prose returns the sentences of a text, leaving out code blocks, table
// rows and list markers.
func prose(text string) []string {
	var out []string
	for _, s := range sentencesOf(blocksOf(text)) {
		out = append(out, s.text)
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
		if strings.HasSuffix(t, "{") || strings.HasSuffix(t, ";") || strings.HasSuffix(t, "}") || strings.HasPrefix(t, "//") || strings.HasPrefix(t, "$ ") || strings.HasPrefix(t, "# ") {
			codeLines++
		}
	}
	return len(lines) > 1 && codeLines*3 >= len(lines)
}

// endsLikeProse reports whether s ends as a sentence does, which lines of
// code, table rows and headings do not; Chinese and Japanese sentences end
// in full-width marks.
func endsLikeProse(s string) bool {
	s = strings.TrimRight(s, `"”')*」』`+"`")
	for _, end := range []string{".", "?", "!", ":", "。", "？", "！", "：", "；"} {
		if strings.HasSuffix(s, end) {
			return true
		}
	}
	return false
}

// wordCount counts the words of a sentence: those between spaces, and for
// Chinese and Japanese, which write none, about one a pair of characters.
func wordCount(s string) int {
	n, ideographs := len(strings.Fields(s)), 0
	for _, r := range s {
		if r >= 0x2E80 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) {
			ideographs++
		}
	}
	return n + ideographs/2
}

func startsLikeProse(s string) bool {
	for _, r := range s {
		return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '"' || r == '“' || r == '(' || r == '*' || r == '`'
	}
	return false
}

// questionFrame are words that frame a question ("do we need", "I want to
// know", "can you explain") rather than name its subject.
const questionFrame = "need want know tell explain wonder curious please"

// Kinds of question, by what their answer is; a question may ask for
// several ("what is a leap second and why do we need them?").
const (
	askDefinition = 1 << iota
	askQuantity
	askReason
	askTime
	askPerson
	askProcedure
)

// The kinds of question, and of sentence that answers each, in English,
// Spanish and Chinese. Go's \b knows only ASCII letters, so the Spanish
// forms are bounded by non-letters (\PL) instead.
var (
	quantityQ = regexp.MustCompile(`(?i)\bhow (many|much|long|often|big|large|small|fast|far|old|wide)\b|\bwhat (percentage|number|size|fraction)\b` +
		`|(^|\PL)cu[aá]nt[oa]s?(\PL|$)|多少|几个|多长|多大|多久`)
	reasonQ = regexp.MustCompile(`(?i)^\s*why\b|\bwhy\b\W*$|\bwhy (do|does|did|is|are|was|were|should|would|can|not)\b|\bwhat is the (reason|point|purpose)\b` +
		`|(^|\PL)por qu[eé](\PL|$)|(^|\PL)para qu[eé] sirve|为什么|为何|什么原因`)
	timeQ = regexp.MustCompile(`(?i)^\s*when\b|\bwhat (year|date|century|decade)\b|\bsince when\b` +
		`|^\PL*cu[aá]ndo(\PL|$)|什么时候|何时`)
	personQ    = regexp.MustCompile(`(?i)^\s*(who|whom|whose)\b|^\PL*qui[eé]n(es)?(\PL|$)|^谁`)
	procedureQ = regexp.MustCompile(`(?i)^\s*how (do|can|should|would|to)\b|\bhow (do|can|should) (i|we|you)\b|\b(steps|command) to\b` +
		`|^\PL*c[oó]mo(\PL|$)|怎么|如何|怎样`)

	definitionS = regexp.MustCompile(`(?i)\b(is|are) (a|an|the|one|any|when|what)\b|\b(means|refers to|stands for|is called|are called|is defined as|is known as)\b` +
		`|(^|\PL)(es|son) (un|una|el|la|los|las)(\PL)|(^|\PL)(significa|se refiere a|se llama|se define como)(\PL|$)|是指|指的是|就是|称为`)
	quantityS = regexp.MustCompile(`(?i)\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|hundred|thousand|million|billion|dozen|half|twice|double|percent)\b`)
	reasonS   = regexp.MustCompile(`(?i)\b(because|since|so that|in order to|reason|otherwise|therefore|thus|that is why|this is why|which is why|due to|so as to|lest)\b` +
		`|(^|\PL)(porque|ya que|debido a|por eso|por lo tanto|raz[oó]n|para que|de lo contrario)(\PL|$)|因为|由于|所以|因此|原因`)
	timeS   = regexp.MustCompile(`(?i)\b(1[0-9]{3}|20[0-9]{2})\b|\b(january|february|march|april|may|june|july|august|september|october|november|december|century|year|ago|until|since)\b`)
	personS = regexp.MustCompile(`\S \p{Lu}\p{Ll}+`)
)

// questionKind is the kinds of answer q asks for.
func questionKind(q string) int {
	kind := 0
	for _, k := range []struct {
		re   *regexp.Regexp
		kind int
	}{{quantityQ, askQuantity}, {reasonQ, askReason}, {timeQ, askTime}, {personQ, askPerson}, {procedureQ, askProcedure}} {
		if k.re.MatchString(q) {
			kind |= k.kind
		}
	}
	if retrieval.AsksWhatIs(q) {
		kind |= askDefinition
	}
	return kind
}

// fits reports whether s has the form of an answer of that kind: a
// definition, a number, a reason, a date, a name, or the introduction of
// steps (a sentence ending in a colon before a list or code).
func fits(kind int, s sentence, introduces bool) bool {
	return kind&askDefinition != 0 && definitionS.MatchString(s.text) ||
		kind&askQuantity != 0 && quantityS.MatchString(s.text) ||
		kind&askReason != 0 && reasonS.MatchString(s.text) ||
		kind&askTime != 0 && timeS.MatchString(s.text) ||
		kind&askPerson != 0 && personS.MatchString(s.text) ||
		kind&askProcedure != 0 && introduces
}

// section is a cited section's blocks and candidate sentences.
type section struct {
	blocks []block
	sents  []sentence
}

// introduced returns the list or code block that s introduces ("…run:"),
// or -1.
func (sec section) introduced(s sentence) int {
	if !s.last || !endsWithColon(s.text) {
		return -1
	}
	if i := s.block + 1; i < len(sec.blocks) && (sec.blocks[i].kind == listBlock || sec.blocks[i].kind == codeBlock) {
		return i
	}
	return -1
}

// endsWithColon reports whether a sentence ends with a colon (or the
// full-width one of Chinese and Japanese), closing emphasis or quotes
// aside.
func endsWithColon(s string) bool {
	s = strings.TrimRight(s, `*"”`)
	return strings.HasSuffix(s, ":") || strings.HasSuffix(s, "：")
}

// extractiveAnswer quotes the sentences of hits that best answer query,
// leaving out those already quoted in the earlier answers. It returns the
// answer and the order in which it cites the hits (see render).
func extractiveAnswer(query string, hits []library.Hit, analyze func(string) []string, idf func(string) float64, earlier []string) (string, []int) {
	want := map[string]bool{}
	for _, t := range analyze(query) {
		want[t] = true
	}
	// Words that frame a question rather than say what it is about ("why
	// do we need them?", "I want to know…") would pick sentences that
	// happen to use them.
	for _, t := range analyze(questionFrame) {
		if len(want) > 1 {
			delete(want, t)
		}
	}
	if len(want) == 0 && len(hits) > 0 {
		for _, t := range hits[0].Matched {
			want[t] = true
		}
	}
	secs := make([]section, len(hits))
	var cands []sentence
	for i, h := range hits {
		secs[i].blocks = blocksOf(h.SectionText)
		secs[i].sents = sentencesOf(secs[i].blocks)
		for j := range secs[i].sents {
			s := &secs[i].sents[j]
			s.source, s.terms = i, analyze(s.text)
			if !quotedIn(s.text, earlier) {
				cands = append(cands, *s)
			}
		}
	}
	if len(cands) == 0 {
		if len(earlier) > 0 {
			return "The book says no more on this than the passages quoted above; the cited sections have the full text.", nil
		}
		return "The book's passages on this are code or tables rather than prose; see the cited sections.", nil
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
	total := 0.0
	for t := range present {
		total += idf(t)
	}
	kind := questionKind(query)
	for k := range cands {
		c := &cands[k]
		seen := map[string]bool{}
		for _, t := range c.terms {
			if want[t] && !seen[t] {
				seen[t] = true
				c.score += idf(t)
			}
		}
		if total > 0 {
			c.score /= total
		}
		c.match = c.score
		if c.match > 0 && fits(kind, *c, secs[c.source].introduced(*c) >= 0) {
			c.score += 0.2
		}
		c.score += 0.15 * float64(len(hits)-c.source) / float64(len(hits)) // the search's order
		if c.pos == 0 {
			c.score += 0.05 // a section's first sentence often states its point
			if kind&askDefinition != 0 && !strings.Contains(hits[c.source].URL, "#") && c.match > 0 {
				c.score += 0.2 // and a page's first sentence says what its subject is
			}
		}
		if n := wordCount(c.text); n > 60 {
			c.score -= 0.1
		}
	}
	best := slices.MaxFunc(cands, func(a, b sentence) int { return cmpFloat(a.score, b.score) })
	picked := withContext(pick(slices.Clone(cands), best), cands)
	first := -1
	if kind&askDefinition != 0 {
		first = slices.IndexFunc(hits, func(h library.Hit) bool { return !strings.Contains(h.URL, "#") })
	}
	return render(picked, secs, first)
}

// quotedIn reports whether an earlier answer already quotes sentence.
func quotedIn(sentence string, earlier []string) bool {
	for _, e := range earlier {
		if strings.Contains(e, sentence) {
			return true
		}
	}
	return false
}

// render writes the picked sentences as quotations, one per section in the
// search's order (its first section is most often the one that answers),
// except that first, when set, goes first: the opening of the page about
// what a "what is" question asks. Each quotation has the lists and code
// blocks its sentences introduce and ends with its citation mark. The
// sections are numbered in the order they are quoted, then the unquoted
// ones: order[n] is the index in secs of the section cited as [n+1].
func render(picked []sentence, secs []section, first int) (text string, order []int) {
	var b strings.Builder
	b.WriteString(quotedLead + "\n\n")
	groups := make([][]sentence, len(secs))
	seen := map[string]bool{}
	for _, p := range picked {
		if !seen[p.text] {
			seen[p.text] = true
			groups[p.source] = append(groups[p.source], p)
		}
	}
	if first >= 0 && len(groups[first]) > 0 {
		order = append(order, first)
	}
	for i := range secs {
		if i != first && len(groups[i]) > 0 {
			order = append(order, i)
		}
	}
	quoted := len(order)
	for i := range secs {
		if len(groups[i]) == 0 {
			order = append(order, i)
		}
	}
	for n, src := range order[:quoted] {
		sec, group := secs[src], groups[src]
		slices.SortFunc(group, func(a, b sentence) int { return a.pos - b.pos })
		var lines []string // the quotation's lines, before "> " is added
		prose := ""
		cite := fmt.Sprintf("[%d]", n+1)
		flush := func() {
			if prose != "" {
				lines = append(lines, prose)
				prose = ""
			}
		}
		quotedBlocks := map[int]bool{} // lists and code already quoted whole
		for i, s := range group {
			if quotedBlocks[s.block] {
				continue // an item of a list quoted above
			}
			intro := sec.introduced(s)
			text := s.text
			if intro < 0 && endsWithColon(text) {
				// A colon whose list or code is not quoted would leave the
				// reader hanging.
				text = strings.TrimRight(strings.TrimSuffix(strings.TrimRight(text, `*"”`), ":"), " ,;") + "…"
			}
			if prose != "" {
				prose += " "
			}
			prose += text
			if intro < 0 {
				continue
			}
			quotedBlocks[intro] = true
			blk := sec.blocks[intro]
			if blk.kind == codeBlock {
				prose += " " + cite
				cite = ""
			}
			flush()
			lines = append(lines, "")
			lines = append(lines, quotedBlock(blk)...)
			if i < len(group)-1 {
				lines = append(lines, "")
			}
		}
		flush()
		if cite != "" {
			lines[len(lines)-1] += " " + cite
		}
		for _, l := range lines {
			if l == "" {
				b.WriteString(">\n")
			} else {
				b.WriteString("> " + l + "\n")
			}
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n"), order
}

// quotedBlock returns the lines of a list or code block to quote, within
// maxBlockLines and maxBlockRunes, code fenced.
func quotedBlock(blk block) []string {
	lines := strings.Split(blk.text, "\n")
	cut := false
	runes := 0
	for i, l := range lines {
		runes += len([]rune(l))
		if i == maxBlockLines || runes > maxBlockRunes {
			lines, cut = lines[:i], true
			break
		}
	}
	if blk.kind == codeBlock {
		out := append([]string{"```"}, lines...)
		if cut {
			out = append(out, "…")
		}
		return append(out, "```")
	}
	if cut {
		lines = append(lines, "- …")
	}
	return lines
}

// pick chooses the quotations: the best sentence of the first section when
// it scores at least half as well as the best overall (the search ranked
// that section first), then the best sentences while they score at least
// half as well as the best, within the limits above. A sentence already
// chosen from another section (the same words) is not quoted twice.
func pick(cands []sentence, best sentence) []sentence {
	slices.SortStableFunc(cands, func(a, b sentence) int { return cmpFloat(b.score, a.score) })
	var out []sentence
	per := map[int]int{}
	words := 0
	chosen := map[string]bool{}
	for i, c := range cands {
		if c.source == 0 {
			if c.score >= best.score*minShare && c.match > 0 {
				out = append(out, c)
				per[0]++
				words += wordCount(c.text)
				chosen[c.text] = true
				cands = slices.Delete(slices.Clone(cands), i, i+1)
			}
			break
		}
	}
	for _, c := range cands {
		if len(out) == maxQuoted || c.score < best.score*minShare {
			break
		}
		if chosen[c.text] || (len(out) > 0 && c.match < best.match*minMatch) {
			continue // a later quotation must share as much of the question as half the best does
		}
		n := wordCount(c.text)
		if per[c.source] == maxPerSource || (len(out) > 0 && words+n > maxQuotedWords) {
			continue
		}
		out = append(out, c)
		per[c.source]++
		words += n
		chosen[c.text] = true
	}
	return out
}

// withContext adds, around the best quotation, the sentences that follow
// it in its section (an answer's sentence often states the point and the
// next ones the reason or the number) and, when it opens by pointing back
// ("This is why…", "The reason…"), the sentence before it.
func withContext(picked, cands []sentence) []sentence {
	if len(picked) == 0 {
		return picked
	}
	first := picked[0]
	words := 0
	for _, p := range picked {
		words += wordCount(p.text)
	}
	has := func(c sentence) bool {
		return slices.ContainsFunc(picked, func(p sentence) bool { return p.source == c.source && p.pos == c.pos })
	}
	for _, c := range cands {
		if c.source != first.source || has(c) || words+wordCount(c.text) > maxQuotedWords+40 {
			continue
		}
		if (c.pos > first.pos && c.pos <= first.pos+followers) || (c.pos == first.pos-1 && c.block == first.block && pointsBack.MatchString(first.text)) {
			picked = append(picked, c)
			words += wordCount(c.text)
		}
	}
	return picked
}

// followers is how many sentences after the best quotation are quoted
// with it, within the word limit: the point, then its reason or number.
const followers = 3

// pointsBack recognizes a sentence that leans on the one before it.
var pointsBack = regexp.MustCompile(`^(This|That|These|Those|It|They|Such|So|Thus|Therefore|Hence|However|But|The reason|In that case|Then|Otherwise|Instead|As a result|For this reason|Because of this)\b` +
	`|^(Esto|Eso|Estos|Estas|Por eso|Por lo tanto|Sin embargo|La razón|En ese caso)(\PL|$)|^(这|因此|所以|但是|然而)`)

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
	fmt.Fprintf(&b, "Quoted from the book, the main points of %s:\n\n", what)
	for _, s := range ss {
		fmt.Fprintf(&b, "- %s\n", sents[s.i])
	}
	return strings.TrimRight(b.String(), "\n")
}

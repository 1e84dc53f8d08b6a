package library

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lectern/lectern/internal/retrieval"
)

// Query is a search of the book.
type Query struct {
	Text      string
	K         int    // 0: retrieval.DefaultK
	Highlight string // the reader's selection, if any
	Page      string // the page the reader is on, in any form PageOf accepts
}

// Hit is one section found: where it is, how to link to it, and the text
// that matched.
type Hit struct {
	DocPath       string
	Slug          string
	Title         string // the document's title
	Heading       string // the section's heading
	HeadingPath   []string
	URL           string // the page, with the heading's anchor
	Snippet       string
	Text          string // the best-matching chunk of the section
	SectionText   string // the whole section
	Score         float64
	ChapterNumber int
	Chapter       string
	PageNumber    *int
	// Matched are the question's terms (stems) the section matched.
	Matched []string
}

// Result is a search's outcome. Covered is false when the book has nothing
// relevant enough; Hits is then empty.
type Result struct {
	Hits    []Hit
	Covered bool
	// Missing lists the names in the question the book never mentions,
	// when that is why it is not covered.
	Missing []string
	// Closest are, when the question is not covered, the sections that
	// came nearest.
	Closest []Hit
}

// Search finds the sections that best answer q. With an embedder it also
// embeds the question and fuses both rankings; if that call fails, the
// search goes on with BM25 alone.
func (l *Library) Search(ctx context.Context, q Query) (Result, error) {
	s := l.cur.Load()
	if s == nil {
		return Result{}, ErrNoBook
	}
	start := time.Now()
	rq := retrieval.Query{Text: q.Text, K: q.K, Highlight: q.Highlight}
	if p, ok := l.PageOf(q.Page); ok {
		rq.Page = p.DocPath
	}
	if s.dense && strings.TrimSpace(q.Text+q.Highlight) != "" {
		text := q.Text
		if text == "" {
			text = q.Highlight
		}
		if v, err := l.opt.Embedder.Embed(ctx, []string{text}); err == nil && len(v) == 1 {
			rq.Vector = v[0]
		} else if err != nil {
			l.log.Warn("embedding the question failed; searching with BM25 alone", "err", err)
		}
	}
	res := s.index.Search(rq)
	out := Result{Covered: res.Covered, Missing: res.Missing, Hits: s.hits(res.Hits), Closest: s.hits(res.Closest)}
	if l.opt.OnSearch != nil {
		mode := "bm25"
		if rq.Vector != nil {
			mode = "hybrid"
		}
		l.opt.OnSearch(mode, time.Since(start))
	}
	return out, nil
}

// hits turns the index's hits into sections of the book.
func (s *snapshot) hits(in []retrieval.Hit) []Hit {
	out := make([]Hit, 0, len(in))
	for _, h := range in {
		ref, ok := s.chunks[h.ID]
		if !ok {
			continue
		}
		p, sec := ref.page, ref.page.Sections[ref.section]
		out = append(out, Hit{
			DocPath: p.DocPath, Slug: p.Slug, Title: p.Title, Heading: sec.Heading, HeadingPath: sec.Path,
			URL: p.SectionURL(sec), Snippet: snippet(ref.text, h.Matched, snippetRunes, s.index.Analyze), Text: ref.text,
			SectionText: sec.Text, Score: h.Score, ChapterNumber: p.ChapterNumber, Chapter: p.Chapter, PageNumber: p.PageNumber,
			Matched: h.Matched,
		})
	}
	return out
}

// IDF is how rare a term (a stem, as retrieval.Analyze returns) is in the
// book, as the search weighs it; 0 before a book is loaded.
func (l *Library) IDF(term string) float64 {
	if s := l.cur.Load(); s != nil {
		return s.index.IDF(term)
	}
	return 0
}

// Analyze is retrieval.Analyze through the book's index, whose cache of
// the book's words spares the stemmer for text taken from the book.
func (l *Library) Analyze(text string) []string {
	if s := l.cur.Load(); s != nil {
		return s.index.Analyze(text)
	}
	return retrieval.Analyze(text)
}

// snippetRunes is the longest snippet: about two sentences.
const snippetRunes = 280

// Snippet picks from text the sentence that contains the most of the
// matched terms (stems, as retrieval returns them), adds the next sentence
// while it fits, and cuts at a word boundary with an ellipsis beyond max
// runes. Without matched terms it starts at the beginning.
func Snippet(text string, matched []string, max int) string {
	return snippet(text, matched, max, retrieval.Analyze)
}

// snippet is Snippet with the analyzer to use: the index's, whose cache of
// the book's words spares the stemmer, on the search path.
func snippet(text string, matched []string, max int, analyze func(string) []string) string {
	sents := splitSentences(text)
	if len(sents) == 0 {
		return ""
	}
	want := make(map[string]bool, len(matched))
	for _, m := range matched {
		want[m] = true
	}
	best, bestScore := 0, 0
	if len(want) > 0 {
		for i, s := range sents {
			seen := map[string]bool{}
			for _, t := range analyze(s) {
				if want[t] {
					seen[t] = true
				}
			}
			if len(seen) > bestScore {
				best, bestScore = i, len(seen)
			}
		}
	}
	out := sents[best]
	for i := best + 1; i < len(sents) && utf8.RuneCountInString(out)+1+utf8.RuneCountInString(sents[i]) <= max; i++ {
		out += " " + sents[i]
	}
	return clip(out, max)
}

// Sentences splits text into sentences (and lines: a line break always
// ends one), whitespace folded. Abbreviations such as "e.g." and initials do
// not end a sentence.
func Sentences(text string) []string { return splitSentences(text) }

func splitSentences(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		for line != "" {
			i := sentenceEnd(line)
			out = append(out, strings.TrimSpace(line[:i]))
			line = strings.TrimSpace(line[i:])
		}
	}
	return out
}

// sentenceEnd returns where the first sentence of s ends: after ". ",
// "! " or "? " (not after an abbreviation or an initial), or after the
// full-width "。", "！" and "？" of Chinese and Japanese, which need no
// space after them.
func sentenceEnd(s string) int {
	for i := 0; i+1 < len(s); i++ {
		switch {
		case (s[i] == '.' || s[i] == '!' || s[i] == '?') && s[i+1] == ' ' && i > 0 && !isAbbrev(s[:i]):
			return i + 1
		case strings.HasPrefix(s[i:], "。") || strings.HasPrefix(s[i:], "！") || strings.HasPrefix(s[i:], "？"):
			if n := i + len("。"); n < len(s) {
				return n
			}
		}
	}
	return len(s)
}

// isAbbrev reports whether the word before a period is a common
// abbreviation (e.g., i.e., etc.) or a single letter (an initial).
func isAbbrev(before string) bool {
	w := before[strings.LastIndexByte(before, ' ')+1:]
	switch strings.ToLower(w) {
	case "e.g", "i.e", "etc", "vs", "cf", "mr", "mrs", "dr", "no", "fig":
		return true
	}
	return utf8.RuneCountInString(w) == 1
}

func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max]
	cut := strings.LastIndexByte(string(r), ' ')
	if cut < max/2 {
		cut = len(string(r))
	}
	return strings.TrimRight(string(r)[:cut], " ,;:") + "…"
}

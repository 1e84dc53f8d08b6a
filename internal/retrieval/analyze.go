package retrieval

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// maxWordBytes drops longer "words" (base64 blobs, hashes, minified code):
// they are never searched for and would only grow the vocabulary.
const maxWordBytes = 64

// maxStemCache bounds the analyzer's word→term cache. A book's vocabulary
// is far smaller; the bound only matters for pathological input, and a full
// cache just means more calls to the stemmer.
const maxStemCache = 1 << 18

// Token is one term of an analyzed text and the word it came from.
type Token struct {
	Term  string // lowercased, stemmed term, as in Hit.Matched
	Start int    // byte offset of the source word in the text
	End   int    // byte offset just past the source word
}

// Tokenize analyzes text the way the index does and reports where each
// term's word is, so a caller can mark Hit.Matched terms in a snippet.
// Stop words produce no token.
func Tokenize(text string) []Token {
	var toks []Token
	scanWords(text, nil, func(word []byte, start, end int) {
		if t := termOf(string(word)); t != "" {
			toks = append(toks, Token{Term: t, Start: start, End: end})
		}
	})
	return toks
}

// Analyze returns the terms the index makes of text: words split on
// anything that is not a letter or digit, lowercased, stop words removed,
// English words stemmed. "Parsing time.Parse in 1972" gives
// ["pars", "time", "pars", "1972"].
func Analyze(text string) []string {
	var terms []string
	scanWords(text, nil, func(word []byte, _, _ int) {
		if t := termOf(string(word)); t != "" {
			terms = append(terms, t)
		}
	})
	return terms
}

// scanWords splits text into lowercase words and calls emit for each with
// the word's bytes (valid only during the call) and its byte offsets.
// A word is a run of letters, digits and combining marks, or a single
// Chinese or Japanese character; an apostrophe between letters joins two
// runs and is dropped, and a trailing "'s" is removed, so "reader's" is
// "reader" and "don't" is "dont". Words longer than maxWordBytes are
// skipped. buf is scratch space; the grown buffer is returned for reuse.
func scanWords(text string, buf []byte, emit func(word []byte, start, end int)) []byte {
	buf = buf[:0]
	start := -1         // byte offset of the current word, -1 between words
	end := 0            // byte offset just past the last word rune
	aposLen := -1       // len(buf) at the last apostrophe inside the word
	aposAt := -1        // byte offset of an apostrophe that may join two runs
	lastLetter := false // the last rune of the word is a letter

	flush := func() {
		if start < 0 {
			return
		}
		if aposLen >= 0 && len(buf) == aposLen+1 && buf[aposLen] == 's' {
			buf = buf[:aposLen]
		}
		if len(buf) > 0 && len(buf) <= maxWordBytes {
			emit(buf, start, end)
		}
		buf = buf[:0]
		start, aposLen, aposAt = -1, -1, -1
	}

	for i, r := range text {
		class := classify(r)
		switch {
		case class == runeIdeograph:
			flush()
			buf = utf8.AppendRune(buf, r)
			start, end = i, i+utf8.RuneLen(r)
			flush()
			continue
		case class == runeLetter || class == runeDigit || (class == runeMark && start >= 0 && aposAt < 0):
			if start < 0 {
				start = i
			} else if aposAt >= 0 {
				if class != runeLetter {
					// "rock'n'roll" joins, "it'3" does not.
					flush()
					start = i
				} else {
					aposLen = len(buf)
				}
			}
			aposAt = -1
			if r < utf8.RuneSelf {
				if 'A' <= r && r <= 'Z' {
					r += 'a' - 'A'
				}
				buf = append(buf, byte(r))
			} else {
				buf = utf8.AppendRune(buf, unicode.ToLower(r))
			}
			end = i + utf8.RuneLen(r)
			if class != runeMark {
				lastLetter = class == runeLetter
			}
		case class == runeApostrophe && start >= 0 && aposAt < 0 && lastLetter:
			aposAt = i
		default:
			flush()
		}
	}
	flush()
	return buf
}

// Rune classes for scanWords.
const (
	runeOther = iota
	runeLetter
	runeDigit
	runeMark       // a combining mark: part of a word, never its start
	runeApostrophe // may join the parts of "don't" or "reader's"
	runeIdeograph  // Han, Hiragana or Katakana: a word by itself
)

// classify returns the class of r, with a fast path for ASCII.
func classify(r rune) int {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
			return runeLetter
		case '0' <= r && r <= '9':
			return runeDigit
		case r == '\'':
			return runeApostrophe
		}
		return runeOther
	}
	switch {
	// These scripts do not separate words with spaces; each character is
	// a term, which makes them searchable at all. All lie above U+2E80.
	case r >= 0x2E80 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana):
		return runeIdeograph
	case unicode.IsLetter(r):
		return runeLetter
	case unicode.IsDigit(r):
		return runeDigit
	case unicode.IsMark(r):
		return runeMark
	case r == '’':
		return runeApostrophe
	}
	return runeOther
}

// termOf maps a lowercase English word to its index term, or "" for a stop
// word (see Language.term): the package's Analyze and Tokenize.
func termOf(word string) string { return LanguageOf("en").term(word) }

// analyzer turns text into terms in one language, caching each word's term
// so that the stemmer, which allocates, runs once per distinct word. It is
// safe for concurrent use.
type analyzer struct {
	lang  Language
	mu    sync.RWMutex
	terms map[string]string // lowercase word → term, "" for stop words
}

func newAnalyzer(lang Language) *analyzer {
	if lang.stop == nil {
		lang = LanguageOf("en")
	}
	return &analyzer{lang: lang, terms: make(map[string]string)}
}

// term is the analyzer's language's term of a lowercase word.
func (a *analyzer) term(word string) string { return a.lang.term(word) }

// wordTerm is a cache entry waiting to be stored.
type wordTerm struct{ word, term string }

// each calls fn with the term of every word of text in order, and the
// byte offset of the word, skipping stop words. When learn is set, words not yet cached are added to the
// cache; searches leave it alone so that readers' typos cannot fill it.
// buf and pending are scratch space, returned for reuse.
func (a *analyzer) each(text string, learn bool, buf []byte, pending []wordTerm, fn func(term string, start int)) ([]byte, []wordTerm) {
	pending = pending[:0]
	run := ideographRun{text: text, stop: a.lang.ideographStop}
	a.mu.RLock()
	buf = scanWords(text, buf, func(word []byte, start, end int) {
		if a.lang.bigram && isIdeographWord(word) {
			run.add(start, end, fn)
			return
		}
		run.flush(fn)
		t, ok := a.terms[string(word)]
		if !ok {
			w := string(word)
			t = a.lang.term(w)
			if learn {
				pending = append(pending, wordTerm{w, t})
			}
		}
		if t != "" {
			fn(t, start)
		}
	})
	run.flush(fn)
	a.mu.RUnlock()
	if len(pending) > 0 {
		a.mu.Lock()
		for _, p := range pending {
			if len(a.terms) >= maxStemCache {
				break
			}
			a.terms[p.word] = p.term
		}
		a.mu.Unlock()
	}
	return buf, pending
}

// isIdeographWord reports whether a word from scanWords is one Han,
// Hiragana or Katakana character (scanWords makes each its own word).
func isIdeographWord(word []byte) bool {
	r, n := utf8.DecodeRune(word)
	return n == len(word) && classify(r) == runeIdeograph
}

// isIdeographPair reports whether term is two ideographs (see
// ideographRun).
func isIdeographPair(term string) bool {
	r1, n1 := utf8.DecodeRuneInString(term)
	r2, n2 := utf8.DecodeRuneInString(term[n1:])
	return n1+n2 == len(term) && classify(r1) == runeIdeograph && classify(r2) == runeIdeograph
}

// ideographRun turns a run of adjacent ideographs into the terms of
// languages written without spaces: each overlapping pair ("时间戳" gives
// "时间", "间戳"), or the character alone when it stands alone. With stop
// words, the run is first cut at them: the pairs "什么" and "么风" of
// "有什么风险" say nothing, only "风险" does.
type ideographRun struct {
	text  string // the text the characters are in
	chars []runChar
	stop  func(string) bool // nil: no stop words
}

// runChar is one character of a run: its byte offsets in the text.
type runChar struct{ start, end int }

// add adds the character at text[start:end] to the run, ending the run
// before it when the two are not adjacent.
func (r *ideographRun) add(start, end int, fn func(string, int)) {
	if n := len(r.chars); n > 0 && start != r.chars[n-1].end {
		r.flush(fn)
	}
	r.chars = append(r.chars, runChar{start, end})
}

// maxStopRunes is the length of the longest stop word of a language
// written without spaces.
const maxStopRunes = 3

// flush ends the run and emits its terms.
func (r *ideographRun) flush(fn func(string, int)) {
	cs := r.chars
	seg := 0 // start of the current segment between stop words
	for i := 0; i < len(cs); {
		l := 0
		if r.stop != nil {
			for l = min(maxStopRunes, len(cs)-i); l > 0; l-- {
				if r.stop(r.text[cs[i].start:cs[i+l-1].end]) {
					break
				}
			}
		}
		if l == 0 {
			i++
			continue
		}
		r.emitPairs(cs[seg:i], fn)
		i += l
		seg = i
	}
	r.emitPairs(cs[seg:], fn)
	r.chars = r.chars[:0]
}

// emitPairs emits the overlapping pairs of cs, or its one character; the
// characters of a run are adjacent, so each pair is a slice of the text.
func (r *ideographRun) emitPairs(cs []runChar, fn func(string, int)) {
	if len(cs) == 1 {
		fn(r.text[cs[0].start:cs[0].end], cs[0].start)
	}
	for i := 1; i < len(cs); i++ {
		fn(r.text[cs[i-1].start:cs[i].end], cs[i-1].start)
	}
}

// cached returns the term of word (lowercase) if the analyzer has learned
// it.
func (a *analyzer) cached(word string) (string, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	t, ok := a.terms[word]
	return t, ok
}

// known reports whether word (lowercase, as scanWords gives it) occurs in
// a text the analyzer has learned, stop words included.
// A full cache knows every word: it no longer learns, so it cannot say.
func (a *analyzer) known(word []byte) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	_, ok := a.terms[string(word)]
	return ok || len(a.terms) >= maxStemCache
}

// appendNormalized appends text's words to dst, lowercased and unstemmed,
// stop words kept, each followed by one space and the whole preceded by
// one, so that " daylight saving time " is a substring of the normalized
// body exactly when those words occur there in a row, whatever the
// punctuation, markup or line breaks between them.
func appendNormalized(dst []byte, text string, buf []byte) ([]byte, []byte) {
	dst = append(dst, ' ')
	buf = scanWords(text, buf, func(word []byte, _, _ int) {
		dst = append(dst, word...)
		dst = append(dst, ' ')
	})
	return dst, buf
}

// Analyze is the package's Analyze through the index's cache of the words
// it has indexed: the same terms, without running the stemmer again for
// words of the book (the snippets of search results are made of them).
func (ix *Index) Analyze(text string) []string {
	var terms []string
	ix.an.each(text, false, nil, nil, func(t string, _ int) { terms = append(terms, t) })
	return terms
}

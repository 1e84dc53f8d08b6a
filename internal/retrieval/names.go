package retrieval

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A question that names something the book never mentions ("Svelte" in a
// book on Redux, "Kubernetes" in one on time) is one the book does not
// answer, however many of its other words the book uses. Names are
// recognized by their form, as the reader wrote them: a word capitalized
// inside a sentence ("Vercel", "PC", "Moment.js") or with a capital inside
// it ("McMurdo", "useSelector"). A name is mentioned when the book has the
// word in any case, or its plural or singular, because books lowercase
// names in code ("react-redux") and readers capitalize words for emphasis;
// a name joined by dots or underscores must occur whole.

// maxCompounds bounds the set of identifiers kept from a book; a book has
// far fewer, and a full set only means later identifiers count as absent.
const maxCompounds = 1 << 18

// surfaceWords calls fn for each word of text as written: a run of
// characters between white space (or the ideographs and full-width
// punctuation of Chinese and Japanese, which write no spaces), trimmed of
// surrounding punctuation and of a possessive "'s", with its byte offset in
// text.
func surfaceWords(text string, fn func(word string, start int)) {
	i := 0
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if separates(r) {
			i += size
			continue
		}
		j := i
		for j < len(text) {
			r, size := utf8.DecodeRuneInString(text[j:])
			if separates(r) {
				break
			}
			j += size
		}
		w := strings.TrimRightFunc(strings.TrimLeftFunc(text[i:j], trimmed), trimmed)
		for _, s := range []string{"'s", "’s"} {
			w = strings.TrimSuffix(w, s)
		}
		w = strings.TrimRightFunc(w, trimmed)
		if w != "" {
			fn(w, i+strings.Index(text[i:j], w))
		}
		i = j
	}
}

// separates reports whether r ends a surface word.
func separates(r rune) bool {
	switch {
	case unicode.IsSpace(r), r == '-', r == '/', r == '—', r == '–':
		return true
	case r < 0x2E80:
		return false
	}
	return classify(r) == runeIdeograph || (r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFF65)
}

// trimmed is the punctuation cut from the ends of a surface word.
func trimmed(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '+' && r != '#'
}

// isCompound reports whether w is an identifier: letters or digits joined
// by dots or underscores, as in "time.Now" or "global_allocator".
// Abbreviations such as "e.g." and "U.S." are not: each of their parts is a
// single letter.
func isCompound(w string) bool {
	if !strings.ContainsAny(w, "._") {
		return false
	}
	for _, part := range strings.FieldsFunc(w, func(r rune) bool { return r == '.' || r == '_' }) {
		if letterCount(part) >= 2 {
			return true
		}
	}
	return false
}

func letterCount(w string) int {
	n := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

// nameLike reports whether w, at byte offset start of text, reads as a
// name: capitalized past the first word of a sentence ("Vercel", "PC",
// "Moment.js"), or with a capital inside it ("McMurdo", "useSelector").
// Lower-case identifiers and words with digits ("time_t", "ptp4l") are not
// taken for names: readers use them for things a book explains in other
// words ("a signed 32-bit integer").
func nameLike(text string, w string, start int) bool {
	if letterCount(w) < 2 || strings.ContainsAny(w, "'’") || isStopWord(strings.ToLower(w)) {
		return false // a contraction ("I've") or a stop word is no name
	}
	return isName(text, start) || hasInnerUpper(w)
}

// hasInnerUpper reports whether a capital letter follows a lower-case one,
// as in "McMurdo" or "useSelector".
func hasInnerUpper(w string) bool {
	lower := false
	for _, r := range w {
		if unicode.IsUpper(r) && lower {
			return true
		}
		lower = unicode.IsLower(r)
	}
	return false
}

// titleCase reports whether every content word of text is capitalized, as
// in a heading pasted as a question, where capitals say nothing of names.
func titleCase(text string) bool {
	words, caps := 0, 0
	surfaceWords(text, func(w string, _ int) {
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsLetter(r) || isStopWord(strings.ToLower(w)) {
			return
		}
		words++
		if unicode.IsUpper(r) {
			caps++
		}
	})
	return words >= 3 && caps == words
}

// learnSurface collects, before the index is locked, the identifiers of
// the chunk's body and counts its words and those capitalized inside a
// sentence. Titles and headings are left out: they are often in title
// case.
func (p *prepared) learnSurface() {
	text := p.doc.Text
	// Chinese and Japanese words, about a pair of characters each, count
	// as words too: the Latin words in such a book are mostly names,
	// capitalized as names are, not a sign that capitals mean nothing.
	ideographs := 0
	for _, r := range text {
		if r >= 0x2E80 && classify(r) == runeIdeograph {
			ideographs++
		}
	}
	p.words += ideographs / 2
	for _, h := range []string{p.doc.Title, p.doc.Heading} {
		surfaceWords(h, func(w string, _ int) { p.learnCompound(w) })
	}
	surfaceWords(text, func(w string, start int) {
		p.learnCompound(w)
		if letterCount(w) > 0 {
			p.words++
			if isName(text, start) {
				p.capitalized++
			}
		}
	})
}

// learnCompound keeps the identifier that w is, or that it starts with:
// "map.get_mut(&key)" in code is "map.get_mut" in a question.
func (p *prepared) learnCompound(w string) {
	if isCompound(w) {
		p.compounds = append(p.compounds, strings.ToLower(w))
	}
	if i := strings.IndexFunc(w, notInName); i > 0 && isCompound(w[:i]) {
		p.compounds = append(p.compounds, strings.ToLower(w[:i]))
	}
}

// capitalizes reports whether the book capitalizes many words inside its
// sentences, as German does its nouns: capitals then say nothing of names.
// English prose capitalizes well under a tenth of them.
func (ix *Index) capitalizes() bool {
	return ix.capitalized*5 > ix.words
}

// absentNames returns the names in question that the book never mentions
// (the caller holds mu for reading).
func (ix *Index) absentNames(question string) []string {
	if titleCase(question) || ix.capitalizes() {
		return nil
	}
	foreign := latinIsForeign(question)
	var absent []string
	surfaceWords(question, func(w string, start int) {
		if strings.ContainsRune(w, '=') {
			return // "API_TOKEN=abc123": the reader's own setting, not a name
		}
		name := nameLike(question, w, start)
		if !name && foreign {
			// "Pin<&mut T>": the name is what comes before the type.
			if i := strings.IndexFunc(w, notInName); i > 0 {
				w = w[:i]
			}
			name = latinTerm(w)
		}
		if name && !ix.mentions(w) {
			absent = append(absent, w)
		}
	})
	return absent
}

// latinIsForeign reports whether text is written mostly in another script
// than the Latin alphabet (Chinese, Japanese, Russian…). Its Latin words
// are then foreign terms (names, identifiers, "futex"), capitalized or
// not, and a sentence's first word is one too ("Pin<&mut T> 是怎样…").
// Chinese and Japanese count about two characters a word.
func latinIsForeign(text string) bool {
	latin, other, ideographs := 0, 0, 0
	surfaceWords(text, func(w string, _ int) {
		switch {
		case strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) && !unicode.Is(unicode.Latin, r) }) >= 0:
			other++
		case letterCount(w) > 0:
			latin++
		}
	})
	for _, r := range text {
		if r >= 0x2E80 && classify(r) == runeIdeograph {
			ideographs++
		}
	}
	return other+ideographs/2 > latin
}

// notInName reports whether r ends the name at the start of a word.
func notInName(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("_.:+#", r)
}

// latinTerm reports whether w is a word of two Latin letters or more, not
// a stop word; it may hold digits and the punctuation of identifiers.
func latinTerm(w string) bool {
	n := 0
	for _, r := range w {
		switch {
		case unicode.Is(unicode.Latin, r):
			n++
		case unicode.IsLetter(r):
			return false
		}
	}
	return n >= 2 && !isStopWord(strings.ToLower(w))
}

// mentions reports whether the book has the word w in any case, or a
// plural or singular of it; for an identifier, the whole identifier.
func (ix *Index) mentions(w string) bool {
	lw := strings.ToLower(w)
	if isCompound(lw) {
		_, ok := ix.compounds[lw]
		return ok
	}
	// "ROS2" is "ROS 2" in the book, "Python3" "Python 3".
	letters := strings.TrimRightFunc(lw, unicode.IsDigit)
	for _, c := range []string{lw, lw + "s", lw + "es", strings.TrimSuffix(lw, "s"), letters} {
		known := c != ""
		scanWords(c, nil, func(word []byte, _, _ int) { known = known && ix.an.known(word) })
		if known {
			return true
		}
	}
	return false
}

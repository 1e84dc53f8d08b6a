package book

import (
	"strconv"
	"strings"
)

// Chunking parameters, in words. A chunk collects whole blocks of one
// section up to targetWords; the next chunk starts with the previous
// chunk's last block when that block is short (overlapWords), so a fact
// stated across a block boundary is found by either chunk.
const (
	targetWords  = 280
	overlapWords = 60
)

// Chunk is a piece of one section, the unit retrieval indexes.
type Chunk struct {
	// ID is derived from the book, document, section, position and text, so
	// ingesting an unchanged book yields the same ids.
	ID         string
	DocPath    string
	SectionOrd int
	Ord        int    // position within the section
	Heading    string // the heading path, "Title > Heading > Subheading"
	Text       string // the chunk's text, without the heading path
	Words      int
}

// Chunks splits the document's sections into chunks. A section that fits
// is one chunk; a longer one is split between blocks (paragraphs, lists,
// tables, code), never inside a code block, with the overlap above; a
// single paragraph longer than twice the target is split between sentences.
func (d *Doc) Chunks(bookID string) []Chunk {
	var out []Chunk
	for si := range d.Sections {
		s := &d.Sections[si]
		heading := strings.Join(s.Path, " > ")
		var cur []block
		n := 0
		emit := func() {
			if len(cur) == 0 {
				return
			}
			t := joinBlocks(cur)
			ord := 0
			if len(out) > 0 && out[len(out)-1].SectionOrd == s.Ord {
				ord = out[len(out)-1].Ord + 1
			}
			out = append(out, Chunk{
				ID:      hashOf(bookID, d.Path, s.Anchor, strconv.Itoa(ord), t)[:32],
				DocPath: d.Path, SectionOrd: s.Ord, Ord: ord, Heading: heading, Text: t, Words: words(t),
			})
		}
		for _, b := range splitLong(s.blocks) {
			if n > 0 && n+b.words > targetWords {
				emit()
				last := cur[len(cur)-1]
				cur, n = nil, 0
				if !last.code && last.words <= overlapWords && last.words+b.words <= targetWords {
					cur, n = []block{last}, last.words
				}
			}
			cur = append(cur, b)
			n += b.words
		}
		emit()
	}
	return out
}

// splitLong splits prose blocks longer than twice the target at sentence
// ends; code blocks are kept whole whatever their size.
func splitLong(bs []block) []block {
	var out []block
	for _, b := range bs {
		if b.code || b.words <= 2*targetWords {
			out = append(out, b)
			continue
		}
		var cur strings.Builder
		n := 0
		for _, sent := range sentences(b.text) {
			w := words(sent)
			if n > 0 && n+w > targetWords {
				out = append(out, block{text: strings.TrimSpace(cur.String()), words: n})
				cur.Reset()
				n = 0
			}
			cur.WriteString(sent)
			n += w
		}
		if n > 0 {
			out = append(out, block{text: strings.TrimSpace(cur.String()), words: n})
		}
	}
	return out
}

// sentences splits text after ". ", "! ", "? " (and newlines), keeping the
// separators with the sentence; a run of words with no sentence end is cut
// every targetWords words.
func sentences(t string) []string {
	var out []string
	start := 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		end := c == '\n' || (c == '.' || c == '!' || c == '?') && i+1 < len(t) && (t[i+1] == ' ' || t[i+1] == '\n')
		if end {
			out = append(out, t[start:i+1])
			start = i + 1
		}
	}
	if start < len(t) {
		out = append(out, t[start:])
	}
	var res []string
	for _, s := range out {
		f := strings.Fields(s)
		for len(f) > targetWords {
			res = append(res, strings.Join(f[:targetWords], " ")+" ")
			f = f[targetWords:]
		}
		if len(f) > 0 {
			res = append(res, s)
			if len(strings.Fields(s)) != len(f) {
				res[len(res)-1] = strings.Join(f, " ") + " "
			}
		}
	}
	return res
}

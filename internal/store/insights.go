package store

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// DayVolume is what readers asked on one day (UTC).
type DayVolume struct {
	Day       time.Time // midnight UTC
	Questions int64     // questions asked
	Readers   int64     // distinct readers who asked
}

// AgentVolume is how one agent answered on one day (UTC).
type AgentVolume struct {
	Day        time.Time // midnight UTC
	Agent      string
	Answered   int64 // answers from the book
	NotCovered int64 // answers saying the book does not cover the question
}

// Volume is the questions and answers of a span of days, day by day, for
// the book's owners. It names no reader.
type Volume struct {
	Days   []DayVolume   // days with at least one question, in order
	Agents []AgentVolume // by day, then agent
}

// DayOf returns the midnight UTC of the day numbered n since 1970-01-01.
func DayOf(n int64) time.Time { return time.Unix(n*24*60*60, 0).UTC() }

// AskedQuestion is a question as the book's owners see it, with the
// reader's id only to count distinct readers; it is never shown.
type AskedQuestion struct {
	Text    string
	Page    string // the page it was asked from, "" when none
	UserID  string
	AskedAt time.Time
}

// RatedAnswer is an answer a reader rated down, with its question, as the
// book's owners see it.
type RatedAnswer struct {
	Question string
	Answer   string
	Sources  []byte // the answer's cited sections, as stored
	Comment  string // the reader's comment on the rating, "" when none
	RatedAt  time.Time
}

// PageCount is how often readers asked from one page of the book.
type PageCount struct {
	Page      string
	Questions int64
	Readers   int64 // distinct readers who asked from it
}

// SectionCount is how often answers cited one section of the book.
type SectionCount struct {
	URL       string // the section's page and heading anchor
	Slug      string // its page
	Heading   string // "" for the page's top
	Citations int64  // answers that cited it
	Readers   int64  // distinct readers who got those answers
}

// KeyCount is how often one page was asked from, or one section cited,
// over a span of days, and by how many distinct readers.
type KeyCount struct {
	Key     string
	N       int64
	Readers int64
}

// KeyTally adds up the per-day rows the stores keep for each page and
// section (insights_key_days): each row's count, and its list of readers,
// the readers' numbers each followed by a comma ("12,345,12,"). A key's
// readers are the distinct numbers of its rows, marked in a bitmap that is
// cleared between keys, so adding up a span reads each entry once and
// allocates only for the keys. Rows must come grouped by key.
type KeyTally struct {
	seen   []uint64        // one bit per reader number, for the key being added
	marked []uint32        // the numbers marked in seen
	beyond map[uint32]bool // the numbers too large for seen
	cur    KeyCount        // the key being added, when open
	open   bool
	counts []KeyCount
}

// Add adds one row of key: n questions or citations, by the readers listed.
func (t *KeyTally) Add(key []byte, n int64, readers []byte) {
	if !t.open || string(key) != t.cur.Key {
		t.flush()
		t.cur, t.open = KeyCount{Key: string(key)}, true
	}
	t.cur.N += n
	var num uint32
	for _, c := range readers {
		if c >= '0' && c <= '9' {
			num = num*10 + uint32(c-'0')
			continue
		}
		t.mark(num)
		num = 0
	}
}

// bitmapReaders bounds the bitmap (2 MiB); a reader numbered beyond it,
// which only a database edited by hand would hold, is counted in a map.
const bitmapReaders = 1 << 24

// mark counts reader num for the key being added, once.
func (t *KeyTally) mark(num uint32) {
	if num >= bitmapReaders {
		if t.beyond == nil {
			t.beyond = make(map[uint32]bool)
		}
		t.beyond[num] = true
		return
	}
	if w := int(num >> 6); w >= len(t.seen) {
		t.seen = append(t.seen, make([]uint64, max(w+1, 2*len(t.seen))-len(t.seen))...)
	}
	if bit := uint64(1) << (num & 63); t.seen[num>>6]&bit == 0 {
		t.seen[num>>6] |= bit
		t.marked = append(t.marked, num)
	}
}

// flush ends the key being added.
func (t *KeyTally) flush() {
	if !t.open {
		return
	}
	t.open = false
	t.cur.Readers = int64(len(t.marked) + len(t.beyond))
	clear(t.beyond)
	for _, num := range t.marked {
		t.seen[num>>6] = 0
	}
	t.marked = t.marked[:0]
	t.counts = append(t.counts, t.cur)
}

// Counts returns the keys asked about or cited at least once by at least
// minReaders readers, the most first (then by key), at most limit of them.
func (t *KeyTally) Counts(minReaders, limit int) []KeyCount {
	t.flush()
	out := slices.DeleteFunc(t.counts, func(c KeyCount) bool { return c.N <= 0 || c.Readers < int64(minReaders) })
	slices.SortFunc(out, func(a, b KeyCount) int { return cmp.Or(cmp.Compare(b.N, a.N), strings.Compare(a.Key, b.Key)) })
	t.counts = nil
	return out[:min(len(out), limit)]
}

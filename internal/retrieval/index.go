// Package retrieval is Lectern's in-process search index: it finds the
// sections of a book that best answer a reader's question, and says when
// the book does not cover the question at all.
//
// # Ranking
//
// Chunks are ranked with BM25 (Options.K1, Options.B) over an English
// analyzer (see Analyze): words are lowercased, stop words dropped and
// English words reduced to their Snowball stems, so "running" finds "run".
// A chunk's title and heading words count more than its body words
// (Options.TitleWeight, Options.HeadingWeight): each occurrence adds that
// weight to the term's frequency and to the chunk's length, a simple form
// of BM25F.
//
// Chunks are then shaped by what the reader is doing. A highlighted passage
// (Query.Highlight) adds its terms to the question at a lower weight, and a
// chunk containing the passage word for word gets a strong boost
// (Options.HighlightBoost). A chunk of the page the reader is on gets a
// small one (Options.PageBoost): enough to settle a near tie, not to beat a
// clearly better section.
//
// Three signals go beyond single words. The best chunks by BM25 gain up to
// Options.ProximityWeight when the question's words stand close together
// (Options.ProximityWindow words). A question word the book never uses
// brings in its synonyms that the book does use, from Options.Thesaurus
// (see Index.expand). And for a question asking what something is, the
// chunks that open the page about it count Options.CueBoost times.
//
// Chunks of the same section (Doc.Group) are merged into one hit: the best
// chunk's score plus Options.GroupBonus times the second best's, so a
// section that answers in several places edges out one that mentions the
// question once.
//
// When chunks carry embeddings (Doc.Vector) and the query does too
// (Query.Vector), sections are also ranked by cosine similarity and the two
// rankings are combined by reciprocal rank fusion (FuseRRF); the page and
// highlight boosts shape the BM25 ranking before it is fused. Without
// vectors, BM25 ranks alone.
//
// # "Not covered"
//
// BM25 scores have no fixed scale, so they cannot say "not covered" by
// themselves. Each hit also gets a coverage: the share of the question that
// its chunk contains, each content term weighted by its idf (and by its
// query weight, lower for highlighted-only terms). A term the book never
// uses counts as if it were in exactly one chunk, the rarest a term can
// be. A missing word that looks like a name (capitalized inside the
// question, or letters mixed with digits: "Kubernetes", "w32tm") counts
// Options.NameWeight times more (default 4). The question is covered when
// one of the three best sections by BM25 has, for its best chunk,
//
//	coverage ≥ Options.MinCoverage (default DefaultMinCoverage, 0.2)
//	BM25     ≥ Options.MinScore    (default DefaultMinScore, 0.3)
//
// and, for a question of three or more terms, at least two of them: one
// shared word says little ("the best watch brand for divers" against a
// section on watches). On top of that, a question that names something
// the book never mentions (see absentNames: "Svelte" in a book on Redux,
// "Moment.js" in one on time) is not covered, whatever else it shares with
// the book: of 20 such questions in the evaluation sets of five books, 19
// were ones the book does not answer.
//
// The floor is low on purpose. Readers' words are not the author's, and a
// paraphrase shares few words with the section that answers it; measured
// on the tuning sets of four books nobody on the team wrote (eval/), a
// floor of 0.36 refused 24 of 117 answerable questions, 0.2 refuses 3,
// while names and the two-word rule catch most unanswerable questions that
// the higher floor caught. Near-topic questions in the book's own words
// ("how much does a caesium atomic clock cost?") pass: lexical overlap
// cannot tell them apart, and the answer step says when the sections found
// do not answer. The score floor rejects questions whose matches are only
// words found in most chunks (roughly three quarters or more), whose idf,
// and so BM25, is near zero. Questions made only of stop words, or only of
// words absent from the book, have no coverage and are never covered.
//
// A hit whose chunk contains the highlighted passage word for word is
// covered regardless. With Options.MinCosine set, so is a question whose
// embedding has at least that cosine similarity to a chunk's.
//
// idf depends on the number of chunks: in an index of a single chunk no
// word is rare enough to clear the score floor; set MinScore negative there.
//
// # Cost
//
// Terms are interned to int32 ids and each posting is 8 bytes (chunk slot,
// weighted frequency), kept sorted by slot. A search walks the postings of
// the question's terms into a score array taken from a pool, so it
// allocates little more than its result. Removed chunks leave an empty
// slot; the index compacts itself once there are at least 64 empty slots
// and at least half as many as live chunks. To verify highlighted passages
// word for word, the index keeps each chunk's body text in normalized form,
// about a third of its memory (26 MB in all for a million words).
package retrieval

import (
	"math"
	"slices"
	"strings"
	"sync"
)

// DefaultK is the number of hits Search returns when Query.K is zero.
const DefaultK = 3

// Defaults for Options; each applies when the field is zero.
const (
	DefaultK1              = 1.2
	DefaultB               = 0.75
	DefaultTitleWeight     = 1.5
	DefaultHeadingWeight   = 2.0
	DefaultMinCoverage     = 0.2
	DefaultMinScore        = 0.3
	DefaultHighlightWeight = 0.5
	DefaultHighlightBoost  = 2.0
	DefaultPageBoost       = 1.15
	DefaultGroupBonus      = 0.1
	DefaultRRFK            = 60
	DefaultNameWeight      = 4.0
	DefaultProximityWeight = 0.5
	DefaultProximityWindow = 8
	DefaultSynonymWeight   = 0.5
	DefaultCueBoost        = 1.3
)

// floorDepth is how many of the best sections by BM25 the coverage floor
// looks at, whatever Query.K is, so that asking for more hits does not
// make a question more likely to count as covered.
const floorDepth = 3

// fusionDepth is how many sections of each ranking take part in reciprocal
// rank fusion; ranks beyond it add less than 1/(60+100) and cannot lift a
// section into the top few.
const fusionDepth = 100

// Options tunes an Index. The zero value gives the defaults above. Where
// zero is itself a meaningful setting (B, MinCoverage, MinScore,
// GroupBonus), a negative value means zero.
type Options struct {
	// K1 is BM25's term-frequency saturation: how quickly repeating a word
	// stops adding to a chunk's score.
	K1 float64
	// B is BM25's length normalization: 1 fully discounts long chunks, 0
	// ignores length.
	B float64
	// TitleWeight and HeadingWeight are what one occurrence of a word in
	// Doc.Title or Doc.Heading counts for, against 1 for the body: a
	// heading names what its section is about. On the demo book's
	// evaluation set, weights from 1 to 3 move hit@1 and hit@3 by at most
	// one question in 94; the defaults are the usual choice.
	TitleWeight   float64
	HeadingWeight float64
	// MinCoverage is the least idf-weighted share of the question's terms
	// that a hit must contain for the question to count as covered (see
	// the package documentation). With it at zero (negative), the rule
	// asking for two shared words of three is off too.
	MinCoverage float64
	// MinScore is the least raw BM25 score that hit must also have.
	MinScore float64
	// MinCosine, when positive, also counts the question as covered when a
	// chunk's embedding has at least this cosine similarity to
	// Query.Vector. It is zero (off) by default because sensible
	// thresholds depend on the embedding model.
	MinCosine float64
	// HighlightWeight is the query weight of terms that come only from
	// Query.Highlight, against 1 for terms of Query.Text. It is lowered
	// for a long passage, so that the passage's terms together never
	// weigh more (by idf) than the question's.
	HighlightWeight float64
	// HighlightBoost multiplies the score of a chunk that contains the
	// highlighted passage word for word.
	HighlightBoost float64
	// PageBoost multiplies the score of a chunk of Query.Page; 1 turns the
	// page bias off.
	PageBoost float64
	// GroupBonus is the share of a section's second-best chunk score added
	// to its best.
	GroupBonus float64
	// RRFK is the k of reciprocal rank fusion.
	RRFK int
	// NameWeight multiplies, in the coverage measure, the weight of a
	// question word that looks like a name (capitalized inside the
	// sentence: "Rust", "Kubernetes", "McMurdo") and that the book never
	// uses. A question about something the book never names is rarely
	// one the book answers, while other missing words are often just
	// wording. 1 treats names like other words, and turns off the rule that
	// a question naming something the book never mentions is not covered.
	NameWeight float64
	// ProximityWeight and ProximityWindow shape the proximity boost (see
	// Index.proximity): a chunk's score is multiplied by 1 + the weight
	// times the largest share of the question found within the window of
	// words. On the tuning sets of four books and the demo book's two sets,
	// 0.5 and 8 words raised hit@3 on three books by one or two questions
	// and lowered it on one by one, and hit@1 on four; weights of 1 and
	// more lowered hit@1 on the demo book's held-out set.
	ProximityWeight float64
	ProximityWindow int
	// CueBoost multiplies, for a question asking what something is, the
	// score of the chunks that open the page about it (see Index.cueFits);
	// 1 turns it off.
	CueBoost float64
	// Thesaurus, when set, adds to a question the synonyms that the book
	// uses of the question's words that it never uses (see Index.expand),
	// at SynonymWeight of the word's weight (default 0.5). A synonym found
	// in a chunk also counts, for coverage, as the word it stands for, at
	// its weight. On the tuning sets this raised paraphrase hit@3 on the
	// code review guide from 0.43 to 0.57 and changed no other book;
	// synonyms of words the book does use moved books both ways (WordNet's
	// senses are not the book's), so those are not added.
	Thesaurus     Thesaurus
	SynonymWeight float64
	// Language is how the book's words become terms (LanguageOf); the
	// zero Language is English.
	Language Language
}

// Thesaurus gives the synonyms of a word.
type Thesaurus interface {
	EachSynonym(word string, fn func(synonym string))
}

// withDefaults returns o with zero fields set to their defaults and
// negative ones, where zero is meaningful, set to zero.
func (o Options) withDefaults() Options {
	def := func(v *float64, d float64, zeroAllowed bool) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0 && zeroAllowed:
			*v = 0
		}
	}
	def(&o.K1, DefaultK1, false)
	def(&o.B, DefaultB, true)
	def(&o.TitleWeight, DefaultTitleWeight, false)
	def(&o.HeadingWeight, DefaultHeadingWeight, false)
	def(&o.MinCoverage, DefaultMinCoverage, true)
	def(&o.MinScore, DefaultMinScore, true)
	def(&o.HighlightWeight, DefaultHighlightWeight, false)
	def(&o.HighlightBoost, DefaultHighlightBoost, false)
	def(&o.PageBoost, DefaultPageBoost, false)
	def(&o.GroupBonus, DefaultGroupBonus, true)
	def(&o.NameWeight, DefaultNameWeight, false)
	def(&o.ProximityWeight, DefaultProximityWeight, true)
	def(&o.SynonymWeight, DefaultSynonymWeight, true)
	def(&o.CueBoost, DefaultCueBoost, false)
	if o.RRFK <= 0 {
		o.RRFK = DefaultRRFK
	}
	if o.ProximityWindow <= 0 {
		o.ProximityWindow = DefaultProximityWindow
	}
	return o
}

// Doc is one retrievable chunk of a book.
type Doc struct {
	ID      string    // unique chunk id
	Group   string    // section key (e.g. "docs/a.md#anchor"): hits with the same Group are merged into one result
	Page    string    // the document this chunk belongs to (its slug or path), for the current-page bias and RemovePage
	Title   string    // document title
	Heading string    // heading path, e.g. "Time zones > Daylight saving time"
	Text    string    // body text
	Vector  []float32 // optional dense embedding (nil when none)
	// Lead marks a chunk of the text that opens its page, before any
	// heading: where a page says what its subject is.
	Lead bool
}

// Query is what a reader asks.
type Query struct {
	Text      string    // the reader's question (may be empty if Highlight is set)
	K         int       // number of results; 0 means DefaultK
	Highlight string    // text the reader highlighted (optional): biases toward sections containing it or similar to it
	Page      string    // the page the reader is on (optional): a small boost for its chunks
	Vector    []float32 // optional query embedding for the dense path
}

// Hit is one section found for a query, represented by its best chunk.
type Hit struct {
	ID    string // the best chunk of the section
	Group string
	Page  string
	// Score is the fused score, higher is better: the boosted BM25 score
	// of the section, or with vectors its reciprocal rank fusion score.
	Score float64
	// BM25 is the raw BM25 score of the chunk ID (zero if only the dense
	// path found it).
	BM25 float64
	// Coverage is the idf-weighted share of the question's terms that the
	// chunk contains, from 0 to 1; see the package documentation.
	Coverage float64
	// Matched lists the query terms (stems) the chunk contains, for
	// snippets and highlighting (see Tokenize).
	Matched []string
}

// Result is the answer to a Search.
type Result struct {
	Hits []Hit
	// Covered is false when nothing in the book is relevant enough (see
	// the package documentation); Hits is then empty.
	Covered bool
	// Missing lists the names in the question that the book never
	// mentions, when that is why it is not covered.
	Missing []string
	// Closest are, when the question is not covered, the sections that
	// came nearest, to offer the reader instead of a dead end.
	Closest []Hit
}

// posting records that a term occurs in a chunk: the chunk's slot and the
// term's weighted frequency there.
type posting struct {
	doc int32
	tf  float32
}

// cmpPosting orders a posting against a slot, for binary search.
func cmpPosting(p posting, doc int32) int { return int(p.doc - doc) }

// slot is what the index keeps of a chunk besides its postings.
type slot struct {
	id    string
	group int32
	page  int32
	alive bool
	terms []int32   // distinct term ids, to remove the chunk's postings
	seq   []int32   // the body's words in order as term ids, -1 for stop words, for proximity
	title []int32   // the page title's distinct term ids
	lead  bool      // Doc.Lead
	norm  string    // body words, normalized for verbatim highlight matching
	vec   []float32 // unit-length embedding, or nil
}

// Index is an in-memory search index over a book's chunks. It is safe for
// concurrent use: searches run in parallel and wait only while Add, Remove
// or RemovePage change the index.
type Index struct {
	opt  Options
	an   *analyzer
	pool sync.Pool // *scratch

	mu       sync.RWMutex
	slots    []slot
	dl       []float32 // weighted length of each slot, apart for locality
	byID     map[string]int32
	live     int
	dead     int
	totalLen float64
	vectors  int // live chunks with an embedding

	termID   map[string]int32
	termStr  []string
	postings [][]posting

	groupID  map[string]int32
	groupStr []string
	pageID   map[string]int32
	pageStr  []string

	// compounds holds the identifiers the book uses ("time.Now"),
	// lowercased, for absentNames; it only grows until the index is emptied,
	// like the counts of words and of words capitalized inside a sentence.
	compounds          map[string]struct{}
	words, capitalized int
}

// New returns an empty index.
func New(opt Options) *Index {
	ix := &Index{opt: opt.withDefaults(), an: newAnalyzer(opt.Language)}
	ix.pool.New = func() any { return new(scratch) }
	ix.reset()
	return ix
}

// reset empties the index's maps and slices (the caller holds mu or owns ix).
func (ix *Index) reset() {
	ix.slots, ix.dl = nil, nil
	ix.byID = make(map[string]int32)
	ix.live, ix.dead, ix.totalLen, ix.vectors = 0, 0, 0, 0
	ix.termID = make(map[string]int32)
	ix.termStr, ix.postings = nil, nil
	ix.groupID = make(map[string]int32)
	ix.groupStr = nil
	ix.pageID = make(map[string]int32)
	ix.pageStr = nil
	ix.compounds = make(map[string]struct{})
	ix.words, ix.capitalized = 0, 0
}

// Language returns the language the index analyzes text in.
func (ix *Index) Language() Language { return ix.an.lang }

// Len returns the number of chunks in the index.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.live
}

// termCount is a term's weighted frequency in a chunk being added.
type termCount struct {
	term string
	tf   float32
}

// prepared is a chunk analyzed outside the index lock.
type prepared struct {
	doc    *Doc
	length float32
	terms  []termCount
	norm   string
	vec    []float32
	// the body's identifiers, and its words and those capitalized inside
	// a sentence (see learnSurface)
	compounds          []string
	words, capitalized int
}

// Add adds chunks to the index, replacing any chunk with the same ID.
// Within one call a later chunk replaces an earlier one with the same ID.
// Analysis happens before the index is locked, so searches keep running
// while a large batch is prepared.
func (ix *Index) Add(docs ...Doc) {
	if len(docs) == 0 {
		return
	}
	preps := make([]prepared, len(docs))
	counts := make(map[string]float32)
	var buf, normBuf []byte
	var pending []wordTerm
	for i := range docs {
		d := &docs[i]
		clear(counts)
		var length float32
		field := func(text string, w float32) {
			buf, pending = ix.an.each(text, true, buf, pending, func(t string, _ int) {
				counts[t] += w
				length += w
			})
		}
		field(d.Title, float32(ix.opt.TitleWeight))
		field(d.Heading, float32(ix.opt.HeadingWeight))
		field(d.Text, 1)
		p := prepared{doc: d, length: length, terms: make([]termCount, 0, len(counts))}
		for t, c := range counts {
			p.terms = append(p.terms, termCount{t, c})
		}
		normBuf, buf = appendNormalized(normBuf[:0], d.Text, buf)
		p.norm = string(normBuf)
		p.vec = unitVector(d.Vector)
		p.learnSurface()
		preps[i] = p
	}

	ix.mu.Lock()
	defer ix.mu.Unlock()
	for i := range preps {
		p := &preps[i]
		if s, ok := ix.byID[p.doc.ID]; ok {
			ix.removeSlot(s)
		}
		ix.insert(p)
		for _, c := range p.compounds {
			if len(ix.compounds) < maxCompounds {
				ix.compounds[c] = struct{}{}
			}
		}
		ix.words += p.words
		ix.capitalized += p.capitalized
	}
	ix.maybeCompact()
}

// insert appends a prepared chunk in a new slot (the caller holds mu).
// Slots only grow until compaction, so every posting list stays sorted.
func (ix *Index) insert(p *prepared) {
	s := int32(len(ix.slots))
	terms := make([]int32, len(p.terms))
	for i, tc := range p.terms {
		id, ok := ix.termID[tc.term]
		if !ok {
			// A term may be a slice of the chunk's text (a pair of
			// ideographs): the index keeps a copy, not the text.
			t := strings.Clone(tc.term)
			id = int32(len(ix.termStr))
			ix.termID[t] = id
			ix.termStr = append(ix.termStr, t)
			ix.postings = append(ix.postings, nil)
		}
		ix.postings[id] = append(ix.postings[id], posting{doc: s, tf: tc.tf})
		terms[i] = id
	}
	ix.slots = append(ix.slots, slot{
		id:    p.doc.ID,
		group: intern(ix.groupID, &ix.groupStr, p.doc.Group),
		page:  intern(ix.pageID, &ix.pageStr, p.doc.Page),
		alive: true,
		terms: terms,
		seq:   ix.sequence(p.norm),
		title: ix.titleTerms(p.doc.Title),
		lead:  p.doc.Lead,
		norm:  p.norm,
		vec:   p.vec,
	})
	ix.dl = append(ix.dl, p.length)
	ix.byID[p.doc.ID] = s
	ix.live++
	ix.totalLen += float64(p.length)
	if p.vec != nil {
		ix.vectors++
	}
}

// titleTerms returns the distinct term ids of a title (the caller holds
// mu; the title's terms are in the index, as Add indexes titles).
func (ix *Index) titleTerms(title string) []int32 {
	var ids []int32
	for _, t := range ix.Analyze(title) {
		if id, ok := ix.termID[t]; ok && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// sequence returns the term ids of norm's words in order, -1 for a stop
// word or a word that is not a term (the caller holds mu).
func (ix *Index) sequence(norm string) []int32 {
	seq := make([]int32, 0, strings.Count(norm, " "))
	ix.an.mu.RLock()
	defer ix.an.mu.RUnlock()
	for _, w := range strings.Fields(norm) {
		t, ok := ix.an.terms[w]
		if !ok {
			t = ix.an.term(w)
		}
		id, ok := ix.termID[t]
		if t == "" || !ok {
			id = -1
		}
		seq = append(seq, id)
	}
	return seq
}

// intern returns the id of s in ids, adding it if new.
func intern(ids map[string]int32, strs *[]string, s string) int32 {
	if id, ok := ids[s]; ok {
		return id
	}
	id := int32(len(*strs))
	ids[s] = id
	*strs = append(*strs, s)
	return id
}

// Remove removes the chunks with the given IDs; unknown IDs are ignored.
func (ix *Index) Remove(ids ...string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, id := range ids {
		if s, ok := ix.byID[id]; ok {
			ix.removeSlot(s)
		}
	}
	ix.maybeCompact()
}

// RemovePage removes every chunk whose Doc.Page is page, as when the
// document changed and is about to be added again, and returns how many
// it removed.
func (ix *Index) RemovePage(page string) int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	pid, ok := ix.pageID[page]
	if !ok {
		return 0
	}
	n := 0
	for s := range ix.slots {
		if ix.slots[s].alive && ix.slots[s].page == pid {
			ix.removeSlot(int32(s))
			n++
		}
	}
	ix.maybeCompact()
	return n
}

// removeSlot deletes a live chunk's postings and empties its slot (the
// caller holds mu).
func (ix *Index) removeSlot(s int32) {
	sl := &ix.slots[s]
	for _, t := range sl.terms {
		pl := ix.postings[t]
		i, found := slices.BinarySearchFunc(pl, s, cmpPosting)
		if found {
			ix.postings[t] = slices.Delete(pl, i, i+1)
		}
	}
	if sl.vec != nil {
		ix.vectors--
	}
	delete(ix.byID, sl.id)
	ix.totalLen -= float64(ix.dl[s])
	ix.dl[s] = 0
	*sl = slot{group: -1, page: -1}
	ix.live--
	ix.dead++
}

// maybeCompact renumbers the live chunks when empty slots have piled up,
// so that memory and the score arrays of searches track the live corpus.
// Its cost is linear in the index, paid after at least as many removals
// as half the live chunks, so removal stays amortized O(postings removed).
func (ix *Index) maybeCompact() {
	if ix.live == 0 {
		ix.reset()
		return
	}
	if ix.dead < 64 || ix.dead < ix.live/2 {
		return
	}
	remap := make([]int32, len(ix.slots))
	slots := make([]slot, 0, ix.live)
	dl := make([]float32, 0, ix.live)
	for s := range ix.slots {
		remap[s] = -1
		if ix.slots[s].alive {
			remap[s] = int32(len(slots))
			slots = append(slots, ix.slots[s])
			dl = append(dl, ix.dl[s])
		}
	}

	termRemap := make([]int32, len(ix.termStr))
	termID := make(map[string]int32, len(ix.termID))
	var termStr []string
	var postings [][]posting
	for t, pl := range ix.postings {
		termRemap[t] = -1
		if len(pl) == 0 {
			continue
		}
		// Slots keep their order, so the remapped list stays sorted.
		npl := make([]posting, len(pl))
		for i, p := range pl {
			npl[i] = posting{doc: remap[p.doc], tf: p.tf}
		}
		termRemap[t] = int32(len(termStr))
		termID[ix.termStr[t]] = int32(len(termStr))
		termStr = append(termStr, ix.termStr[t])
		postings = append(postings, npl)
	}

	groupID := make(map[string]int32)
	pageID := make(map[string]int32)
	var groupStr, pageStr []string
	byID := make(map[string]int32, len(slots))
	for i := range slots {
		sl := &slots[i]
		sl.group = intern(groupID, &groupStr, ix.groupStr[sl.group])
		sl.page = intern(pageID, &pageStr, ix.pageStr[sl.page])
		for j, t := range sl.terms {
			sl.terms[j] = termRemap[t]
		}
		for j, t := range sl.seq {
			if t >= 0 {
				sl.seq[j] = termRemap[t]
			}
		}
		for j, t := range sl.title {
			sl.title[j] = termRemap[t]
		}
		byID[sl.id] = int32(i)
	}

	ix.slots, ix.dl, ix.byID, ix.dead = slots, dl, byID, 0
	ix.termID, ix.termStr, ix.postings = termID, termStr, postings
	ix.groupID, ix.groupStr, ix.pageID, ix.pageStr = groupID, groupStr, pageID, pageStr
}

// unitVector returns a copy of v scaled to length 1, or nil if v is empty
// or zero.
func unitVector(v []float32) []float32 {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 || math.IsNaN(sum) || math.IsInf(sum, 0) {
		return nil
	}
	inv := 1 / math.Sqrt(sum)
	u := make([]float32, len(v))
	for i, x := range v {
		u[i] = float32(float64(x) * inv)
	}
	return u
}

// IDF is the inverse document frequency of a term (a stem, as Analyze
// returns) over the indexed chunks, as BM25 weighs it: high for rare terms,
// near zero for terms in most chunks; a term absent from the index counts as
// the rarest.
func (ix *Index) IDF(term string) float64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := float64(ix.live)
	df := 1
	if id, ok := ix.termID[term]; ok {
		df = max(1, len(ix.postings[id]))
	}
	return math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
}

package retrieval

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// queryTerm is one distinct content term of a query.
type queryTerm struct {
	term   int32   // term id, or -1 when the index does not contain it
	stem   string  // the term itself
	w      float64 // query weight: 1, or Options.HighlightWeight
	idf    float64
	inHigh bool // the highlighted passage contains it
	name   bool // absent, and capitalized inside the question: a name
	syn    bool // a synonym of the question's term of (see expand)
	of     int32
}

// cand is a section in a ranking: its group, representative chunk and score.
type cand struct {
	g     int32
	doc   int32
	score float64
}

// scratch is the per-search working memory, pooled so that a search
// allocates little. Per-slot and per-group arrays are all zero (gDoc and
// gCosDoc all -1) between searches; each search resets what it touched.
type scratch struct {
	score   []float64 // raw BM25 by slot
	touched []int32   // slots with a score
	prox    []float64 // by slot: the proximity boost of the best candidates
	proxed  []int32   // slots with a proximity boost
	top     []cand    // the best chunks by BM25, for the proximity boost

	gBest    []float64 // best boosted chunk score by group
	gSecond  []float64 // second best
	gDoc     []int32   // slot of the best chunk, -1 if none
	gTouched []int32

	gCos        []float64 // best cosine by group
	gCosDoc     []int32   // slot of the most similar chunk, -1 if none
	gCosTouched []int32
	gFused      []float64 // reciprocal rank fusion score by group

	qterms     []queryTerm
	termAt     []int32 // by term id: 1 + its index in qterms, 0 if absent
	verbatim   []int32 // slots containing the highlighted passage, sorted
	lex        []cand  // lexical ranking of sections
	dense      []cand  // dense ranking of sections
	fused      []cand
	qvec       []float32
	buf        []byte
	hl         []byte
	pending    []wordTerm
	definition bool // the question asks what something is
	hits       []wordHit
	inWin      []int32
}

// fit sizes the arrays for nslots slots, ngroups groups and nterms terms,
// keeping the all-zero (and -1) invariant for new entries.
func (s *scratch) fit(nslots, ngroups, nterms int) {
	if len(s.termAt) < nterms {
		s.termAt = make([]int32, nterms+nterms/4)
	}
	if len(s.score) < nslots {
		s.score = make([]float64, nslots+nslots/4)
		s.prox = make([]float64, nslots+nslots/4)
	}
	if len(s.gBest) < ngroups {
		n := ngroups + ngroups/4
		s.gBest = make([]float64, n)
		s.gSecond = make([]float64, n)
		s.gCos = make([]float64, n)
		s.gFused = make([]float64, n)
		s.gDoc = make([]int32, n)
		s.gCosDoc = make([]int32, n)
		for i := range n {
			s.gDoc[i], s.gCosDoc[i] = -1, -1
		}
	}
}

// clean restores the invariant after a search.
func (s *scratch) clean() {
	for _, d := range s.touched {
		s.score[d] = 0
	}
	for _, d := range s.proxed {
		s.prox[d] = 0
	}
	s.proxed, s.top = s.proxed[:0], s.top[:0]
	for _, g := range s.gTouched {
		s.gBest[g], s.gSecond[g], s.gDoc[g], s.gFused[g] = 0, 0, -1, 0
	}
	for _, g := range s.gCosTouched {
		s.gCos[g], s.gCosDoc[g], s.gFused[g] = 0, -1, 0
	}
	for _, qt := range s.qterms {
		if qt.term >= 0 {
			s.termAt[qt.term] = 0
		}
	}
	s.touched, s.gTouched, s.gCosTouched = s.touched[:0], s.gTouched[:0], s.gCosTouched[:0]
	s.qterms, s.verbatim = s.qterms[:0], s.verbatim[:0]
	s.lex, s.dense, s.fused = s.lex[:0], s.dense[:0], s.fused[:0]
	clear(s.qterms[:cap(s.qterms)]) // drop references to query strings
}

// Search returns the sections that best answer q, at most q.K of them
// (DefaultK when zero), best first. When nothing in the book is relevant
// enough, the result has Covered false and no hits.
func (ix *Index) Search(q Query) Result {
	k := q.K
	if k <= 0 {
		k = DefaultK
	}
	s := ix.pool.Get().(*scratch)
	defer ix.pool.Put(s)
	defer s.clean()

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.live == 0 {
		return Result{}
	}
	s.fit(len(ix.slots), len(ix.groupStr), len(ix.termStr))

	ix.expand(s, q.Text, ix.queryTerms(s, q))
	ix.scoreLexical(s)
	ix.proximity(s)
	ix.findVerbatim(s, q.Highlight)
	dense := len(q.Vector) > 0 && ix.vectors > 0
	depth := k
	if dense {
		depth = max(k, fusionDepth)
	}
	s.definition = AsksWhatIs(q.Text)
	ix.rankLexical(s, q.Page, max(depth, floorDepth))

	covered := false
	for _, c := range s.lex[:min(floorDepth, len(s.lex))] {
		cov, n, _ := ix.coverage(s, c.doc, false)
		// One shared word of three or more is no sign that the book speaks
		// of the question ("the best watch brand for divers" and a section
		// on watches).
		enough := n >= 2 || s.own() < 3 || ix.opt.MinCoverage == 0
		if (cov >= ix.opt.MinCoverage && s.score[c.doc] >= ix.opt.MinScore && enough) || s.isVerbatim(c.doc) {
			covered = true
			break
		}
	}

	var missing []string
	if len(s.verbatim) == 0 && ix.opt.NameWeight > 1 {
		if missing = ix.absentNames(q.Text); len(missing) > 0 {
			covered = false
		}
	}

	ranking := s.lex
	if dense {
		best := ix.rankDense(s, q.Vector)
		if ix.opt.MinCosine > 0 && best >= ix.opt.MinCosine {
			covered = true
		}
		if len(s.dense) > 0 {
			ranking = ix.fuse(s, k)
		}
	}
	if len(ranking) == 0 {
		return Result{Missing: missing}
	}
	hits := ix.hits(s, ranking, k)
	if !covered {
		return Result{Missing: missing, Closest: hits}
	}
	return Result{Hits: hits, Covered: true}
}

// hits returns the top k of ranking as hits.
func (ix *Index) hits(s *scratch, ranking []cand, k int) []Hit {
	hits := make([]Hit, min(k, len(ranking)))
	for i := range hits {
		c := ranking[i]
		sl := &ix.slots[c.doc]
		cov, _, matched := ix.coverage(s, c.doc, true)
		hits[i] = Hit{
			ID:       sl.id,
			Group:    ix.groupStr[c.g],
			Page:     ix.pageStr[sl.page],
			Score:    c.score,
			BM25:     s.score[c.doc],
			Coverage: cov,
			Matched:  matched,
		}
	}
	return hits
}

// queryTerms fills s.qterms with the distinct content terms of the
// question and the highlighted passage, with their idf. Terms only the
// passage has weigh HighlightWeight, less if needed to keep their total
// weight (by idf) within the question's, so that a long passage cannot
// drown the question; when the question has no content terms of its own,
// the passage is the question.
func (ix *Index) queryTerms(s *scratch, q Query) (nq int) {
	n := float64(ix.live)
	add := func(text string, inHigh bool) func(string, int) {
		return func(t string, start int) {
			id, ok := ix.termID[t]
			if !ok {
				id = -1
			}
			name := !ok && !inHigh && (isName(text, start) || startsAsWord(text[start:]))
			if i := s.findTerm(id, t); i >= 0 {
				s.qterms[i].inHigh = s.qterms[i].inHigh || inHigh
				s.qterms[i].name = s.qterms[i].name || name
				return
			}
			df := 1 // an absent term counts as the rarest possible
			if id >= 0 {
				df = max(1, len(ix.postings[id]))
				s.termAt[id] = int32(len(s.qterms)) + 1
			}
			idf := math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
			s.qterms = append(s.qterms, queryTerm{term: id, stem: t, w: 1, idf: idf, inHigh: inHigh, name: name})
		}
	}
	s.buf, s.pending = ix.an.each(q.Text, false, s.buf, s.pending, add(q.Text, false))
	nq = len(s.qterms)
	s.buf, s.pending = ix.an.each(q.Highlight, false, s.buf, s.pending, add(q.Highlight, true))
	if nq == 0 || nq == len(s.qterms) {
		return nq // the passage is the question, or adds nothing to it
	}
	var question, passage float64
	for i, qt := range s.qterms {
		if i < nq {
			question += qt.idf
		} else {
			passage += qt.idf
		}
	}
	w := ix.opt.HighlightWeight
	if passage*w > question {
		w = question / passage
	}
	for i := nq; i < len(s.qterms); i++ {
		s.qterms[i].w = w
	}
	return nq
}

// own returns the number of the question's terms, synonyms aside.
func (s *scratch) own() int {
	n := 0
	for _, qt := range s.qterms {
		if !qt.syn {
			n++
		}
	}
	return n
}

// expand adds, for each of the question's first nq terms that the book
// never uses, the synonyms that it does use (Options.Thesaurus), at
// Options.SynonymWeight of the word's weight: a reader's "luck" finds the
// book's "fortune". Names are not expanded.
func (ix *Index) expand(s *scratch, question string, nq int) {
	th := ix.opt.Thesaurus
	if th == nil || nq == 0 || ix.opt.SynonymWeight <= 0 {
		return
	}
	n := float64(ix.live)
	s.buf = scanWords(question, s.buf, func(word []byte, start, _ int) {
		w := string(word)
		t, ok := ix.an.cached(w)
		if !ok {
			t = ix.an.term(w)
		}
		if t == "" || isName(question, start) {
			return
		}
		qi := -1
		for i := range nq {
			if s.qterms[i].stem == t && !s.qterms[i].syn {
				qi = i
				break
			}
		}
		if qi < 0 || s.qterms[qi].name || s.qterms[qi].term >= 0 {
			return
		}
		weight := ix.opt.SynonymWeight * s.qterms[qi].w
		th.EachSynonym(w, func(syn string) {
			st, ok := ix.an.cached(syn)
			if !ok {
				st = ix.an.term(syn)
			}
			id, ok := ix.termID[st]
			if st == "" || !ok || s.termAt[id] != 0 || len(ix.postings[id]) == 0 {
				return
			}
			df := float64(len(ix.postings[id]))
			s.termAt[id] = int32(len(s.qterms)) + 1
			s.qterms = append(s.qterms, queryTerm{term: id, stem: st, w: weight,
				idf: math.Log(1 + (n-df+0.5)/(df+0.5)), syn: true, of: int32(qi)})
		})
	})
}

// findTerm returns the index in s.qterms of the term with id (or, for a
// term absent from the index, stem), or -1.
func (s *scratch) findTerm(id int32, stem string) int {
	if id >= 0 {
		return int(s.termAt[id]) - 1
	}
	for i, qt := range s.qterms {
		if qt.term < 0 && qt.stem == stem {
			return i
		}
	}
	return -1
}

// scoreLexical adds every query term's BM25 contribution to the score of
// each chunk containing it.
func (ix *Index) scoreLexical(s *scratch) {
	k1, b := ix.opt.K1, ix.opt.B
	avgdl := ix.totalLen / float64(ix.live)
	if avgdl == 0 {
		avgdl = 1
	}
	// norm(d) = k1·(1 − b + b·dl/avgdl) = lenA + lenB·dl
	lenA, lenB := k1*(1-b), k1*b/avgdl
	for _, qt := range s.qterms {
		if qt.term < 0 {
			continue
		}
		wi := qt.w * qt.idf * (k1 + 1)
		for _, p := range ix.postings[qt.term] {
			tf := float64(p.tf)
			if s.score[p.doc] == 0 {
				s.touched = append(s.touched, p.doc)
			}
			s.score[p.doc] += wi * tf / (tf + lenA + lenB*float64(ix.dl[p.doc]))
		}
	}
}

// definitionCue recognizes a question asking what something is.
var definitionCue = regexp.MustCompile(`(?i)^\W*(what(’s|'s| is| are| was| were)\b|define\b|meaning of\b|what does .+ (mean|stand for)\b)` +
	`|^\PL*(qu[eé] (es|son|significa)(\PL|$))|是什么|什么是|指什么`)

// AsksWhatIs reports whether question asks what something is ("what is a
// leap second?", "what does RTK stand for?"): the answer is then where a
// page about it opens.
func AsksWhatIs(question string) bool { return definitionCue.MatchString(question) }

// cueFits reports whether the chunk in slot d is placed to answer a
// question asking what something is ("what is a leap second?"): it opens
// a page whose title words are all in the question, or whose title holds
// all the question's words, where a page says what its subject is. "What" is a stop word and counts for nothing in BM25, so
// this is where it counts. (Boosting sections headed "Why…" for "why"
// questions, and "How…" for "how do I", was measured too and lost a
// question on the demo book's held-out set.)
func (ix *Index) cueFits(s *scratch, d int32) bool {
	sl := &ix.slots[d]
	if !sl.lead || len(sl.title) == 0 {
		return false
	}
	all := true
	for _, t := range sl.title {
		all = all && s.termAt[t] != 0
	}
	if all {
		return true // "what is a leap second?" and the page "Leap seconds"
	}
	for _, qt := range s.qterms {
		if !qt.syn && !qt.inHigh && !slices.Contains(sl.title, qt.term) {
			return false
		}
	}
	return true // "what is UTC?" and the page "UTC and local time"
}

// proximity boosts the best chunks by BM25 whose words for the question
// stand close together: a chunk where "dispatch" and "reducer" meet in
// one sentence answers "can I dispatch from a reducer?" better than one
// that uses both words a hundred words apart. The boost is
// Options.ProximityWeight times the largest idf-weighted share of the
// question's terms found within any Options.ProximityWindow consecutive
// words of the chunk.
func (ix *Index) proximity(s *scratch) {
	if ix.opt.ProximityWeight <= 0 || len(s.qterms) < 2 {
		return
	}
	for _, d := range s.touched {
		s.top = ix.pushTop(s.top, proximityDepth, cand{g: ix.slots[d].group, doc: d, score: s.score[d]})
	}
	var total float64
	for _, qt := range s.qterms {
		total += qt.w * qt.idf
	}
	if total == 0 {
		return
	}
	win := ix.opt.ProximityWindow
	for _, c := range s.top {
		best := ix.bestWindow(s, ix.slots[c.doc].seq, win) / total
		if best > 0 {
			s.prox[c.doc] = ix.opt.ProximityWeight * best
			s.proxed = append(s.proxed, c.doc)
		}
	}
}

// proximityDepth is how many of the best chunks by BM25 proximity looks at.
const proximityDepth = 40

// bestWindow returns the largest idf-weighted sum of distinct question
// terms within win consecutive words of a chunk, given as its sequence of
// term ids.
func (ix *Index) bestWindow(s *scratch, seq []int32, win int) float64 {
	s.hits = s.hits[:0]
	for pos, id := range seq {
		if id >= 0 {
			if qi := s.termAt[id] - 1; qi >= 0 {
				s.hits = append(s.hits, wordHit{pos: int32(pos), q: qi})
			}
		}
	}
	if cap(s.inWin) < len(s.qterms) {
		s.inWin = make([]int32, len(s.qterms))
	}
	in := s.inWin[:len(s.qterms)]
	clear(in)
	var cur, best float64
	lo := 0
	for _, h := range s.hits {
		for s.hits[lo].pos <= h.pos-int32(win) {
			o := s.hits[lo].q
			if in[o]--; in[o] == 0 {
				cur -= s.qterms[o].w * s.qterms[o].idf
			}
			lo++
		}
		if in[h.q]++; in[h.q] == 1 {
			cur += s.qterms[h.q].w * s.qterms[h.q].idf
		}
		best = max(best, cur)
	}
	return best
}

// wordHit is a question term at a word position of a chunk.
type wordHit struct{ pos, q int32 }

// findVerbatim collects the chunks whose body contains the highlighted
// passage word for word. Only chunks containing the passage's rarest term
// can, so only that term's postings are checked.
func (ix *Index) findVerbatim(s *scratch, highlight string) {
	rarest := int32(-1)
	for _, qt := range s.qterms {
		if !qt.inHigh {
			continue
		}
		if qt.term < 0 {
			return // a word of the passage is nowhere in the book
		}
		if rarest < 0 || len(ix.postings[qt.term]) < len(ix.postings[rarest]) {
			rarest = qt.term
		}
	}
	if rarest < 0 {
		return
	}
	s.hl, s.buf = appendNormalized(s.hl[:0], highlight, s.buf)
	passage := string(s.hl)
	for _, p := range ix.postings[rarest] {
		if strings.Contains(ix.slots[p.doc].norm, passage) {
			s.verbatim = append(s.verbatim, p.doc)
		}
	}
}

func (s *scratch) isVerbatim(doc int32) bool {
	_, ok := slices.BinarySearch(s.verbatim, doc)
	return ok
}

// rankLexical boosts chunk scores for the reader's page and highlight,
// merges chunks into sections and keeps the best depth sections in s.lex.
func (ix *Index) rankLexical(s *scratch, page string, depth int) {
	pid, onPage := ix.pageID[page]
	onPage = onPage && page != "" && ix.opt.PageBoost != 1
	for _, d := range s.touched {
		sc := s.score[d] * (1 + s.prox[d])
		if s.definition && ix.cueFits(s, d) {
			sc *= ix.opt.CueBoost
		}
		if onPage && ix.slots[d].page == pid {
			sc *= ix.opt.PageBoost
		}
		if len(s.verbatim) > 0 && s.isVerbatim(d) {
			sc *= ix.opt.HighlightBoost
		}
		g := ix.slots[d].group
		switch {
		case s.gDoc[g] < 0:
			s.gTouched = append(s.gTouched, g)
			s.gBest[g], s.gDoc[g] = sc, d
		case sc > s.gBest[g]:
			s.gSecond[g] = s.gBest[g]
			s.gBest[g], s.gDoc[g] = sc, d
		case sc > s.gSecond[g]:
			s.gSecond[g] = sc
		}
	}
	for _, g := range s.gTouched {
		c := cand{g: g, doc: s.gDoc[g], score: s.gBest[g] + ix.opt.GroupBonus*s.gSecond[g]}
		s.lex = ix.pushTop(s.lex, depth, c)
	}
}

// rankDense ranks sections by the best cosine similarity of their chunks
// to the query vector into s.dense and returns the best similarity.
// Chunks whose embedding has another dimension are left out.
func (ix *Index) rankDense(s *scratch, qv []float32) float64 {
	var sum float64
	for _, x := range qv {
		sum += float64(x) * float64(x)
	}
	if sum == 0 || math.IsNaN(sum) || math.IsInf(sum, 0) {
		return 0
	}
	inv := 1 / math.Sqrt(sum)
	s.qvec = s.qvec[:0]
	for _, x := range qv {
		s.qvec = append(s.qvec, float32(float64(x)*inv))
	}
	best := math.Inf(-1)
	for d := range ix.slots {
		v := ix.slots[d].vec
		if len(v) != len(s.qvec) {
			continue
		}
		cos := float64(dot(s.qvec, v))
		best = max(best, cos)
		g := ix.slots[d].group
		if s.gCosDoc[g] < 0 {
			s.gCosTouched = append(s.gCosTouched, g)
		} else if cos <= s.gCos[g] {
			continue
		}
		s.gCos[g], s.gCosDoc[g] = cos, int32(d)
	}
	for _, g := range s.gCosTouched {
		s.dense = ix.pushTop(s.dense, fusionDepth, cand{g: g, doc: s.gCosDoc[g], score: s.gCos[g]})
	}
	if math.IsInf(best, -1) {
		return 0
	}
	return best
}

// fuse combines s.lex and s.dense by reciprocal rank fusion into the top k
// sections. A section keeps the chunk that represented it lexically, or
// its most similar chunk if only the dense ranking found it.
func (ix *Index) fuse(s *scratch, k int) []cand {
	rrf := float64(ix.opt.RRFK)
	for _, ranking := range [][]cand{s.lex, s.dense} {
		for r, c := range ranking {
			s.gFused[c.g] += 1 / (rrf + float64(r+1))
		}
	}
	visit := func(c cand) {
		if s.gFused[c.g] < 0 {
			return // already ranked
		}
		doc := s.gDoc[c.g]
		if doc < 0 {
			doc = s.gCosDoc[c.g]
		}
		s.fused = ix.pushTop(s.fused, k, cand{g: c.g, doc: doc, score: s.gFused[c.g]})
		s.gFused[c.g] = -s.gFused[c.g]
	}
	for _, c := range s.lex {
		visit(c)
	}
	for _, c := range s.dense {
		visit(c)
	}
	return s.fused
}

// pushTop inserts c into top, a list of at most n candidates sorted best
// first, if it belongs there. Equal scores are ordered by group key so that
// results do not depend on insertion order.
func (ix *Index) pushTop(top []cand, n int, c cand) []cand {
	better := func(a, b cand) bool {
		if a.score != b.score {
			return a.score > b.score
		}
		return ix.groupStr[a.g] < ix.groupStr[b.g]
	}
	if len(top) == n {
		if !better(c, top[n-1]) {
			return top
		}
		top[n-1] = c
	} else {
		top = append(top, c)
	}
	for i := len(top) - 1; i > 0 && better(top[i], top[i-1]); i-- {
		top[i], top[i-1] = top[i-1], top[i]
	}
	return top
}

// coverage returns the idf-weighted share of the query's terms that the
// chunk in slot doc contains, how many of them it contains and, when
// withTerms is set, those terms.
func (ix *Index) coverage(s *scratch, doc int32, withTerms bool) (float64, int, []string) {
	var total, got float64
	n := 0
	var matched []string
	in := func(term int32) bool {
		_, ok := slices.BinarySearchFunc(ix.postings[term], doc, cmpPosting)
		return ok
	}
	for i, qt := range s.qterms {
		if qt.syn {
			if withTerms && in(qt.term) {
				matched = append(matched, qt.stem)
			}
			continue
		}
		if qt.term < 0 && ix.an.lang.bigram && isIdeographPair(qt.stem) {
			// A pair of characters the book never writes together is most
			// often two words of the question run together, not a word
			// the book lacks.
			continue
		}
		wi := qt.w * qt.idf
		if qt.term < 0 && qt.name {
			wi *= ix.opt.NameWeight
		}
		total += wi
		if qt.term >= 0 && in(qt.term) {
			got += wi
			n++
			if withTerms {
				matched = append(matched, qt.stem)
			}
			continue
		}
		// A synonym the chunk has stands for the word it lacks, at the
		// synonym's weight: a reader's word may mean something else.
		for j := i + 1; j < len(s.qterms); j++ {
			if sj := s.qterms[j]; sj.syn && int(sj.of) == i && in(sj.term) {
				got += wi * sj.w / qt.w
				n++
				break
			}
		}
	}
	if total == 0 {
		return 0, n, matched
	}
	return got / total, n, matched
}

// dot returns the dot product of two vectors of the same length. Four
// independent sums let the CPU overlap the additions.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// startsAsWord reports whether text starts with a word that begins with a
// letter and mixes letters and digits, as the names of tools and formats
// do ("w32tm", "ptp4l"): not a number such as "2nd" or "30am".
func startsAsWord(text string) bool {
	letters, digits := 0, false
	for i, r := range text {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r):
			if i == 0 {
				return false
			}
			digits = true
		default:
			return letters >= 2 && digits
		}
	}
	return letters >= 2 && digits
}

// isName reports whether the word at byte offset start of text looks like
// a name: capitalized ("Rust", "McMurdo", "PC") and not the first word of
// a sentence, where any word is capitalized.
func isName(text string, start int) bool {
	r, _ := utf8.DecodeRuneInString(text[start:])
	if !unicode.IsUpper(r) {
		return false
	}
	for i := start; i > 0; {
		r, size := utf8.DecodeLastRuneInString(text[:i])
		i -= size
		switch {
		case r == '.' || r == '?' || r == '!' || r == ':' || r == '\n':
			return false
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == ',' || r == ';':
			return true
		}
	}
	return false
}

package quality

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/lectern/lectern/internal/library"
)

// Question is one line of an evaluation set (JSON Lines): a question a
// reader might ask, and where the book answers it. Unanswerable questions
// have no expected documents.
type Question struct {
	ID              string   `json:"id"`
	Question        string   `json:"question"`
	Kind            string   `json:"kind"` // factual, conceptual, paraphrase or unanswerable
	ExpectedDocs    []string `json:"expected_docs"`
	AltDocs         []string `json:"alt_docs"`
	ExpectedHeading string   `json:"expected_heading"`
	KeyFacts        []string `json:"key_facts"`
}

// Answerable reports whether the book is expected to answer q.
func (q Question) Answerable() bool { return len(q.ExpectedDocs) > 0 }

// ReadSet reads an evaluation set, one JSON object per line; blank
// lines are skipped. Errors name the line.
func ReadSet(r io.Reader) ([]Question, error) {
	var qs []Question
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" {
			continue
		}
		var q Question
		dec := json.NewDecoder(strings.NewReader(t))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&q); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if strings.TrimSpace(q.Question) == "" {
			return nil, fmt.Errorf("line %d: no question", line)
		}
		switch q.Kind {
		case "factual", "conceptual", "paraphrase", "unanswerable":
		default:
			return nil, fmt.Errorf("line %d: kind %q is not factual, conceptual, paraphrase or unanswerable", line, q.Kind)
		}
		if (q.Kind == "unanswerable") == q.Answerable() {
			return nil, fmt.Errorf("line %d: unanswerable questions, and only they, have no expected_docs", line)
		}
		qs = append(qs, q)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return qs, nil
}

// ReadFile reads the evaluation set in the file at path; errors name
// the file and the line.
func ReadFile(path string) ([]Question, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	qs, err := ReadSet(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return qs, nil
}

// Result is how one question fared.
type Result struct {
	Question Question
	// Rank is the 1-based position of the first hit in an expected or
	// alternative document among the top Depth; 0 when none (or when
	// the search said "not covered").
	Rank int
	// SectionRank is the same for the expected heading in an expected
	// document; 0 when the set names no heading or it was not found.
	SectionRank int
	Covered     bool
	Missing     []string // names in the question the book never mentions
	Top         []library.Hit
}

// Correct reports whether the question counts as answered right at k: for
// an answerable question, a hit within the top k; for an unanswerable one,
// the search saying "not covered".
func (r Result) Correct(k int) bool {
	if !r.Question.Answerable() {
		return !r.Covered
	}
	return r.Rank > 0 && r.Rank <= k
}

// Report sums an evaluation up.
type Report struct {
	Results []Result `json:"-"`
	// Over answerable questions:
	Answerable      int     `json:"answerable"`
	HitAt1          float64 `json:"hit_at_1"`          // share with a right document first
	HitAt3          float64 `json:"hit_at_3"`          // share with a right document in the top 3
	MRR             float64 `json:"mrr"`               // mean reciprocal rank (within Depth)
	SectionHitAt3   float64 `json:"section_hit_at_3"`  // share with the expected heading in the top 3
	FalseNotCovered float64 `json:"false_not_covered"` // share the search wrongly called "not covered"
	// Over unanswerable questions:
	Unanswerable int     `json:"unanswerable"`
	NotCovered   float64 `json:"not_covered"` // share rightly called "not covered"
	// ByKind is hit@3 per kind of answerable question, and for
	// "unanswerable" the not-covered accuracy.
	ByKind map[string]float64 `json:"by_kind"`
}

// Depth is how many results each question's search returns for
// scoring.
const Depth = 10

// Searcher is the book's search, as the retrieval measures need it.
type Searcher interface {
	Search(ctx context.Context, q library.Query) (library.Result, error)
}

// Evaluate runs every question through the book's search.
func Evaluate(ctx context.Context, lib Searcher, qs []Question) (Report, error) {
	rep := Report{ByKind: map[string]float64{}}
	kindN := map[string]int{}
	kindOK := map[string]int{}
	for _, q := range qs {
		res, err := lib.Search(ctx, library.Query{Text: q.Question, K: Depth})
		if err != nil {
			return rep, err
		}
		r := Result{Question: q, Covered: res.Covered, Missing: res.Missing, Top: res.Hits}
		want := append(slices.Clone(q.ExpectedDocs), q.AltDocs...)
		for i, h := range res.Hits {
			if r.Rank == 0 && slices.Contains(want, h.DocPath) {
				r.Rank = i + 1
			}
			if r.SectionRank == 0 && q.ExpectedHeading != "" && slices.Contains(q.ExpectedDocs, h.DocPath) &&
				strings.EqualFold(strings.TrimSpace(h.Heading), strings.TrimSpace(q.ExpectedHeading)) {
				r.SectionRank = i + 1
			}
		}
		rep.Results = append(rep.Results, r)
		kindN[q.Kind]++
		if r.Correct(3) {
			kindOK[q.Kind]++
		}
		if !q.Answerable() {
			rep.Unanswerable++
			if !r.Covered {
				rep.NotCovered++
			}
			continue
		}
		rep.Answerable++
		if !r.Covered {
			rep.FalseNotCovered++
		}
		if r.Rank == 1 {
			rep.HitAt1++
		}
		if r.Rank > 0 && r.Rank <= 3 {
			rep.HitAt3++
		}
		if r.Rank > 0 {
			rep.MRR += 1 / float64(r.Rank)
		}
		if r.SectionRank > 0 && r.SectionRank <= 3 {
			rep.SectionHitAt3++
		}
	}
	if n := float64(rep.Answerable); n > 0 {
		rep.HitAt1 /= n
		rep.HitAt3 /= n
		rep.MRR /= n
		rep.SectionHitAt3 /= n
		rep.FalseNotCovered /= n
	}
	if rep.Unanswerable > 0 {
		rep.NotCovered /= float64(rep.Unanswerable)
	}
	for k, n := range kindN {
		rep.ByKind[k] = float64(kindOK[k]) / float64(n)
	}
	return rep, nil
}

// Print writes the report as a short table, then the misses when verbose.
func (rep Report) Print(w io.Writer, verbose bool) {
	fmt.Fprintf(w, "answerable questions: %d\n", rep.Answerable)
	fmt.Fprintf(w, "  hit@1              %.3f\n", rep.HitAt1)
	fmt.Fprintf(w, "  hit@3              %.3f\n", rep.HitAt3)
	fmt.Fprintf(w, "  MRR@%d             %.3f\n", Depth, rep.MRR)
	fmt.Fprintf(w, "  section hit@3      %.3f\n", rep.SectionHitAt3)
	fmt.Fprintf(w, "  wrongly 'not covered' %.3f\n", rep.FalseNotCovered)
	fmt.Fprintf(w, "unanswerable questions: %d\n", rep.Unanswerable)
	fmt.Fprintf(w, "  'not covered' accuracy %.3f\n", rep.NotCovered)
	kinds := make([]string, 0, len(rep.ByKind))
	for k := range rep.ByKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "  %-13s %.3f\n", k, rep.ByKind[k])
	}
	if !verbose {
		return
	}
	for _, r := range rep.Results {
		if !r.Correct(3) {
			r.WriteMiss(w, "")
		}
	}
}

// WriteMiss writes what the search answered to a question it got wrong:
// the question (its id after label), what was wanted, and the three
// sections found.
func (r Result) WriteMiss(w io.Writer, label string) {
	q := r.Question
	fmt.Fprintf(w, "\nMISS %s%s (%s) %q\n  want %v %q; covered=%v rank=%d", label, q.ID, q.Kind, q.Question,
		q.ExpectedDocs, q.ExpectedHeading, r.Covered, r.Rank)
	if len(r.Missing) > 0 {
		fmt.Fprintf(w, " missing=%q", r.Missing)
	}
	fmt.Fprintln(w)
	for i, h := range r.Top[:min(3, len(r.Top))] {
		fmt.Fprintf(w, "  %d. %s — %s (%.2f)\n", i+1, h.DocPath, h.Heading, h.Score)
	}
}

package insights

import (
	"slices"
	"strings"
	"time"
)

// Asked is one question a reader asked, as the grouping sees it. Reader
// is an opaque key for counting distinct readers; it never leaves this
// package.
type Asked struct {
	Text   string
	Reader string
	At     time.Time
}

// Group is questions that ask the same thing in different words.
type Group struct {
	// Terms are the words the group's questions share, as index terms
	// (stemmed), most shared first: its label.
	Terms []string
	// Examples are up to maxExamples of its questions, different texts,
	// most recent first.
	Examples  []string
	Count     int // questions
	Readers   int // distinct readers who asked them
	FirstSeen time.Time
	LastSeen  time.Time
}

const (
	// maxExamples is how many questions a group shows.
	maxExamples = 3
	// minOverlap is the least Jaccard overlap of a question's terms with
	// a group's first question for the question to join the group:
	// "how do I bake sourdough bread?" and "baking sourdough bread at
	// home" (3 of 4 terms) fall together; "which bread goes with
	// cheese?" (1 of 5) does not.
	minOverlap = 0.5
)

// GroupQuestions puts together the questions whose terms (as analyze
// gives them: stop words out, words stemmed) overlap enough, and returns
// the groups asked by at least minReaders distinct readers, most asked
// first. A question without terms is left out.
//
// Each question joins the group whose first question's terms overlap its
// own the most (the first such group found, going through its terms in
// order, on a tie), or starts a group. The same text is analyzed once, and
// terms are compared as small integers, so that grouping the most recent
// 20,000 questions takes tens of milliseconds.
func GroupQuestions(qs []Asked, analyze func(string) []string, minReaders int) []Group {
	type building struct {
		seed    []int32       // the term ids of the group's first question, ascending
		counts  map[int32]int // how many of its questions have each term
		readers map[string]bool
		g       Group
	}
	var (
		groups []*building
		byTerm [][]int32 // term id → groups whose seed has it, in the order they began
		names  []string  // term id → term
		ids    = map[string]int32{}
		texts  = map[string][]int32{} // text → its terms' ids, in the terms' order
		mark   []int32                // term id → the last question (+1) that has it
		seen   []int32                // group → the last question (+1) that scored it
	)
	termsOf := func(text string) []int32 {
		if t, ok := texts[text]; ok {
			return t
		}
		terms := uniqueSorted(analyze(text))
		t := make([]int32, len(terms))
		for i, term := range terms {
			id, ok := ids[term]
			if !ok {
				id = int32(len(names))
				ids[term] = id
				names = append(names, term)
				byTerm = append(byTerm, nil)
				mark = append(mark, 0)
			}
			t[i] = id
		}
		texts[text] = t
		return t
	}
	order := slices.Clone(qs)
	slices.SortStableFunc(order, func(a, b Asked) int { return a.At.Compare(b.At) })
	for n, q := range order {
		terms := termsOf(q.Text)
		if len(terms) == 0 {
			continue
		}
		stamp := int32(n + 1)
		for _, t := range terms {
			mark[t] = stamp
		}
		best, bestScore := -1, 0.0
		for _, t := range terms {
			for _, gi := range byTerm[t] {
				if seen[gi] == stamp {
					continue
				}
				seen[gi] = stamp
				common := 0
				for _, u := range groups[gi].seed {
					if mark[u] == stamp {
						common++
					}
				}
				s := float64(common) / float64(len(terms)+len(groups[gi].seed)-common)
				if s >= minOverlap && s > bestScore {
					best, bestScore = int(gi), s
				}
			}
		}
		if best < 0 {
			best = len(groups)
			seed := slices.Clone(terms)
			slices.Sort(seed)
			groups = append(groups, &building{seed: seed, counts: map[int32]int{}, readers: map[string]bool{}, g: Group{FirstSeen: q.At}})
			seen = append(seen, 0)
			for _, t := range terms {
				byTerm[t] = append(byTerm[t], int32(best))
			}
		}
		b := groups[best]
		for _, t := range terms {
			b.counts[t]++
		}
		b.readers[q.Reader] = true
		b.g.Count++
		b.g.LastSeen = q.At
		text := strings.TrimSpace(q.Text)
		if !slices.Contains(b.g.Examples, text) {
			b.g.Examples = append([]string{text}, b.g.Examples...) // most recent first
			if len(b.g.Examples) > maxExamples {
				b.g.Examples = b.g.Examples[:maxExamples]
			}
		}
	}
	var out []Group
	for _, b := range groups {
		b.g.Readers = len(b.readers)
		if b.g.Readers < minReaders {
			continue
		}
		for t, n := range b.counts {
			if n*2 >= b.g.Count { // in at least half of its questions
				b.g.Terms = append(b.g.Terms, names[t])
			}
		}
		slices.SortFunc(b.g.Terms, func(x, y string) int {
			if d := b.counts[ids[y]] - b.counts[ids[x]]; d != 0 {
				return d
			}
			return strings.Compare(x, y)
		})
		out = append(out, b.g)
	}
	slices.SortStableFunc(out, func(a, b Group) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return b.LastSeen.Compare(a.LastSeen)
	})
	return out
}

func uniqueSorted(terms []string) []string {
	out := slices.Clone(terms)
	slices.Sort(out)
	return slices.Compact(out)
}

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
func GroupQuestions(qs []Asked, analyze func(string) []string, minReaders int) []Group {
	type building struct {
		seed    []string       // the terms of the group's first question
		counts  map[string]int // how many of its questions have each term
		readers map[string]bool
		g       Group
	}
	var groups []*building
	byTerm := map[string][]int{} // term → groups whose seed has it
	order := slices.Clone(qs)
	slices.SortStableFunc(order, func(a, b Asked) int { return a.At.Compare(b.At) })
	for _, q := range order {
		terms := uniqueSorted(analyze(q.Text))
		if len(terms) == 0 {
			continue
		}
		best, bestScore := -1, 0.0
		seen := map[int]bool{}
		for _, t := range terms {
			for _, gi := range byTerm[t] {
				if seen[gi] {
					continue
				}
				seen[gi] = true
				if s := jaccard(terms, groups[gi].seed); s >= minOverlap && s > bestScore {
					best, bestScore = gi, s
				}
			}
		}
		if best < 0 {
			best = len(groups)
			groups = append(groups, &building{seed: terms, counts: map[string]int{}, readers: map[string]bool{}, g: Group{FirstSeen: q.At}})
			for _, t := range terms {
				byTerm[t] = append(byTerm[t], best)
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
				b.g.Terms = append(b.g.Terms, t)
			}
		}
		slices.SortFunc(b.g.Terms, func(x, y string) int {
			if d := b.counts[y] - b.counts[x]; d != 0 {
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

// jaccard is |a ∩ b| / |a ∪ b| of two sorted sets.
func jaccard(a, b []string) float64 {
	i, j, common := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch c := strings.Compare(a[i], b[j]); {
		case c == 0:
			common++
			i++
			j++
		case c < 0:
			i++
		default:
			j++
		}
	}
	return float64(common) / float64(len(a)+len(b)-common)
}

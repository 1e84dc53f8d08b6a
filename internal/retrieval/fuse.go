package retrieval

import (
	"cmp"
	"slices"
)

// FuseRRF combines rankings of ids, each best first, by reciprocal rank
// fusion: an id scores the sum over the rankings that contain it of
// 1/(k + rank), rank counting from 1, and the result lists every id by
// falling score. RRF needs no comparable scores between rankings, which is
// why it can merge BM25 with cosine similarity. k ≤ 0 means DefaultRRFK;
// a larger k flattens the advantage of top ranks. An id repeated within a
// ranking counts at its first rank. Ties go to the id with the better best
// rank, then to the smaller id, so the order is deterministic.
func FuseRRF(k int, rankings ...[]string) []string {
	if k <= 0 {
		k = DefaultRRFK
	}
	type entry struct {
		id    string
		score float64
		best  int
	}
	at := make(map[string]int)
	var entries []entry
	for _, ranking := range rankings {
		seen := make(map[string]bool, len(ranking))
		for r, id := range ranking {
			if seen[id] {
				continue
			}
			seen[id] = true
			i, ok := at[id]
			if !ok {
				i = len(entries)
				at[id] = i
				entries = append(entries, entry{id: id, best: r})
			}
			entries[i].score += 1 / float64(k+r+1)
			entries[i].best = min(entries[i].best, r)
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.best, b.best); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.id
	}
	return out
}

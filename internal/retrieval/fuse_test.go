package retrieval

import (
	"fmt"
	"slices"
	"testing"
)

func TestFuseRRF(t *testing.T) {
	tests := []struct {
		name     string
		k        int
		rankings [][]string
		want     []string
	}{
		{"one ranking is kept as it is", 60, [][]string{{"a", "b", "c"}}, []string{"a", "b", "c"}},
		{"an id high in both rankings wins", 60, [][]string{{"a", "b", "c"}, {"b", "c", "a"}}, []string{"b", "a", "c"}},
		{"being in two rankings beats being first in one", 60, [][]string{{"x", "a"}, {"y", "a"}}, []string{"a", "x", "y"}},
		{"a tie goes to the better best rank, then the smaller id", 60, [][]string{{"b", "c"}, {"c", "b"}, {"d"}}, []string{"b", "c", "d"}},
		{"a repeated id counts at its first rank", 60, [][]string{{"a", "b", "a", "a"}, {"b"}}, []string{"b", "a"}},
		{"zero k means the default", 0, [][]string{{"a", "b", "c"}, {"b", "c", "a"}}, []string{"b", "a", "c"}},
		{"a large k rewards agreement", 60, [][]string{{"x", "p", "q", "a"}, {"y", "r", "s", "a"}}, []string{"a", "x", "y", "p", "r", "q", "s"}},
		{"a small k rewards top ranks", 1, [][]string{{"x", "p", "q", "a"}, {"y", "r", "s", "a"}}, []string{"x", "y", "a", "p", "r", "q", "s"}},
		{"nothing gives nothing", 60, nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FuseRRF(tt.k, tt.rankings...); !slices.Equal(got, tt.want) {
				t.Errorf("FuseRRF(%d, %q) = %q, want %q", tt.k, tt.rankings, got, tt.want)
			}
		})
	}
}

// denseDocs is a corpus whose embeddings disagree with its words: "synonym"
// says nothing of its topic in words the query uses, but its vector is
// the query's.
func denseDocs() []Doc {
	docs := []Doc{
		{ID: "words", Group: "words", Text: "hull repair with epoxy resin", Vector: []float32{0.6, 0.8, 0}},
		{ID: "synonym", Group: "synonym", Text: "fixing a damaged boat bottom", Vector: []float32{0, 1, 0}},
		{ID: "both", Group: "both", Text: "hull repair on wooden boats", Vector: []float32{0.1, 1, 0}},
		{ID: "novec", Group: "novec", Text: "hull paint colours"},
		{ID: "wrongdim", Group: "wrongdim", Text: "sail stitching", Vector: []float32{0, 1}},
	}
	for i := range 10 {
		docs = append(docs, Doc{ID: fmt.Sprint("filler", i), Group: fmt.Sprint("filler", i), Text: "unrelated filler about gardening", Vector: []float32{0, 0, 1}})
	}
	return docs
}

func TestSearchDense(t *testing.T) {
	tests := []struct {
		name    string
		opt     Options
		query   Query
		want    []string
		covered bool
	}{
		{"without a query vector BM25 ranks alone", Options{},
			Query{Text: "hull repair", K: 3}, []string{"both", "words", "novec"}, true},
		{"a chunk first in both rankings comes first and a dense-only match joins", Options{},
			Query{Text: "hull repair", K: 3, Vector: []float32{0, 2, 0}}, []string{"both", "words", "synonym"}, true},
		{"a dense match alone is not covered by default", Options{},
			Query{Text: "keel", Vector: []float32{0, 1, 0}}, nil, false},
		{"a dense match alone is covered above MinCosine", Options{MinCosine: 0.9},
			Query{Text: "keel", Vector: []float32{0, 1, 0}, K: 2}, []string{"synonym", "both"}, true},
		{"a query vector of another dimension is ignored", Options{MinCosine: 0.5},
			Query{Text: "stitching", Vector: []float32{1, 0, 0, 0}}, []string{"wrongdim"}, true},
		{"a zero query vector is ignored", Options{MinCosine: 0.5},
			Query{Text: "keel", Vector: []float32{0, 0, 0}}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := New(tt.opt)
			ix.Add(denseDocs()...)
			r := ix.Search(tt.query)
			if r.Covered != tt.covered || !slices.Equal(hitIDs(r), tt.want) && !(len(tt.want) == 0 && len(r.Hits) == 0) {
				t.Errorf("Search(%+v) = covered %v, %v; want covered %v, %v", tt.query, r.Covered, hitIDs(r), tt.covered, tt.want)
			}
		})
	}

	t.Run("a dense-only hit has no BM25 and no matched terms", func(t *testing.T) {
		ix := New(Options{})
		ix.Add(denseDocs()...)
		r := ix.Search(Query{Text: "hull repair", K: 3, Vector: []float32{0, 1, 0}})
		for _, h := range r.Hits {
			if h.ID == "synonym" && (h.BM25 != 0 || len(h.Matched) != 0 || h.Coverage != 0) {
				t.Errorf("dense-only hit %+v", h)
			}
			if h.ID == "both" && (h.BM25 <= 0 || len(h.Matched) != 2) {
				t.Errorf("lexical hit %+v lacks its BM25 or matches", h)
			}
		}
	})
	t.Run("removing the chunks with vectors returns to BM25", func(t *testing.T) {
		ix := New(Options{})
		ix.Add(denseDocs()...)
		for _, d := range denseDocs() {
			if d.ID != "novec" {
				ix.Remove(d.ID)
			}
		}
		ix.Add(Doc{ID: "plain", Group: "plain", Text: "hull repair"})
		for i := range 5 {
			ix.Add(Doc{ID: fmt.Sprint("f", i), Group: fmt.Sprint("f", i), Text: "gardening"})
		}
		r := ix.Search(Query{Text: "hull", Vector: []float32{0, 1, 0}, K: 5})
		if got := hitIDs(r); !slices.Equal(got, []string{"plain", "novec"}) {
			t.Errorf("hits %v, want plain then novec", got)
		}
	})
}

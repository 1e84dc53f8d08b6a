package retrieval

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// synthetic describes a generated book: about a million words in chunks
// of 200, drawn from a Zipf-distributed vocabulary of made-up roots with
// English inflections, so that stemming and idf behave as on real text.
type synthetic struct {
	docs    []Doc
	words   int
	queries []Query
}

const (
	synthChunks     = 5000
	synthChunkWords = 200
	synthRoots      = 20000
	synthDims       = 384
)

// newSynthetic generates the book deterministically. With dims > 0 each
// chunk and query gets a random embedding of that many dimensions.
func newSynthetic(dims int) *synthetic {
	rng := rand.New(rand.NewPCG(1, 2))
	onsets := []string{"b", "br", "c", "ch", "d", "f", "g", "gr", "h", "j", "k", "l", "m", "n", "p", "pl", "r", "s", "st", "t", "tr", "v", "w", "z"}
	vowels := []string{"a", "e", "i", "o", "u", "ai", "ea", "ou"}
	codas := []string{"", "n", "r", "l", "m", "st", "nd", "ck", "t"}
	suffixes := []string{"", "", "", "s", "ing", "ed", "er", "ation", "ness", "ly"}
	stop := []string{"the", "of", "and", "to", "in", "is", "that", "it", "with", "as"}

	roots := make([]string, synthRoots)
	seen := make(map[string]bool)
	for i := range roots {
		for {
			var sb strings.Builder
			for range 1 + rng.IntN(3) {
				sb.WriteString(onsets[rng.IntN(len(onsets))])
				sb.WriteString(vowels[rng.IntN(len(vowels))])
				sb.WriteString(codas[rng.IntN(len(codas))])
			}
			if w := sb.String(); !seen[w] && !isStopWord(w) {
				seen[w] = true
				roots[i] = w
				break
			}
		}
	}
	zipf := rand.NewZipf(rng, 1.1, 2, synthRoots-1)
	word := func() string {
		if rng.IntN(3) == 0 {
			return stop[rng.IntN(len(stop))]
		}
		return roots[zipf.Uint64()] + suffixes[rng.IntN(len(suffixes))]
	}
	phrase := func(n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = word()
		}
		return strings.Join(ws, " ")
	}
	vector := func() []float32 {
		if dims == 0 {
			return nil
		}
		v := make([]float32, dims)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}

	s := &synthetic{}
	var title string
	for i := range synthChunks {
		if i%50 == 0 {
			title = phrase(3)
		}
		d := Doc{
			ID:      fmt.Sprint("chunk", i),
			Group:   fmt.Sprintf("page%d.md#section%d", i/50, i/5),
			Page:    fmt.Sprint("page", i/50),
			Title:   title,
			Heading: phrase(4),
			Text:    phrase(synthChunkWords),
			Vector:  vector(),
		}
		s.docs = append(s.docs, d)
		s.words += synthChunkWords + 7
	}
	// A question is a stop word and five content words of one chunk, as a
	// reader asks about what they read, so that it mixes common and rare
	// words; every fourth also highlights a passage of twelve words.
	for i := range 64 {
		body := strings.Fields(s.docs[rng.IntN(synthChunks)].Text)
		ws := []string{"how"}
		for len(ws) < 6 {
			if w := body[rng.IntN(len(body))]; !isStopWord(w) {
				ws = append(ws, w)
			}
		}
		q := Query{Text: strings.Join(ws, " "), Page: fmt.Sprint("page", rng.IntN(100)), Vector: vector()}
		if i%4 == 0 {
			at := rng.IntN(len(body) - 12)
			q.Highlight = strings.Join(body[at:at+12], " ")
		}
		s.queries = append(s.queries, q)
	}
	return s
}

// BenchmarkSearch measures one search of a six-word question over about a
// million words (5,000 chunks of 200 words, 1,000 sections).
func BenchmarkSearch(b *testing.B) {
	syn := newSynthetic(0)
	ix := New(Options{})
	ix.Add(syn.docs...)
	b.Run("question", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			q := syn.queries[i%len(syn.queries)]
			ix.Search(Query{Text: q.Text})
			i++
		}
	})
	b.Run("question+page+highlight", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			q := syn.queries[i%len(syn.queries)]
			ix.Search(Query{Text: q.Text, Page: q.Page, Highlight: q.Highlight})
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				ix.Search(Query{Text: syn.queries[i%len(syn.queries)].Text})
				i++
			}
		})
	})
}

// BenchmarkSearchDense measures a search fused with a brute-force cosine
// ranking of 5,000 embeddings of 384 dimensions.
func BenchmarkSearchDense(b *testing.B) {
	syn := newSynthetic(synthDims)
	ix := New(Options{})
	ix.Add(syn.docs...)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		q := syn.queries[i%len(syn.queries)]
		ix.Search(Query{Text: q.Text, Vector: q.Vector})
		i++
	}
}

// BenchmarkIndexBuild measures building the index of the synthetic book
// in one Add, reporting throughput in words per second.
func BenchmarkIndexBuild(b *testing.B) {
	syn := newSynthetic(0)
	b.ReportAllocs()
	for b.Loop() {
		New(Options{}).Add(syn.docs...)
	}
	b.ReportMetric(float64(syn.words)*float64(b.N)/b.Elapsed().Seconds(), "words/s")
}

// BenchmarkIndexMemory reports the heap the index of the synthetic book
// holds once built, beyond the documents given to it, as "index-MB".
func BenchmarkIndexMemory(b *testing.B) {
	syn := newSynthetic(0)
	var mb float64
	for b.Loop() {
		mb = indexHeapMB(syn.docs)
	}
	b.ReportMetric(mb, "index-MB")
	b.ReportMetric(0, "ns/op")
}

// indexHeapMB builds an index of docs and returns the live heap it added.
func indexHeapMB(docs []Doc) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ix := New(Options{})
	ix.Add(docs...)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(ix)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
}

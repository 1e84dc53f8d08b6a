package retrieval

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// hitIDs lists the chunk ids of a result's hits.
func hitIDs(r Result) []string {
	ids := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		ids[i] = h.ID
	}
	return ids
}

func TestSearchRanksTheRightSectionFirst(t *testing.T) {
	ix := corpusIndex(Options{})
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"a Go question finds the parsing section", "How do I parse a date string in Go?", "go-parse"},
		{"a question in other words finds daylight saving time", "what happens to local time when the clocks go back in autumn?", "tz-dst"},
		{"a year finds the section that mentions it", "when were leap seconds introduced? 1972", "tz-leap"},
		{"a question about a concept finds its definition", "what is the difference between an offset and a time zone", "tz-offsets"},
		{"an identifier with a dot finds its section", "time.RFC3339", "go-format"},
		{"a plural query finds a singular word", "punctures", "bicycle"},
		{"a gerund finds the verb's other forms", "running", "marathon"},
		{"a past tense finds the present", "rebased branches", "git-rebase"},
		{"a question with one word the book lacks is still answered", "tips for better sleep", "sleep"},
		{"a question that names a historical event finds it", "When did the French revolution start?", "revolution"},
		{"capitalization does not matter", "PHOTOSYNTHESIS", "photosynthesis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ix.Search(Query{Text: tt.query})
			if !r.Covered || len(r.Hits) == 0 {
				t.Fatalf("Search(%q) is not covered", tt.query)
			}
			if r.Hits[0].ID != tt.want {
				t.Errorf("Search(%q) ranks %v; want %s first", tt.query, hitIDs(r), tt.want)
			}
		})
	}
}

func TestSearchFloor(t *testing.T) {
	ix := corpusIndex(Options{})
	tests := []struct {
		name  string
		query Query
	}{
		{"an empty query is not covered", Query{}},
		{"a query of stop words only is not covered", Query{Text: "what is it that they were doing?"}},
		{"a query of words absent from the book is not covered", Query{Text: "quantum entanglement of photons"}},
		{"a question on another subject is not covered", Query{Text: "What is the capital of Australia?"}},
		{"sharing one common word with the book is not enough", Query{Text: "time travel paradoxes"}},
		{"sharing one rarer word is not enough either", Query{Text: "how do I bake a chocolate cake"}},
		{"a highlight of stop words only is not covered", Query{Highlight: "and then there were none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ix.Search(tt.query)
			if r.Covered || len(r.Hits) != 0 {
				t.Errorf("Search(%+v) = covered %v, hits %v; want not covered", tt.query, r.Covered, hitIDs(r))
			}
		})
	}

	names := []struct {
		name    string
		opt     Options
		query   string
		covered bool
	}{
		{"a question naming places the book never mentions is not covered", Options{}, "daylight saving time in Brazil and Chile", false},
		{"the same words in lower case are not taken for names", Options{}, "daylight saving time in brazil and chile", true},
		{"a capitalized first word is not taken for a name", Options{}, "Brazil: daylight saving time", true},
		{"with a NameWeight of one names count like other words", Options{NameWeight: 1}, "daylight saving time in Brazil and Chile", true},
	}
	for _, tt := range names {
		t.Run(tt.name, func(t *testing.T) {
			r := corpusIndex(tt.opt).Search(Query{Text: tt.query})
			if r.Covered != tt.covered {
				t.Errorf("Search(%q): covered %v, want %v (hits %+v)", tt.query, r.Covered, tt.covered, r.Hits)
			}
		})
	}

	t.Run("raising the floor refuses a partly covered question", func(t *testing.T) {
		q := Query{Text: "tips for better sleep"}
		if r := corpusIndex(Options{MinCoverage: 0.6}).Search(q); r.Covered {
			t.Errorf("with MinCoverage 0.6: covered, hits %v", hitIDs(r))
		}
	})
	t.Run("a floor of zero answers anything that matches a word", func(t *testing.T) {
		r := corpusIndex(Options{MinCoverage: -1, MinScore: -1}).Search(Query{Text: "time travel paradoxes"})
		if !r.Covered || len(r.Hits) != DefaultK {
			t.Errorf("with no floor: covered %v, hits %v; want %d hits", r.Covered, hitIDs(r), DefaultK)
		}
	})
	t.Run("the absolute score floor rejects a word found in every chunk", func(t *testing.T) {
		ix := New(Options{})
		for i := range 20 {
			ix.Add(Doc{ID: fmt.Sprint(i), Group: fmt.Sprint(i), Text: fmt.Sprintf("common words and topic%d", i)})
		}
		if r := ix.Search(Query{Text: "common"}); r.Covered {
			t.Errorf(`"common" is in every chunk, yet covered with hits %+v`, r.Hits)
		}
		if r := ix.Search(Query{Text: "topic7"}); !r.Covered || r.Hits[0].ID != "7" {
			t.Errorf(`"topic7": covered %v, hits %v; want chunk 7`, r.Covered, hitIDs(r))
		}
	})
}

func TestIsName(t *testing.T) {
	tests := []struct {
		name string
		text string
		word string // the word of text to ask about
		want bool
	}{
		{"a capitalized word inside a sentence is a name", "how do I do it in Rust?", "Rust", true},
		{"an acronym is a name", "my PC clock is wrong", "PC", true},
		{"a camel-case word is a name", "the McMurdo station", "McMurdo", true},
		{"the first word of the text is not", "Rust is fast", "Rust", false},
		{"the first word after a full stop is not", "I see. Rust is fast", "Rust", false},
		{"the first word after a colon is not", "Question: Why?", "Why", false},
		{"a word after a comma is", "in short, Rust", "Rust", true},
		{"a lowercase word is not", "rust on a bike", "rust", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isName(tt.text, strings.Index(tt.text, tt.word)); got != tt.want {
				t.Errorf("isName(%q, %q) = %v, want %v", tt.text, tt.word, got, tt.want)
			}
		})
	}
}

func TestSearchReportsMatchesAndCoverage(t *testing.T) {
	ix := corpusIndex(Options{})
	r := ix.Search(Query{Text: "Why should I store timestamps in UTC?"})
	if !r.Covered {
		t.Fatal("not covered")
	}
	h := r.Hits[0]
	if h.ID != "tz-dst" || h.Group != "time-zones.md#daylight-saving-time" || h.Page != "time-zones" {
		t.Errorf("first hit %+v; want tz-dst of time-zones", h)
	}
	if want := []string{"store", "timestamp", "utc"}; !slices.Equal(h.Matched, want) {
		t.Errorf("Matched = %q, want %q", h.Matched, want)
	}
	if h.Coverage != 1 {
		t.Errorf("Coverage = %v, want 1 for a chunk with every term", h.Coverage)
	}
	if h.BM25 <= 0 || h.Score < h.BM25 {
		t.Errorf("BM25 %v, Score %v; want a positive BM25 no larger than the score", h.BM25, h.Score)
	}
	for i := 1; i < len(r.Hits); i++ {
		if r.Hits[i].Score > r.Hits[i-1].Score {
			t.Errorf("hit %d scores %v, more than hit %d's %v", i, r.Hits[i].Score, i-1, r.Hits[i-1].Score)
		}
		if r.Hits[i].Coverage >= 1 {
			t.Errorf("hit %s has coverage %v, but lacks some terms", r.Hits[i].ID, r.Hits[i].Coverage)
		}
	}
}

func TestSearchRareWordOutweighsCommonOne(t *testing.T) {
	ix := New(Options{})
	for i := range 10 {
		ix.Add(Doc{ID: fmt.Sprint("daily", i), Group: fmt.Sprint("daily", i), Text: fmt.Sprintf("weather for day %d", i)})
	}
	ix.Add(
		Doc{ID: "common", Group: "common", Text: "weather weather weather report"},
		Doc{ID: "rare", Group: "rare", Text: "hurricane season report"},
	)
	r := ix.Search(Query{Text: "weather hurricane"})
	if !r.Covered || r.Hits[0].ID != "rare" {
		t.Errorf("ranks %v; want rare first: a word in one chunk says more than one in eleven", hitIDs(r))
	}
}

func TestSearchFieldWeights(t *testing.T) {
	docs := []Doc{
		{ID: "body", Group: "body", Text: "compaction merges small segments into larger ones over time"},
		{ID: "heading", Group: "heading", Heading: "Compaction", Text: "merges small segments into larger ones over time"},
		{ID: "title", Group: "title", Title: "Compaction", Text: "merges small segments into larger ones over time"},
	}
	for i := range 8 {
		docs = append(docs, Doc{ID: fmt.Sprint("filler", i), Group: fmt.Sprint("filler", i), Text: "unrelated filler text about gardening"})
	}
	tests := []struct {
		name string
		opt  Options
		want []string
	}{
		{"a heading word outweighs a title word, which outweighs a body word", Options{}, []string{"heading", "title", "body"}},
		{"a title can be made to weigh more than a heading", Options{TitleWeight: 3}, []string{"title", "heading", "body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := New(tt.opt)
			ix.Add(docs...)
			if got := hitIDs(ix.Search(Query{Text: "compaction"})); !slices.Equal(got, tt.want) {
				t.Errorf("ranking %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("with weights of one the fields tie", func(t *testing.T) {
		ix := New(Options{TitleWeight: 1, HeadingWeight: 1})
		ix.Add(docs...)
		r := ix.Search(Query{Text: "compaction"})
		if len(r.Hits) != 3 || r.Hits[0].Score != r.Hits[2].Score {
			t.Errorf("hits %+v, want three equal scores", r.Hits)
		}
	})
}

func TestSearchK(t *testing.T) {
	ix := corpusIndex(Options{MinCoverage: -1, MinScore: -1})
	tests := []struct {
		name string
		k    int
		want int
	}{
		{"zero asks for the default", 0, DefaultK},
		{"a negative K asks for the default", -4, DefaultK},
		{"one gives one", 1, 1},
		{"more than there are gives what matches", 50, 7}, // seven sections mention "time"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ix.Search(Query{Text: "time", K: tt.k})
			if len(r.Hits) != tt.want {
				t.Errorf("K=%d gave %d hits %v, want %d", tt.k, len(r.Hits), hitIDs(r), tt.want)
			}
		})
	}
}

func TestSearchMergesChunksOfASection(t *testing.T) {
	ix := corpusIndex(Options{})
	r := ix.Search(Query{Text: "sourdough loaf", K: 5})
	if !r.Covered {
		t.Fatal("not covered")
	}
	groups := map[string]int{}
	for _, h := range r.Hits {
		groups[h.Group]++
	}
	if groups["baking.md#sourdough"] != 1 {
		t.Errorf("hits %+v; want the sourdough section exactly once", r.Hits)
	}
	if r.Hits[0].Group != "baking.md#sourdough" {
		t.Errorf("first hit is %s, want the sourdough section", r.Hits[0].Group)
	}

	t.Run("a section matching in two chunks beats one matching once as well", func(t *testing.T) {
		ix := New(Options{})
		// "z" would lose a tie to "b" on its name.
		ix.Add(
			Doc{ID: "z1", Group: "z", Text: "kiln firing schedule for stoneware"},
			Doc{ID: "z2", Group: "z", Text: "kiln firing log and notes"},
			Doc{ID: "b1", Group: "b", Text: "kiln firing schedule for stoneware"},
		)
		for i := range 8 {
			ix.Add(Doc{ID: fmt.Sprint("c", i), Group: fmt.Sprint("c", i), Text: "unrelated glaze recipes"})
		}
		r := ix.Search(Query{Text: "kiln firing"})
		if !r.Covered {
			t.Fatal("not covered")
		}
		if got := r.Hits[0].Group; got != "z" {
			t.Errorf("first section is %s (hits %+v), want z", got, r.Hits)
		}
		noBonus := New(Options{GroupBonus: -1, MinScore: -1})
		noBonus.Add(Doc{ID: "a1", Group: "a", Text: "x kiln"}, Doc{ID: "a2", Group: "a", Text: "x kiln"}, Doc{ID: "b1", Group: "b", Text: "x kiln"})
		r = noBonus.Search(Query{Text: "kiln", K: 2})
		if len(r.Hits) != 2 || r.Hits[0].Score != r.Hits[1].Score {
			t.Errorf("without the bonus, equal chunks should give equal sections: %+v", r.Hits)
		}
	})
}

func TestSearchPageBias(t *testing.T) {
	docs := []Doc{
		{ID: "here", Group: "here", Page: "current", Text: "configure the proxy server timeout"},
		{ID: "there", Group: "there", Page: "other", Text: "configure the proxy server timeout"},
		{ID: "better", Group: "better", Page: "other", Text: "the retry budget for idempotent requests and the retry backoff"},
		{ID: "weaker", Group: "weaker", Page: "current", Text: "requests are logged"},
	}
	for i := range 8 {
		docs = append(docs, Doc{ID: fmt.Sprint("filler", i), Group: fmt.Sprint("filler", i), Page: "other", Text: "unrelated filler text about gardening"})
	}
	ix := New(Options{})
	ix.Add(docs...)
	tests := []struct {
		name  string
		query Query
		want  string
	}{
		{"a tie goes to the current page", Query{Text: "proxy timeout", Page: "current"}, "here"},
		{"the tie goes the other way from the other page", Query{Text: "proxy timeout", Page: "other"}, "there"},
		{"the current page cannot beat a clearly better match", Query{Text: "retry requests", Page: "current"}, "better"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ix.Search(tt.query)
			if !r.Covered || r.Hits[0].ID != tt.want {
				t.Errorf("Search(%+v) ranks %v; want %s first", tt.query, hitIDs(r), tt.want)
			}
		})
	}
	t.Run("a near tie goes to the current page", func(t *testing.T) {
		ix := New(Options{})
		ix.Add(docs...)
		// One extra word makes "there" a little longer and so a little
		// weaker; the page boost must still decide.
		ix.Add(Doc{ID: "here", Group: "here", Page: "current", Text: "configure the proxy server timeout value"})
		r := ix.Search(Query{Text: "proxy timeout", Page: "current"})
		if r.Hits[0].ID != "here" {
			t.Errorf("ranks %v; want here first", hitIDs(r))
		}
		if r.Hits[1].Score >= r.Hits[0].Score || r.Hits[0].BM25 >= r.Hits[1].BM25 {
			t.Errorf("hits %+v: want here's raw BM25 below there's and its boosted score above", r.Hits)
		}
	})
}

func TestSearchHighlight(t *testing.T) {
	passage := "the lighthouse keeper trimmed the wick at dusk"
	docs := []Doc{
		// Quotes the passage once, in a longer text.
		{ID: "quote", Group: "quote", Text: "Chapter notes. " + strings.ToUpper(passage[:1]) + passage[1:] +
			", as every evening, before the storm came in from the west and the harbour emptied of boats and gulls."},
		// Uses the passage's words often, but never as the passage.
		{ID: "echo", Group: "echo", Text: "keeper wick lighthouse dusk trimmed keeper wick lighthouse dusk trimmed"},
	}
	for i := range 8 {
		docs = append(docs, Doc{ID: fmt.Sprint("filler", i), Group: fmt.Sprint("filler", i), Text: "unrelated filler text about gardening"})
	}
	tests := []struct {
		name  string
		opt   Options
		query Query
		want  string
	}{
		{"without the verbatim boost the repeated words win", Options{HighlightBoost: 1}, Query{Highlight: passage}, "echo"},
		{"a verbatim quote wins over repeated words", Options{}, Query{Highlight: passage}, "quote"},
		{"punctuation, case and line breaks do not prevent a verbatim match", Options{},
			Query{Highlight: "The lighthouse-keeper\ntrimmed the WICK, at dusk"}, "quote"},
		{"a question with stop words only asks about the highlight", Options{},
			Query{Text: "what does this mean?", Highlight: passage}, "quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := New(tt.opt)
			ix.Add(docs...)
			r := ix.Search(tt.query)
			if !r.Covered || r.Hits[0].ID != tt.want {
				t.Errorf("Search(%+v) ranks %v; want %s first", tt.query, hitIDs(r), tt.want)
			}
		})
	}

	t.Run("highlighted terms weigh less than the question's", func(t *testing.T) {
		ix := corpusIndex(Options{})
		r := ix.Search(Query{Text: "how often should I feed the starter", Highlight: "Dutch oven", K: 5})
		if !r.Covered || r.Hits[0].ID != "sourdough-starter" {
			t.Errorf("ranks %v; want the question's section, sourdough-starter, first", hitIDs(r))
		}
	})
	t.Run("a long highlight does not drown the question", func(t *testing.T) {
		ix := corpusIndex(Options{})
		r := ix.Search(Query{
			Text:      "how often should I feed the starter",
			Highlight: "wheel tyre rim inner tube puncture patch thorn pump lever side pull check caused take",
		})
		if !r.Covered || r.Hits[0].ID != "sourdough-starter" {
			t.Errorf("ranks %v; want the question's section, sourdough-starter, first", hitIDs(r))
		}
	})
	t.Run("a highlight not in the book still helps a question", func(t *testing.T) {
		ix := corpusIndex(Options{})
		r := ix.Search(Query{Text: "is this true?", Highlight: "they stormed the Bastille"})
		if !r.Covered || r.Hits[0].ID != "revolution" {
			t.Errorf("ranks %v; want revolution first", hitIDs(r))
		}
	})
}

func TestAddRemove(t *testing.T) {
	t.Run("Add replaces a chunk with the same ID", func(t *testing.T) {
		ix := corpusIndex(Options{})
		ix.Add(Doc{ID: "chess", Group: "chess.md#sicilian", Page: "chess", Title: "Chess openings", Heading: "The French Defence", Text: "1.e4 e6 invites White to build a big centre."})
		if n := ix.Len(); n != len(corpus()) {
			t.Errorf("Len = %d after replacing, want %d", n, len(corpus()))
		}
		if r := ix.Search(Query{Text: "Sicilian defence"}); len(r.Hits) > 0 && r.Hits[0].ID == "chess" && slices.Contains(r.Hits[0].Matched, "sicilian") {
			t.Errorf("the old text still matches: %+v", r.Hits)
		}
		if r := ix.Search(Query{Text: "the French defence e6"}); !r.Covered || r.Hits[0].ID != "chess" {
			t.Errorf("the new text does not match: %v", hitIDs(r))
		}
	})
	t.Run("a later chunk in one call replaces an earlier one", func(t *testing.T) {
		ix := corpusIndex(Options{})
		ix.Add(Doc{ID: "x", Text: "alpha"}, Doc{ID: "x", Text: "beta"})
		if ix.Len() != len(corpus())+1 || ix.Search(Query{Text: "alpha"}).Covered || !ix.Search(Query{Text: "beta"}).Covered {
			t.Errorf("Len %d; want one chunk more than the corpus, with the second version, beta", ix.Len())
		}
	})
	t.Run("Remove deletes chunks and ignores unknown IDs", func(t *testing.T) {
		ix := corpusIndex(Options{})
		ix.Remove("git-rebase", "no-such-id")
		if n := ix.Len(); n != len(corpus())-1 {
			t.Errorf("Len = %d, want %d", n, len(corpus())-1)
		}
		if r := ix.Search(Query{Text: "git rebase"}); r.Covered {
			t.Errorf("removed chunk still found: %v", hitIDs(r))
		}
	})
	t.Run("RemovePage deletes every chunk of a document", func(t *testing.T) {
		ix := corpusIndex(Options{})
		if n := ix.RemovePage("time-zones"); n != 3 {
			t.Errorf("RemovePage removed %d, want 3", n)
		}
		if n := ix.RemovePage("time-zones"); n != 0 {
			t.Errorf("second RemovePage removed %d, want 0", n)
		}
		if n := ix.Len(); n != len(corpus())-3 {
			t.Errorf("Len = %d, want %d", n, len(corpus())-3)
		}
		if r := ix.Search(Query{Text: "daylight saving time UTC offsets"}); r.Covered {
			t.Errorf("removed page still found: %v", hitIDs(r))
		}
		if r := ix.Search(Query{Text: "parse a date string"}); !r.Covered || r.Hits[0].ID != "go-parse" {
			t.Errorf("other pages lost: %v", hitIDs(r))
		}
	})
	t.Run("removing everything leaves a usable empty index", func(t *testing.T) {
		ix := corpusIndex(Options{})
		for _, d := range corpus() {
			ix.Remove(d.ID)
		}
		if ix.Len() != 0 || ix.Search(Query{Text: "sourdough"}).Covered {
			t.Fatalf("Len %d after removing everything", ix.Len())
		}
		ix.Add(corpus()...)
		if r := ix.Search(Query{Text: "sourdough starter"}); !r.Covered || r.Hits[0].ID != "sourdough-starter" {
			t.Errorf("after re-adding: %v", hitIDs(r))
		}
	})
}

// TestCompactionKeepsResults churns the index through several compactions
// and checks that it answers exactly as a freshly built one.
func TestCompactionKeepsResults(t *testing.T) {
	ix := New(Options{})
	for round := range 5 {
		for i := range 200 {
			ix.Add(Doc{ID: fmt.Sprint(i), Group: fmt.Sprint(i % 50), Page: fmt.Sprint("p", i%7),
				Text: fmt.Sprintf("round%d word%d shared text %d", round, i, i%13)})
		}
		ix.RemovePage("p3")
		ix.Remove("5", "6")
	}
	fresh := New(Options{})
	for i := range 200 {
		if i%7 == 3 || i == 5 || i == 6 {
			continue
		}
		fresh.Add(Doc{ID: fmt.Sprint(i), Group: fmt.Sprint(i % 50), Page: fmt.Sprint("p", i%7),
			Text: fmt.Sprintf("round4 word%d shared text %d", i, i%13)})
	}
	if ix.Len() != fresh.Len() {
		t.Fatalf("Len %d, want %d", ix.Len(), fresh.Len())
	}
	ix.mu.RLock()
	slots := len(ix.slots)
	ix.mu.RUnlock()
	if slots > 2*ix.Len() {
		t.Errorf("%d slots for %d chunks: the index did not compact", slots, ix.Len())
	}
	for _, q := range []Query{
		{Text: "word17 shared", K: 5},
		{Text: "text 4", K: 10, Page: "p2"},
		{Text: "round4 word99"},
		{Text: "round3"},
	} {
		got, want := ix.Search(q), fresh.Search(q)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Search(%+v)\n got %+v\nwant %+v", q, got, want)
		}
	}
}

func TestSearchDuringAdd(t *testing.T) {
	ix := corpusIndex(Options{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 300 {
			ix.Add(Doc{ID: fmt.Sprint("extra", i%40), Group: fmt.Sprint("extra", i), Page: "extra",
				Text: fmt.Sprintf("extra chunk %d about nothing", i)})
			if i%50 == 49 {
				ix.RemovePage("extra")
			}
		}
	}()
	errs := make(chan string, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				r := ix.Search(Query{Text: "How do I parse a date string in Go?", Page: "extra"})
				if !r.Covered || r.Hits[0].ID != "go-parse" {
					errs <- fmt.Sprint(hitIDs(r))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("a search during Add ranked %s; want go-parse first", e)
	}
}

func TestEmptyIndex(t *testing.T) {
	ix := New(Options{})
	if r := ix.Search(Query{Text: "anything", Vector: []float32{1, 0}}); r.Covered || r.Hits != nil {
		t.Errorf("empty index returned %+v", r)
	}
	if ix.Len() != 0 || ix.RemovePage("x") != 0 {
		t.Error("empty index is not empty")
	}
	ix.Remove("x")
	ix.Add()
}

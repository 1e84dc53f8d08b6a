package library_test

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lectern/lectern/internal/embeddings"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/retrieval"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/testdb"
)

// copyBook copies testdata/book to a new folder the test may edit.
func copyBook(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir("testdata/book", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/book", p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestIngestWritesOnlyWhatChanged(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		root := copyBook(t)
		lib := library.New(st, library.Options{})
		if lib.Ready() {
			t.Fatal("ready before any book")
		}
		if err := lib.Load(ctx); err != library.ErrNoBook {
			t.Fatalf("Load of an empty store: %v", err)
		}
		sum, err := lib.Ingest(ctx, library.Source{Path: root}, library.IngestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Documents != 3 || sum.Changed != 3 || sum.Skipped || sum.Chunks == 0 || sum.Words == 0 {
			t.Fatalf("first ingestion: %+v", sum)
		}
		var order []string
		for _, p := range lib.Pages() {
			order = append(order, p.DocPath)
		}
		if strings.Join(order, " ") != "intro.md 01-basics/01-soil.md 01-basics/02-watering.mdx" {
			t.Errorf("reading order %q", order)
		}

		sum, err = lib.Ingest(ctx, library.Source{Path: root}, library.IngestOptions{})
		if err != nil || !sum.Skipped {
			t.Fatalf("an unchanged book was written again: %+v %v", sum, err)
		}

		if err := os.WriteFile(filepath.Join(root, "01-basics", "01-soil.md"), []byte("---\ntitle: Soil\n---\n\n## Clay\n\nClay soil holds water.\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(root, "intro.md")); err != nil {
			t.Fatal(err)
		}
		sum, err = lib.Ingest(ctx, library.Source{Path: root}, library.IngestOptions{})
		if err != nil || sum.Changed != 1 || sum.Removed != 1 || sum.Documents != 2 {
			t.Fatalf("after an edit and a removal: %+v %v", sum, err)
		}
		if _, ok := lib.Page("intro"); ok {
			t.Error("the removed page is still served")
		}
		res, err := lib.Search(ctx, library.Query{Text: "clay soil"})
		if err != nil || !res.Covered || res.Hits[0].URL != "/docs/basics/soil#clay" {
			t.Fatalf("search after the edit: %+v %v", res, err)
		}

		// A fresh library over the same store serves the same book.
		again := library.New(st, library.Options{})
		if err := again.Load(ctx); err != nil || len(again.Pages()) != 2 || again.Title() != lib.Title() {
			t.Fatalf("reload: %v", err)
		}
	})
}

func TestSearchCitesSectionsWithAnchorsAndSnippets(t *testing.T) {
	ctx := context.Background()
	st := testdb.Engines()[0].Open(t)
	lib := library.New(st, library.Options{})
	if _, err := lib.Ingest(ctx, library.Source{Path: "testdata/book"}, library.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query, url, snippet string
	}{
		{"how often should I water my tomato plants", "/docs/basics/watering#how-often-to-water", "Water tomatoes deeply twice a week"},
		{"what goes into a compost heap", "/docs/basics/soil#composting-kitchen-scraps", "coffee grounds"},
		{"drip line emitters", "/docs/basics/watering#drip-irrigation", "drip line"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			res, err := lib.Search(ctx, library.Query{Text: tc.query})
			if err != nil || !res.Covered || len(res.Hits) == 0 {
				t.Fatalf("%+v %v", res, err)
			}
			h := res.Hits[0]
			if h.URL != tc.url || !strings.Contains(h.Snippet, tc.snippet) {
				t.Errorf("first hit %s %q", h.URL, h.Snippet)
			}
			p, ok := lib.PageOf(h.URL)
			if !ok || !strings.Contains(p.HTML, `id="`+h.URL[strings.IndexByte(h.URL, '#')+1:]+`"`) {
				t.Errorf("the citation %s does not land on a heading of its page", h.URL)
			}
			if h.Title == "" || h.Heading == "" || len(h.HeadingPath) < 2 {
				t.Errorf("hit %+v", h)
			}
		})
	}
	t.Run("a question the book does not cover", func(t *testing.T) {
		res, err := lib.Search(ctx, library.Query{Text: "how do I file my tax return"})
		if err != nil || res.Covered || len(res.Hits) != 0 {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("the current page is understood in any form", func(t *testing.T) {
		for _, cur := range []string{"/docs/basics/soil", "basics/soil", "http://x/docs/basics/soil#clay", "01-basics/01-soil.md"} {
			if p, ok := lib.PageOf(cur); !ok || p.DocPath != "01-basics/01-soil.md" {
				t.Errorf("%q → %v %v", cur, p, ok)
			}
		}
	})
	t.Run("page metadata reaches the hit", func(t *testing.T) {
		res, _ := lib.Search(ctx, library.Query{Text: "potting mix perlite"})
		if h := res.Hits[0]; h.PageNumber == nil || *h.PageNumber != 3 || h.ChapterNumber != 1 || h.Chapter != "Basics" {
			t.Errorf("%+v", h)
		}
	})
}

// embeddingServer speaks the OpenAI embeddings protocol with a toy model: a
// hashed bag of words, so related texts get similar vectors. It counts the
// inputs it embedded.
func embeddingServer(t *testing.T, fail *atomic.Bool, inputs *atomic.Int64) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, `{"error":{"message":"down"}}`, http.StatusBadRequest)
			return
		}
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if r.URL.Path != "/v1/embeddings" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		inputs.Add(int64(len(req.Input)))
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		out := struct {
			Object string `json:"object"`
			Data   []item `json:"data"`
			Model  string `json:"model"`
		}{Object: "list", Model: req.Model}
		for i, in := range req.Input {
			v := make([]float32, 64)
			for _, term := range retrieval.Analyze(in) {
				h := fnv.New32a()
				h.Write([]byte(term))
				v[h.Sum32()%64]++
			}
			out.Data = append(out.Data, item{"embedding", i, v})
		}
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

func TestEmbeddingsAreComputedOnceAndFusedWithBM25(t *testing.T) {
	ctx := context.Background()
	var fail atomic.Bool
	var inputs atomic.Int64
	url := embeddingServer(t, &fail, &inputs)
	st := testdb.Engines()[0].Open(t)
	emb := embeddings.New(url, "toy", "", embeddings.Options{MaxAttempts: 1})
	lib := library.New(st, library.Options{Embedder: emb, EmbeddingModel: "toy"})
	root := copyBook(t)
	sum, err := lib.Ingest(ctx, library.Source{Path: root}, library.IngestOptions{})
	if err != nil || sum.Embedded != sum.Chunks || inputs.Load() != int64(sum.Chunks) {
		t.Fatalf("first ingestion embedded %d of %d chunks (%d inputs): %v", sum.Embedded, sum.Chunks, inputs.Load(), err)
	}
	chunks, _ := st.BookChunks(ctx, library.DefaultBookID)
	for _, c := range chunks {
		if len(c.Embedding) != 64 || c.EmbeddingModel != "toy" {
			t.Fatalf("chunk %s has no stored vector", c.ID)
		}
	}

	inputs.Store(0)
	if err := os.WriteFile(filepath.Join(root, "intro.md"), []byte("---\ntitle: Gardening at Home\n---\n\nA new introduction.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err = lib.Ingest(ctx, library.Source{Path: root}, library.IngestOptions{})
	if err != nil || sum.Embedded != 1 || inputs.Load() != 1+0 {
		t.Fatalf("after editing one document %d chunks were embedded (%d inputs), want only its 1: %v", sum.Embedded, inputs.Load(), err)
	}

	inputs.Store(0)
	res, err := lib.Search(ctx, library.Query{Text: "how often should I water tomatoes"})
	if err != nil || !res.Covered || res.Hits[0].Slug != "basics/watering" || inputs.Load() != 1 {
		t.Fatalf("hybrid search: %+v %v (question embedded %d times)", res, err, inputs.Load())
	}

	fail.Store(true)
	res, err = lib.Search(ctx, library.Query{Text: "how often should I water tomatoes"})
	if err != nil || !res.Covered || res.Hits[0].Slug != "basics/watering" {
		t.Fatalf("with the embeddings endpoint down, search did not fall back to BM25: %+v %v", res, err)
	}
}

func TestSnippet(t *testing.T) {
	text := "The first sentence is about nothing. Tomatoes need deep watering twice a week. Containers dry out faster.\nA line about e.g. mulch."
	for _, tc := range []struct {
		name    string
		matched []string
		max     int
		want    string
	}{
		{"the sentence with the most matched terms, and the next while it fits", retrieval.Analyze("tomato watering"), 80,
			"Tomatoes need deep watering twice a week. Containers dry out faster."},
		{"no matched terms: from the start", nil, 40, "The first sentence is about nothing."},
		{"cut at a word with an ellipsis", retrieval.Analyze("tomatoes"), 20, "Tomatoes need deep…"},
		{"abbreviations do not end a sentence", retrieval.Analyze("mulch"), 200, "A line about e.g. mulch."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := library.Snippet(text, tc.matched, tc.max); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestChineseSentences checks that Chinese text, which puts no space after
// its full stops, is split into sentences.
func TestChineseSentences(t *testing.T) {
	got := library.Sentences("原始指针既不是 Send 也不是 Sync。这是一个例外！真的吗？是的")
	want := []string{"原始指针既不是 Send 也不是 Sync。", "这是一个例外！", "真的吗？", "是的"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Sentences = %q, want %q", got, want)
	}
}

package library_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/embeddings"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/store/testdb"
)

func TestSearchReportsItsModeToOnSearch(t *testing.T) {
	ctx := context.Background()
	var fail atomic.Bool
	var inputs atomic.Int64
	url := embeddingServer(t, &fail, &inputs)
	var modes []string
	onSearch := func(mode string, elapsed time.Duration) {
		if elapsed < 0 {
			t.Errorf("negative duration %v", elapsed)
		}
		modes = append(modes, mode)
	}
	for _, tc := range []struct {
		name     string
		embedder library.Embedder
		failing  bool
		want     string
	}{
		{"a search without embeddings is bm25", nil, false, "bm25"},
		{"a search that fused the question's embedding is hybrid", embeddings.New(url, "toy", "", embeddings.Options{MaxAttempts: 1}), false, "hybrid"},
		{"a search whose embedding failed fell back to bm25", embeddings.New(url, "toy", "", embeddings.Options{MaxAttempts: 1}), true, "bm25"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fail.Store(false)
			lib := library.New(testdb.Engines()[0].Open(t), library.Options{Embedder: tc.embedder, EmbeddingModel: "toy", OnSearch: onSearch})
			if _, err := lib.Ingest(ctx, library.Source{Path: "testdata/book"}, library.IngestOptions{}); err != nil {
				t.Fatal(err)
			}
			fail.Store(tc.failing)
			modes = nil
			if _, err := lib.Search(ctx, library.Query{Text: "how often should I water tomatoes"}); err != nil {
				t.Fatal(err)
			}
			if len(modes) != 1 || modes[0] != tc.want {
				t.Errorf("reported %v, want [%s]", modes, tc.want)
			}
		})
	}
}

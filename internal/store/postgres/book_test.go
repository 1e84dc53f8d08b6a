package postgres

import (
	"bytes"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/storetest"
)

// Both engines store an embedding in the same bytes, so a database can be
// copied from one to the other as it is.
func TestEmbeddingsAreStoredAsLittleEndianFloat32s(t *testing.T) {
	s := openMigrated(t)
	now := time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)
	b := store.Book{ID: "b", Title: "B", Format: "markdown", Source: "/b", Hash: "h", CreatedAt: now, UpdatedAt: now}
	doc := store.BookDocument{Path: "a.md", Slug: "/a", Title: "A", HTML: "<p>a</p>", Hash: "h"}
	content := store.BookContent{DocPath: "a.md", Chunks: []store.BookChunk{
		{ID: "with", Heading: "A", Text: "a", Embedding: []float32{1, -2}, EmbeddingModel: "m"},
		{ID: "without", Ord: 1, Heading: "A", Text: "a"},
	}}
	if err := s.ApplyBook(t.Context(), b, []store.BookDocument{doc}, []store.BookContent{content}); err != nil {
		t.Fatalf("ApplyBook: %v", err)
	}
	want := map[string][]byte{
		"with":    {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0},
		"without": nil,
	}
	for id, w := range want {
		var got []byte
		if err := s.pool.QueryRow(t.Context(),
			`SELECT embedding FROM book_chunks WHERE book_id = 'b' AND id = $1`, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, w) || (got == nil) != (w == nil) {
			t.Errorf("embedding of %s stored as % x, want % x", id, got, w)
		}
	}
}

func BenchmarkApplyBook(b *testing.B) {
	storetest.BenchmarkApplyBook(b, openMigrated(b))
}

func BenchmarkBookChunks(b *testing.B) {
	storetest.BenchmarkBookChunks(b, openMigrated(b))
}

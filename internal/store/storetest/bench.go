package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/store"
)

// BenchmarkListConversations measures ListConversations fetching pages of 20
// of one user's 200 conversations, alternately from the top and from a cursor
// in the middle, in a store that also holds other users' conversations. s
// must be a new, migrated, empty store.
func BenchmarkListConversations(b *testing.B, s store.Store) {
	now := base()
	u := createUser(b, s, now)
	var all []store.Conversation
	for i := range 200 {
		c, _ := startConversation(b, s, u.ID, now.Add(time.Duration(i/2)*time.Second)) // pairs tie
		all = append(all, c)
	}
	for range 4 {
		other := createUser(b, s, now)
		for i := range 50 {
			startConversation(b, s, other.ID, now.Add(time.Duration(i)*time.Second))
		}
	}
	mid := byActivity(all)[99]
	cursor := &store.ConversationCursor{UpdatedAt: mid.UpdatedAt, ID: mid.ID}

	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		after := cursor
		if i%2 == 0 {
			after = nil
		}
		i++
		cs, err := s.ListConversations(b.Context(), u.ID, 20, after)
		if err != nil || len(cs) != 20 {
			b.Fatalf("ListConversations = %d conversations, %v; want 20", len(cs), err)
		}
	}
}

// BenchmarkListMessages measures ListMessages fetching pages of 50 of a
// 500-message conversation (alternating user questions and cited answers),
// alternately from the start and from seq 250. s must be a new, migrated,
// empty store.
func BenchmarkListMessages(b *testing.B, s store.Store) {
	now := base()
	u := createUser(b, s, now)
	c, _ := startConversation(b, s, u.ID, now)
	for i := 2; i <= 500; i++ {
		role := store.RoleUser
		if i%2 == 0 {
			role = store.RoleAssistant
		}
		appendMessage(b, s, c, role, now.Add(time.Duration(i)*time.Second))
	}
	other, _ := startConversation(b, s, u.ID, now)
	for range 100 {
		appendMessage(b, s, other, store.RoleAssistant, now)
	}

	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		after := int64(250)
		if i%2 == 0 {
			after = 0
		}
		i++
		ms, err := s.ListMessages(b.Context(), u.ID, c.ID, after, 50)
		if err != nil || len(ms) != 50 {
			b.Fatalf("ListMessages = %d messages, %v; want 50", len(ms), err)
		}
	}
}

// bookBenchDims is the size of the benchmarks' embeddings, a common one for
// sentence-embedding models.
const bookBenchDims = 768

// largeIngestion returns a book of 50 documents of 20 sections of 5 chunks
// each (5,000 chunks), all as content, and an embedding for every chunk.
func largeIngestion(now time.Time) (ingestion, map[string][]float32) {
	in := ingestion{book: newBook(now)}
	vectors := map[string][]float32{}
	for i := range 50 {
		d := newDocument(in.book.ID, fmt.Sprintf("part-%d/doc-%02d.md", i/10, i), i)
		c := newContent(d, 20, 5)
		in.docs = append(in.docs, d)
		in.content = append(in.content, c)
		for _, x := range c.Chunks {
			v := make([]float32, bookBenchDims)
			for j := range v {
				v[j] = float32(len(vectors)+j) / bookBenchDims
			}
			vectors[x.ID] = v
		}
	}
	return in, vectors
}

// BenchmarkApplyBook measures ApplyBook re-ingesting a whole book of 5,000
// embedded chunks: every document upserted, and every section and chunk
// replaced, each chunk keeping its stored embedding. s must be a new,
// migrated, empty store.
func BenchmarkApplyBook(b *testing.B, s store.Store) {
	in, vectors := largeIngestion(base())
	applyBook(b, s, in)
	setEmbeddings(b, s, in.book.ID, "model-a", vectors)

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		applyBook(b, s, in)
	}
	b.StopTimer()
	chunks, err := s.BookChunks(b.Context(), in.book.ID)
	if err != nil || len(chunks) != len(vectors) || len(chunks[0].Embedding) != bookBenchDims {
		b.Fatalf("BookChunks = %d chunks, %v; want %d with embeddings", len(chunks), err, len(vectors))
	}
}

// BenchmarkBookChunks measures BookChunks reading a book of 5,000 chunks
// with their 768-dimensional embeddings. s must be a new, migrated, empty
// store.
func BenchmarkBookChunks(b *testing.B, s store.Store) {
	in, vectors := largeIngestion(base())
	applyBook(b, s, in)
	setEmbeddings(b, s, in.book.ID, "model-a", vectors)

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		chunks, err := s.BookChunks(b.Context(), in.book.ID)
		if err != nil || len(chunks) != len(vectors) {
			b.Fatalf("BookChunks = %d chunks, %v; want %d", len(chunks), err, len(vectors))
		}
	}
}

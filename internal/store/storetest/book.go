package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
)

// ingestion is the arguments of one ApplyBook call.
type ingestion struct {
	book    store.Book
	docs    []store.BookDocument
	content []store.BookContent
}

// bookState is everything stored of one book, as the reads return it.
type bookState struct {
	book     store.Book
	docs     []store.BookDocument
	sections []store.BookSection
	chunks   []store.BookChunk
}

// loremText pads chunk and section texts to a realistic length.
const loremText = "Retrieval works on chunks of a few hundred words; this text stands in for one, " +
	"with punctuation, \"quotes\", a newline\nand ünïcode — 日本語, emoji 📚."

// newBook returns a book with a unique id, created and updated at now.
func newBook(now time.Time) store.Book {
	id := randid.New()
	return store.Book{
		ID:        id,
		Title:     "The Book " + id[:6],
		Format:    "docusaurus",
		Source:    "/srv/books/" + id[:6],
		Hash:      "book-hash-" + id[:6],
		TOC:       []byte(`{"items": [{"title": "Intro", "path": "intro.md"}, {"title": "Ünïcode", "items": []}]}`),
		Language:  "es-419",
		CreatedAt: now,
		UpdatedAt: now,
	}
}

// newDocument returns document path of the book at position ord, with every
// field set.
func newDocument(bookID, path string, ord int) store.BookDocument {
	return store.BookDocument{
		BookID:        bookID,
		Path:          path,
		Ord:           ord,
		Slug:          "/" + strings.TrimSuffix(path, ".md"),
		Title:         "Title of " + path,
		SidebarLabel:  "Label of " + path,
		Description:   "What " + path + " is about",
		Chapter:       "Chapter One",
		ChapterNumber: 1,
		Meta:          []byte(`{"sidebar_position": 1, "tags": ["a", "ü"], "draft": false}`),
		HTML:          "<h1>Title of " + path + "</h1>\n<p>" + loremText + "</p>",
		Words:         42,
		Hash:          "doc-hash-" + path,
	}
}

// newContent returns the given number of sections of doc, the first a lead
// section without anchor, each with chunksPerSection chunks without
// embeddings. Chunk ids derive from the document path and the chunk's place,
// so two books built alike share them.
func newContent(doc store.BookDocument, sections, chunksPerSection int) store.BookContent {
	c := store.BookContent{DocPath: doc.Path, Sections: []store.BookSection{}, Chunks: []store.BookChunk{}}
	for i := range sections {
		x := store.BookSection{
			DocPath: doc.Path,
			Ord:     i,
			Heading: doc.Title,
			Path:    []string{doc.Title},
			Level:   1,
			Text:    fmt.Sprintf("Section %d of %s. %s", i, doc.Path, loremText),
		}
		if i > 0 {
			x.Anchor = fmt.Sprintf("heading-%d-ünï", i)
			x.Heading = fmt.Sprintf("Heading %d — Ünïcode", i)
			x.Path = []string{doc.Title, x.Heading}
			x.Level = 2
		}
		c.Sections = append(c.Sections, x)
		for j := range chunksPerSection {
			c.Chunks = append(c.Chunks, store.BookChunk{
				ID:         fmt.Sprintf("%s:%d:%d", doc.Path, i, j),
				DocPath:    doc.Path,
				SectionOrd: i,
				Ord:        j,
				Heading:    strings.Join(x.Path, " > "),
				Text:       fmt.Sprintf("Chunk %d.%d of %s. %s", i, j, doc.Path, loremText),
				Words:      30 + j,
			})
		}
	}
	return c
}

// vector returns a small embedding derived from seed.
func vector(seed float32) []float32 {
	return []float32{seed, -seed / 3, 0, seed * 1e-20, 1 / seed}
}

// extremeVector is an embedding of values whose bits are easily mangled.
func extremeVector() []float32 {
	return []float32{float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, math.MaxFloat32,
		float32(math.Inf(-1)), -1.5, 0.1}
}

// sampleIngestion returns a new book of three documents, all with content:
// one without chapter, one with a page number, one without front matter. Two
// chunks carry embeddings.
func sampleIngestion(now time.Time) ingestion {
	b := newBook(now)
	intro := newDocument(b.ID, "intro.md", 0)
	intro.Chapter, intro.ChapterNumber = "", 0
	guide := newDocument(b.ID, "guide/ünïcode guide.md", 1)
	guide.PageNumber = ptr(12)
	ref := newDocument(b.ID, "reference/api.mdx", 2)
	ref.Meta = nil
	ref.PageNumber = ptr(0)
	content := []store.BookContent{newContent(intro, 2, 2), newContent(guide, 3, 2), newContent(ref, 1, 3)}
	content[0].Chunks[0].Embedding, content[0].Chunks[0].EmbeddingModel = vector(1), "model-a"
	content[1].Chunks[3].Embedding, content[1].Chunks[3].EmbeddingModel = extremeVector(), "model-b"
	return ingestion{book: b, docs: []store.BookDocument{intro, guide, ref}, content: content}
}

// cloneContent copies content deeply enough that changing a chunk or section
// of the copy leaves the original alone.
func cloneContent(content []store.BookContent) []store.BookContent {
	out := make([]store.BookContent, len(content))
	for i, c := range content {
		out[i] = store.BookContent{DocPath: c.DocPath, Sections: slices.Clone(c.Sections), Chunks: slices.Clone(c.Chunks)}
	}
	return out
}

// withEmbeddings returns a copy of content in which the chunks named in
// vectors carry that vector and model (none for a nil vector).
func withEmbeddings(content []store.BookContent, model string, vectors map[string][]float32) []store.BookContent {
	out := cloneContent(content)
	for _, c := range out {
		for i, x := range c.Chunks {
			if v, ok := vectors[x.ID]; ok {
				c.Chunks[i].Embedding, c.Chunks[i].EmbeddingModel = v, model
				if v == nil {
					c.Chunks[i].EmbeddingModel = ""
				}
			}
		}
	}
	return out
}

// chunkIDs returns the ids of the chunks of content, in order.
func chunkIDs(content []store.BookContent) []string {
	var ids []string
	for _, c := range content {
		for _, x := range c.Chunks {
			ids = append(ids, x.ID)
		}
	}
	return ids
}

// applyBook stores in, failing the test if it cannot.
func applyBook(t testing.TB, s store.Store, in ingestion) {
	t.Helper()
	if err := s.ApplyBook(t.Context(), in.book, in.docs, in.content); err != nil {
		t.Fatalf("ApplyBook: %v", err)
	}
}

// setEmbeddings stores vectors computed by model, failing the test if it
// cannot.
func setEmbeddings(t testing.TB, s store.Store, bookID, model string, vectors map[string][]float32) {
	t.Helper()
	if err := s.SetChunkEmbeddings(t.Context(), bookID, model, vectors); err != nil {
		t.Fatalf("SetChunkEmbeddings: %v", err)
	}
}

// readBook reads everything stored of book id.
func readBook(t *testing.T, s store.Store, id string) bookState {
	t.Helper()
	var st bookState
	var err error
	st.book, err = s.Book(t.Context(), id)
	noErr(t, "Book", err)
	st.docs, err = s.BookDocuments(t.Context(), id)
	noErr(t, "BookDocuments", err)
	st.sections, err = s.BookSections(t.Context(), id)
	noErr(t, "BookSections", err)
	st.chunks, err = s.BookChunks(t.Context(), id)
	noErr(t, "BookChunks", err)
	return st
}

// expectBook returns what the reads should return of book b with documents
// docs, each with the content of the last of contents that names it (none if
// none does): documents by ord, sections by document then section ord, and
// chunks by document, section ord, then ord. A chunk without embedding has
// no model either.
func expectBook(b store.Book, docs []store.BookDocument, contents ...[]store.BookContent) bookState {
	latest := map[string]store.BookContent{}
	for _, cs := range contents {
		for _, c := range cs {
			latest[c.DocPath] = c
		}
	}
	want := bookState{book: b, docs: slices.Clone(docs), sections: []store.BookSection{}, chunks: []store.BookChunk{}}
	slices.SortStableFunc(want.docs, func(x, y store.BookDocument) int {
		return cmp.Or(cmp.Compare(x.Ord, y.Ord), strings.Compare(x.Path, y.Path))
	})
	for i, d := range want.docs {
		want.docs[i].BookID = b.ID
		c := latest[d.Path]
		sections := slices.Clone(c.Sections)
		slices.SortFunc(sections, func(x, y store.BookSection) int { return cmp.Compare(x.Ord, y.Ord) })
		for _, x := range sections {
			x.DocPath = d.Path
			want.sections = append(want.sections, x)
		}
		chunks := slices.Clone(c.Chunks)
		slices.SortFunc(chunks, func(x, y store.BookChunk) int {
			return cmp.Or(cmp.Compare(x.SectionOrd, y.SectionOrd), cmp.Compare(x.Ord, y.Ord), strings.Compare(x.ID, y.ID))
		})
		for _, x := range chunks {
			x.DocPath = d.Path
			if len(x.Embedding) == 0 {
				x.Embedding, x.EmbeddingModel = nil, ""
			}
			want.chunks = append(want.chunks, x)
		}
	}
	return want
}

func checkStoredBook(t *testing.T, got, want store.Book) {
	t.Helper()
	check(t, "Book.ID", got.ID, want.ID)
	check(t, "Book.Title", got.Title, want.Title)
	check(t, "Book.Format", got.Format, want.Format)
	check(t, "Book.Source", got.Source, want.Source)
	check(t, "Book.Hash", got.Hash, want.Hash)
	checkJSON(t, "Book.TOC", got.TOC, want.TOC)
	checkTime(t, "Book.CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "Book.UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkBookDocument(t *testing.T, got, want store.BookDocument) {
	t.Helper()
	field := func(name string) string { return "BookDocument(" + want.Path + ")." + name }
	check(t, field("BookID"), got.BookID, want.BookID)
	check(t, field("Path"), got.Path, want.Path)
	check(t, field("Ord"), got.Ord, want.Ord)
	check(t, field("Slug"), got.Slug, want.Slug)
	check(t, field("Title"), got.Title, want.Title)
	check(t, field("SidebarLabel"), got.SidebarLabel, want.SidebarLabel)
	check(t, field("Description"), got.Description, want.Description)
	check(t, field("Chapter"), got.Chapter, want.Chapter)
	check(t, field("ChapterNumber"), got.ChapterNumber, want.ChapterNumber)
	switch {
	case got.PageNumber == nil && want.PageNumber == nil:
	case got.PageNumber == nil || want.PageNumber == nil:
		t.Errorf("%s = %v, want %v", field("PageNumber"), got.PageNumber, want.PageNumber)
	default:
		check(t, "*"+field("PageNumber"), *got.PageNumber, *want.PageNumber)
	}
	checkJSON(t, field("Meta"), got.Meta, want.Meta)
	check(t, field("HTML"), got.HTML, want.HTML)
	check(t, field("Words"), got.Words, want.Words)
	check(t, field("Hash"), got.Hash, want.Hash)
}

func checkBookSection(t *testing.T, got, want store.BookSection) {
	t.Helper()
	field := func(name string) string { return fmt.Sprintf("BookSection(%s#%d).%s", want.DocPath, want.Ord, name) }
	check(t, field("DocPath"), got.DocPath, want.DocPath)
	check(t, field("Ord"), got.Ord, want.Ord)
	check(t, field("Anchor"), got.Anchor, want.Anchor)
	check(t, field("Heading"), got.Heading, want.Heading)
	if !slices.Equal(got.Path, want.Path) {
		t.Errorf("%s = %q, want %q", field("Path"), got.Path, want.Path)
	}
	check(t, field("Level"), got.Level, want.Level)
	check(t, field("Text"), got.Text, want.Text)
}

func checkBookChunk(t *testing.T, got, want store.BookChunk) {
	t.Helper()
	field := func(name string) string { return "BookChunk(" + want.ID + ")." + name }
	check(t, field("ID"), got.ID, want.ID)
	check(t, field("DocPath"), got.DocPath, want.DocPath)
	check(t, field("SectionOrd"), got.SectionOrd, want.SectionOrd)
	check(t, field("Ord"), got.Ord, want.Ord)
	check(t, field("Heading"), got.Heading, want.Heading)
	check(t, field("Text"), got.Text, want.Text)
	check(t, field("Words"), got.Words, want.Words)
	checkVector(t, field("Embedding"), got.Embedding, want.Embedding)
	check(t, field("EmbeddingModel"), got.EmbeddingModel, want.EmbeddingModel)
}

// checkVector reports an embedding that is nil when want is not (or vice
// versa) or differs from want in any bit.
func checkVector(t *testing.T, field string, got, want []float32) {
	t.Helper()
	same := (got == nil) == (want == nil) && len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		same = math.Float32bits(got[i]) == math.Float32bits(want[i])
	}
	if !same {
		t.Errorf("%s = %v, want %v", field, got, want)
	}
}

// checkBookState compares everything stored of a book, row by row.
func checkBookState(t *testing.T, got, want bookState) {
	t.Helper()
	checkStoredBook(t, got.book, want.book)
	if got.docs == nil || got.sections == nil || got.chunks == nil {
		t.Errorf("BookDocuments, BookSections or BookChunks returned nil, want a non-nil slice")
	}
	checkIDs(t, "document paths", docPaths(got.docs), docPaths(want.docs))
	if len(got.docs) == len(want.docs) {
		for i := range got.docs {
			checkBookDocument(t, got.docs[i], want.docs[i])
		}
	}
	checkIDs(t, "sections", sectionKeys(got.sections), sectionKeys(want.sections))
	if len(got.sections) == len(want.sections) {
		for i := range got.sections {
			checkBookSection(t, got.sections[i], want.sections[i])
		}
	}
	checkIDs(t, "chunk ids", bookChunkIDs(got.chunks), bookChunkIDs(want.chunks))
	if len(got.chunks) == len(want.chunks) {
		for i := range got.chunks {
			checkBookChunk(t, got.chunks[i], want.chunks[i])
		}
	}
}

// docPaths returns the paths of ds, in order.
func docPaths(ds []store.BookDocument) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Path
	}
	return out
}

// sectionKeys returns "path#ord" of each of xs, in order.
func sectionKeys(xs []store.BookSection) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%s#%d", x.DocPath, x.Ord)
	}
	return out
}

// bookChunkIDs returns the ids of xs, in order.
func bookChunkIDs(xs []store.BookChunk) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.ID
	}
	return out
}

// storedChunk returns the stored chunk id of the book, failing the test if
// there is none.
func storedChunk(t *testing.T, st bookState, id string) store.BookChunk {
	t.Helper()
	for _, x := range st.chunks {
		if x.ID == id {
			return x
		}
	}
	t.Fatalf("no chunk %q stored", id)
	return store.BookChunk{}
}

func bookTests() []test {
	return []test{
		{"ApplyBook makes the book's assets exactly those given, and BookAsset reads one of that book only", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			in := sampleIngestion(base())
			png := store.BookAsset{Name: "aa.png", Type: "image/png", Data: []byte("\x89PNG\r\n\x1a\n\x00")}
			svg := store.BookAsset{Name: "bb.svg", Type: "image/svg+xml", Data: []byte("<svg/>")}
			in.book.Assets = []store.BookAsset{png, svg}
			applyBook(t, s, in)
			for _, want := range in.book.Assets {
				got, err := s.BookAsset(ctx, in.book.ID, want.Name)
				if err != nil {
					t.Fatalf("BookAsset(%s): %v", want.Name, err)
				}
				check(t, "BookAsset.Type", got.Type, want.Type)
				check(t, "BookAsset.Data", string(got.Data), string(want.Data))
			}
			other := sampleIngestion(base()) // another book, with its own id
			applyBook(t, s, other)
			if _, err := s.BookAsset(ctx, other.book.ID, png.Name); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("another book's asset: %v, want ErrNotFound", err)
			}
			in.book.Assets = []store.BookAsset{svg}
			applyBook(t, s, in)
			if _, err := s.BookAsset(ctx, in.book.ID, png.Name); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("an asset the book no longer has: %v, want ErrNotFound", err)
			}
			if got, err := s.BookAsset(ctx, in.book.ID, svg.Name); err != nil || string(got.Data) != "<svg/>" {
				t.Errorf("the asset kept: %q, %v", got.Data, err)
			}
		}},
		{"ApplyBook stores a book with its documents, sections and chunks, and the reads return them in order", func(t *testing.T, s store.Store) {
			in := sampleIngestion(base())
			// Listed out of order: the reads order by ord.
			shuffled := ingestion{
				book:    in.book,
				docs:    []store.BookDocument{in.docs[2], in.docs[0], in.docs[1]},
				content: cloneContent([]store.BookContent{in.content[1], in.content[2], in.content[0]}),
			}
			slices.Reverse(shuffled.content[0].Sections)
			slices.Reverse(shuffled.content[0].Chunks)
			applyBook(t, s, shuffled)
			checkBookState(t, readBook(t, s, in.book.ID), expectBook(in.book, in.docs, in.content))
		}},
		{"ApplyBook of the same ingestion again changes nothing and keeps the embeddings", func(t *testing.T, s store.Store) {
			in := sampleIngestion(base())
			applyBook(t, s, in)
			vectors := map[string][]float32{in.content[2].Chunks[1].ID: vector(7)}
			setEmbeddings(t, s, in.book.ID, "model-c", vectors)
			before := readBook(t, s, in.book.ID)
			checkBookState(t, before, expectBook(in.book, in.docs, withEmbeddings(in.content, "model-c", vectors)))

			applyBook(t, s, in)
			checkBookState(t, readBook(t, s, in.book.ID), before)
		}},
		{"ApplyBook of an existing book updates its row but keeps its creation time", func(t *testing.T, s store.Store) {
			now := base()
			in := sampleIngestion(now)
			applyBook(t, s, in)
			later := now.Add(time.Hour)
			next := in
			next.book.Title, next.book.Format, next.book.Source = "Renamed ünïcode", "markdown", "/elsewhere"
			next.book.Hash, next.book.TOC = "new-hash", []byte(`[{"title": "Only"}]`)
			next.book.CreatedAt, next.book.UpdatedAt = later, later
			next.content = nil
			applyBook(t, s, next)

			want := next.book
			want.CreatedAt = now
			checkBookState(t, readBook(t, s, in.book.ID), expectBook(want, in.docs, in.content))
		}},
		{"ApplyBook with a changed document replaces only that document's sections and chunks", func(t *testing.T, s store.Store) {
			in := sampleIngestion(base())
			applyBook(t, s, in)
			vectors := map[string][]float32{}
			for i, id := range chunkIDs(in.content) {
				vectors[id] = vector(float32(i + 1))
			}
			setEmbeddings(t, s, in.book.ID, "model-c", vectors)
			embedded := withEmbeddings(in.content, "model-c", vectors)

			docs := slices.Clone(in.docs)
			docs[1].Hash, docs[1].HTML, docs[1].Words = "changed", "<p>Rewritten</p>", 1
			// Two of the six chunks keep their ids; one chunk is new.
			guide := newContent(docs[1], 2, 1)
			guide.Sections[1].Text = "Rewritten."
			guide.Chunks = append(guide.Chunks, store.BookChunk{
				ID: "brand-new", DocPath: docs[1].Path, SectionOrd: 1, Ord: 1,
				Heading: "New", Text: "A new chunk.", Words: 3,
			})
			applyBook(t, s, ingestion{book: in.book, docs: docs, content: []store.BookContent{guide}})

			got := readBook(t, s, in.book.ID)
			kept := guide.Chunks[0].ID
			checkVector(t, "embedding of the chunk that kept its id", storedChunk(t, got, kept).Embedding, vectors[kept])
			checkVector(t, "embedding of the new chunk", storedChunk(t, got, "brand-new").Embedding, nil)
			checkBookState(t, got, expectBook(in.book, docs, embedded, withEmbeddings([]store.BookContent{guide}, "model-c", vectors)))
		}},
		{"ApplyBook stores an embedding a new chunk carries rather than the one stored for its id", func(t *testing.T, s store.Store) {
			in := sampleIngestion(base())
			applyBook(t, s, in)
			next := in
			next.content = withEmbeddings(in.content[:1], "model-z", map[string][]float32{in.content[0].Chunks[0].ID: vector(99)})
			applyBook(t, s, next)
			checkBookState(t, readBook(t, s, in.book.ID), expectBook(in.book, in.docs, in.content, next.content))
		}},
		{"ApplyBook drops the documents missing from docs, with their sections and chunks", func(t *testing.T, s store.Store) {
			in := sampleIngestion(base())
			applyBook(t, s, in)
			kept := []store.BookDocument{in.docs[0], in.docs[2]}
			applyBook(t, s, ingestion{book: in.book, docs: kept})
			checkBookState(t, readBook(t, s, in.book.ID), expectBook(in.book, kept, in.content))

			// Back without content, the document has none: its sections and
			// chunks were deleted, not hidden.
			applyBook(t, s, ingestion{book: in.book, docs: in.docs})
			checkBookState(t, readBook(t, s, in.book.ID),
				expectBook(in.book, in.docs, []store.BookContent{in.content[0], in.content[2]}))
		}},
		{"ApplyBook with reordered documents and no content updates only their metadata", func(t *testing.T, s store.Store) {
			in := sampleIngestion(base())
			applyBook(t, s, in)
			vectors := map[string][]float32{in.content[1].Chunks[0].ID: vector(3), in.content[2].Chunks[2].ID: vector(4)}
			setEmbeddings(t, s, in.book.ID, "model-c", vectors)

			docs := slices.Clone(in.docs)
			docs[0].Ord, docs[2].Ord = 2, 0
			docs[1].Slug, docs[1].Title, docs[1].SidebarLabel = "/moved", "Renamed", "Renamed label"
			docs[1].PageNumber, docs[1].Meta = nil, []byte(`{}`)
			applyBook(t, s, ingestion{book: in.book, docs: docs})
			checkBookState(t, readBook(t, s, in.book.ID),
				expectBook(in.book, docs, withEmbeddings(in.content, "model-c", vectors)))
		}},
		{"ApplyBook gives a chunk whose id moves to another document its stored embedding", func(t *testing.T, s store.Store) {
			in := sampleIngestion(base())
			applyBook(t, s, in)
			id := in.content[0].Chunks[1].ID
			setEmbeddings(t, s, in.book.ID, "model-c", map[string][]float32{id: vector(4)})

			moved := newDocument(in.book.ID, "moved.md", 3)
			content := newContent(moved, 1, 2)
			content.Chunks[1].ID = id
			docs := []store.BookDocument{in.docs[1], in.docs[2], moved} // in.docs[0] is dropped
			applyBook(t, s, ingestion{book: in.book, docs: docs, content: []store.BookContent{content}})
			want := withEmbeddings([]store.BookContent{content}, "model-c", map[string][]float32{id: vector(4)})
			checkBookState(t, readBook(t, s, in.book.ID), expectBook(in.book, docs, in.content, want))
		}},
		{"ApplyBook refuses an ingestion it cannot store and writes nothing", func(t *testing.T, s store.Store) {
			now := base()
			in := sampleIngestion(now)
			applyBook(t, s, in)
			before := readBook(t, s, in.book.ID)
			// broken returns an ingestion of b that, stored, would change
			// every kind of row; each case then breaks it.
			broken := func(b store.Book) ingestion {
				b.Title, b.Hash, b.UpdatedAt = "Changed", "changed", now.Add(time.Hour)
				docs := []store.BookDocument{in.docs[0], in.docs[1]} // in.docs[2] is dropped
				for i := range docs {
					docs[i].BookID = b.ID
				}
				docs[0].Hash, docs[1].Ord = "changed", 5
				content := []store.BookContent{newContent(docs[0], 1, 2)}
				content[0].Sections[0].Text = "Changed."
				return ingestion{book: b, docs: docs, content: content}
			}
			cases := []struct {
				name  string
				spoil func(in *ingestion)
				want  error // nil: any error
			}{
				{"content for a document not among docs", func(in *ingestion) {
					in.content = append(in.content, newContent(newDocument(in.book.ID, "missing.md", 9), 1, 1))
				}, nil},
				{"content for a document given twice", func(in *ingestion) {
					in.content = append(in.content, newContent(in.docs[0], 2, 1))
				}, nil},
				{"a document listed twice", func(in *ingestion) {
					in.docs = append(in.docs, in.docs[0])
				}, nil},
				{"a document of another book", func(in *ingestion) {
					in.docs[1].BookID = randid.New()
				}, nil},
				{"a chunk in the content of another document", func(in *ingestion) {
					in.content[0].Chunks[0].DocPath = in.docs[1].Path
				}, nil},
				{"front matter that is not JSON", func(in *ingestion) {
					in.docs[1].Meta = []byte(`{"unterminated`)
				}, nil},
				{"a chunk id used twice", func(in *ingestion) {
					c := &in.content[0]
					c.Chunks = append(c.Chunks, c.Chunks[0])
				}, store.ErrConflict},
				{"a section order used twice", func(in *ingestion) {
					c := &in.content[0]
					c.Sections = append(c.Sections, c.Sections[0])
				}, store.ErrConflict},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					next := broken(in.book)
					tc.spoil(&next)
					err := s.ApplyBook(t.Context(), next.book, next.docs, next.content)
					wantSomeErr(t, "ApplyBook", err, tc.want)
					checkBookState(t, readBook(t, s, in.book.ID), before)

					fresh := broken(newBook(now))
					tc.spoil(&fresh)
					err = s.ApplyBook(t.Context(), fresh.book, fresh.docs, fresh.content)
					wantSomeErr(t, "ApplyBook of a new book", err, tc.want)
					_, err = s.Book(t.Context(), fresh.book.ID)
					wantErr(t, "Book of the refused new book", err, store.ErrNotFound)
					docs, err := s.BookDocuments(t.Context(), fresh.book.ID)
					wantEmpty(t, "BookDocuments of the refused new book", docs, err)
				})
			}
		}},
		{"Book of a missing id returns ErrNotFound, and a missing book has no documents, sections or chunks", func(t *testing.T, s store.Store) {
			applyBook(t, s, sampleIngestion(base()))
			id := randid.New()
			_, err := s.Book(t.Context(), id)
			wantErr(t, "Book", err, store.ErrNotFound)
			docs, err := s.BookDocuments(t.Context(), id)
			wantEmpty(t, "BookDocuments", docs, err)
			sections, err := s.BookSections(t.Context(), id)
			wantEmpty(t, "BookSections", sections, err)
			chunks, err := s.BookChunks(t.Context(), id)
			wantEmpty(t, "BookChunks", chunks, err)
		}},
		{"SetChunkEmbeddings stores the vectors and model of the named chunks and ignores unknown ids", func(t *testing.T, s store.Store) {
			now := base()
			in := sampleIngestion(now)
			applyBook(t, s, in)
			other := sampleIngestion(now) // the same chunk ids in another book
			applyBook(t, s, other)

			replaced, added := in.content[0].Chunks[0].ID, in.content[2].Chunks[0].ID // had one, had none
			vectors := map[string][]float32{replaced: vector(5), added: extremeVector()}
			withUnknown := map[string][]float32{replaced: vector(5), added: extremeVector(), "no-such-chunk": vector(9)}
			setEmbeddings(t, s, in.book.ID, "model-c", withUnknown)
			want := withEmbeddings(in.content, "model-c", vectors)
			checkBookState(t, readBook(t, s, in.book.ID), expectBook(in.book, in.docs, want))
			checkBookState(t, readBook(t, s, other.book.ID), expectBook(other.book, other.docs, other.content))

			// A nil vector clears the embedding and its model.
			setEmbeddings(t, s, in.book.ID, "model-d", map[string][]float32{replaced: nil})
			want = withEmbeddings(want, "", map[string][]float32{replaced: nil})
			checkBookState(t, readBook(t, s, in.book.ID), expectBook(in.book, in.docs, want))

			setEmbeddings(t, s, in.book.ID, "model-d", nil)
			setEmbeddings(t, s, randid.New(), "model-d", vectors)
			checkBookState(t, readBook(t, s, in.book.ID), expectBook(in.book, in.docs, want))
			checkBookState(t, readBook(t, s, other.book.ID), expectBook(other.book, other.docs, other.content))
		}},
		{"Two books stay separate, even with the same document paths and chunk ids", func(t *testing.T, s store.Store) {
			now := base()
			one, two := sampleIngestion(now), sampleIngestion(now.Add(time.Minute))
			two.book.TOC = nil
			two.content[0].Chunks[0].Embedding = vector(2) // one's is vector(1)
			applyBook(t, s, one)
			applyBook(t, s, two)
			checkBookState(t, readBook(t, s, one.book.ID), expectBook(one.book, one.docs, one.content))
			checkBookState(t, readBook(t, s, two.book.ID), expectBook(two.book, two.docs, two.content))

			docs := slices.Clone(one.docs[:2])
			docs[0].Title = "Changed"
			content := []store.BookContent{newContent(docs[0], 1, 1)}
			applyBook(t, s, ingestion{book: one.book, docs: docs, content: content})
			vectors := map[string][]float32{one.content[1].Chunks[0].ID: vector(3)}
			setEmbeddings(t, s, one.book.ID, "model-c", vectors)

			// The intro's first chunk keeps book one's embedding.
			content = withEmbeddings(content, "model-a", map[string][]float32{content[0].Chunks[0].ID: vector(1)})
			checkBookState(t, readBook(t, s, one.book.ID),
				expectBook(one.book, docs, withEmbeddings(one.content, "model-c", vectors), content))
			checkBookState(t, readBook(t, s, two.book.ID), expectBook(two.book, two.docs, two.content))
		}},
	}
}

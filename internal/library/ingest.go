package library

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/lectern/lectern/internal/book"
	"github.com/lectern/lectern/internal/store"
)

// Source is where a book is read from: a path (a folder or an .epub file),
// or a folder in an fs.FS (the bundled demo book) with its name.
type Source struct {
	Path string
	FS   fs.FS
	Name string
}

func (s Source) String() string {
	if s.FS != nil {
		return "embedded:" + s.Name
	}
	return s.Path
}

// IngestOptions tunes one ingestion.
type IngestOptions struct {
	// Title overrides the book's title.
	Title string
	// Locale serves a Docusaurus site's translation into that locale
	// (book.Options.Locale).
	Locale string
	// Progress reports rendering progress (documents done of total) and,
	// when an embedder is configured, embedding progress (stage "embed").
	Progress func(stage string, done, total int)
	// Force rewrites every document even when nothing changed.
	Force bool
	// Strict refuses a book with problems (book.Book.Problems), writing
	// nothing, instead of reporting them in the Summary.
	Strict bool
}

// ErrProblems is returned, wrapped with the list, by a strict ingestion
// of a book with problems.
var ErrProblems = errors.New("library: the book has problems")

// Summary describes an ingestion.
type Summary struct {
	Title     string
	Documents int
	Sections  int
	Chunks    int
	Words     int
	// Changed documents got new sections and chunks; Removed ones were
	// deleted; the rest were unchanged. Skipped is true when the book was
	// unchanged and nothing was written.
	Changed, Removed int
	Skipped          bool
	Embedded         int // chunks whose vectors were computed
	Elapsed          time.Duration
	// Problems are what a reader would find broken (links to documents the
	// book does not have), to fix in the source.
	Problems []book.Problem
}

// Ingest reads the book from src and writes what changed to the store: a
// document whose source changed gets new sections and chunks, the others
// keep theirs (and their embeddings), documents gone from the source are
// removed. Then the new book replaces the one being served. A book that did
// not change at all is not written (Summary.Skipped).
func (l *Library) Ingest(ctx context.Context, src Source, opt IngestOptions) (Summary, error) {
	l.ingestMu.Lock()
	defer l.ingestMu.Unlock()
	start := time.Now()
	bopt := book.Options{Title: opt.Title, Locale: opt.Locale, Scripts: l.opt.Scripts}
	if opt.Progress != nil {
		bopt.Progress = func(done, total int) { opt.Progress("read", done, total) }
	}
	var b *book.Book
	var err error
	if src.FS != nil {
		b, err = book.LoadFS(src.FS, src.Name, bopt)
	} else {
		b, err = book.Load(src.Path, bopt)
	}
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Title: b.Title, Documents: len(b.Docs), Problems: b.Problems}
	if opt.Strict && len(b.Problems) > 0 {
		list := make([]string, len(b.Problems))
		for i, p := range b.Problems {
			list[i] = p.String()
		}
		return sum, fmt.Errorf("%w:\n  %s", ErrProblems, strings.Join(list, "\n  "))
	}
	for _, d := range b.Docs {
		sum.Sections += len(d.Sections)
		sum.Words += d.Words
	}

	old, err := l.st.Book(ctx, l.opt.BookID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return sum, fmt.Errorf("library: %w", err)
	case old.Hash == b.Hash && !opt.Force:
		sum.Skipped = true
	}
	if sum.Skipped {
		for _, d := range b.Docs {
			sum.Chunks += len(d.Chunks(l.opt.BookID))
		}
	} else if err := l.write(ctx, b, src, opt.Force, &sum); err != nil {
		return sum, err
	}
	if sum.Embedded, err = l.embedMissing(ctx, opt.Progress); err != nil {
		return sum, err
	}
	if err := l.Load(ctx); err != nil {
		return sum, err
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// embedBatch is how many chunks are embedded and stored at a time.
const embedBatch = 128

// embedMissing computes the vectors of chunks that have none from the
// configured model, and stores them.
func (l *Library) embedMissing(ctx context.Context, progress func(string, int, int)) (int, error) {
	if l.opt.Embedder == nil {
		return 0, nil
	}
	chunks, err := l.st.BookChunks(ctx, l.opt.BookID)
	if err != nil {
		return 0, fmt.Errorf("library: %w", err)
	}
	var todo []store.BookChunk
	for _, c := range chunks {
		if c.EmbeddingModel != l.opt.EmbeddingModel || len(c.Embedding) == 0 {
			todo = append(todo, c)
		}
	}
	for i := 0; i < len(todo); i += embedBatch {
		batch := todo[i:min(i+embedBatch, len(todo))]
		texts := make([]string, len(batch))
		for j, c := range batch {
			texts[j] = c.Heading + "\n\n" + c.Text
		}
		vecs, err := l.opt.Embedder.Embed(ctx, texts)
		if err != nil {
			return i, fmt.Errorf("library: embeddings: %w", err)
		}
		m := make(map[string][]float32, len(batch))
		for j, c := range batch {
			m[c.ID] = vecs[j]
		}
		if err := l.st.SetChunkEmbeddings(ctx, l.opt.BookID, l.opt.EmbeddingModel, m); err != nil {
			return i, fmt.Errorf("library: store embeddings: %w", err)
		}
		if progress != nil {
			progress("embed", i+len(batch), len(todo))
		}
	}
	return len(todo), nil
}

// write stores a book that changed: every document's row, and new sections
// and chunks for the documents whose source changed (all of them with
// force); it counts chunks, changed and removed documents into sum.
func (l *Library) write(ctx context.Context, b *book.Book, src Source, force bool, sum *Summary) error {
	storedDocs, err := l.st.BookDocuments(ctx, l.opt.BookID)
	if err != nil {
		return fmt.Errorf("library: %w", err)
	}
	stored := make(map[string]string, len(storedDocs))
	for _, d := range storedDocs {
		stored[d.Path] = d.Hash
	}
	now := time.Now().UTC()
	toc, err := json.Marshal(b.TOC)
	if err != nil {
		return fmt.Errorf("library: table of contents: %w", err)
	}
	rec := store.Book{ID: l.opt.BookID, Title: b.Title, Format: b.Format, Source: src.String(), Hash: b.Hash, TOC: toc,
		Language: b.Language, CreatedAt: now, UpdatedAt: now, Assets: make([]store.BookAsset, len(b.Assets))}
	for i, a := range b.Assets {
		rec.Assets[i] = store.BookAsset{Name: a.Name, Type: a.Type, Data: a.Data}
	}
	docs := make([]store.BookDocument, len(b.Docs))
	var content []store.BookContent
	for i, d := range b.Docs {
		meta, err := json.Marshal(d.Meta)
		if err != nil {
			return &book.Error{File: d.Path, Err: fmt.Errorf("front matter: %w", err)}
		}
		docs[i] = store.BookDocument{BookID: l.opt.BookID, Path: d.Path, Ord: i, Slug: d.Slug, Title: d.Title,
			SidebarLabel: d.SidebarLabel, Description: d.Description, Chapter: d.Chapter, ChapterNumber: d.ChapterNumber,
			PageNumber: d.PageNumber, Meta: meta, HTML: d.HTML, Words: d.Words, Hash: d.Hash}
		chunks := d.Chunks(l.opt.BookID)
		sum.Chunks += len(chunks)
		h, ok := stored[d.Path]
		delete(stored, d.Path)
		if ok && h == d.Hash && !force {
			continue
		}
		c := store.BookContent{DocPath: d.Path}
		for _, s := range d.Sections {
			c.Sections = append(c.Sections, store.BookSection{DocPath: d.Path, Ord: s.Ord, Anchor: s.Anchor,
				Heading: s.Heading, Path: s.Path, Level: s.Level, Text: s.Text})
		}
		for _, ch := range chunks {
			c.Chunks = append(c.Chunks, store.BookChunk{ID: ch.ID, DocPath: d.Path, SectionOrd: ch.SectionOrd, Ord: ch.Ord,
				Heading: ch.Heading, Text: ch.Text, Words: ch.Words})
		}
		content = append(content, c)
	}
	sum.Removed = len(stored) // what is left was not in the book
	sum.Changed = len(content)
	if err := l.st.ApplyBook(ctx, rec, docs, content); err != nil {
		return fmt.Errorf("library: store the book: %w", err)
	}
	return nil
}

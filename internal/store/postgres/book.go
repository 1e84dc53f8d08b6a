package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/lectern/lectern/internal/store"
)

// ApplyBook sends everything up to the new sections and chunks as one batch
// in its transaction, and those by COPY, so an ingestion costs a few round
// trips however many documents and chunks it holds.

const (
	bookColumns         = `id, title, format, source, hash, toc, created_at, updated_at, language`
	bookDocumentColumns = `book_id, path, ord, slug, title, sidebar_label, description, chapter,
		chapter_number, page_number, meta, html, words, hash`
)

// The columns ApplyBook copies sections and chunks into.
var (
	bookSectionCopyColumns = []string{"book_id", "doc_path", "ord", "anchor", "heading", "heading_path", "level", "text"}
	bookChunkCopyColumns   = []string{"book_id", "id", "doc_path", "section_ord", "ord", "heading", "text", "words",
		"embedding", "embedding_model"}
)

// upsertBook inserts or updates a book row, keeping created_at on update.
const upsertBook = `INSERT INTO books (` + bookColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
	ON CONFLICT (id) DO UPDATE SET
		title = excluded.title, format = excluded.format, source = excluded.source,
		hash = excluded.hash, toc = excluded.toc, updated_at = excluded.updated_at, language = excluded.language`

// upsertBookDocument inserts or updates a document row.
const upsertBookDocument = `INSERT INTO book_documents (` + bookDocumentColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
	ON CONFLICT (book_id, path) DO UPDATE SET
		ord = excluded.ord, slug = excluded.slug, title = excluded.title,
		sidebar_label = excluded.sidebar_label, description = excluded.description,
		chapter = excluded.chapter, chapter_number = excluded.chapter_number,
		page_number = excluded.page_number, meta = excluded.meta, html = excluded.html,
		words = excluded.words, hash = excluded.hash`

// storedEmbedding is a chunk's embedding as stored, kept across the
// replacement of its document's chunks.
type storedEmbedding struct {
	vector []byte
	model  string
}

// ApplyBook writes one ingestion of book b in one transaction: the book row
// (created_at kept on update), every document of docs, the removal of the
// book's other documents with their sections and chunks, and, for each entry
// of content, the replacement of that document's sections and chunks.
//
// A new chunk that carries no embedding gets the one stored for its id, if
// any, whichever document that chunk belonged to; one that carries an
// embedding is stored with it. An ingestion that breaks the contract (see
// store.CheckApplyBook) is refused before anything is written; a chunk id or section
// order used twice yields store.ErrConflict and writes nothing either.
func (s *Store) ApplyBook(ctx context.Context, b store.Book, docs []store.BookDocument, content []store.BookContent) error {
	if err := store.CheckApplyBook(b, docs, content); err != nil {
		return fmt.Errorf("postgres: apply book: %w", err)
	}
	paths := make([]string, len(docs))
	for i, d := range docs {
		paths[i] = d.Path
	}
	changed := make([]string, len(content))
	var bare []string // ids of new chunks that carry no embedding
	for i, c := range content {
		changed[i] = c.DocPath
		for _, x := range c.Chunks {
			if len(x.Embedding) == 0 {
				bare = append(bare, x.ID)
			}
		}
	}

	kept := map[string]storedEmbedding{}
	batch := &pgx.Batch{}
	batch.Queue(upsertBook, b.ID, b.Title, b.Format, b.Source, b.Hash, jsonToDB(b.TOC), b.CreatedAt, b.UpdatedAt, b.Language)
	if len(bare) > 0 {
		// Queued before the deletes, so that a chunk keeps its embedding even
		// if its old document is dropped in this ingestion.
		batch.Queue(`SELECT id, embedding, embedding_model FROM book_chunks
			WHERE book_id = $1 AND id = ANY($2) AND embedding IS NOT NULL`, b.ID, bare).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var id string
					var e storedEmbedding
					if err := rows.Scan(&id, &e.vector, &e.model); err != nil {
						return err
					}
					kept[id] = e
				}
				return rows.Err()
			})
	}
	names := make([]string, len(b.Assets))
	for i, a := range b.Assets {
		names[i] = a.Name
	}
	batch.Queue(`DELETE FROM book_assets WHERE book_id = $1 AND name <> ALL($2::text[])`, b.ID, names)
	for _, a := range b.Assets {
		batch.Queue(`INSERT INTO book_assets (book_id, name, type, data) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			b.ID, a.Name, a.Type, a.Data)
	}
	batch.Queue(`DELETE FROM book_documents WHERE book_id = $1 AND path <> ALL($2::text[])`, b.ID, paths)
	for _, d := range docs {
		batch.Queue(upsertBookDocument, b.ID, d.Path, d.Ord, d.Slug, d.Title, d.SidebarLabel, d.Description,
			d.Chapter, d.ChapterNumber, d.PageNumber, jsonToDB(d.Meta), d.HTML, d.Words, d.Hash)
	}
	if len(content) > 0 {
		batch.Queue(`DELETE FROM book_chunks WHERE book_id = $1 AND doc_path = ANY($2)`, b.ID, changed)
		batch.Queue(`DELETE FROM book_sections WHERE book_id = $1 AND doc_path = ANY($2)`, b.ID, changed)
	}

	op := "apply book"
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		if len(content) == 0 {
			return nil
		}
		sections, chunks, err := bookContentRows(b.ID, content, kept)
		if err != nil {
			return err
		}
		op = "apply book: sections"
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"book_sections"}, bookSectionCopyColumns, pgx.CopyFromRows(sections)); err != nil {
			return err
		}
		op = "apply book: chunks"
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"book_chunks"}, bookChunkCopyColumns, pgx.CopyFromRows(chunks)); err != nil {
			return err
		}
		op = "apply book"
		return nil
	})
	if err != nil {
		return wrap(op, err)
	}
	return nil
}

// bookContentRows returns the rows to copy into book_sections and
// book_chunks for content. A chunk without an embedding gets its kept one, if
// any.
func bookContentRows(bookID string, content []store.BookContent, kept map[string]storedEmbedding) (sections, chunks [][]any, err error) {
	for _, c := range content {
		for _, x := range c.Sections {
			path, err := json.Marshal(nonNil(x.Path))
			if err != nil {
				return nil, nil, err
			}
			sections = append(sections, []any{bookID, c.DocPath, x.Ord, x.Anchor, x.Heading, path, x.Level, x.Text})
		}
		for _, x := range c.Chunks {
			vector, model := store.EncodeVector(x.Embedding), x.EmbeddingModel
			if vector == nil {
				model = ""
				if e, ok := kept[x.ID]; ok {
					vector, model = e.vector, e.model
				}
			}
			chunks = append(chunks, []any{bookID, x.ID, c.DocPath, x.SectionOrd, x.Ord, x.Heading, x.Text, x.Words,
				vector, model})
		}
	}
	return sections, chunks, nil
}

// nonNil returns xs, or an empty slice for nil, so that it encodes as a JSON
// array.
func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// Book returns the book with this id; store.ErrNotFound if there is none.
func (s *Store) Book(ctx context.Context, id string) (store.Book, error) {
	var b store.Book
	if err := s.pool.QueryRow(ctx, `SELECT `+bookColumns+` FROM books WHERE id = $1`, id).
		Scan(&b.ID, &b.Title, &b.Format, &b.Source, &b.Hash, &b.TOC, &b.CreatedAt, &b.UpdatedAt, &b.Language); err != nil {
		return store.Book{}, wrap("book", err)
	}
	b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	return b, nil
}

// BookAsset returns one asset of the book.
func (s *Store) BookAsset(ctx context.Context, bookID, name string) (store.BookAsset, error) {
	a := store.BookAsset{Name: name}
	if err := s.pool.QueryRow(ctx, `SELECT type, data FROM book_assets WHERE book_id = $1 AND name = $2`, bookID, name).
		Scan(&a.Type, &a.Data); err != nil {
		return store.BookAsset{}, wrap("book asset", err)
	}
	return a, nil
}

// BookDocuments returns the book's documents by ord, then path (byte order).
// A book without documents, or no book, yields an empty, non-nil slice.
func (s *Store) BookDocuments(ctx context.Context, bookID string) ([]store.BookDocument, error) {
	return queryAll(ctx, s, "book documents",
		`SELECT `+bookDocumentColumns+` FROM book_documents WHERE book_id = $1 ORDER BY ord, path`,
		[]any{bookID},
		func(row pgx.Row) (store.BookDocument, error) {
			var d store.BookDocument
			err := row.Scan(&d.BookID, &d.Path, &d.Ord, &d.Slug, &d.Title, &d.SidebarLabel, &d.Description,
				&d.Chapter, &d.ChapterNumber, &d.PageNumber, &d.Meta, &d.HTML, &d.Words, &d.Hash)
			return d, err
		})
}

// BookSections returns the book's sections by document order (ord, then
// path), then section order. A book without sections yields an empty,
// non-nil slice.
func (s *Store) BookSections(ctx context.Context, bookID string) ([]store.BookSection, error) {
	return queryAll(ctx, s, "book sections",
		`SELECT s.doc_path, s.ord, s.anchor, s.heading, s.heading_path, s.level, s.text
		 FROM book_sections s
		 JOIN book_documents d ON d.book_id = s.book_id AND d.path = s.doc_path
		 WHERE s.book_id = $1
		 ORDER BY d.ord, d.path, s.ord`,
		[]any{bookID},
		func(row pgx.Row) (store.BookSection, error) {
			var x store.BookSection
			var path []byte
			if err := row.Scan(&x.DocPath, &x.Ord, &x.Anchor, &x.Heading, &path, &x.Level, &x.Text); err != nil {
				return x, err
			}
			if err := json.Unmarshal(path, &x.Path); err != nil {
				return x, fmt.Errorf("heading path of section %d of %q: %w", x.Ord, x.DocPath, err)
			}
			return x, nil
		})
}

// BookChunks returns the book's chunks, with their embeddings, by document
// order (ord, then path), section order, chunk order, then id. A book
// without chunks yields an empty, non-nil slice.
func (s *Store) BookChunks(ctx context.Context, bookID string) ([]store.BookChunk, error) {
	return queryAll(ctx, s, "book chunks",
		`SELECT c.id, c.doc_path, c.section_ord, c.ord, c.heading, c.text, c.words, c.embedding, c.embedding_model
		 FROM book_chunks c
		 JOIN book_documents d ON d.book_id = c.book_id AND d.path = c.doc_path
		 WHERE c.book_id = $1
		 ORDER BY d.ord, d.path, c.section_ord, c.ord, c.id`,
		[]any{bookID},
		func(row pgx.Row) (store.BookChunk, error) {
			var x store.BookChunk
			var vector []byte
			if err := row.Scan(&x.ID, &x.DocPath, &x.SectionOrd, &x.Ord, &x.Heading, &x.Text, &x.Words,
				&vector, &x.EmbeddingModel); err != nil {
				return x, err
			}
			var err error
			if x.Embedding, err = store.DecodeVector(vector); err != nil {
				return x, fmt.Errorf("chunk %q: %w", x.ID, err)
			}
			return x, nil
		})
}

// queryAll runs a query and returns every row as scan reads it; no row is an
// empty, non-nil slice.
func queryAll[T any](ctx context.Context, s *Store, op, query string, args []any, scan func(pgx.Row) (T, error)) ([]T, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// SetChunkEmbeddings stores each vector (by chunk id) with model as the
// embedding of that chunk of the book, in one statement. Ids of no chunk of
// the book are ignored; a nil or empty vector clears the chunk's embedding
// and model.
func (s *Store) SetChunkEmbeddings(ctx context.Context, bookID, model string, vectors map[string][]float32) error {
	if len(vectors) == 0 {
		return nil
	}
	ids := make([]string, 0, len(vectors))
	encoded := make([][]byte, 0, len(vectors))
	for id, v := range vectors {
		ids = append(ids, id)
		encoded = append(encoded, store.EncodeVector(v))
	}
	if _, err := s.pool.Exec(ctx,
		`UPDATE book_chunks c
		 SET embedding = v.embedding, embedding_model = CASE WHEN v.embedding IS NULL THEN '' ELSE $2 END
		 FROM unnest($3::text[], $4::bytea[]) AS v (id, embedding)
		 WHERE c.book_id = $1 AND c.id = v.id`,
		bookID, model, ids, encoded); err != nil {
		return wrap("set chunk embeddings", err)
	}
	return nil
}

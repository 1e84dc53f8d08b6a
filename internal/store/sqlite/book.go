package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/lectern/lectern/internal/store"
)

// A book is written by ApplyBook alone, in one write transaction, and read
// through the read pool. Lists of paths and ids travel as one JSON array
// parameter, expanded in SQL by json_each, so a statement's text does not
// depend on the length of the list.

const (
	bookColumns         = `id, title, format, source, hash, toc, created_at, updated_at, language`
	bookDocumentColumns = `book_id, path, ord, slug, title, sidebar_label, description, chapter,
		chapter_number, page_number, meta, html, words, hash`
	bookSectionColumns = `book_id, doc_path, ord, anchor, heading, heading_path, level, text`
	bookChunkColumns   = `book_id, id, doc_path, section_ord, ord, heading, text, words, embedding, embedding_model`
)

// upsertBook inserts or updates a book row, keeping created_at on update.
const upsertBook = `INSERT INTO books (` + bookColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET
		title = excluded.title, format = excluded.format, source = excluded.source,
		hash = excluded.hash, toc = excluded.toc, updated_at = excluded.updated_at, language = excluded.language`

// upsertBookDocument inserts or updates a document row.
const upsertBookDocument = `INSERT INTO book_documents (` + bookDocumentColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (book_id, path) DO UPDATE SET
		ord = excluded.ord, slug = excluded.slug, title = excluded.title,
		sidebar_label = excluded.sidebar_label, description = excluded.description,
		chapter = excluded.chapter, chapter_number = excluded.chapter_number,
		page_number = excluded.page_number, meta = excluded.meta, html = excluded.html,
		words = excluded.words, hash = excluded.hash`

// vectorToDB is an embedding's stored form, or NULL when there is none.
func vectorToDB(v []float32) any {
	if b := store.EncodeVector(v); b != nil {
		return b
	}
	return nil
}

// jsonList encodes strings as the JSON array json_each expands.
func jsonList(xs []string) string {
	if len(xs) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(xs) // strings always marshal
	return string(b)
}

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
		return fmt.Errorf("sqlite: apply book: %w", err)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("apply book", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, upsertBook,
		b.ID, b.Title, b.Format, b.Source, b.Hash, jsonToDB(b.TOC), toDB(b.CreatedAt), toDB(b.UpdatedAt), b.Language); err != nil {
		return wrap("apply book", err)
	}
	// Read before anything is deleted, so that a chunk keeps its embedding
	// even if its old document is dropped in this ingestion.
	kept, err := storedEmbeddings(ctx, tx, b.ID, content)
	if err != nil {
		return wrap("apply book: read embeddings", err)
	}
	if err := writeBookDocuments(ctx, tx, b.ID, docs); err != nil {
		return wrap("apply book: documents", err)
	}
	if err := writeBookAssets(ctx, tx, b.ID, b.Assets); err != nil {
		return wrap("apply book: assets", err)
	}
	if err := replaceBookContent(ctx, tx, b.ID, content, kept); err != nil {
		return wrap("apply book: content", err)
	}
	if err := tx.Commit(); err != nil {
		return wrap("apply book", err)
	}
	return nil
}

// storedEmbeddings returns the stored embeddings of the chunks of content
// that carry none, by chunk id.
func storedEmbeddings(ctx context.Context, tx *sql.Tx, bookID string, content []store.BookContent) (map[string]storedEmbedding, error) {
	var ids []string
	for _, c := range content {
		for _, x := range c.Chunks {
			if len(x.Embedding) == 0 {
				ids = append(ids, x.ID)
			}
		}
	}
	kept := map[string]storedEmbedding{}
	if len(ids) == 0 {
		return kept, nil
	}
	rows, err := tx.QueryContext(ctx,
		`SELECT id, embedding, embedding_model FROM book_chunks
		 WHERE book_id = ? AND id IN (SELECT value FROM json_each(?)) AND embedding IS NOT NULL`,
		bookID, jsonList(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var e storedEmbedding
		if err := rows.Scan(&id, &e.vector, &e.model); err != nil {
			return nil, err
		}
		kept[id] = e
	}
	return kept, rows.Err()
}

// writeBookAssets makes the book's stored assets exactly assets: the
// others are deleted, the new ones inserted.
func writeBookAssets(ctx context.Context, tx *sql.Tx, bookID string, assets []store.BookAsset) error {
	names := make([]string, len(assets))
	for i, a := range assets {
		names[i] = a.Name
	}
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM book_assets WHERE book_id = ? AND name NOT IN (SELECT value FROM json_each(?))`,
		bookID, jsonList(names)); err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO book_assets (book_id, name, type, data) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, a := range assets {
		if _, err := stmt.ExecContext(ctx, bookID, a.Name, a.Type, a.Data); err != nil {
			return err
		}
	}
	return nil
}

// writeBookDocuments deletes the book's documents that are not among docs
// (their sections and chunks go by cascade) and upserts every one of docs.
func writeBookDocuments(ctx context.Context, tx *sql.Tx, bookID string, docs []store.BookDocument) error {
	paths := make([]string, len(docs))
	for i, d := range docs {
		paths[i] = d.Path
	}
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM book_documents WHERE book_id = ? AND path NOT IN (SELECT value FROM json_each(?))`,
		bookID, jsonList(paths)); err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, upsertBookDocument)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, d := range docs {
		if _, err := stmt.ExecContext(ctx, bookID, d.Path, d.Ord, d.Slug, d.Title, d.SidebarLabel, d.Description,
			d.Chapter, d.ChapterNumber, d.PageNumber, jsonToDB(d.Meta), d.HTML, d.Words, d.Hash); err != nil {
			return fmt.Errorf("document %q: %w", d.Path, err)
		}
	}
	return nil
}

// replaceBookContent deletes the sections and chunks of the documents named
// in content and inserts theirs instead. A chunk without an embedding gets
// its kept one, if any.
func replaceBookContent(ctx context.Context, tx *sql.Tx, bookID string, content []store.BookContent, kept map[string]storedEmbedding) error {
	if len(content) == 0 {
		return nil
	}
	paths := make([]string, len(content))
	for i, c := range content {
		paths[i] = c.DocPath
	}
	list := jsonList(paths)
	for _, table := range []string{"book_chunks", "book_sections"} {
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM `+table+` WHERE book_id = ? AND doc_path IN (SELECT value FROM json_each(?))`,
			bookID, list); err != nil {
			return err
		}
	}

	sections, err := tx.PrepareContext(ctx,
		`INSERT INTO book_sections (`+bookSectionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer sections.Close()
	chunks, err := tx.PrepareContext(ctx,
		`INSERT INTO book_chunks (`+bookChunkColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer chunks.Close()

	for _, c := range content {
		for _, x := range c.Sections {
			path, err := json.Marshal(nonNil(x.Path))
			if err != nil {
				return err
			}
			if _, err := sections.ExecContext(ctx, bookID, c.DocPath, x.Ord, x.Anchor, x.Heading, string(path),
				x.Level, x.Text); err != nil {
				return fmt.Errorf("section %d of %q: %w", x.Ord, c.DocPath, err)
			}
		}
		for _, x := range c.Chunks {
			vector, model := vectorToDB(x.Embedding), x.EmbeddingModel
			if vector == nil {
				model = ""
				if e, ok := kept[x.ID]; ok {
					vector, model = e.vector, e.model
				}
			}
			if _, err := chunks.ExecContext(ctx, bookID, x.ID, c.DocPath, x.SectionOrd, x.Ord, x.Heading, x.Text,
				x.Words, vector, model); err != nil {
				return fmt.Errorf("chunk %q of %q: %w", x.ID, c.DocPath, err)
			}
		}
	}
	return nil
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
	var created, updated int64
	if err := s.read.QueryRowContext(ctx, `SELECT `+bookColumns+` FROM books WHERE id = ?`, id).
		Scan(&b.ID, &b.Title, &b.Format, &b.Source, &b.Hash, &b.TOC, &created, &updated, &b.Language); err != nil {
		return store.Book{}, wrap("book", err)
	}
	b.CreatedAt, b.UpdatedAt = fromDB(created), fromDB(updated)
	return b, nil
}

// BookAsset returns one asset of the book.
func (s *Store) BookAsset(ctx context.Context, bookID, name string) (store.BookAsset, error) {
	a := store.BookAsset{Name: name}
	if err := s.read.QueryRowContext(ctx, `SELECT type, data FROM book_assets WHERE book_id = ? AND name = ?`, bookID, name).
		Scan(&a.Type, &a.Data); err != nil {
		return store.BookAsset{}, wrap("book asset", err)
	}
	return a, nil
}

// BookDocuments returns the book's documents by ord, then path (byte order).
// A book without documents, or no book, yields an empty, non-nil slice.
func (s *Store) BookDocuments(ctx context.Context, bookID string) ([]store.BookDocument, error) {
	return queryAll(ctx, s.read, "book documents",
		`SELECT `+bookDocumentColumns+` FROM book_documents WHERE book_id = ? ORDER BY ord, path`,
		[]any{bookID},
		func(row scanner) (store.BookDocument, error) {
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
	return queryAll(ctx, s.read, "book sections",
		`SELECT s.doc_path, s.ord, s.anchor, s.heading, s.heading_path, s.level, s.text
		 FROM book_sections s
		 JOIN book_documents d ON d.book_id = s.book_id AND d.path = s.doc_path
		 WHERE s.book_id = ?
		 ORDER BY d.ord, d.path, s.ord`,
		[]any{bookID},
		func(row scanner) (store.BookSection, error) {
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
	return queryAll(ctx, s.read, "book chunks",
		`SELECT c.id, c.doc_path, c.section_ord, c.ord, c.heading, c.text, c.words, c.embedding, c.embedding_model
		 FROM book_chunks c
		 JOIN book_documents d ON d.book_id = c.book_id AND d.path = c.doc_path
		 WHERE c.book_id = ?
		 ORDER BY d.ord, d.path, c.section_ord, c.ord, c.id`,
		[]any{bookID},
		func(row scanner) (store.BookChunk, error) {
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

// queryAll runs a query on db and returns every row as scan reads it; no row
// is an empty, non-nil slice.
func queryAll[T any](ctx context.Context, db *sql.DB, op, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
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
// embedding of that chunk of the book, in one transaction. Ids of no chunk
// of the book are ignored; a nil or empty vector clears the chunk's
// embedding and model.
func (s *Store) SetChunkEmbeddings(ctx context.Context, bookID, model string, vectors map[string][]float32) error {
	if len(vectors) == 0 {
		return nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("set chunk embeddings", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx,
		`UPDATE book_chunks SET embedding = ?, embedding_model = ? WHERE book_id = ? AND id = ?`)
	if err != nil {
		return wrap("set chunk embeddings", err)
	}
	defer stmt.Close()
	for id, v := range vectors {
		vector, m := vectorToDB(v), model
		if vector == nil {
			m = ""
		}
		if _, err := stmt.ExecContext(ctx, vector, m, bookID, id); err != nil {
			return wrap("set chunk embeddings", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return wrap("set chunk embeddings", err)
	}
	return nil
}

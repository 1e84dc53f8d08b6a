-- 0003_book: the books readers read and ask about: each book's metadata, its
-- documents (pages) with their HTML, the sections under each heading, and
-- the chunks retrieval indexes, with their embeddings.
--
-- Every row carries its book's id, so several books can live side by side.
-- An ingestion rewrites a book in one transaction: document rows are upserted,
-- and only changed documents get new sections and chunks (a chunk whose id
-- survives keeps its embedding). Deleting a document deletes its sections and
-- chunks; deleting a book deletes everything of it.

CREATE TABLE books (
    id         TEXT    NOT NULL PRIMARY KEY,
    title      TEXT    NOT NULL,
    -- "docusaurus", "markdown" or "epub".
    format     TEXT    NOT NULL,
    -- The path the book was ingested from.
    source     TEXT    NOT NULL,
    -- Changes whenever anything a reader could see changes.
    hash       TEXT    NOT NULL,
    -- The table of contents, JSON; NULL when there is none.
    toc        TEXT    CHECK (toc IS NULL OR json_valid(toc)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE book_documents (
    book_id        TEXT    NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    -- Relative to the book root, with forward slashes.
    path           TEXT    NOT NULL,
    -- Reading order, from 0.
    ord            INTEGER NOT NULL,
    slug           TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    sidebar_label  TEXT    NOT NULL,
    description    TEXT    NOT NULL,
    chapter        TEXT    NOT NULL,
    -- 0 when the document is in no chapter.
    chapter_number INTEGER NOT NULL,
    -- NULL when the source has no page numbers.
    page_number    INTEGER,
    -- The front matter, a JSON object; NULL when there is none.
    meta           TEXT    CHECK (meta IS NULL OR json_valid(meta)),
    html           TEXT    NOT NULL,
    words          INTEGER NOT NULL,
    -- Of the source: a changed hash means new sections and chunks.
    hash           TEXT    NOT NULL,
    PRIMARY KEY (book_id, path)
) STRICT;

-- Pages are served by slug. Not unique: the loader decides which document a
-- slug names, and a reordering ingestion updates the rows one at a time.
CREATE INDEX book_documents_book_id_slug_idx ON book_documents (book_id, slug);

-- The documents in reading order (not unique either, for the same reason).
CREATE INDEX book_documents_book_id_ord_idx ON book_documents (book_id, ord);

CREATE TABLE book_sections (
    book_id      TEXT    NOT NULL,
    doc_path     TEXT    NOT NULL,
    -- Order within the document, from 0.
    ord          INTEGER NOT NULL,
    -- The heading's id in the page; '' for the lead section.
    anchor       TEXT    NOT NULL,
    heading      TEXT    NOT NULL,
    -- The heading path, a JSON array of strings, the document title first.
    heading_path TEXT    NOT NULL CHECK (json_valid(heading_path) AND json_type(heading_path) = 'array'),
    level        INTEGER NOT NULL,
    text         TEXT    NOT NULL,
    -- Also the index for the cascade from book_documents.
    PRIMARY KEY (book_id, doc_path, ord),
    FOREIGN KEY (book_id, doc_path) REFERENCES book_documents (book_id, path) ON DELETE CASCADE
) STRICT;

CREATE TABLE book_chunks (
    book_id         TEXT    NOT NULL,
    -- Deterministic: the same text in the same place keeps its id, and so
    -- its embedding, across ingestions.
    id              TEXT    NOT NULL,
    doc_path        TEXT    NOT NULL,
    section_ord     INTEGER NOT NULL,
    -- Order within the section, from 0.
    ord             INTEGER NOT NULL,
    -- "Title > Heading > Subheading".
    heading         TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    words           INTEGER NOT NULL,
    -- The dense vector as little-endian IEEE 754 float32s, the encoding
    -- PostgreSQL's bytea column uses too; NULL until one is computed.
    embedding       BLOB    CHECK (embedding IS NULL OR (length(embedding) > 0 AND length(embedding) % 4 = 0)),
    -- The model that computed embedding; '' when there is none.
    embedding_model TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (book_id, id),
    FOREIGN KEY (book_id, doc_path) REFERENCES book_documents (book_id, path) ON DELETE CASCADE
) STRICT;

-- A document's chunks, for replacing them and for the cascade.
CREATE INDEX book_chunks_book_id_doc_path_idx ON book_chunks (book_id, doc_path);

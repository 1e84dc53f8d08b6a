-- 0003_book: the books readers read and ask about: each book's metadata, its
-- documents (pages) with their HTML, the sections under each heading, and
-- the chunks retrieval indexes, with their embeddings.
--
-- Every row carries its book's id, so several books can live side by side.
-- An ingestion rewrites a book in one transaction: document rows are upserted,
-- and only changed documents get new sections and chunks (a chunk whose id
-- survives keeps its embedding). Deleting a document deletes its sections and
-- chunks; deleting a book deletes everything of it.
--
-- Document paths and chunk ids are COLLATE "C": reads order by them among
-- equal positions, and byte order is the same on every server and in SQLite.

CREATE TABLE books (
    id         text        PRIMARY KEY,
    title      text        NOT NULL,
    -- "docusaurus", "markdown" or "epub".
    format     text        NOT NULL,
    -- The path the book was ingested from.
    source     text        NOT NULL,
    -- Changes whenever anything a reader could see changes.
    hash       text        NOT NULL,
    -- The table of contents; NULL when there is none.
    toc        jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE book_documents (
    book_id        text             NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    -- Relative to the book root, with forward slashes.
    path           text COLLATE "C" NOT NULL,
    -- Reading order, from 0.
    ord            integer          NOT NULL,
    slug           text             NOT NULL,
    title          text             NOT NULL,
    sidebar_label  text             NOT NULL,
    description    text             NOT NULL,
    chapter        text             NOT NULL,
    -- 0 when the document is in no chapter.
    chapter_number integer          NOT NULL,
    -- NULL when the source has no page numbers.
    page_number    integer,
    -- The front matter, a JSON object; NULL when there is none.
    meta           jsonb,
    html           text             NOT NULL,
    words          integer          NOT NULL,
    -- Of the source: a changed hash means new sections and chunks.
    hash           text             NOT NULL,
    PRIMARY KEY (book_id, path)
);

-- Pages are served by slug. Not unique: the loader decides which document a
-- slug names, and a reordering ingestion updates the rows one at a time.
CREATE INDEX book_documents_book_id_slug_idx ON book_documents (book_id, slug);

-- The documents in reading order (not unique either, for the same reason).
CREATE INDEX book_documents_book_id_ord_idx ON book_documents (book_id, ord);

CREATE TABLE book_sections (
    book_id      text             NOT NULL,
    doc_path     text COLLATE "C" NOT NULL,
    -- Order within the document, from 0.
    ord          integer          NOT NULL,
    -- The heading's id in the page; '' for the lead section.
    anchor       text             NOT NULL,
    heading      text             NOT NULL,
    -- The heading path, a JSON array of strings, the document title first.
    heading_path jsonb            NOT NULL CHECK (jsonb_typeof(heading_path) = 'array'),
    level        integer          NOT NULL,
    text         text             NOT NULL,
    -- Also the index for the cascade from book_documents.
    PRIMARY KEY (book_id, doc_path, ord),
    FOREIGN KEY (book_id, doc_path) REFERENCES book_documents (book_id, path) ON DELETE CASCADE
);

CREATE TABLE book_chunks (
    book_id         text             NOT NULL,
    -- Deterministic: the same text in the same place keeps its id, and so
    -- its embedding, across ingestions.
    id              text COLLATE "C" NOT NULL,
    doc_path        text COLLATE "C" NOT NULL,
    section_ord     integer          NOT NULL,
    -- Order within the section, from 0.
    ord             integer          NOT NULL,
    -- "Title > Heading > Subheading".
    heading         text             NOT NULL,
    text            text             NOT NULL,
    words           integer          NOT NULL,
    -- The dense vector as little-endian IEEE 754 float32s, the encoding
    -- SQLite's BLOB column uses too; NULL until one is computed.
    embedding       bytea            CHECK (embedding IS NULL OR (octet_length(embedding) > 0 AND octet_length(embedding) % 4 = 0)),
    -- The model that computed embedding; '' when there is none.
    embedding_model text             NOT NULL DEFAULT '',
    PRIMARY KEY (book_id, id),
    FOREIGN KEY (book_id, doc_path) REFERENCES book_documents (book_id, path) ON DELETE CASCADE
);

-- A document's chunks, for replacing them and for the cascade.
CREATE INDEX book_chunks_book_id_doc_path_idx ON book_chunks (book_id, doc_path);

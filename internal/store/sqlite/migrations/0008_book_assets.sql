-- 0008_book_assets: the files a book's pages show (images), copied in at
-- ingestion so that the source folder is not needed afterwards. Each is
-- named by the hash of its content and an extension ("3f2a….png"): a name
-- never changes meaning, so the reader serves it with a year-long cache.
-- An ingestion makes the book's set exactly the images its pages show.

CREATE TABLE book_assets (
    book_id TEXT NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    -- image/png, image/jpeg, image/gif, image/webp, image/avif or image/svg+xml
    type    TEXT NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (book_id, name)
);

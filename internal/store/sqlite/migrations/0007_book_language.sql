-- 0007_book_language: the language a book says it is in (an EPUB's
-- dc:language, a Docusaurus site's i18n.defaultLocale, its documents' front
-- matter), a BCP 47 tag; empty when it says none and its text decides.

ALTER TABLE books ADD COLUMN language TEXT NOT NULL DEFAULT '';

// Package book reads a book from disk — a Docusaurus docs folder, a folder
// of Markdown/MDX files, or an EPUB — into documents in reading order, each
// rendered to sanitized HTML and split into sections at its headings, and
// splits those sections into chunks for retrieval.
//
// Every section knows the anchor id its heading gets in the rendered HTML,
// computed by the same code that renders it, so a citation's link always
// lands on a heading that exists.
package book

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Formats of a book's source.
const (
	FormatDocusaurus = "docusaurus" // a docs folder with _category_ files, or a Docusaurus site
	FormatMarkdown   = "markdown"   // a plain folder of Markdown/MDX files
	FormatEPUB       = "epub"
)

// Book is a parsed book.
type Book struct {
	Title  string
	Format string
	// Language is the language the book says it is in, a BCP 47 tag
	// (EPUB dc:language, a Docusaurus site's i18n.defaultLocale, its
	// documents' front matter); "" when it says none.
	Language string
	// Docs are the documents in reading order (the sidebar's order).
	Docs []*Doc
	// TOC is the sidebar: categories (chapters) and documents, in order.
	TOC []*TOCNode
	// Hash changes whenever anything a reader could see changes.
	Hash string
	// Problems are what a reader would find broken or changed: links to
	// documents the book does not have, MDX components shown as their
	// text.
	Problems []Problem
	// Assets are the images the pages show, each once.
	Assets []Asset
}

// Problem is something broken in one of a book's documents.
type Problem struct {
	File string // the document's path in the book
	Line int    // the line of the file it is first seen on; 0 when unknown
	What string // "unresolved link ../b/setup.md", …
}

// String is the problem as "file:line: what", the way compilers say it.
func (p Problem) String() string {
	if p.Line > 0 {
		return p.File + ":" + strconv.Itoa(p.Line) + ": " + p.What
	}
	return p.File + ": " + p.What
}

// TOCNode is an entry of the table of contents: a category with children,
// or a document. A category whose folder has an index document links to it.
type TOCNode struct {
	Label    string     `json:"label"`
	Slug     *string    `json:"slug"` // the page this entry opens; nil for a category without an index page
	DocPath  string     `json:"doc_path,omitempty"`
	Href     string     `json:"href,omitempty"` // a link elsewhere (a sidebar's link item)
	Children []*TOCNode `json:"children,omitempty"`
}

// Doc is one document (one page of the reader).
type Doc struct {
	// Path is the document's path relative to the book root, with forward
	// slashes: the doc_path of citations.
	Path string
	// ID is the Docusaurus document id (folder + front matter id or file
	// name, number prefixes removed).
	ID string
	// Slug is the page's path under /docs/, without slashes at either end;
	// "" is the docs root.
	Slug         string
	Title        string
	SidebarLabel string
	Description  string
	// Chapter is the label of the top-level category the document is in,
	// and ChapterNumber its 1-based position; "" and 0 at the top level.
	Chapter       string
	ChapterNumber int
	PageNumber    *int           // the page_number front matter key, when set
	Meta          map[string]any // the whole front matter
	HTML          string         // the rendered, sanitized page body
	Sections      []Section
	Words         int
	// Hash changes when the document's source or the renderer changes.
	Hash string
}

// Section is the part of a document under one heading, up to the next
// heading of any level.
type Section struct {
	Ord int
	// Anchor is the heading's id in the page's HTML; "" for the lead section
	// (text before the first heading, or under the opening H1), whose link
	// is the page itself.
	Anchor  string
	Heading string
	// Path is the heading path: the document title, then each enclosing
	// heading, ending with this one.
	Path  []string
	Level int // 1–6; 0 for the lead section
	Text  string

	blocks []block
}

// URL is the reader's link to the section: the page, and the heading's
// anchor when it has one.
func (d *Doc) URL(s *Section) string {
	u := DocURL(d.Slug)
	if s != nil && s.Anchor != "" {
		u += "#" + s.Anchor
	}
	return u
}

// rendererVersion is part of every document hash: bump it when rendering or
// sectioning changes, so books are ingested again.
const rendererVersion = "7" // 2: character references decoded; 3: mdx-code-block, partials; 4: images; 5: table frames; 6: explicit anchors; 7: DocCardList

func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Error is a problem with one file of a book; Line is 0 when it concerns
// the whole file.
type Error struct {
	File string
	Line int
	Err  error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// lineError is an error at a line of a document, before the file is known.
type lineError struct {
	Line int
	Msg  string
}

func (e *lineError) Error() string { return e.Msg }

// fileError attaches the file (and the line, when err carries one counted
// from offset) to err.
func fileError(file string, err error) error {
	var le *lineError
	if errors.As(err, &le) {
		return &Error{File: file, Line: le.Line, Err: errors.New(le.Msg)}
	}
	return &Error{File: file, Err: err}
}

// ErrNoDocuments: the path holds no Markdown, MDX or EPUB content.
var ErrNoDocuments = errors.New("no Markdown (.md, .mdx) documents found")

func words(s string) int { return len(strings.Fields(s)) }

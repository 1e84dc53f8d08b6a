// Package library is the book Lectern serves: it ingests a book from disk
// into the store, keeps the pages and the search index in memory, and
// answers searches with citations that link to the exact heading.
//
// The store is the source of truth: at start-up the pages and the index are
// built from it, and each ingestion writes the store first and then swaps
// in a new in-memory snapshot, so readers never see half an ingestion.
package library

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lectern/lectern/internal/book"
	"github.com/lectern/lectern/internal/jsconfig"
	"github.com/lectern/lectern/internal/retrieval"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/thesaurus"
)

// DefaultBookID is the id of the book when only one is served.
const DefaultBookID = "default"

// Store is the part of the store the library uses.
type Store interface {
	ApplyBook(ctx context.Context, b store.Book, docs []store.BookDocument, content []store.BookContent) error
	Book(ctx context.Context, id string) (store.Book, error)
	BookAsset(ctx context.Context, bookID, name string) (store.BookAsset, error)
	BookDocuments(ctx context.Context, bookID string) ([]store.BookDocument, error)
	BookSections(ctx context.Context, bookID string) ([]store.BookSection, error)
	BookChunks(ctx context.Context, bookID string) ([]store.BookChunk, error)
	SetChunkEmbeddings(ctx context.Context, bookID, model string, vectors map[string][]float32) error
}

// Embedder turns texts into dense vectors, one per text, in order
// (embeddings.Client does, over HTTP).
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// Options configures a Library.
type Options struct {
	// BookID is the book this library serves (DefaultBookID when empty).
	BookID string
	// Embedder, when set, adds the dense path: chunks are embedded at
	// ingestion, questions at search time, and the two rankings fused.
	Embedder Embedder
	// EmbeddingModel names the Embedder's model; vectors of another model
	// are recomputed.
	EmbeddingModel string
	// Retrieval tunes the index; without a Thesaurus of its own it gets
	// the English one (package thesaurus), for English books.
	Retrieval retrieval.Options
	// Language is the book's language (a BCP 47 tag: "es", "zh-Hans"), for
	// its search; empty: the one the book says (book.Book.Language), else
	// detected from its text (retrieval.DetectLanguage).
	Language string
	Log      *slog.Logger
	// OnSearch, when set, is told the mode ("bm25", or "hybrid" when the
	// question's embedding was fused in) and the duration of every search
	// that ran, for metrics. It must be safe for concurrent use.
	OnSearch func(mode string, elapsed time.Duration)
	// Scripts runs a Docusaurus site's configuration and sidebars when a
	// book is read (book.Options.Scripts).
	Scripts jsconfig.Runner
}

// ErrNoBook: nothing has been ingested yet.
var ErrNoBook = errors.New("library: no book has been ingested")

// Library serves one book. It is safe for concurrent use; ingestions are
// serialized.
type Library struct {
	st       Store
	opt      Options
	log      *slog.Logger
	cur      atomic.Pointer[snapshot]
	ingestMu sync.Mutex
}

// New returns a library over st. Call Load or Ingest before serving.
func New(st Store, opt Options) *Library {
	if opt.BookID == "" {
		opt.BookID = DefaultBookID
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Retrieval.Thesaurus == nil {
		opt.Retrieval.Thesaurus = thesaurus.English()
	}
	return &Library{st: st, opt: opt, log: opt.Log}
}

// Page is one document as the reader shows it.
type Page struct {
	Ord           int
	DocPath       string
	Slug          string
	URL           string
	Title         string
	SidebarLabel  string
	Description   string
	Chapter       string
	ChapterNumber int
	PageNumber    *int
	HTML          string // sanitized at ingestion
	Words         int
	Sections      []store.BookSection
	Prev, Next    *Page // reading order; nil at either end
}

// SectionURL is the link to a section of the page.
func (p *Page) SectionURL(s store.BookSection) string {
	if s.Anchor == "" {
		return p.URL
	}
	return p.URL + "#" + url.PathEscape(s.Anchor)
}

type chunkRef struct {
	page    *Page
	section int // index in page.Sections
	text    string
}

// snapshot is an immutable view of the book: swapped whole on ingestion.
type snapshot struct {
	book   store.Book
	toc    []*book.TOCNode
	pages  []*Page
	bySlug map[string]*Page
	byPath map[string]*Page
	chunks map[string]chunkRef
	index  *retrieval.Index
	dense  bool // chunks carry vectors of the configured model
}

// languageSample is up to about 20,000 words of the book's text, taken
// across it, to tell its language by.
func languageSample(chunks []store.BookChunk) string {
	var b strings.Builder
	step := max(1, len(chunks)/100)
	for i := 0; i < len(chunks) && b.Len() < 150_000; i += step {
		b.WriteString(chunks[i].Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// Language is the language of the loaded book ("en", "es", "zh", … as
// retrieval.LanguageOf gives it; "" before a book is loaded).
func (l *Library) Language() string {
	if s := l.cur.Load(); s != nil {
		return s.index.Language().Code()
	}
	return ""
}

// Ready reports whether a book is loaded.
func (l *Library) Ready() bool { return l.cur.Load() != nil }

// Title is the book's title ("" before a book is loaded).
func (l *Library) Title() string {
	if s := l.cur.Load(); s != nil {
		return s.book.Title
	}
	return ""
}

// Contents is the table of contents (nil before a book is loaded).
func (l *Library) Contents() []*book.TOCNode {
	if s := l.cur.Load(); s != nil {
		return s.toc
	}
	return nil
}

// TOC is the table of contents as JSON (null before a book is loaded).
func (l *Library) TOC() json.RawMessage {
	if s := l.cur.Load(); s != nil && len(s.book.TOC) > 0 {
		return s.book.TOC
	}
	return json.RawMessage("null")
}

// Pages returns the pages in reading order.
func (l *Library) Pages() []*Page {
	if s := l.cur.Load(); s != nil {
		return s.pages
	}
	return nil
}

// Page returns the page with this slug.
func (l *Library) Page(slug string) (*Page, bool) {
	s := l.cur.Load()
	if s == nil {
		return nil, false
	}
	p, ok := s.bySlug[strings.Trim(slug, "/")]
	return p, ok
}

// Asset returns the book's image with this name (book.Asset.Name); a
// name the book does not have is a fault.NotFound.
func (l *Library) Asset(ctx context.Context, name string) (book.Asset, error) {
	a, err := l.st.BookAsset(ctx, l.opt.BookID, name)
	if err != nil {
		return book.Asset{}, fmt.Errorf("library: asset %s: %w", name, err)
	}
	return book.Asset{Name: a.Name, Type: a.Type, Data: a.Data}, nil
}

// PageOf finds the page a reader is on from what a client sends as the
// current page: a URL ("https://host/docs/a/b#x"), a path ("/docs/a/b"), a
// slug ("a/b") or a document path ("01-a/b.md").
func (l *Library) PageOf(current string) (*Page, bool) {
	s := l.cur.Load()
	if s == nil || current == "" {
		return nil, false
	}
	if p, ok := s.byPath[current]; ok {
		return p, true
	}
	if u, err := url.Parse(current); err == nil {
		current = u.Path
	}
	if dec, err := url.PathUnescape(current); err == nil {
		current = dec
	}
	current = strings.Trim(current, "/")
	if rest, ok := strings.CutPrefix(current, "docs"); ok && (rest == "" || rest[0] == '/') {
		current = strings.Trim(rest, "/")
	}
	p, ok := s.bySlug[current]
	return p, ok
}

// Load builds the in-memory book from the store: ErrNoBook when nothing
// has been ingested.
func (l *Library) Load(ctx context.Context) error {
	snap, err := l.snapshot(ctx)
	if err != nil {
		return err
	}
	l.cur.Store(snap)
	return nil
}

func (l *Library) snapshot(ctx context.Context) (*snapshot, error) {
	b, err := l.st.Book(ctx, l.opt.BookID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoBook
	}
	if err != nil {
		return nil, fmt.Errorf("library: load book: %w", err)
	}
	docs, err := l.st.BookDocuments(ctx, l.opt.BookID)
	if err != nil {
		return nil, fmt.Errorf("library: load documents: %w", err)
	}
	sections, err := l.st.BookSections(ctx, l.opt.BookID)
	if err != nil {
		return nil, fmt.Errorf("library: load sections: %w", err)
	}
	chunks, err := l.st.BookChunks(ctx, l.opt.BookID)
	if err != nil {
		return nil, fmt.Errorf("library: load chunks: %w", err)
	}
	var toc []*book.TOCNode
	if err := json.Unmarshal(b.TOC, &toc); err != nil {
		return nil, fmt.Errorf("library: table of contents: %w", err)
	}
	s := &snapshot{book: b, toc: toc, bySlug: make(map[string]*Page, len(docs)), byPath: make(map[string]*Page, len(docs)),
		chunks: make(map[string]chunkRef, len(chunks))}
	lang := l.opt.Language
	if lang == "" {
		lang = b.Language
	}
	if lang == "" {
		lang = retrieval.DetectLanguage(languageSample(chunks))
	}
	ropt := l.opt.Retrieval
	ropt.Language = retrieval.LanguageOf(lang)
	if ropt.Language.Code() != "en" {
		ropt.Thesaurus = nil // an English thesaurus knows nothing of other languages' words
	}
	s.index = retrieval.New(ropt)
	for i, d := range docs {
		p := &Page{Ord: i, DocPath: d.Path, Slug: d.Slug, URL: book.DocURL(d.Slug), Title: d.Title, SidebarLabel: d.SidebarLabel,
			Description: d.Description, Chapter: d.Chapter, ChapterNumber: d.ChapterNumber, PageNumber: d.PageNumber, HTML: d.HTML, Words: d.Words}
		if i > 0 {
			p.Prev, s.pages[i-1].Next = s.pages[i-1], p
		}
		s.pages = append(s.pages, p)
		s.bySlug[p.Slug] = p
		s.byPath[p.DocPath] = p
	}
	secIndex := map[string]int{} // docPath#ord → index in the page's Sections
	for _, sec := range sections {
		p := s.byPath[sec.DocPath]
		if p == nil {
			continue
		}
		secIndex[sec.DocPath+"#"+fmt.Sprint(sec.Ord)] = len(p.Sections)
		p.Sections = append(p.Sections, sec)
	}
	dense := l.opt.Embedder != nil
	rdocs := make([]retrieval.Doc, 0, len(chunks))
	for _, c := range chunks {
		p := s.byPath[c.DocPath]
		si, ok := secIndex[c.DocPath+"#"+fmt.Sprint(c.SectionOrd)]
		if p == nil || !ok {
			continue
		}
		s.chunks[c.ID] = chunkRef{page: p, section: si, text: c.Text}
		d := retrieval.Doc{ID: c.ID, Group: c.DocPath + "#" + fmt.Sprint(c.SectionOrd), Page: c.DocPath,
			Title: p.Title, Heading: strings.Join(p.Sections[si].Path[min(1, len(p.Sections[si].Path)):], " > "), Text: c.Text,
			Lead: si == 0 && p.Sections[si].Anchor == ""}
		if dense && c.EmbeddingModel == l.opt.EmbeddingModel && len(c.Embedding) > 0 {
			d.Vector = c.Embedding
		} else {
			dense = false
		}
		rdocs = append(rdocs, d)
	}
	if !dense {
		for i := range rdocs {
			rdocs[i].Vector = nil
		}
	}
	s.dense = dense
	s.index.Add(rdocs...)
	return s, nil
}

// Package epub reads an EPUB 2 or 3 book and turns its text into Markdown,
// one document per content file in reading (spine) order.
//
// The archive is treated as hostile: every entry name is checked before
// anything is read, every entry read is held to size, ratio and total limits
// (zip bombs), and broken XML or markup gives an error or a best effort,
// never a panic. Nothing is ever written to disk.
package epub

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
)

// Limits bound the work and memory one book may cost. A zero or negative
// field takes its default.
type Limits struct {
	// MaxEntries is the most entries the zip archive may hold. Default 10,000.
	MaxEntries int
	// MaxEntryBytes is the most bytes one entry may decompress to. Default 32 MiB.
	MaxEntryBytes int64
	// MaxTotalBytes is the most bytes all the entries read may decompress to
	// together, and the most bytes of Markdown the book may make. Default
	// 256 MiB.
	MaxTotalBytes int64
	// MaxRatio is the highest uncompressed-to-compressed size ratio an entry
	// may have: above it the entry is taken for a zip bomb. Entries of at
	// most 1 MiB uncompressed are exempt, since they cannot hurt and small
	// files often compress far better than real text does. Default 100.
	MaxRatio int64
}

// DefaultLimits returns the limits Read applies to fields left zero.
func DefaultLimits() Limits {
	return Limits{
		MaxEntries:    10_000,
		MaxEntryBytes: 32 << 20,
		MaxTotalBytes: 256 << 20,
		MaxRatio:      100,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxEntries > 0 {
		d.MaxEntries = l.MaxEntries
	}
	if l.MaxEntryBytes > 0 {
		d.MaxEntryBytes = l.MaxEntryBytes
	}
	if l.MaxTotalBytes > 0 {
		d.MaxTotalBytes = l.MaxTotalBytes
	}
	if l.MaxRatio > 0 {
		d.MaxRatio = l.MaxRatio
	}
	return d
}

// Book is the text of an EPUB: its metadata and its content documents.
type Book struct {
	Title      string // first dc:title
	Creator    string // the authors (dc:creator), joined with ", "
	Language   string // first dc:language, e.g. "en"
	Identifier string // the package's unique identifier, e.g. "urn:isbn:…"
	// Docs are the content documents in spine order: linear items only,
	// without the navigation document and without documents that have no
	// text.
	Docs []Doc
	// Images are the files the documents' images name, by their path in
	// the archive; an image that is missing or over the limits is absent.
	Images map[string][]byte
}

// Doc is one content document of a book.
type Doc struct {
	// Href is the path of the XHTML file inside the archive, cleaned and
	// slash-separated, e.g. "OEBPS/text/ch01.xhtml".
	Href string
	// Title is the document's label in the table of contents (EPUB 3 nav
	// or EPUB 2 NCX), else its first heading, else its <title>; it may be
	// empty.
	Title string
	// Markdown is the body as CommonMark with GFM tables: blocks separated
	// by one blank line, ending in a newline.
	Markdown string
}

// Open reads the EPUB file at name. See Read.
func Open(name string, lim Limits) (*Book, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{Kind: ErrNotEPUB, Msg: "not a zip archive (not a regular file)"}
	}
	return Read(f, st.Size(), lim)
}

// Read reads an EPUB of size bytes from r. A book that cannot be read gives
// an *Error that names the entry at fault and wraps ErrNotEPUB, ErrUnsafe or
// ErrMalformed.
func Read(r io.ReaderAt, size int64, lim Limits) (*Book, error) {
	a, err := openArchive(r, size, lim.withDefaults())
	if err != nil {
		return nil, err
	}
	if name, f, ok := a.lookup("mimetype"); ok {
		data, err := a.read(name, f)
		if err != nil {
			return nil, err
		}
		if mt := strings.TrimSpace(string(data)); mt != "application/epub+zip" {
			return nil, &Error{Kind: ErrNotEPUB, Entry: name, Msg: fmt.Sprintf("media type is %q, not application/epub+zip", truncate(mt, 80))}
		}
	}
	name, f, ok := a.lookup(containerPath)
	if !ok {
		return nil, &Error{Kind: ErrNotEPUB, Msg: containerPath + " missing"}
	}
	data, err := a.read(name, f)
	if err != nil {
		return nil, err
	}
	opfPath, err := rootfile(toUTF8(data))
	if err != nil {
		return nil, err
	}
	name, f, ok = a.lookup(opfPath)
	if !ok {
		return nil, malformed(opfPath, "the package document named by "+containerPath+" is missing", nil)
	}
	if data, err = a.read(name, f); err != nil {
		return nil, err
	}
	p, err := parsePackage(name, toUTF8(data))
	if err != nil {
		return nil, err
	}
	titles, err := a.tocTitles(p)
	if err != nil {
		return nil, err
	}

	book := &Book{Title: p.title, Creator: p.creator, Language: p.language, Identifier: p.identifier}
	seen := make(map[string]bool)
	var markdown int64 // bytes of Markdown made so far
	for _, it := range p.spine {
		if it.nav || !isContent(it) {
			continue
		}
		if it.remote {
			return nil, malformed(p.path, fmt.Sprintf("spine item %s is a remote resource, not a file in the archive", printable(it.id)), nil)
		}
		if it.path == "" {
			return nil, malformed(p.path, fmt.Sprintf("spine item %s names no file", printable(it.id)), nil)
		}
		name, f, ok := a.lookup(it.path)
		if !ok {
			return nil, malformed(it.path, fmt.Sprintf("missing from the archive (spine item %s)", printable(it.id)), nil)
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		data, err := a.read(name, f)
		if err != nil {
			return nil, err
		}
		conv, err := toMarkdown(toUTF8(data))
		if err != nil {
			named := &Error{Kind: ErrMalformed, Entry: name, Msg: "cannot convert the document", Err: err}
			var e *Error
			if errors.As(err, &e) {
				named.Kind, named.Msg, named.Err = e.Kind, e.Msg, e.Err
			}
			return nil, named
		}
		if strings.TrimSpace(imageSyntax.ReplaceAllString(conv.markdown, "")) == "" {
			continue // no text: nothing to read or ask about (a cover, say)
		}
		if markdown += int64(len(conv.markdown)); markdown > a.lim.MaxTotalBytes {
			return nil, unsafeErr(name, fmt.Sprintf("the book's Markdown exceeds the limit of %d bytes", a.lim.MaxTotalBytes))
		}
		title := titles[it.path]
		if title == "" {
			title = titles[name]
		}
		if title == "" {
			title = conv.heading
		}
		if title == "" {
			title = conv.title
		}
		book.Docs = append(book.Docs, Doc{Href: name, Title: title, Markdown: conv.markdown})
		a.readImages(book, name, conv.images)
	}
	if len(book.Docs) == 0 {
		return nil, malformed(p.path, "no document in the spine has any text", nil)
	}
	return book, nil
}

// imageSyntax is a Markdown image as the converter writes it.
var imageSyntax = regexp.MustCompile(`!\[(?:\\.|[^\]\\])*\]\([^)\s]*\)`)

// readImages reads the images the document at doc shows into b.Images.
func (a *archive) readImages(b *Book, doc string, srcs []string) {
	for _, src := range srcs {
		u, err := url.Parse(src)
		if err != nil || u.Path == "" {
			continue
		}
		p := path.Join(path.Dir(doc), u.Path)
		if _, done := b.Images[p]; done {
			continue
		}
		name, f, ok := a.lookup(p)
		if !ok {
			continue
		}
		data, err := a.read(name, f)
		if err != nil {
			continue // over the limits: the page says the image is missing
		}
		if b.Images == nil {
			b.Images = map[string][]byte{}
		}
		b.Images[p] = data
	}
}

// tocTitles reads the table of contents: the EPUB 3 navigation document, or
// the EPUB 2 NCX when there is no navigation document or it has no links.
func (a *archive) tocTitles(p *pkg) (map[string]string, error) {
	if p.nav != nil {
		name, f, ok := a.lookup(p.nav.path)
		if !ok {
			return nil, malformed(p.nav.path, "missing from the archive (the navigation document)", nil)
		}
		data, err := a.read(name, f)
		if err != nil {
			return nil, err
		}
		if entries := parseNav(name, data); len(entries) > 0 {
			return tocTitles(entries), nil
		}
	}
	if p.ncx != nil {
		name, f, ok := a.lookup(p.ncx.path)
		if !ok {
			return nil, malformed(p.ncx.path, "missing from the archive (the NCX table of contents)", nil)
		}
		data, err := a.read(name, f)
		if err != nil {
			return nil, err
		}
		entries, err := parseNCX(name, toUTF8(data))
		if err != nil {
			return nil, err
		}
		return tocTitles(entries), nil
	}
	return map[string]string{}, nil
}

// isContent reports whether a spine item is an (X)HTML document, the only
// kind that has text to read; an SVG cover page, for one, has none.
func isContent(it item) bool {
	switch it.mediaType {
	case "application/xhtml+xml", "text/html":
		return true
	case "":
		switch strings.ToLower(path.Ext(it.path)) {
		case ".xhtml", ".html", ".htm":
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

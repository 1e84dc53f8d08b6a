package book

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/lectern/lectern/internal/book/epub"
)

// loadEPUB reads an EPUB: each spine document becomes a page, titled from
// the book's navigation.
func loadEPUB(file string, opt Options) (*Book, error) {
	eb, err := epub.Open(file, epub.Limits{})
	if err != nil {
		return nil, &Error{File: path.Base(file), Err: err}
	}
	if len(eb.Docs) == 0 {
		return nil, &Error{File: path.Base(file), Err: ErrNoDocuments}
	}
	l := &loader{opt: opt, r: newRenderer(), fsys: filesFS(eb.Images), assets: newAssetStore(opt.MaxAssetBytes, opt.MaxAssetsBytes)}
	b := &Book{Title: eb.Title, Format: FormatEPUB, Language: eb.Language}
	if opt.Title != "" {
		b.Title = opt.Title
	}
	if b.Title == "" {
		b.Title = humanize(strings.TrimSuffix(path.Base(file), path.Ext(file)))
	}
	used := map[string]bool{}
	parts := []string{rendererVersion, b.Title, FormatEPUB, b.Language}
	for _, ed := range eb.Docs {
		slug := epubSlug(ed.Href)
		for base, i := slug, 2; used[slug]; i++ {
			slug = fmt.Sprintf("%s-%d", base, i)
		}
		used[slug] = true
		d := &Doc{Path: ed.Href, ID: slug, Slug: slug, Title: ed.Title, Meta: map[string]any{}, Hash: hashOf(rendererVersion, ed.Href, ed.Markdown)}
		p := &pending{doc: d, body: ed.Markdown, dialect: dialectMarkdown}
		l.render(p, nil)
		b.Docs = append(b.Docs, d)
		b.TOC = append(b.TOC, docNode(d))
		parts = append(parts, d.Path, d.Hash, d.Slug, d.Title)
	}
	b.Hash = hashOf(parts...)
	b.Assets, b.Problems = l.assets.list(), l.problems
	return b, nil
}

// filesFS is a folder of files held in memory (an EPUB's images, by their
// path in the archive).
type filesFS map[string][]byte

func (f filesFS) Open(name string) (fs.File, error) {
	data, ok := f[name]
	if !ok || !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{Reader: bytes.NewReader(data), info: memInfo{name: path.Base(name), size: int64(len(data))}}, nil
}

type memFile struct {
	*bytes.Reader
	info memInfo
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (m *memFile) Close() error               { return nil }

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// epubSlug makes a URL path from a file's path in the archive:
// "OEBPS/Text/Chapter 01.xhtml" → "chapter-01".
func epubSlug(href string) string {
	base := strings.TrimSuffix(path.Base(href), path.Ext(href))
	s := slugify(strings.ToLower(base))
	s = strings.Trim(strings.ReplaceAll(s, "_", "-"), "-")
	if s == "" {
		s = "page"
	}
	return s
}
